// Keras' losses and their gradients, as TensorFlow computes them.
//
// Each function returns one sample's loss and writes the gradient of the
// batch's loss with respect to each output: the sample's gradient times
// `scale`, the upstream gradient of the sample's loss under Keras'
// reduction (loss_reduction_scale: 1 / (samples in the batch) for
// Keras' default, "sum_over_batch_size").
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

// ---- Keras' per-sample losses of keras/src/losses/losses.py.  Each is
// written as Keras writes it, its gradient as TensorFlow's autodiff takes
// it through the same ops, in float32: `scale` is the upstream gradient
// of the sample's loss; a mean over the outputs first divides it by n
// (TensorFlow's Mean gradient), and each op's gradient is the one its
// registered gradient computes (cited where it is not obvious).

static inline float sign_of(float x) {
    return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
}

// mean_absolute_error: mean(|y - p|); Abs' gradient is sign(x).
static inline float loss_mae(uint32_t n, const float *p, const float *y,
                             float scale, float *grad) {
    float s = scale / (float) n, sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float d = y[j] - p[j];
        sum += d < 0.0f ? -d : d;
        grad[j] = -(s * sign_of(d));
    }
    return sum / (float) n;
}

// mean_absolute_percentage_error: 100 mean(|(y - p) / max(|y|, eps)|).
static inline float loss_mape(uint32_t n, const float *p, const float *y,
                              float scale, float *grad) {
    float s = (scale * 100.0f) / (float) n, sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float ay = y[j] < 0.0f ? -y[j] : y[j];
        float m = ay > LOSS_EPSILON ? ay : LOSS_EPSILON;
        float d = (y[j] - p[j]) / m;
        sum += d < 0.0f ? -d : d;
        grad[j] = -((s * sign_of(d)) / m);   // RealDiv's dx: grad / m
    }
    return 100.0f * (sum / (float) n);
}

// mean_squared_logarithmic_error: mean((log(max(p, eps) + 1)
// - log(max(y, eps) + 1))^2); Maximum passes the gradient where p >= eps.
static inline float loss_msle(uint32_t n, const float *p, const float *y,
                              float scale, float *grad) {
    float s = scale / (float) n, sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float u = (p[j] > LOSS_EPSILON ? p[j] : LOSS_EPSILON) + 1.0f;
        float v = (y[j] > LOSS_EPSILON ? y[j] : LOSS_EPSILON) + 1.0f;
        float d = spidnn_logf(u) - spidnn_logf(v);
        sum += d * d;
        // Square: grad (2 x); Log: grad (1 / x).
        grad[j] = p[j] >= LOSS_EPSILON
                ? (s * (d * 2.0f)) * (1.0f / u) : 0.0f;
    }
    return sum / (float) n;
}

// huber: mean(where(|e| <= delta, 0.5 e^2, delta |e| - 0.5 delta^2)),
// e = p - y.
static inline float loss_huber(uint32_t n, const float *p, const float *y,
                               float delta, float scale, float *grad) {
    float s = scale / (float) n, sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float e = p[j] - y[j];
        float a = e < 0.0f ? -e : e;
        if (a <= delta) {
            sum += 0.5f * (e * e);
            grad[j] = (0.5f * s) * (e * 2.0f);
        } else {
            sum += delta * a - 0.5f * (delta * delta);
            grad[j] = (delta * s) * sign_of(e);
        }
    }
    return sum / (float) n;
}

// log_cosh: mean(x + softplus(-2 x) - log 2), x = p - y.  Softplus'
// gradient is TensorFlow's SoftplusGrad, grad / (1 + exp(-features)).
static inline float loss_log_cosh(uint32_t n, const float *p,
                                  const float *y, float scale,
                                  float *grad) {
    const float log2 = 0.693147182f;     // float32(log(2))
    float s = scale / (float) n, sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float x = p[j] - y[j];
        float u = x * -2.0f;
        sum += (x + spidnn_softplusf(u)) - log2;
        grad[j] = s + (s / (1.0f + spidnn_expf(-u))) * -2.0f;
    }
    return sum / (float) n;
}

