// Keras' SGD step at a batch end: w <- w - g * learning_rate, and the
// gradient, which already carries the batch's 1/B, starts again at zero.
#ifndef SPIDNN_SGD_H
#define SPIDNN_SGD_H

#include <stdint.h>

static inline void sgd_step(float *weights, float *grads, uint32_t n,
                            float learning_rate) {
    for (uint32_t i = 0; i < n; i++) {
        weights[i] -= grads[i] * learning_rate;
        grads[i] = 0.0f;
    }
}

#endif
