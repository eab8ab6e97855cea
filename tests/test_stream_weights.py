"""Sample weights through streamed data, against Keras' own fit and
evaluate: ``(x, y, sample_weight)`` elements of a tf.data.Dataset, a
PyDataset and a generator (training and validation), ``class_weight``
with a dataset and a PyDataset (Keras' data adapters turn it into each
sample's weight), weighted streamed evaluate; what Keras refuses, or
what the loss cores cannot take once set up, refused by name."""
import keras
import numpy
import pytest
import tensorflow as tf

from spiDNN.errors import SpiDNNConfigurationError
from test_data_sources import (
    X, X_VAL, Y, Y_VAL, TOLERANCE, assert_same_run, pair)

RNG = numpy.random.default_rng(33)
W = RNG.uniform(0.0, 3.0, len(X)).astype(numpy.float32)
W_VAL = RNG.uniform(0.0, 3.0, len(X_VAL)).astype(numpy.float32)
CLASS_WEIGHT = {0: 0.5, 2: 2.5}


class WeightedBatches(keras.utils.PyDataset):
    """A PyDataset of (x, y, sample_weight) batches."""

    def __init__(self, x, y, w, batch_size):
        super().__init__()
        self.x, self.y, self.w, self.batch_size = x, y, w, batch_size

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if self.w is None:
            return self.x[rows], self.y[rows]
        return self.x[rows], self.y[rows], self.w[rows]


def weighted_generator(batch_size, x=X, y=Y, w=W):
    for lo in range(0, len(x) - batch_size + 1, batch_size):
        yield x[lo:lo + batch_size], y[lo:lo + batch_size], w[
            lo:lo + batch_size]


def dataset(x, y, w, batch_size):
    parts = (x, y) if w is None else (x, y, w)
    return tf.data.Dataset.from_tensor_slices(parts).batch(batch_size)


def fit_both(data, validation=None, **kwargs):
    """Fits spiDNN's model and Keras' on fresh sources from ``data()``
    (and ``validation()``); their runs must agree."""
    model, reference = pair()
    runs = [one.fit(data(), verbose=0, shuffle=False,
                    validation_data=None if validation is None
                    else validation(), **kwargs)
            for one in (model, reference)]
    assert_same_run(model, reference, *runs)
    return model, reference, runs[0]


@pytest.mark.parametrize("source", ["dataset", "py_dataset", "generator"])
def test_weighted_elements_train_and_validate_as_keras(source):
    make = {
        "dataset": lambda: dataset(X, Y, W, 16),
        "py_dataset": lambda: WeightedBatches(X, Y, W, 16),
        "generator": lambda: weighted_generator(15),
    }[source]
    _, _, history = fit_both(make, epochs=2,
                             validation=lambda: dataset(X_VAL, Y_VAL,
                                                        W_VAL, 8))
    # The weights changed the run: unweighted, the losses differ.
    _, _, unweighted = fit_both(lambda: dataset(X, Y, None, 16), epochs=2)
    assert abs(history.history["loss"][0]
               - unweighted.history["loss"][0]) > 1e-3


def test_weighted_validation_stream_with_unweighted_training():
    """The validation elements' weights set the loss cores up weighted;
    the training stream's samples weigh 1, as Keras'."""
    fit_both(lambda: dataset(X, Y, None, 20), epochs=2,
             validation=lambda: WeightedBatches(X_VAL, Y_VAL, W_VAL, 8))


def test_weighted_validation_triple_beside_a_stream():
    fit_both(lambda: dataset(X, Y, None, 20), epochs=2,
             validation=lambda: (X_VAL, Y_VAL, W_VAL))


@pytest.mark.parametrize("source", ["dataset", "py_dataset"])
def test_class_weight_of_a_stream_as_keras(source):
    make = {
        "dataset": lambda: dataset(X, Y, None, 16),
        "py_dataset": lambda: WeightedBatches(X, Y, None, 16),
    }[source]
    fit_both(make, epochs=2, class_weight=CLASS_WEIGHT,
             validation=lambda: dataset(X_VAL, Y_VAL, None, 10))


def test_weighted_streamed_evaluate_and_steps_as_keras():
    model, reference = pair()
    for steps in (None, 2):
        numpy.testing.assert_allclose(
            model.evaluate(dataset(X, Y, W, 16), steps=steps, verbose=0),
            reference.evaluate(dataset(X, Y, W, 16), steps=steps,
                               verbose=0), atol=TOLERANCE)


def test_steps_with_sample_weight_of_arrays_as_keras():
    model, reference = pair()
    kwargs = dict(epochs=2, steps_per_epoch=3, sample_weight=W,
                  validation_data=(X_VAL, Y_VAL, W_VAL), validation_steps=2,
                  validation_batch_size=5, shuffle=False, verbose=0)
    assert_same_run(model, reference, model.fit(X, Y, **kwargs),
                    reference.fit(X, Y, **kwargs))
    numpy.testing.assert_allclose(
        model.evaluate(X, Y, sample_weight=W, steps=2, verbose=0),
        reference.evaluate(X, Y, sample_weight=W, steps=2, verbose=0),
        atol=TOLERANCE)


def test_keras_refuses_sample_weight_beside_a_dataset_too():
    """The oracle for refusing sample_weight= with a streamed x."""
    _, reference = pair()
    with pytest.raises(ValueError, match="sample_weight"):
        reference.fit(dataset(X, Y, None, 16), sample_weight=W, verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        reference.fit(weighted_generator(15), class_weight=CLASS_WEIGHT,
                      verbose=0)


def _unweighted_then_weighted():
    yield X[:15], Y[:15]
    yield X[15:30], Y[15:30], W[15:30]


@pytest.mark.parametrize("call, match", [
    (lambda m: m.fit(dataset(X, Y, None, 16), sample_weight=W),
     "fit: sample_weight with x a tf.data.Dataset: its elements carry"),
    (lambda m: m.evaluate(WeightedBatches(X, Y, None, 16), sample_weight=W),
     "evaluate: sample_weight with x a PyDataset"),
    (lambda m: m.fit(weighted_generator(15), class_weight=CLASS_WEIGHT),
     "class_weight with x a generator"),
    (lambda m: m.fit(dataset(X, Y, W, 16), class_weight=CLASS_WEIGHT),
     "class_weight with x a tf.data.Dataset whose elements are"),
    (lambda m: m.fit(_unweighted_then_weighted()),
     "after a first element .* without weights"),
    (lambda m: m.fit(dataset(X, Y, W[:, None, None], 16)),
     "x's sample weights .*must hold one weight per sample"),
], ids=["sample-weight", "evaluate-sample-weight", "generator-class-weight",
        "both", "late-weights", "weights-shape"])
def test_weights_a_stream_cannot_take_are_refused_by_name(call, match):
    model, _ = pair()
    with pytest.raises(SpiDNNConfigurationError, match=match):
        call(model)
