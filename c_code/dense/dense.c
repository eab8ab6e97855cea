// dense: a slice of a Dense layer's neurons (one neuron per core by default).
//
// Forward pass: each neuron of the previous layer multicasts its activation
// once (float32 bits in the payload); the core stores it at the sender's
// index, and when the whole input vector is in, computes z = W x + b for its
// neurons in index order (deterministic whatever the packet order) and
// multicasts f(z).  Softmax layers first exchange z sideways on the softmax
// partition; every core then holds the layer's z and computes the stable
// softmax.
//
// Training adds the backward pass by shared parameters: the core keeps a
// copy of its neurons' outgoing weights (their rows of the next layer's
// kernel), so the next layer sends only its deltas, one packet per neuron.
// From them the core computes dL/da = sum_k W_out[j][k] delta_k, its own
// deltas, which it sends back in turn, and the gradients of both copies of
// its weights.  The copies see the same floats in the same order and update
// together at the batch end, so they never diverge.  After the last epoch
// the core sends its weights to the host.
#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>

#include "spidnn_layouts.h"
#include "app_init.h"
#include "activations.h"
#include "batch.h"
#include "key_space.h"

static dense_params_t params;
static key_space_t input_space;          // the previous layer's activations
static key_space_t peer_space;           // softmax: the layer's z
static key_space_t next_space;           // training: the deltas coming back
static key_space_t peer_backward_space;  // softmax training: dL/dp
static batch_counter_t batch;
static float learning_rate;

static float *kernel;         // [n_neurons][n_inputs], row per neuron
static float *bias;           // [n_neurons]
static float *inputs;         // the current sample's input vector
static float *incoming;       // where inputs arrive (the next sample's)
static float *z;              // this core's pre-activations
static float *layer_z;        // softmax: the whole layer's pre-activations
static float *layer_p;        // softmax: the whole layer's outputs

// Training only.
static float *kernel_grad;    // [n_neurons][n_inputs], over the batch
static float *bias_grad;      // [n_neurons]
static float *activation;     // what each neuron sent forward
static float *delta;          // dL/dz of each neuron
static float *next_delta;     // the deltas received, by sender index
static float *outgoing;       // [n_neurons][n_next]: next layer's kernel
static float *outgoing_grad;  // [n_neurons][n_next]
static float *layer_g;        // softmax: the whole layer's dL/dp

static uint32_t n_inputs_received;
static uint32_t n_peers_received;
static uint32_t n_next_received;
static uint32_t n_peer_backward_received;
static bool inputs_waiting;       // a complete input vector not yet used
static bool awaiting_backward;    // forward sent; the deltas not yet done

static void send(uint32_t key, float value) {
    while (!spin1_send_mc_packet(key, float_to_bits(value), WITH_PAYLOAD)) {
        // The router's queue is full: retry, as every spin1 app does.
    }
}

static bool is_softmax_layer(void) {
    // A softmax that sends logits leaves the softmax to the loss.
    return params.activation == ACTIVATION_SOFTMAX && !params.sends_logits;
}

static void send_forward(uint32_t j, float value) {
    if (params.training) {
        activation[j] = value;
    }
    send(params.forward_key + j, value);
}

static void finish_softmax(uint unused0, uint unused1) {
    (void) unused0; (void) unused1;
    softmax_layer(layer_z, peer_space.n_atoms, layer_p);
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        send_forward(j, layer_p[params.first_neuron + j]);
    }
}

static void compute_forward(uint unused0, uint unused1) {
    (void) unused0; (void) unused1;
    inputs_waiting = false;
    if (params.training) {
        // Keep this sample's inputs for the gradient; the next sample's
        // may arrive while the backward pass still runs.
        float *used = inputs;
        inputs = incoming;
        incoming = used;
        awaiting_backward = true;
    }
    uint32_t n_in = input_space.n_atoms;
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        const float *w = &kernel[j * n_in];
        float acc = 0.0f;
        for (uint32_t i = 0; i < n_in; i++) {
            acc += w[i] * inputs[i];
        }
        z[j] = acc + bias[j];
    }
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        if (is_softmax_layer()) {
            send(params.softmax_key + j, z[j]);
        } else if (params.sends_logits) {
            send_forward(j, z[j]);
        } else {
            send_forward(j, activation_apply(params.activation, z[j]));
        }
    }
}

