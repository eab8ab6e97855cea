"""Metrics the loss core computes beside the loss (c_code/common/metrics.h),
by the names Keras gives them in History, and how the host turns the
per-sample quantities the core sends into Keras' logs.

A metric's kind (``KINDS``) names the per-sample quantities it needs
(``layouts.METRICS``: one value per sample each) and how Keras reduces
them: the mean over the samples so far (Keras' MeanMetricWrapper and
Mean), its square root (RootMeanSquaredError), the sum (the confusion
counts, which Keras accumulates), or the share of one sum in the sum of
two (Precision: TP / (TP + FP), Recall: TP / (TP + FN), 0 while the
divisor is 0, as Keras' divide_no_nan), or the share of samples whose
target ranks below k (the top-k accuracies: the core sends the target's
rank, so that metrics of several k share it), or Keras' AUC of a model
of one output: the core sends the bucket its output falls in among the
evenly spaced thresholds and whether its label is positive; the host
counts each threshold's confusion matrix from them (as Keras' variables
accumulate) and takes the area as Keras' ``AUC.result`` does, for each
curve and summation method; or Keras' IoU metrics of one class per
sample (the outputs' argmax, or BinaryIoU's one output at its threshold,
against the label's class): the core sends both classes, and the host
counts the confusion matrix of the classes and takes Keras' IoU of it.  The per-batch logs are these
over the epoch's samples so far, as Keras' running metrics are.
"""
import dataclasses
import numbers

import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.abi.layouts import METRICS
from spiDNN.metric_areas import (
    CONSTRAINED, auc_of, constrained_of, fbeta_of, iou_of, r2_of)

#: kind: (per-sample quantities, reduction)
KINDS = {
    **{name: ((name,), "mean") for name in (
        "sparse_categorical_accuracy", "categorical_accuracy",
        "binary_accuracy", "mean_squared_error", "mean_absolute_error",
        "mean_absolute_percentage_error")},
    # The target's rank, which the host compares with the metric's k.
    **{name: ((name,), "rank_below_k") for name in (
        "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy")},
    "root_mean_squared_error": (("mean_squared_error",), "sqrt_mean"),
    **{name: ((name,), "sum") for name in (
        "true_positives", "false_positives", "true_negatives",
        "false_negatives")},
    "precision": (("true_positives", "false_positives"), "share"),
    "recall": (("true_positives", "false_negatives"), "share"),
    "auc": (("auc_bucket", "auc_positive"), "auc"),
    # From the same buckets: a rate's best where another reaches a value.
    **{kind: (("auc_bucket", "auc_positive"), "constrained")
       for kind in CONSTRAINED},
    # (label class, predicted class) pairs: sparse labels, one-hot
    # labels, BinaryIoU's.
    "iou_sparse": (("label_class", "predicted_class"), "iou"),
    "iou_one_hot": (("label_argmax", "predicted_class"), "iou"),
    "binary_iou": (("label_value", "predicted_at_threshold"), "iou"),
    # Keras' losses as metrics: the mean of the samples' losses.
    **{f"loss_{loss}": ((f"loss_{loss}",), "mean") for loss in (
        "binary_crossentropy", "categorical_crossentropy",
        "sparse_categorical_crossentropy", "kl_divergence", "poisson",
        "categorical_hinge", "log_cosh",
        "mean_squared_logarithmic_error", "cosine_similarity", "hinge",
        "squared_hinge")},
    "pearson_correlation": (("pearson_correlation",), "mean"),
    "concordance_correlation": (("concordance_correlation",), "mean"),
    # F1Score, FBetaScore: each sample's predicted and label masks.
    "fbeta_score": (("predicted_mask", "label_mask"), "fbeta"),
    # R2Score of one output: each sample's label and squared residual.
    "r2_score": (("label_value", "squared_residual"), "r2"),
}
#: compile's weighted_metrics: a kind's weighted variant, of its
#: quantities and the samples' weights, for the kinds Keras reduces as a
#: mean of per-sample values (MeanMetricWrapper, RootMeanSquaredError):
#: the sum of weight times value over the sum of weights.
WEIGHTED = "weighted:"
_WEIGHABLE = ("mean", "sqrt_mean", "rank_below_k")
KINDS.update({
    f"{WEIGHTED}{kind}": (needed + ("sample_weight",), f"weighted_{how}")
    for kind, (needed, how) in list(KINDS.items()) if how in _WEIGHABLE})

