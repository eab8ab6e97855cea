"""Keras' weight regularisers computed on the cores (spiDNN.regularizers):
kernel_regularizer and bias_regularizer, L1, L2 and L1L2, on Dense and
Conv2D, trained an epoch beside Keras from the same initial weights
(the weights and the History, whose loss includes the penalty, within
1e-4), a Dense after a regularised Dense (whose kernel rows the previous
layer's cores copy), a residual CNN of L2 convolutions; the weights and
the History (its penalty too) bit-identical across slicings; carried by from_keras, to_keras and .keras files."""
import numpy
import pytest

import spiDNN
from spiDNN import regularizers
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import Add, Conv2D, Dense, Input
from tests.branch_oracle import (
    TRAINED_TOLERANCE, assert_trains_as_keras, keras_optimizer, samples)

OPTIMIZERS = ["sgd_momentum", "adam"]


def keras_regularizer(kind):
    """Keras' regulariser of each kind, factors large enough to move the
    weights visibly in an epoch."""
    import keras
    return {"l1": keras.regularizers.L1(0.01),
            "l2": keras.regularizers.L2(0.05),
            "l1_l2": keras.regularizers.L1L2(0.01, 0.03)}[kind]


def dense_model(kind, seed=4):
    """Two regularised Dense layers (kernels and biases): the second's
    kernel rows are copied on the first's cores."""
    import keras
    keras.utils.set_random_seed(seed)
    reg = keras_regularizer
    return keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(8, activation="tanh", kernel_regularizer=reg(kind),
                           bias_regularizer=reg(kind)),
        keras.layers.Dense(4, kernel_regularizer=reg(kind),
                           bias_regularizer=reg(kind))])


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("kind", ["l1", "l2", "l1_l2"])
def test_dense_regularisers_train_as_keras(kind, optimizer):
    x, y = samples((6,), 256)
    kmodel = dense_model(kind)
    # Keras' biases start at 0: move them, so the bias penalty (and
    # L1's sign) is at work from the first step.
    kmodel.set_weights([w + 0.1 if w.ndim == 1 else w
                        for w in kmodel.get_weights()])
    assert_trains_as_keras(kmodel, x, y, "mse", optimizer, batch_size=32)


def conv_model(kind, seed=5):
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    reg = keras_regularizer
    inputs = keras.Input((6, 6, 1))
    x = layers.Conv2D(3, 3, activation="relu", kernel_regularizer=reg(kind),
                      bias_regularizer=reg(kind))(inputs)
    x = layers.Conv2D(2, 3, padding="same", kernel_regularizer=reg(kind))(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(3, activation="softmax",
                           bias_regularizer=reg(kind))(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("kind,optimizer", [
    ("l1", "sgd_momentum"), ("l2", "adam"), ("l1_l2", "sgd_momentum"),
    ("l1_l2", "adam")])
def test_conv2d_regularisers_train_as_keras(kind, optimizer):
    x, y = samples((6, 6, 1), 128, classes=3)
    kmodel = conv_model(kind)
    kmodel.set_weights([w + 0.05 if w.ndim == 1 else w
                        for w in kmodel.get_weights()])
    assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                           optimizer, batch_size=32)


def residual_cnn_l2(seed=2):
    """A residual block of L2-regularised Conv2Ds added to its input."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    l2 = keras.regularizers.L2(0.02)
    inputs = keras.Input((6, 6, 1))
    x = layers.Conv2D(3, 3, padding="same", activation="relu",
                      kernel_regularizer=l2)(inputs)
    y = layers.Conv2D(3, 3, padding="same", activation="relu",
                      kernel_regularizer=l2, bias_regularizer=l2)(x)
    y = layers.Conv2D(3, 3, padding="same", kernel_regularizer=l2)(y)
    x = layers.ReLU()(layers.Add()([y, x]))
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3, activation="softmax", kernel_regularizer=l2)(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_residual_cnn_of_l2_convolutions_trains_as_keras(optimizer):
    x, y = samples((6, 6, 1), 128, classes=3)
    assert_trains_as_keras(residual_cnn_l2(), x, y,
                           "categorical_crossentropy", optimizer,
                           batch_size=32)


def test_evaluate_and_validation_include_the_penalty():
    """Keras' test step adds the penalty too."""
    x, y = samples((6,), 64)
    kmodel = dense_model("l1_l2")
    model = spiDNN.from_keras(kmodel)
    model.compile(optimizer=keras_optimizer("adam"), loss="mse")
    kmodel.compile(optimizer=keras_optimizer("adam"), loss="mse")
    numpy.testing.assert_allclose(
        model.evaluate(x, y, verbose=0), kmodel.evaluate(x, y, verbose=0),
        rtol=0, atol=TRAINED_TOLERANCE)


def _graph(per_core, weights_in="dtcm", inputs_per_core=None):
    """A residual graph of regularised Dense layers (the second's rows
    copied on the first's cores, a fan-out into an Add) at ``per_core``
    neurons per core (None: every neuron on one core)."""
    x = Input(6)
    a = Dense(5, activation="tanh", neurons_per_core=per_core or 5,
              kernel_regularizer=regularizers.L1L2(0.01, 0.02),
              bias_regularizer="l1", weights_in=weights_in,
              inputs_per_core=inputs_per_core)(x)
    b = Dense(5, activation="relu", neurons_per_core=per_core or 5,
              kernel_regularizer="l2", bias_regularizer="l2")(a)
    merged = Add(neurons_per_core=per_core or "auto")([a, b])
    return spiDNN.Model(x, Dense(3, neurons_per_core=per_core or 3,
                                 kernel_regularizer="l1")(merged), seed=7)


def _trained(model, x, y, loss="mse", validation_data=None):
    model.compile(optimizer="adam", loss=loss)
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False,
                        verbose=0, validation_data=validation_data)
    return model.get_weights(), history


