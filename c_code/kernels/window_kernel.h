// The maths of windowed layers (convolution, max and average pooling, zero
// padding) over a channels_last input, free of packets.
//
// An output element a of the layer is position p = a / out_channels,
// channel f = a % out_channels, at row p / out_width, column
// p % out_width.  Window offset (i, j) of output position (oh, ow) reads
// input row oh * stride_height + i - pad_top and column
// ow * stride_width + j - pad_left; rows and columns outside the input are
// padding, so edge positions need no phantom neurons.  1-D layers have
// height 1.
#ifndef SPIDNN_WINDOW_KERNEL_H
#define SPIDNN_WINDOW_KERNEL_H

#include <stdint.h>
#include <stdbool.h>

#include "spidnn_layouts.h"

// The input position (row * in_width + column) that offset (i, j) of
// output position (oh, ow) reads, or -1 in the padding.
static inline int32_t window_input_position(
        const window_params_t *w, uint32_t oh, uint32_t ow, uint32_t i,
        uint32_t j) {
    int32_t ih = (int32_t) (oh * w->stride_height + i) - (int32_t) w->pad_top;
    int32_t iw = (int32_t) (ow * w->stride_width + j) - (int32_t) w->pad_left;
    if (ih < 0 || ih >= (int32_t) w->in_height
            || iw < 0 || iw >= (int32_t) w->in_width) {
        return -1;
    }
    return ih * (int32_t) w->in_width + iw;
}

// The output index (oh or ow) whose window reads input index `in` at
// offset `k`, or -1 if none does.
static inline int32_t window_output_index(uint32_t in, uint32_t pad,
                                          uint32_t k, uint32_t stride,
                                          uint32_t n_out) {
    int32_t t = (int32_t) (in + pad) - (int32_t) k;
    if (t < 0 || (uint32_t) t % stride != 0) {
        return -1;
    }
    uint32_t o = (uint32_t) t / stride;
    return o < n_out ? (int32_t) o : -1;
}

// ---- Convolution.  The kernel copy holds filters [f0, f0 + nf) in Keras'
// layout, kernel[((i * kernel_width + j) * in_channels + c) * nf + f - f0],
// then, with use_bias (Keras'; else none), the nf biases.

static inline uint32_t conv_kernel_index(const window_params_t *w,
                                         uint32_t i, uint32_t j, uint32_t c,
                                         uint32_t f) {
    return ((i * w->kernel_width + j) * w->in_channels + c) * w->n_filters
            + f - w->filter_first;
}

static inline uint32_t conv_n_weights(const window_params_t *w) {
    return w->kernel_height * w->kernel_width * w->in_channels
            * w->n_filters;
}

// z of output elements [first, first + n).
static inline void conv_forward(const window_params_t *w,
                                const float *weights, bool use_bias,
                                uint32_t first, uint32_t n, const float *x,
                                float *z) {
    const float *bias = &weights[conv_n_weights(w)];
    for (uint32_t a = 0; a < n; a++) {
        uint32_t p = (first + a) / w->out_channels;
        uint32_t f = (first + a) % w->out_channels;
        uint32_t oh = p / w->out_width, ow = p % w->out_width;
        float acc = 0.0f;
        for (uint32_t i = 0; i < w->kernel_height; i++) {
            for (uint32_t j = 0; j < w->kernel_width; j++) {
                int32_t pos = window_input_position(w, oh, ow, i, j);
                if (pos < 0) {
                    continue;
                }
                const float *xp = &x[(uint32_t) pos * w->in_channels];
                for (uint32_t c = 0; c < w->in_channels; c++) {
                    acc += xp[c] * weights[conv_kernel_index(w, i, j, c, f)];
                }
            }
        }
        z[a] = use_bias ? acc + bias[f - w->filter_first] : acc;
    }
}

// Adds one sample's gradients of output elements [first, first + n) with
// deltas delta[0 .. n) to grads (laid out as the weights): one array for
// all of them (position_stride 0), or one per output position,
// position_stride floats apart ([first, first + n) being whole positions);
// the biases' too with use_bias.
static inline void conv_accumulate(const window_params_t *w, bool use_bias,
                                   uint32_t first, uint32_t n,
                                   const float *x, const float *delta,
                                   float *all_grads,
                                   uint32_t position_stride) {
    for (uint32_t a = 0; a < n; a++) {
        uint32_t p = (first + a) / w->out_channels;
        uint32_t f = (first + a) % w->out_channels;
        uint32_t oh = p / w->out_width, ow = p % w->out_width;
        float *grads = &all_grads[(a / w->out_channels) * position_stride];
        float *bias_grad = &grads[conv_n_weights(w)];
        float d = delta[a];
        for (uint32_t i = 0; i < w->kernel_height; i++) {
            for (uint32_t j = 0; j < w->kernel_width; j++) {
                int32_t pos = window_input_position(w, oh, ow, i, j);
                if (pos < 0) {
                    continue;
                }
                const float *xp = &x[(uint32_t) pos * w->in_channels];
                for (uint32_t c = 0; c < w->in_channels; c++) {
                    grads[conv_kernel_index(w, i, j, c, f)] += xp[c] * d;
                }
            }
        }
        if (use_bias) {
            bias_grad[f - w->filter_first] += d;
        }
    }
}

