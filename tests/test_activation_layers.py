"""Keras' parameterised activation layers (ReLU with its max_value,
negative_slope and threshold, LeakyReLU, ELU) on the cores, against Keras
with TensorFlow CPU as the oracle.

Each setting runs folded into the Dense before it and standalone after an
Add (a functional model).  The first Dense's kernel is the identity (the
Add's other branch is zeros), so z is the inputs themselves, which cover
each setting's kinks: predictions within 1e-5, and one epoch of SGD with
momentum (its first batch's gradients taken at the kinks) leaves the
weights and the History within 1e-4.  The conversions both ways, and the
errors for what spiDNN does not compute, are unit tests.
"""
import numpy
import pytest

import spiDNN
from branch_oracle import assert_predicts_as_keras, assert_trains_as_keras
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import ELU, Add, Dense, Input, LeakyReLU, ReLU

WIDTH = 8
N_SAMPLES = 320


def keras_relu(max_value=None, negative_slope=0.0, threshold=0.0):
    """Keras' ReLU layer; a negative threshold, which its constructor
    refuses but its relu function computes, set after it."""
    import keras
    layer = keras.layers.ReLU(max_value=max_value,
                              negative_slope=negative_slope)
    layer.threshold = threshold
    return layer


#: name: (a fresh Keras layer, the kinks of its activation)
SETTINGS = {
    "relu-max6": (lambda: keras_relu(max_value=6), (0.0, 6.0)),
    "relu-slope-threshold": (
        lambda: keras_relu(negative_slope=0.1, threshold=0.5), (0.5,)),
    "relu-all": (lambda: keras_relu(max_value=3, negative_slope=0.2,
                                    threshold=-1), (-1.0, 0.0, 3.0)),
    "leaky-default": (lambda: _keras("LeakyReLU")(), (0.0,)),
    "leaky-0.05": (lambda: _keras("LeakyReLU")(0.05), (0.0,)),
    "elu-0.5": (lambda: _keras("ELU")(0.5), (0.0,)),
}


def _keras(kind):
    import keras
    return getattr(keras.layers, kind)


def kink_inputs(kinks, seed=0):
    """N_SAMPLES rows of WIDTH: uniform over [-2, 2], then every kink and
    its nearest neighbours in the first rows (the first batch)."""
    rng = numpy.random.default_rng(seed)
    x = rng.uniform(-2, 2, (N_SAMPLES, WIDTH)).astype(numpy.float32)
    special = numpy.array([
        value for kink in kinks for value in (
            kink, *_neighbours(kink), kink - 1e-3, kink + 1e-3)],
        numpy.float32)
    flat = x.ravel()
    flat[:len(special)] = special
    return x


def _neighbours(kink):
    """The floats either side of ``kink``; of 0 the smallest normal ones,
    as TensorFlow's CPU kernels flush subnormals to zero and the cores do
    not."""
    if kink == 0:
        tiny = numpy.finfo(numpy.float32).tiny
        return -tiny, tiny
    kink = numpy.float32(kink)
    return (numpy.nextafter(kink, numpy.float32(-numpy.inf)),
            numpy.nextafter(kink, numpy.float32(numpy.inf)))


def _identity(dense):
    dense.set_weights([numpy.eye(WIDTH, dtype=numpy.float32),
                       numpy.zeros(WIDTH, numpy.float32)])


def folded_model(make_activation, seed=1):
    """x -> Dense (identity kernel) -> the activation -> Dense(4)."""
    import keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((WIDTH,))
    first = keras.layers.Dense(WIDTH)
    h = make_activation()(first(inputs))
    kmodel = keras.Model(inputs, keras.layers.Dense(4)(h))
    _identity(first)
    return kmodel


def standalone_model(make_activation, seed=1):
    """x -> Add(Dense (identity), Dense (zeros)) -> the activation ->
    Dense(4)."""
    import keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((WIDTH,))
    first = keras.layers.Dense(WIDTH)
    other = keras.layers.Dense(WIDTH, kernel_initializer="zeros")
    h = make_activation()(keras.layers.Add()([first(inputs),
                                              other(inputs)]))
    kmodel = keras.Model(inputs, keras.layers.Dense(4)(h))
    _identity(first)
    return kmodel


@pytest.mark.parametrize("where", ["folded", "standalone"])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_predicts_and_trains_as_keras(setting, where):
    make_activation, kinks = SETTINGS[setting]
    build = folded_model if where == "folded" else standalone_model
    kmodel = build(make_activation)
    x = kink_inputs(kinks)
    y = numpy.random.default_rng(1).normal(
        size=(N_SAMPLES, 4)).astype(numpy.float32)
    model = assert_predicts_as_keras(kmodel, x)
    kinds = [type(layer).__name__ for layer in model.layers]
    keras_kind = type(make_activation()).__name__
    assert (keras_kind in kinds) == (where == "standalone")
    assert_trains_as_keras(kmodel, x, y, "mean_squared_error",
                           "sgd_momentum", batch_size=32, model=model)


# ------------------------------------------------------------ unit tests
def _converted(kmodel):
    return spiDNN.from_keras(kmodel)


def _sequential(*klayers):
    import keras
    return keras.Sequential([keras.Input((WIDTH,)), *klayers])


