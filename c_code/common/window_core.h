// The backward protocol of windowed layers (conv, pooling, padding), on
// top of layer_core.h.
//
// A window of the next layer straddles cores, so a windowed layer does not
// leave the previous layer to compute dL/da from its deltas: its cores
// multicast their deltas sideways on the exchange partition (one packet
// per neuron), and once a core holds the deltas of the output rows whose
// windows read the input elements it owns, [owned_first, owned_first +
// n_owned) (the n_deltas from delta_first), it sends their dL/dx: one
// packet per element of the previous layer, which receives them as its
// dL/da.  The WINDOW region's segments, after its struct, say by which
// keys: the owned elements from a segment's first on go at its key + (b
// - the segment's first).  Where the layer sends by holder (window.py) a
// segment is the elements one core of the previous layer holds, routed
// to it alone; else there is one, at backward_key + (b - owned_first).
//
// A core keeps only its receptive field: the input elements from
// input_first that its windows (and, training, those over its owned
// elements) read.  The kernels index inputs and deltas by their place in
// the whole layer, so they are handed bases shifted back by the first
// element kept (window_inputs, window_deltas): a kernel only reads what
// the core keeps.
//
// The app defines app_input_gradient().
#ifndef SPIDNN_WINDOW_CORE_H
#define SPIDNN_WINDOW_CORE_H

#include "layer_core.h"
#include "window_kernel.h"

// dL/dx of input element b from the whole layer's deltas.
static float app_input_gradient(uint32_t b, const float *x,
                                const float *layer_delta);

static window_params_t window;
static uint32_t n_segments;     // the owned elements' keys (see above):
static const uint32_t *segment_table;   // (first, key) each, the first
                                        // counted from owned_first

static inline uint32_t segment_first(uint32_t s) {
    return segment_table[2 * s];
}

static inline uint32_t segment_key(uint32_t s) {
    return segment_table[2 * s + 1];
}

static gather_t exchange_gather;
static float *layer_delta;     // the layer's deltas this core gathers

// The core's inputs as the kernels index them: by input element.
static inline const float *window_inputs(const float *x) {
    return x - window.input_first;
}

// The gathered deltas as the kernels index them: by output element.
static inline const float *window_deltas(void) {
    return layer_delta - window.delta_first;
}

static void window_setup(data_specification_metadata_t *ds) {
    const uint32_t *region = data_specification_get_region(REGION_WINDOW, ds);
    spin1_memcpy(&window, region, sizeof(window));
    // The segments stay in SDRAM: a few words read a sample, where a
    // core with dozens of holders would give them DTCM.
    const uint32_t *segments = &region[sizeof(window) / sizeof(uint32_t)];
    n_segments = segments[0];
    segment_table = &segments[1];
    if (params.training && params.sends_backward) {
        key_space_t space = key_space_of(window.exchange_base,
                window.exchange_atom_bits, window.exchange_atoms_per_core,
                window.exchange_n_atoms);
        layer_delta = dtcm_alloc(window.n_deltas);
        gather_init(&exchange_gather, space, layer_delta, window.delta_first,
                    window.n_deltas);
    }
}

#ifdef WINDOW_ASYNC_INPUT_GRADIENTS
// The exchange is complete: true if the app computes the owned elements'
// dL/dx itself (then it calls window_send_input_gradients()).
static bool app_input_gradients_begin(void);

// The owned elements' dL/dx (g[k] of element owned_first + k) go to the
// previous layer: the sample is done.
static void window_send_input_gradients(const float *g) {
    for (uint32_t s = 0; s < n_segments; s++) {
        uint32_t end = s + 1 < n_segments ? segment_first(s + 1)
                                          : window.n_owned;
        send_floats(segment_key(s), &g[segment_first(s)],
                    end - segment_first(s));
    }
    layer_sample_done();
}
#else
static inline bool app_input_gradients_begin(void) {
    return false;
}
#endif

static void send_input_gradients(uint generation, uint unused) {
    (void) unused;
    if (stale(generation) || app_input_gradients_begin()) {
        return;
    }
    uint32_t s = 0, next = n_segments > 1 ? segment_first(1) : 0;
    uint32_t key = segment_key(0);
    for (uint32_t k = 0; k < window.n_owned; k++) {
        if (k == next && s + 1 < n_segments) {
            s++;
            key = segment_key(s) - k;
            next = s + 1 < n_segments ? segment_first(s + 1) : 0;
        }
        send_float(key + k,
                   app_input_gradient(window.owned_first + k,
                                      window_inputs(inputs),
                                      window_deltas()));
    }
    layer_sample_done();
}

// After the app's gradients: true if the sample is done, false while the
// exchange goes on.
static bool window_backward(const float *deltas) {
    if (!params.sends_backward) {
        return true;
    }
    COST(COST_SEND, params.n_neurons);
    send_floats(window.exchange_key, deltas, params.n_neurons);
    if (window.n_deltas == 0) {
        // No window reads the elements it owns (or it owns none): their
        // gradients are zeros, and nothing comes to wait for.
        schedule(send_input_gradients, 0);
    } else {
        control_waiting(WAITING_EXCHANGE);
    }
    return false;
}

static void window_abort(void) {
    gather_reset(&exchange_gather);
}

static bool window_receive(uint32_t key, uint32_t payload) {
    if (!(params.training && params.sends_backward)) {
        return false;
    }
    uint32_t got = gather_receive(&exchange_gather, key, payload);
    if (got == GATHER_COMPLETE) {
        schedule(send_input_gradients, 0);
    }
    return got != GATHER_NOT_MINE;
}

#endif