// kl_divergence: sum(yc log(yc / pc)), yc, pc clipped to [eps, 1]
// (clip_by_value passes the gradient on the closed interval).
static inline float loss_kld(uint32_t n, const float *p, const float *y,
                             float scale, float *grad) {
    float sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float yc = y[j] < LOSS_EPSILON ? LOSS_EPSILON
                : (y[j] > 1.0f ? 1.0f : y[j]);
        float pc = p[j] < LOSS_EPSILON ? LOSS_EPSILON
                : (p[j] > 1.0f ? 1.0f : p[j]);
        float q = yc / pc;
        sum += yc * spidnn_logf(q);
        // Log: grad (1 / q); RealDiv's dy: grad ((-x / y) / y).
        grad[j] = (p[j] >= LOSS_EPSILON && p[j] <= 1.0f)
                ? ((yc * scale) * (1.0f / q)) * ((-yc / pc) / pc) : 0.0f;
    }
    return sum;
}

// poisson: mean(p - y log(p + eps)).
static inline float loss_poisson(uint32_t n, const float *p,
                                 const float *y, float scale,
                                 float *grad) {
    float s = scale / (float) n, sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float u = p[j] + LOSS_EPSILON;
        sum += p[j] - y[j] * spidnn_logf(u);
        grad[j] = s + (y[j] * -s) * (1.0f / u);
    }
    return sum / (float) n;
}

// hinge (squared: squared_hinge): mean(max(1 - y p, 0)) (of its
// square), y in {-1, 1} (the host converts 0/1 labels, as Keras'
// convert_binary_labels_to_hinge does); Maximum passes where 1 - y p >= 0.
static inline float loss_hinge(uint32_t n, const float *p, const float *y,
                               bool squared, float scale, float *grad) {
    float s = scale / (float) n, sum = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float m = 1.0f - y[j] * p[j];
        float h = m > 0.0f ? m : 0.0f;
        sum += squared ? h * h : h;
        float g = squared ? s * (h * 2.0f) : s;
        grad[j] = m >= 0.0f ? y[j] * -g : 0.0f;
    }
    return sum / (float) n;
}

// categorical_hinge: max(max_j((1 - y_j) p_j) - sum_j(y_j p_j) + 1, 0).
// reduce_max's gradient is shared by its tied maxima (TensorFlow's
// _MaxGrad: indicators / their count).
static inline float loss_categorical_hinge(uint32_t n, const float *p,
                                           const float *y, float scale,
                                           float *grad) {
    float pos = 0.0f, neg = 0.0f;
    uint32_t ties = 0;
    for (uint32_t j = 0; j < n; j++) {
        pos += y[j] * p[j];
        float v = (1.0f - y[j]) * p[j];
        if (j == 0 || v > neg) {
            neg = v;
            ties = 1;
        } else if (v == neg) {
            ties++;
        }
    }
    float m = (neg - pos) + 1.0f;
    float g = m >= 0.0f ? scale : 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float share = (1.0f - y[j]) * p[j] == neg
                ? (1.0f / (float) ties) * g : 0.0f;
        grad[j] = (1.0f - y[j]) * share + y[j] * -g;
    }
    return m > 0.0f ? m : 0.0f;
}

// rsqrt(sum x^2) (into *rsqrt) and its cap at 1 / eps: Keras' L2
// normalize multiplies by the capped one.
static inline float inverse_norm(uint32_t n, const float *x, float *rsqrt) {
    float ss = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        ss += x[j] * x[j];
    }
    *rsqrt = 1.0f / spidnn_sqrtf(ss);
    return *rsqrt < 1.0f / LOSS_EPSILON ? *rsqrt : 1.0f / LOSS_EPSILON;
}

// cosine_similarity: -sum(normalize(y) normalize(p)), normalize(x) =
// x min(rsqrt(sum x^2), 1 / eps).  The gradient reaches p directly and
// through the norm: Minimum passes where rsqrt <= 1 / eps, and Rsqrt's
// is TensorFlow's RsqrtGrad, -0.5 (dy y) (y y) (0 where dy is 0).
static inline float loss_cosine(uint32_t n, const float *p, const float *y,
                                float scale, float *grad) {
    float rsqrt_y, rsqrt_p;
    float inv_y = inverse_norm(n, y, &rsqrt_y);
    float inv_p = inverse_norm(n, p, &rsqrt_p);
    float sum = 0.0f, d_inv = 0.0f;
    for (uint32_t j = 0; j < n; j++) {
        float yn = y[j] * inv_y;
        sum += yn * (p[j] * inv_p);
        grad[j] = yn * -scale;                 // dL/d(normalize(p)_j)
        d_inv += p[j] * grad[j];
    }
    float d_rsqrt = rsqrt_p <= 1.0f / LOSS_EPSILON ? d_inv : 0.0f;
    float d_ss = d_rsqrt == 0.0f ? 0.0f
            : (-0.5f * (d_rsqrt * rsqrt_p)) * (rsqrt_p * rsqrt_p);
    (void) rsqrt_y;
    for (uint32_t j = 0; j < n; j++) {
        grad[j] = grad[j] * inv_p + d_ss * (p[j] * 2.0f);
    }
    return -sum;
}

