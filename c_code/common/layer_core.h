// The packet protocol every layer app shares (dense, conv, pool); the app
// supplies only its maths through the hooks declared below.
//
// Forward: the previous layer's neurons each multicast their value once;
// the core gathers the whole input vector (double-buffered: the next
// sample's may arrive while the backward pass still runs), the app
// computes z for the core's neurons, and the core multicasts f(z) (times
// the dropout mask when a Dropout follows the layer in training).  A
// softmax layer first exchanges z sideways so every core holds the layer's
// z.
//
// A core's input vector comes from one source layer or several (a
// merge's, the SOURCES region): each sends its neurons once, and the core
// keeps the slice of each it takes, one after the other.
//
// Backward: dL/da of each neuron comes from each consumer of the layer
// (the GRADIENTS region), either a Dense layer's deltas through the
// core's copy of its outgoing weights (outgoing.h), or directly, one
// packet per neuron keyed by its index in this layer (from the loss, a
// windowed layer or a merge).  A layer that fans out to several consumers
// sums their contributions in the region's order, whatever order the
// packets arrive in.  The core applies the dropout mask and
// its activation's gradient and hands the deltas to the app, which adds
// its weight gradients and sends what the previous layer needs.  Every
// core counts samples into batches itself (batch.h); at a batch end the
// app prepares its update, possibly after an exchange with its peers, and
// applies it on the host's commit (control.h, which also aborts a pass for
// a replay and asks for the trained weights).
//
// A consumer that is a shared Dense (one layer applied more than once,
// spiDNN/compiler/sharing.py) trains its kernel with the gradients of all
// its uses summed: the core's copy of its rows then takes the totals of
// the rows from the shared layer's last use (whose cores send them to
// every copy at the batch end) instead of adding its own products, and
// the core's update waits for them.
//
// A 2-D split (a Dense layer's inputs split in blocks as well as its
// neurons): a core takes only its input block, and the sums of its
// neurons start where the previous block's core left them (the carry),
// so each sum runs in index order across the blocks, as on one core.  A
// core before the last block ("partial") sends its sums on as its
// forward values, with no bias or activation, and takes its neurons'
// deltas from the last block's core.
#ifndef SPIDNN_LAYER_CORE_H
#define SPIDNN_LAYER_CORE_H

#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>

#include "spidnn_layouts.h"
#include "activations.h"
#include "app_init.h"
#include "batch.h"
#include "control.h"
#include "cost.h"
#include "dropout.h"
#include "gather.h"
#include "key_space.h"
#include "optimizer.h"
#include "outgoing.h"
#include "send.h"

// ---- Hooks: each app defines these.
// Reads the app's regions and allocates its arrays.
static bool app_setup(data_specification_metadata_t *ds);
// z of this core's neurons from the input vector.  Returns true if z is
// ready, false if the app will call layer_forward_done() itself later.
static bool app_forward(const float *inputs, float *z);
// Adds the weight gradients of one sample with deltas dL/dz and sends the
// previous layer what it needs.  Returns true if the sample is finished,
// false if the app will call layer_sample_done() itself later.
static bool app_backward(const float *inputs, const float *delta);
// Prepares the batch's update.  Returns true if ready, false if the app
// will call layer_update_ready() itself later.
static bool app_batch_end(void);
// Applies the prepared update (on the host's commit) with the step's
// learning rate and values.  Returns true if applied, false if the app
// will call layer_update_applied() itself later.
static bool app_apply_update(const step_t *step);
// Forgets the pass in flight: zeroes the gradients (an abort replays the
// batch from its start) and resets the app's own gathers.
static void app_abort(void);
// Sends the trained weights to the host.
static void app_send_weights(void);
// How many parts of its layer's weight penalty (the regulariser's, of
// the weights as they are) this core reports: 0 without weights, or with
// a copy of weights another core reports.
static uint32_t app_penalty_parts(void);
// Part `part` of them, each computed alike on whichever core holds it
// (a Dense core's: one per neuron), so the host's sum of the parts, in
// its fixed order, is the same on every slicing.
static float app_penalty(uint32_t part);
// Takes packets of the app's own partitions; false if the key is not one.
static bool app_receive(uint32_t key, uint32_t payload);
// (And clip_norm.h's app_norm_add: the squares of the weights' gradients
// it owns.)

