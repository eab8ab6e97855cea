// keras.optimizers.Adamax (keras/src/optimizers/adamax.py): m += (g - m)
// (1 - b1); u = max(b2 u, |g|); w -= lr m / ((1 - b1^t) (u + eps)), lr
// and 1 - b1^t the step's values (the host's, in float32).  State: the
// momenta, then the infinity norms (u).
#ifndef SPIDNN_OPTIMIZER_ADAMAX_H
#define SPIDNN_OPTIMIZER_ADAMAX_H

#include "types.h"

OPTIMIZER_FIXED_SHAPE(adamax, ADAMAX, 2)

static inline void adamax_step(const optimizer_t *o, trained_t *t,
                               const float *step) {
    float lr = step[0], one_minus_beta_1_power = step[1];
    float *w = t->weights, *g = t->grads;
    float *m = t->state[0], *u = t->state[1];
    for (uint32_t i = 0; i < t->n; i++) {
        m[i] = m[i] + (g[i] - m[i]) * o->one_minus_beta_1;
        float decayed = o->beta_2 * u[i];
        float size = g[i] < 0.0f ? -g[i] : g[i];
        u[i] = decayed > size ? decayed : size;
        w[i] = w[i] - (lr * m[i])
                / (one_minus_beta_1_power * (u[i] + o->epsilon));
        g[i] = 0.0f;
    }
}

#endif
