"""Bad models and inputs are refused with clear errors before any run."""
import numpy
import pytest

import spiDNN
from spiDNN.compiler.lowering import core_layers
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import Dense, Input
from spiDNN.abi import layouts

from conftest import spidnn_model


@pytest.fixture
def model():
    return spidnn_model(4, [(3, "relu"), (2, "softmax")])


def test_layer_too_big_for_a_core_is_refused():
    """Kept in DTCM (weights_in="dtcm"; "auto" would stream it from
    SDRAM, tests/test_large_layers.py) and every input on the core (no
    2-D split, which would fit it)."""
    model = spiDNN.Model().add(Input(20_000))
    with pytest.raises(SpiDNNConfigurationError, match="DTCM"):
        model.add(Dense(1, weights_in="dtcm", inputs_per_core=None))
    model.add(Dense(1, weights_in="dtcm", inputs_per_core="auto"))
    assert model.plan.layers[-1].n_blocks > 1


def test_too_many_neurons_per_core_is_refused():
    model = spiDNN.Model().add(Input(784))
    with pytest.raises(SpiDNNConfigurationError, match="neurons_per_core"):
        model.add(Dense(128, neurons_per_core=64, weights_in="dtcm"))
    # The same layer fits at one neuron per core.
    model.add(Dense(128))
    assert core_layers(model.layers, model.plan)[0].dtcm_bytes(None) <= (
        layouts.DTCM_HEAP_BYTES)


@pytest.mark.parametrize("x, match", [
    (numpy.zeros((3, 5)), r"shape \(n_samples, 4\)"),
    (numpy.zeros(4), r"shape \(n_samples, 4\)"),
    (numpy.zeros((0, 4)), "no samples"),
    (numpy.array([["a", "b", "c", "d"]]), "numeric"),
    ([[1, 2], [3]], "array of numbers|numeric"),
    (numpy.array([[0.0, numpy.nan, 1.0, 2.0]]), "NaN"),
    (numpy.array([[0.0, numpy.inf, 1.0, 2.0]]), "NaN or infinite"),
])
def test_bad_inputs(model, x, match):
    with pytest.raises(SpiDNNConfigurationError, match=match):
        model.predict(x)


def test_unknown_activation():
    with pytest.raises(SpiDNNConfigurationError, match="unknown activation"):
        Dense(3, activation="celu")


@pytest.mark.parametrize("units", [0, -3, 2.5, "ten", True])
def test_bad_units(units):
    with pytest.raises(SpiDNNConfigurationError, match="Dense units"):
        Dense(units)


def test_layers_before_an_input():
    with pytest.raises(SpiDNNConfigurationError, match="Input layer before"):
        spiDNN.Model().add(Dense(3))


def test_second_input_and_empty_model():
    model = spiDNN.Model().add(Input(3))
    with pytest.raises(SpiDNNConfigurationError, match="already"):
        model.add(Input(3))
    with pytest.raises(SpiDNNConfigurationError,
                       match="at least one layer with neurons"):
        model.predict(numpy.zeros((1, 3)))


def test_set_weights_checks_count_and_shapes(model):
    weights = model.get_weights()
    with pytest.raises(SpiDNNConfigurationError, match="4 weight arrays"):
        model.set_weights(weights[:3])
    weights[0] = numpy.zeros((3, 4))
    with pytest.raises(SpiDNNConfigurationError, match=r"shape \(4, 3\)"):
        model.set_weights(weights)
    weights = model.get_weights()
    weights[1] = numpy.array([0.0, numpy.nan, 0.0])
    with pytest.raises(SpiDNNConfigurationError, match="finite"):
        model.set_weights(weights)


# ---------------------------------------------------------------- training
@pytest.fixture
def training_data():
    x = numpy.random.default_rng(0).random((6, 4)).astype(numpy.float32)
    return x, numpy.eye(2, dtype=numpy.float32)[[0, 1, 0, 1, 1, 0]]


@pytest.mark.parametrize("loss, y, match", [
    ("categorical_crossentropy", numpy.zeros((6, 3)),
     r"shape \(6, 2\).*got \(6, 3\)"),
    ("categorical_crossentropy", numpy.zeros(6),
     "sparse_categorical_crossentropy"),
    ("mse", numpy.zeros((6, 2, 1)), r"shape \(6, 2\)"),
    ("binary_crossentropy", numpy.zeros((6, 1)), r"shape \(6, 2\)"),
    ("sparse_categorical_crossentropy", numpy.array([0, 1, 2, 0, 1, 0]),
     "classes 0 to 1"),
    ("sparse_categorical_crossentropy", numpy.array([0, 1, -1, 0, 1, 0]),
     "classes 0 to 1"),
    ("sparse_categorical_crossentropy", numpy.array([0, 1, 0.5, 0, 1, 0]),
     "whole class"),
    ("sparse_categorical_crossentropy", numpy.zeros((6, 2)),
     "one class per sample"),
    ("mse", numpy.full((6, 2), numpy.nan), "NaN"),
    ("mse", numpy.zeros((5, 2)), "6 input samples but 5 labels"),
    ("mse", [["a", "b"]] * 6, "numeric"),
])
def test_bad_labels(model, training_data, loss, y, match):
    x, _ = training_data
    with pytest.raises(SpiDNNConfigurationError, match=match):
        model.fit(x, y, loss=loss, verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": "dice"}, "unknown loss 'dice'"),
    ({}, "fit needs a loss"),
    ({"loss": "mse", "epochs": 0}, "epochs"),
    ({"loss": "mse", "batch_size": -2}, "batch_size"),
    ({"loss": "mse", "learning_rate": -0.1}, "learning_rate"),
    ({"loss": "mse", "learning_rate": float("nan")}, "learning_rate"),
    ({"loss": "mse", "shuffle": "yes"}, "shuffle"),
    ({"loss": "mse", "verbose": 3}, "verbose"),
])
def test_bad_fit_arguments(model, training_data, kwargs, match):
    x, y = training_data
    with pytest.raises(SpiDNNConfigurationError, match=match):
        model.fit(x, y, **kwargs)


