// The maths of a slice of a Dense layer, free of packets.
//
// The slice's kernel is stored row by row, one row per neuron:
// kernel[j * n_in + i] is Keras' kernel[i][first + j].
#ifndef SPIDNN_DENSE_KERNEL_H
#define SPIDNN_DENSE_KERNEL_H

#include <stdint.h>

// z_j = sum_i w_ji x_i + b_j, in index order whatever the packet order.
static inline void dense_forward(uint32_t n, uint32_t n_in,
                                 const float *kernel, const float *bias,
                                 const float *x, float *z) {
    for (uint32_t j = 0; j < n; j++) {
        const float *w = &kernel[j * n_in];
        float acc = 0.0f;
        for (uint32_t i = 0; i < n_in; i++) {
            acc += w[i] * x[i];
        }
        z[j] = acc + bias[j];
    }
}

// Adds one sample's gradients: dW_ji += x_i delta_j, db_j += delta_j.
static inline void dense_accumulate(uint32_t n, uint32_t n_in,
                                    const float *x, const float *delta,
                                    float *kernel_grad, float *bias_grad) {
    for (uint32_t j = 0; j < n; j++) {
        float d = delta[j];
        float *g = &kernel_grad[j * n_in];
        for (uint32_t i = 0; i < n_in; i++) {
            g[i] += x[i] * d;
        }
        bias_grad[j] += d;
    }
}

#endif