// ---- The layer's state, readable by the app.
static layer_params_t params;
static optimizer_t optimizer;
static batch_counter_t batch;

static uint32_t n_inputs;     // the inputs this core takes (its block)
static float *inputs;         // the current sample's input vector
static float *incoming;       // where inputs arrive (the next sample's)
static float *z;              // this core's pre-activations
static float *activated;      // f(z), before dropout
static float *sent;           // what each neuron sent forward
static float *delta;          // training: dL/dz of each neuron
static float *mask;           // training with dropout: each neuron's factor
static float *layer_z;        // softmax: the whole layer's pre-activations
static float *layer_p;        // softmax: the whole layer's outputs
static float *layer_g;        // softmax training: the whole layer's dL/dp
static float *carry;          // 2-D: the previous block's sums, or NULL

// The sources of the input vector, each into its part of `incoming`.
static uint32_t n_sources;
static gather_t input_gathers[MAX_SOURCES];
static uint32_t source_offsets[MAX_SOURCES];
static uint32_t sources_complete;  // of the vector gathering now
// Training: each consumer's dL/d(output): dense deltas through its
// outgoing rows, or the core's own dL/da directly.
static uint32_t n_gradients;
static uint32_t gradient_kinds[MAX_GRADIENTS];
static gather_t gradient_gathers[MAX_GRADIENTS];
static outgoing_t outgoings[MAX_GRADIENTS];
static bool consumer_frozen[MAX_GRADIENTS];   // its rows here stay
static uint32_t gradients_complete;
// Training: of the dense consumers, the shared ones (totals_rows[u] > 0:
// their kernel rows' length), whose totals come in totals_spaces[u].
static uint32_t totals_rows[MAX_GRADIENTS];
static key_space_t totals_spaces[MAX_GRADIENTS];
static uint32_t totals_received[MAX_GRADIENTS];
static uint32_t n_shared_consumers;
static uint32_t shared_totals_complete;   // consumers whose totals are in
static bool update_prepared;     // the app has prepared the batch's update
static gather_t softmax_gather;
static gather_t softmax_backward_gather;
static gather_t carry_gather;
static float dropout_rate;
static activation_params_t activation_params;   // the activation's settings
static uint32_t training_passes;   // forward passes in training so far

static void start_forward_if_ready(void);

#include "clip_norm.h"

// ---- The core's phase.  One sample at a time goes through the core;
// the next sample's inputs (and carry) may gather meanwhile, which is
// data (inputs_waiting, carry_waiting), not phase.
//
//   LAYER_IDLE --compute_forward(), queued by start_forward_if_ready()
//       once the inputs (and carry) are in--> LAYER_SAMPLE
//   LAYER_SAMPLE --sample_finished(): from forward_sent() when the pass
//       does not train, or from layer_sample_done() when the sample is
//       not its batch's last--> LAYER_IDLE
//   LAYER_SAMPLE --layer_sample_done(): the batch's last--> LAYER_BATCH_END
//   LAYER_BATCH_END --layer_update_ready()--> LAYER_UPDATE_READY
//   LAYER_UPDATE_READY --on_commit()--> LAYER_APPLYING
//   LAYER_APPLYING --layer_update_applied() (at once if the app applied
//       it in app_apply_update)--> LAYER_IDLE
//   any but LAYER_APPLYING --on_abort()--> LAYER_IDLE (a committed
//       update runs to its end: it is part of the commit)
//
// A forward starts only in LAYER_IDLE; a training core puts a commit off
// in LAYER_SAMPLE and LAYER_BATCH_END.  Where in its sample a core is
// (softmax exchange, waiting for gradients, ...) is no phase of the
// core's: nothing branches on it; the host reads it in the status
// (control_waiting).
typedef enum {
    LAYER_IDLE,           // no sample in flight: waiting for inputs
    LAYER_SAMPLE,         // a sample's forward and backward passes run
    LAYER_BATCH_END,      // after the batch's last sample: the app prepares
    LAYER_UPDATE_READY,   // the update is prepared: waiting for the commit
    LAYER_APPLYING,       // committed: the app applies the update
} layer_phase_t;

