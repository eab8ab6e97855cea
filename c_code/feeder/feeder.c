// feeder: the training set held in SDRAM, streamed to the first layer and
// the loss in each epoch's order, so that no sample crosses the host link.
//
// The host writes the samples (uint8 codes into a table of the data's 256
// values when it has no more, otherwise float32), their labels, the order
// of every epoch (it shuffles from the model's seed) and each optimizer
// step's learning rate and step values.  When one chip's SDRAM cannot hold the
// set, each of several cores holds a shard of it on its own chip; one of
// them, the lead, owns the keys the layers know.
//
// The host's "train" carries the number of passes to run before it next
// waits for the host (the end of an epoch, of a batch, or of the run: the
// host's loop decides); each pass starts when the loss core's loss of the
// one before comes back, as it would from a host, but without the round
// trip.  A repeated "train" (the host sends it again when it hears
// nothing) asks for nothing new.  The host's "evaluate" streams the
// validation samples, held after the training set's, once each: the
// lead carries the command on to the apps (whose passes then evaluate)
// and, after the last validation loss, tells them to train again.  The core holding the
// pass's sample reads it by DMA; the lead sends it (inputs, then label),
// the others send it to the lead, which sends it on.  After a batch's last
// loss the lead sends the step's learning rate, values and commit (the
// cores apply it once their backward pass is done, control.h), and after
// the last pass it asks the cores for their weights.  The lead also
// carries the host's own commands on to every core: the apps know a
// single control source.
#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>

#include "spidnn_layouts.h"
#include "app_init.h"
#include "batch.h"
#include "cost.h"
#include "send.h"
#include "spidnn_math.h"

// The inputs' transfer calls nothing back; the label's, queued after it,
// finds both done (a core's transfers complete in the order asked for).
#define DMA_TAG_INPUTS 1u
#define DMA_TAG_LABEL 2u

static feeder_params_t params;
static core_status_t *status;

static const float *table;          // the values the codes stand for
static const uint32_t *samples;     // SDRAM rows of this core's shard
static const uint32_t *labels;      // SDRAM labels of this core's shard
static const uint32_t *order;       // every epoch's order, in turn
static const uint32_t *schedule;    // per step: learning rate, then the
                                    // step values (float32 bits)
static uint32_t row_words;          // words per SAMPLES row

static uint32_t *row;               // the sample read by DMA
static uint32_t *row_labels;        // and its label
static uint32_t *relayed;           // lead: inputs then label, relayed
static uint32_t n_relayed;
static bool relay_wanted;           // lead: the pass's sample is relayed

static bool streaming;              // a pass is in flight
static uint32_t pass;               // training passes started, all epochs
static uint32_t until;              // training passes the host asked for
static uint32_t total_passes;
static bool validating;             // the passes in flight evaluate
static uint32_t validation_pass;    // validation passes started
static uint32_t validation_round;   // the host's last "evaluate"
static batch_counter_t batch;       // where the batches end, as the cores
static uint32_t step;               // commits sent so far

static uint32_t decoded(uint32_t i) {
    if (params.codes) {
        const uint8_t *codes = (const uint8_t *) row;
        return float_to_bits(table[codes[i]]);
    }
    return row[i];
}

// A sample: its inputs (`inputs`, or the row read, decoded, if NULL) at
// input_key + i, its label at label_key + j.
static void send_sample(uint32_t input_key, uint32_t label_key,
                        const uint32_t *inputs, const uint32_t *label) {
    COST(COST_SEND, params.n_inputs + params.label_width);
    for (uint32_t i = 0; i < params.n_inputs; i++) {
        send_word(input_key + i, inputs == NULL ? decoded(i) : inputs[i]);
    }
    for (uint32_t j = 0; j < params.label_width; j++) {
        send_word(label_key + j, label[j]);
    }
}

// The sample read: the lead sends it to the first layer and the loss,
// another core relays it to the lead.
static void sample_read(uint unused0, uint unused1) {
    (void) unused0;
    (void) unused1;
    if (params.lead) {
        send_sample(params.input_key, params.labels_key, NULL, row_labels);
    } else {
        send_sample(params.relay_key, params.relay_key + params.n_inputs,
                    NULL, row_labels);
    }
}

// The lead: a sample another core relayed is all in.
static void send_relayed(uint unused0, uint unused1) {
    (void) unused0;
    (void) unused1;
    send_sample(params.input_key, params.labels_key, relayed,
                &relayed[params.n_inputs]);
}

// A pass of `sample` begins: the core holding it reads it; the lead waits
// for it from that core if it is not its own.
static void start_sample(uint32_t sample) {
    uint32_t local = sample - params.shard_first;   // wraps below the shard
    if (local < params.shard_count) {
        relay_wanted = false;
        if (spin1_dma_transfer(DMA_TAG_INPUTS,
                (void *) &samples[local * row_words], row,
                DMA_READ, row_words * sizeof(uint32_t)) == 0
                || spin1_dma_transfer(DMA_TAG_LABEL,
                (void *) &labels[local * params.label_width], row_labels,
                DMA_READ, params.label_width * sizeof(uint32_t)) == 0) {
            log_error("feeder: the DMA queue is full");
            rt_error(RTE_SWERR);
        }
    } else if (params.lead) {
        relay_wanted = true;
        if (n_relayed == params.n_inputs + params.label_width) {
            // The other core was quicker than this one's loss.
            n_relayed = 0;
            send_relayed(0, 0);
        }
    }
}

// Sending is kept out of the DMA and packet callbacks, as spin1 apps
// keep interrupt work short.
static void label_read(uint unused, uint tag) {
    (void) unused;
    (void) tag;
    spin1_schedule_callback(sample_read, 0, 0, COMPUTE_PRIORITY);
}

