// Element-wise activation functions by id (ids: spidnn_layouts.h).
#ifndef SPIDNN_ACTIVATIONS_H
#define SPIDNN_ACTIVATIONS_H

#include "spidnn_layouts.h"
#include "spidnn_math.h"

// Keras' and TensorFlow's constants, as float32 (TensorFlow casts them).
#define SELU_SCALE 1.05070098735548f
#define SELU_SCALE_ALPHA 1.75809934084738f     // scale * alpha
#define LEAKY_RELU_SLOPE 0.2f                  // Keras' string default
#define SQRT_HALF 0.707106781f                 // gelu's 1 / sqrt(2)
#define TWO_OVER_SQRT_PI 1.12837917f           // erf' (0) of erfc's gradient
#define GELU_TANH_SCALE 0.797884561f           // sqrt(2 / pi)
#define GELU_TANH_CUBIC 0.044715f

// The constants of the activations that have settings (Keras' ReLU,
// LeakyReLU and ELU layers'), from layer_params.activation_*.
typedef struct {
    float alpha;        // leaky_relu's and relu_parametric's negative slope,
                        // elu_alpha's alpha
    float max_value;    // relu_parametric's upper bound (with clip)
    float threshold;    // relu_parametric's threshold
    uint32_t clip;      // relu_parametric: one of ACTIVATION_CLIP_*
} activation_params_t;

// The constants of the activations named by a Keras string alone.
static const activation_params_t ACTIVATION_PARAMS_DEFAULT = {
    .alpha = LEAKY_RELU_SLOPE, .max_value = 0.0f, .threshold = 0.0f,
    .clip = ACTIVATION_CLIP_NONE};

// min(max(x, 0), 6), TensorFlow's Relu6.
static inline float relu6(float x) {
    return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
}

// Keras 3's hard_sigmoid, relu6(x + 3) / 6, from r = relu6(x + 3).
static inline float hard_sigmoid_of(float r) {
    return r / 6.0f;
}

// Exact gelu as TensorFlow writes it: 0.5 z erfc(-z / sqrt 2).
static inline float gelu(float z) {
    return (0.5f * z) * spidnn_erfcf(-z * SQRT_HALF);
}

// TensorFlow's gelu(approximate=True):
// 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))).
static inline float gelu_tanh_inner(float z) {
    return GELU_TANH_SCALE * (z + GELU_TANH_CUBIC * (z * z * z));
}

static inline float gelu_approximate(float z) {
    return (0.5f * z) * (1.0f + spidnn_tanhf(gelu_tanh_inner(z)));
}

// Keras' relu(z, negative_slope, max_value, threshold) as its ReLU op
// composes TensorFlow's: where(z > threshold, z, 0), clipped to
// [0, max_value] (minimum, then maximum; or Relu6), less negative_slope
// relu(-z + threshold).
static inline float relu_parametric(float z, const activation_params_t *p) {
    float x = z > p->threshold ? z : 0.0f;
    if (p->clip == ACTIVATION_CLIP_RELU6) {
        x = relu6(z);                      // no threshold, max_value 6
    } else if (p->clip == ACTIVATION_CLIP_CLIP) {
        x = x < p->max_value ? x : p->max_value;
        x = x > 0.0f ? x : 0.0f;
    }
    if (p->alpha != 0.0f) {
        float below = -z + p->threshold;
        x -= p->alpha * (below > 0.0f ? below : 0.0f);
    }
    return x;
}

// Its gradient: where's passes above the threshold, minimum's and
// maximum's where z is within [0, max_value] (both ends included), Relu6's
// inside (0, 6); the negative part's, negative_slope times the gradient,
// below the threshold (the two never both).
static inline float relu_parametric_backward(float z, float grad,
                                             const activation_params_t *p) {
    bool passes;
    if (p->clip == ACTIVATION_CLIP_RELU6) {
        passes = z > 0.0f && z < 6.0f;
    } else {
        passes = z > p->threshold && (p->clip == ACTIVATION_CLIP_NONE
                || (z <= p->max_value && z >= 0.0f));
    }
    if (passes) {
        return grad;
    }
    return p->alpha != 0.0f && -z + p->threshold > 0.0f
            ? p->alpha * grad : 0.0f;
}