#: The cross-entropy metrics (from_logits, label_smoothing, axis).
_ENTROPIES = {"loss_binary_crossentropy", "loss_categorical_crossentropy",
              "loss_sparse_categorical_crossentropy"}

#: Kinds that read a class index as the label (sparse losses' labels).
_SPARSE = {"sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy",
           "iou_sparse", "loss_sparse_categorical_crossentropy"}
_TOP_K = {"top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"}
_CONFUSION = {"true_positives", "false_positives", "true_negatives",
              "false_negatives", "precision", "recall"}

#: Keras' string names (as compile takes them) of the kinds.
#: (The IoU kinds are spiDNN's names of settings of Keras' classes, which
#: have no string names.)
_IOU_KINDS = ("iou_sparse", "iou_one_hot", "binary_iou")
#: Keras' metric strings of its losses (keras.metrics.get's names).
_LOSS_STRINGS = {
    "binary_crossentropy": "loss_binary_crossentropy",
    "categorical_crossentropy": "loss_categorical_crossentropy",
    "sparse_categorical_crossentropy":
        "loss_sparse_categorical_crossentropy",
    "kl_divergence": "loss_kl_divergence", "poisson": "loss_poisson",
    "categorical_hinge": "loss_categorical_hinge",
    "logcosh": "loss_log_cosh", "msle": "loss_mean_squared_logarithmic_error",
    "cosine_similarity": "loss_cosine_similarity",
    "hinge": "loss_hinge", "squared_hinge": "loss_squared_hinge",
    "mean_squared_logarithmic_error": "loss_mean_squared_logarithmic_error"}
_STRINGS = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
            "mape": "mean_absolute_percentage_error", **_LOSS_STRINGS,
            **{kind: kind for kind in KINDS if kind not in _IOU_KINDS
               and kind not in ("fbeta_score", "r2_score")
               and kind not in _LOSS_STRINGS.values()}}

_KERAS_CLASSES = {
    "SparseCategoricalAccuracy": "sparse_categorical_accuracy",
    "CategoricalAccuracy": "categorical_accuracy",
    "BinaryAccuracy": "binary_accuracy",
    "MeanSquaredError": "mean_squared_error",
    "MeanAbsoluteError": "mean_absolute_error",
    "MeanAbsolutePercentageError": "mean_absolute_percentage_error",
    "RootMeanSquaredError": "root_mean_squared_error",
    "TopKCategoricalAccuracy": "top_k_categorical_accuracy",
    "SparseTopKCategoricalAccuracy": "sparse_top_k_categorical_accuracy",
    "TruePositives": "true_positives",
    "FalsePositives": "false_positives",
    "TrueNegatives": "true_negatives",
    "FalseNegatives": "false_negatives",
    "Precision": "precision",
    "Recall": "recall",
    "AUC": "auc",
    "SensitivityAtSpecificity": "sensitivity_at_specificity",
    "SpecificityAtSensitivity": "specificity_at_sensitivity",
    "PrecisionAtRecall": "precision_at_recall",
    "RecallAtPrecision": "recall_at_precision",
    "BinaryCrossentropy": "loss_binary_crossentropy",
    "CategoricalCrossentropy": "loss_categorical_crossentropy",
    "SparseCategoricalCrossentropy": "loss_sparse_categorical_crossentropy",
    "KLDivergence": "loss_kl_divergence", "Poisson": "loss_poisson",
    # (Keras converts a batch's labels from 0/1 to -1/1 when they are all
    # 0 or 1: the loss core each sample's, and the host refuses labels for
    # which a batch would decide otherwise: losses.check_hinge_labels.)
    "Hinge": "loss_hinge", "SquaredHinge": "loss_squared_hinge",
    "CategoricalHinge": "loss_categorical_hinge",
    "LogCoshError": "loss_log_cosh",
    "MeanSquaredLogarithmicError": "loss_mean_squared_logarithmic_error",
    "CosineSimilarity": "loss_cosine_similarity",
    "PearsonCorrelation": "pearson_correlation",
    "ConcordanceCorrelation": "concordance_correlation",
}
#: Keras' IoU metrics (their kinds follow their settings: _iou).
_IOU_CLASSES = ("IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU", "BinaryIoU")
#: Keras' F-scores (their settings: _fbeta_metric).
_FBETA_CLASSES = ("F1Score", "FBetaScore")
_R2_CLASSES = ("R2Score",)
#: Outputs an F-score's masks hold (a bit each, a whole float32).
FBETA_MAX_OUTPUTS = 24

