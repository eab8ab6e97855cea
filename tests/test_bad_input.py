"""Bad models and inputs are refused with clear errors before any run."""
import numpy
import pytest

import spiDNN
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers import Dense, Input
from spiDNN.vertices import layouts

from conftest import spidnn_model


@pytest.fixture
def model():
    return spidnn_model(4, [(3, "relu"), (2, "softmax")])


def test_layer_too_big_for_a_core_is_refused():
    model = spiDNN.Model().add(Input(20_000))
    with pytest.raises(SpiDNNConfigurationError, match="DTCM"):
        model.add(Dense(1))


def test_too_many_neurons_per_core_is_refused():
    model = spiDNN.Model().add(Input(784))
    with pytest.raises(SpiDNNConfigurationError, match="neurons_per_core"):
        model.add(Dense(128, neurons_per_core=64))
    # The same layer fits at one neuron per core.
    model.add(Dense(128))
    assert layouts.dense_dtcm_bytes(1, 784, 128, False) <= (
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
    assert model.last_run is None


def test_unknown_activation():
    with pytest.raises(SpiDNNConfigurationError, match="unknown activation"):
        Dense(3, activation="swish")


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
    with pytest.raises(SpiDNNConfigurationError, match="at least one Dense"):
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