def _histories_of(graphs, x, y, loss="mse"):
    """The History of each graph trained an epoch, validated on the
    first 16 samples."""
    return [_trained(graph, x, y, loss, (x[:16], y[:16]))[1].history
            for graph in graphs]


def test_the_dense_penalty_in_the_history_is_bit_identical_across_slicings():
    """Each neuron's penalty is the same float32 on whichever core holds
    it (its row, then its bias), and the host adds them in neuron order:
    the loss and val_loss lists are equal, not merely close, at 1, 3
    and every neuron per core and streamed from SDRAM."""
    x, y = samples((6,), 48)
    y = y[:, :3]
    histories = _histories_of(
        [_graph(1), _graph(3), _graph(None), _graph(2, "sdram"),
         _graph(None, "sdram")], x, y)
    assert all(h == histories[0] for h in histories[1:]), histories
    # Split 2-D, the penalty rounds by the input blocks, but not by the
    # neurons per core.
    split = _histories_of([_graph(1, inputs_per_core=3),
                           _graph(None, inputs_per_core=3)], x, y)
    assert split[0] == split[1], split


def _conv_graph(per_core):
    """Regularised Conv2Ds (kernel and biases) before a regularised Dense,
    at ``per_core`` output positions (Dense: neurons) per core (None:
    all on one core)."""
    from spiDNN.layers import Flatten
    x = Input((6, 6, 1))
    a = Conv2D(3, 3, activation="relu", neurons_per_core=3 * (per_core or 16),
               kernel_regularizer=regularizers.L1L2(0.01, 0.03),
               bias_regularizer="l1")(x)
    b = Conv2D(2, 3, padding="same", neurons_per_core=2 * (per_core or 16),
               kernel_regularizer="l2")(a)
    c = Dense(7, activation="tanh", neurons_per_core=per_core or 7,
              kernel_regularizer="l2", bias_regularizer="l1")(Flatten()(b))
    return spiDNN.Model(x, Dense(3, activation="softmax",
                                 neurons_per_core=per_core or 3)(c), seed=3)


def test_the_conv_penalty_in_the_history_is_bit_identical_across_slicings():
    x, y = samples((6, 6, 1), 48, classes=3)
    histories = _histories_of(
        [_conv_graph(1), _conv_graph(3), _conv_graph(None)], x, y,
        "categorical_crossentropy")
    assert all(h == histories[0] for h in histories[1:]), histories


