"""predict on the virtual machine equals Keras' predict (max |diff| <= 1e-5)."""
import numpy
import pytest

from conftest import keras_model, spidnn_model, upscale_to_mnist

TOLERANCE = 1e-5


def assert_matches_keras(n_inputs, spec, x, neurons_per_core=1):
    kmodel = keras_model(n_inputs, spec)
    expected = kmodel.predict(x, verbose=0)
    model = spidnn_model(n_inputs, spec, neurons_per_core,
                         kmodel.get_weights())
    got = model.predict(x)
    assert got.shape == expected.shape
    assert numpy.max(numpy.abs(got - expected)) <= TOLERANCE
    return model, got


def test_original_deep_mixed_activations():
    spec = [(50, "relu"), (50, "softmax"), (300, "tanh"), (50, "sigmoid"),
            (25, None)]
    x = numpy.random.default_rng(1).normal(size=(20, 10)).astype("float32")
    model, _ = assert_matches_keras(10, spec, x)
    assert model.last_run.cores == 50 + 50 + 300 + 50 + 25
    assert model.last_run.packets_dropped == 0


def test_digits_mlp(digits):
    x, _ = digits
    spec = [(128, None), (128, "relu"), (10, "softmax")]
    assert_matches_keras(64, spec, x[:50])


def test_single_dense_layer():
    x = numpy.random.default_rng(2).uniform(-2, 2, (30, 7)).astype("float32")
    assert_matches_keras(7, [(3, "sigmoid")], x)


def test_mnist_sized_mlp_on_100_inputs(digits):
    x = upscale_to_mnist(digits[0][:100])
    model, _ = assert_matches_keras(784, [(128, "relu"), (10, "softmax")], x)
    report = model.last_run
    assert report.samples == 100
    assert report.cores == 138 and report.chips >= 138 // 17
    # Forward: one packet per neuron (and input) per sample, plus the
    # softmax layer's sideways exchange.
    assert report.packets_sent == 100 * (784 + 128 + 2 * 10)


@pytest.mark.parametrize("neurons_per_core", [4, 7])
def test_neurons_per_core_gives_the_same_predictions(neurons_per_core):
    spec = [(20, "tanh"), (10, "softmax")]
    x = numpy.random.default_rng(3).normal(size=(15, 12)).astype("float32")
    _, one_per_core = assert_matches_keras(12, spec, x, 1)
    model, packed = assert_matches_keras(12, spec, x, neurons_per_core)
    numpy.testing.assert_array_equal(packed, one_per_core)
    assert model.last_run.cores == -(-20 // neurons_per_core) + -(
        -10 // neurons_per_core)
