"""Keras' element-wise activations, computed on the cores, match Keras.

Each activation, by the name a user writes (Keras' aliases too), against
Keras with TensorFlow CPU as the oracle: predict through an identity
kernel (so z is the inputs themselves: negative, near zero, large, and
the activations' kinks and thresholds) and through a random two-layer
model must equal Keras' to 1e-5; one epoch of SGD on 300 samples in
batches of 32 from Keras' initial weights must leave every weight, and
each sample's loss, within 1e-4 of Keras', and the weights must have
moved.  Exponential's values grow past where 1e-5 is float32's rounding,
so it is compared to 1e-6 of its size as well.
"""
import numpy
import pytest

import spiDNN
from conftest import keras_model, keras_train, spidnn_model
from conv_oracle import (
    assert_trains_like_keras as assert_conv_trains_like_keras, layer,
    random_inputs, teacher_labels)
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import Dense

PREDICT_TOLERANCE = 1e-5
TRAIN_TOLERANCE = 1e-4
MSE = "mean_squared_error"

#: Every activation this suite checks, by the name spiDNN takes.
ACTIVATIONS = ["elu", "selu", "gelu", "gelu_approximate", "silu", "swish",
               "leaky_relu", "softplus", "softsign", "hard_sigmoid",
               "relu6", "hard_silu", "hard_swish", "mish", "exponential"]


def keras_activation(name):
    """What Keras takes for spiDNN's ``name``: the name itself, but
    gelu_approximate, which Keras has as an argument of gelu."""
    if name != "gelu_approximate":
        return name
    import keras
    return lambda x: keras.activations.gelu(x, approximate=True)


def relative_tolerance(name):
    return 1e-6 if name == "exponential" else 0.0


def assert_close(ours, theirs, name, tolerance):
    numpy.testing.assert_allclose(ours, theirs, atol=tolerance,
                                  rtol=relative_tolerance(name))


def special_inputs(width):
    """z over [-20, 20], the kinks and thresholds of the activations (0,
    +-3, 6, softplus' +-13.94), near-zero and large values, in rows of
    ``width``."""
    z = numpy.concatenate([
        numpy.linspace(-20, 20, 801),
        [0.0, 1e-7, -1e-7, 1e-4, -1e-4, 3, -3, 6, -6, 13.9423847,
         -13.9423847, 40, -40, 80, -80, -100]]).astype(numpy.float32)
    return numpy.pad(z, (0, -len(z) % width)).reshape(-1, width)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_identity_kernel_predicts_like_keras(name):
    import keras
    width = 16
    kmodel = keras.Sequential([
        keras.Input((width,)),
        keras.layers.Dense(width, activation=keras_activation(name))])
    kmodel.set_weights([numpy.eye(width, dtype=numpy.float32),
                        numpy.zeros(width, numpy.float32)])
    x = special_inputs(width)
    model = spidnn_model(width, [(width, name)], 4, kmodel.get_weights())
    assert_close(model.predict(x), kmodel.predict(x, verbose=0), name,
                 PREDICT_TOLERANCE)


def training_data(name, n=300, n_inputs=6):
    """Inputs spread over negatives and positives (narrower for
    exponential, whose outputs would otherwise swamp the loss), and
    targets of a smooth teacher."""
    rng = numpy.random.default_rng(5)
    scale = 0.5 if name == "exponential" else 2.0
    x = (rng.normal(size=(n, n_inputs)) * scale).astype(numpy.float32)
    y = numpy.stack([numpy.sin(x[:, 0]) + x[:, 1],
                     x[:, 2] * x[:, 3] / 4], axis=1).astype(numpy.float32)
    return x, y


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_dense_predicts_and_trains_like_keras(name):
    x, y = training_data(name)
    spec = [(8, name), (4, name), (2, None)]
    kspec = [(units, keras_activation(act) if act else act)
             for units, act in spec]
    reference = keras_model(x.shape[1], kspec, seed=1)
    initial = reference.get_weights()
    model = spidnn_model(x.shape[1], spec, 3, initial)
    assert_close(model.predict(x), reference.predict(x, verbose=0), name,
                 PREDICT_TOLERANCE)
    history = model.fit(x, y, loss=MSE, epochs=1, batch_size=32,
                        learning_rate=0.05, shuffle=False, verbose=0)
    keras_losses = keras_train(reference, x, y, MSE, 0.05, 1, 32)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        assert_close(ours, theirs, name, TRAIN_TOLERANCE)
    assert_close(history.sample_losses[0], keras_losses[0], name,
                 TRAIN_TOLERANCE)
    assert_close(history.history["loss"], [numpy.mean(keras_losses[0])],
                 name, TRAIN_TOLERANCE)
    moved = max(numpy.abs(a - b).max()
                for a, b in zip(model.get_weights(), initial))
    assert moved > 100 * TRAIN_TOLERANCE


