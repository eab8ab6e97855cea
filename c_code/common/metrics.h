// Keras' per-sample metrics of one sample (keras/src/metrics/
// accuracy_metrics.py, regression_metrics.py) and its confusion counts
// (confusion_metrics.py), computed by the loss core beside the loss.
// Each sends one value per sample; the host averages the means over the
// epoch, as Keras' MeanMetricWrapper does, and sums the counts, as
// Keras' confusion-matrix metrics accumulate them (spiDNN/metrics.py).
#ifndef SPIDNN_METRICS_H
#define SPIDNN_METRICS_H

#include <stdint.h>
#include <stdbool.h>

#include "spidnn_layouts.h"
#include "activations.h"

// The first index of the largest value, as argmax.
static inline uint32_t metric_argmax(uint32_t n, const float *v) {
    uint32_t best = 0;
    for (uint32_t i = 1; i < n; i++) {
        if (v[i] > v[best]) {
            best = i;
        }
    }
    return best;
}

// The outputs Keras' metrics see, from what the loss core received: the
// model's outputs as they are, or, when the loss takes the output layer's
// z (sends_logits, after a sigmoid or softmax), that layer's activation
// of it, into p.  Returns the outputs.
static inline const float *metric_outputs(uint32_t n, const float *out,
                                          bool sends_logits,
                                          uint32_t activation, float *p) {
    if (!sends_logits) {
        return out;
    }
    if (activation == ACTIVATION_SOFTMAX) {
        softmax_layer(out, n, p);
    } else {
        // (A loss takes logits after a sigmoid or softmax, which have
        // no settings.)
        for (uint32_t i = 0; i < n; i++) {
            p[i] = activation_apply(activation, out[i],
                                    &ACTIVATION_PARAMS_DEFAULT);
        }
    }
    return p;
}

// The target's rank for TensorFlow's in_top_k: how many outputs are
// larger than the target's (outputs tied with it at the boundary all
// count as in the top k), or METRIC_NOT_RANKED for a target outside the
// outputs or an output that is not finite, which no k takes.  The host
// tells rank < k for each k asked for (spiDNN/metrics.py).
#define METRIC_NOT_RANKED 3.0e38f
static inline float metric_top_k_rank(uint32_t n, const float *p,
                                      uint32_t target) {
    if (target >= n || p[target] != p[target]
            || p[target] - p[target] != 0.0f) {
        return METRIC_NOT_RANKED;   // out of range, NaN or infinite
    }
    uint32_t larger = 0;
    for (uint32_t i = 0; i < n; i++) {
        larger += p[i] > p[target] ? 1u : 0u;
    }
    return (float) larger;
}

// How many outputs of the sample fall in one cell of the confusion
// matrix at `threshold` (an output above it predicts positive; a label
// other than 0 is positive), as Keras' confusion-matrix metrics count.
static inline float metric_confusion(uint32_t n, const float *p,
                                     const float *y, float threshold,
                                     bool predicted, bool actual) {
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        count += ((p[i] > threshold) == predicted
                  && (y[i] != 0.0f) == actual) ? 1u : 0u;
    }
    return (float) count;
}

// The bucket of Keras' AUC and its *AtRecall / *AtSpecificity metrics
// with `thresholds` evenly spaced thresholds (Keras' fast path):
// ceil(p * (thresholds - 1)) - 1 of the output clipped to [0, 1] (its
// sigmoid first, with from_logits), so that an output counts as positive
// at every threshold below its bucket's top, strictly, as Keras' counts:
// -1 for an output of 0 or less (AUC, whose first threshold is below 0,
// takes it as 0; the others drop it), NaN for NaN (which Keras' segment
// sums drop).  The host counts each bucket's positive and negative labels
// and sums them from the top (spiDNN/metric_areas.py).
static inline float metric_auc_bucket(float p, uint32_t thresholds,
                                      bool from_logits) {
    if (from_logits) {
        p = spidnn_sigmoidf(p);
    }
    if (p != p) {
        return p;
    }
    if (!(p > 0.0f)) {
        return -1.0f;
    }
    float scaled = (p < 1.0f ? p : 1.0f) * (float) (thresholds - 1);
    uint32_t whole = (uint32_t) scaled;           // floor: scaled > 0
    float ceiling = (float) whole < scaled ? (float) (whole + 1u)
                                           : (float) whole;
    return ceiling - 1.0f;
}

