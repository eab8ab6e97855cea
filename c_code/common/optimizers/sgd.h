// keras.optimizers.SGD (keras/src/optimizers/sgd.py): w -= g lr; with
// momentum m = m momentum - g lr, then w += m, or with Nesterov
// w += m momentum - g lr.  State: the momenta (with momentum only).
#ifndef SPIDNN_OPTIMIZER_SGD_H
#define SPIDNN_OPTIMIZER_SGD_H

#include "types.h"

static inline uint32_t sgd_n_states(const optimizer_t *o) {
    return o->momentum != 0.0f ? 1 : 0;
}

static inline uint32_t sgd_cost_point(const optimizer_t *o) {
    if (o->momentum == 0.0f) {
        return COST_UPDATE_SGD;
    }
    return o->nesterov ? COST_UPDATE_SGD_NESTEROV : COST_UPDATE_SGD_MOMENTUM;
}

static inline void sgd_step(const optimizer_t *o, trained_t *t,
                            const float *step) {
    float lr = step[0];
    float *w = t->weights, *g = t->grads, *m = t->state[0];
    for (uint32_t i = 0; i < t->n; i++) {
        if (m == NULL) {
            w[i] = w[i] - g[i] * lr;
        } else {
            m[i] = m[i] * o->momentum - g[i] * lr;
            w[i] = w[i] + (o->nesterov ? m[i] * o->momentum - g[i] * lr
                                       : m[i]);
        }
        g[i] = 0.0f;
    }
}

#endif