@pytest.mark.parametrize("name", ["gelu", "swish", "mish"])
def test_conv2d_predicts_and_trains_like_keras(name):
    specs = [layer("Conv2D", 3, 3, activation=name), layer("Flatten"),
             layer("Dense", 2)]
    x = random_inputs(64, (6, 6, 1), seed=2) * 3
    y = teacher_labels(x, 2, MSE, seed=2)
    assert_conv_trains_like_keras((6, 6, 1), specs, x, y, MSE, 32, 0.05,
                                  epochs=1)


@pytest.mark.parametrize("alias, kind", [("swish", "silu"),
                                         ("hard_swish", "hard_silu")])
def test_an_alias_keeps_the_name_the_user_wrote(alias, kind):
    assert Dense(3, activation=alias).activation == alias
    assert Dense(3, activation=kind).activation == kind


def test_an_unknown_activation_is_named_as_written():
    with pytest.raises(SpiDNNConfigurationError) as error:
        Dense(3, activation="swishh")
    message = str(error.value)
    assert "'swishh'" in message and "'swish'" in message
    assert "'gelu_approximate'" in message


def test_a_conv_takes_the_new_activations():
    from spiDNN.layers import Conv2D
    assert Conv2D(2, 3, activation="hard_swish").activation == "hard_swish"


@pytest.mark.parametrize("softmax_as", ["argument", "Activation", "Softmax"])
def test_keras_conv_softmax_over_channels_converts_and_trains(softmax_as):
    """Keras' softmax on a convolution is over each position's channels:
    Conv2D(activation="softmax"), or an Activation("softmax") or
    Softmax() layer folded into a linear Conv2D, predicts and trains
    through spiDNN.keras.fit (Adam) as Keras does."""
    import keras
    layers = keras.layers
    keras.utils.set_random_seed(5)
    conv = layers.Conv2D(4, 3, activation="softmax" if softmax_as
                         == "argument" else None)
    after = {"argument": [], "Activation": [layers.Activation("softmax")],
             "Softmax": [layers.Softmax()]}[softmax_as]
    kmodel = keras.Sequential([keras.Input((6, 6, 2)), conv, *after,
                               layers.MaxPooling2D(2), layers.Flatten(),
                               layers.Dense(3, activation="softmax")])
    reference = keras.models.clone_model(kmodel)
    reference.set_weights(kmodel.get_weights())
    rng = numpy.random.default_rng(5)
    x = rng.normal(size=(24, 6, 6, 2)).astype(numpy.float32)
    y = rng.integers(0, 3, 24)
    model = spiDNN.from_keras(kmodel)
    numpy.testing.assert_allclose(model.predict(x),
                                  reference.predict(x, verbose=0),
                                  atol=1e-5, rtol=0)
    for m in (kmodel, reference):
        m.compile(keras.optimizers.Adam(0.01),
                  "sparse_categorical_crossentropy")
    history = spiDNN.keras.fit(kmodel, x, y, batch_size=8, epochs=2,
                               shuffle=False, verbose=0)
    expected = reference.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                             verbose=0)
    for got, want in zip(kmodel.get_weights(), reference.get_weights()):
        numpy.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    numpy.testing.assert_allclose(history.history["loss"],
                                  expected.history["loss"], rtol=1e-5)


@pytest.mark.parametrize("name", ["gelu", "swish", "leaky_relu",
                                  "hard_sigmoid"])
def test_from_keras_converts_and_predicts_like_keras(name):
    import keras
    keras.utils.set_random_seed(3)
    kmodel = keras.Sequential([keras.Input((5,)),
                               keras.layers.Dense(6, activation=name),
                               keras.layers.Dense(2)])
    model = spiDNN.from_keras(kmodel)
    x = special_inputs(5)[::7]
    numpy.testing.assert_allclose(model.predict(x),
                                  kmodel.predict(x, verbose=0),
                                  atol=PREDICT_TOLERANCE, rtol=0)