// Keras' elu(z, alpha) for alpha != 1, as TensorFlow computes it:
// where(z > 0, elu(z), alpha elu(z)).
static inline float elu_of(float z) {
    return z < 0.0f ? spidnn_expf(z) - 1.0f : z;
}

static inline float elu_alpha(float z, float alpha) {
    float e = elu_of(z);
    return z > 0.0f ? e : alpha * e;
}

// Its gradient: where's (alpha times it below 0), then EluGrad's from
// elu(z), which the layer does not keep (it keeps alpha elu(z)).
static inline float elu_alpha_backward(float z, float grad, float alpha) {
    if (z > 0.0f) {
        return grad;
    }
    float e = elu_of(z);
    float g = alpha * grad;
    return e < 0.0f ? (e + 1.0f) * g : g;
}

// f(z) for every activation but softmax, which needs the whole layer.
static inline float activation_apply(uint32_t activation, float z,
                                     const activation_params_t *p) {
    switch (activation) {
    case ACTIVATION_RELU:
        return z > 0.0f ? z : 0.0f;
    case ACTIVATION_SIGMOID:
        return spidnn_sigmoidf(z);
    case ACTIVATION_TANH:
        return spidnn_tanhf(z);
    case ACTIVATION_ELU:
        return z < 0.0f ? spidnn_expf(z) - 1.0f : z;
    case ACTIVATION_SELU:
        return z < 0.0f ? SELU_SCALE_ALPHA * (spidnn_expf(z) - 1.0f)
                        : SELU_SCALE * z;
    case ACTIVATION_GELU:
        return gelu(z);
    case ACTIVATION_GELU_APPROXIMATE:
        return gelu_approximate(z);
    case ACTIVATION_SILU:
        return z * spidnn_sigmoidf(z);
    case ACTIVATION_LEAKY_RELU:
        return z > 0.0f ? z : z * p->alpha;
    case ACTIVATION_SOFTPLUS:
        return spidnn_softplusf(z);
    case ACTIVATION_SOFTSIGN:
        return z / ((z < 0.0f ? -z : z) + 1.0f);
    case ACTIVATION_HARD_SIGMOID:
        return hard_sigmoid_of(relu6(z + 3.0f));
    case ACTIVATION_RELU6:
        return relu6(z);
    case ACTIVATION_HARD_SILU:
        return z * hard_sigmoid_of(relu6(z + 3.0f));
    case ACTIVATION_MISH:
        return z * spidnn_tanhf(spidnn_softplusf(z));
    case ACTIVATION_EXPONENTIAL:
        return spidnn_expf(z);
    case ACTIVATION_RELU_PARAMETRIC:
        return relu_parametric(z, p);
    case ACTIVATION_ELU_ALPHA:
        return elu_alpha(z, p->alpha);
    default:
        return z;
    }
}

// The gradients of the composite activations, each as TensorFlow's
// autodiff chains its ops' gradients (same products, same order), so that
// the rounding matches as closely as it can.

// 0.5 z erfc(w), w = -z / sqrt 2: erfc's gradient is -2/sqrt(pi) e^(-w^2).
static inline float gelu_backward(float z, float grad) {
    float w = -z * SQRT_HALF;
    float through_erfc = (((0.5f * z) * grad) * -TWO_OVER_SQRT_PI)
            * spidnn_expf(-(w * w));
    return 0.5f * (grad * spidnn_erfcf(w)) - through_erfc * SQRT_HALF;
}

static inline float gelu_approximate_backward(float z, float grad) {
    float t = spidnn_tanhf(gelu_tanh_inner(z));
    float inner = GELU_TANH_SCALE * (((0.5f * z) * grad) * (1.0f - t * t));
    return 0.5f * (grad * (1.0f + t)) + inner
            + ((GELU_TANH_CUBIC * inner) * 3.0f) * (z * z);
}

