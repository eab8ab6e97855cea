// keras.optimizers.RMSprop, centered off (keras/src/optimizers/
// rmsprop.py): v = rho v + (1 - rho) g^2; inc = lr g / sqrt(v + eps);
// w -= inc, or with momentum m = momentum m + inc, w -= m.  State: the
// velocities, then (with momentum) the momenta.
#ifndef SPIDNN_OPTIMIZER_RMSPROP_H
#define SPIDNN_OPTIMIZER_RMSPROP_H

#include "types.h"

static inline uint32_t rmsprop_n_states(const optimizer_t *o) {
    return o->momentum > 0.0f ? 2 : 1;
}

static inline uint32_t rmsprop_cost_point(const optimizer_t *o) {
    return o->momentum > 0.0f
            ? COST_UPDATE_RMSPROP_MOMENTUM : COST_UPDATE_RMSPROP;
}

static inline void rmsprop_step(const optimizer_t *o, trained_t *t,
                                float lr) {
    float *w = t->weights, *g = t->grads;
    float *v = t->state[0], *m = t->state[1];
    for (uint32_t i = 0; i < t->n; i++) {
        v[i] = o->rho * v[i] + o->one_minus_rho * (g[i] * g[i]);
        float increment = (lr * g[i]) / spidnn_sqrtf(v[i] + o->epsilon);
        if (m == NULL) {
            w[i] = w[i] - increment;
        } else {
            m[i] = o->momentum * m[i] + increment;
            w[i] = w[i] - m[i];
        }
        g[i] = 0.0f;
    }
}

#endif