// mean(x) over n values, TensorFlow's reduce_mean: the sum, then / n.
static inline float metric_mean(uint32_t n, const float *x, float shift) {
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        sum += x[i] - shift;
    }
    return sum / (float) n;
}

// var(x - shift) as Keras' ops.var: the mean of the squared deviations
// from (x - shift)'s own mean.
static inline float metric_var(uint32_t n, const float *x, float shift) {
    float m = metric_mean(n, x, shift), sum = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        float d = (x[i] - shift) - m;
        sum += d * d;
    }
    return sum / (float) n;
}

// Keras' pearson_correlation of a sample: each of y and p centred and
// over its std (ops.std of the centred values), the mean of their
// products.
static inline float metric_pearson(uint32_t n, const float *p,
                                   const float *y) {
    float ym = metric_mean(n, y, 0.0f), pm = metric_mean(n, p, 0.0f);
    float ys = spidnn_sqrtf(metric_var(n, y, ym));
    float ps = spidnn_sqrtf(metric_var(n, p, pm));
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        sum += ((y[i] - ym) / ys) * ((p[i] - pm) / ps);
    }
    return sum / (float) n;
}

// Keras' concordance_correlation of a sample, as Keras writes it (its
// covariance centres y_true on y_pred's mean).
static inline float metric_concordance(uint32_t n, const float *p,
                                       const float *y) {
    float ym = metric_mean(n, y, 0.0f), pm = metric_mean(n, p, 0.0f);
    float norm = metric_var(n, y, ym) + metric_var(n, p, pm)
            + (ym - pm) * (ym - pm);
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        float covar = (y[i] - pm) * (p[i] - pm);
        sum += 2.0f * covar / (norm + 1e-7f);
    }
    return sum / (float) n;
}

// Keras' F1Score / FBetaScore prediction of a sample as a bit per output
// (at most 24, so the mask is a whole float32): above `threshold`, or,
// with threshold < 0 (Keras' None), equal to the largest and of magnitude
// above 1e-9, ties included.
static inline float metric_predicted_mask(uint32_t n, const float *p,
                                          float threshold) {
    float top = p[0];
    for (uint32_t i = 1; i < n; i++) {
        top = p[i] > top ? p[i] : top;
    }
    uint32_t mask = 0;
    for (uint32_t i = 0; i < n; i++) {
        float magnitude = p[i] < 0.0f ? -p[i] : p[i];
        bool predicted = threshold < 0.0f
                ? p[i] >= top && magnitude > 1e-9f : p[i] > threshold;
        mask |= predicted ? 1u << i : 0u;
    }
    return (float) mask;
}

// The labels that are 1, a bit each; -1 if one is neither 0 nor 1 (Keras
// weighs by the label's value, which the masks cannot: the host refuses).
static inline float metric_label_mask(uint32_t n, const float *y) {
    uint32_t mask = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (y[i] != 0.0f && y[i] != 1.0f) {
            return -1.0f;
        }
        mask |= y[i] == 1.0f ? 1u << i : 0u;
    }
    return (float) mask;
}

