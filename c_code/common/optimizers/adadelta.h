// keras.optimizers.Adadelta (keras/src/optimizers/adadelta.py): a = rho
// a + (1 - rho) g^2; d = -(sqrt(s + eps) g / sqrt(a + eps)); s = rho s +
// (1 - rho) d^2; w += lr d.  State: the accumulated gradients (a), then
// the accumulated updates (s).
#ifndef SPIDNN_OPTIMIZER_ADADELTA_H
#define SPIDNN_OPTIMIZER_ADADELTA_H

#include "types.h"

OPTIMIZER_FIXED_SHAPE(adadelta, ADADELTA, 2)

static inline void adadelta_step(const optimizer_t *o, trained_t *t,
                                 const float *step) {
    float lr = step[0];
    float *w = t->weights, *g = t->grads;
    float *a = t->state[0], *s = t->state[1];
    for (uint32_t i = 0; i < t->n; i++) {
        a[i] = o->rho * a[i] + o->one_minus_rho * (g[i] * g[i]);
        float delta = -((spidnn_sqrtf(s[i] + o->epsilon) * g[i])
                        / spidnn_sqrtf(a[i] + o->epsilon));
        s[i] = o->rho * s[i] + o->one_minus_rho * (delta * delta);
        w[i] = w[i] + lr * delta;
        g[i] = 0.0f;
    }
}

#endif
