// Keras' losses and their gradients, as TensorFlow computes them.
//
// Each function returns one sample's loss and writes the gradient of the
// batch's loss with respect to each output: the sample's gradient times
// `scale`, which is 1 / (samples in the batch), because Keras' loss is the
// mean over the batch ("sum_over_batch_size").
//
// Keras takes the cross-entropies "from logits" whenever the output layer
// is a softmax or a sigmoid (their outputs carry the logits along), and
// then the gradient reaches z directly; otherwise it clips probabilities
// to [eps, 1 - eps], where the clipped ones get no gradient.
#ifndef SPIDNN_LOSSES_H
#define SPIDNN_LOSSES_H

#include <stdint.h>
#include <stdbool.h>

#include "spidnn_layouts.h"
#include "spidnn_math.h"
#include "activations.h"

#define LOSS_EPSILON 1e-7f

static inline float clip_probability(float p) {
    float hi = 1.0f - LOSS_EPSILON;
    return p < LOSS_EPSILON ? LOSS_EPSILON : (p > hi ? hi : p);
}

// Whether clip_probability passes p's gradient (TensorFlow's clip passes
// it on the closed interval).
static inline bool probability_unclipped(float p) {
    return p >= LOSS_EPSILON && p <= 1.0f - LOSS_EPSILON;
}

// softmax(z) into p; returns log(sum(exp(z - max))), max in *max_out.
static inline float log_softmax_terms(uint32_t n, const float *z, float *p,
                                      float *max_out) {
    float sum = softmax_exp_sum(z, n, p, max_out);
    for (uint32_t j = 0; j < n; j++) {
        p[j] /= sum;
    }
    return spidnn_logf(sum);
}

// mean((y - p)^2) over the outputs.
static inline float loss_mse(uint32_t n, const float *p, const float *y,
                             float scale, float *grad) {
    float sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float d = y[j] - p[j];
        sum += d * d;
        grad[j] = scale * (2.0f * (p[j] - y[j]) / (float) n);
    }
    return sum / (float) n;
}

// softmax_cross_entropy_with_logits: sum_j y_j (lse - (z_j - max)).
// The gradient is softmax(z) - y, as TensorFlow's kernel computes it.
static inline float loss_cce_logits(uint32_t n, const float *z,
                                    const float *y, float scale,
                                    float *grad) {
    float max;
    float lse = log_softmax_terms(n, z, grad, &max);
    float loss = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        loss += y[j] * (lse - (z[j] - max));
        grad[j] = scale * (grad[j] - y[j]);
    }
    return loss;
}

// -sum_j y_j log(clip(p_j / sum(p))).
static inline float loss_cce_probabilities(uint32_t n, const float *p,
                                           const float *y, float scale,
                                           float *grad) {
    float total = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        total += p[j];
    }
    float loss = 0.0f, dot = 0.0f;   // dot: dL/d(total)
    for (uint32_t j = 0; j < n; j++) {
        float q = p[j] / total;
        float qc = clip_probability(q);
        loss -= y[j] * spidnn_logf(qc);
        grad[j] = probability_unclipped(q) ? -y[j] / qc : 0.0f;   // dL/dq
        // q = p / total: TensorFlow's division gradient with respect to
        // the divisor, dL/dq_j * ((-p_j / total) / total).
        dot += grad[j] * ((-p[j] / total) / total);
    }
    for (uint32_t j = 0; j < n; j++) {
        grad[j] = scale * (grad[j] / total + dot);
    }
    return loss;
}

// sparse_softmax_cross_entropy_with_logits: lse - (z_k - max).
static inline float loss_sparse_logits(uint32_t n, const float *z,
                                       uint32_t k, float scale,
                                       float *grad) {
    float max;
    float lse = log_softmax_terms(n, z, grad, &max);
    for (uint32_t j = 0; j < n; j++) {
        grad[j] = scale * (grad[j] - (j == k ? 1.0f : 0.0f));
    }
    return lse - (z[k] - max);
}

// Keras feeds log(clip(p)) to the sparse cross-entropy with logits.
static inline float loss_sparse_probabilities(uint32_t n, const float *p,
                                              uint32_t k, float scale,
                                              float *grad) {
    float total = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        total += clip_probability(p[j]);
    }
    // softmax(log pc) = pc / sum(pc); the loss is log(sum pc) - log(pc_k).
    for (uint32_t j = 0; j < n; j++) {
        float pc = clip_probability(p[j]);
        float g = pc / total - (j == k ? 1.0f : 0.0f);   // dL/d(log pc)
        grad[j] = probability_unclipped(p[j]) ? scale * (g / pc) : 0.0f;
    }
    return spidnn_logf(total) - spidnn_logf(clip_probability(p[k]));
}

// mean_j of sigmoid_cross_entropy_with_logits, which TensorFlow writes as
// where(z >= 0, z, 0) - z y + log1p(exp(where(z >= 0, -z, z))) and
// differentiates term by term (so z = 0 takes the z >= 0 branch).
static inline float loss_bce_logits(uint32_t n, const float *z,
                                    const float *y, float scale,
                                    float *grad) {
    float sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        bool non_negative = z[j] >= 0.0f;
        float e = spidnn_expf(non_negative ? -z[j] : z[j]);
        sum += (non_negative ? z[j] : 0.0f) - z[j] * y[j]
                + spidnn_log1pf(e);
        float g = (non_negative ? 1.0f : 0.0f) - y[j]
                + (non_negative ? -1.0f : 1.0f) * (e / (1.0f + e));
        grad[j] = scale * (g / (float) n);
    }
    return sum / (float) n;
}

// mean_j of -(y log(pc) + (1 - y) log(1 - pc)), pc = clip(p).
static inline float loss_bce_probabilities(uint32_t n, const float *p,
                                           const float *y, float scale,
                                           float *grad) {
    float sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float pc = clip_probability(p[j]);
        sum -= y[j] * spidnn_logf(pc)
                + (1.0f - y[j]) * spidnn_logf(1.0f - pc);
        float g = -(y[j] / pc) + (1.0f - y[j]) / (1.0f - pc);
        grad[j] = probability_unclipped(p[j])
                ? scale * (g / (float) n) : 0.0f;
    }
    return sum / (float) n;
}

// One sample's loss for `loss` (LOSS_*); `y` holds the label's values, or
// for the sparse loss `y_index` the class.
static inline float loss_compute(uint32_t loss, bool from_logits,
                                 uint32_t n, const float *out,
                                 const float *y, uint32_t y_index,
                                 float scale, float *grad) {
    switch (loss) {
    case LOSS_CATEGORICAL_CROSSENTROPY:
        return from_logits ? loss_cce_logits(n, out, y, scale, grad)
                           : loss_cce_probabilities(n, out, y, scale, grad);
    case LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        return from_logits
                ? loss_sparse_logits(n, out, y_index, scale, grad)
                : loss_sparse_probabilities(n, out, y_index, scale, grad);
    case LOSS_BINARY_CROSSENTROPY:
        return from_logits ? loss_bce_logits(n, out, y, scale, grad)
                           : loss_bce_probabilities(n, out, y, scale, grad);
    default:
        return loss_mse(n, out, y, scale, grad);
    }
}

#endif