#: The keras.metrics classes the cores compute, for Model.metrics (an
#: IoU kind as a MeanIoU of two classes: what Model.metrics' readers,
#: EarlyStopping's mode="auto", need is the direction to improve).
KERAS_CLASS_OF = {**{kind: name for name, kind in _KERAS_CLASSES.items()},
                  **{f"{WEIGHTED}{kind}": name
                     for name, kind in _KERAS_CLASSES.items()},
                  "iou_sparse": "MeanIoU", "iou_one_hot": "MeanIoU",
                  "binary_iou": "BinaryIoU", "fbeta_score": "FBetaScore",
                  "r2_score": "R2Score"}
KERAS_CLASS_ARGUMENTS = {"iou_sparse": {"num_classes": 2},
                         "iou_one_hot": {"num_classes": 2}}


@dataclasses.dataclass(frozen=True)
class Settings:
    """The metrics' settings: each top-k metric's k ((name, k) pairs),
    the one threshold of the loss core's confusion counts, and each
    AUC's curve and summation method ((name, (curve, summation)) pairs)
    with the thresholds and from_logits they all share (the core's)."""
    ks: tuple = ()
    threshold: float = 0.5
    aucs: tuple = ()
    auc_thresholds: int = 0
    auc_from_logits: bool = False
    #: Each IoU metric's (num_classes, target_class_ids, ignore_class).
    ious: tuple = ()
    #: The cross-entropy metrics take a linear output as logits.
    loss_from_logits: bool = False
    #: Each *AtSensitivity / *AtRecall metric's value.
    constrained: tuple = ()
    #: Each R2Score's (class_aggregation, num_regressors).
    r2s: tuple = ()
    #: Each F-score's (n_outputs, average, beta), and the threshold they
    #: share (-1: Keras' None, the largest outputs).
    fbetas: tuple = ()
    fbeta_threshold: float = -1.0


#: Keras' AUC curves and summation methods (metrics_utils.AUCCurve,
#: AUCSummationMethod), by the names their configs keep.
AUC_CURVES = ("ROC", "PR", "PRGAIN")
AUC_SUMMATIONS = ("interpolation", "minoring", "majoring")


def quantities(kinds):
    """The per-sample quantities ``kinds`` need, in the order the loss
    core sends them (their ids in layouts.METRICS)."""
    needed = {q for kind in kinds for q in KINDS[kind][0]}
    return sorted(needed, key=METRICS.__getitem__)


def reduce(metrics, settings, values):
    """Keras' value of each of ``metrics`` ((name, kind) pairs) from
    ``values`` (samples, quantities of their kinds) float32: over all the
    rows."""
    columns = {q: k for k, q in enumerate(
        quantities([kind for _, kind in metrics]))}
    values = numpy.asarray(values, dtype=numpy.float32)
    ks = dict(settings.ks)
    results = []
    for name, kind in metrics:
        needed, how = KINDS[kind]
        first = values[:, columns[needed[0]]]
        weights = None
        if how.startswith("weighted_"):
            how = how[len("weighted_"):]
            weights = values[:, columns["sample_weight"]].astype(
                numpy.float64)
        if how == "rank_below_k":
            first = (first < numpy.float32(ks[name])).astype(numpy.float32)
            how = "mean"
        if weights is not None:
            total = float(numpy.sum(weights))
            mean = float(numpy.sum(first * weights)) / total if total else (
                0.0)
            results.append(numpy.sqrt(mean) if how == "sqrt_mean" else mean)
            continue
        if how == "iou":
            results.append(iou_of(dict(settings.ious)[name], first,
                                values[:, columns[needed[1]]]))
            continue
        if how == "r2":
            results.append(r2_of(dict(settings.r2s)[name], first,
                                 values[:, columns[needed[1]]]))
            continue
        if how == "fbeta":
            labels = values[:, columns[needed[1]]]
            if numpy.any(labels < 0):
                raise SpiDNNConfigurationError(
                    f"metric {name!r}: a label is neither 0 nor 1; the "
                    f"cores compute F-scores of 0/1 labels (Keras weighs "
                    f"by the label's value)")
            results.append(fbeta_of(dict(settings.fbetas)[name], first,
                                    labels))
            continue
        if how == "constrained":
            results.append(constrained_of(
                kind, dict(settings.constrained)[name],
                settings.auc_thresholds, first,
                values[:, columns[needed[1]]]))
            continue
        if how == "auc":
            results.append(auc_of(
                dict(settings.aucs)[name], settings.auc_thresholds,
                first, values[:, columns[needed[1]]]))
            continue
        if how in ("mean", "sqrt_mean"):
            mean = float(numpy.mean(first, dtype=numpy.float64)) if len(
                first) else 0.0
            results.append(numpy.sqrt(mean) if how == "sqrt_mean" else mean)
            continue
        # Counts: whole numbers, exact in float64.
        total = float(numpy.sum(first, dtype=numpy.float64))
        if how == "sum":
            results.append(total)
        else:
            other = total + float(numpy.sum(values[:, columns[needed[1]]],
                                            dtype=numpy.float64))
            results.append(total / other if other else 0.0)
    return results


