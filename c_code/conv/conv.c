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
// every slicing the same as one position per core.  A convolution applied
// more than once (a shared layer) chains every use's cores, use after use:
// the previous core may be the previous use's last, and the totals come
// from the last use's last core.  Regularised, each
// copy adds the same penalty gradients (kernel, then biases) to the
// totals at its step, and the first core alone reports the penalty.
// Packets per batch: the kernel and biases once
// per core.  The backward pass to the previous layer is window_core.h's.
//
// Streamed (layer_params.streamed), the weights, their gradients and
// state, each position's sums and the previous core's running sums live
// in SDRAM, and every pass streams them through DTCM (conv_stream.h): the
// same additions in the same order, so the same numbers.
#define WINDOW_ASYNC_INPUT_GRADIENTS
#include "window_core.h"
#include "conv_stream.h"

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

// Streamed: the STREAM region holds the two input vectors (read in place:
// a receptive field of a wide input may not fit DTCM either), then,
// training, the gradients (the batch's totals), each state array, the
// positions' sums and the previous core's running sums, n_params words
// each (layouts.conv_stream_region_words).
static void streamed_setup(data_specification_metadata_t *ds);
static void stream_forward_done(void);
static void stream_accumulated(void);
static void stream_gradients_done(const float *g);
static void stream_update_done(void);

static bool app_setup(data_specification_metadata_t *ds) {
    window_setup(ds);
    n_params = conv_n_weights(&window)
            + (params.use_bias ? window.n_filters : 0);
    n_positions = params.n_neurons / window.out_channels;
    if (params.streamed) {
        streamed_setup(ds);
    } else {
        weights = dtcm_alloc(n_params);
        spin1_memcpy(weights, data_specification_get_region(
                REGION_WEIGHTS, ds), n_params * sizeof(float));
        if (params.training) {
            trained_init(&trained, &optimizer, weights, n_params);
            position_grads = dtcm_zeros(n_positions * n_params);
            if (window.chain_previous != NO_CORE) {
                chain_in = dtcm_alloc(n_params);
            }
        }
    }
    if (params.training) {
        trained_regularise(&trained, kernel_regulariser(),
                conv_n_weights(&window), bias_regulariser());
        if (norm_on() && !params.frozen) {
            norm_use(&trained, 0, norm_own_slot(0));
            if (params.use_bias) {
                norm_use(&trained, 1, norm_own_slot(1));
            }
        }
        grads = trained.grads;
        if (optimizer.has_state) {
            trained_load_state(&trained, data_specification_get_region(
                    REGION_OPTIMIZER_STATE, ds), n_params, 0);
        }
        if (window.chain_previous != NO_CORE) {
            gather_init(&chain_gather, key_space_of(window.chain_base,
                    window.chain_atom_bits, window.chain_atoms_per_core,
                    window.chain_n_atoms), chain_in,
                    window.chain_previous * n_params, n_params);
        }
        gather_init(&total_gather, key_space_of(window.total_base,
                window.total_atom_bits, window.total_atoms_per_core,
                window.total_n_atoms), grads,
                window.chain_last * n_params, n_params);
        chain_ready = false;
        chain_in_complete = false;
    }
    return true;
}

static void streamed_setup(data_specification_metadata_t *ds) {
    weights = data_specification_get_region(REGION_WEIGHTS, ds);
    bool training = params.training;
    if (training) {
        // After the input vectors (layer_core.h's, inputs_in_sdram).
        float *region = (float *) data_specification_get_region(
                REGION_STREAM, ds) + (params.inputs_in_sdram
                ? 2 * n_inputs : 0);
        uint32_t n_states = optimizer_n_states(&optimizer);
        trained.weights = weights;
        trained.n = n_params;
        trained.grads = region;
        for (uint32_t k = 0; k < MAX_STATES; k++) {
            trained.state[k] = k < n_states
                    ? &region[(1 + k) * n_params] : NULL;
        }
        trained.regulariser[0] = trained.regulariser[1] =
                (regulariser_t) {0.0f, 0.0f};
        trained.split = n_params;
        position_grads = &region[(1 + n_states) * n_params];
        chain_in = window.chain_previous != NO_CORE
                ? &position_grads[n_positions * n_params] : NULL;
    }
    // (Field by field: a struct copy would call memcpy.)
    cstream.window = &window;
    cstream.first = params.first_neuron;
    cstream.n = params.n_neurons;
    cstream.n_params = n_params;
    cstream.weights = weights;
    cstream.position_sums = position_grads;
    cstream.chain_in = chain_in;
    cstream.trained = training ? &trained : NULL;
    cstream.optimizer = &optimizer;
    cstream.forward_done = stream_forward_done;
    cstream.accumulated = stream_accumulated;
    cstream.gradients_done = stream_gradients_done;
    cstream.update_done = stream_update_done;
    cstream.chain_key = window.chain_key;
    conv_stream_setup();
}