// dL/dx of input element b from the whole layer's deltas (the kernel copy
// must hold every filter).
static inline float conv_input_gradient(const window_params_t *w,
                                        const float *weights, uint32_t b,
                                        const float *layer_delta) {
    uint32_t pos = b / w->in_channels, c = b % w->in_channels;
    uint32_t ih = pos / w->in_width, iw = pos % w->in_width;
    float g = 0.0f;
    for (uint32_t i = 0; i < w->kernel_height; i++) {
        int32_t oh = window_output_index(ih, w->pad_top, i,
                w->stride_height, w->out_height);
        if (oh < 0) {
            continue;
        }
        for (uint32_t j = 0; j < w->kernel_width; j++) {
            int32_t ow = window_output_index(iw, w->pad_left, j,
                    w->stride_width, w->out_width);
            if (ow < 0) {
                continue;
            }
            const float *d = &layer_delta[((uint32_t) oh * w->out_width
                    + (uint32_t) ow) * w->out_channels];
            const float *k = &weights[conv_kernel_index(w, i, j, c, 0)];
            for (uint32_t f = 0; f < w->out_channels; f++) {
                g += k[f] * d[f];
            }
        }
    }
    return g;
}

// ---- Pooling (and zero padding: a 1x1 window whose padding is zeros).

// The input element the max of output element a's window comes from
// (TensorFlow's: the first maximum in row-major order), or -1 if the
// window lies wholly in the padding.
static inline int32_t pool_argmax(const window_params_t *w, uint32_t a,
                                  const float *x) {
    uint32_t p = a / w->out_channels, c = a % w->out_channels;
    uint32_t oh = p / w->out_width, ow = p % w->out_width;
    int32_t best = -1;
    for (uint32_t i = 0; i < w->kernel_height; i++) {
        for (uint32_t j = 0; j < w->kernel_width; j++) {
            int32_t pos = window_input_position(w, oh, ow, i, j);
            if (pos < 0) {
                continue;
            }
            int32_t e = pos * (int32_t) w->in_channels + (int32_t) c;
            if (best < 0 || x[e] > x[best]) {
                best = e;
            }
        }
    }
    return best;
}

// Input elements in output element a's window (padding excluded).
static inline uint32_t pool_count(const window_params_t *w, uint32_t a) {
    uint32_t p = a / w->out_channels;
    uint32_t oh = p / w->out_width, ow = p % w->out_width;
    uint32_t count = 0;
    for (uint32_t i = 0; i < w->kernel_height; i++) {
        for (uint32_t j = 0; j < w->kernel_width; j++) {
            if (window_input_position(w, oh, ow, i, j) >= 0) {
                count++;
            }
        }
    }
    return count;
}

// Input elements of output element a's window equal to its max.
static inline uint32_t pool_ties(const window_params_t *w, uint32_t a,
                                 const float *x, float max) {
    uint32_t p = a / w->out_channels, c = a % w->out_channels;
    uint32_t oh = p / w->out_width, ow = p % w->out_width;
    uint32_t ties = 0;
    for (uint32_t i = 0; i < w->kernel_height; i++) {
        for (uint32_t j = 0; j < w->kernel_width; j++) {
            int32_t pos = window_input_position(w, oh, ow, i, j);
            if (pos >= 0 && x[(uint32_t) pos * w->in_channels + c] == max) {
                ties++;
            }
        }
    }
    return ties;
}

// Upsampling: the input element that output element a repeats.
static inline uint32_t upsampled_from(const window_params_t *w,
                                      uint32_t a) {
    uint32_t p = a / w->out_channels, c = a % w->out_channels;
    uint32_t ih = (p / w->out_width) / w->kernel_height;
    uint32_t iw = (p % w->out_width) / w->kernel_width;
    return (ih * w->in_width + iw) * w->in_channels + c;
}

