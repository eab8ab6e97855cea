// prelu: a slice of a Keras PReLU layer's elements, each
// max(x, 0) + (-alpha) * max(-x, 0) with its alpha, as Keras computes it.
//
// Element e of the input takes alpha number sum_i coordinate_i *
// alpha_stride_i (PRELU_PARAMS; an axis of Keras' shared_axes has stride
// 0).  Without shared axes each core holds the alphas of its own elements
// and adds their gradients sample by sample; with them every core holds
// every alpha, adds each element's gradient over the batch, and at the
// batch end the alphas' gradients are summed along the chain (chain.h) in
// element order across the cores, so every core applies the same update
// and every slicing adds the same numbers in the same order.
//
// Backward: dL/dx of each element to the source (its backward_0
// partition), as TensorFlow differentiates Keras' formula.  The trained
// alphas go to the host from the core holding them (chained: the first),
// then each optimizer state array in the same layout.
#include "layer_core.h"
#include "chain.h"

static prelu_params_t prelu;
static float *alphas;          // the alphas this core holds
static trained_t trained;      // their gradients (chained: the totals)
static float *element_grads;   // chained: each element's over the batch

// The alpha numbers of a run of elements, walked in order: the element's
// coordinate along each axis and its alpha (one division per axis at the
// run's start; the ARM968 has no divide instruction).
typedef struct {
    uint32_t coordinate[PRELU_AXES];
    uint32_t alpha;           // among the core's alphas
} alpha_walk_t;

static const uint32_t *axis_fields(uint32_t i) {
    return &((const uint32_t *) &prelu)[3 * i];   // size, stride, alpha
}

static void walk_start(alpha_walk_t *w, uint32_t element) {
    uint32_t alpha = 0;
    for (uint32_t i = 0; i < PRELU_AXES; i++) {
        const uint32_t *axis = axis_fields(i);
        w->coordinate[i] = (element / axis[1]) % axis[0];
        alpha += w->coordinate[i] * axis[2];
    }
    w->alpha = alpha - prelu.alpha_first;
}

// The next element: the last axis moves first, as the input's channels
// last numbering does.
static void walk_next(alpha_walk_t *w) {
    for (uint32_t i = PRELU_AXES; i-- > 0;) {
        const uint32_t *axis = axis_fields(i);
        if (++w->coordinate[i] < axis[0]) {
            w->alpha += axis[2];
            return;
        }
        w->coordinate[i] = 0;
        w->alpha -= (axis[0] - 1) * axis[2];
    }
}

static bool app_setup(data_specification_metadata_t *ds) {
    spin1_memcpy(&prelu, data_specification_get_region(REGION_PRELU, ds),
                 sizeof(prelu));
    uint32_t n = prelu.n_alphas;
    alphas = dtcm_alloc(n);
    spin1_memcpy(alphas, data_specification_get_region(REGION_WEIGHTS, ds),
                 n * sizeof(float));
    if (!params.training) {
        return true;
    }
    trained_init(&trained, &optimizer, alphas, n);
    trained_regularise(&trained, kernel_regulariser(), n,
            kernel_regulariser());
    if (optimizer.has_state) {
        trained_load_state(&trained, data_specification_get_region(
                REGION_OPTIMIZER_STATE, ds), n, 0);
    }
    if (norm_on() && !params.frozen) {
        norm_use(&trained, 0, norm_own_slot(0));
    }
    if (prelu.chained) {
        element_grads = dtcm_zeros(params.n_neurons);
        chain_setup(prelu.chain_key, key_space_of(prelu.chain_base,
                prelu.chain_atom_bits, prelu.chain_atoms_per_core,
                prelu.chain_n_atoms), prelu.chain_previous,
                prelu.chain_last, trained.grads, n);
    }
    return true;
}

static inline float positive_part(float x) {
    return x > 0.0f ? x : 0.0f;
}

