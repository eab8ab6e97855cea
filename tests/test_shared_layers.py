"""Shared layers (one layer, one set of weights, applied more than once)
against Keras: siamese Dense models merged by Add or Concatenate, a
shared tower (a nested model applied twice), a Dense applied to its own
output and a shared Conv2D, converted from Keras with identical weights;
predictions, an epoch's weights and History; the uses' gradients summed
in a fixed order, so the trained weights are the same bit for bit on
every slicing; to_keras keeps the sharing; what is not supported is
refused by name."""
import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import Concatenate, Conv2D, Dense, Input
from tests.branch_oracle import (
    TRAINED_TOLERANCE, assert_predicts_as_keras, assert_trains_as_keras,
    keras_optimizer, samples)

N_SAMPLES = 256


def siamese(merge="Add", seed=0):
    """Two Inputs through one Dense, merged, a softmax head."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    left, right = keras.Input((8,), name="left"), keras.Input((8,),
                                                              name="right")
    shared = layers.Dense(6, activation="tanh", name="shared")
    merged = getattr(layers, merge)()([shared(left), shared(right)])
    return keras.Model([left, right],
                       layers.Dense(3, activation="softmax")(merged))


def tower(seed=1):
    """A nested model of two Dense and a ReLU applied to both Inputs: the
    second shared Dense's rows are kept by the first's uses."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    branch = keras.Sequential([keras.Input((8,)),
                               layers.Dense(7, activation="tanh"),
                               layers.Dense(5), layers.ReLU()])
    left, right = keras.Input((8,)), keras.Input((8,))
    merged = layers.Subtract()([branch(left), branch(right)])
    return keras.Model([left, right],
                       layers.Dense(3, activation="softmax")(merged))


def recurrent(seed=2):
    """A Dense applied to its own output: its first use keeps a copy of
    its own rows."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8,))
    shared = layers.Dense(6, activation="tanh")
    x = shared(shared(layers.Dense(6, activation="tanh")(inputs)))
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(x))


def shared_conv(seed=3):
    """Two images through one Conv2D and one pooling layer (a copy),
    flattened, concatenated, a softmax Dense."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(seed)
    a, b = keras.Input((6, 6, 1)), keras.Input((6, 6, 1))
    conv = layers.Conv2D(3, 3, padding="same", activation="relu")
    pool = layers.MaxPooling2D(2)
    branches = [layers.Flatten()(pool(conv(image))) for image in (a, b)]
    return keras.Model([a, b], layers.Dense(
        3, activation="softmax")(layers.Concatenate()(branches)))


def pair(shape, seed=0):
    """Two inputs of ``shape`` and one-hot labels of 3 classes."""
    first, labels = samples(shape, N_SAMPLES, classes=3, seed=seed)
    second, _ = samples(shape, N_SAMPLES, classes=3, seed=seed + 100)
    return [first, second], labels


def sliced(model, neurons_per_core):
    """Every layer of ``model`` (each use) at ``neurons_per_core`` (None:
    the layer on one core; a windowed layer's per position times its
    channels)."""
    for layer in model.layers:
        if layer.takes_cores:
            granularity = layer.slice_granularity
            layer.request_slice(layer.units if neurons_per_core is None
                                else neurons_per_core * granularity)
    return model


def trained_weights(kmodel, x, y, neurons_per_core, optimizer="adam"):
    """The weights after one epoch (and the model) at a slicing."""
    model = sliced(spiDNN.from_keras(kmodel), neurons_per_core)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    return model.get_weights(), model


# ------------------------------------------------------------ against Keras
@pytest.mark.parametrize("merge, optimizer", [
    ("Add", "sgd_momentum"), ("Concatenate", "adam")])
def test_siamese_dense_trains_as_keras(merge, optimizer):
    kmodel = siamese(merge)
    x, y = pair((8,))
    model = assert_predicts_as_keras(kmodel, x)
    assert [layer.name for layer in model.layers[:2]] == [
        "shared", "shared[1]"]
    assert model.layers[1].shares is model.layers[0]
    assert len(model.get_weights()) == 4          # the shared Dense's once
    model = assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                                   optimizer, batch_size=32, model=model)
    # Each use sends its slice's sums once per batch (8 batches).
    packets = model.last_run.packets_per_sample
    assert packets["shared/shared_chain"] == packets[
        "shared[1]/shared_chain"] == 6 * 9 * 8 / N_SAMPLES


