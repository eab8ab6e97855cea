"""The losses spiDNN computes on the machine, by their Keras names.

The loss app (``c_code/loss/``, formulas in ``c_code/common/losses.h``)
follows TensorFlow's Keras exactly, including one thing users rarely
notice: a cross-entropy whose model ends in a softmax or a sigmoid is
taken from that layer's logits (Keras carries them along with the
outputs), so the output layer then sends z and receives dL/dz.
"""
import numpy

from spiDNN.arrays import check_finite, numeric_array
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.keras.settings import first_unsupported
from spiDNN.abi.layouts import LOSSES

MEAN_SQUARED_ERROR = "mean_squared_error"
CATEGORICAL_CROSSENTROPY = "categorical_crossentropy"
SPARSE_CATEGORICAL_CROSSENTROPY = "sparse_categorical_crossentropy"
BINARY_CROSSENTROPY = "binary_crossentropy"

_ALIASES = {"mse": MEAN_SQUARED_ERROR, **{name: name for name in LOSSES}}
#: Keras' loss classes, by class name, with their function's name.
_KERAS_CLASSES = {
    "MeanSquaredError": MEAN_SQUARED_ERROR,
    "CategoricalCrossentropy": CATEGORICAL_CROSSENTROPY,
    "SparseCategoricalCrossentropy": SPARSE_CATEGORICAL_CROSSENTROPY,
    "BinaryCrossentropy": BINARY_CROSSENTROPY,
}
#: Keras loss settings and the values spiDNN computes (the mean over the
#: batch, probabilities in, no smoothing or ignored class).
_KERAS_LOSS_DEFAULTS = {"reduction": "sum_over_batch_size",
                        "from_logits": False, "label_smoothing": 0.0,
                        "ignore_class": None, "axis": -1}
_CROSSENTROPIES = (CATEGORICAL_CROSSENTROPY, SPARSE_CATEGORICAL_CROSSENTROPY,
                   BINARY_CROSSENTROPY)


def get(identifier):
    """The Keras name of a loss given as a name, a Keras loss function or a
    Keras loss object with default settings."""
    name = identifier
    if callable(identifier) and not isinstance(identifier, str):
        name = _keras_loss_name(identifier)
    if isinstance(name, str) and name.lower() in _ALIASES:
        return _ALIASES[name.lower()]
    raise SpiDNNConfigurationError(
        f"unknown loss {identifier!r}; spiDNN computes "
        f"{sorted(_ALIASES)} on the machine")


def _keras_loss_name(loss):
    class_name = type(loss).__name__
    if class_name in _KERAS_CLASSES:
        config = loss.get_config() if hasattr(loss, "get_config") else {}
        unsupported = first_unsupported(
            config, _KERAS_LOSS_DEFAULTS, ("name",))
        if unsupported:
            name, value = unsupported
            raise SpiDNNConfigurationError(
                f"Keras {class_name} with {name}={value!r}: spiDNN "
                f"computes it only with {name}="
                f"{_KERAS_LOSS_DEFAULTS.get(name)!r}")
        return _KERAS_CLASSES[class_name]
    return getattr(loss, "__name__", None)


def takes_logits(loss, output_activation):
    """Whether Keras takes this loss from the output layer's logits."""
    return loss in _CROSSENTROPIES and output_activation in (
        "softmax", "sigmoid")


def label_width(loss, n_outputs):
    """Values streamed per label: the class for sparse labels."""
    return 1 if loss == SPARSE_CATEGORICAL_CROSSENTROPY else n_outputs


def check_labels(loss, y, n_samples, n_outputs, what="labels"):
    """Labels as the words the labels source streams, (n_samples, width).

    Floats go as float32 bits; sparse classes as integers.  ``what``
    names them in errors (an output's, of several).
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
    return numpy.ascontiguousarray(array, dtype=numpy.float32).view(
        numpy.uint32)


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
