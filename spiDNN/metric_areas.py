"""Keras' AUC and IoU metrics from the per-sample classes the loss core
sends (spiDNN/metrics.py): each threshold's, or each class pair's,
counts over the samples so far, then the arithmetic of Keras'
``AUC.result`` and ``IoU.result`` in float32."""
import numpy


def confusion_counts(n_thresholds, buckets, positive):
    """Each threshold's (TP, FP, TN, FN), float32, from the samples'
    buckets and labels, as Keras' confusion variables accumulate them:
    an output counts as positive at the thresholds below its bucket's
    top; a bucket below 0, or NaN, counts nowhere (TensorFlow's segment
    sums drop them)."""
    f32 = numpy.float32
    kept = buckets >= 0          # (False for NaN)
    buckets, positive = buckets[kept].astype(numpy.int64), positive[kept]

    def from_the_top(labels):
        counts = numpy.bincount(buckets, weights=labels,
                                minlength=n_thresholds)
        return numpy.cumsum(counts[::-1])[::-1].astype(f32)

    tp = from_the_top(positive)
    fp = from_the_top(1.0 - positive)
    fn = f32(positive.sum(dtype=numpy.float64)) - tp
    tn = f32(len(positive) - positive.sum(dtype=numpy.float64)) - fp
    return tp, fp, tn, fn


def _divide_no_nan(a, b):
    with numpy.errstate(divide="ignore", invalid="ignore"):
        return numpy.where(b == 0, numpy.float32(0), a / b).astype(
            numpy.float32)


#: Keras' SensitivitySpecificityBase metrics: (the rate constrained, the
#: rate maximised under it), each of (tp, fp, tn, fn).
_RATES = {
    "sensitivity": lambda tp, fp, tn, fn: _divide_no_nan(tp, tp + fn),
    "specificity": lambda tp, fp, tn, fn: _divide_no_nan(tn, tn + fp),
    "precision": lambda tp, fp, tn, fn: _divide_no_nan(tp, tp + fp),
}
CONSTRAINED = {
    "sensitivity_at_specificity": ("specificity", "sensitivity"),
    "specificity_at_sensitivity": ("sensitivity", "specificity"),
    "precision_at_recall": ("sensitivity", "precision"),
    "recall_at_precision": ("precision", "sensitivity"),
}


def constrained_of(kind, value, n_thresholds, buckets, positive):
    """Keras' SensitivityAtSpecificity, SpecificityAtSensitivity,
    PrecisionAtRecall or RecallAtPrecision (``kind``) at ``value``: the
    largest of the one rate over the thresholds where the other is at
    least ``value`` (0 where none is)."""
    counts = confusion_counts(n_thresholds, buckets, positive)
    constrained, dependent = (_RATES[rate](*counts)
                              for rate in CONSTRAINED[kind])
    feasible = constrained >= numpy.float32(value)
    return float(numpy.max(numpy.where(feasible, dependent, 0.0),
                           initial=0.0))


def auc_of(shape, n_thresholds, buckets, positive):
    """Keras' AUC (``shape``: its curve and summation method) of the
    samples' buckets and labels: each threshold's confusion counts in
    float32, then AUC.result's arithmetic."""
    f32 = numpy.float32
    curve, summation = shape
    # AUC's first threshold lies below 0: an output of 0 or less counts.
    tp, fp, tn, fn = confusion_counts(n_thresholds, numpy.maximum(
        buckets, 0), positive)

    if curve == "PR" and summation == "interpolation":
        # Keras' interpolate_pr_auc (Davis and Goadrich's interpolation).
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, numpy.maximum(dp, f32(0)))
        intercept = tp[1:] - slope * p[1:]
        ratio = numpy.where((p[:-1] > 0) & (p[1:] > 0), _divide_no_nan(
            p[:-1], numpy.maximum(p[1:], f32(0))), f32(1)).astype(f32)
        increments = _divide_no_nan(
            slope * (dtp + intercept * numpy.log(ratio).astype(f32)),
            numpy.maximum(tp[1:] + fn[1:], f32(0)))
        return float(numpy.sum(increments, dtype=f32))
    recall = _divide_no_nan(tp, tp + fn)
    if curve == "ROC":
        x, y = _divide_no_nan(fp, fp + tn), recall
    elif curve == "PR":
        x, y = recall, _divide_no_nan(tp, tp + fp)
    else:       # PRGAIN
        scale = _divide_no_nan(tp + fn, tn + fp)
        x = f32(1) - scale * _divide_no_nan(fn, tp)
        y = f32(1) - scale * _divide_no_nan(fp, tp)
        x = numpy.maximum(numpy.where(tp == 0, f32(0), x), f32(0))
        y = numpy.where(tp == 0, f32(1), y).astype(f32)
    if summation == "interpolation":
        heights = (y[:-1] + y[1:]) / f32(2)
    elif summation == "minoring":
        heights = numpy.minimum(y[:-1], y[1:])
    else:
        heights = numpy.maximum(y[:-1], y[1:])
    return float(numpy.sum((x[:-1] - x[1:]) * heights, dtype=f32))