@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_a_shared_tower_trains_as_keras(optimizer):
    kmodel = tower()
    x, y = pair((8,), seed=1)
    model = assert_predicts_as_keras(kmodel, x)
    kinds = [(type(layer).__name__, layer.shares is not None)
             for layer in model.layers]
    assert kinds == [("Dense", False), ("Dense", False), ("ReLU", False),
                     ("Dense", True), ("Dense", True), ("ReLU", True),
                     ("Subtract", False), ("Dense", False)]
    assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                           optimizer, batch_size=32, model=model)


def test_a_dense_applied_to_its_own_output_trains_as_keras():
    kmodel = recurrent()
    x, y = samples((8,), N_SAMPLES, classes=3, seed=2)
    model = assert_predicts_as_keras(kmodel, x)
    assert model.layers[2].shares is model.layers[1]
    assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy", "adam",
                           batch_size=32, model=model)


@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_a_shared_conv2d_trains_as_keras(optimizer):
    kmodel = shared_conv()
    x, y = pair((6, 6, 1), seed=3)
    model = assert_predicts_as_keras(kmodel, x)
    assert [layer.name.endswith("[1]") for layer in model.layers[:4]] == [
        False, True, False, True]
    model = assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                                   optimizer, batch_size=32, model=model)
    # Both uses' cores are one chain: each core's sums once per batch.
    packets = model.last_run.packets_per_sample
    cores = model.plan.layer(model.layers[0].name).n_cores
    assert packets[f"{model.layers[1].name}/gradient_chain"] == (
        cores * (3 * 9 + 3) * 8 / N_SAMPLES)


def test_a_regularised_shared_layer_counts_its_penalty_once():
    """As Keras' layer losses: a penalty per weight, not per use (the
    first use's cores report it); every copy adds its gradient once."""
    import keras
    from keras import layers
    keras.utils.set_random_seed(4)
    left, right = keras.Input((8,)), keras.Input((8,))
    shared = layers.Dense(4, activation="tanh", bias_regularizer="l1",
                          kernel_regularizer=keras.regularizers.L2(0.01))
    kmodel = keras.Model([left, right], layers.Dense(
        3, activation="softmax")(layers.Add()([shared(left),
                                               shared(right)])))
    assert len(kmodel.losses) == 2
    x, y = pair((8,), seed=4)
    assert_trains_as_keras(kmodel, x, y, "categorical_crossentropy",
                           "sgd_momentum", batch_size=32)


# ------------------------------------------------- the same on every slicing
@pytest.mark.parametrize("make, shape", [
    (siamese, (8,)), (tower, (8,)), (recurrent, None),
    (shared_conv, (6, 6, 1))], ids=["siamese", "tower", "recurrent", "conv"])
def test_trained_weights_are_the_same_on_every_slicing(make, shape):
    """One neuron (output position) per core and the whole layer on one
    core: the uses' gradients are added in use order, each use's in its
    own fixed order, whatever the slicing and the packets' timing."""
    kmodel = make()
    x, y = (pair(shape) if shape is not None
            else samples((8,), N_SAMPLES, classes=3))
    one, model = trained_weights(kmodel, x, y, 1)
    assert max(plan.n_cores for plan in model.plan.layers) > 1
    whole, model = trained_weights(kmodel, x, y, None)
    assert all(plan.n_cores == 1 for plan in model.plan.layers)
    for a, b in zip(one, whole):
        assert numpy.array_equal(a, b)


# ---------------------------------------------------------- Keras in and out
def test_to_keras_keeps_the_sharing_and_the_optimizer_state():
    kmodel = siamese("Concatenate")
    x, y = pair((8,))
    _, model = trained_weights(kmodel, x, y, 3)
    back = model.to_keras()
    shared = back.get_layer("shared")
    assert len(shared._inbound_nodes) == 2
    assert len(back.layers) == len(kmodel.layers)
    numpy.testing.assert_allclose(back.predict(x, verbose=0),
                                  model.predict(x), rtol=0, atol=1e-5)
    for mine, theirs in zip(model.get_weights(), back.get_weights()):
        assert numpy.array_equal(mine, theirs)
    # Adam's moments come back once per weight, the shared layer's too.
    variables = back.optimizer.variables
    assert len(variables) == 2 + 2 * len(model.get_weights())
    again = spiDNN.from_keras(back)
    assert [layer.name for layer in again.layers] == [
        layer.name for layer in model.layers]
    assert again.layers[1].shares is again.layers[0]


