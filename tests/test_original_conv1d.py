"""The original spiDNN's Conv1D usage still works, and gives Keras' numbers.

The prototype wrote ``Input(*shape)``, ``Conv1D(filters, (k,),
padding="same", stride=2, activation="relu")``, a Dense straight after the
convolution (Keras needs a Flatten there) and ``fit(x, y, loss, ...)``
with the loss positional.  Also: bad convolutional models are refused with
SpiDNNConfigurationError.
"""
import numpy
import pytest

import spiDNN
from spiDNN.layers import Conv1D, Dense, Input

from conftest import keras_train
from conv_oracle import (
    PREDICT_TOLERANCE, TRAIN_TOLERANCE, assert_weights_equal, max_abs_diff)


def keras_reference(seed=0):
    import keras
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((10, 2)),
        keras.layers.Conv1D(2, 3, padding="same", strides=2,
                            activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax")])
    rng = numpy.random.default_rng(seed)
    model.set_weights([w if w.ndim > 1 else
                       rng.normal(0, 0.1, w.shape).astype(w.dtype)
                       for w in model.get_weights()])
    return model


def original_model():
    model = spiDNN.Model(seed=0)
    model.add(Input(10, 2))
    model.add(Conv1D(2, (3,), padding="same", stride=2, activation="relu"))
    model.add(Dense(3, activation="softmax"))
    return model


def data(n, seed=0):
    rng = numpy.random.default_rng(seed)
    x = rng.normal(size=(n, 10, 2)).astype(numpy.float32)
    classes = (x[:, :, 0].sum(1) > 0).astype(int) + (
        x[:, :, 1].sum(1) > 1).astype(int)
    return x, numpy.eye(3, dtype=numpy.float32)[classes]


@pytest.mark.machine
def test_original_usage_one_batch_per_epoch():
    """fit as the prototype called it (it shuffles by default): with one
    batch of 3 per epoch the order cannot change the update."""
    x, y = data(3)
    reference = keras_reference()
    initial = reference.get_weights()
    model = original_model()
    model.set_weights(initial)
    assert max_abs_diff(model.predict(x), reference.predict(x, verbose=0)) \
        <= PREDICT_TOLERANCE
    history = model.fit(x, y, "categorical_crossentropy", epochs=2,
                        batch_size=3, learning_rate=0.1)
    keras_losses = keras_train(reference, x, y, "categorical_crossentropy",
                               0.1, 2, 3)
    assert_weights_equal(model, reference)
    for ours, theirs in zip(history.sample_losses, keras_losses):
        numpy.testing.assert_allclose(numpy.sort(ours), numpy.sort(theirs),
                                      rtol=0, atol=TRAIN_TOLERANCE)
    moved = max(max_abs_diff(a, b)
                for a, b in zip(model.get_weights(), initial))
    assert moved > 100 * TRAIN_TOLERANCE
    assert max_abs_diff(model.predict(x), reference.predict(x, verbose=0)) \
        <= PREDICT_TOLERANCE


@pytest.mark.machine
def test_original_usage_in_order():
    """The same call on 20 samples in batches of 3 (the last one short),
    without shuffling: Keras' weights and losses step by step."""
    x, y = data(20, seed=1)
    reference = keras_reference(seed=1)
    initial = reference.get_weights()
    model = original_model()
    model.set_weights(initial)
    history = model.fit(x, y, "categorical_crossentropy", epochs=2,
                        batch_size=3, learning_rate=0.1, shuffle=False)
    keras_losses = keras_train(reference, x, y, "categorical_crossentropy",
                               0.1, 2, 3)
    assert_weights_equal(model, reference)
    for ours, theirs in zip(history.sample_losses, keras_losses):
        numpy.testing.assert_allclose(ours, theirs, rtol=0,
                                      atol=TRAIN_TOLERANCE)
    moved = max(max_abs_diff(a, b)
                for a, b in zip(model.get_weights(), initial))
    assert moved > 100 * TRAIN_TOLERANCE
    x_test, _ = data(15, seed=2)
    assert max_abs_diff(model.predict(x_test),
                        reference.predict(x_test, verbose=0)) \
        <= PREDICT_TOLERANCE


@pytest.mark.machine
def test_original_model_shapes():
    model = original_model()
    kernel, bias, dense_kernel, dense_bias = model.get_weights()
    assert kernel.shape == (3, 2, 2) and bias.shape == (2,)
    # "same" with stride 2 on 10 steps: 5 positions of 2 filters.
    assert dense_kernel.shape == (10, 3) and dense_bias.shape == (3,)
    assert model.predict(data(4)[0]).shape == (4, 3)


# ----------------------------------------------------------------- errors
Error = spiDNN.SpiDNNConfigurationError


def _conv2d(*args, **kwargs):
    return spiDNN.layers.Conv2D(*args, **kwargs)


@pytest.mark.parametrize("filters", [0, -1, 2.5])
def test_bad_filter_counts(filters):
    with pytest.raises(Error):
        spiDNN.Model().add(Input(6, 6, 1)).add(_conv2d(filters, 3))


@pytest.mark.parametrize("input_shape, make", [
    ((5, 5, 1), lambda: _conv2d(2, 7)),
    ((5, 5, 1), lambda: _conv2d(2, (3, 6))),
    ((4, 1), lambda: Conv1D(2, 5)),
])
def test_kernel_larger_than_input_under_valid_padding(input_shape, make):
    model = spiDNN.Model().add(Input(*input_shape))
    conv = make()          # the layer alone cannot know its input
    with pytest.raises(Error):
        model.add(conv)


@pytest.mark.machine
def test_kernel_larger_than_input_is_fine_with_same_padding():
    model = spiDNN.Model().add(Input(5, 5, 1))
    model.add(_conv2d(2, 7, padding="same"))
    model.add(Dense(2))
    assert model.predict(numpy.ones((1, 5, 5, 1))).shape == (1, 2)


@pytest.mark.parametrize("neurons_per_core", [1, 2, 3, 6, 10])
def test_neurons_per_core_not_a_multiple_of_filters(neurons_per_core):
    """A core computes whole output positions."""
    with pytest.raises(Error, match="multiple of its 4 output channels"):
        spiDNN.Model().add(Input(6, 6, 1)).add(
            _conv2d(4, 3, neurons_per_core=neurons_per_core))


@pytest.mark.parametrize("neurons_per_core", [4, 8, 12, 1000])
def test_neurons_per_core_multiple_of_filters(neurons_per_core):
    model = spiDNN.Model().add(Input(6, 6, 1)).add(
        _conv2d(4, 3, neurons_per_core=neurons_per_core))
    assert model.plan.layers[0].n_cores == -(-64 // min(neurons_per_core,
                                                       64))


