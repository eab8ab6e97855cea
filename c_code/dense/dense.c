// dense: a slice of a Dense layer's neurons (one neuron per core by
// default).  The protocol is layer_core.h's; this file holds the slice's
// weights and their updates.
//
// Backward by shared parameters: the previous layer keeps a copy of this
// layer's kernel rows of its neurons (outgoing.h), so this core sends it
// only its deltas, one packet per neuron.  After the last epoch it sends
// its weights to the host: neuron j's kernel row then its bias, at
// weights_key + j * (n_inputs + 1) + i.
//
// In a 2-D split (layer_core.h) the row is the core's input block's part.
//
// Regularised (spiDNN.regularizers), each step adds the penalty gradient
// of every kernel and bias weight the core holds (element by element, so
// every slicing the same), and each core reports the penalty of each of
// its neurons (its kernel row's, then its bias's: every slicing the same).
// A core without biases (one before the last block, or any core of a
// layer with use_bias=False) sends its rows at weights_key + j * n_inputs
// + i.
//
// A layer applied more than once (dense_shared.h) adds its uses'
// gradients along a chain at each batch end; its first use's cores alone
// send the weights and report the penalty (every copy holds the same).
#include "layer_core.h"
#include "dense_kernel.h"
#include "dense_stream.h"
#include "dense_shared.h"

static float *kernel;         // [n_neurons][n_inputs], row per neuron
static float *bias;           // [n_neurons]
static trained_t kernel_trained;  // training: gradients, optimizer state
static trained_t bias_trained;

// The core has the neurons' biases: the layer has them (Keras' use_bias)
// and this is not a partial core of a 2-D split (whose sums go on to the
// next input block's core).
static inline bool has_bias(void) {
    return params.use_bias && !params.partial;
}

static bool app_setup(data_specification_metadata_t *ds) {
    uint32_t n = params.n_neurons;
    const float *region = data_specification_get_region(REGION_WEIGHTS, ds);
    bias = NULL;
    if (has_bias()) {
        bias = dtcm_alloc(n);
        spin1_memcpy(bias, &region[n * n_inputs], n * sizeof(float));
        if (params.training) {
            trained_init(&bias_trained, &optimizer, bias, n);
        }
    }
    if (params.streamed) {
        kernel = (float *) region;
        dense_stream_t config = {
            n, n_inputs, bias, carry, &optimizer,
            params.training ? &kernel_trained : NULL,
            layer_forward_done, layer_sample_done, layer_update_applied};
        stream_setup(&config, ds, kernel);
    } else {
        kernel = dtcm_alloc(n * n_inputs);
        spin1_memcpy(kernel, region, n * n_inputs * sizeof(float));
        if (params.training) {
            trained_init(&kernel_trained, &optimizer, kernel, n * n_inputs);
        }
    }
    if (params.training) {
        trained_regularise(&kernel_trained, kernel_regulariser(),
                n * n_inputs, kernel_regulariser());
        if (has_bias()) {
            trained_regularise(&bias_trained, bias_regulariser(), n,
                    bias_regulariser());
        }
    }
    if (params.training && optimizer.has_state) {
        const float *state = data_specification_get_region(
                REGION_OPTIMIZER_STATE, ds);
        uint32_t stride = n * (n_inputs + (has_bias() ? 1 : 0));
        trained_load_state(&kernel_trained, state, stride, 0);
        if (has_bias()) {
            trained_load_state(&bias_trained, state, stride, n * n_inputs);
        }
    }
    if (norm_on() && !params.frozen) {
        norm_use(&kernel_trained, 0, norm_own_slot(0));
        if (has_bias()) {
            norm_use(&bias_trained, 0, norm_own_slot(1));
        }
    }
    shared.on = false;
    shared.reports = true;
    if (params.training) {
        shared_setup(ds, kernel_trained.grads,
                has_bias() ? bias_trained.grads : NULL, n * n_inputs,
                has_bias() ? n : 0, layer_update_ready);
    }
    return true;
}

// This core holds the copy of the weights that goes to the host: every
// core of a layer used once, the first use's of a shared one.
static inline bool reports_weights(void) {
    return shared.reports;
}

static bool app_forward(const float *x, float *out) {
    COST(COST_FORWARD, params.n_neurons * n_inputs);
    if (params.streamed) {
        return stream_forward(x, out);
    }
    dense_forward(params.n_neurons, n_inputs, kernel, bias, carry, x, out);
    return true;
}

