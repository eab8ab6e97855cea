"""``fit``'s ``sample_weight`` and ``class_weight`` and ``evaluate``'s
``sample_weight``, as Keras 3 takes them: one weight per sample (an array
for all outputs, or a list or dict with one per output), or a weight per
class turned into each sample's weight
(keras/src/trainers/data_adapters/data_adapter_utils.py
class_weight_to_sample_weights).  Each weight streams to the loss core as
the label's last word; the core multiplies the sample's loss and gradient
by it (Keras' reduce_weighted_values; the loss's reduction then divides
the batch's sum: ``sum_over_batch_size`` by the batch's size,
``mean_with_sample_weight`` by the weights' sum, which the host streams
after each weight: spiDNN.training.outputs).  Keras' compiled
``metrics`` stay unweighted (only ``weighted_metrics`` take the weights).
"""
import numbers

import numpy

from spiDNN.arrays import check_finite, numeric_array
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.training.outputs import per_output


def per_sample(sample_weight, class_weight, labels, names, n_samples,
               what="sample_weight"):
    """Each output's float32 weights (n_samples,), or None without any.

    :param labels: each output's labels as the user gave them
    :param names: the outputs' names (one None for a model of one)
    """
    if sample_weight is not None and class_weight is not None:
        raise SpiDNNConfigurationError(
            "fit takes sample_weight or class_weight, not both (as Keras)")
    if class_weight is not None:
        if len(names) > 1:
            raise SpiDNNConfigurationError(
                f"class_weight is only for a model of one output (as "
                f"Keras); this one has {len(names)}: give sample_weight per "
                f"output instead")
        return [from_classes(class_weight, labels[0], n_samples)]
    if sample_weight is None:
        return None
    # A list is one weight per sample for a model of one output, and
    # one array per output for a model of several (as Keras).
    several = isinstance(sample_weight, dict) or (
        isinstance(sample_weight, (list, tuple)) and len(names) > 1)
    given = (per_output(sample_weight, names, what) if several
             else [sample_weight] * len(names))
    return [_checked(one, n_samples, what if name is None
                     else f"{what} of {name}")
            for name, one in zip(names, given)]


def _checked(weights, n_samples, what):
    array = numeric_array(weights, what)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) != n_samples:
        raise SpiDNNConfigurationError(
            f"{what} must hold one weight per sample, shape "
            f"({n_samples},) or ({n_samples}, 1), got {array.shape}")
    check_finite(array, what)
    return array.astype(numpy.float32)


def from_classes(class_weight, y, n_samples):
    """Keras' class_weight_to_sample_weights: each sample's class (the
    argmax of a one-hot label, else the label rounded) looked up in
    ``class_weight``, 1.0 for classes it leaves out."""
    if not isinstance(class_weight, dict):
        raise SpiDNNConfigurationError(
            f"class_weight must be a dict from class to weight, not "
            f"{type(class_weight).__name__}")
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral):
            raise SpiDNNConfigurationError(
                f"class_weight's classes are whole numbers, not {key!r}")
        if isinstance(value, bool) or not isinstance(
                value, numbers.Real) or not numpy.isfinite(value):
            raise SpiDNNConfigurationError(
                f"class_weight for class {key}: a finite number, not "
                f"{value!r}")
    labels = numeric_array(y, "labels")
    if labels.ndim > 1:
        labels = (numpy.argmax(labels, axis=-1) if labels.shape[-1] != 1
                  else numpy.squeeze(labels, axis=-1))
    labels = numpy.round(labels).astype(numpy.int32).reshape(-1)
    if len(labels) != n_samples:
        raise SpiDNNConfigurationError(
            f"there are {n_samples} input samples but {len(labels)} labels")
    weights = numpy.ones(n_samples, dtype=numpy.float32)
    for i, label in enumerate(labels):
        weights[i] = class_weight.get(int(label), 1.0)
    return weights


def appended(words, weights):
    """A label's words (n, width) with each sample's weight as float32
    bits after them; weights None: 1.0 (a weighted loss core's other
    streams, validation without weights, say)."""
    if weights is None:
        weights = numpy.ones(len(words), dtype=numpy.float32)
    column = numpy.ascontiguousarray(weights, numpy.float32).view(
        numpy.uint32)[:, None]
    return numpy.ascontiguousarray(numpy.concatenate(
        [words, column], axis=1))