static layer_phase_t phase;
static bool inputs_waiting;       // a complete input vector not yet used
// 2-D: the previous block's sums are complete.  One buffer is enough:
// that core sends the next sample's only after this one's forward (it
// waits for the deltas, which this core's layer sends after it).
static bool carry_waiting;
// The state of the last commit, which an abort takes back.
static batch_counter_t committed_batch;
static uint32_t committed_passes;

// A sample's forward or backward pass, or its batch's end, runs.
static inline bool sample_in_flight(void) {
    return phase == LAYER_SAMPLE || phase == LAYER_BATCH_END;
}

static bool is_softmax_layer(void) {
    // A softmax that sends logits leaves the softmax to the loss.
    return params.activation == ACTIVATION_SOFTMAX && !params.sends_logits
            && params.softmax_group == 0;
}

// A softmax over each softmax_group neurons in turn, which the core holds
// whole (a convolution's: over the channels of each output position, as
// Keras'), so it needs no exchange.
static bool is_group_softmax(void) {
    return params.activation == ACTIVATION_SOFTMAX && !params.sends_logits
            && params.softmax_group > 0;
}

// This pass trains: a training core, not evaluating.
static bool training_pass(void) {
    return params.training && !evaluating();
}

static bool from_dense(uint32_t u) {
    return gradient_kinds[u] == GRADIENT_SOURCE_DENSE_DELTAS;
}

// Points the source gathers at `incoming`, each at its part.
static void gather_inputs_into(float *vector) {
    incoming = vector;
    for (uint32_t s = 0; s < n_sources; s++) {
        input_gathers[s].values = &vector[source_offsets[s]];
    }
}

static void send_forward(uint32_t j, float value) {
    if (training_pass()) {
        activated[j] = value;
        if (dropout_rate > 0.0f) {
            value *= mask[j];
        }
        sent[j] = value;
    }
    send_float(params.forward_key + j, value);
}

// The forward values are sent: on to the backward pass, or done.
// The sample is done (not a batch's end): the next may start.
static void sample_finished(void) {
    phase = LAYER_IDLE;
    control_pass_done();
    start_forward_if_ready();
}

static void forward_sent(void) {
    if (training_pass()) {
        control_waiting(WAITING_GRADIENTS);
    } else {
        control_evaluated();
        sample_finished();
    }
}

// The cost point of sending the neurons' values forward, f(z) included.
static uint32_t output_cost_point(uint32_t activation) {
    return (training_pass() ? COST_TRAIN_OUTPUT_LINEAR : COST_OUTPUT_LINEAR)
            + activation;
}

static void finish_softmax(uint generation, uint unused) {
    (void) unused;
    if (stale(generation)) {
        return;
    }
    COST(COST_SOFTMAX, softmax_gather.space.n_atoms);
    softmax_layer(layer_z, softmax_gather.space.n_atoms, layer_p);
    COST(output_cost_point(ACTIVATION_LINEAR), params.n_neurons);
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        send_forward(j, layer_p[params.first_neuron + j]);
    }
    forward_sent();
}

// The forward values of this core's neurons from z, sent on.
static void layer_forward_done(void) {
    if (is_softmax_layer()) {
        COST(COST_SEND, params.n_neurons);
    } else if (is_group_softmax()) {
        uint32_t size = params.softmax_group;
        for (uint32_t g = 0; g < params.n_neurons; g += size) {
            COST(COST_SOFTMAX, size);
            softmax_layer(&z[g], size, &activated[g]);
        }
        COST(output_cost_point(ACTIVATION_LINEAR), params.n_neurons);
    } else {
        COST(output_cost_point(params.sends_logits
                ? ACTIVATION_LINEAR : params.activation), params.n_neurons);
    }
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        if (is_softmax_layer()) {
            send_float(params.softmax_key + j, z[j]);
        } else if (is_group_softmax()) {
            send_forward(j, activated[j]);
        } else if (params.sends_logits) {
            send_forward(j, z[j]);
        } else {
            send_forward(j, activation_apply(params.activation, z[j],
                                             &activation_params));
        }
    }
    if (is_softmax_layer()) {
        control_waiting(WAITING_SOFTMAX);
    } else {
        forward_sent();
    }
}

