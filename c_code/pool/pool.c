// pool: a slice of a max or average pooling layer, of zero padding (a 1x1
// window whose padding reads as zeros), of upsampling (each input element
// repeated over a block) or of a permutation of the input's axes.  No
// weights: the forward pass is the window's max or mean, the element
// repeated or the element moved; the backward pass (window_core.h) sends
// each owned input element the deltas of the windows that read it (all
// to the max's first occurrence, as TensorFlow; shared by the count for
// the mean; summed over its repeats; the one it moved to).
#include "window_core.h"
#include "no_weights.h"

static bool app_setup(data_specification_metadata_t *ds) {
    window_setup(ds);
    return true;
}

static bool app_forward(const float *x, float *out) {
    COST(COST_POOL_FORWARD_MAX + window.pool_mode,
         params.n_neurons * window.kernel_height * window.kernel_width);
    pool_forward(&window, params.first_neuron, params.n_neurons,
                 window_inputs(x), out);
    return true;
}

static bool app_backward(const float *x, const float *deltas) {
    (void) x;
    return window_backward(deltas);
}

static float app_input_gradient(uint32_t b, const float *x,
                                const float *deltas) {
    COST(COST_POOL_GRADIENT_MAX + window.pool_mode,
         window.kernel_height * window.kernel_width);
    return pool_input_gradient(&window, x, b, deltas);
}

static void app_abort(void) {
    window_abort();
}

static bool app_receive(uint32_t key, uint32_t payload) {
    return window_receive(key, payload);
}

void c_main(void) {
    layer_main("pool");
}
