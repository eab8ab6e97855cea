"""The losses spiDNN computes on the machine, by their Keras names, with
Keras' settings (``from_logits``, ``label_smoothing``, Huber's ``delta``,
``reduction``).

The loss app (``c_code/loss/``, formulas in ``c_code/common/losses.h``)
follows TensorFlow's Keras exactly, including one thing users rarely
notice: a cross-entropy whose model ends in a softmax or a sigmoid is
taken from that layer's logits (Keras carries them along with the
outputs, whatever ``from_logits`` says), so the output layer then sends
z and receives dL/dz.  With ``from_logits=True`` on any other output
(linear, as TensorFlow's tutorials write it) the loss takes the outputs
as logits.
"""
import numbers

import numpy

from spiDNN.arrays import check_finite, numeric_array
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.abi.layouts import LOSSES

MEAN_SQUARED_ERROR = "mean_squared_error"
CATEGORICAL_CROSSENTROPY = "categorical_crossentropy"
SPARSE_CATEGORICAL_CROSSENTROPY = "sparse_categorical_crossentropy"
BINARY_CROSSENTROPY = "binary_crossentropy"
HINGES = ("hinge", "squared_hinge")

#: Keras' short names (keras.losses.get's) of the losses.
_ALIASES = {"mse": MEAN_SQUARED_ERROR, "mae": "mean_absolute_error",
            "mape": "mean_absolute_percentage_error",
            "msle": "mean_squared_logarithmic_error", "kld": "kl_divergence",
            "bce": BINARY_CROSSENTROPY,
            **{name: name for name in LOSSES}}
#: Keras' loss classes, by class name, with their function's name.
_KERAS_CLASSES = {
    "MeanSquaredError": MEAN_SQUARED_ERROR,
    "CategoricalCrossentropy": CATEGORICAL_CROSSENTROPY,
    "SparseCategoricalCrossentropy": SPARSE_CATEGORICAL_CROSSENTROPY,
    "BinaryCrossentropy": BINARY_CROSSENTROPY,
    "MeanAbsoluteError": "mean_absolute_error",
    "MeanAbsolutePercentageError": "mean_absolute_percentage_error",
    "MeanSquaredLogarithmicError": "mean_squared_logarithmic_error",
    "Huber": "huber",
    "LogCosh": "log_cosh",
    "KLDivergence": "kl_divergence",
    "Poisson": "poisson",
    "Hinge": "hinge",
    "SquaredHinge": "squared_hinge",
    "CategoricalHinge": "categorical_hinge",
    "CosineSimilarity": "cosine_similarity",
}
_CROSSENTROPIES = (CATEGORICAL_CROSSENTROPY, SPARSE_CATEGORICAL_CROSSENTROPY,
                   BINARY_CROSSENTROPY)
_SMOOTHED = (CATEGORICAL_CROSSENTROPY, BINARY_CROSSENTROPY)
#: Losses that sum over the last axis rather than average each element:
#: spiDNN computes them over an output of one axis.
_OVER_LAST_AXIS = (CATEGORICAL_CROSSENTROPY, SPARSE_CATEGORICAL_CROSSENTROPY,
                   "kl_divergence", "categorical_hinge", "cosine_similarity")
#: Keras' reductions (keras/src/losses/loss.py standardize_reduction),
#: each computed as Keras 3 computes it (reduce_values): the batch's sum
#: of the weighted losses over the batch's size (sum_over_batch_size,
#: mean), over the batch's sum of sample weights (mean_with_sample_weight,
#: with weights; without, over the size), or the sum itself (sum).  Keras
#: trains a loss per sample (none, None) on its sum (TensorFlow's gradient
#: of a vector) and logs its mean.
REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight",
              "sum", "none", None)
#: The settings of a loss function's keyword arguments spiDNN computes.
_ARGUMENT_DEFAULTS = {"from_logits": False, "label_smoothing": 0.0,
                      "axis": -1, "ignore_class": None, "delta": 1.0}


class Loss(str):
    """A loss: its Keras function's name (the str itself, a LOSSES key)
    and its settings.  Two losses of one name with other settings compare
    equal as names; ``settings`` tells them apart."""

    def __new__(cls, name, from_logits=False, label_smoothing=0.0,
                delta=1.0, reduction="sum_over_batch_size"):
        loss = super().__new__(cls, name)
        loss.from_logits = bool(from_logits)
        loss.label_smoothing = float(label_smoothing)
        loss.delta = float(delta)
        loss.reduction = reduction
        return loss

    @property
    def settings(self):
        """The settings that differ from Keras' defaults, by name."""
        defaults = Loss(str(self))
        return {name: getattr(self, name) for name in (
            "from_logits", "label_smoothing", "delta", "reduction")
            if getattr(self, name) != getattr(defaults, name)}

    def describe(self):
        """The loss as a user would write it."""
        settings = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"{str(self)}({settings})" if settings else str(self)

    def to_keras(self):
        """Keras' loss of these settings: its name where it has none, else
        its loss object."""
        import keras
        if not self.settings:
            return str(self)
        kind = next(k for k, v in _KERAS_CLASSES.items() if v == self)
        arguments = dict(self.settings)
        return getattr(keras.losses, kind)(**arguments)


