// Shared parameters: a core's copy of its neurons' outgoing weights, the
// rows of the next Dense layer's kernel.  The next layer then sends only
// its deltas (one packet per neuron) and the core computes
// dL/da_j = sum_k W[j][k] delta_k itself.  It adds the same products the
// next layer adds to its kernel gradient, in the same order, so the two
// copies update identically and never diverge: the next layer's kernel
// regulariser too, whose penalty gradient each step adds to the rows'
// (the next layer's cores report the penalty; this copy does not).
#ifndef SPIDNN_OUTGOING_H
#define SPIDNN_OUTGOING_H

#include <stdint.h>

#include "app_init.h"
#include "optimizer.h"

typedef struct outgoing_t {
    uint32_t n;          // this core's neurons
    uint32_t n_next;     // the next layer's neurons
    float *rows;         // [n][n_next]
    trained_t trained;   // the rows, their gradient and optimizer state
} outgoing_t;

static inline void outgoing_init(outgoing_t *o, uint32_t n, uint32_t n_next,
                                 const float *region,
                                 const optimizer_t *optimizer,
                                 regulariser_t regulariser) {
    o->n = n;
    o->n_next = n_next;
    o->rows = dtcm_alloc(n * n_next);
    spin1_memcpy(o->rows, region, n * n_next * sizeof(float));
    trained_init(&o->trained, optimizer, o->rows, n * n_next);
    trained_regularise(&o->trained, regulariser, n * n_next, regulariser);
    if (optimizer->has_state) {
        // The same state as the next layer's rows: the copies stay equal.
        trained_load_state(&o->trained, &region[n * n_next], n * n_next, 0);
    }
}

// A streamed core's copy (layer_params.streamed) stays where it is, in the
// OUTGOING region's SDRAM, with every state array after the rows and the
// gradients after those (the host writes zeros where it has no state):
// the core reads and writes them in place, the same numbers as in DTCM.
static inline void outgoing_init_in_place(outgoing_t *o, uint32_t n,
                                          uint32_t n_next, float *region,
                                          const optimizer_t *optimizer,
                                          regulariser_t regulariser) {
    uint32_t size = n * n_next, n_states = optimizer_n_states(optimizer);
    o->n = n;
    o->n_next = n_next;
    o->rows = region;
    o->trained.weights = region;
    for (uint32_t k = 0; k < MAX_STATES; k++) {
        o->trained.state[k] = k < n_states ? &region[(1 + k) * size] : NULL;
    }
    o->trained.grads = &region[(1 + n_states) * size];
    o->trained.n = size;
    trained_regularise(&o->trained, regulariser, size, regulariser);
}

// Words of the OUTGOING region a copy takes.
static inline uint32_t outgoing_words(uint32_t n, uint32_t n_next,
                                      const optimizer_t *optimizer,
                                      bool in_place) {
    uint32_t n_states = optimizer_n_states(optimizer);
    return n * n_next * (in_place ? 2 + n_states
            : 1 + (optimizer->has_state ? n_states : 0));
}

// dL/da_j of this core's neuron j from the next layer's deltas.
static inline float outgoing_gradient(const outgoing_t *o, uint32_t j,
                                      const float *next_delta) {
    const float *w = &o->rows[j * o->n_next];
    float g = 0.0f;
    for (uint32_t k = 0; k < o->n_next; k++) {
        g += w[k] * next_delta[k];
    }
    return g;
}

// The next layer's kernel gradient for these rows: sent_j * delta_k.
static inline void outgoing_accumulate(outgoing_t *o, const float *sent,
                                       const float *next_delta) {
    for (uint32_t j = 0; j < o->n; j++) {
        float *g = &o->trained.grads[j * o->n_next];
        for (uint32_t k = 0; k < o->n_next; k++) {
            g[k] += sent[j] * next_delta[k];
        }
    }
}

// Forgets the batch's gradient (an abort replays the batch).
static inline void outgoing_zero(outgoing_t *o) {
    trained_forget(&o->trained);
}

// The same step as the next layer's, so the copies stay identical.
static inline void outgoing_update(outgoing_t *o,
                                   const optimizer_t *optimizer,
                                   const step_t *step) {
    trained_step(optimizer, &o->trained, step);
}

#endif
