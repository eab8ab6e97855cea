// A shared Dense (one layer applied more than once,
// spiDNN/compiler/sharing.py): every use has cores of its own, sliced
// alike, each holding the same weights and adding the gradients of its own
// samples.  At a batch end core j of each use adds its slice's gradients
// to the running sums of core j of the uses before it and sends them on
// (the shared_chain partition: its kernel, neuron by neuron, then its
// biases); the last use's sums are the totals, which every use's core j
// receives (the last's own come back to it) and applies, so all copies
// take the same update, the uses' gradients added in use order whatever
// the packet timing.  The layers before the uses, which keep copies of
// the kernel's rows, take the same totals (layer_core.h).
#ifndef SPIDNN_DENSE_SHARED_H
#define SPIDNN_DENSE_SHARED_H

#include "layer_core.h"

typedef struct dense_shared_t {
    bool on;                 // the layer is shared (and trains)
    bool first;              // the first use: no sums come before its own
    uint32_t key;            // this core's first key of its sums
    float *kernel_grads;     // its gradients (then the batch's totals)
    float *bias_grads;       //   (NULL without biases)
    uint32_t n_kernel;       // kernel gradients: n_neurons * n_inputs
    uint32_t n_bias;
    float *in;               // the previous use's sums (not the first)
    gather_t previous;
    gather_t kernel_total;   // the totals, into the gradients
    gather_t bias_total;
    uint32_t totals_complete;
    bool batch_done;         // this core's batch ended, waiting for `in`
    bool in_complete;        // the previous use's sums are all in
    void (*ready)(void);     // the update is ready (layer_update_ready)
} dense_shared_t;

static dense_shared_t shared;

static inline key_space_t shared_space(const uint32_t *fields) {
    return key_space_of(fields[0], fields[1], fields[2], fields[3]);
}

static inline uint32_t shared_n_values(void) {
    return shared.n_kernel + shared.n_bias;
}

// Reads the SHARED region, if any: the core's slice keeps its sums at
// slice * atoms_per_core in the previous and the last use's key spaces.
static void shared_setup(data_specification_metadata_t *ds,
                         float *kernel_grads, float *bias_grads,
                         uint32_t n_kernel, uint32_t n_bias,
                         void (*ready)(void)) {
    const shared_params_t *p = data_specification_get_region(
            REGION_SHARED, ds);
    shared.on = p != NULL && p->total_n_atoms > 0;
    if (!shared.on) {
        return;
    }
    shared.key = p->chain_key;
    shared.kernel_grads = kernel_grads;
    shared.bias_grads = bias_grads;
    shared.n_kernel = n_kernel;
    shared.n_bias = n_bias;
    shared.ready = ready;
    shared.first = p->previous_n_atoms == 0;
    key_space_t total = shared_space(&p->total_base);
    uint32_t first = p->slice * total.atoms_per_core;
    gather_init(&shared.kernel_total, total, kernel_grads, first, n_kernel);
    gather_init(&shared.bias_total, total, bias_grads, first + n_kernel,
                n_bias);
    if (!shared.first) {
        key_space_t previous = shared_space(&p->previous_base);
        shared.in = dtcm_alloc(shared_n_values());
        gather_init(&shared.previous, previous, shared.in,
                    p->slice * previous.atoms_per_core, shared_n_values());
    }
    shared.totals_complete = 0;
    shared.batch_done = false;
    shared.in_complete = false;
}

// This core's link of the chain: its gradients added to the previous
// uses' sums (or alone, in the first use), passed on.
static void shared_pass(uint generation, uint unused) {
    (void) unused;
    if (stale(generation)) {
        return;
    }
    COST(COST_CHAIN, shared_n_values());
    for (uint32_t e = 0; e < shared_n_values(); e++) {
        float own = e < shared.n_kernel ? shared.kernel_grads[e]
                : shared.bias_grads[e - shared.n_kernel];
        send_float(shared.key + e, shared.first ? own : shared.in[e] + own);
    }
}

// The totals are in: the batch's update is ready.
static void shared_totals_done(uint generation, uint unused) {
    (void) unused;
    if (!stale(generation)) {
        shared.ready();
    }
}

// The batch's last sample is done: pass the sums on once the previous
// use's are in.  False: the update waits for the totals.
static bool shared_batch_end(void) {
    if (shared.first || shared.in_complete) {
        shared.in_complete = false;
        schedule(shared_pass, 0);
    } else {
        shared.batch_done = true;
    }
    control_waiting(WAITING_CHAIN);
    return false;
}

// A packet of the chain: the totals, or the previous use's sums (the
// last use's own sums come back to it as its totals).  False if the key
// is not one.
static bool shared_receive(uint32_t key, uint32_t payload) {
    if (!shared.on) {
        return false;
    }
    uint32_t kernel = gather_receive(&shared.kernel_total, key, payload);
    uint32_t bias = shared.n_bias > 0
            ? gather_receive(&shared.bias_total, key, payload)
            : GATHER_NOT_MINE;
    if (kernel == GATHER_COMPLETE || bias == GATHER_COMPLETE) {
        if (++shared.totals_complete == (shared.n_bias > 0 ? 2u : 1u)) {
            shared.totals_complete = 0;
            schedule(shared_totals_done, 0);
        }
    }
    if (kernel >= GATHER_STORED || bias >= GATHER_STORED) {
        return true;
    }
    uint32_t previous = shared.first ? GATHER_NOT_MINE
            : gather_receive(&shared.previous, key, payload);
    if (previous == GATHER_COMPLETE) {
        if (shared.batch_done) {
            shared.batch_done = false;
            schedule(shared_pass, 0);
        } else {
            shared.in_complete = true;
        }
    }
    return kernel != GATHER_NOT_MINE || previous != GATHER_NOT_MINE;
}

// An abort replays the batch from its start: forget what came.
static void shared_abort(void) {
    if (!shared.on) {
        return;
    }
    gather_reset(&shared.kernel_total);
    gather_reset(&shared.bias_total);
    if (!shared.first) {
        gather_reset(&shared.previous);
    }
    shared.totals_complete = 0;
    shared.batch_done = false;
    shared.in_complete = false;
}

#endif