static void compute_forward(uint generation, uint unused) {
    (void) unused;
    if (stale(generation)) {
        return;
    }
    COST(COST_FORWARD_START, params.n_neurons);
    inputs_waiting = false;
    carry_waiting = false;
    if (params.training || params.streamed) {
        // Keep this sample's inputs (for the gradient, or while they
        // stream in); the next sample's may arrive meanwhile.
        float *used = inputs;
        inputs = incoming;
        gather_inputs_into(used);
    }
    phase = LAYER_SAMPLE;
    if (training_pass()) {
        if (dropout_rate > 0.0f) {
            for (uint32_t j = 0; j < params.n_neurons; j++) {
                mask[j] = dropout_scale(params.dropout_seed,
                        params.first_neuron + j, training_passes,
                        dropout_rate);
            }
        }
        training_passes++;
    }
    if (app_forward(inputs, z)) {
        layer_forward_done();
    }
}

static void start_forward_if_ready(void) {
    if (inputs_waiting && (carry_waiting || carry == NULL)
            && phase == LAYER_IDLE) {
        schedule(compute_forward, 0);
    }
}

// The batch's update is ready (after its norm phase, clipping by a
// norm): the pass is done, and the next waits for the host's commit.
static void layer_norm_done(void) {
    phase = LAYER_UPDATE_READY;
    control_pass_done();
    control_waiting(WAITING_COMMIT);
    control_ready();
}

// The app has prepared the batch's update: once the shared consumers'
// totals are in too, the gradients are final, and the norms that clip
// them (if any) are reduced before the update is ready.
static void layer_update_ready(void) {
    update_prepared = true;
    if (shared_totals_complete < n_shared_consumers) {
        control_waiting(WAITING_CHAIN);
        return;
    }
    update_prepared = false;
    shared_totals_complete = 0;
    if (norm_on()) {
        norm_batch_end();
    } else {
        layer_norm_done();
    }
}

// Every shared consumer's totals are in: the update is ready if the app
// has prepared its own.
static void shared_totals_in(uint generation, uint unused) {
    (void) unused;
    if (!stale(generation) && update_prepared) {
        layer_update_ready();
    }
}

static bool shared_consumer(uint32_t u) {
    return totals_rows[u] > 0;
}

// A packet of a shared consumer's totals (a core of its last use sends
// its neurons' kernel, row of inputs after row, then their biases): this
// core's rows' part goes into the gradient of its copy.  True if it was
// one.
static bool receive_shared_totals(uint32_t key, uint32_t payload) {
    for (uint32_t u = 0; u < n_gradients; u++) {
        if (!shared_consumer(u)) {
            continue;
        }
        uint32_t sender, value;
        if (!key_space_locate(&totals_spaces[u], key, &sender, &value)) {
            continue;
        }
        // The sender's neurons: a slice of the consumer's, as its deltas.
        const key_space_t *neurons = &gradient_gathers[u].space;
        uint32_t first = sender * neurons->atoms_per_core;
        uint32_t rows = totals_rows[u];
        uint32_t row = value / rows;
        uint32_t i = value - row * rows;
        outgoing_t *o = &outgoings[u];
        if (first + row >= neurons->n_atoms
                || row >= neurons->atoms_per_core
                || i < params.first_neuron
                || i - params.first_neuron >= o->n) {
            return true;       // a bias, or another core's rows
        }
        o->trained.grads[(i - params.first_neuron) * o->n_next + first + row]
                = bits_to_float(payload);
        if (++totals_received[u] == o->n * o->n_next) {
            totals_received[u] = 0;
            if (++shared_totals_complete == n_shared_consumers) {
                schedule(shared_totals_in, 0);
            }
        }
        return true;
    }
    return false;
}

// The app has finished the sample's backward pass.
static void layer_sample_done(void) {
    if (batch_sample_done(&batch)) {
        phase = LAYER_BATCH_END;
        // A frozen layer has no update to prepare.
        if (params.frozen || app_batch_end()) {
            layer_update_ready();
        }
        return;
    }
    sample_finished();
}

// The app has applied the committed update: the next sample may start.
static inline void layer_update_applied(void) {
    phase = LAYER_IDLE;
    start_forward_if_ready();
}

