// keras.optimizers.Adagrad (keras/src/optimizers/adagrad.py): a += g^2;
// w -= lr g / sqrt(a + eps).  State: the accumulators, which start at
// Keras' initial_accumulator_value (the host sends them, as any state).
#ifndef SPIDNN_OPTIMIZER_ADAGRAD_H
#define SPIDNN_OPTIMIZER_ADAGRAD_H

#include "types.h"

OPTIMIZER_FIXED_SHAPE(adagrad, ADAGRAD, 1)

static inline void adagrad_step(const optimizer_t *o, trained_t *t,
                                const float *step) {
    float lr = step[0];
    float *w = t->weights, *g = t->grads, *a = t->state[0];
    for (uint32_t i = 0; i < t->n; i++) {
        a[i] = a[i] + g[i] * g[i];
        w[i] = w[i] - (lr * g[i]) / spidnn_sqrtf(a[i] + o->epsilon);
        g[i] = 0.0f;
    }
}

#endif