def resolve(metrics, loss, label_rank, n_outputs, z_arrives=True,
            output_activation="linear", weighted=None):
    """([(History name, metric kind)], Settings) of
    ``compile(metrics=..., weighted_metrics=weighted)``: the weighted ones
    after the others, each under its name, or ``weighted_<name>`` where
    an unweighted one has it (Keras' names); of those only the kinds
    Keras reduces as a mean of per-sample values.

    :param loss: the Keras loss name the run trains with
    :param label_rank: dimensions of the labels the user gave (``y.ndim``)
    :param z_arrives: the loss core receives the output layer's z (a
        cross-entropy loss after a softmax or sigmoid: sends_logits)
    """
    def listed(given):
        if given is None:
            return []
        if isinstance(given, (str, dict)) or not hasattr(given, "__iter__"):
            return [given]
        return list(given)
    metrics, weighted = listed(metrics), listed(weighted)
    if not metrics and not weighted:
        return [], Settings()
    resolved, ks, thresholds, aucs, ious = [], {}, {}, {}, {}
    entropies, constrained, fbetas, fbeta_thresholds = {}, {}, {}, {}
    r2s = {}
    for index, metric in enumerate(metrics + weighted):
        name, kind, setting = _one(metric, loss, label_rank, n_outputs)
        # (The checks below are of the kind, weighted or not.)
        logged = kind
        if index >= len(metrics):
            name, logged = _weighted(metric, name, kind, resolved)
        sparse_labels = loss == "sparse_categorical_crossentropy"
        if (kind in _SPARSE) != sparse_labels:
            raise SpiDNNConfigurationError(
                f"metric {name!r} ({kind}) needs "
                f"{'class indices' if kind in _SPARSE else 'label vectors'}"
                f" as labels, but {loss} trains on "
                f"{'class indices' if sparse_labels else 'label vectors'}")
        # (Kinds may repeat under other names: "mse" and
        # MeanSquaredError() log the same quantity twice, as Keras.)
        if any(name == other for other, _ in resolved):
            raise SpiDNNConfigurationError(
                f"metric {name!r} is asked for twice")
        if kind in _TOP_K:
            ks[name] = setting
        if kind in _CONFUSION:
            thresholds[name] = setting
        if kind == "auc":
            aucs[name] = setting
        if kind in CONSTRAINED:
            buckets, constrained[name] = setting
            aucs[name] = buckets
        if kind in _ENTROPIES:
            entropies[name] = setting
            if (kind == "loss_binary_crossentropy" and output_activation
                    == "softmax" and not z_arrives):
                raise SpiDNNConfigurationError(
                    f"metric {name!r}: Keras takes a binary cross-entropy "
                    f"of a softmax output from the softmax's logits, which "
                    f"reach the loss core only when the loss is a "
                    f"cross-entropy taking them; train with one, or leave "
                    f"the metric out")
        if kind == "fbeta_score":
            fbetas[name], fbeta_thresholds[name] = setting
        if kind == "r2_score":
            r2s[name] = setting
        if kind in _IOU_KINDS:
            ious[name], threshold = setting
            if threshold is not None:
                thresholds[name] = threshold
        resolved.append((name, logged))
    _one_for_all(thresholds, "thresholds", "counts at one threshold for "
                 "all its metrics")
    shared = {name: (auc["num_thresholds"], auc["from_logits"])
              for name, auc in aucs.items()}
    _one_for_all(shared, "num_thresholds or from_logits", "puts the output "
                 "in one set of buckets for all its AUCs")
    n_thresholds, from_logits = next(iter(shared.values()), (0, False))
    _one_for_all(entropies, "from_logits", "takes the output one way for "
                 "all its cross-entropy metrics")
    _one_for_all(fbeta_thresholds, "thresholds", "predicts at one threshold "
                 "for all its F-scores")
    aucs = {name: auc for name, auc in aucs.items()
            if name not in constrained}
    return resolved, Settings(
        r2s=tuple(r2s.items()),
        fbetas=tuple(fbetas.items()),
        fbeta_threshold=next(iter(fbeta_thresholds.values()), -1.0),
        constrained=tuple(constrained.items()),
        ks=tuple(ks.items()),
        threshold=next(iter(thresholds.values()), 0.5),
        aucs=tuple((name, (auc["curve"], auc["summation_method"]))
                   for name, auc in aucs.items()),
        auc_thresholds=n_thresholds, auc_from_logits=from_logits,
        ious=tuple(ious.items()),
        loss_from_logits=next(iter(entropies.values()), False))


