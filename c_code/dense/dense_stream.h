// dense with its kernel in SDRAM (layer_params.streamed): a slice whose
// kernel, gradients and optimizer state do not fit DTCM keeps them in its
// chip's SDRAM, and its input vectors too (layer_core.h), and streams them
// through DTCM in blocks of STREAM_BLOCK floats (stream.h).  The biases,
// their gradients and state stay in DTCM.
//
// Forward and gradient blocks run input block by input block, each over
// the core's neurons: an input block is read once, and each neuron's sum
// still runs in index order, carried from block to block (dense_dot), so
// z is the DTCM kernel's bit for bit.  The update runs over the kernel's
// words in order, each block one optimizer step of its own (elementwise,
// so the same numbers).
#ifndef SPIDNN_DENSE_STREAM_H
#define SPIDNN_DENSE_STREAM_H

#include "stream.h"

static float *kbuf[2], *xbuf[2], *gbuf[2], *sbuf[2][MAX_STATES];
static uint32_t row_blocks;        // blocks per kernel row
static const float *stream_x;      // the sample's inputs (SDRAM)
static float *stream_z;
static const float *stream_delta;
static float stream_scale, stream_learning_rate;
static bool updating;              // the running stream is the update

// Input block b and neuron j of job q; the block's first input and size.
static uint32_t block_of(uint32_t q, uint32_t *j, uint32_t *first) {
    uint32_t b = q / params.n_neurons;
    *j = q % params.n_neurons;
    *first = b * STREAM_BLOCK;
    uint32_t left = n_inputs - *first;
    return left < STREAM_BLOCK ? left : STREAM_BLOCK;
}

static uint32_t n_row_jobs(void) {
    return row_blocks * params.n_neurons;
}

// The row block (of `array`, [n][n_inputs] in SDRAM) into buf, and the
// input block once per block, when its first neuron's job reads.
static uint32_t row_reads(uint32_t q, float *array, float **buf,
                          stream_transfer_t *t) {
    uint32_t j, first;
    uint32_t n = block_of(q, &j, &first);
    t[0] = (stream_transfer_t) {&array[j * n_inputs + first], buf[q & 1u], n};
    if (j > 0) {
        return 1;
    }
    uint32_t b = q / params.n_neurons;
    t[1] = (stream_transfer_t) {(float *) &stream_x[first], xbuf[b & 1u], n};
    return 2;
}

static uint32_t no_transfers(uint32_t q, stream_transfer_t *t) {
    (void) q; (void) t;
    return 0;
}

// ---- Forward.
static uint32_t forward_reads(uint32_t q, stream_transfer_t *t) {
    return row_reads(q, kernel, kbuf, t);
}

static void forward_block(uint32_t q) {
    uint32_t j, first;
    uint32_t n = block_of(q, &j, &first);
    uint32_t b = q / params.n_neurons;
    float start = b > 0 ? stream_z[j] : carry != NULL ? carry[j] : 0.0f;
    float acc = dense_dot(start, kbuf[q & 1u], xbuf[b & 1u], n);
    stream_z[j] = b + 1 == row_blocks && has_bias() ? acc + bias[j] : acc;
}

static stream_job_t forward_job = {
    0, forward_reads, forward_block, no_transfers, layer_forward_done};

static bool stream_forward(const float *x, float *out) {
    stream_x = x;
    stream_z = out;
    forward_job.n_jobs = n_row_jobs();
    updating = false;
    stream_start(&forward_job);
    return false;
}

// ---- Gradients.
static uint32_t gradient_reads(uint32_t q, stream_transfer_t *t) {
    return row_reads(q, kernel_trained.grads, gbuf, t);
}

static void gradient_block(uint32_t q) {
    uint32_t j, first;
    uint32_t n = block_of(q, &j, &first);
    uint32_t b = q / params.n_neurons;
    dense_add_scaled(gbuf[q & 1u], xbuf[b & 1u], stream_delta[j], n);
}

static uint32_t gradient_writes(uint32_t q, stream_transfer_t *t) {
    uint32_t j, first;
    uint32_t n = block_of(q, &j, &first);
    t[0] = (stream_transfer_t) {
        &kernel_trained.grads[j * n_inputs + first], gbuf[q & 1u], n};
    return 1;
}

