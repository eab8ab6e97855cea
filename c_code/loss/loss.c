// loss: one core that closes the loop between the forward and backward
// passes.
//
// Per sample it receives the output layer's values (activations, or z when
// the loss takes logits) and the label, streamed in like the inputs.  It
// then sends each output neuron its gradient on the backward partition
// (one packet per neuron) and the sample's loss to the host on the loss
// partition.
#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>

#include "spidnn_layouts.h"
#include "app_init.h"
#include "batch.h"
#include "key_space.h"
#include "losses.h"
#include "send.h"

static loss_params_t params;
static key_space_t output_space;
static key_space_t label_space;
static batch_counter_t batch;

static float *outputs;        // the output layer's values for this sample
static float *labels;         // the label, one value per output
static float *gradient;       // dL/d(output) of the batch's mean loss
static uint32_t label_index;  // the class, for sparse labels

static uint32_t n_outputs_received;
static uint32_t n_labels_received;

static void compute_loss(uint unused0, uint unused1) {
    (void) unused0; (void) unused1;
    uint32_t n = output_space.n_atoms;
    float scale = 1.0f / (float) batch_current_size(&batch);
    float loss = loss_compute(params.loss, params.from_logits != 0, n,
                              outputs, labels, label_index, scale, gradient);
    send_floats(params.backward_key, gradient, n);
    send_float(params.loss_key, loss);
    batch_sample_done(&batch);
}

static void check_both_in(void) {
    if (n_outputs_received == output_space.n_atoms
            && n_labels_received == label_space.n_atoms) {
        n_outputs_received = 0;
        n_labels_received = 0;
        spin1_schedule_callback(compute_loss, 0, 0, COMPUTE_PRIORITY);
    }
}

static void receive_packet(uint key, uint payload) {
    uint32_t index;
    if (key_space_index(&output_space, key, &index)) {
        outputs[index] = bits_to_float(payload);
        n_outputs_received++;
    } else if (key_space_index(&label_space, key, &index)) {
        if (params.loss == LOSS_SPARSE_CATEGORICAL_CROSSENTROPY) {
            label_index = payload;       // the class, as an integer
        } else {
            labels[index] = bits_to_float(payload);
        }
        n_labels_received++;
    } else {
        log_error("loss: unexpected key 0x%08x", key);
        return;
    }
    check_both_in();
}

static bool initialise(void) {
    data_specification_metadata_t *ds = app_initialise(
            &params, sizeof(params));
    if (ds == NULL) {
        return false;
    }
    output_space = (key_space_t) {params.output_base, params.output_atom_bits,
            params.output_atoms_per_core, params.output_n_atoms};
    label_space = (key_space_t) {params.label_base, params.label_atom_bits,
            params.label_atoms_per_core, params.label_n_atoms};
    batch_init(&batch, params.batch_size, params.n_samples, params.n_epochs);
    uint32_t n = output_space.n_atoms;
    outputs = dtcm_alloc(n);
    labels = dtcm_alloc(n);
    gradient = dtcm_alloc(n);
    label_index = 0;
    n_outputs_received = 0;
    n_labels_received = 0;
    return true;
}

void c_main(void) {
    if (!initialise()) {
        log_error("loss: initialisation failed");
        rt_error(RTE_SWERR);
        return;
    }
    spin1_callback_on(MCPL_PACKET_RECEIVED, receive_packet, PACKET_PRIORITY);
    simulation_run();
}
