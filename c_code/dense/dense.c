// dense: a slice of a Dense layer's neurons (one neuron per core by default).
//
// Forward pass: each neuron of the previous layer multicasts its activation
// once (float32 bits in the payload); the core stores it at the sender's
// index, and when the whole input vector is in, computes z = W x + b for its
// neurons in index order (deterministic whatever the packet order) and
// multicasts f(z).  Softmax layers first exchange z sideways on the softmax
// partition; every core then holds the layer's z and computes its neurons'
// outputs with the numerically stable formula.
#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>

#include "spidnn_layouts.h"
#include "activations.h"
#include "key_space.h"

// Callback priorities: packets are stored in the FIQ callback; the
// arithmetic runs in a queued callback, as spin1 apps keep FIQ work short.
#define PACKET_PRIORITY  -1
#define COMPUTE_PRIORITY 1
#define SDP_PRIORITY     2
#define DMA_PRIORITY     0

static dense_params_t params;
static key_space_t input_space;
static key_space_t peer_space;

static float *kernel;         // [n_neurons][n_inputs], row per neuron
static float *bias;           // [n_neurons]
static float *inputs;         // the current sample's input vector
static float *z;              // this core's pre-activations
static float *layer_z;        // softmax: the whole layer's pre-activations

static uint32_t n_inputs_received;
static uint32_t n_peers_received;

static uint32_t simulation_ticks;
static uint32_t infinite_run;
static uint32_t time;

static void send_forward(uint32_t j, float value) {
    while (!spin1_send_mc_packet(
            params.forward_key + j, float_to_bits(value), WITH_PAYLOAD)) {
        // The router's queue is full: retry, as every spin1 app does.
    }
}

static void send_softmax_exchange(uint32_t j, float value) {
    while (!spin1_send_mc_packet(
            params.softmax_key + j, float_to_bits(value), WITH_PAYLOAD)) {
    }
}

static void finish_softmax(uint unused0, uint unused1) {
    (void) unused0; (void) unused1;
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        send_forward(j, softmax_element(
                layer_z, peer_space.n_atoms, params.first_neuron + j));
    }
}

static void compute_forward(uint unused0, uint unused1) {
    (void) unused0; (void) unused1;
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
        if (params.activation == ACTIVATION_SOFTMAX) {
            send_softmax_exchange(j, z[j]);
        } else {
            send_forward(j, activation_apply(params.activation, z[j]));
        }
    }
}

static void receive_packet(uint key, uint payload) {
    uint32_t index;
    if (key_space_index(&input_space, key, &index)) {
        inputs[index] = bits_to_float(payload);
        if (++n_inputs_received == input_space.n_atoms) {
            n_inputs_received = 0;
            spin1_schedule_callback(compute_forward, 0, 0, COMPUTE_PRIORITY);
        }
    } else if (params.activation == ACTIVATION_SOFTMAX
            && key_space_index(&peer_space, key, &index)) {
        layer_z[index] = bits_to_float(payload);
        if (++n_peers_received == peer_space.n_atoms) {
            n_peers_received = 0;
            spin1_schedule_callback(finish_softmax, 0, 0, COMPUTE_PRIORITY);
        }
    } else {
        log_error("dense: unexpected key 0x%08x", key);
    }
}

static void *dtcm_alloc(uint32_t n_floats) {
    void *p = spin1_malloc(n_floats * sizeof(float));
    if (p == NULL) {
        log_error("dense: out of DTCM allocating %u floats", n_floats);
        rt_error(RTE_MALLOC);
    }
    return p;
}

static bool initialise(void) {
    data_specification_metadata_t *ds = data_specification_get_data_address();
    if (!data_specification_read_header(ds)) {
        return false;
    }
    uint32_t timer_period;
    if (!simulation_initialise(
            data_specification_get_region(REGION_SYSTEM, ds),
            APPLICATION_NAME_HASH, &timer_period, &simulation_ticks,
            &infinite_run, &time, SDP_PRIORITY, DMA_PRIORITY)) {
        return false;
    }
    spin1_memcpy(&params, data_specification_get_region(REGION_PARAMS, ds),
                 sizeof(params));
    input_space = (key_space_t) {params.input_base, params.input_atom_bits,
            params.input_atoms_per_core, params.input_n_atoms};
    peer_space = (key_space_t) {params.peer_base, params.peer_atom_bits,
            params.peer_atoms_per_core, params.peer_n_atoms};

    uint32_t n = params.n_neurons, n_in = input_space.n_atoms;
    kernel = dtcm_alloc(n * n_in);
    bias = dtcm_alloc(n);
    inputs = dtcm_alloc(n_in);
    z = dtcm_alloc(n);
    if (params.activation == ACTIVATION_SOFTMAX) {
        layer_z = dtcm_alloc(peer_space.n_atoms);
    }
    const float *weights = data_specification_get_region(REGION_WEIGHTS, ds);
    spin1_memcpy(kernel, weights, n * n_in * sizeof(float));
    spin1_memcpy(bias, &weights[n * n_in], n * sizeof(float));
    n_inputs_received = 0;
    n_peers_received = 0;
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
