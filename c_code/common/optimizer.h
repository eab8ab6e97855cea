// Keras' optimizers at a batch end, element by element, with Keras'
// float32 operations in Keras' order (keras/src/optimizers/sgd.py,
// adam.py, rmsprop.py), so the cores' updates match Keras' bit for bit
// whenever the gradients do.
//
// A layer registers each weight array it trains as a trained_t: the
// weights, their gradient over the batch (which already carries the
// batch's 1/B) and the optimizer's state.  The host sends each step's
// scale (the learning rate, a schedule's value at the step, or Adam's
// lr sqrt(1 - beta_2^t) / (1 - beta_1^t)) with the commit that applies it.
#ifndef SPIDNN_OPTIMIZER_H
#define SPIDNN_OPTIMIZER_H

#include <stdint.h>

#include "spidnn_layouts.h"
#include "spidnn_math.h"
#include "app_init.h"
#include "cost.h"

typedef struct optimizer_t {
    uint32_t kind;                 // OPTIMIZER_*
    float momentum;                // SGD, RMSprop
    uint32_t nesterov;             // SGD
    float one_minus_beta_1;        // Adam
    float one_minus_beta_2;
    float rho, one_minus_rho;      // RMSprop
    float epsilon;                 // Adam, RMSprop
    float weight_decay;            // 0: none
    float clipvalue;               // 0: none
    uint32_t has_state;            // the state starts from SDRAM
} optimizer_t;

#define MAX_STATES 2

typedef struct trained_t {
    float *weights;
    float *grads;
    float *state[MAX_STATES];      // momenta, velocities
    uint32_t n;
} trained_t;

static inline optimizer_t optimizer_from_params(const layer_params_t *p) {
    return (optimizer_t) {p->optimizer, bits_to_float(p->momentum),
            p->nesterov, bits_to_float(p->one_minus_beta_1),
            bits_to_float(p->one_minus_beta_2), bits_to_float(p->rho),
            bits_to_float(p->one_minus_rho), bits_to_float(p->epsilon),
            bits_to_float(p->weight_decay), bits_to_float(p->clipvalue),
            p->has_state};
}

// State arrays per weight array (as spiDNN.optimizers' n_states).
static inline uint32_t optimizer_n_states(const optimizer_t *o) {
    if (o->kind == OPTIMIZER_ADAM) {
        return 2;
    }
    if (o->kind == OPTIMIZER_RMSPROP) {
        return o->momentum > 0.0f ? 2 : 1;
    }
    return o->momentum != 0.0f ? 1 : 0;
}

// Registers n weights; allocates their zeroed gradient and state.
static inline void trained_init(trained_t *t, const optimizer_t *o,
                                float *weights, uint32_t n) {
    t->weights = weights;
    t->grads = dtcm_zeros(n);
    for (uint32_t k = 0; k < MAX_STATES; k++) {
        t->state[k] = k < optimizer_n_states(o) ? dtcm_zeros(n) : NULL;
    }
    t->n = n;
}

// Copies state array k of `region` (n_states blocks of `stride` floats,
// this array's part `offset` into each) into the trained arrays.
static inline void trained_load_state(trained_t *t, const float *region,
                                      uint32_t stride, uint32_t offset) {
    for (uint32_t k = 0; k < MAX_STATES && t->state[k] != NULL; k++) {
        spin1_memcpy(t->state[k], &region[k * stride + offset],
                     t->n * sizeof(float));
    }
}

// Forgets the batch's gradient (an abort replays the batch).
static inline void trained_forget(trained_t *t) {
    zero_floats(t->grads, t->n);
}

// w -= g lr; with momentum m = m momentum - g lr, then w += m, or with
// Nesterov w += m momentum - g lr.
static inline void sgd_step(const optimizer_t *o, trained_t *t, float lr) {
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

// m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); w -= m alpha / (sqrt(v)
// + eps), alpha the step's scale.
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

// v = rho v + (1 - rho) g^2; inc = lr g / sqrt(v + eps); w -= inc, or
// with momentum m = momentum m + inc, w -= m.
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

// What Keras does before every optimizer's step: clip each gradient to
// [-clipvalue, clipvalue], then decay each weight, w - w wd lr.
static inline void trained_prepare(const optimizer_t *o, trained_t *t,
                                   float learning_rate) {
    float c = o->clipvalue;
    for (uint32_t i = 0; c > 0.0f && i < t->n; i++) {
        float g = t->grads[i];
        t->grads[i] = g < -c ? -c : (g > c ? c : g);
    }
    for (uint32_t i = 0; o->weight_decay > 0.0f && i < t->n; i++) {
        float w = t->weights[i];
        t->weights[i] = w - w * o->weight_decay * learning_rate;
    }
}

// The cost point of a step: momentum costs each optimizer more per weight.
static inline uint32_t update_cost_point(const optimizer_t *o) {
    if (o->kind == OPTIMIZER_ADAM) {
        return COST_UPDATE_ADAM;
    }
    if (o->kind == OPTIMIZER_RMSPROP) {
        return o->momentum > 0.0f
                ? COST_UPDATE_RMSPROP_MOMENTUM : COST_UPDATE_RMSPROP;
    }
    if (o->momentum == 0.0f) {
        return COST_UPDATE_SGD;
    }
    return o->nesterov ? COST_UPDATE_SGD_NESTEROV : COST_UPDATE_SGD_MOMENTUM;
}

// One step of the optimizer (after Keras' clipping and weight decay, with
// the step's learning rate), then the gradient starts again at zero.
static inline void trained_step(const optimizer_t *o, trained_t *t,
                                float scale, float learning_rate) {
    COST(update_cost_point(o), t->n);
    trained_prepare(o, t, learning_rate);
    if (o->kind == OPTIMIZER_ADAM) {
        adam_step(o, t, scale);
    } else if (o->kind == OPTIMIZER_RMSPROP) {
        rmsprop_step(o, t, scale);
    } else {
        sgd_step(o, t, scale);
    }
}

#endif
