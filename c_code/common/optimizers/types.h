// What every optimizer's update (optimizers/<name>.h) works on: the
// optimizer's constants, as the host packed them (spiDNN/abi/optimizers.py
// lists each optimizer's; OPTIMIZER_CONSTANTS is their union), and a
// registered weight array with its gradient and state.
#ifndef SPIDNN_OPTIMIZER_TYPES_H
#define SPIDNN_OPTIMIZER_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "spidnn_layouts.h"
#include "spidnn_math.h"
#include "app_init.h"

// A constant's type in OPTIMIZER_CONSTANTS: f a float32, u a word.
#define OPTIMIZER_TYPE_f float
#define OPTIMIZER_TYPE_u uint32_t
#define OPTIMIZER_READ_f(bits) bits_to_float(bits)
#define OPTIMIZER_READ_u(bits) (bits)

typedef struct optimizer_t {
    uint32_t kind;                 // OPTIMIZER_*
#define OPTIMIZER_FIELD(type, field) OPTIMIZER_TYPE_##type field;
    OPTIMIZER_CONSTANTS(OPTIMIZER_FIELD)
#undef OPTIMIZER_FIELD
    float weight_decay;            // 0: none
    float clipvalue;               // 0: none
    uint32_t norm_mode;            // NORM_MODE_*: clipnorm, global_clipnorm
    float norm_clip;               // its value
    uint32_t has_state;            // the state starts from SDRAM
} optimizer_t;

#define MAX_STATES OPTIMIZER_MAX_STATES

// What a step's commit brings besides the gradients (the host's, in
// Keras' float32 order; control.h gathers it): the learning rate, which
// weight decay scales by, and the values the optimizer's update takes,
// in its ABI entry's step_values order (the learning rate, Adam's step
// size, Nadam's momentum-cache terms, ...).
typedef struct step_t {
    float learning_rate;
    float values[OPTIMIZER_MAX_STEP_VALUES];
} step_t;

// A Keras weight regulariser (spiDNN/regularizers.py): the penalty
// l1 sum|w| + l2 sum w^2, a term left out where its factor is 0.
typedef struct regulariser_t {
    float l1;
    float l2;
} regulariser_t;

typedef struct trained_t {
    float *weights;
    float *grads;
    float *state[MAX_STATES];      // the optimizer's n_states
    uint32_t n;
    // The weights' regularisers: [0] for weights 0 .. split - 1 (a
    // kernel), [1] for the rest (a conv's biases after its kernel).
    regulariser_t regulariser[2];
    uint32_t split;
    // Clipping by a norm (clip_norm.h), each part's factor for the step:
    // clipnorm's divisor max(l2norm, clipnorm) of the part's variable, or
    // global_clipnorm's scale.
    float clip[2];
} trained_t;

// <name>_n_states and <name>_cost_point of an optimizer whose settings
// change neither: `n` state arrays, the one cost point COST_UPDATE_<NAME>.
#define OPTIMIZER_FIXED_SHAPE(name, NAME, n) \
    static inline uint32_t name##_n_states(const optimizer_t *o) { \
        (void) o; \
        return n; \
    } \
    static inline uint32_t name##_cost_point(const optimizer_t *o) { \
        (void) o; \
        return COST_UPDATE_##NAME; \
    }

static inline regulariser_t regulariser_from_bits(uint32_t l1,
                                                  uint32_t l2) {
    return (regulariser_t) {bits_to_float(l1), bits_to_float(l2)};
}

static inline optimizer_t optimizer_from_params(const layer_params_t *p) {
    optimizer_t o;
    o.kind = p->optimizer;
    if (o.kind >= N_OPTIMIZERS) {   // optimizer.h dispatches on no other
        log_error("unknown optimizer %u", o.kind);
        rt_error(RTE_SWERR);
    }
#define OPTIMIZER_FIELD(type, field) o.field = OPTIMIZER_READ_##type(p->field);
    OPTIMIZER_CONSTANTS(OPTIMIZER_FIELD)
#undef OPTIMIZER_FIELD
    o.weight_decay = bits_to_float(p->weight_decay);
    o.clipvalue = bits_to_float(p->clipvalue);
    o.norm_mode = p->norm_mode;
    o.norm_clip = bits_to_float(p->norm_clip);
    o.has_state = p->has_state;
    return o;
}

#endif
