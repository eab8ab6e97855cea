"""Global pooling (GlobalMax/AveragePooling1D/2D, keepdims) and Reshape
predict and train as Keras.

Each model is described once (tests/conv_oracle.py) and built in Keras
and in spiDNN with the Keras model's weights.  predict must equal Keras'
to 1e-5; one epoch of a few hundred samples in batches of 32, SGD or
Adam, must leave every weight and the History within 1e-4 of Keras'
(TensorFlow CPU).  Slicing the layers differently must change no bit.
"""
import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError

from conv_oracle import (
    PREDICT_TOLERANCE, TRAIN_TOLERANCE, keras_model, layer, max_abs_diff,
    random_inputs, spidnn_model, teacher_labels)

SCCE = "sparse_categorical_crossentropy"
N_SAMPLES = 256


def softmax_head(n_outputs=3):
    return [layer("Dense", n_outputs, activation="softmax")]


#: id -> (input shape, layer specs).
MODELS = {
    "conv2d-gap2d-softmax": ((8, 8, 2), [
        layer("Conv2D", 4, 3, activation="relu"),
        layer("GlobalAveragePooling2D")] + softmax_head()),
    "conv1d-gmp1d-dense": ((12, 2), [
        layer("Conv1D", 4, 3, activation="tanh"),
        layer("GlobalMaxPooling1D")] + softmax_head()),
    "conv1d-gap1d": ((12, 3), [
        layer("Conv1D", 3, 3, activation="sigmoid"),
        layer("GlobalAveragePooling1D")] + softmax_head()),
    "conv2d-gmp2d-keepdims-flatten": ((7, 7, 1), [
        layer("Conv2D", 3, 3, activation="tanh"),
        layer("GlobalMaxPooling2D", keepdims=True), layer("Flatten")]
        + softmax_head()),
    "conv2d-gap2d-keepdims-flatten": ((7, 6, 2), [
        layer("Conv2D", 4, 2, activation="relu"),
        layer("GlobalAveragePooling2D", keepdims=True), layer("Flatten")]
        + softmax_head()),
    "conv1d-gap1d-keepdims-flatten": ((10, 2), [
        layer("Conv1D", 3, 3, activation="tanh"),
        layer("GlobalAveragePooling1D", keepdims=True), layer("Flatten")]
        + softmax_head()),
    # A flat input as an image, and an image's rows as a sequence.
    "reshape-flat-to-image": ((48,), [
        layer("Reshape", (6, 4, 2)),
        layer("Conv2D", 3, 3, activation="tanh"),
        layer("GlobalAveragePooling2D")] + softmax_head()),
    "conv2d-reshape-conv1d": ((7, 7, 1), [
        layer("Conv2D", 2, 3, activation="relu"),
        layer("Reshape", (5, -1)),
        layer("Conv1D", 3, 2, activation="tanh"),
        layer("GlobalMaxPooling1D")] + softmax_head()),
    "reshape-to-flat-dense": ((6, 6, 1), [
        layer("Conv2D", 2, 3, activation="tanh"), layer("Reshape", (-1,))]
        + softmax_head()),
}


def data(input_shape, n=N_SAMPLES, seed=0):
    x = random_inputs(n, input_shape, seed=seed)
    return x, teacher_labels(x, 3, SCCE, seed=seed)


def optimizer(kind):
    import keras
    return {"sgd": lambda: keras.optimizers.SGD(0.1),
            "adam": lambda: keras.optimizers.Adam(0.01)}[kind]()


def fit_both(input_shape, specs, kind, x, y):
    """(spiDNN model, Keras model, Keras History, spiDNN History) after one
    epoch from the same weights, in order, batches of 32."""
    reference = keras_model(input_shape, specs, seed=1)
    model = spidnn_model(input_shape, specs, reference.get_weights())
    for each in (model, reference):
        each.compile(optimizer=optimizer(kind), loss=SCCE)
    history = model.fit(x, y, epochs=1, batch_size=32, shuffle=False,
                        verbose=0)
    keras_history = reference.fit(x, y, epochs=1, batch_size=32,
                                  shuffle=False, verbose=0)
    return model, reference, keras_history, history