def test_a_conv_covering_its_input_slices_filters_freely():
    """One output position: it runs as a Dense layer, any slice."""
    model = spiDNN.Model().add(Input(6, 6, 1)).add(
        _conv2d(4, 6, neurons_per_core=3))
    assert model.plan.layers[0].n_cores == 2


def test_pooling_neurons_per_core_follows_its_channels():
    model = spiDNN.Model().add(Input(6, 6, 1)).add(_conv2d(4, 3))
    with pytest.raises(Error):
        model.add(spiDNN.layers.MaxPooling2D(2, neurons_per_core=2))
    model.add(spiDNN.layers.MaxPooling2D(2, neurons_per_core=8))


@pytest.mark.parametrize("input_shape, conv", [
    ((6, 6, 1), "Conv2D"), ((6, 1), "Conv1D")])
def test_softmax_on_a_convolution_spans_each_positions_channels(
        input_shape, conv):
    """Keras' softmax on a convolution is over the channels of each
    position (tests/test_conv_matches_keras.py trains it); over the whole
    input (one position, the dense app) it is the whole layer's."""
    model = spiDNN.Model().add(Input(*input_shape))
    layer = getattr(spiDNN.layers, conv)(2, 3, activation="softmax")
    model.add(layer)
    assert layer.softmax_span == 2
    whole = spiDNN.Model().add(Input(3, 1))
    one_position = spiDNN.layers.Conv1D(4, 3, activation="softmax")
    whole.add(one_position)
    assert one_position.is_fully_connected
    assert one_position.softmax_span is None