def _one_for_all(settings, what, why):
    """Refuses metrics ({name: setting}) that ask for different settings
    the loss core has one of for all of them (``why``)."""
    if len(set(settings.values())) > 1:
        raise SpiDNNConfigurationError(
            f"metrics {', '.join(map(repr, settings))} ask for different "
            f"{what} ({', '.join(map(repr, settings.values()))}): the loss "
            f"core {why}; give them the same")


def _weighted(metric, name, kind, resolved):
    """(name, kind) of a weighted metric: its name, or Keras'
    ``weighted_<name>`` where an unweighted one has it; its kind's
    weighted variant, or a clear error."""
    if f"{WEIGHTED}{kind}" not in KINDS:
        raise SpiDNNConfigurationError(
            f"weighted metric {name!r} ({kind}): spiDNN weighs the metrics "
            f"Keras reduces as a mean of per-sample values (accuracies, "
            f"errors, losses as metrics, correlations, top-k); give it in "
            f"metrics, unweighted")
    if any(name == other for other, _ in resolved):
        name = f"weighted_{name}"
    return name, f"{WEIGHTED}{kind}"


def _one(metric, loss, label_rank, n_outputs):
    """(name, kind, its k or threshold or None) of one metric."""
    if isinstance(metric, str):
        if metric.lower() in ("accuracy", "acc"):
            # Keras' choice: binary for one output, sparse when the labels
            # have fewer dimensions than the outputs, else categorical.
            if n_outputs == 1:
                return metric, "binary_accuracy", None
            if label_rank < 2 or loss == "sparse_categorical_crossentropy":
                return metric, "sparse_categorical_accuracy", None
            return metric, "categorical_accuracy", None
        kind = _STRINGS.get(metric)
        if kind == "auc":
            return metric, kind, _auc_setting(
                f"metric {metric!r}", _AUC_DEFAULTS, n_outputs)
        if kind is not None:
            # At Keras' defaults: k=5, thresholds=None (0.5).
            return metric, kind, (5 if kind in _TOP_K else 0.5
                                  if kind in _CONFUSION else False
                                  if kind in _ENTROPIES else None)
    else:
        if type(metric).__name__ in _IOU_CLASSES:
            return _iou_metric(metric, n_outputs)
        if type(metric).__name__ in _FBETA_CLASSES:
            return _fbeta_metric(metric, n_outputs)
        if type(metric).__name__ in _R2_CLASSES:
            return _r2_metric(metric, n_outputs)
        kind = _KERAS_CLASSES.get(type(metric).__name__)
        if kind == "auc":
            config = metric.get_config()
            name = config.get("name", kind)
            return name, kind, _auc_setting(
                f"metric AUC({name!r})", config, n_outputs)
        if kind in CONSTRAINED:
            return _constrained_setting(metric, kind, n_outputs)
        if kind is not None:
            config = metric.get_config()
            return config.get("name", kind), kind, _setting(
                metric, kind, config)
    shown = repr(metric) if isinstance(metric, str) else (
        f"{type(metric).__name__}({getattr(metric, 'name', '')!r})")
    raise SpiDNNConfigurationError(
        f"metric {shown}: the cores compute 'accuracy', "
        f"{', '.join(sorted(_STRINGS))} (as strings) and "
        f"{', '.join(sorted([*_KERAS_CLASSES, *_IOU_CLASSES, *_FBETA_CLASSES, *_R2_CLASSES]))} "
        f"(keras.metrics classes)")


