// keras.optimizers.RMSprop (keras/src/optimizers/rmsprop.py): v = rho v
// + (1 - rho) g^2; centred, a = rho a + (1 - rho) g and the denominator
// is v - a^2 + eps, else v + eps; inc = lr g / sqrt(denominator); w -=
// inc, or with momentum m = momentum m + inc, w -= m.  State: the
// velocities, then the momenta (with momentum), then the average
// gradients (centred).
#ifndef SPIDNN_OPTIMIZER_RMSPROP_H
#define SPIDNN_OPTIMIZER_RMSPROP_H

#include "types.h"

static inline uint32_t rmsprop_n_states(const optimizer_t *o) {
    return 1 + (o->momentum > 0.0f ? 1 : 0) + (o->centered ? 1 : 0);
}

static inline uint32_t rmsprop_cost_point(const optimizer_t *o) {
    if (o->centered) {
        return o->momentum > 0.0f ? COST_UPDATE_RMSPROP_CENTERED_MOMENTUM
                                  : COST_UPDATE_RMSPROP_CENTERED;
    }
    return o->momentum > 0.0f
            ? COST_UPDATE_RMSPROP_MOMENTUM : COST_UPDATE_RMSPROP;
}

static inline void rmsprop_step(const optimizer_t *o, trained_t *t,
                                const float *step) {
    float lr = step[0];
    float *w = t->weights, *g = t->grads, *v = t->state[0];
    float *m = o->momentum > 0.0f ? t->state[1] : NULL;
    float *a = o->centered ? t->state[m != NULL ? 2 : 1] : NULL;
    for (uint32_t i = 0; i < t->n; i++) {
        v[i] = o->rho * v[i] + o->one_minus_rho * (g[i] * g[i]);
        float denominator;
        if (a != NULL) {
            a[i] = o->rho * a[i] + o->one_minus_rho * g[i];
            denominator = (v[i] - a[i] * a[i]) + o->epsilon;
        } else {
            denominator = v[i] + o->epsilon;
        }
        float increment = (lr * g[i]) / spidnn_sqrtf(denominator);
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