static stream_job_t gradient_job = {
    0, gradient_reads, gradient_block, gradient_writes, layer_sample_done};

static void stream_gradients(const float *x, const float *deltas) {
    for (uint32_t j = 0; has_bias() && j < params.n_neurons; j++) {
        bias_trained.grads[j] += deltas[j];
    }
    stream_x = x;
    stream_delta = deltas;
    gradient_job.n_jobs = n_row_jobs();
    updating = false;
    stream_start(&gradient_job);
}

// ---- The update: the kernel's words in blocks.
static uint32_t update_block_size(uint32_t q) {
    uint32_t left = kernel_trained.n - q * STREAM_BLOCK;
    return left < STREAM_BLOCK ? left : STREAM_BLOCK;
}

// Weights, gradients and each state array of block q, to or from its
// buffers.
static uint32_t update_transfers(uint32_t q, stream_transfer_t *t) {
    uint32_t first = q * STREAM_BLOCK, n = update_block_size(q);
    uint32_t count = 0;
    t[count++] = (stream_transfer_t) {&kernel[first], kbuf[q & 1u], n};
    t[count++] = (stream_transfer_t) {
        &kernel_trained.grads[first], gbuf[q & 1u], n};
    for (uint32_t k = 0; k < optimizer_n_states(&optimizer); k++) {
        t[count++] = (stream_transfer_t) {
            &kernel_trained.state[k][first], sbuf[q & 1u][k], n};
    }
    return count;
}

static void update_block(uint32_t q) {
    trained_t view = {kbuf[q & 1u], gbuf[q & 1u],
                      {sbuf[q & 1u][0], sbuf[q & 1u][1]},
                      update_block_size(q)};
    trained_step(&optimizer, &view, stream_scale, stream_learning_rate);
}

static void update_done(void) {
    updating = false;
    layer_update_applied();
}

static stream_job_t update_job = {
    0, update_transfers, update_block, update_transfers, update_done};

static void stream_update(float scale, float learning_rate) {
    if (has_bias()) {
        trained_step(&optimizer, &bias_trained, scale, learning_rate);
    }
    stream_scale = scale;
    stream_learning_rate = learning_rate;
    update_job.n_jobs = (kernel_trained.n + STREAM_BLOCK - 1) / STREAM_BLOCK;
    updating = true;
    stream_start(&update_job);
}

// ---- Abort: a forward or gradient stream is forgotten, and the batch's
// gradients start again from zero once its write-backs are out.  A
// committed update runs to its end: it is part of the commit.
static void zero_kernel_grads(void) {
    zero_floats(kernel_trained.grads, kernel_trained.n);
}

static void stream_abort(void) {
    if (updating) {
        return;
    }
    stream_cancel(params.training ? zero_kernel_grads : NULL);
    if (params.training && has_bias()) {
        trained_forget(&bias_trained);
    }
}

// ---- Set-up: the kernel stays in the WEIGHTS region; the gradients and
// state follow the input vectors in the STREAM region.
static void stream_setup(data_specification_metadata_t *ds,
                         const float *weights_region) {
    uint32_t n = params.n_neurons;
    kernel = (float *) weights_region;
    row_blocks = (n_inputs + STREAM_BLOCK - 1) / STREAM_BLOCK;
    stream_init();
    for (uint32_t s = 0; s < 2; s++) {
        kbuf[s] = dtcm_alloc(STREAM_BLOCK);
        xbuf[s] = dtcm_alloc(STREAM_BLOCK);
    }
    if (!params.training) {
        return;
    }
    float *region = data_specification_get_region(REGION_STREAM, ds);
    kernel_trained.weights = kernel;
    kernel_trained.n = n * n_inputs;
    kernel_trained.grads = &region[2 * n_inputs];
    for (uint32_t k = 0; k < MAX_STATES; k++) {
        kernel_trained.state[k] = k < optimizer_n_states(&optimizer)
                ? &region[2 * n_inputs + (k + 1) * n * n_inputs] : NULL;
    }
    for (uint32_t s = 0; s < 2; s++) {
        gbuf[s] = dtcm_alloc(STREAM_BLOCK);
        for (uint32_t k = 0; k < MAX_STATES; k++) {
            sbuf[s][k] = k < optimizer_n_states(&optimizer)
                    ? dtcm_alloc(STREAM_BLOCK) : NULL;
        }
    }
}

#endif