static bool on_commit(void) {
    if (sample_in_flight() && params.training) {
        return false;          // the batch's last pass is still running
    }
    if (phase == LAYER_UPDATE_READY) {
        if (!control_take_step(optimizer_step_needs(&optimizer))) {
            return false;      // the host sends them again
        }
        for (uint32_t u = 0; u < n_gradients; u++) {
            if (from_dense(u) && !consumer_frozen[u]) {
                outgoing_update(&outgoings[u], &optimizer, &control.step);
            }
        }
        phase = LAYER_APPLYING;
        if (params.frozen || app_apply_update(&control.step)) {
            phase = LAYER_IDLE;
        }
        control_waiting(WAITING_INPUTS);
    }
    committed_batch = batch;
    committed_passes = training_passes;
    start_forward_if_ready();
    return true;
}

static void on_abort(void) {
    for (uint32_t s = 0; s < n_sources; s++) {
        gather_reset(&input_gathers[s]);
    }
    sources_complete = 0;
    for (uint32_t u = 0; u < n_gradients; u++) {
        gather_reset(&gradient_gathers[u]);
    }
    gradients_complete = 0;
    gather_reset(&softmax_gather);
    gather_reset(&softmax_backward_gather);
    gather_reset(&carry_gather);
    for (uint32_t u = 0; u < n_gradients; u++) {
        totals_received[u] = 0;
    }
    shared_totals_complete = 0;
    update_prepared = false;
    norm_abort();
    inputs_waiting = false;
    carry_waiting = false;
    if (phase != LAYER_APPLYING) {
        phase = LAYER_IDLE;
    }
    if (params.training) {
        batch = committed_batch;
        training_passes = committed_passes;
        for (uint32_t u = 0; u < n_gradients; u++) {
            if (from_dense(u)) {
                outgoing_zero(&outgoings[u]);
            }
        }
    }
    app_abort();
}

static void on_send_weights(void) {
    if (params.training) {
        app_send_weights();
    }
}

// The layer has a weight regulariser (spiDNN.regularizers): a factor is
// not 0.
static bool layer_regularised(void) {
    return (params.kernel_l1 | params.kernel_l2 | params.bias_l1
            | params.bias_l2) != 0;
}

// The kernel's and the biases' regularisers.
static inline regulariser_t kernel_regulariser(void) {
    return regulariser_from_bits(params.kernel_l1, params.kernel_l2);
}

static inline regulariser_t bias_regulariser(void) {
    return regulariser_from_bits(params.bias_l1, params.bias_l2);
}

// A packet per part of the penalty the core holds, part p at
// penalty_key + p: the host adds the parts of every core, in the layers'
// and their parts' order, to the losses of the batch these weights train.
static void on_send_penalty(void) {
    if (!params.training || !layer_regularised()) {
        return;
    }
    for (uint32_t p = 0; p < app_penalty_parts(); p++) {
        send_float(params.penalty_key + p, app_penalty(p));
    }
}

// The pass ends with the next batch, of `size` samples: the committed
// counter too, which a replay of that batch starts from.
static void on_end_pass(uint32_t size) {
    if (params.training) {
        batch_end_pass(&batch, size);
        batch_end_pass(&committed_batch, size);
    }
}

static const control_hooks_t layer_control_hooks = {
    .abort_pass = on_abort, .commit = on_commit, .send_weights = on_send_weights,
    .send_penalty = on_send_penalty, .end_pass = on_end_pass};

static void finish_backward(void) {
    for (uint32_t u = 0; u < n_gradients; u++) {
        // A frozen consumer's rows stay; a shared one's take their
        // totals at the batch end.
        if (from_dense(u) && !consumer_frozen[u] && !shared_consumer(u)) {
            COST(COST_OUTGOING_ACCUMULATE,
                 params.n_neurons * outgoings[u].n_next);
            outgoing_accumulate(&outgoings[u], sent,
                                gradient_gathers[u].values);
        }
    }
    if (app_backward(inputs, delta)) {
        layer_sample_done();
    }
}