def get(identifier):
    """The :py:class:`Loss` of a loss given as a name, a :py:class:`Loss`,
    a Keras loss function or a Keras loss object."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in _ALIASES:
            return Loss(_ALIASES[identifier.lower()])
    elif callable(identifier):
        name = getattr(identifier, "__name__", None)
        if hasattr(identifier, "get_config") and not isinstance(
                identifier, type):
            return _keras_loss(identifier)
        if name in LOSSES and _is_keras(identifier):
            return Loss(name)
    raise SpiDNNConfigurationError(
        f"unknown loss {_shown(identifier)}; spiDNN computes "
        f"{', '.join(sorted(LOSSES))} on the machine (by these names, "
        f"Keras' short names {', '.join(sorted(set(_ALIASES) - set(LOSSES)))}"
        f", their Keras functions or their Keras classes "
        f"{', '.join(sorted(_KERAS_CLASSES))})")


def _is_keras(function):
    return getattr(function, "__module__", "").startswith("keras.")


def _shown(identifier):
    if isinstance(identifier, str) or identifier is None:
        return repr(identifier)
    return (type(identifier).__name__ if not callable(identifier)
            or hasattr(identifier, "get_config")
            else getattr(identifier, "__name__", repr(identifier)))


def _keras_loss(loss):
    """A Keras loss object's Loss: one of Keras' classes, as it is (not a
    subclass with its own ``call``), with settings spiDNN computes."""
    class_name = type(loss).__name__
    name = _KERAS_CLASSES.get(class_name)
    fn = getattr(loss, "fn", None)
    if name is None or not _is_keras(type(loss)) or getattr(
            fn, "__name__", None) != name:
        raise SpiDNNConfigurationError(
            f"unknown loss {_shown(loss)}; spiDNN computes Keras' "
            f"{', '.join(sorted(_KERAS_CLASSES))} (and their functions) on "
            f"the machine")
    arguments = dict(getattr(loss, "_fn_kwargs", {}))
    dtype = getattr(loss, "dtype", "float32")
    if dtype not in (None, "float32"):
        raise SpiDNNConfigurationError(
            f"Keras {class_name} with dtype={dtype!r}: spiDNN computes "
            f"losses in float32")
    for argument, value in arguments.items():
        if argument in ("from_logits", "label_smoothing", "delta"):
            continue
        if argument not in _ARGUMENT_DEFAULTS or (
                value != _ARGUMENT_DEFAULTS[argument]
                and not (argument == "axis" and value == 1)):
            raise SpiDNNConfigurationError(
                f"Keras {class_name} with {argument}={value!r}: spiDNN "
                f"computes it only with {argument}="
                f"{_ARGUMENT_DEFAULTS.get(argument)!r} (the outputs' last "
                f"axis)")
    return checked(name, class_name, reduction=loss.reduction, **{
        key: arguments[key] for key in ("from_logits", "label_smoothing",
                                        "delta") if key in arguments})


def checked(name, what, from_logits=False, label_smoothing=0.0, delta=1.0,
            reduction="sum_over_batch_size"):
    """The Loss ``name`` with these settings, each checked; ``what``
    names the loss in errors as the user wrote it."""
    if not isinstance(from_logits, (bool, numpy.bool_)):
        raise SpiDNNConfigurationError(
            f"{what}'s from_logits must be True or False, not "
            f"{from_logits!r}")
    if from_logits and name not in _CROSSENTROPIES:
        raise SpiDNNConfigurationError(
            f"{what} has no from_logits setting")
    smoothing = _real(label_smoothing, f"{what}'s label_smoothing")
    if smoothing and name not in _SMOOTHED:
        raise SpiDNNConfigurationError(
            f"{what} has no label_smoothing setting")
    if not 0.0 <= smoothing <= 1.0:
        raise SpiDNNConfigurationError(
            f"{what}'s label_smoothing must be in [0, 1], got {smoothing}")
    delta = _real(delta, f"{what}'s delta")
    if name == "huber" and not delta > 0:
        raise SpiDNNConfigurationError(
            f"{what}'s delta must be above 0, got {delta}")
    if not isinstance(reduction, (str, type(None))) or (
            reduction not in REDUCTIONS):
        raise SpiDNNConfigurationError(
            f"{what} with reduction={reduction!r}: Keras takes "
            f"{', '.join(map(repr, REDUCTIONS))}")
    return Loss(name, from_logits=from_logits, label_smoothing=smoothing,
                delta=delta, reduction=reduction)


def _real(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            not numpy.isfinite(value)):
        raise SpiDNNConfigurationError(
            f"{what} must be a finite number, not {value!r}")
    return float(value)


def takes_logits(loss, output_activation):
    """Whether Keras takes this loss from the output layer's logits (its
    z: the output layer then sends z)."""
    return loss in _CROSSENTROPIES and output_activation in (
        "softmax", "sigmoid")


def from_logits(loss, output_activation):
    """Whether the loss core takes what arrives as logits: the output
    layer's z, or outputs that ``from_logits=True`` says are logits."""
    return takes_logits(loss, output_activation) or getattr(
        loss, "from_logits", False)


