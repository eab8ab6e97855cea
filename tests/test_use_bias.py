"""Dense, Conv1D and Conv2D with ``use_bias=False``, as Keras: the weights
are the kernel alone, z has no bias, and nothing is trained or sent for
one.

From the same initial weights spiDNN must predict as Keras to 1e-5 and,
after an epoch of SGD with momentum or Adam, hold Keras' weights and
History to 1e-4.  The ways a layer's cores can be laid out (a Dense's 2-D
split and streamed kernel, a convolution's output positions per core)
must give the plain layout's numbers bit for bit.
"""
import keras
import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import Conv1D, Conv2D, Dense, Input

PREDICT_TOLERANCE = 1e-5
TRAIN_TOLERANCE = 1e-4
RNG = numpy.random.default_rng(24)
#: A few hundred samples: 300 in batches of 32 leave a short last batch.
N_SAMPLES, BATCH_SIZE = 300, 32
LOSS = "sparse_categorical_crossentropy"


def keras_mlp():
    """Biases on the output layer only: a layer without and one with."""
    keras.utils.set_random_seed(1)
    return keras.Sequential([
        keras.Input((12,)),
        keras.layers.Dense(8, activation="tanh", use_bias=False),
        keras.layers.Dense(3, activation="softmax")])


def keras_cnn():
    """Conv2D on the conv app and, covering its whole input, on the dense
    app (a fully connected conv); the output Dense without a bias."""
    keras.utils.set_random_seed(2)
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(3, 3, activation="relu", use_bias=False),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(5, 3, activation="tanh", use_bias=False),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax", use_bias=False)])


