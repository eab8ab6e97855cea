// keras.optimizers.Nadam (keras/src/optimizers/nadam.py): m += (g - m)
// (1 - b1); v += (g^2 - v)(1 - b2); m_hat = u_{t+1} m / (1 - U_{t+1}) +
// (1 - u_t) g / (1 - U_t), U_t = u_1 ... u_t the momentum cache's
// product; v_hat = v / (1 - b2^t); w -= m_hat lr / (sqrt(v_hat) + eps).
// Everything that depends on t alone is one of the step's values (the
// host's, in Keras' float32 order: step_values in spiDNN/abi/
// optimizers.py).  State: the momenta, then the velocities.
#ifndef SPIDNN_OPTIMIZER_NADAM_H
#define SPIDNN_OPTIMIZER_NADAM_H

#include "types.h"

OPTIMIZER_FIXED_SHAPE(nadam, NADAM, 2)

static inline void nadam_step(const optimizer_t *o, trained_t *t,
                              const float *step) {
    float lr = step[0], u_next = step[1];
    float one_minus_u_product_next = step[2], one_minus_u = step[3];
    float one_minus_u_product = step[4], one_minus_beta_2_power = step[5];
    float *w = t->weights, *g = t->grads;
    float *m = t->state[0], *v = t->state[1];
    for (uint32_t i = 0; i < t->n; i++) {
        m[i] = m[i] + (g[i] - m[i]) * o->one_minus_beta_1;
        v[i] = v[i] + (g[i] * g[i] - v[i]) * o->one_minus_beta_2;
        float m_hat = (u_next * m[i]) / one_minus_u_product_next
                + (one_minus_u * g[i]) / one_minus_u_product;
        float v_hat = v[i] / one_minus_beta_2_power;
        w[i] = w[i] - (m_hat * lr) / (spidnn_sqrtf(v_hat) + o->epsilon);
        g[i] = 0.0f;
    }
}

#endif
