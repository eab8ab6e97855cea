// Keras' optimizers at a batch end, element by element, with Keras'
// float32 operations in Keras' order (keras/src/optimizers/<name>.py),
// so the cores' updates match Keras' bit for bit whenever the gradients
// and the host's step values do.
//
// A layer registers each weight array it trains as a trained_t: the
// weights, their gradient over the batch (which already carries the
// batch's 1/B) and the optimizer's state.  The host sends each step's
// values (step_t: the learning rate, a schedule's value at the step,
// Adam's lr sqrt(1 - beta_2^t) / (1 - beta_1^t), ...) with the commit
// that applies it.
#ifndef SPIDNN_OPTIMIZER_H
#define SPIDNN_OPTIMIZER_H

#include <stdint.h>

#include "spidnn_layouts.h"
#include "spidnn_math.h"
#include "app_init.h"
#include "cost.h"

#include "optimizers/types.h"
// One header per optimizer, each defining <name>_n_states, <name>_cost_point
// and <name>_step (a registered optimizer without its header fails to
// compile).
#include "optimizers/sgd.h"
#include "optimizers/adam.h"
#include "optimizers/rmsprop.h"
#include "optimizers/adagrad.h"
#include "optimizers/adadelta.h"
#include "optimizers/adamax.h"
#include "optimizers/nadam.h"
#include "optimizers/lion.h"

// The dispatch over the optimizers: one switch each, its cases generated
// from spiDNN/abi/optimizers.py's table (OPTIMIZER_LIST).  A switch, not a
// table of function pointers, so that each update stays a static inline
// function inlined here as before, no indirect call or pointer table
// costs cycles or TCM.  optimizer_from_params stops a core given an id
// that is not the table's, so no other kind reaches a switch.
#define OPTIMIZER_DISPATCH(kind, call_of) \
    switch (kind) { OPTIMIZER_LIST(call_of) default: __builtin_unreachable(); }

// State arrays per weight array (as spiDNN.optimizers' n_states).
static inline uint32_t optimizer_n_states(const optimizer_t *o) {
#define N_STATES(name, NAME) \
    case OPTIMIZER_##NAME: return name##_n_states(o);
    OPTIMIZER_DISPATCH(o->kind, N_STATES)
#undef N_STATES
    return 0;
}

// The step values the optimizer's update takes (its ABI entry's).
static inline uint32_t optimizer_n_step_values(const optimizer_t *o) {
#define N_STEP_VALUES(name, NAME) \
    case OPTIMIZER_##NAME: return OPTIMIZER_##NAME##_N_STEP_VALUES;
    OPTIMIZER_DISPATCH(o->kind, N_STEP_VALUES)
#undef N_STEP_VALUES
    return 0;
}

// What of a step's commit (step_t) the update needs, as control.h counts
// its parts: bit 0 the learning rate (weight decay only), bit 1 + k the
// update's value k.
static inline uint32_t optimizer_step_needs(const optimizer_t *o) {
    uint32_t values = (1u << optimizer_n_step_values(o)) - 1u;
    return (values << 1) | (o->weight_decay > 0.0f ? 1u : 0u);
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
    t->regulariser[0] = t->regulariser[1] = (regulariser_t) {0.0f, 0.0f};
    t->split = n;
    t->clip[0] = t->clip[1] = 1.0f;
}

// The weights' regularisers: `first` for weights 0 .. split - 1, `rest`
// for the others.
static inline void trained_regularise(trained_t *t, regulariser_t first,
                                      uint32_t split, regulariser_t rest) {
    t->regulariser[0] = first;
    t->regulariser[1] = rest;
    t->split = split;
}

static inline bool regularises(regulariser_t r) {
    return r.l1 != 0.0f || r.l2 != 0.0f;
}

