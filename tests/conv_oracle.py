"""Keras as the oracle for spiDNN's convolutional models.

A model is described once, as a list of :func:`layer` specs naming a layer
class that ``keras.layers`` and ``spiDNN.layers`` both have, with the same
arguments; the same list builds the Keras model and the spiDNN model.
"""
import numpy

import spiDNN

from conftest import keras_train

PREDICT_TOLERANCE = 1e-5
TRAIN_TOLERANCE = 1e-4


class LayerSpec:
    """One layer: ``name(*args, **kwargs)`` in both libraries.

    :param neurons_per_core: passed to the spiDNN layer only
    :param keras_only: the layer exists only in the Keras model (a Flatten
        that spiDNN does implicitly)
    """

    def __init__(self, name, args, kwargs, neurons_per_core=None,
                 keras_only=False):
        self.name = name
        self.args = args
        self.kwargs = kwargs
        self.neurons_per_core = neurons_per_core
        self.keras_only = keras_only

    def keras_layer(self):
        import keras
        return getattr(keras.layers, self.name)(*self.args, **self.kwargs)

    def spidnn_layer(self):
        kwargs = dict(self.kwargs)
        if self.neurons_per_core is not None:
            kwargs["neurons_per_core"] = self.neurons_per_core
        return getattr(spiDNN.layers, self.name)(*self.args, **kwargs)

    def __repr__(self):
        args = [repr(a) for a in self.args] + [
            f"{k}={v!r}" for k, v in self.kwargs.items()]
        if self.neurons_per_core is not None:
            args.append(f"neurons_per_core={self.neurons_per_core}")
        text = f"{self.name}({', '.join(args)})"
        return f"[keras only] {text}" if self.keras_only else text


def layer(name, *args, neurons_per_core=None, keras_only=False, **kwargs):
    return LayerSpec(name, args, kwargs, neurons_per_core, keras_only)


def implicit_flatten():
    """A Flatten in the Keras model that the spiDNN model leaves out."""
    return layer("Flatten", keras_only=True)


def keras_model(input_shape, specs, seed=0, bias_scale=0.1, bias_shift=0.0):
    """The Keras model, with Keras' initial kernels and small random
    biases (so that the biases' part of predict is tested too)."""
    import keras
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input(tuple(input_shape))]
        + [spec.keras_layer() for spec in specs])
    rng = numpy.random.default_rng(seed + 1000)
    weights = [
        (w if w.ndim > 1 else
         (rng.normal(0, bias_scale, w.shape) + bias_shift).astype(w.dtype))
        for w in model.get_weights()]
    model.set_weights(weights)
    return model


def spidnn_model(input_shape, specs, weights=None):
    """The same model in spiDNN (Keras-only layers left out)."""
    from spiDNN.layers import Input
    model = spiDNN.Model(seed=0)
    model.add(Input(*input_shape))
    for spec in specs:
        if not spec.keras_only:
            model.add(spec.spidnn_layer())
    if weights is not None:
        model.set_weights(weights)
    return model


def random_inputs(n, input_shape, seed):
    rng = numpy.random.default_rng(seed)
    return rng.normal(size=(n, *input_shape)).astype(numpy.float32)


def teacher_labels(x, n_outputs, loss, seed):
    """Labels a random linear teacher gives x: learnable, not random."""
    rng = numpy.random.default_rng(seed + 7)
    flat = x.reshape(len(x), -1).astype(numpy.float64)
    projection = rng.normal(size=(flat.shape[1], n_outputs))
    scores = flat @ projection / numpy.sqrt(flat.shape[1])
    if loss == "sparse_categorical_crossentropy":
        return scores.argmax(1).astype(numpy.int64)
    if loss == "categorical_crossentropy":
        return numpy.eye(n_outputs, dtype=numpy.float32)[scores.argmax(1)]
    if loss == "binary_crossentropy":
        return (scores > numpy.median(scores, axis=0)).astype(numpy.float32)
    return numpy.tanh(scores).astype(numpy.float32)


def max_abs_diff(a, b):
    return float(numpy.max(numpy.abs(numpy.asarray(a, numpy.float64)
                                     - numpy.asarray(b, numpy.float64))))


def assert_predicts_like_keras(model, reference, x):
    expected = reference.predict(x, verbose=0)
    got = model.predict(x)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert got.dtype == numpy.float32
    diff = max_abs_diff(got, expected)
    assert diff <= PREDICT_TOLERANCE, f"predict differs by {diff}"
    return got


def assert_weights_equal(model, reference, tolerance=TRAIN_TOLERANCE):
    ours, theirs = model.get_weights(), reference.get_weights()
    assert len(ours) == len(theirs)
    for index, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, (index, a.shape, b.shape)
        diff = max_abs_diff(a, b)
        assert diff <= tolerance, (
            f"weight array {index} (shape {b.shape}) differs from Keras' "
            f"by {diff} (at "
            f"{numpy.unravel_index(numpy.argmax(numpy.abs(a - b)), b.shape)})")


def assert_trains_like_keras(input_shape, specs, x, y, loss, batch_size,
                             learning_rate, epochs=2, seed=0,
                             bias_shift=0.0, check_predict=True,
                             adjust_weights=None):
    """predict before training equals Keras' (1e-5); after ``epochs`` of
    SGD without shuffling the weights and each sample's loss equal
    Keras' (1e-4), and the weights moved."""
    reference = keras_model(input_shape, specs, seed=seed,
                            bias_shift=bias_shift)
    if adjust_weights is not None:
        reference.set_weights(adjust_weights(reference.get_weights()))
    initial = reference.get_weights()
    model = spidnn_model(input_shape, specs, initial)
    if check_predict:
        assert_predicts_like_keras(model, reference, x)
    history = model.fit(x, y, loss=loss, epochs=epochs,
                        batch_size=batch_size, learning_rate=learning_rate,
                        shuffle=False, verbose=0)
    keras_losses = keras_train(reference, x, y, loss, learning_rate,
                               epochs, batch_size)
    assert_weights_equal(model, reference)
    assert len(history.sample_losses) == epochs
    for epoch, (ours, theirs) in enumerate(
            zip(history.sample_losses, keras_losses)):
        assert numpy.shape(ours) == theirs.shape
        diff = max_abs_diff(ours, theirs)
        assert diff <= TRAIN_TOLERANCE, (
            f"epoch {epoch}: sample losses differ from Keras' by {diff}")
    # The weights must have moved, or the comparison proves nothing.
    moved = [max_abs_diff(a, b) for a, b in zip(model.get_weights(), initial)]
    assert max(moved) > 100 * TRAIN_TOLERANCE, f"weights moved only {moved}"
    # ... and every array of them, convolution kernels included.
    assert min(moved) > 10 * TRAIN_TOLERANCE, f"weights moved only {moved}"
    return model, reference
