"""A model's outputs as training sees them, as Keras 3 reads ``compile``:
each output's loss, its weight in the total loss and its metrics, from
one value for all, a list in the outputs' order or a dict by output name;
the labels of each output from ``y``; the names and order of the logs.

Keras' total loss is the sum of each output's loss times its weight (plus
the weight penalties); its logs hold the total as ``loss`` and, with
several outputs, each output's unweighted loss as ``<output>_loss`` (a
mean of the batches' means: ``batch_averaged``) and its metrics as
``<output>_<metric>``.  With one output there are no prefixes.
"""
import dataclasses
import numbers

import numpy

from spiDNN import losses
from spiDNN import metrics as metric_kinds
from spiDNN.abi import layouts
from spiDNN.errors import SpiDNNConfigurationError


@dataclasses.dataclass(frozen=True)
class OutputLoss:
    """One output's loss core: its loss, weight and metrics."""
    #: The logs' prefix: the output layer's name (or its key in a dict of
    #: outputs); None for a model's one output (no prefix).
    name: object
    loss: str              # a spiDNN.losses.Loss (its Keras name)
    n_outputs: int         # the output layer's elements
    output_activation: str
    #: [(name in the logs, unprefixed; kind in layouts.METRICS)]
    metrics: tuple = ()
    #: compile's loss weight (None: Keras' default, the loss as it is)
    weight: float = None
    #: Each sample has a weight (fit's sample_weight or class_weight,
    #: evaluate's sample_weight): the label's last word
    weighted: bool = False
    #: The metrics' k and threshold (spiDNN.metrics.Settings)
    metric_settings: metric_kinds.Settings = metric_kinds.Settings()
    #: The losses Keras keeps per sample before it reduces them: the
    #: output's elements over its last axis (1 for an output of one axis)
    values_per_sample: int = 1

    @property
    def reduction(self):
        """How the loss core scales the gradient (layouts.REDUCTIONS):
        Keras' reduction as TensorFlow differentiates it; ``none`` (a
        loss per sample) trains on their sum, as TensorFlow's gradient
        of a vector sums it."""
        given = getattr(self.loss, "reduction", "sum_over_batch_size")
        if given in ("sum", "none", None):
            return "sum"
        if given == "mean_with_sample_weight" and self.weighted:
            return "weight_sum"
        return "batch_size"

    @property
    def logged_reduction(self):
        """How Keras reduces a batch's weighted losses to the value it
        logs: as the gradient does, but ``none`` (whose vector Keras'
        loss tracker averages) as ``batch_size``."""
        if getattr(self.loss, "reduction", None) in ("none", None):
            return "batch_size"
        return self.reduction

    @property
    def quantities(self):
        """The per-sample quantities the loss core sends after the loss
        (kinds of layouts.METRICS, in their order), for the metrics."""
        return metric_kinds.quantities([kind for _, kind in self.metrics])

    def metric_values(self, values):
        """Keras' values of the metrics from the ``quantities`` columns
        ``values`` of the samples so far."""
        return metric_kinds.reduce(self.metrics, self.metric_settings,
                                   values)

    def metric_fields(self):
        """The loss core's fields of the metrics."""
        return {"metrics": self.metric_bits & 0xFFFFFFFF,
                "metrics_high": self.metric_bits >> 32,
                "metric_threshold": layouts.float_bits(
                    self.metric_settings.threshold),
                "metric_auc_thresholds": self.metric_settings.auc_thresholds,
                "metric_auc_from_logits": int(
                    self.metric_settings.auc_from_logits),
                "metric_loss_from_logits": int(
                    self.metric_settings.loss_from_logits),
                "metric_fbeta_threshold": layouts.float_bits(
                    self.metric_settings.fbeta_threshold)}

    @property
    def sends_logits(self):
        """The output layer sends its z (a cross-entropy after a softmax
        or sigmoid, which Keras takes from the logits)."""
        return losses.takes_logits(self.loss, self.output_activation)

    @property
    def from_logits(self):
        """The loss core takes what arrives as logits."""
        return losses.from_logits(self.loss, self.output_activation)

    @property
    def label_width(self):
        """Words per label: its values, then the sample weight, then the
        batch's sum of them (``weight_sum``)."""
        return losses.label_width(self.loss, self.n_outputs) + int(
            self.weighted) + int(self.reduction == "weight_sum")

    def loss_fields(self):
        """The loss core's fields of the loss and its settings."""
        smoothing = losses.smoothing_fields(self.loss, self.n_outputs)
        keep, shift = smoothing or (1.0, 0.0)
        return {"loss": layouts.LOSSES[self.loss],
                "from_logits": int(self.from_logits),
                "sends_logits": int(self.sends_logits),
                "label_width": self.label_width,
                "weighted": int(self.weighted),
                "label_smoothing": int(smoothing is not None),
                "smoothing_keep": layouts.float_bits(keep),
                "smoothing_shift": layouts.float_bits(shift),
                "delta": layouts.float_bits(
                    getattr(self.loss, "delta", 1.0)),
                "reduction": layouts.REDUCTIONS[self.reduction],
                "reduction_factor": layouts.float_bits(
                    float(self.values_per_sample))}

    @property
    def metric_bits(self):
        """The loss core's ``metrics`` field: a bit per quantity."""
        return sum(1 << layouts.METRICS[kind] for kind in self.quantities)

    @property
    def weight_bits(self):
        """The loss core's ``loss_weight`` field (float32 bits): the
        factor of its gradient (1 without a weight)."""
        return layouts.float_bits(1.0 if self.weight is None
                                  else self.weight)

    def log_name(self, name):
        return name if self.name is None else f"{self.name}_{name}"