static void finish_softmax_backward(uint generation, uint unused) {
    (void) unused;
    if (stale(generation)) {
        return;
    }
    COST(COST_SOFTMAX_BACKWARD, softmax_backward_gather.space.n_atoms);
    // TensorFlow's softmax gradient: (g - sum_i g_i p_i) * p.
    float dot = 0.0f;
    for (uint32_t i = 0; i < softmax_backward_gather.space.n_atoms; i++) {
        dot += layer_g[i] * layer_p[i];
    }
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        uint32_t i = params.first_neuron + j;
        delta[j] = (layer_g[i] - dot) * layer_p[i];
    }
    finish_backward();
}

// dL/d(sent value) of each neuron into `delta`: consumer u's part (its
// deltas through the outgoing rows, or the value it sent), added to the
// parts before it, so the sum runs in the consumers' order.
static void gather_consumer(uint32_t u) {
    const float *values = gradient_gathers[u].values;
    if (from_dense(u)) {
        COST(COST_GRADIENT_DENSE, params.n_neurons * outgoings[u].n_next);
    } else {
        COST(COST_GRADIENT_DIRECT, params.n_neurons);
    }
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        float g = from_dense(u)
                ? outgoing_gradient(&outgoings[u], j, values) : values[j];
        delta[j] = u == 0 ? g : delta[j] + g;
    }
}

static void compute_backward(uint generation, uint unused) {
    (void) unused;
    if (stale(generation)) {
        return;
    }
    for (uint32_t u = 0; u < n_gradients; u++) {
        gather_consumer(u);
    }
    COST(COST_DELTA, params.n_neurons);
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        // dL/d(sent value): dL/dz itself when the loss took logits.
        float g = delta[j];
        if (dropout_rate > 0.0f) {
            g *= mask[j];
        }
        if (is_softmax_layer()) {
            send_float(params.softmax_backward_key + j, g);
        } else {
            delta[j] = g;
        }
    }
    if (is_group_softmax()) {
        // TensorFlow's softmax gradient, group by group: (g - sum_i g_i
        // p_i) * p, with p the values sent (before any dropout).
        uint32_t size = params.softmax_group;
        for (uint32_t g = 0; g < params.n_neurons; g += size) {
            COST(COST_SOFTMAX_BACKWARD, size);
            float dot = 0.0f;
            for (uint32_t i = g; i < g + size; i++) {
                dot += delta[i] * activated[i];
            }
            for (uint32_t i = g; i < g + size; i++) {
                delta[i] = (delta[i] - dot) * activated[i];
            }
        }
    } else if (!params.sends_logits && !is_softmax_layer()) {
        // f'(z) in a loop of its own, so that its cost (from a multiply
        // to erfc's polynomials) is its activation's point, not the
        // gradient's.
        COST(COST_BACKWARD_LINEAR + params.activation, params.n_neurons);
        for (uint32_t j = 0; j < params.n_neurons; j++) {
            delta[j] = activation_backward(
                    params.activation, activated[j], z[j], delta[j],
                    &activation_params);
        }
    }
    if (is_softmax_layer()) {
        control_waiting(WAITING_SOFTMAX_BACKWARD);
    } else {
        finish_backward();
    }
}

// A packet for one of `n` gathers that complete together (a vector's
// sources, or a sample's consumers): GATHER_NOT_MINE if for none, and
// GATHER_COMPLETE once the last of them completes (counted in *done).
static uint32_t gather_together(gather_t *gathers, uint32_t n,
                                uint32_t *done, uint32_t key,
                                uint32_t payload) {
    for (uint32_t i = 0; i < n; i++) {
        uint32_t got = gather_receive(&gathers[i], key, payload);
        if (got == GATHER_NOT_MINE) {
            continue;
        }
        if (got == GATHER_COMPLETE && ++*done < n) {
            return GATHER_STORED;
        }
        if (got == GATHER_COMPLETE) {
            *done = 0;
        }
        return got;
    }
    return GATHER_NOT_MINE;
}

// A packet of the input vector: true if it was one.
static bool receive_input(uint32_t key, uint32_t payload) {
    uint32_t got = gather_together(input_gathers, n_sources,
            &sources_complete, key, payload);
    if (got == GATHER_COMPLETE) {
        inputs_waiting = true;
        start_forward_if_ready();
    }
    return got != GATHER_NOT_MINE;
}

