// loss: one core that closes the loop between the forward and backward
// passes (a model of several outputs has one per output).
//
// Per sample it receives the output layer's values (activations, or z when
// the loss takes logits) and the label, streamed in like the inputs.  It
// then sends each output neuron its gradient on the backward partition
// (one packet per neuron), scaled by the output's loss weight (Keras'
// total loss is the weighted sum of the outputs' losses) and the sample's
// weight (sample_weight, class_weight: a word of the label after its
// values), over the divisor of Keras' reduction (the batch's size, 1, or
// the batch's sum of weights: losses.h loss_reduction_scale), and the
// sample's loss times its sample weight (Keras' weighted values, which
// its reduction sums) to the host on the loss partition, followed
// by the sample's metrics (metrics.h).  It counts
// samples into batches for the batch mean, and takes part in the host's
// control like every app (control.h); evaluating, it sends no gradients
// and counts no batches.
#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>

#include "spidnn_layouts.h"
#include "app_init.h"
#include "batch.h"
#include "control.h"
#include "cost.h"
#include "gather.h"
#include "losses.h"
#include "metrics.h"
#include "send.h"

static loss_params_t params;
static batch_counter_t batch;
static batch_counter_t committed_batch;   // what an abort takes back

static float *outputs;        // the output layer's values for this sample
static float *labels;         // the label (one value per output, or the
                              // class), then the sample weight (weighted)
static float *gradient;       // dL/d(output) of the batch's mean loss
static float *smooth;         // a smoothed label (label_smoothing)
static float *probabilities;  // the outputs the metrics see, from z
static float *hinge_labels;   // the hinge metrics' labels (-1/1)

static gather_t output_gather;
static gather_t label_gather;
static bool outputs_in;       // the sample's outputs are all in
static bool labels_in;        // and its label

// The LOSS_* of a METRIC_LOSS_*.
static uint32_t metric_loss_kind(uint32_t metric) {
    switch (metric) {
    case METRIC_LOSS_BINARY_CROSSENTROPY:
        return LOSS_BINARY_CROSSENTROPY;
    case METRIC_LOSS_CATEGORICAL_CROSSENTROPY:
        return LOSS_CATEGORICAL_CROSSENTROPY;
    case METRIC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        return LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    case METRIC_LOSS_KL_DIVERGENCE:
        return LOSS_KL_DIVERGENCE;
    case METRIC_LOSS_POISSON:
        return LOSS_POISSON;
    case METRIC_LOSS_CATEGORICAL_HINGE:
        return LOSS_CATEGORICAL_HINGE;
    case METRIC_LOSS_LOG_COSH:
        return LOSS_LOG_COSH;
    case METRIC_LOSS_COSINE_SIMILARITY:
        return LOSS_COSINE_SIMILARITY;
    case METRIC_LOSS_HINGE:
        return LOSS_HINGE;
    case METRIC_LOSS_SQUARED_HINGE:
        return LOSS_SQUARED_HINGE;
    default:
        return LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR;
    }
}

// A loss of keras.losses as a metric (METRIC_LOSS_*: Keras'
// MeanMetricWrapper of the loss function): the sample's loss by the code
// of the training loss, its gradient written to `scratch` and dropped.
// Keras' cross-entropy metrics take the logits where the output layer's
// z arrives (sends_logits, as the loss) or with their from_logits; the
// other losses see the outputs Keras' metrics see.
static float loss_metric(uint32_t metric, uint32_t n, const float *seen,
                         uint32_t label_index, float *scratch) {
    loss_params_t as_metric;
    spin1_memcpy(&as_metric, &params, sizeof(as_metric));
    as_metric.loss = metric_loss_kind(metric);
    as_metric.label_smoothing = 0u;
    as_metric.from_logits = params.sends_logits
            || params.metric_loss_from_logits;
    bool entropy = metric <= METRIC_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    const float *y = labels;
    if (metric == METRIC_LOSS_HINGE || metric == METRIC_LOSS_SQUARED_HINGE) {
        // Keras' convert_binary_labels_to_hinge, of this sample's labels
        // (the host makes sure no batch of them would decide otherwise).
        bool binary = true;
        for (uint32_t i = 0; i < n; i++) {
            binary = binary && (labels[i] == 0.0f || labels[i] == 1.0f);
        }
        for (uint32_t i = 0; i < n; i++) {
            hinge_labels[i] = binary ? 2.0f * labels[i] - 1.0f : labels[i];
        }
        y = hinge_labels;
    }
    float loss = loss_compute(&as_metric, n, entropy && as_metric.from_logits
            ? outputs : seen, y, label_index, 0.0f, scratch, smooth);
    // Keras' cosine-similarity loss is the metric's negative.
    return metric == METRIC_LOSS_COSINE_SIMILARITY ? -loss : loss;
}

// A loss of keras.losses as a metric (METRIC_LOSS_*).
static inline bool metric_is_loss(uint32_t metric) {
    return (metric >= METRIC_LOSS_BINARY_CROSSENTROPY
            && metric <= METRIC_LOSS_COSINE_SIMILARITY)
            || metric == METRIC_LOSS_HINGE
            || metric == METRIC_LOSS_SQUARED_HINGE;
}

// Whether the host asked for any metric's quantity.
static inline bool any_metric_asked(void) {
    return (params.metrics | params.metrics_high) != 0;
}

// Whether the host asked for quantity METRIC_<metric> (its bit in
// metrics, or in metrics_high from 32).
static inline bool metric_asked(uint32_t metric) {
    uint32_t word = metric < 32u ? params.metrics : params.metrics_high;
    return ((word >> (metric & 31u)) & 1u) != 0;
}

