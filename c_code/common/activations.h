// Element-wise activation functions by id (ids: spidnn_layouts.h).
#ifndef SPIDNN_ACTIVATIONS_H
#define SPIDNN_ACTIVATIONS_H

#include "spidnn_layouts.h"
#include "spidnn_math.h"

// f(z) for every activation but softmax, which needs the whole layer.
static inline float activation_apply(uint32_t activation, float z) {
    switch (activation) {
    case ACTIVATION_RELU:
        return z > 0.0f ? z : 0.0f;
    case ACTIVATION_SIGMOID:
        return spidnn_sigmoidf(z);
    case ACTIVATION_TANH:
        return spidnn_tanhf(z);
    default:
        return z;
    }
}

// The derivative's factor for the backward pass, from the neuron's output
// `a` (and `z`), as TensorFlow's gradients of these ops compute it.
static inline float activation_backward(uint32_t activation, float a,
                                        float z, float grad) {
    switch (activation) {
    case ACTIVATION_RELU:
        return z > 0.0f ? grad : 0.0f;
    case ACTIVATION_SIGMOID:
        return grad * a * (1.0f - a);
    case ACTIVATION_TANH:
        return grad * (1.0f - a * a);
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