// A packet of a consumer's gradients: true if it was one.
static bool receive_gradient(uint32_t key, uint32_t payload) {
    uint32_t got = gather_together(gradient_gathers, n_gradients,
            &gradients_complete, key, payload);
    if (got == GATHER_COMPLETE) {
        schedule(compute_backward, 0);
    }
    return got != GATHER_NOT_MINE;
}

static void receive_packet(uint key, uint payload) {
    COST(COST_RECEIVE, 1);
    if (receive_input(key, payload)) {
        return;
    }
    COST(COST_RECEIVE_OTHER, 1);
    uint32_t got;
    if (carry != NULL) {
        got = gather_receive(&carry_gather, key, payload);
        if (got != GATHER_NOT_MINE) {
            if (got == GATHER_COMPLETE) {
                carry_waiting = true;
                start_forward_if_ready();
            }
            return;
        }
    }
    if (params.training && receive_gradient(key, payload)) {
        return;
    }
    if (is_softmax_layer()) {
        got = gather_receive(&softmax_gather, key, payload);
        if (got == GATHER_COMPLETE) {
            schedule(finish_softmax, 0);
        }
        if (got != GATHER_NOT_MINE) {
            return;
        }
        if (params.training) {
            got = gather_receive(&softmax_backward_gather, key, payload);
            if (got == GATHER_COMPLETE) {
                schedule(finish_softmax_backward, 0);
            }
            if (got != GATHER_NOT_MINE) {
                return;
            }
        }
    }
    // A shared layer's totals may reach one of its own uses both as its
    // chain's and as the copy of its rows a use before it keeps.
    bool totals = n_shared_consumers > 0
            && receive_shared_totals(key, payload);
    if (!totals && norm_on() && norm_receive(key, payload)) {
        return;
    }
    if (!app_receive(key, payload) && !totals
            && !control_receive(key, payload)) {
        log_error("unexpected key 0x%08x", key);
    }
}

static key_space_t key_space_at(const uint32_t *fields) {
    return key_space_of(fields[0], fields[1], fields[2], fields[3]);
}

// The SOURCES region: a count, then a source_t per source.
static bool read_sources(const uint32_t *region) {
    n_sources = region[0];
    if (n_sources == 0 || n_sources > MAX_SOURCES) {
        log_error("%u sources", n_sources);
        return false;
    }
    const source_t *sources = (const source_t *) &region[1];
    uint32_t offset = 0;
    for (uint32_t s = 0; s < n_sources; s++) {
        source_offsets[s] = offset;
        gather_init(&input_gathers[s], key_space_at(&sources[s].base),
                &incoming[offset], sources[s].first, sources[s].n);
        offset += sources[s].n;
    }
    sources_complete = 0;
    return offset == n_inputs;
}

// The GRADIENTS region: a count, then a gradient_t per consumer, in the
// order their parts are summed; the OUTGOING region holds each dense
// consumer's rows (then their state), one after the other.
static void read_gradients(const uint32_t *region, const float *rows) {
    n_gradients = region[0];
    const gradient_t *consumers = (const gradient_t *) &region[1];
    uint32_t n = params.n_neurons;
    n_shared_consumers = 0;
    for (uint32_t u = 0; u < n_gradients; u++) {
        key_space_t space = key_space_at(&consumers[u].base);
        gradient_kinds[u] = consumers[u].source;
        consumer_frozen[u] = consumers[u].frozen;
        totals_rows[u] = consumers[u].totals_rows;
        totals_spaces[u] = key_space_at(&consumers[u].totals_base);
        totals_received[u] = 0;
        n_shared_consumers += shared_consumer(u) ? 1 : 0;
        if (from_dense(u)) {
            gather_init_all(&gradient_gathers[u], space,
                    dtcm_alloc(space.n_atoms));
            regulariser_t kernel = regulariser_from_bits(
                    consumers[u].kernel_l1, consumers[u].kernel_l2);
            if (params.streamed) {
                outgoing_init_in_place(&outgoings[u], n, space.n_atoms,
                        (float *) rows, &optimizer, kernel);
            } else {
                outgoing_init(&outgoings[u], n, space.n_atoms, rows,
                        &optimizer, kernel);
            }
            rows += outgoing_words(n, space.n_atoms, &optimizer,
                                   params.streamed);
            if (norm_on() && !consumer_frozen[u]) {
                norm_use(&outgoings[u].trained, 0, consumers[u].norm_slot);
            }
        } else {
            gather_init(&gradient_gathers[u], space, dtcm_alloc(n),
                    consumers[u].first, n);
        }
    }
    gradients_complete = 0;
    shared_totals_complete = 0;
    update_prepared = false;
}