// The lead: a batch ended, so its update may be applied.
static void send_commit(void) {
    const uint32_t *words = &schedule[(1 + params.n_step_values) * step];
    COST(COST_SEND, 2 + params.n_step_values);
    send_word(params.control_key + CONTROL_LEARNING_RATE, words[0]);
    for (uint32_t k = 0; k < params.n_step_values; k++) {
        send_word(params.control_key + CONTROL_STEP_VALUE_0 + k, words[1 + k]);
    }
    step++;
    // Round numbers 1, 2, ...: the host's own start after these.
    send_word(params.control_key + CONTROL_COMMIT, step);
}

static void validation_loss_received(void) {
    validation_pass++;
    if (validation_pass < params.n_validation) {
        start_sample(params.n_samples + validation_pass);
        return;
    }
    streaming = false;
    validating = false;
    if (params.lead) {
        send_word(params.control_key + CONTROL_TRAIN, validation_round);
    }
}

static void loss_received(uint unused0, uint unused1) {
    (void) unused0;
    (void) unused1;
    if (validating) {
        validation_loss_received();
        return;
    }
    status->passes_done++;
    if (batch_sample_done(&batch) && params.lead) {
        send_commit();
    }
    pass++;
    if (pass < until) {
        start_sample(order[pass]);
        return;
    }
    streaming = false;
    if (pass == total_passes && params.lead) {
        send_word(params.control_key + CONTROL_SEND_WEIGHTS, step + 1);
    }
}

static void start_training(uint unused0, uint unused1) {
    (void) unused0;
    (void) unused1;
    start_sample(order[pass]);
}

static void start_validation(uint unused0, uint unused1) {
    (void) unused0;
    (void) unused1;
    start_sample(params.n_samples);
}

// A command from the host: the lead carries it on to the apps; "train"
// runs the training passes up to its payload, "evaluate" the validation
// passes (neither while passes are in flight: the host waits for them).
static void host_command(uint32_t command, uint32_t payload) {
    if (params.lead) {
        send_word(params.control_key + command, payload);
    }
    status->last_control = payload;
    if (streaming) {
        return;
    }
    if (command == CONTROL_TRAIN && payload > pass) {
        until = payload < total_passes ? payload : total_passes;
        if (pass < until) {
            streaming = true;
            spin1_schedule_callback(start_training, 0, 0, COMPUTE_PRIORITY);
        }
    } else if (command == CONTROL_EVALUATE && payload != validation_round
            && params.n_validation > 0) {
        validation_round = payload;
        validating = true;
        validation_pass = 0;
        streaming = true;
        spin1_schedule_callback(start_validation, 0, 0, COMPUTE_PRIORITY);
    }
}

// The lead: a value of a sample another core holds.
static void relay_received(uint32_t key, uint32_t payload) {
    // receive_packet found the key among the relay partition's cores.
    uint32_t i = (key - params.relay_base)
            & ((1u << params.relay_atom_bits) - 1u);
    if (i >= params.n_inputs + params.label_width) {
        log_error("feeder: unexpected key 0x%08x", key);
        return;
    }
    relayed[i] = payload;
    if (++n_relayed == params.n_inputs + params.label_width
            && relay_wanted) {
        n_relayed = 0;
        relay_wanted = false;
        spin1_schedule_callback(send_relayed, 0, 0, COMPUTE_PRIORITY);
    }
}

static void receive_packet(uint key, uint payload) {
    COST(COST_RECEIVE, 1);
    if (key == params.loss_key) {
        if (streaming) {
            spin1_schedule_callback(loss_received, 0, 0, COMPUTE_PRIORITY);
        }
        return;
    }
    uint32_t command = key - params.host_control_key;
    if (command < N_CONTROLS) {
        host_command(command, payload);
    } else if (params.lead && key - params.relay_base
            < (params.relay_n_cores << params.relay_atom_bits)) {
        relay_received(key, payload);
    }
    // Other keys: another core's relay, for the lead only; or the loss
    // core's metrics, which the host reads.
}

static bool initialise(void) {
    data_specification_metadata_t *ds = app_initialise(
            &params, sizeof(params));
    if (ds == NULL) {
        return false;
    }
    status = data_specification_get_region(REGION_STATUS, ds);
    status->passes_done = 0;
    status->waiting = WAITING_INPUTS;
    status->last_control = 0;
    table = data_specification_get_region(REGION_TABLE, ds);
    samples = data_specification_get_region(REGION_SAMPLES, ds);
    labels = data_specification_get_region(REGION_SAMPLE_LABELS, ds);
    order = data_specification_get_region(REGION_ORDER, ds);
    schedule = data_specification_get_region(REGION_SCHEDULE, ds);
    row_words = params.codes ? (params.n_inputs + 3u) / 4u : params.n_inputs;
    row = (uint32_t *) dtcm_alloc(row_words);
    row_labels = (uint32_t *) dtcm_alloc(params.label_width);
    relayed = params.lead && params.relay_n_cores > 1
            ? (uint32_t *) dtcm_alloc(params.n_inputs + params.label_width)
            : NULL;
    n_relayed = 0;
    relay_wanted = false;
    streaming = false;
    pass = 0;
    until = 0;
    total_passes = params.n_samples * params.n_epochs;
    validating = false;
    validation_pass = 0;
    validation_round = 0;
    batch_init(&batch, params.batch_size, params.n_samples);
    step = 0;
    return simulation_dma_transfer_done_callback_on(DMA_TAG_LABEL,
                                                    label_read);
}

void c_main(void) {
    if (!initialise()) {
        log_error("feeder: initialisation failed");
        rt_error(RTE_SWERR);
        return;
    }
    spin1_callback_on(MCPL_PACKET_RECEIVED, receive_packet, PACKET_PRIORITY);
    simulation_run();
}
