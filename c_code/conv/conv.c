// conv: a slice of a Conv1D/Conv2D layer's output elements (whole output
// positions with every filter).
//
// Every core of the layer holds the kernel.  Each adds the kernel gradient
// of each of its output positions, position by position; at a batch end
// the sums are added up along a chain in core order, element by element
// (core c adds its positions' sums, in order, to the running sum of cores
// 0 .. c-1 and passes it on), and the last core's sums, which every core
// of the layer receives, are the totals: the same additions in the same
// order whatever the packet timing and however many positions each core
// has, so all copies apply identical updates (on the host's commit), and
// every slicing the same as one position per core.  Regularised, each
// copy adds the same penalty gradients (kernel, then biases) to the
// totals at its step, and the first core alone reports the penalty.
// Packets per batch: the kernel and biases once
// per core.  The backward pass to the previous layer is window_core.h's.
#include "window_core.h"

#define NO_CORE 0xFFFFFFFFu

static float *weights;       // kernel (Keras' layout) then biases, if any
static trained_t trained;    // their gradients (then the batch's totals)
static float *grads;         //   and the optimizer's state
static float *position_grads;    // [positions][n_params]: the batch's sums
static uint32_t n_positions;     // this core's output positions
static float *chain_in;      // the running sums from the previous core
static uint32_t n_params;
static gather_t chain_gather;    // the running sums from the previous core
static gather_t total_gather;    // the totals from the last core
static bool chain_ready;         // this core's batch is complete
static bool chain_in_complete;   // the previous core's sums are all in

static bool app_setup(data_specification_metadata_t *ds) {
    window_setup(ds);
    n_params = conv_n_weights(&window)
            + (params.use_bias ? window.n_filters : 0);
    weights = dtcm_alloc(n_params);
    spin1_memcpy(weights, data_specification_get_region(REGION_WEIGHTS, ds),
                 n_params * sizeof(float));
    if (params.training) {
        trained_init(&trained, &optimizer, weights, n_params);
        trained_regularise(&trained, kernel_regulariser(),
                conv_n_weights(&window), bias_regulariser());
        grads = trained.grads;
        n_positions = params.n_neurons / window.out_channels;
        position_grads = dtcm_zeros(n_positions * n_params);
        if (optimizer.has_state) {
            trained_load_state(&trained, data_specification_get_region(
                    REGION_OPTIMIZER_STATE, ds), n_params, 0);
        }
        key_space_t space = key_space_of(window.chain_base,
                window.chain_atom_bits, window.chain_atoms_per_core,
                window.chain_n_atoms);
        if (window.chain_previous != NO_CORE) {
            chain_in = dtcm_alloc(n_params);
            gather_init(&chain_gather, space, chain_in,
                    window.chain_previous * n_params, n_params);
        }
        gather_init(&total_gather, space, grads,
                window.chain_last * n_params, n_params);
        chain_ready = false;
        chain_in_complete = false;
    }
    return true;
}

// Multiplies per output element of the forward and gradient maths.
static uint32_t window_multiplies(void) {
    return window.kernel_height * window.kernel_width * window.in_channels;
}

static bool app_forward(const float *x, float *out) {
    COST(COST_FORWARD, params.n_neurons * window_multiplies());
    conv_forward(&window, weights, params.use_bias, params.first_neuron,
            params.n_neurons, window_inputs(x), out);
    return true;
}

static bool app_backward(const float *x, const float *deltas) {
    if (!params.frozen) {      // Keras' trainable=False: no gradients
        COST(COST_ACCUMULATE, params.n_neurons * window_multiplies());
        conv_accumulate(&window, params.use_bias, params.first_neuron,
                params.n_neurons, window_inputs(x), deltas, position_grads,
                n_params);
    }
    return window_backward(deltas);
}

static float app_input_gradient(uint32_t b, const float *x,
                                const float *deltas) {
    (void) x;
    COST(COST_INPUT_GRADIENT, window.kernel_height * window.kernel_width
            * window.out_channels);
    return conv_input_gradient(&window, weights, b, deltas);
}

// This core's link of the chain: its partial sums added to the running
// sums (or alone, first in the chain), passed on.
static void pass_chain(uint generation, uint unused) {
    (void) unused;
    if (stale(generation)) {
        return;
    }
    COST(COST_CHAIN, n_params * n_positions);
    for (uint32_t e = 0; e < n_params; e++) {
        float sum = window.chain_previous == NO_CORE
                ? position_grads[e] : chain_in[e] + position_grads[e];
        for (uint32_t p = 1; p < n_positions; p++) {
            sum = sum + position_grads[p * n_params + e];
        }
        send_float(window.chain_key + e, sum);
    }
    // Sent: the next batch's sums start again (an abort replays from the
    // batch's start, which zeroes them too).
    zero_floats(position_grads, n_positions * n_params);
}

// The layer's totals are in: the batch's update is ready.
static void totals_in(uint generation, uint unused) {
    (void) unused;
    if (!stale(generation)) {
        layer_update_ready();
    }
}

static bool app_batch_end(void) {
    if (window.chain_previous == NO_CORE || chain_in_complete) {
        chain_in_complete = false;
        schedule(pass_chain, 0);
    } else {
        chain_ready = true;
    }
    control_waiting(WAITING_CHAIN);
    return false;
}

static bool app_apply_update(float scale, float learning_rate) {
    trained_step(&optimizer, &trained, scale, learning_rate);
    return true;
}

static void app_abort(void) {
    window_abort();
    if (params.training) {
        trained_forget(&trained);
        zero_floats(position_grads, n_positions * n_params);
        gather_reset(&chain_gather);
        gather_reset(&total_gather);
        chain_ready = false;
        chain_in_complete = false;
    }
}

// The first core sends the weights, then each optimizer state array.
static void app_send_weights(void) {
    if (window.chain_previous == NO_CORE) {
        COST(COST_SEND, n_params * (1 + optimizer_n_states(&optimizer)));
        send_floats(params.weights_key, weights, n_params);
        for (uint32_t k = 0; k < optimizer_n_states(&optimizer); k++) {
            send_floats(params.weights_key + (k + 1) * n_params,
                        trained.state[k], n_params);
        }
    }
}

// Every core holds the whole kernel: the first reports its penalty, one
// sum in the kernel's order whatever the slicing.
static uint32_t app_penalty_parts(void) {
    return window.chain_previous == NO_CORE ? 1 : 0;
}

static float app_penalty(uint32_t part) {
    (void) part;
    return trained_penalty(&trained);
}

static bool app_receive(uint32_t key, uint32_t payload) {
    if (window_receive(key, payload)) {
        return true;
    }
    if (!params.training) {
        return false;
    }
    // The last core's sums are the totals, for every core of the layer.
    uint32_t got = gather_receive(&total_gather, key, payload);
    if (got == GATHER_COMPLETE) {
        schedule(totals_in, 0);
    }
    if (got != GATHER_IGNORED) {
        return got != GATHER_NOT_MINE;
    }
    // A running sum: this core's to add to if it comes from the previous
    // core, else another link of the chain.
    if (window.chain_previous != NO_CORE
            && gather_receive(&chain_gather, key, payload)
            == GATHER_COMPLETE) {
        if (chain_ready) {
            chain_ready = false;
            schedule(pass_chain, 0);
        } else {
            chain_in_complete = true;
        }
    }
    return true;
}

void c_main(void) {
    layer_main("conv");
}