// Multiplies per output element of the forward and gradient maths.
static uint32_t window_multiplies(void) {
    return window.kernel_height * window.kernel_width * window.in_channels;
}

static bool app_forward(const float *x, float *out) {
    COST(COST_FORWARD, params.n_neurons * window_multiplies());
    if (params.streamed) {
        conv_stream_forward(window_inputs(x), out);
        return false;
    }
    conv_forward(&window, weights, params.use_bias, params.first_neuron,
            params.n_neurons, window_inputs(x), out);
    return true;
}

static void stream_forward_done(void) {
    layer_forward_done();
}

static const float *backward_deltas;   // streamed: the sample's deltas

static bool app_backward(const float *x, const float *deltas) {
    if (!params.frozen) {      // Keras' trainable=False: no gradients
        COST(COST_ACCUMULATE, params.n_neurons * window_multiplies());
        if (params.streamed) {
            backward_deltas = deltas;
            conv_stream_accumulate(window_inputs(x), deltas);
            return false;
        }
        conv_accumulate(&window, params.use_bias, params.first_neuron,
                params.n_neurons, window_inputs(x), deltas, position_grads,
                n_params);
    }
    return window_backward(deltas);
}

// Streamed: the sample's kernel gradient is added; the deltas go on.
static void stream_accumulated(void) {
    if (window_backward(backward_deltas)) {
        layer_sample_done();
    }
}

// The exchange is complete: streamed, the owned elements' dL/dx stream
// (after the kernel gradient, if that still runs); else window_core.h
// computes them with app_input_gradient().
static bool app_input_gradients_begin(void) {
    if (!params.streamed) {
        return false;
    }
    COST(COST_INPUT_GRADIENT, window.n_owned * window.kernel_height
            * window.kernel_width * window.out_channels);
    conv_stream_input_gradients(window_inputs(inputs), window_deltas());
    return true;
}

static void stream_gradients_done(const float *g) {
    window_send_input_gradients(g);
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
    if (params.streamed) {
        conv_stream_chain();   // it zeroes the sums it sends
        return;
    }
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

static bool app_apply_update(const step_t *step) {
    if (params.streamed) {
        conv_stream_update(step);
        return false;
    }
    trained_step(&optimizer, &trained, step);
    return true;
}

static void stream_update_done(void) {
    layer_update_applied();
}

// The batch's gradients and sums start again (in SDRAM, streamed: once
// the forgotten streams' transfers are done).
static void forget_batch(void) {
    trained_forget(&trained);
    zero_floats(position_grads, n_positions * n_params);
}

static void app_abort(void) {
    window_abort();
    if (params.streamed) {
        // A committed update runs to its end: it is part of the commit.
        if (!conv_stream_abort(params.training ? forget_batch : NULL)) {
            return;
        }
    } else if (params.training) {
        forget_batch();
    }
    if (params.training) {
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

// Every core holds the batch's totals: the first alone adds their squares
// (the kernel's, then the biases'), which the layer's norm sums once.
static void app_norm_add(exact_sum_t *sums) {
    norm_add_squares(&sums[0], &trained, 0, trained.split);
    if (params.use_bias) {
        norm_add_squares(&sums[1], &trained, trained.split, trained.n);
    }
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
    if (got >= GATHER_STORED) {
        return true;
    }
    // A running sum: this core's to add to if it comes from the previous
    // core, else another link of the chain.
    uint32_t previous = window.chain_previous == NO_CORE ? GATHER_NOT_MINE
            : gather_receive(&chain_gather, key, payload);
    if (previous == GATHER_COMPLETE) {
        if (chain_ready) {
            chain_ready = false;
            schedule(pass_chain, 0);
        } else {
            chain_in_complete = true;
        }
    }
    return got != GATHER_NOT_MINE || previous != GATHER_NOT_MINE;
}

void c_main(void) {
    layer_main("conv");
}
