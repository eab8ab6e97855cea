// keras.optimizers.Adam, amsgrad off (keras/src/optimizers/adam.py):
// m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); w -= m alpha / (sqrt(v)
// + eps), alpha the step's scale (the host's lr sqrt(1 - beta_2^t) /
// (1 - beta_1^t)).  State: the momenta, then the velocities.
#ifndef SPIDNN_OPTIMIZER_ADAM_H
#define SPIDNN_OPTIMIZER_ADAM_H

#include "types.h"

static inline uint32_t adam_n_states(const optimizer_t *o) {
    return 2;
}

static inline uint32_t adam_cost_point(const optimizer_t *o) {
    return COST_UPDATE_ADAM;
}

static inline void adam_step(const optimizer_t *o, trained_t *t,
                             float alpha) {
    float *w = t->weights, *g = t->grads;
    float *m = t->state[0], *v = t->state[1];
    for (uint32_t i = 0; i < t->n; i++) {
        m[i] = m[i] + (g[i] - m[i]) * o->one_minus_beta_1;
        v[i] = v[i] + (g[i] * g[i] - v[i]) * o->one_minus_beta_2;
        w[i] = w[i] - (m[i] * alpha) / (spidnn_sqrtf(v[i]) + o->epsilon);
        g[i] = 0.0f;
    }
}

#endif