// Keras' label smoothing of the cross-entropies, y (1 - s) + shift
// (categorical: shift = s / classes; binary: 0.5 s), into `out`; the
// host gives float32(1 - s) and the shift as Keras' float32 arithmetic
// rounds them.
static inline const float *smoothed(const loss_params_t *params,
                                    uint32_t n, const float *y,
                                    float *out) {
    if (params->label_smoothing == 0u) {
        return y;
    }
    float keep = bits_to_float(params->smoothing_keep);
    float shift = bits_to_float(params->smoothing_shift);
    for (uint32_t j = 0; j < n; j++) {
        out[j] = y[j] * keep + shift;
    }
    return out;
}

// One sample's loss for the loss `params` names (LOSS_*); `y` holds the
// label's values, or for the sparse loss `y_index` the class; `smooth`
// has room for a smoothed label.
static inline float loss_compute(const loss_params_t *params, uint32_t n,
                                 const float *out, const float *y,
                                 uint32_t y_index, float scale, float *grad,
                                 float *smooth) {
    bool from_logits = params->from_logits != 0u;
    switch (params->loss) {
    case LOSS_CATEGORICAL_CROSSENTROPY:
        y = smoothed(params, n, y, smooth);
        return from_logits ? loss_cce_logits(n, out, y, scale, grad)
                           : loss_cce_probabilities(n, out, y, scale, grad);
    case LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        return from_logits
                ? loss_sparse_logits(n, out, y_index, scale, grad)
                : loss_sparse_probabilities(n, out, y_index, scale, grad);
    case LOSS_BINARY_CROSSENTROPY:
        y = smoothed(params, n, y, smooth);
        return from_logits ? loss_bce_logits(n, out, y, scale, grad)
                           : loss_bce_probabilities(n, out, y, scale, grad);
    case LOSS_MEAN_ABSOLUTE_ERROR:
        return loss_mae(n, out, y, scale, grad);
    case LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR:
        return loss_mape(n, out, y, scale, grad);
    case LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR:
        return loss_msle(n, out, y, scale, grad);
    case LOSS_HUBER:
        return loss_huber(n, out, y, bits_to_float(params->delta), scale,
                          grad);
    case LOSS_LOG_COSH:
        return loss_log_cosh(n, out, y, scale, grad);
    case LOSS_KL_DIVERGENCE:
        return loss_kld(n, out, y, scale, grad);
    case LOSS_POISSON:
        return loss_poisson(n, out, y, scale, grad);
    case LOSS_HINGE:
    case LOSS_SQUARED_HINGE:
        return loss_hinge(n, out, y, params->loss == LOSS_SQUARED_HINGE,
                          scale, grad);
    case LOSS_CATEGORICAL_HINGE:
        return loss_categorical_hinge(n, out, y, scale, grad);
    case LOSS_COSINE_SIMILARITY:
        return loss_cosine(n, out, y, scale, grad);
    default:
        return loss_mse(n, out, y, scale, grad);
    }
}

// The label word holding the sample's weight: the last, or before the
// batch's sum of weights (REDUCTION_WEIGHT_SUM).
static inline uint32_t loss_weight_word(const loss_params_t *params) {
    return params->label_width
            - (params->reduction == REDUCTION_WEIGHT_SUM ? 2u : 1u);
}

// The upstream gradient of one sample's loss under Keras' reduction
// (keras/src/losses/loss.py reduce_values), before its sample weight:
// the loss weight over the batch's size (sum_over_batch_size, mean), times
// the losses Keras keeps per sample (sum: TensorFlow's Sum passes the
// gradient to each), or over the batch's sum of sample weights, which
// the host streams after the weight (mean_with_sample_weight;
// divide_no_nan's gradient is 0 where the sum is 0).
static inline float loss_reduction_scale(const loss_params_t *params,
                                         const float *labels,
                                         uint32_t batch_size) {
    float loss_weight = bits_to_float(params->loss_weight);
    if (params->reduction == REDUCTION_SUM) {
        return loss_weight * bits_to_float(params->reduction_factor);
    }
    if (params->reduction == REDUCTION_WEIGHT_SUM) {
        float sum = labels[params->label_width - 1u];
        return sum == 0.0f ? 0.0f : loss_weight / sum;
    }
    return loss_weight / (float) batch_size;
}

#endif