def test_a_second_fit_resumes_the_shared_optimizer_state():
    """The momentum comes back once per shared weight and starts every
    use's copy (and the copies of its rows, the Subtract's among them)
    again: a second fit goes on as Keras' does, and two fits of an epoch
    train as one of two epochs, bit for bit."""
    kmodel = tower()
    x, y = pair((8,), seed=5)
    model, whole = spiDNN.from_keras(kmodel), spiDNN.from_keras(kmodel)
    for which in (model, whole, kmodel):
        which.compile(optimizer=keras_optimizer("sgd_momentum"),
                      loss="categorical_crossentropy")
    kwargs = dict(batch_size=32, shuffle=False, verbose=0)
    losses = []
    for _ in range(2):
        losses += model.fit(x, y, epochs=1, **kwargs).history["loss"]
        kmodel.fit(x, y, epochs=1, **kwargs)
    assert whole.fit(x, y, epochs=2, **kwargs).history["loss"] == losses
    for mine, once, theirs in zip(model.get_weights(), whole.get_weights(),
                                  kmodel.get_weights()):
        assert numpy.array_equal(mine, once)
        numpy.testing.assert_allclose(mine, theirs, rtol=0,
                                      atol=TRAINED_TOLERANCE)


@pytest.mark.unit
def test_the_functional_api_shares_a_layers_weights():
    left, right = Input(4, name="left"), Input(4, name="right")
    shared = Dense(3, name="encoder")
    a, b = shared(left), shared(right)
    assert a is shared and b.shares is shared and b.name == "encoder[1]"
    model = spiDNN.Model([left, right], Dense(2, name="head")(
        Concatenate()([a, b])), seed=0)
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 3), (3,), (6, 2), (2,)]
    assert model.count_params() == 15 + 14
    weights[0] = weights[0] + 1
    model.set_weights(weights)
    assert numpy.array_equal(b.get_weights()[0], weights[0])
    text = model.summary(print_fn=None)
    assert "encoder[1] (Dense)" in text and "15 (shared)" in text
    assert "encoder[1]: 3 per core" in text
    assert "sliced as encoder, its first use" in text
    assert "Total params: 29" in text
    # A shared layer before its first use in the model's order: its
    # weights come where its first use in the model does.
    x = Input(4)
    first = Dense(4, name="first")
    later = first(x)
    earlier = first(Dense(4, name="before")(x))
    model = spiDNN.Model(x, Concatenate()([earlier, later]), seed=0)
    assert [layer.name for layer in model.layers][:3] == [
        "before", "first[1]", "first"]
    assert [layer.name for layer in model.weight_layers()
            if layer.weights] == ["before", "first"]


# ------------------------------------------------------------------ refusals
@pytest.mark.unit
def test_what_cannot_be_shared_is_refused_by_name():
    x, other = Input(4), Input(5)
    dense = Dense(3, name="d")
    dense(x)
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"d \(Dense\) is applied to inputs of shape "
                             r"\(4,\) and now \(5,\).*one shape"):
        dense(other)
    images, small = Input(6, 6, 1), Input(5, 5, 1)
    conv = Conv2D(2, 3, name="c")
    conv(images)
    with pytest.raises(SpiDNNConfigurationError, match=r"c \(Conv2D\)"):
        conv(small)
    for settings, match in (
            ({"inputs_per_core": 2}, "inputs_per_core=None"),
            ({"weights_in": "sdram"}, "weights_in='auto' or 'dtcm'")):
        layer = Dense(3, name="split", **settings)
        a, b = Input(4), Input(4)
        with pytest.raises(SpiDNNConfigurationError,
                           match=r"split \(Dense\) is shared by 2 uses.*"
                                 + match):
            spiDNN.Model([a, b], Concatenate()([layer(a), layer(b)]))
    owned = Dense(3, name="owned")
    spiDNN.Model(x, owned(x))
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"owned\[1\] \(a use of owned\) already "
                             r"belongs to another model"):
        spiDNN.Model(other, Dense(4)(owned(Dense(4)(other))))
