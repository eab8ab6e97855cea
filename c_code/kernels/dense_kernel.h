// The maths of a slice of a Dense layer, free of packets.
//
// The slice's kernel is stored row by row, one row per neuron:
// kernel[j * n_in + i] is Keras' kernel[i][first + j].
#ifndef SPIDNN_DENSE_KERNEL_H
#define SPIDNN_DENSE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

// acc + sum_i w_i x_i over n values, in index order: a row, or one block
// of a row streamed from SDRAM (which carries acc from block to block, so
// the sum is the same bit for bit).
static inline float dense_dot(float acc, const float *w, const float *x,
                              uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        acc += w[i] * x[i];
    }
    return acc;
}

// g_i += x_i d over n values (a row of the gradient, or one block).
static inline void dense_add_scaled(float *g, const float *x, float d,
                                    uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        g[i] += x[i] * d;
    }
}

// z_j = start_j + sum_i w_ji x_i + b_j, in index order whatever the
// packet order.  start (NULL: 0) carries the sums of the inputs before
// this core's in a 2-D split; bias NULL: none (a core before the last
// input block, whose sums go on unfinished).
static inline void dense_forward(uint32_t n, uint32_t n_in,
                                 const float *kernel, const float *bias,
                                 const float *start, const float *x,
                                 float *z) {
    for (uint32_t j = 0; j < n; j++) {
        float acc = dense_dot(start != NULL ? start[j] : 0.0f,
                              &kernel[j * n_in], x, n_in);
        z[j] = bias != NULL ? acc + bias[j] : acc;
    }
}

// Adds one sample's gradients: dW_ji += x_i delta_j, db_j += delta_j
// (bias_grad NULL: no bias).
static inline void dense_accumulate(uint32_t n, uint32_t n_in,
                                    const float *x, const float *delta,
                                    float *kernel_grad, float *bias_grad) {
    for (uint32_t j = 0; j < n; j++) {
        dense_add_scaled(&kernel_grad[j * n_in], x, delta[j], n_in);
        if (bias_grad != NULL) {
            bias_grad[j] += delta[j];
        }
    }
}

#endif