def smoothing_fields(loss, n_outputs):
    """(keep, shift) of Keras' label smoothing, as float32 the way Keras
    computes them: y * float32(1 - s) + shift, shift float32(s) / classes
    (categorical) or float32(0.5 s) (binary); None without smoothing."""
    smoothing = getattr(loss, "label_smoothing", 0.0)
    if not smoothing:
        return None
    keep = numpy.float32(1.0 - smoothing)
    if loss == CATEGORICAL_CROSSENTROPY:
        shift = numpy.float32(smoothing) / numpy.float32(n_outputs)
    else:
        shift = numpy.float32(0.5 * smoothing)
    return float(keep), float(shift)


def check_output_shape(loss, shape, what):
    """A loss that reduces over the outputs' last axis only (a
    cross-entropy, KL divergence, categorical hinge, cosine similarity)
    needs an output of one axis: spiDNN's loss core takes all of it."""
    if loss in _OVER_LAST_AXIS and len(shape) > 1:
        raise SpiDNNConfigurationError(
            f"{what}: {loss} reduces over the last axis of an output of "
            f"shape {shape} in Keras; spiDNN computes it over an output of "
            f"one axis: add a Flatten (and a Dense) before the output, or "
            f"use a loss over each element")


def label_width(loss, n_outputs):
    """Values streamed per label: the class for sparse labels."""
    return 1 if loss == SPARSE_CATEGORICAL_CROSSENTROPY else n_outputs


def check_labels(loss, y, n_samples, n_outputs, what="labels"):
    """Labels as the words the labels source streams, (n_samples, width).

    Floats go as float32 bits; sparse classes as integers; the hinges'
    0/1 labels as Keras converts them, -1/1.  ``what`` names them in
    errors (an output's, of several).
    """
    array = numeric_array(y, what)
    if array.ndim == 0 or len(array) != n_samples:
        raise SpiDNNConfigurationError(
            f"there are {n_samples} input samples but "
            f"{array.shape[0] if array.ndim else 'no'} {what}")
    check_finite(array, what)
    if loss == SPARSE_CATEGORICAL_CROSSENTROPY:
        return _sparse_labels(array, n_outputs)
    if array.ndim == 1 and n_outputs == 1:
        array = array[:, None]
    if array.shape != (n_samples, n_outputs):
        hint = (" (integer class labels need "
                "sparse_categorical_crossentropy)"
                if loss == CATEGORICAL_CROSSENTROPY and array.ndim == 1
                else "")
        raise SpiDNNConfigurationError(
            f"{loss} needs labels of shape ({n_samples}, {n_outputs}) for a "
            f"model with {n_outputs} outputs, got {array.shape}{hint}")
    array = numpy.asarray(array, dtype=numpy.float32)
    if loss in HINGES:
        array = _hinge_labels(loss, array, what)
    return numpy.ascontiguousarray(array).view(numpy.uint32)


def _hinge_labels(loss, array, what):
    """Keras' convert_binary_labels_to_hinge: labels all 0 or 1 (in a
    batch) become -1 or 1.  It decides per batch; spiDNN decides for all
    the labels, which is the same where no batch can decide otherwise:
    all labels 0 or 1, or no label 0 (1 stays 1)."""
    if check_hinge_labels(loss, array, what):
        return numpy.float32(2.0) * array - numpy.float32(1.0)
    return array


def check_hinge_labels(name, array, what):
    """Whether labels for Keras' hinges are all 0 or 1 (which Keras turns
    into -1 and 1 batch by batch); a clear error where a batch could
    decide otherwise than the others (a 0 beside values other than 1).
    The hinge metrics' loss core decides per sample, the same wherever
    this passes."""
    array = numpy.asarray(array)
    if numpy.all(numpy.isin(array, (0.0, 1.0))):
        return True
    if numpy.any(array == 0.0):
        raise SpiDNNConfigurationError(
            f"{name} {what}: Keras turns labels 0 and 1 into -1 and 1 in "
            f"each batch whose labels are all 0 or 1, so these labels "
            f"(0 with values other than 1) give batches their own "
            f"labels; give labels -1 and 1, or all 0 and 1")
    return False


def _sparse_labels(array, n_outputs):
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise SpiDNNConfigurationError(
            f"{SPARSE_CATEGORICAL_CROSSENTROPY} needs one class per sample, "
            f"shape ({len(array)},), got {array.shape}")
    if not numpy.all(array == numpy.round(array)):
        raise SpiDNNConfigurationError(
            f"{SPARSE_CATEGORICAL_CROSSENTROPY} labels must be whole class "
            f"numbers")
    low, high = array.min(), array.max()
    if low < 0 or high >= n_outputs:
        raise SpiDNNConfigurationError(
            f"{SPARSE_CATEGORICAL_CROSSENTROPY} labels must be classes 0 to "
            f"{n_outputs - 1} for a model with {n_outputs} outputs, got "
            f"values from {low} to {high}")
    return array.astype(numpy.uint32)[:, None]
