"""Metrics the loss core computes beside the loss (c_code/common/metrics.h):
Keras' accuracies, by the names Keras gives them in History."""
from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.abi.layouts import METRICS

#: The loss a metric needs the labels of: sparse accuracy reads a class
#: index, the others a vector of values.
_SPARSE = {"sparse_categorical_accuracy"}


def resolve(metrics, loss, label_rank, n_outputs):
    """[(History name, metric kind)] of ``compile(metrics=...)``.

    :param loss: the Keras loss name the run trains with
    :param label_rank: dimensions of the labels the user gave (``y.ndim``)
    """
    if metrics is None:
        return []
    if isinstance(metrics, (str, dict)) or not hasattr(metrics, "__iter__"):
        metrics = [metrics]
    resolved = []
    for metric in metrics:
        name, kind = _one(metric, loss, label_rank, n_outputs)
        sparse_labels = loss == "sparse_categorical_crossentropy"
        if (kind in _SPARSE) != sparse_labels:
            raise SpiDNNConfigurationError(
                f"metric {name!r} ({kind}) needs "
                f"{'class indices' if kind in _SPARSE else 'label vectors'}"
                f" as labels, but {loss} trains on "
                f"{'class indices' if sparse_labels else 'label vectors'}")
        if any(kind == other for _, other in resolved):
            raise SpiDNNConfigurationError(
                f"metric {name!r} is asked for twice")
        resolved.append((name, kind))
    return resolved


def _one(metric, loss, label_rank, n_outputs):
    if isinstance(metric, str):
        if metric.lower() in ("accuracy", "acc"):
            # Keras' choice: binary for one output, sparse when the labels
            # have fewer dimensions than the outputs, else categorical.
            if n_outputs == 1:
                return metric, "binary_accuracy"
            if label_rank < 2 or loss == "sparse_categorical_crossentropy":
                return metric, "sparse_categorical_accuracy"
            return metric, "categorical_accuracy"
        if metric in METRICS:
            return metric, metric
    else:
        # A Keras metric object of a kind the cores compute, at its
        # defaults (a threshold other than 0.5 is not computed).
        kind = _KERAS_CLASSES.get(type(metric).__name__)
        config = metric.get_config() if hasattr(metric, "get_config") else {}
        if kind is not None and config.get("threshold", 0.5) == 0.5:
            return config.get("name", kind), kind
    shown = repr(metric) if isinstance(metric, str) else (
        f"{type(metric).__name__}({getattr(metric, 'name', '')!r})")
    raise SpiDNNConfigurationError(
        f"metric {shown}: the cores compute "
        f"{', '.join(['accuracy'] + sorted(METRICS))}")


_KERAS_CLASSES = {
    "SparseCategoricalAccuracy": "sparse_categorical_accuracy",
    "CategoricalAccuracy": "categorical_accuracy",
    "BinaryAccuracy": "binary_accuracy",
}