@pytest.mark.unit
@pytest.mark.parametrize("klayer, kind, settings", [
    (lambda: _keras("ReLU")(max_value=3.0, negative_slope=0.2,
                            threshold=0.5), "relu_parametric",
     {"max_value": 3.0, "negative_slope": 0.2, "threshold": 0.5}),
    (lambda: _keras("ReLU")(max_value=6), "relu6", {"max_value": 6.0}),
    (lambda: _keras("ReLU")(negative_slope=0.1), "leaky_relu",
     {"negative_slope": 0.1}),
    (lambda: _keras("ReLU")(), "relu", {}),
    (lambda: _keras("LeakyReLU")(), "leaky_relu", {"negative_slope": 0.3}),
    (lambda: _keras("ELU")(0.5), "elu_alpha", {"alpha": 0.5}),
    (lambda: _keras("ELU")(), "elu", {}),
])
def test_from_keras_folds_and_to_keras_rebuilds(klayer, kind, settings):
    import keras
    kmodel = _sequential(keras.layers.Dense(WIDTH), klayer(),
                         keras.layers.Dense(2))
    model = _converted(kmodel)
    dense = model.layers[0]
    assert len(model.layers) == 2
    assert dense.activation_settings == settings
    assert dense.core_activation()[0] == kind
    back = model.to_keras()
    if not settings:
        # At its string's settings, the Dense's own activation.
        assert back.layers[0].get_config()["activation"] == kind
        return
    rebuilt = back.layers[1]
    assert type(rebuilt) is type(kmodel.layers[1])
    assert back.layers[0].get_config()["activation"] == "linear"
    for key in settings:
        assert getattr(rebuilt, key) == getattr(kmodel.layers[1], key)
    # And back again: the same layers, the same settings.
    again = _converted(back)
    assert again.layers[0].activation_settings == settings


@pytest.mark.unit
def test_standalone_layers_round_trip():
    x = Input(WIDTH)
    h = Dense(WIDTH)(x)
    out = Dense(2)(ELU(0.5)(LeakyReLU(0.05)(ReLU(
        max_value=3, negative_slope=0.2, threshold=0.5)(Add()([h, h])))))
    model = spiDNN.Model(x, out)
    back = model.to_keras()
    kinds = [type(layer).__name__ for layer in back.layers]
    assert kinds[-4:-1] == ["ReLU", "LeakyReLU", "ELU"]
    relu, leaky, elu = back.layers[-4:-1]
    assert (relu.max_value, relu.negative_slope, relu.threshold) == (
        3, 0.2, 0.5)
    assert leaky.negative_slope == 0.05 and elu.alpha == 0.5
    again = _converted(back)
    assert [type(layer).__name__ for layer in again.layers][-4:-1] == (
        kinds[-4:-1])
    assert again.layers[-2].activation_settings == {"alpha": 0.5}


@pytest.mark.unit
def test_the_string_leaky_relu_keeps_keras_slope():
    assert Dense(2, activation="leaky_relu").core_activation()[1][
        "activation_alpha"] == LeakyReLU(0.2).core_activation()[1][
        "activation_alpha"]
    assert LeakyReLU().activation_settings == {"negative_slope": 0.3}


@pytest.mark.unit
@pytest.mark.parametrize("make, words", [
    (lambda: ReLU(max_value=-1), "max_value=-1.0 must be at least 0"),
    (lambda: ReLU(negative_slope="a"), "negative_slope must be a finite"),
    (lambda: ReLU(threshold=float("nan")), "threshold must be a finite"),
    (lambda: ELU(alpha=None), "alpha must be a finite number, not None"),
    (lambda: LeakyReLU(True), "negative_slope must be a finite"),
    (lambda: Dense(2, activation="relu_parametric"),
     "unknown activation 'relu_parametric'"),
    (lambda: Dense(2, activation="elu_alpha"),
     "unknown activation 'elu_alpha'"),
    (lambda: Dense(2).set_activation("tanh", {"alpha": 2}),
     "activation 'tanh' has no setting(s) ['alpha']"),
])
def test_settings_spiDNN_cannot_compute_are_refused(make, words):
    with pytest.raises(SpiDNNConfigurationError, match=_escaped(words)):
        make()


def _escaped(words):
    import re
    return re.escape(words)


@pytest.mark.unit
def test_from_keras_names_the_layer_and_setting_refused():
    import keras
    kmodel = _sequential(keras.layers.Dense(WIDTH),
                         keras.layers.Softmax(axis=0),
                         keras.layers.LayerNormalization(),
                         keras.layers.Dense(2))
    with pytest.raises(SpiDNNConfigurationError) as error:
        _converted(kmodel)
    message = str(error.value)
    assert "axis=0" in message
    assert "(LayerNormalization): spiDNN has no such layer yet" in message


@pytest.mark.unit
def test_to_keras_of_a_negative_threshold_says_keras_refuses_it():
    x = Input(WIDTH)
    model = spiDNN.Model(x, Dense(2)(ReLU(threshold=-1)(Dense(WIDTH)(x))))
    with pytest.raises(SpiDNNConfigurationError,
                       match="Keras' ReLU layer refuses .*'threshold': -1.0"):
        model.to_keras()