static void send_deltas(const float *deltas) {
    if (params.sends_backward) {
        COST(COST_SEND, params.n_neurons);
        send_floats(params.backward_key, deltas, params.n_neurons);
    }
}

// The gradients, then the deltas to the previous layer (streamed, the
// gradients go on in the DMA callbacks after this one).
static bool app_backward(const float *x, const float *deltas) {
    if (params.frozen) {       // Keras' trainable=False: no gradients
        send_deltas(deltas);
        return true;
    }
    COST(COST_ACCUMULATE, params.n_neurons * n_inputs);
    if (params.streamed) {
        for (uint32_t j = 0; has_bias() && j < params.n_neurons; j++) {
            bias_trained.grads[j] += deltas[j];
        }
        stream_gradients(x, deltas);
        send_deltas(deltas);
        return false;
    }
    dense_accumulate(params.n_neurons, n_inputs, x, deltas,
            kernel_trained.grads, has_bias() ? bias_trained.grads : NULL);
    send_deltas(deltas);
    return true;
}

static bool app_batch_end(void) {
    if (shared.on) {
        return shared_batch_end();   // the uses' sums are the update
    }
    return true;   // the gradients are the update: nothing to prepare
}

static bool app_apply_update(const step_t *step) {
    if (params.streamed) {
        if (has_bias()) {
            trained_step(&optimizer, &bias_trained, step);
        }
        stream_update(step);
        return false;
    }
    trained_step(&optimizer, &kernel_trained, step);
    if (has_bias()) {
        trained_step(&optimizer, &bias_trained, step);
    }
    return true;
}

static void app_abort(void) {
    if (params.streamed) {
        // A committed update runs to its end, the biases' step with it.
        if (stream_abort() && params.training && has_bias()) {
            trained_forget(&bias_trained);
        }
    } else if (params.training) {
        trained_forget(&kernel_trained);
        if (has_bias()) {
            trained_forget(&bias_trained);
        }
        shared_abort();
    }
}

// Neuron j's kernel row then its bias (last NULL: none) at
// key + j * (n_inputs + 1), or key + j * n_inputs without.
static void send_rows(uint32_t key, const float *rows, const float *last) {
    uint32_t row_words = n_inputs + (last != NULL ? 1 : 0);
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        uint32_t row_key = key + j * row_words;
        send_floats(row_key, &rows[j * n_inputs], n_inputs);
        if (last != NULL) {
            send_float(row_key + n_inputs, last[j]);
        }
    }
}

// The weights, then each optimizer state array in the same layout.
static void app_send_weights(void) {
    if (!reports_weights()) {
        return;
    }
    uint32_t stride = params.n_neurons * (n_inputs + (has_bias() ? 1 : 0));
    COST(COST_SEND, stride * (1 + optimizer_n_states(&optimizer)));
    send_rows(params.weights_key, kernel, bias);
    for (uint32_t k = 0; k < optimizer_n_states(&optimizer); k++) {
        send_rows(params.weights_key + (k + 1) * stride,
                kernel_trained.state[k],
                has_bias() ? bias_trained.state[k] : NULL);
    }
}

// A part per neuron: a core's float32 sum over its slice of neurons would
// round by the slicing.
static uint32_t app_penalty_parts(void) {
    return reports_weights() ? params.n_neurons : 0;
}

// Neuron j's penalty: its kernel row's (in SDRAM, streamed: read in
// place) in input order, then its bias's.  In a 2-D split each input
// block's core reports its part of the row, the last the bias too.
static float app_penalty(uint32_t j) {
    float penalty = penalty_of(kernel_regulariser(),
            &kernel_trained.weights[j * n_inputs], n_inputs);
    if (has_bias()) {
        penalty = penalty + penalty_of(bias_regulariser(), &bias[j], 1);
    }
    return penalty;
}

// The squares of the core's kernel gradients (its rows, or its block's
// parts of them), then its biases' (none on a partial core: the last
// block's add them); streamed, read in place.  Every element is one
// core's: the norm's exact sum is the same on every slicing.
static void app_norm_add(exact_sum_t *sums) {
    norm_add_squares(&sums[0], &kernel_trained, 0, kernel_trained.n);
    if (has_bias()) {
        norm_add_squares(&sums[1], &bias_trained, 0, bias_trained.n);
    }
}

static bool app_receive(uint32_t key, uint32_t payload) {
    return shared_receive(key, payload);
}

void c_main(void) {
    layer_main("dense");
}
