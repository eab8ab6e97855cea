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

// Numerically stable softmax of element `j` of the layer's pre-activations.
static inline float softmax_element(const float *z, uint32_t n, uint32_t j) {
    float max = z[0];
    for (uint32_t i = 1; i < n; i++) {
        if (z[i] > max) {
            max = z[i];
        }
    }
    float sum = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        sum += spidnn_expf(z[i] - max);
    }
    return spidnn_expf(z[j] - max) / sum;
}

#endif