static void initialise_training(data_specification_metadata_t *ds) {
    uint32_t n = params.n_neurons;
    batch_init(&batch, params.batch_size, params.n_samples);
    committed_batch = batch;
    optimizer = optimizer_from_params(&params);
    dropout_rate = bits_to_float(params.dropout_rate);
    sent = dtcm_alloc(n);
    delta = dtcm_alloc(n);
    if (dropout_rate > 0.0f) {
        mask = dtcm_alloc(n);
    }
    norm_setup(ds);
    read_gradients(data_specification_get_region(REGION_GRADIENTS, ds),
            data_specification_get_region(REGION_OUTGOING, ds));
    if (is_softmax_layer()) {
        key_space_t peers = key_space_of(params.peer_backward_base,
                params.peer_backward_atom_bits,
                params.peer_backward_atoms_per_core,
                params.peer_backward_n_atoms);
        layer_g = dtcm_alloc(peers.n_atoms);
        gather_init_all(&softmax_backward_gather, peers, layer_g);
    }
}

static bool layer_initialise(void) {
    data_specification_metadata_t *ds = app_initialise(
            &params, sizeof(params));
    if (ds == NULL) {
        return false;
    }
    n_inputs = params.block_inputs;
    activation_params = (activation_params_t) {
        .alpha = bits_to_float(params.activation_alpha),
        .max_value = bits_to_float(params.activation_max_value),
        .threshold = bits_to_float(params.activation_threshold),
        .clip = params.activation_clip};
    uint32_t n = params.n_neurons;
    if (params.inputs_in_sdram) {
        // Both input vectors live in SDRAM, first in the STREAM region.
        inputs = data_specification_get_region(REGION_STREAM, ds);
        incoming = &inputs[n_inputs];
    } else {
        inputs = dtcm_alloc(n_inputs);
        // Training, or a streamed forward pass, gives the next sample its
        // own buffer: it may arrive while this one's is in use.
        incoming = params.training || params.streamed
                ? dtcm_alloc(n_inputs) : inputs;
    }
    if (!read_sources(data_specification_get_region(REGION_SOURCES, ds))) {
        log_error("the sources do not make the %u inputs", n_inputs);
        return false;
    }
    carry = NULL;
    if (params.carry_n_atoms > 0) {
        carry = dtcm_alloc(n);
        gather_init(&carry_gather, key_space_of(params.carry_base,
                params.carry_atom_bits, params.carry_atoms_per_core,
                params.carry_n_atoms), carry, params.first_neuron, n);
    }
    z = dtcm_alloc(n);
    activated = dtcm_alloc(n);
    sent = activated;
    dropout_rate = 0.0f;
    training_passes = 0;
    committed_passes = 0;
    control_init(params.control_key, ds, &layer_control_hooks);
    if (is_softmax_layer()) {
        key_space_t peers = key_space_of(params.peer_base,
                params.peer_atom_bits, params.peer_atoms_per_core,
                params.peer_n_atoms);
        layer_z = dtcm_alloc(peers.n_atoms);
        layer_p = dtcm_alloc(peers.n_atoms);
        gather_init_all(&softmax_gather, peers, layer_z);
    }
    if (params.training) {
        initialise_training(ds);
    }
    inputs_waiting = false;
    carry_waiting = false;
    phase = LAYER_IDLE;
    return app_setup(ds);
}

// The c_main of every layer app.
static void layer_main(const char *app) {
    if (!layer_initialise()) {
        log_error("%s: initialisation failed", app);
        rt_error(RTE_SWERR);
        return;
    }
    spin1_callback_on(MCPL_PACKET_RECEIVED, receive_packet, PACKET_PRIORITY);
    simulation_run();
}

#endif