#: Keras' AUC() (the string "auc" makes one).
_AUC_DEFAULTS = {"num_thresholds": 200, "curve": "ROC",
                 "summation_method": "interpolation", "thresholds": None,
                 "multi_label": False, "num_labels": None,
                 "label_weights": None, "from_logits": False}


def _constrained_setting(metric, kind, n_outputs):
    """(name, kind, (its buckets' settings, as an AUC's, and its value))
    of a SensitivityAtSpecificity, SpecificityAtSensitivity,
    PrecisionAtRecall or RecallAtPrecision."""
    config = metric.get_config()
    name = config.get("name", kind)
    shown = f"metric {type(metric).__name__}({name!r})"
    if config.get("class_id") is not None:
        raise SpiDNNConfigurationError(
            f"{shown}: class_id={config['class_id']!r}; the cores compute "
            f"it of an output of one value (class_id=None)")
    n = config.get("num_thresholds", 200)
    if n < 2:
        raise SpiDNNConfigurationError(
            f"{shown}: num_thresholds={n!r}; the cores count at evenly "
            f"spaced thresholds, at least 2")
    value = config[{"sensitivity_at_specificity": "specificity",
                    "specificity_at_sensitivity": "sensitivity",
                    "precision_at_recall": "recall",
                    "recall_at_precision": "precision"}[kind]]
    buckets = _auc_setting(shown, {"num_thresholds": n}, n_outputs)
    return name, kind, (buckets, float(numpy.float32(value)))


def _auc_setting(shown, config, n_outputs):
    """An AUC's settings the cores compute (num_thresholds, curve,
    summation_method, from_logits), refusing the others."""
    if n_outputs != 1:
        raise SpiDNNConfigurationError(
            f"{shown}: the cores compute AUC of an output of one value "
            f"(a binary classifier); this output has {n_outputs}")
    for setting in ("multi_label", "num_labels", "label_weights"):
        if config.get(setting) not in (None, False):
            raise SpiDNNConfigurationError(
                f"{shown}: {setting}={config[setting]!r}; the cores "
                f"compute AUC of one output ({setting}={_AUC_DEFAULTS[setting]!r})")
    thresholds = config.get("thresholds")
    n = config.get("num_thresholds", 200)
    if thresholds is not None:
        # Keras' own fast path, evenly spaced thresholds only.
        inner = sorted(float(t) for t in thresholds)
        n = len(inner) + 2
        if not numpy.allclose(inner, [(i + 1) / (n - 1)
                                      for i in range(n - 2)]):
            raise SpiDNNConfigurationError(
                f"{shown}: thresholds={thresholds!r}; the cores count "
                f"evenly spaced thresholds (num_thresholds=..., or "
                f"thresholds (i + 1) / (n - 1))")
    curve = str(getattr(config.get("curve", "ROC"), "value",
                        config.get("curve", "ROC"))).upper()
    summation = str(getattr(config.get("summation_method", "interpolation"),
                            "value", config.get("summation_method",
                                                "interpolation"))).lower()
    if curve not in AUC_CURVES or summation not in AUC_SUMMATIONS:
        raise SpiDNNConfigurationError(
            f"{shown}: curve={curve!r}, summation_method={summation!r}; "
            f"Keras has curves {AUC_CURVES} and methods {AUC_SUMMATIONS}")
    return {"num_thresholds": int(n), "curve": curve,
            "summation_method": summation,
            "from_logits": bool(config.get("from_logits", False))}


def _fbeta_metric(metric, n_outputs):
    """(name, "fbeta_score", ((n_outputs, average, beta), threshold or
    -1)) of a Keras F1Score or FBetaScore."""
    kind_name = type(metric).__name__
    config = metric.get_config()
    name = config.get("name", kind_name)
    if n_outputs > FBETA_MAX_OUTPUTS:
        raise SpiDNNConfigurationError(
            f"metric {kind_name}({name!r}): the cores compute F-scores of "
            f"at most {FBETA_MAX_OUTPUTS} outputs (a bit of a float32 "
            f"each); this output has {n_outputs}")
    threshold = config.get("threshold")
    return name, "fbeta_score", (
        (n_outputs, config.get("average"), float(config.get("beta", 1.0))),
        -1.0 if threshold is None else float(numpy.float32(threshold)))