def output_names(outputs):
    """The logs' prefix of each of ``outputs`` (OutputLoss), in order."""
    return [output.name for output in outputs]


def log_names(outputs):
    """The names of what the loss cores report beside the total loss, in
    the order of ``combine``'s columns: with several outputs, each one's
    loss, then every output's metrics."""
    several = [output.log_name("loss") for output in outputs] if len(
        outputs) > 1 else []
    return several + [output.log_name(name) for output in outputs
                      for name, _ in output.metrics]


def batch_averaged(outputs):
    """How many of ``log_names``' first columns Keras averages over the
    batches rather than the samples: each output's loss, with several
    (CompileLoss's Mean of each batch's loss, its weight the batch's
    static size, which TensorFlow's traced steps do not know: a short
    last batch counts as much as a full one).  The total loss and the
    metrics are means over the samples."""
    return len(outputs) if len(outputs) > 1 else 0


def metric_logs(outputs, columns):
    """The values of the metrics of ``log_names`` (after the outputs'
    losses) over the samples of ``columns`` (combine's second result)."""
    start = len(outputs) if len(outputs) > 1 else 0
    values = []
    for output in outputs:
        end = start + len(output.quantities)
        values += output.metric_values(columns[:, start:end])
        start = end
    return values


def n_columns(outputs):
    """Columns of combine's second result."""
    return (len(outputs) if len(outputs) > 1 else 0) + sum(
        len(output.quantities) for output in outputs) + len(
        _reduced(outputs))


def _reduced(outputs):
    """The outputs whose logged losses Keras reduces otherwise than as
    the mean over the batch (``sum``, ``mean_with_sample_weight`` with
    weights): combine keeps each one's losses as sent, in a last column."""
    return [k for k, output in enumerate(outputs)
            if output.logged_reduction != "batch_size"]


def combine(outputs, values):
    """(total losses, columns) from what the loss cores sent per sample,
    ``values`` (n, ...) float32: each output's loss then its quantities,
    output after output.  The columns: with several outputs, each one's
    loss; then every output's quantities (metric_logs reduces them to
    the metrics of ``log_names``).  The total adds each
    output's loss times its weight, as Keras' CompileLoss (an output
    without a weight unmultiplied), in float32."""
    values = numpy.asarray(values, dtype=numpy.float32)
    columns, start = [], 0
    for output in outputs:
        columns.append((start, start + 1, start + 1 + len(output.quantities)))
        start += 1 + len(output.quantities)
    each = [values[:, lo] if output.weight is None
            else values[:, lo] * numpy.float32(output.weight)
            for output, (lo, _, _) in zip(outputs, columns)]
    total = each[0]
    for more in each[1:]:
        total = total + more
    logged = ([values[:, lo] for lo, _, _ in columns]
              if len(outputs) > 1 else [])
    logged += [values[:, k] for _, first, end in columns
               for k in range(first, end)]
    logged += [values[:, columns[k][0]] for k in _reduced(outputs)]
    return total, (numpy.stack(logged, axis=1) if logged
                   else numpy.zeros((len(values), 0), numpy.float32))


def _label_columns(outputs):
    """Per output, the columns of the label words (model._check_labels'
    layout: the outputs' labels side by side) holding its sample weight
    and its batch's sum of weights (each None where it has none)."""
    found, start = [], 0
    for output in outputs:
        end = start + output.label_width
        sums = end - 1 if output.reduction == "weight_sum" else None
        weight = (end - 1 - int(sums is not None)) if output.weighted else (
            None)
        found.append((weight, sums))
        start = end
    return found