// The penalty's gradient of weight w, as TensorFlow differentiates
// Keras' l1 * sum(abs(w)) + l2 * sum(square(w)): l1 sign(w) (sign 0 at
// 0) plus l2 (2 w), the terms in the order Keras' L1L2 adds them.
static inline float penalty_gradient(regulariser_t r, float w) {
    float g = 0.0f;
    if (r.l1 != 0.0f) {
        g = w > 0.0f ? r.l1 : (w < 0.0f ? -r.l1 : 0.0f);
    }
    if (r.l2 != 0.0f) {
        g = g + r.l2 * (2.0f * w);
    }
    return g;
}

// Adds each weight's penalty gradient to the batch's mean gradient (the
// loss's), before Keras' clipping and the step, as Keras differentiates
// the batch's mean loss plus the penalties.  Element by element, so the
// same on every slicing and on every copy of the weights.
static inline void trained_add_penalty_gradients(trained_t *t) {
    for (uint32_t part = 0; part < 2; part++) {
        regulariser_t r = t->regulariser[part];
        uint32_t lo = part == 0 ? 0 : t->split;
        uint32_t hi = part == 0 ? t->split : t->n;
        for (uint32_t i = lo; regularises(r) && i < hi; i++) {
            t->grads[i] = t->grads[i] + penalty_gradient(r, t->weights[i]);
        }
    }
}

// The penalty of n weights, in float32: l1 times their sum of |w| plus
// l2 times their sum of w^2, each sum in index order.
static inline float penalty_of(regulariser_t r, const float *w, uint32_t n) {
    float l1_sum = 0.0f, l2_sum = 0.0f;
    for (uint32_t i = 0; regularises(r) && i < n; i++) {
        l1_sum += w[i] < 0.0f ? -w[i] : w[i];
        l2_sum += w[i] * w[i];
    }
    float penalty = 0.0f;
    if (r.l1 != 0.0f) {
        penalty = penalty + r.l1 * l1_sum;
    }
    if (r.l2 != 0.0f) {
        penalty = penalty + r.l2 * l2_sum;
    }
    return penalty;
}

// The penalty of the trained weights (both parts).
static inline float trained_penalty(const trained_t *t) {
    return penalty_of(t->regulariser[0], t->weights, t->split)
            + penalty_of(t->regulariser[1], &t->weights[t->split],
                         t->n - t->split);
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

// What Keras does before every optimizer's step: clip each gradient by
// its variable's norm (clipnorm: g clipnorm / max(l2norm, clipnorm)) or
// by all variables' (global_clipnorm: g scale), the factors of this
// batch's norm phase (clip_norm.h); or clip it to [-clipvalue,
// clipvalue]; then decay each weight, w - w wd lr.
static inline void trained_prepare(const optimizer_t *o, trained_t *t,
                                   float learning_rate) {
    if (o->norm_mode != NORM_MODE_NONE) {
        COST(COST_NORM_SCALE, t->n);
    }
    for (uint32_t i = 0; o->norm_mode != NORM_MODE_NONE && i < t->n; i++) {
        float factor = t->clip[i < t->split ? 0 : 1];
        t->grads[i] = o->norm_mode == NORM_MODE_CLIP
                ? (t->grads[i] * o->norm_clip) / factor
                : t->grads[i] * factor;
    }
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

// The cost point of a step, update_<variant>: momentum costs each
// optimizer more per weight.
static inline uint32_t optimizer_cost_point(const optimizer_t *o) {
#define COST_POINT(name, NAME) \
    case OPTIMIZER_##NAME: return name##_cost_point(o);
    OPTIMIZER_DISPATCH(o->kind, COST_POINT)
#undef COST_POINT
    return COST_UPDATE_SGD;
}

// One step of the optimizer (after Keras' clipping and weight decay, with
// the step's learning rate and values), then the gradient starts again
// at zero.
static inline void trained_step(const optimizer_t *o, trained_t *t,
                                const step_t *step) {
    COST(optimizer_cost_point(o), t->n);
    trained_add_penalty_gradients(t);
    trained_prepare(o, t, step->learning_rate);
#define STEP(name, NAME) \
    case OPTIMIZER_##NAME: name##_step(o, t, step->values); break;
    OPTIMIZER_DISPATCH(o->kind, STEP)
#undef STEP
}

#endif