// Upsampling: dL/dx of input element b, its repeats' deltas summed row
// by row.
static inline float upsampled_gradient(const window_params_t *w,
                                       uint32_t b, const float *delta) {
    uint32_t pos = b / w->in_channels, c = b % w->in_channels;
    uint32_t ih = pos / w->in_width, iw = pos % w->in_width;
    float g = 0.0f;
    for (uint32_t i = 0; i < w->kernel_height; i++) {
        uint32_t oh = ih * w->kernel_height + i;
        for (uint32_t j = 0; j < w->kernel_width; j++) {
            uint32_t ow = iw * w->kernel_width + j;
            g += delta[(oh * w->out_width + ow) * w->out_channels + c];
        }
    }
    return g;
}

// Permute: the input element that output element a is.  Output rows,
// columns and channels step through the input at the strides of the axes
// they came from.
static inline uint32_t permuted_from(const window_params_t *w, uint32_t a) {
    uint32_t p = a / w->out_channels, c = a % w->out_channels;
    return (p / w->out_width) * w->permute_height_stride
            + (p % w->out_width) * w->permute_width_stride
            + c * w->permute_channels_stride;
}

// Permute: the output element that input element b became.
static inline uint32_t permuted_to(const window_params_t *w, uint32_t b) {
    uint32_t p = b / w->in_channels, c = b % w->in_channels;
    return (p / w->in_width) * w->unpermute_height_stride
            + (p % w->in_width) * w->unpermute_width_stride
            + c * w->unpermute_channels_stride;
}

static inline float pool_value(const window_params_t *w, uint32_t a,
                               const float *x) {
    if (w->pool_mode == POOL_MODE_UPSAMPLE) {
        return x[upsampled_from(w, a)];
    }
    if (w->pool_mode == POOL_MODE_PERMUTE) {
        return x[permuted_from(w, a)];
    }
    if (w->pool_mode != POOL_MODE_AVERAGE) {
        // A 1x1 padding window holds one element or none (a zero).
        int32_t e = pool_argmax(w, a, x);
        return e < 0 ? 0.0f : x[e];
    }
    uint32_t p = a / w->out_channels, c = a % w->out_channels;
    uint32_t oh = p / w->out_width, ow = p % w->out_width;
    float sum = 0.0f;
    for (uint32_t i = 0; i < w->kernel_height; i++) {
        for (uint32_t j = 0; j < w->kernel_width; j++) {
            int32_t pos = window_input_position(w, oh, ow, i, j);
            if (pos >= 0) {
                sum += x[(uint32_t) pos * w->in_channels + c];
            }
        }
    }
    return sum / (float) pool_count(w, a);
}

static inline void pool_forward(const window_params_t *w, uint32_t first,
                                uint32_t n, const float *x, float *z) {
    for (uint32_t a = 0; a < n; a++) {
        z[a] = pool_value(w, first + a, x);
    }
}

// dL/dx of input element b from the whole layer's deltas.
static inline float pool_input_gradient(const window_params_t *w,
                                        const float *x, uint32_t b,
                                        const float *layer_delta) {
    if (w->pool_mode == POOL_MODE_UPSAMPLE) {
        return upsampled_gradient(w, b, layer_delta);
    }
    if (w->pool_mode == POOL_MODE_PERMUTE) {
        return layer_delta[permuted_to(w, b)];
    }
    uint32_t pos = b / w->in_channels, c = b % w->in_channels;
    uint32_t ih = pos / w->in_width, iw = pos % w->in_width;
    float g = 0.0f;
    for (uint32_t i = 0; i < w->kernel_height; i++) {
        int32_t oh = window_output_index(ih, w->pad_top, i,
                w->stride_height, w->out_height);
        if (oh < 0) {
            continue;
        }
        for (uint32_t j = 0; j < w->kernel_width; j++) {
            int32_t ow = window_output_index(iw, w->pad_left, j,
                    w->stride_width, w->out_width);
            if (ow < 0) {
                continue;
            }
            uint32_t a = ((uint32_t) oh * w->out_width + (uint32_t) ow)
                    * w->out_channels + c;
            if (w->pool_mode == POOL_MODE_AVERAGE) {
                g += layer_delta[a] / (float) pool_count(w, a);
            } else if (w->pool_mode == POOL_MODE_MAX_SHARED) {
                // TensorFlow's: grad * (x == max) / (number of maxima).
                float max = pool_value(w, a, x);
                if (x[b] == max) {
                    g += layer_delta[a] / (float) pool_ties(w, a, x, max);
                }
            } else if (pool_argmax(w, a, x) == (int32_t) b) {
                g += layer_delta[a];
            }
        }
    }
    return g;
}

#endif