@pytest.mark.parametrize("case", sorted(MODELS))
def test_predicts_like_keras(case):
    input_shape, specs = MODELS[case]
    reference = keras_model(input_shape, specs, seed=2)
    model = spidnn_model(input_shape, specs, reference.get_weights())
    x = random_inputs(40, input_shape, seed=3)
    expected = reference.predict(x, verbose=0)
    got = model.predict(x)
    assert got.shape == expected.shape
    assert max_abs_diff(got, expected) <= PREDICT_TOLERANCE


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("case", sorted(MODELS))
def test_one_epoch_trains_like_keras(case, kind):
    input_shape, specs = MODELS[case]
    x, y = data(input_shape)
    initial = keras_model(input_shape, specs, seed=1).get_weights()
    model, reference, keras_history, history = fit_both(
        input_shape, specs, kind, x, y)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        assert ours.shape == theirs.shape
        assert max_abs_diff(ours, theirs) <= TRAIN_TOLERANCE
    assert max_abs_diff(history.history["loss"],
                        keras_history.history["loss"]) <= TRAIN_TOLERANCE
    # Every array moved (the convolution's through the pooling), or the
    # comparison proves nothing.
    moved = [max_abs_diff(a, b) for a, b in zip(model.get_weights(),
                                                initial)]
    assert min(moved) > 10 * TRAIN_TOLERANCE, moved
    x_test = random_inputs(20, input_shape, seed=5)
    assert max_abs_diff(model.predict(x_test), reference.predict(
        x_test, verbose=0)) <= PREDICT_TOLERANCE


def sliced_run(pool, conv_neurons_per_core, conv_filters=4):
    """Predictions before and weights after an epoch of Conv2D -> ``pool``
    -> Dense with the convolution's neurons_per_core given."""
    specs = [layer("Conv2D", conv_filters, 3, activation="relu",
                   neurons_per_core=conv_neurons_per_core),
             layer(pool, neurons_per_core=conv_filters)] + softmax_head()
    reference = keras_model((7, 7, 2), specs, seed=4)
    model = spidnn_model((7, 7, 2), specs, reference.get_weights())
    x, y = data((7, 7, 2), n=96, seed=4)
    before = model.predict(x)
    model.compile(optimizer=optimizer("adam"), loss=SCCE)
    model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    return before, model.get_weights()


@pytest.mark.parametrize("pool", ["GlobalAveragePooling2D",
                                  "GlobalMaxPooling2D"])
def test_slicing_changes_no_bit(pool):
    """One output position per core of the convolution, or all 25 on one
    core (the pooling layer has one position: one core)."""
    per_position = sliced_run(pool, 4)
    one_core = sliced_run(pool, 4 * 25)
    assert numpy.array_equal(per_position[0], one_core[0])
    assert all(numpy.array_equal(a, b)
               for a, b in zip(per_position[1], one_core[1]))


def test_tied_maxima_share_the_global_maxs_gradient():
    """As TensorFlow's reduce_max: a channel's tied maxima share its
    gradient equally.  The convolution reads channel 0 alone (kernel
    [1, 0]), whose integer values tie, so channel 1's weight learns the
    mean of channel 1 over the tied steps, not its value at the first."""
    import keras
    keras.utils.set_random_seed(3)
    inputs = keras.Input((8, 2))
    pooled = keras.layers.GlobalMaxPooling1D()(
        keras.layers.Conv1D(1, 1)(inputs))
    reference = keras.Model(inputs, keras.layers.Dense(2)(pooled))
    weights = reference.get_weights()
    weights[0] = numpy.array([[[1.0], [0.0]]], dtype=numpy.float32)
    reference.set_weights(weights)
    rng = numpy.random.default_rng(4)
    x = numpy.stack([rng.integers(0, 3, (32, 8)),
                     rng.uniform(-1, 1, (32, 8))], axis=-1).astype(
                         numpy.float32)
    ties = (x[..., 0] == x[..., 0].max(axis=1, keepdims=True)).sum(axis=1)
    assert (ties > 1).mean() > 0.5
    y = rng.normal(size=(32, 2)).astype(numpy.float32)
    model = spiDNN.from_keras(reference)
    for each in (model, reference):
        each.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    reference.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        assert max_abs_diff(ours, theirs) <= TRAIN_TOLERANCE


# ------------------------------------------------------------ unit tests
def keras_layers():
    """Each new Keras layer, in a model of the input shape it takes (and a
    layer with cores after a Reshape, which has none)."""
    import keras
    L = keras.layers
    return {
        "GlobalMaxPooling1D": ((9, 2), L.GlobalMaxPooling1D()),
        "GlobalMaxPooling2D": ((5, 4, 3), L.GlobalMaxPooling2D(
            keepdims=True)),
        "GlobalAveragePooling1D": ((9, 2), L.GlobalAveragePooling1D(
            keepdims=True)),
        "GlobalAveragePooling2D": ((5, 4, 3), L.GlobalAveragePooling2D()),
        "Reshape": ((6, 4), L.Reshape((3, -1, 2)), L.Conv2D(2, 2)),
    }