def sample_weights_of(outputs, words):
    """Each output's sample weights (float32, one per row of the label
    ``words``), or None where its loss core takes none."""
    words = numpy.asarray(words, dtype=numpy.uint32)
    return [None if weight is None else numpy.ascontiguousarray(
        words[:, weight]).view(numpy.float32)
        for weight, _ in _label_columns(outputs)]


def batch_of(sizes, n):
    """Each of ``n`` samples' batch number (0 first): batches of
    ``sizes`` samples (a list), or of a batch size (an int; the last may
    be short)."""
    if numpy.ndim(sizes) == 0:
        return numpy.arange(n) // int(sizes)
    return numpy.repeat(numpy.arange(len(sizes)), sizes)


def _batch_sums(values, batch):
    """float32 sums of ``values`` per batch, in the samples' order."""
    sums = numpy.zeros(int(batch[-1]) + 1 if len(batch) else 0,
                       numpy.float32)
    for b in range(len(sums)):
        total = numpy.float32(0.0)
        for value in values[batch == b]:
            total = numpy.float32(total + value)
        sums[b] = total
    return sums


def needs_weight_sums(outputs):
    """A loss core takes its batch's sum of sample weights (with each
    sample of a training pass: ``mean_with_sample_weight``)."""
    return any(output.reduction == "weight_sum" for output in outputs)


def with_weight_sums(outputs, words, batch):
    """The label ``words`` of a training chunk with each weight_sum
    output's batch sum of sample weights filled in (``batch``: each
    row's batch number), as the loss core divides by it."""
    words = numpy.array(words, dtype=numpy.uint32)
    for weight, sums in _label_columns(outputs):
        if sums is not None:
            totals = _batch_sums(words[:, weight].view(numpy.float32), batch)
            words[:, sums] = totals[batch].view(numpy.uint32)
    return words


def reduce_logged(outputs, losses, columns, sizes, words):
    """(total losses, columns) of combine's with each output's losses
    as Keras logs them under its reduction: each sample's loss times a
    factor of its batch, so that the mean over the batch (what the logs
    take of the others) is Keras' reduced batch loss: ``sum`` the batch's
    sum (of every loss Keras keeps per sample: values_per_sample), so
    the batch's size times that; ``weight_sum`` the sum over the batch's
    sum of weights (0 where that is 0, as divide_no_nan).  The total
    changes by the weighted outputs' change (a penalty in it stays).

    :param sizes: the batches' sizes (a list) or the batch size (an int)
    :param words: the samples' label words (their weights)
    """
    reduced = _reduced(outputs)
    if not reduced or not len(losses):
        return losses, columns
    n = len(losses)
    batch = batch_of(sizes, n)
    counts = numpy.bincount(batch).astype(numpy.float64)
    weights = sample_weights_of(outputs, words)
    columns = numpy.array(columns, dtype=numpy.float32)
    total = numpy.asarray(losses, dtype=numpy.float64).copy()
    raw = columns.shape[1] - len(reduced)
    for j, k in enumerate(reduced):
        output = outputs[k]
        sent = columns[:, raw + j].astype(numpy.float64)
        if output.logged_reduction == "sum":
            factor = counts * output.values_per_sample
        else:
            sums = _batch_sums(weights[k], batch).astype(numpy.float64)
            factor = numpy.divide(counts, sums, out=numpy.zeros_like(sums),
                                  where=sums != 0)
        shares = (sent * factor[batch]).astype(numpy.float32)
        weight = 1.0 if output.weight is None else numpy.float32(
            output.weight)
        total += weight * (shares.astype(numpy.float64) - sent)
        if len(outputs) > 1:
            columns[:, k] = shares
    return total.astype(numpy.float32), columns


def evaluate_order(logs, outputs):
    """``evaluate``'s list, in Keras' order (Trainer's
    _flatten_metrics_in_order): the loss; with one output its metrics as
    compiled; with several, each output's loss, then the other logs
    sorted by name."""
    first = ["loss"] + [name for name in log_names(outputs)[:len(outputs)]
                        if len(outputs) > 1]
    if len(outputs) == 1:
        first += log_names(outputs)
    return [logs[name] for name in first] + [
        logs[name] for name in sorted(logs) if name not in first]


