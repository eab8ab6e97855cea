// keras.optimizers.Adam (keras/src/optimizers/adam.py), AdamW's too
// (its weight decay is every optimizer's, optimizer.h's trained_prepare):
// m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); with AMSGrad v_hat =
// max(v_hat, v) stands for v; w -= m alpha / (sqrt(v) + eps), alpha the
// step's value (the host's lr sqrt(1 - beta_2^t) / (1 - beta_1^t)).
// State: the momenta, the velocities, then (AMSGrad) the velocity hats.
#ifndef SPIDNN_OPTIMIZER_ADAM_H
#define SPIDNN_OPTIMIZER_ADAM_H

#include "types.h"

static inline uint32_t adam_n_states(const optimizer_t *o) {
    return o->amsgrad ? 3 : 2;
}

static inline uint32_t adam_cost_point(const optimizer_t *o) {
    return o->amsgrad ? COST_UPDATE_ADAM_AMSGRAD : COST_UPDATE_ADAM;
}

static inline void adam_step(const optimizer_t *o, trained_t *t,
                             const float *step) {
    float alpha = step[0];
    float *w = t->weights, *g = t->grads;
    float *m = t->state[0], *v = t->state[1], *v_hat = t->state[2];
    for (uint32_t i = 0; i < t->n; i++) {
        m[i] = m[i] + (g[i] - m[i]) * o->one_minus_beta_1;
        v[i] = v[i] + (g[i] * g[i] - v[i]) * o->one_minus_beta_2;
        float velocity = v[i];
        if (v_hat != NULL) {
            v_hat[i] = v_hat[i] > v[i] ? v_hat[i] : v[i];
            velocity = v_hat[i];
        }
        w[i] = w[i] - (m[i] * alpha)
                / (spidnn_sqrtf(velocity) + o->epsilon);
        g[i] = 0.0f;
    }
}

#endif