static void compute_loss(uint generation, uint unused) {
    (void) unused;
    if (stale(generation)) {
        return;
    }
    uint32_t n = output_gather.space.n_atoms;
    COST(COST_LOSS_MEAN_SQUARED_ERROR + params.loss, n);
    // The gradient of the batch's reduced weighted losses, as TensorFlow
    // takes it: the loss weight over the reduction's divisor (the
    // batch's size: exactly 1 / size without a weight), times the
    // sample's weight.
    float scale = loss_reduction_scale(&params, labels,
                                       batch_current_size(&batch));
    float sample_weight = 1.0f;
    if (params.weighted) {
        sample_weight = labels[loss_weight_word(&params)];
        scale = scale * sample_weight;
    }
    // A sparse label is the class as an integer payload, kept bit for bit.
    uint32_t label_index = float_to_bits(labels[0]);
    bool sends_logits = params.sends_logits != 0;
    float loss = loss_compute(&params, n, outputs, labels, label_index,
                              scale, gradient, smooth);
    if (params.weighted) {
        loss = loss * sample_weight;
    }
    bool evaluated = evaluating();
    if (!evaluated) {
        COST(COST_SEND, n);
        send_floats(params.backward_key, gradient, n);
        batch_sample_done(&batch);
    }
    send_float(params.loss_key, loss);
    const float *seen = outputs;
    if (any_metric_asked() && sends_logits) {
        COST(COST_OUTPUT_LINEAR + params.output_activation, n);
        seen = metric_outputs(n, outputs, sends_logits,
                              params.output_activation, probabilities);
    }
    // The asked quantities' bits, word by word, each word walked only up
    // to its highest bit (every sample goes through here).
    for (uint32_t w = 0; w < 2; w++) {
        uint32_t bits = w == 0 ? params.metrics : params.metrics_high;
        for (uint32_t metric = 32u * w; bits != 0; metric++, bits >>= 1) {
            if ((bits & 1u) == 0) {
                continue;
            }
            COST(COST_METRIC_SPARSE_CATEGORICAL_ACCURACY + metric, n);
            send_float(params.loss_key + 1 + metric,
                    metric == METRIC_SAMPLE_WEIGHT ? sample_weight
                    : metric_is_loss(metric)
                    ? loss_metric(metric, n, seen, label_index, gradient)
                    : metric_value(metric, n, outputs, seen, labels,
                            label_index,
                            bits_to_float(params.metric_threshold),
                            params.metric_auc_thresholds,
                            params.metric_auc_from_logits != 0,
                            bits_to_float(params.metric_fbeta_threshold)));
        }
    }
    if (evaluated) {
        control_evaluated();
    }
    control_pass_done();
}

static void on_abort(void) {
    gather_reset(&output_gather);
    gather_reset(&label_gather);
    outputs_in = false;
    labels_in = false;
    batch = committed_batch;
}

static bool on_commit(void) {
    committed_batch = batch;
    return true;
}

static void on_send_weights(void) {
}

// The pass's last batch is short: its gradients divide by its size.
static void on_end_pass(uint32_t size) {
    batch_end_pass(&batch, size);
    batch_end_pass(&committed_batch, size);
}

static const control_hooks_t loss_control_hooks = {
    .abort_pass = on_abort, .commit = on_commit, .send_weights = on_send_weights,
    .send_penalty = NULL,    // no weights: acknowledges only
    .end_pass = on_end_pass};

static void receive_packet(uint key, uint payload) {
    COST(COST_RECEIVE, 1);
    uint32_t got = gather_receive(&output_gather, key, payload);
    if (got != GATHER_NOT_MINE) {
        outputs_in |= got == GATHER_COMPLETE;
    } else {
        got = gather_receive(&label_gather, key, payload);
        if (got == GATHER_NOT_MINE) {
            if (!control_receive(key, payload)) {
                log_error("loss: unexpected key 0x%08x", key);
            }
            return;
        }
        labels_in |= got == GATHER_COMPLETE;
    }
    if (outputs_in && labels_in) {
        outputs_in = false;
        labels_in = false;
        schedule(compute_loss, 0);
    }
}

static bool initialise(void) {
    data_specification_metadata_t *ds = app_initialise(
            &params, sizeof(params));
    if (ds == NULL) {
        return false;
    }
    batch_init(&batch, params.batch_size, params.n_samples);
    committed_batch = batch;
    control_init(params.control_key, ds, &loss_control_hooks);
    uint32_t n = params.output_n_atoms;
    outputs = dtcm_alloc(n);
    labels = dtcm_alloc(params.label_n_atoms);
    gradient = dtcm_alloc(n);
    smooth = params.label_smoothing ? dtcm_alloc(n) : NULL;
    probabilities = any_metric_asked() && params.sends_logits
            ? dtcm_alloc(n) : NULL;
    hinge_labels = metric_asked(METRIC_LOSS_HINGE)
            || metric_asked(METRIC_LOSS_SQUARED_HINGE) ? dtcm_alloc(n) : NULL;
    gather_init_all(&output_gather, key_space_of(params.output_base,
            params.output_atom_bits, params.output_atoms_per_core, n),
            outputs);
    gather_init_all(&label_gather, key_space_of(params.label_base,
            params.label_atom_bits, params.label_atoms_per_core,
            params.label_n_atoms), labels);
    outputs_in = false;
    labels_in = false;
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