def iou_of(shape, labels, predicted):
    """Keras' IoU (``shape``: num_classes, target_class_ids,
    ignore_class) of the samples' label and predicted classes: their
    confusion matrix (pairs outside the classes, or of the ignored
    class, left out), then IoU.result's arithmetic in float32."""
    f32 = numpy.float32
    n_classes, targets, ignored = shape
    # TensorFlow's cast of a float label to a class truncates.
    true = numpy.trunc(labels.astype(numpy.float64))
    kept = (true >= 0) & (true < n_classes) & (predicted >= 0) & (
        predicted < n_classes)
    if ignored is not None:
        kept &= true != ignored
    cells = numpy.zeros((n_classes, n_classes), dtype=numpy.float64)
    numpy.add.at(cells, (true[kept].astype(numpy.int64),
                         predicted[kept].astype(numpy.int64)), 1)
    cells = cells.astype(f32)
    tp = numpy.diag(cells)
    denominator = cells.sum(axis=0) + cells.sum(axis=1) - tp
    tp, denominator = tp[list(targets)], denominator[list(targets)]
    valid = denominator > f32(1e-9)
    iou = numpy.where(valid, tp / (denominator + f32(1e-7)), f32(0))
    return float(numpy.sum(iou, dtype=f32) / (
        numpy.sum(valid, dtype=f32) + f32(1e-7)))


#: Keras' backend.epsilon(), float32.
_EPSILON = numpy.float32(1e-7)


def fbeta_of(shape, predicted, actual):
    """Keras' FBetaScore (F1Score: beta 1) ``result`` of ``shape`` =
    (n_outputs, average, beta) from each sample's masks (an output's bit
    set where predicted positive, or where its label is 1): the classes'
    true and false positives, false negatives and label sums (all of
    them at once for ``average="micro"``), float32, then Keras'
    arithmetic; an array of the classes' scores for ``average=None``."""
    n_outputs, average, beta = shape
    f32 = numpy.float32
    bits = numpy.arange(n_outputs, dtype=numpy.int64)
    p = ((predicted.astype(numpy.int64)[:, None] >> bits) & 1).astype(f32)
    y = ((actual.astype(numpy.int64)[:, None] >> bits) & 1).astype(f32)
    axis = None if average == "micro" else 0
    tp = f32(numpy.sum(p * y, axis=axis, dtype=numpy.float64))
    fp = f32(numpy.sum(p * (1 - y), axis=axis, dtype=numpy.float64))
    fn = f32(numpy.sum((1 - p) * y, axis=axis, dtype=numpy.float64))
    support = f32(numpy.sum(y, axis=axis, dtype=numpy.float64))
    beta2 = f32(beta) ** 2
    precision = (tp / (tp + fp + _EPSILON)).astype(f32)
    recall = (tp / (tp + fn + _EPSILON)).astype(f32)
    mean = ((precision * recall) / (beta2 * precision + recall
                                    + _EPSILON)).astype(f32)
    score = (mean * (f32(1) + beta2)).astype(f32)
    if average == "weighted":
        weights = support / (f32(numpy.sum(support)) + _EPSILON)
        return float(numpy.sum(score * weights, dtype=f32))
    if average is not None:
        return float(numpy.mean(score, dtype=f32))
    return score


def r2_of(shape, labels, squared_residuals):
    """Keras' R2Score ``result`` of one output, ``shape`` =
    (class_aggregation, num_regressors), from each sample's label and
    squared residual: the sums Keras' variables accumulate (float32),
    then its arithmetic (an array of the one output's score for
    ``class_aggregation=None``)."""
    import warnings
    aggregation, regressors = shape
    f32 = numpy.float32
    total_sum = f32(numpy.sum(labels, dtype=numpy.float64))
    squared_sum = f32(numpy.sum(numpy.square(labels, dtype=numpy.float64)))
    total_mse = f32(numpy.sum(squared_residuals, dtype=numpy.float64))
    count = f32(len(labels))
    with numpy.errstate(divide="ignore", invalid="ignore"):
        mean = f32(total_sum / count)
        total = f32(squared_sum - f32(total_sum * mean))
        raw = f32(f32(1) - f32(total_mse / total))
    if numpy.isinf(raw):
        raw = f32(0)
    if aggregation == "variance_weighted_average":
        with numpy.errstate(divide="ignore", invalid="ignore"):
            score = f32(f32(total * raw) / total)
    else:
        score = raw
    if regressors:
        n = len(labels)
        if regressors > n - 1:
            warnings.warn("More independent predictors than datapoints in "
                          "adjusted R2 score. Falling back to standard R2 "
                          "score.", stacklevel=2)
        elif regressors == n - 1:
            warnings.warn("Division by zero in Adjusted R2 score. Falling "
                          "back to standard R2 score.", stacklevel=2)
        else:
            score = f32(f32(1) - f32(f32(f32(1) - score) * f32(n - 1))
                        / f32(f32(n) - f32(regressors) - f32(1)))
    if aggregation is None:
        return numpy.array([score], dtype=f32)
    return float(score)