def test_regularised_weights_are_bit_identical_across_slicings():
    """One neuron per core, every neuron on one core, the kernel streamed
    from SDRAM and split 2-D: the same trained bits."""
    x, y = samples((6,), 48)
    y = y[:, :3]
    runs = [_trained(_graph(1), x, y), _trained(_graph(None), x, y),
            _trained(_graph(2, "sdram"), x, y),
            _trained(_graph(1, inputs_per_core=3), x, y)]
    reference, history = runs[0]
    for weights, other in runs[1:]:
        assert all(numpy.array_equal(a, b)
                   for a, b in zip(reference, weights))
        numpy.testing.assert_allclose(
            other.history["loss"], history.history["loss"], rtol=1e-6)


def _refused_message(kmodel):
    with pytest.raises(SpiDNNConfigurationError) as error:
        spiDNN.from_keras(kmodel)
    return str(error.value)


@pytest.mark.unit
def test_from_keras_carries_the_regularisers_and_to_keras_gives_them_back(
        tmp_path):
    import keras
    kmodel = conv_model("l1_l2")
    model = spiDNN.from_keras(kmodel)
    conv, dense = model.layers[0], model.layers[-1]
    assert conv.kernel_regularizer == regularizers.L1L2(0.01, 0.03)
    assert conv.bias_regularizer == regularizers.L1L2(0.01, 0.03)
    assert model.layers[1].bias_regularizer is None
    assert dense.kernel_regularizer is None
    for path in (None, tmp_path / "model.keras"):
        if path is None:
            back = model.to_keras()
        else:
            model.save(path)
            back = keras.models.load_model(path)
            assert spiDNN.load_model(path).layers[0].kernel_regularizer == (
                regularizers.L1L2(0.01, 0.03))
        for theirs, ours in zip(
                [layer for layer in kmodel.layers if layer.weights],
                [layer for layer in back.layers if layer.weights]):
            for name in ("kernel_regularizer", "bias_regularizer"):
                mine, original = getattr(ours, name), getattr(theirs, name)
                assert (mine is None) == (original is None)
                if original is not None:
                    assert type(mine) is type(original)
                    assert mine.get_config() == original.get_config()


@pytest.mark.unit
@pytest.mark.parametrize("name,expected", [
    ("l1", regularizers.L1(0.01)), ("l2", regularizers.L2(0.01)),
    ("l1_l2", regularizers.L1L2(0.01, 0.01))])
def test_keras_names_take_keras_defaults(name, expected):
    import keras
    assert regularizers.get(name) == expected
    assert Dense(2, kernel_regularizer=name).kernel_regularizer == expected
    if name == "l1_l2":
        return   # Keras 3 documents the name but its get() refuses it
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        2, kernel_regularizer=name)])
    assert spiDNN.from_keras(kmodel).layers[0].kernel_regularizer == expected


@pytest.mark.unit
def test_penalty_matches_keras():
    import keras
    w = numpy.random.default_rng(0).normal(size=(5, 4)).astype(numpy.float32)
    for ours, theirs in ((regularizers.L1(0.3), keras.regularizers.L1(0.3)),
                         (regularizers.L2(0.2), keras.regularizers.L2(0.2)),
                         (regularizers.L1L2(0.1, 0.2),
                          keras.regularizers.L1L2(0.1, 0.2))):
        numpy.testing.assert_allclose(ours.penalty(w), float(theirs(w)),
                                      rtol=1e-6)


@pytest.mark.unit
def test_activity_regularizer_is_refused_clearly():
    import keras
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        2, activity_regularizer="l2")])
    message = _refused_message(kmodel)
    assert "activity_regularizer" in message
    assert "not a penalty of the layer's outputs" in message


@pytest.mark.unit
@pytest.mark.parametrize("bad,words", [
    ("l3", "'l3'"), (regularizers.L2, "L2"), (-1, "-1")])
def test_bad_regularisers_are_refused_naming_them(bad, words):
    with pytest.raises(SpiDNNConfigurationError) as error:
        if isinstance(bad, (int, float)):
            regularizers.L2(bad)
        else:
            Dense(2, kernel_regularizer=bad)
    assert words in str(error.value)


@pytest.mark.unit
def test_a_custom_keras_regulariser_is_refused():
    import keras
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        2, bias_regularizer=keras.regularizers.OrthogonalRegularizer())])
    message = _refused_message(kmodel)
    assert "bias_regularizer" in message and "L1, L2 and L1L2" in message
