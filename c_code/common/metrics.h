// Keras' accuracy metrics of one sample (keras/src/metrics/
// accuracy_metrics.py), computed by the loss core beside the loss.  Each
// sends one value per sample; the host averages them over the epoch, as
// Keras' MeanMetricWrapper does.
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

// The metric of one sample.  `out` is what the loss core received: the
// model's outputs, or its output layer's z when the loss takes it
// (sends_logits), in which case that layer's activation gives the
// outputs (a loss with from_logits on a linear output gets the outputs,
// and Keras' metrics see those).  A
// softmax keeps the order of its logits, so the argmax of the logits is
// the outputs'.
static inline float metric_value(uint32_t metric, uint32_t n,
                                 const float *out, const float *y,
                                 uint32_t y_index, bool sends_logits,
                                 uint32_t activation) {
    if (metric == METRIC_SPARSE_CATEGORICAL_ACCURACY) {
        return metric_argmax(n, out) == y_index ? 1.0f : 0.0f;
    }
    if (metric == METRIC_CATEGORICAL_ACCURACY) {
        return metric_argmax(n, out) == metric_argmax(n, y) ? 1.0f : 0.0f;
    }
    // Binary: the share of outputs on the right side of 0.5.
    float right = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        // (A loss takes logits after a sigmoid or softmax, which have
        // no settings.)
        float p = sends_logits ? activation_apply(activation, out[i],
                                                 &ACTIVATION_PARAMS_DEFAULT)
                              : out[i];
        float predicted = p > 0.5f ? 1.0f : 0.0f;
        right += predicted == y[i] ? 1.0f : 0.0f;
    }
    return right / (float) n;
}

#endif
