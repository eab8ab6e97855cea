// merge: a slice of a layer that combines its sources element by element
// (Keras' Add, Subtract, Multiply, Average, Maximum, Minimum), places them
// side by side (Concatenate), or scales one (Rescaling; a standalone
// activation layer is a scale by 1 plus 0 with its activation, which
// layer_core.h applies).  No weights.
//
// The input vector holds this core's slice of each source, one after the
// other (the SOURCES region): for the element-wise ops, the core's own
// neurons' elements of each source; for concatenate, whose slices are
// whole rows (the concatenated axis and those after it), each source's
// part of those rows.
//
// Backward: dL/dx of each source element the core took, as TensorFlow's
// gradients of the ops Keras chains (inputs[0] op inputs[1], then op the
// next, ...) compute it, sent to each source that trains on its own
// partition (backward_<k>), keyed by the element's index in the source.
#include "layer_core.h"
#include "no_weights.h"

static merge_params_t merge;
static merge_input_t merge_inputs[MAX_SOURCES];
static float scale;
static float offset;

static bool app_setup(data_specification_metadata_t *ds) {
    const uint32_t *region = data_specification_get_region(REGION_MERGE, ds);
    spin1_memcpy(&merge, region, sizeof(merge));
    if (merge.n_sources != n_sources) {
        log_error("merge of %u sources, %u gathered", merge.n_sources,
                  n_sources);
        return false;
    }
    spin1_memcpy(merge_inputs, &region[sizeof(merge) / sizeof(uint32_t)],
                 n_sources * sizeof(merge_input_t));
    scale = bits_to_float(merge.scale);
    offset = bits_to_float(merge.offset);
    return true;
}

// Source k's element that output j (of this core) reads, in the input
// vector.
static inline uint32_t element_of(uint32_t k, uint32_t j) {
    return source_offsets[k] + j;
}

// Concatenate: the source of output j (of this core) and that element's
// place in the source's part of the input vector.
static inline uint32_t concatenated(uint32_t j, uint32_t *at) {
    uint32_t r = j / merge.row, p = j % merge.row;
    uint32_t k = 0;
    while (p >= merge_inputs[k].row) {
        p -= merge_inputs[k].row;
        k++;
    }
    *at = r * merge_inputs[k].row + p;
    return k;
}

static float combine(const float *x, uint32_t j) {
    float out = x[element_of(0, j)];
    for (uint32_t k = 1; k < n_sources; k++) {
        float v = x[element_of(k, j)];
        switch (merge.op) {
        case MERGE_OP_SUBTRACT:
            out = out - v;
            break;
        case MERGE_OP_MULTIPLY:
            out = out * v;
            break;
        case MERGE_OP_MAXIMUM:
            out = out >= v ? out : v;
            break;
        case MERGE_OP_MINIMUM:
            out = out <= v ? out : v;
            break;
        default:                   // add, average
            out = out + v;
        }
    }
    if (merge.op == MERGE_OP_AVERAGE) {
        out = out / (float) n_sources;
    }
    return out;
}

static bool app_forward(const float *x, float *out) {
    COST(COST_MERGE_FORWARD_ADD + merge.op, params.n_neurons * n_sources);
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        if (merge.op == MERGE_OP_CONCATENATE) {
            uint32_t at;
            uint32_t k = concatenated(j, &at);
            out[j] = x[source_offsets[k] + at];
        } else if (merge.op == MERGE_OP_SCALE) {
            out[j] = x[j] * scale + offset;
        } else {
            out[j] = combine(x, j);
        }
    }
    return true;
}

static void send_gradient(uint32_t k, uint32_t at, float g) {
    if (merge_inputs[k].sends) {
        send_float(merge_inputs[k].backward_key + at, g);
    }
}

// dL/dx of each source of output j, from g = dL/d(output j): the chain
// of ops unwound from the last, each op's gradient as TensorFlow's
// (maximum: to the first operand where it is >= the second, minimum
// where <=; multiply: g times the other operand).
static void send_combined_gradients(const float *x, uint32_t j, float g) {
    if (merge.op == MERGE_OP_AVERAGE) {
        g = g / (float) n_sources;
    }
    float prefix[MAX_SOURCES];     // the chain's value after each source
    prefix[0] = x[element_of(0, j)];
    for (uint32_t k = 1; k < n_sources; k++) {
        float v = x[element_of(k, j)], before = prefix[k - 1];
        prefix[k] = merge.op == MERGE_OP_MULTIPLY ? before * v
                : merge.op == MERGE_OP_MAXIMUM ? (before >= v ? before : v)
                : merge.op == MERGE_OP_MINIMUM ? (before <= v ? before : v)
                : before;
    }
    for (uint32_t k = n_sources - 1; k > 0; k--) {
        float v = x[element_of(k, j)], before = prefix[k - 1];
        float mine = g;            // add, average: the same to both
        switch (merge.op) {
        case MERGE_OP_SUBTRACT:
            mine = -g;
            break;
        case MERGE_OP_MULTIPLY:
            mine = before * g;
            g = g * v;
            break;
        case MERGE_OP_MAXIMUM:
            mine = before >= v ? 0.0f : g;
            g = before >= v ? g : 0.0f;
            break;
        case MERGE_OP_MINIMUM:
            mine = before <= v ? 0.0f : g;
            g = before <= v ? g : 0.0f;
            break;
        default:
            break;
        }
        send_gradient(k, j, mine);
    }
    send_gradient(0, j, g);
}

static bool app_backward(const float *x, const float *deltas) {
    COST(COST_MERGE_BACKWARD_ADD + merge.op, params.n_neurons * n_sources);
    for (uint32_t j = 0; j < params.n_neurons; j++) {
        if (merge.op == MERGE_OP_CONCATENATE) {
            uint32_t at;
            uint32_t k = concatenated(j, &at);
            send_gradient(k, at, deltas[j]);
        } else if (merge.op == MERGE_OP_SCALE) {
            send_gradient(0, j, deltas[j] * scale);
        } else {
            send_combined_gradients(x, j, deltas[j]);
        }
    }
    return true;
}

static void app_abort(void) {
}

static bool app_receive(uint32_t key, uint32_t payload) {
    (void) key;
    (void) payload;
    return false;
}

void c_main(void) {
    layer_main("merge");
}