def keras_conv1d():
    keras.utils.set_random_seed(3)
    return keras.Sequential([
        keras.Input((10, 2)),
        keras.layers.Conv1D(4, 3, strides=2, padding="same",
                            activation="sigmoid", use_bias=False),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax")])


MODELS = {"mlp": keras_mlp, "cnn": keras_cnn, "conv1d": keras_conv1d}

OPTIMIZERS = {
    "sgd momentum": lambda: keras.optimizers.SGD(0.05, momentum=0.9),
    "adam": lambda: keras.optimizers.Adam(0.01),
}


def inputs_for(kmodel, n=N_SAMPLES, seed=0):
    rng = numpy.random.default_rng(seed)
    shape = (n,) + tuple(kmodel.inputs[0].shape[1:])
    return rng.normal(size=shape).astype(numpy.float32)


def labels_for(x, n_classes=3):
    """Labels a network can learn: the class of the largest of a few
    fixed projections of the inputs."""
    flat = x.reshape(len(x), -1)
    projections = numpy.random.default_rng(7).normal(
        size=(flat.shape[1], n_classes))
    return numpy.argmax(flat @ projections, axis=1)


def max_error(ours, theirs, tolerance):
    """The largest difference of two lists of arrays (shapes equal), after
    checking it is within ``tolerance``."""
    assert len(ours) == len(theirs)
    errors = []
    for a, b in zip(ours, theirs):
        assert numpy.shape(a) == numpy.shape(b)
        numpy.testing.assert_allclose(a, b, rtol=0, atol=tolerance)
        errors.append(numpy.max(numpy.abs(numpy.subtract(a, b))))
    return max(errors)


# ------------------------------------------------------------ the weights
@pytest.mark.unit
@pytest.mark.parametrize("name", MODELS)
def test_weights_are_keras_arrays(name):
    """get_weights: Keras' arrays, in Keras' order, a kernel alone for a
    layer without a bias."""
    kmodel = MODELS[name]()
    model = spiDNN.from_keras(kmodel)
    ours, theirs = model.get_weights(), kmodel.get_weights()
    assert [w.shape for w in ours] == [w.shape for w in theirs]
    for layer, klayer in zip([layer for layer in model.layers
                              if layer.weight_names],
                             [k for k in kmodel.layers if k.weights]):
        assert len(layer.get_weights()) == len(klayer.get_weights())
        assert layer.use_bias == klayer.use_bias
    assert model.count_params() == kmodel.count_params()


@pytest.mark.unit
@pytest.mark.parametrize("layer, input_shape", [
    (lambda: Dense(4, use_bias=False), (6,)),
    (lambda: Conv1D(3, 2, use_bias=False), (5, 2)),
    (lambda: Conv2D(3, 2, use_bias=False), (4, 4, 2)),
])
def test_a_layer_without_bias_takes_its_kernel_alone(layer, input_shape):
    model = spiDNN.Model()
    model.add(Input(input_shape))
    model.add(layer())
    (kernel,) = model.layers[0].get_weights()
    assert model.layers[0].bias is None
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"takes 1 arrays \(kernel\), got 2"):
        model.layers[0].set_weights([kernel, numpy.zeros(3, numpy.float32)])
    model.set_weights([kernel + 1])


@pytest.mark.unit
def test_use_bias_is_checked():
    with pytest.raises(SpiDNNConfigurationError, match="use_bias must be"):
        Dense(3, use_bias="no")


@pytest.mark.unit
@pytest.mark.parametrize("name", MODELS)
def test_to_keras_round_trip(name):
    kmodel = MODELS[name]()
    back = spiDNN.from_keras(kmodel).to_keras()
    assert [k.get_config().get("use_bias") for k in back.layers] == [
        k.get_config().get("use_bias") for k in kmodel.layers]
    for ours, theirs in zip(back.get_weights(), kmodel.get_weights()):
        numpy.testing.assert_array_equal(ours, theirs)
    again = spiDNN.from_keras(back)
    assert [getattr(layer, "use_bias", None) for layer in again.layers] == [
        getattr(layer, "use_bias", None)
        for layer in spiDNN.from_keras(kmodel).layers]


# ------------------------------------------------- predicting and training
@pytest.mark.parametrize("name", MODELS)
def test_predicts_like_keras(name):
    kmodel = MODELS[name]()
    x = inputs_for(kmodel, 40)
    error = max_error([spiDNN.from_keras(kmodel).predict(x)],
                      [kmodel.predict(x, verbose=0)], PREDICT_TOLERANCE)
    print(f"{name}: predict max error {error:.3g}")


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("name", MODELS)
def test_fit_matches_keras(name, optimizer):
    """An epoch from the same weights: Keras' trained weights and loss."""
    reference = MODELS[name]()
    x = inputs_for(reference)
    y = labels_for(x)
    model = spiDNN.from_keras(reference)
    initial = reference.get_weights()
    reference.compile(optimizer=OPTIMIZERS[optimizer](), loss=LOSS)
    theirs = reference.fit(x, y, epochs=1, batch_size=BATCH_SIZE,
                           shuffle=False, verbose=0)
    model.compile(optimizer=OPTIMIZERS[optimizer](), loss=LOSS)
    ours = model.fit(x, y, epochs=1, batch_size=BATCH_SIZE, shuffle=False,
                     verbose=0)
    weights = max_error(model.get_weights(), reference.get_weights(),
                        TRAIN_TOLERANCE)
    loss = max_error([ours.history["loss"]], [theirs.history["loss"]],
                     TRAIN_TOLERANCE)
    print(f"{name}, {optimizer}: weights max error {weights:.3g}, "
          f"loss {loss:.3g}")
    # The weights must have moved, or the comparison proves nothing.
    moved = max(numpy.max(numpy.abs(a - b))
                for a, b in zip(model.get_weights(), initial))
    assert moved > 100 * TRAIN_TOLERANCE


# ----------------------------------------------- layouts on the cores
def trained_numbers(model, x, y):
    """Every number a run gives, as bytes: predictions before and after
    two epochs of Adam, and the trained weights."""
    before = model.predict(x)
    model.compile("adam", LOSS)
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return [before.tobytes(), model.predict(x).tobytes()] + [
        w.tobytes() for w in model.get_weights()]


@pytest.mark.parametrize("layout", [
    {"weights_in": "dtcm", "inputs_per_core": 250, "neurons_per_core": 3},
    {"weights_in": "sdram", "neurons_per_core": 3},
])
def test_dense_layouts_give_the_plain_numbers(layout):
    """A 2-D split (the bias on the last input block's cores, none here)
    and a streamed kernel (over several STREAM_BLOCKs): the plain DTCM
    1-D layout's numbers, bit for bit."""
    x = RNG.normal(size=(24, 600)).astype(numpy.float32)
    y = labels_for(x, 4)
    initial = None
    results = []
    for settings in ({"weights_in": "dtcm", "neurons_per_core": 3}, layout):
        model = spiDNN.Model(seed=0)
        model.add(Input(600))
        model.add(Dense(7, "relu", use_bias=False, **settings))
        model.add(Dense(4, "softmax", use_bias=False, **settings))
        if initial is None:
            initial = model.get_weights()
        model.set_weights(initial)
        results.append(trained_numbers(model, x, y))
        first = model.plan.layers[0]
        if "inputs_per_core" in settings:
            assert first.inputs_per_core == 250
        assert first.streamed == (settings["weights_in"] == "sdram")
    assert len(results[0]) == 2 + 2
    assert all(numpy.array_equal(numpy.frombuffer(a, numpy.float32),
                                 numpy.frombuffer(b, numpy.float32))
               for a, b in zip(*results))


def test_conv2d_slicings_give_the_same_numbers():
    """Output positions per core (all, 1, 5): the same numbers bit for
    bit, the kernel gradients' chain without biases included."""
    x = RNG.normal(size=(20, 6, 6, 2)).astype(numpy.float32)
    y = labels_for(x)
    initial = None
    results = []
    for neurons_per_core in (None, 3, 15):
        model = spiDNN.Model(seed=0)
        model.add(Input((6, 6, 2)))
        model.add(Conv2D(3, 3, activation="tanh", use_bias=False,
                         neurons_per_core=neurons_per_core))
        model.add(Dense(3, "softmax"))
        if initial is None:
            initial = model.get_weights()
        model.set_weights(initial)
        results.append(trained_numbers(model, x, y))
    assert len({r[0] for r in results}) == 1 and len(results[0]) == 2 + 3
    for other in results[1:]:
        assert all(numpy.array_equal(numpy.frombuffer(a, numpy.float32),
                                     numpy.frombuffer(b, numpy.float32))
                   for a, b in zip(results[0], other))


def test_resumes_keras_optimizer_state(tmp_path):
    """Adam's state per weight array, a kernel alone without a bias: a
    saved Keras model trains on in spiDNN as in Keras."""
    reference = keras_mlp()
    x = inputs_for(reference, 64)
    y = labels_for(x)
    reference.compile(optimizer=OPTIMIZERS["adam"](), loss=LOSS)
    reference.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    reference.save(tmp_path / "model.keras")
    model = spiDNN.load_model(tmp_path / "model.keras")
    for trained in (reference, model):
        trained.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    error = max_error(model.get_weights(), reference.get_weights(),
                      TRAIN_TOLERANCE)
    print(f"resumed Adam: weights max error {error:.3g}")