def _r2_metric(metric, n_outputs):
    """(name, "r2_score", (class_aggregation, num_regressors)) of a Keras
    R2Score of one output."""
    config = metric.get_config()
    name = config.get("name", "r2_score")
    if n_outputs != 1:
        raise SpiDNNConfigurationError(
            f"metric R2Score({name!r}): the cores compute R2Score of an "
            f"output of one value; this output has {n_outputs}")
    return name, "r2_score", (config.get("class_aggregation",
                                         "uniform_average"),
                              int(config.get("num_regressors", 0)))


def _iou_metric(metric, n_outputs):
    """(name, kind, ((num_classes, target_class_ids, ignore_class),
    BinaryIoU's threshold or None)) of a Keras IoU metric, refusing the
    settings the cores do not compute."""
    kind_name = type(metric).__name__
    config = metric.get_config()
    name = config.get("name", kind_name)
    shown = f"metric {kind_name}({name!r})"
    if kind_name == "BinaryIoU":
        if n_outputs != 1:
            raise SpiDNNConfigurationError(
                f"{shown}: the cores compute BinaryIoU of an output of one "
                f"value; this output has {n_outputs}")
        threshold = float(numpy.float32(config.get("threshold", 0.5)))
        return name, "binary_iou", ((2, tuple(config["target_class_ids"]),
                                     None), threshold)
    if config.get("axis", -1) != -1:
        raise SpiDNNConfigurationError(
            f"{shown}: axis={config['axis']!r}; the cores take the classes "
            f"over the outputs' last axis (axis=-1)")
    sparse_true = config.get("sparse_y_true", kind_name.startswith(
        ("IoU", "MeanIoU")))
    if kind_name.startswith("OneHot"):
        sparse_true = False
    if config.get("sparse_y_pred", not kind_name.startswith(
            ("IoU", "MeanIoU"))):
        raise SpiDNNConfigurationError(
            f"{shown}: sparse_y_pred=True (the outputs are class ids); the "
            f"cores compute it of the outputs' argmax: give "
            f"sparse_y_pred=False")
    n_classes = int(config["num_classes"])
    targets = tuple(config.get("target_class_ids", range(n_classes)))
    return name, "iou_sparse" if sparse_true else "iou_one_hot", (
        (n_classes, targets, config.get("ignore_class")), None)


def _setting(metric, kind, config):
    """A metric object's k or threshold, refusing settings the cores do
    not compute."""
    name = f"{type(metric).__name__}({config.get('name', kind)!r})"
    if kind == "binary_accuracy" and config.get("threshold", 0.5) != 0.5:
        raise SpiDNNConfigurationError(
            f"metric {name}: threshold={config['threshold']!r}; the cores "
            f"compute binary accuracy at 0.5 only")
    if kind.startswith("loss_") or kind.endswith("_correlation"):
        for setting, default in (("label_smoothing", 0.0), ("axis", -1),
                                 ("ignore_class", None)):
            if config.get(setting, default) != default:
                raise SpiDNNConfigurationError(
                    f"metric {name}: {setting}={config[setting]!r}; the "
                    f"cores compute it at {setting}={default!r}")
        return bool(config.get("from_logits", False))
    if kind in _TOP_K:
        if config.get("from_sorted_ids"):
            raise SpiDNNConfigurationError(
                f"metric {name}: from_sorted_ids=True; the cores compute "
                f"it from the outputs (from_sorted_ids=False)")
        k = config.get("k", 5)
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or (
                k < 1):
            raise SpiDNNConfigurationError(
                f"metric {name}: k={k!r}; k is a whole number of at least 1")
        return int(k)
    if kind not in _CONFUSION:
        return None
    for setting in ("top_k", "class_id"):
        if config.get(setting) is not None:
            raise SpiDNNConfigurationError(
                f"metric {name}: {setting}={config[setting]!r}; the cores "
                f"count every output ({setting}=None)")
    thresholds = config.get("thresholds")
    if thresholds is None:
        return 0.5
    if numpy.ndim(thresholds) == 1 and len(thresholds) == 1:
        thresholds = thresholds[0]
    if numpy.ndim(thresholds) != 0:
        raise SpiDNNConfigurationError(
            f"metric {name}: thresholds={thresholds!r}; the cores count "
            f"at one threshold (a number, or None for 0.5)")
    return float(numpy.float32(thresholds))