static void start_forward_if_ready(void) {
    if (inputs_waiting && !awaiting_backward) {
        spin1_schedule_callback(compute_forward, 0, 0, COMPUTE_PRIORITY);
    }
}

static void apply_update(void) {
    uint32_t n = params.n_neurons, n_in = input_space.n_atoms;
    // Keras' SGD: w <- w - g * learning_rate.
    for (uint32_t i = 0; i < n * n_in; i++) {
        kernel[i] -= kernel_grad[i] * learning_rate;
        kernel_grad[i] = 0.0f;
    }
    for (uint32_t j = 0; j < n; j++) {
        bias[j] -= bias_grad[j] * learning_rate;
        bias_grad[j] = 0.0f;
    }
    if (!params.is_output) {
        for (uint32_t i = 0; i < n * next_space.n_atoms; i++) {
            outgoing[i] -= outgoing_grad[i] * learning_rate;
            outgoing_grad[i] = 0.0f;
        }
    }
}

// The trained weights to the host: neuron j's kernel row then its bias, at
// weights_key + j * (n_inputs + 1) + i.
static void send_weights(void) {
    uint32_t n_in = input_space.n_atoms;
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        uint32_t key = params.weights_key + j * (n_in + 1);
        for (uint32_t i = 0; i < n_in; i++) {
            send(key + i, kernel[j * n_in + i]);
        }
        send(key + n_in, bias[j]);
    }
}

static void finish_backward(void) {
    uint32_t n_in = input_space.n_atoms, n_next = next_space.n_atoms;
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        float d = delta[j];
        float *g = &kernel_grad[j * n_in];
        for (uint32_t i = 0; i < n_in; i++) {
            g[i] += inputs[i] * d;
        }
        bias_grad[j] += d;
        if (params.sends_backward) {
            send(params.backward_key + j, d);
        }
    }
    if (!params.is_output) {
        // The same products the next layer adds to its kernel gradient.
        for (uint32_t j = 0; j < params.n_neurons; j++) {
            float *g = &outgoing_grad[j * n_next];
            for (uint32_t k = 0; k < n_next; k++) {
                g[k] += activation[j] * next_delta[k];
            }
        }
    }
    uint32_t ended = batch_sample_done(&batch);
    if (ended & BATCH_ENDED) {
        apply_update();
    }
    awaiting_backward = false;
    if (ended & TRAINING_ENDED) {
        send_weights();
        return;
    }
    start_forward_if_ready();
}

static void finish_softmax_backward(uint unused0, uint unused1) {
    (void) unused0; (void) unused1;
    // TensorFlow's softmax gradient: (g - sum_i g_i p_i) * p.
    float dot = 0.0f;
    for (uint32_t i = 0; i < peer_backward_space.n_atoms; i++) {
        dot += layer_g[i] * layer_p[i];
    }
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        uint32_t i = params.first_neuron + j;
        delta[j] = (layer_g[i] - dot) * layer_p[i];
    }
    finish_backward();
}

static void compute_backward(uint unused0, uint unused1) {
    (void) unused0; (void) unused1;
    uint32_t n_next = next_space.n_atoms;
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        float g;   // dL/da_j (dL/dz_j when the loss took logits)
        if (params.is_output) {
            g = next_delta[params.first_neuron + j];
        } else {
            const float *w = &outgoing[j * n_next];
            g = 0.0f;
            for (uint32_t k = 0; k < n_next; k++) {
                g += w[k] * next_delta[k];
            }
        }
        if (params.sends_logits) {
            delta[j] = g;
        } else if (is_softmax_layer()) {
            send(params.softmax_backward_key + j, g);
        } else {
            delta[j] = activation_backward(
                    params.activation, activation[j], z[j], g);
        }
    }
    if (!is_softmax_layer()) {
        finish_backward();
    }
}