# ------------------------------------------------- compile's arguments
def per_output(value, names, what, one_for_all=True):
    """compile's ``what`` for each output named ``names``: one value for
    all (if ``one_for_all``), a list or tuple in the outputs' order, or a
    dict with every output's name, as Keras takes them."""
    n = len(names)
    if isinstance(value, dict):
        return _by_name(value, names, f"compile's {what}")
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise SpiDNNConfigurationError(
                f"compile's {what} is a list of {len(value)}, but the model "
                f"has {n} output(s) ({_listing(names)}): give one per "
                f"output, or a dict by output name")
        return list(value)
    if not one_for_all and n > 1:
        raise SpiDNNConfigurationError(
            f"compile's {what}={value!r} for a model of {n} outputs: give "
            f"a list of {n} (in the outputs' order) or a dict by output "
            f"name ({_listing(names)})")
    return [value] * n


def losses_per_output(loss, names):
    """Each output's Keras loss name: one loss applies to each output."""
    given = per_output(loss, names, "loss")
    missing = [name for name, one in zip(names, given) if one is None]
    if missing:
        raise SpiDNNConfigurationError(
            f"compile's loss gives {_listing(missing)} no loss: spiDNN "
            f"trains every output on a loss core of its own; give each "
            f"output a loss, or make a model without it")
    return [losses.get(one) for one in given]


def weights_per_output(loss_weights, names):
    """Each output's loss weight (None: Keras' default, unweighted); a
    number only for a model of one output, as Keras."""
    if loss_weights is None:
        return [None] * len(names)
    given = per_output(loss_weights, names, "loss_weights",
                       one_for_all=False)
    for name, weight in zip(names, given):
        if isinstance(weight, bool) or not isinstance(
                weight, numbers.Real) or not numpy.isfinite(
                numpy.float32(weight)):
            raise SpiDNNConfigurationError(
                f"compile's loss_weights for {name}: a finite number, not "
                f"{weight!r}")
    return [float(weight) for weight in given]


def metrics_per_output(metrics, names):
    """Each output's metrics (a list, maybe empty), as Keras 3 reads
    ``compile(metrics=...)`` for several outputs: a list or tuple with an
    entry per output (a metric, a list of them, or None), or a dict by
    output name (outputs left out have none); one output takes them
    all."""
    if metrics is None:
        return [[] for _ in names]
    if len(names) == 1 and not isinstance(metrics, dict):
        return [metrics]
    if isinstance(metrics, dict):
        unknown = [key for key in metrics if key not in names]
        if unknown:
            raise SpiDNNConfigurationError(
                f"compile's metrics name {_listing(unknown)}, not an "
                f"output of the model ({_listing(names)})")
        given = [metrics.get(name) for name in names]
    elif isinstance(metrics, (list, tuple)):
        if len(metrics) != len(names):
            raise SpiDNNConfigurationError(
                f"compile's metrics is a list of {len(metrics)} for a model "
                f"of {len(names)} outputs ({_listing(names)}): Keras 3 "
                f"takes an entry per output (a metric, a list of them or "
                f"None), or a dict by output name")
        given = list(metrics)
    else:
        raise SpiDNNConfigurationError(
            f"compile's metrics={metrics!r} for a model of {len(names)} "
            f"outputs: give a list with an entry per output, or a dict by "
            f"output name ({_listing(names)}), as Keras 3 takes")
    return [[] if one is None else one for one in given]


def labels_per_output(y, names):
    """``y`` as one array per output: the model's one output takes ``y``
    itself; several take a list or tuple in their order, or a dict by
    their names."""
    if len(names) == 1 and not isinstance(y, dict):
        return [y]
    if isinstance(y, dict):
        return _by_name(y, names, "labels")
    if not isinstance(y, (list, tuple)) or len(y) != len(names):
        raise SpiDNNConfigurationError(
            f"the model has {len(names)} outputs ({_listing(names)}): give "
            f"their labels as a list of {len(names)} arrays in that order, "
            f"or a dict by output name, not "
            + (f"a list of {len(y)}" if isinstance(y, (list, tuple))
               else type(y).__name__))
    return list(y)


def _by_name(mapping, names, what):
    """``mapping``'s values in the order of the outputs ``names``, which
    it must name exactly."""
    unknown = [key for key in mapping if key not in names]
    missing = [name for name in names if name not in mapping]
    if unknown or missing:
        raise SpiDNNConfigurationError(
            f"{what} by output name must name exactly the outputs "
            f"{_listing(names)}"
            + (f"; {_listing(unknown)} is not an output" if unknown else "")
            + (f"; {_listing(missing)} missing" if missing else ""))
    return [mapping[name] for name in names]


def _listing(names):
    return ", ".join(repr(name) for name in names)