// The metric of one sample.  `out` is what the loss core received (the
// output layer's z when it sends_logits): the accuracies take their
// argmax, which a softmax keeps; `p` the outputs Keras' metrics see
// (metric_outputs).
static inline float metric_value(uint32_t metric, uint32_t n,
                                 const float *out, const float *p,
                                 const float *y, uint32_t y_index,
                                 float threshold, uint32_t auc_thresholds,
                                 bool auc_from_logits,
                                 float fbeta_threshold) {
    switch (metric) {
    case METRIC_PREDICTED_MASK:
        return metric_predicted_mask(n, p, fbeta_threshold);
    case METRIC_LABEL_MASK:
        return metric_label_mask(n, y);
    case METRIC_SQUARED_RESIDUAL:      // (of a model of one output)
        return (y[0] - p[0]) * (y[0] - p[0]);
    case METRIC_AUC_BUCKET:      // (of a model of one output)
        return metric_auc_bucket(p[0], auc_thresholds, auc_from_logits);
    case METRIC_AUC_POSITIVE:
        return y[0] != 0.0f ? 1.0f : 0.0f;
    // The IoU metrics' classes (the host counts their confusion matrix):
    // TensorFlow's argmax (the first maximum), the class index of a
    // sparse label, BinaryIoU's prediction (output >= threshold) and its
    // label as given (the host casts it to a class as Keras does).
    case METRIC_PREDICTED_CLASS:
        return (float) metric_argmax(n, out);
    case METRIC_LABEL_CLASS:
        return (float) y_index;
    case METRIC_LABEL_ARGMAX:
        return (float) metric_argmax(n, y);
    case METRIC_PREDICTED_AT_THRESHOLD:
        return p[0] >= threshold ? 1.0f : 0.0f;
    case METRIC_LABEL_VALUE:
        return y[0];
    case METRIC_PEARSON_CORRELATION:
        return metric_pearson(n, p, y);
    case METRIC_CONCORDANCE_CORRELATION:
        return metric_concordance(n, p, y);
    case METRIC_SPARSE_CATEGORICAL_ACCURACY:
        return metric_argmax(n, out) == y_index ? 1.0f : 0.0f;
    case METRIC_CATEGORICAL_ACCURACY:
        return metric_argmax(n, out) == metric_argmax(n, y) ? 1.0f : 0.0f;
    case METRIC_TOP_K_CATEGORICAL_ACCURACY:
        return metric_top_k_rank(n, p, metric_argmax(n, y));
    case METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY:
        return metric_top_k_rank(n, p, y_index);
    case METRIC_TRUE_POSITIVES:
        return metric_confusion(n, p, y, threshold, true, true);
    case METRIC_FALSE_POSITIVES:
        return metric_confusion(n, p, y, threshold, true, false);
    case METRIC_TRUE_NEGATIVES:
        return metric_confusion(n, p, y, threshold, false, false);
    case METRIC_FALSE_NEGATIVES:
        return metric_confusion(n, p, y, threshold, false, true);
    default:
        break;
    }
    // The means over the outputs, summed in their order.
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        float error = y[i] - p[i];
        if (metric == METRIC_MEAN_SQUARED_ERROR) {
            sum += error * error;
        } else if (metric == METRIC_MEAN_ABSOLUTE_ERROR) {
            sum += error < 0.0f ? -error : error;
        } else if (metric == METRIC_MEAN_ABSOLUTE_PERCENTAGE_ERROR) {
            // Keras: |(y - p) / max(|y|, epsilon)|, epsilon 1e-7.
            float scale = y[i] < 0.0f ? -y[i] : y[i];
            scale = scale > 1e-7f ? scale : 1e-7f;
            float share = error / scale;
            sum += share < 0.0f ? -share : share;
        } else {
            // Binary accuracy: the outputs on the right side of 0.5.
            float predicted = p[i] > 0.5f ? 1.0f : 0.0f;
            sum += predicted == y[i] ? 1.0f : 0.0f;
        }
    }
    float mean = sum / (float) n;
    return metric == METRIC_MEAN_ABSOLUTE_PERCENTAGE_ERROR
            ? 100.0f * mean : mean;
}

#endif