// tf.nn.silu's own gradient: s (1 + z (1 - s)), s = sigmoid(z).
static inline float silu_backward(float z, float grad) {
    float s = spidnn_sigmoidf(z);
    return grad * (s * (1.0f + z * (1.0f - s)));
}

// z hard_sigmoid(z): relu6's gradient passes where 0 < z + 3 < 6.
static inline float hard_silu_backward(float z, float grad) {
    float r = relu6(z + 3.0f);
    float through_r = r > 0.0f && r < 6.0f ? (z * grad) / 6.0f : 0.0f;
    return grad * hard_sigmoid_of(r) + through_r;
}

// z tanh(softplus(z)): softplus' gradient is sigmoid(z).
static inline float mish_backward(float z, float grad) {
    float t = spidnn_tanhf(spidnn_softplusf(z));
    return grad * t + ((z * grad) * (1.0f - t * t)) * spidnn_sigmoidf(z);
}

// The derivative's factor for the backward pass, from the neuron's output
// `a` (and `z`), as TensorFlow's gradients of these ops compute it (its
// Elu, Selu and Relu6 gradients take the output, the others z).
static inline float activation_backward(uint32_t activation, float a,
                                        float z, float grad,
                                        const activation_params_t *p) {
    switch (activation) {
    case ACTIVATION_RELU:
        return z > 0.0f ? grad : 0.0f;
    case ACTIVATION_SIGMOID:
        return grad * a * (1.0f - a);
    case ACTIVATION_TANH:
        return grad * (1.0f - a * a);
    case ACTIVATION_ELU:
        return a < 0.0f ? (a + 1.0f) * grad : grad;
    case ACTIVATION_SELU:
        return a < 0.0f ? grad * (a + SELU_SCALE_ALPHA) : grad * SELU_SCALE;
    case ACTIVATION_GELU:
        return gelu_backward(z, grad);
    case ACTIVATION_GELU_APPROXIMATE:
        return gelu_approximate_backward(z, grad);
    case ACTIVATION_SILU:
        return silu_backward(z, grad);
    case ACTIVATION_LEAKY_RELU:
        return z > 0.0f ? grad : grad * p->alpha;
    case ACTIVATION_SOFTPLUS:
        return grad * spidnn_sigmoidf(z);
    case ACTIVATION_SOFTSIGN: {
        float d = (z < 0.0f ? -z : z) + 1.0f;
        return grad / (d * d);
    }
    case ACTIVATION_HARD_SIGMOID: {
        float r = relu6(z + 3.0f);
        return r > 0.0f && r < 6.0f ? grad / 6.0f : 0.0f;
    }
    case ACTIVATION_RELU6:
        return a > 0.0f && a < 6.0f ? grad : 0.0f;
    case ACTIVATION_HARD_SILU:
        return hard_silu_backward(z, grad);
    case ACTIVATION_MISH:
        return mish_backward(z, grad);
    case ACTIVATION_EXPONENTIAL:
        return grad * a;
    case ACTIVATION_RELU_PARAMETRIC:
        return relu_parametric_backward(z, grad, p);
    case ACTIVATION_ELU_ALPHA:
        return elu_alpha_backward(z, grad, p->alpha);
    default:
        return grad;
    }
}

// exp(z_i - max) into e (the stable softmax's numerators); returns their
// sum and writes max(z) to *max_out.
static inline float softmax_exp_sum(const float *z, uint32_t n, float *e,
                                    float *max_out) {
    float max = z[0];
    for (uint32_t i = 1; i < n; i++) {
        if (z[i] > max) {
            max = z[i];
        }
    }
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        e[i] = spidnn_expf(z[i] - max);
        sum += e[i];
    }
    *max_out = max;
    return sum;
}

// Numerically stable softmax of a whole layer's pre-activations into p.
static inline void softmax_layer(const float *z, uint32_t n, float *p) {
    float max;
    float sum = softmax_exp_sum(z, n, p, &max);
    for (uint32_t i = 0; i < n; i++) {
        p[i] /= sum;
    }
}

#endif