@pytest.mark.unit
@pytest.mark.parametrize("kind", sorted(keras_layers()))
def test_from_keras_converts_and_to_keras_round_trips(kind):
    import keras
    shape, klayer, *after = keras_layers()[kind]
    kmodel = keras.Sequential([keras.Input(shape), klayer] + after)
    model = spiDNN.from_keras(kmodel)
    converted = model.layers[0]
    assert type(converted).__name__ == kind
    assert converted.name == klayer.name
    assert converted.output_shape == tuple(klayer.output.shape[1:])
    back = model.to_keras()
    assert type(back.layers[0]) is type(klayer)
    assert back.layers[0].get_config() == klayer.get_config()
    x = random_inputs(4, shape, seed=7)
    numpy.testing.assert_array_equal(back.predict(x, verbose=0),
                                     kmodel.predict(x, verbose=0))


@pytest.mark.unit
@pytest.mark.parametrize("input_shape, keepdims, expected", [
    ((7, 7, 3), False, (3,)), ((7, 7, 3), True, (1, 1, 3)),
    ((1, 1, 2), True, (1, 1, 2))])
def test_global_pooling_2d_shapes(input_shape, keepdims, expected):
    from spiDNN.layers import GlobalAveragePooling2D, Input
    model = spiDNN.Model([Input(*input_shape),
                          GlobalAveragePooling2D(keepdims=keepdims)])
    pool = model.layers[0]
    assert pool.output_shape == expected
    assert (pool.geometry["kernel_height"], pool.geometry["kernel_width"],
            pool.geometry["out_height"], pool.geometry["out_width"]) == (
                input_shape[0], input_shape[1], 1, 1)


@pytest.mark.unit
@pytest.mark.parametrize("target, expected", [
    ((-1,), (24,)), ((4, -1), (4, 6)), ((2, 3, 4), (2, 3, 4)),
    ([-1, 2, 3], (4, 2, 3))])
def test_reshape_shapes(target, expected):
    from spiDNN.layers import Input, Reshape
    model = spiDNN.Model([Input(6, 4), Reshape(target)])
    assert model.layers[0].output_shape == expected


@pytest.mark.unit
@pytest.mark.parametrize("make, message", [
    (lambda L: L.Reshape(5), "target_shape must be a tuple"),
    (lambda L: L.Reshape((-1, -1)), "one of which may be -1"),
    (lambda L: L.Reshape((0, 24)), r"not \(0, 24\)"),
    (lambda L: L.Reshape(()), r"not \(\)"),
    (lambda L: L.GlobalMaxPooling1D(keepdims=1), "keepdims must be True"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(SpiDNNConfigurationError, match=message):
        make(spiDNN.layers)


@pytest.mark.unit
@pytest.mark.parametrize("make, message", [
    (lambda L: L.Reshape((5, -1)), r"Reshape\(5, -1\) cannot hold the 24 "
                                   r"elements of its input of shape \(6, 4\)"),
    (lambda L: L.Reshape((5, 5)), "cannot hold the 24 elements"),
    (lambda L: L.GlobalAveragePooling2D(), r"needs inputs of 3 dimensions"),
])
def test_shapes_that_do_not_fit_are_refused(make, message):
    from spiDNN.layers import Input
    model = spiDNN.Model([Input(6, 4)])
    with pytest.raises(SpiDNNConfigurationError, match=message):
        model.add(make(spiDNN.layers))


@pytest.mark.unit
def test_dense_after_a_reshape_to_several_dimensions_is_refused():
    """Keras' Dense would act on the last axis; spiDNN's flattens."""
    from spiDNN.layers import Dense, Dropout, Input, Reshape
    model = spiDNN.Model([Input(24), Dense(24), Reshape((4, 6), name="r"),
                          Dropout(0.5)])
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"after r \(Reshape to \(4, 6\)\) would act on "
                             r"the last axis in Keras"):
        model.add(Dense(3))
    # To one dimension it is a Flatten.
    spiDNN.Model([Input(4, 6), Reshape((-1,)), Dense(3)])


@pytest.mark.unit
def test_from_keras_refuses_what_spidnn_does_not_compute():
    import keras
    L = keras.layers
    kmodel = keras.Sequential([
        keras.Input((6, 6, 2)),
        L.GlobalAveragePooling2D(data_format="channels_first", name="g",
                                 keepdims=True),
        L.Reshape((6, 1), name="r"), L.Dense(2, name="d")])
    with pytest.raises(SpiDNNConfigurationError) as error:
        spiDNN.from_keras(kmodel)
    message = str(error.value)
    assert "'g' (GlobalAveragePooling2D): data_format='channels_first' " \
           "(spiDNN supports 'channels_last')" in message
    assert "'d' (Dense): a Dense on inputs of shape (6, 1)" in message