static void receive_packet(uint key, uint payload) {
    uint32_t index;
    float value = bits_to_float(payload);
    if (key_space_index(&input_space, key, &index)) {
        incoming[index] = value;
        if (++n_inputs_received == input_space.n_atoms) {
            n_inputs_received = 0;
            inputs_waiting = true;
            start_forward_if_ready();
        }
    } else if (params.training && key_space_index(&next_space, key, &index)) {
        next_delta[index] = value;
        if (++n_next_received == next_space.n_atoms) {
            n_next_received = 0;
            spin1_schedule_callback(compute_backward, 0, 0, COMPUTE_PRIORITY);
        }
    } else if (is_softmax_layer()
            && key_space_index(&peer_space, key, &index)) {
        layer_z[index] = value;
        if (++n_peers_received == peer_space.n_atoms) {
            n_peers_received = 0;
            spin1_schedule_callback(finish_softmax, 0, 0, COMPUTE_PRIORITY);
        }
    } else if (params.training && is_softmax_layer()
            && key_space_index(&peer_backward_space, key, &index)) {
        layer_g[index] = value;
        if (++n_peer_backward_received == peer_backward_space.n_atoms) {
            n_peer_backward_received = 0;
            spin1_schedule_callback(
                    finish_softmax_backward, 0, 0, COMPUTE_PRIORITY);
        }
    } else {
        log_error("dense: unexpected key 0x%08x", key);
    }
}

static float *dtcm_zeros(uint32_t n_floats) {
    float *p = dtcm_alloc(n_floats);
    for (uint32_t i = 0; i < n_floats; i++) {
        p[i] = 0.0f;
    }
    return p;
}

static key_space_t key_space_of(uint32_t base, uint32_t atom_bits,
                                uint32_t atoms_per_core, uint32_t n_atoms) {
    return (key_space_t) {base, atom_bits, atoms_per_core, n_atoms};
}

// The backward pass's arrays, and the outgoing weights from their region.
static void initialise_training(data_specification_metadata_t *ds) {
    uint32_t n = params.n_neurons, n_in = input_space.n_atoms;
    uint32_t n_next = next_space.n_atoms;
    batch_init(&batch, params.batch_size, params.n_samples, params.n_epochs);
    learning_rate = bits_to_float(params.learning_rate);
    kernel_grad = dtcm_zeros(n * n_in);
    bias_grad = dtcm_zeros(n);
    incoming = dtcm_alloc(n_in);
    activation = dtcm_alloc(n);
    delta = dtcm_alloc(n);
    next_delta = dtcm_alloc(n_next);
    if (!params.is_output) {
        outgoing = dtcm_alloc(n * n_next);
        outgoing_grad = dtcm_zeros(n * n_next);
        spin1_memcpy(outgoing, data_specification_get_region(
                REGION_OUTGOING, ds), n * n_next * sizeof(float));
    }
    if (is_softmax_layer()) {
        layer_g = dtcm_alloc(peer_backward_space.n_atoms);
    }
}

static bool initialise(void) {
    data_specification_metadata_t *ds = app_initialise(
            &params, sizeof(params));
    if (ds == NULL) {
        return false;
    }
    input_space = key_space_of(params.input_base, params.input_atom_bits,
            params.input_atoms_per_core, params.input_n_atoms);
    peer_space = key_space_of(params.peer_base, params.peer_atom_bits,
            params.peer_atoms_per_core, params.peer_n_atoms);
    next_space = key_space_of(params.next_base, params.next_atom_bits,
            params.next_atoms_per_core, params.next_n_atoms);
    peer_backward_space = key_space_of(params.peer_backward_base,
            params.peer_backward_atom_bits,
            params.peer_backward_atoms_per_core,
            params.peer_backward_n_atoms);

    uint32_t n = params.n_neurons, n_in = input_space.n_atoms;
    kernel = dtcm_alloc(n * n_in);
    bias = dtcm_alloc(n);
    inputs = dtcm_alloc(n_in);
    incoming = inputs;     // training gives the next sample its own buffer
    z = dtcm_alloc(n);
    if (is_softmax_layer()) {
        layer_z = dtcm_alloc(peer_space.n_atoms);
        layer_p = dtcm_alloc(peer_space.n_atoms);
    }
    const float *weights = data_specification_get_region(REGION_WEIGHTS, ds);
    spin1_memcpy(kernel, weights, n * n_in * sizeof(float));
    spin1_memcpy(bias, &weights[n * n_in], n * sizeof(float));
    if (params.training) {
        initialise_training(ds);
    }
    n_inputs_received = 0;
    n_peers_received = 0;
    n_next_received = 0;
    n_peer_backward_received = 0;
    inputs_waiting = false;
    awaiting_backward = false;
    return true;
}

void c_main(void) {
    if (!initialise()) {
        log_error("dense: initialisation failed");
        rt_error(RTE_SWERR);
        return;
    }
    spin1_callback_on(MCPL_PACKET_RECEIVED, receive_packet, PACKET_PRIORITY);
    simulation_run();
}