def test_bad_training_inputs(model, training_data):
    x, y = training_data
    x[2, 1] = numpy.nan
    with pytest.raises(SpiDNNConfigurationError, match="NaN"):
        model.fit(x, y, loss="mse", verbose=0)


@pytest.mark.parametrize("optimizer, match", [
    ("adafactor", "unknown optimizer 'adafactor'"),
    ("ftrl", "optimizer 'ftrl': spiDNN does not train with it"),
    (None, "unknown optimizer"),
])
def test_unknown_optimizer(model, optimizer, match):
    with pytest.raises(SpiDNNConfigurationError, match=match):
        model.compile(optimizer=optimizer, loss="mse")


def test_keras_losses_and_optimizers_are_understood(model):
    import keras
    model.compile(optimizer=keras.optimizers.SGD(0.25),
                  loss=keras.losses.CategoricalCrossentropy())
    assert model.loss == "categorical_crossentropy"
    assert model.optimizer.learning_rate == 0.25
    model.compile(loss=keras.losses.mean_squared_error)
    assert model.loss == "mean_squared_error"
    model.compile(loss=keras.losses.CategoricalCrossentropy(
        from_logits=True))
    assert model.loss.from_logits
    with pytest.raises(SpiDNNConfigurationError, match="ignore_class"):
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(
            ignore_class=0))


@pytest.mark.machine
def test_layer_that_fits_for_predict_but_not_for_training():
    """Training doubles a core's kernel (its gradient) and adds its
    outgoing weights: refused before anything is mapped."""
    model = spiDNN.Model().add(Input(784))
    model.add(Dense(20, neurons_per_core=10, weights_in="dtcm"))
    model.add(Dense(10))
    x = numpy.zeros((2, 784), dtype=numpy.float32)
    assert model.predict(x).shape == (2, 10)
    with pytest.raises(SpiDNNConfigurationError, match="DTCM.*to train"):
        model.fit(x, numpy.zeros((2, 10)), loss="mse", verbose=0)


def _lenet(weights_in):
    from spiDNN.layers import AveragePooling2D, Conv2D, Flatten
    model = spiDNN.Model().add(Input(28, 28, 1))
    model.add(Conv2D(6, 5, activation="tanh", padding="same"))
    model.add(AveragePooling2D(2))
    model.add(Conv2D(16, 5, activation="tanh", name="c5",
                     weights_in=weights_in))
    model.add(Flatten())
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


@pytest.mark.machine
def test_a_refusal_says_what_takes_the_space_and_what_would_fit():
    """LeNet-5's second convolution, its kernel kept in DTCM, trains with
    SGD but not with Adam: the refusal names the optimizer's state and
    the changes; by default its kernel then streams from SDRAM."""
    model = _lenet("dtcm")
    x = numpy.zeros((2, 28, 28, 1), dtype=numpy.float32)
    with pytest.raises(SpiDNNConfigurationError) as refused:
        model.fit(x, numpy.zeros(2), verbose=0)
    message = str(refused.value)
    assert message.startswith("layer c5 (16 output elements per core, "
                              "420 of its 1176 inputs) needs ")
    for part in ("9664 its kernel", "3360 its inputs", "the Adam "
                 "optimizer's state", "it would fit with SGD instead of "
                 "Adam (no optimizer state), or with weights_in='sdram'"):
        assert part in message
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, numpy.zeros(2), verbose=0)
    model = _lenet("auto")
    model.fit(x, numpy.zeros(2), verbose=0)
    assert [layer.streamed for layer in model.plan.layers
            if layer.name == "c5"] == [True]


def test_a_kernel_beyond_a_core_is_named():
    """Kept in DTCM, a kernel larger than a core is refused by name; by
    default it streams from SDRAM."""
    from spiDNN.layers import Conv2D
    model = spiDNN.Model().add(Input(13, 13, 32))
    with pytest.raises(SpiDNNConfigurationError,
                       match=r"73984 its kernel.*its kernel alone is more "
                             r"than a core holds; give it "
                             r"weights_in='sdram'"):
        model.add(Conv2D(64, 3, weights_in="dtcm"))
    model.add(Conv2D(64, 3))
    assert [layer.streamed for layer in model.plan.layers] == [True]