static bool app_forward(const float *x, float *out) {
    COST(COST_PRELU_FORWARD, params.n_neurons);
    alpha_walk_t w;
    walk_start(&w, params.first_neuron);
    for (uint32_t j = 0; j < params.n_neurons; j++, walk_next(&w)) {
        float negative = -alphas[w.alpha] * positive_part(-x[j]);
        out[j] = positive_part(x[j]) + negative;
    }
    return true;
}

// TensorFlow's gradients of relu(x) + (-alpha) * relu(-x): g where x > 0,
// plus -(g * -alpha) where -x > 0; alpha's is -(g * relu(-x)).
static bool app_backward(const float *x, const float *deltas) {
    COST(COST_PRELU_BACKWARD, params.n_neurons);
    float *grads = prelu.chained ? element_grads : trained.grads;
    alpha_walk_t w;
    walk_start(&w, params.first_neuron);
    for (uint32_t j = 0; j < params.n_neurons; j++, walk_next(&w)) {
        float g = deltas[j], minus_x = -x[j];
        float alpha = alphas[w.alpha];
        if (!params.frozen) {
            grads[prelu.chained ? j : w.alpha] +=
                    -(g * positive_part(minus_x));
        }
        if (prelu.sends) {
            float through_negative = minus_x > 0.0f ? g * -alpha : 0.0f;
            send_float(prelu.backward_key + j,
                    (x[j] > 0.0f ? g : 0.0f) + -through_negative);
        }
    }
    return true;
}

// The alphas' gradients of this core's elements, in element order, added
// to the chain's running sums.
static void app_chain_link(float *sums, bool first) {
    COST(COST_CHAIN, params.n_neurons);
    if (first) {
        zero_floats(sums, prelu.n_alphas);
    }
    alpha_walk_t w;
    walk_start(&w, params.first_neuron);
    for (uint32_t j = 0; j < params.n_neurons; j++, walk_next(&w)) {
        sums[w.alpha] = sums[w.alpha] + element_grads[j];
    }
    // Passed on: the next batch's sums start again (an abort replays from
    // the batch's start, which zeroes them too).
    zero_floats(element_grads, params.n_neurons);
}

static bool app_batch_end(void) {
    if (!prelu.chained) {
        return true;
    }
    chain_batch_end();
    return false;
}

static bool app_apply_update(const step_t *step) {
    trained_step(&optimizer, &trained, step);
    return true;
}

static void app_abort(void) {
    if (params.training) {
        trained_forget(&trained);
        if (prelu.chained) {
            zero_floats(element_grads, params.n_neurons);
            chain_abort();
        }
    }
}

// The core holding them (chained: the first, as every core holds all).
static bool sends_alphas(void) {
    return !prelu.chained || prelu.chain_previous == CHAIN_NO_CORE;
}

static void app_send_weights(void) {
    if (sends_alphas()) {
        uint32_t n = prelu.n_alphas;
        COST(COST_SEND, n * (1 + optimizer_n_states(&optimizer)));
        send_floats(params.weights_key, alphas, n);
        for (uint32_t k = 0; k < optimizer_n_states(&optimizer); k++) {
            send_floats(params.weights_key + (k + 1) * n, trained.state[k],
                        n);
        }
    }
}

// A part per alpha held (chained: the first core's, one in alpha order),
// so every slicing sums the same parts.
static uint32_t app_penalty_parts(void) {
    return !prelu.chained ? prelu.n_alphas : sends_alphas() ? 1 : 0;
}

static float app_penalty(uint32_t part) {
    if (prelu.chained) {
        return trained_penalty(&trained);
    }
    return penalty_of(kernel_regulariser(), &alphas[part], 1);
}

// The alphas' squares: each core its own (chained: the first core the
// totals, which every core holds).
static void app_norm_add(exact_sum_t *sums) {
    norm_add_squares(&sums[0], &trained, 0, trained.n);
}

static bool app_receive(uint32_t key, uint32_t payload) {
    return params.training && prelu.chained && chain_receive(key, payload);
}

void c_main(void) {
    layer_main("prelu");
}
