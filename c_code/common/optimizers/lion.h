// keras.optimizers.Lion (keras/src/optimizers/lion.py): w -= lr sign(m b1
// + g (1 - b1)), then m = m b2 + g (1 - b2), 1 - b as Keras rounds it
// (of the float32 b).  sign keeps a zero's (and a NaN's) own value, as
// TensorFlow's does.  State: the momenta.
#ifndef SPIDNN_OPTIMIZER_LION_H
#define SPIDNN_OPTIMIZER_LION_H

#include "types.h"

OPTIMIZER_FIXED_SHAPE(lion, LION, 1)

static inline void lion_step(const optimizer_t *o, trained_t *t,
                             const float *step) {
    float lr = step[0];
    float *w = t->weights, *g = t->grads, *m = t->state[0];
    for (uint32_t i = 0; i < t->n; i++) {
        float c = m[i] * o->beta_1 + g[i] * o->one_minus_beta_1;
        float sign = c > 0.0f ? 1.0f : (c < 0.0f ? -1.0f : c);
        w[i] = w[i] - lr * sign;
        m[i] = m[i] * o->beta_2 + g[i] * o->one_minus_beta_2;
        g[i] = 0.0f;
    }
}

#endif
