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
//
// This file streams the kernel only: dense.c hands it the slice's shape,
// the kernel's trained_t and what to call as each stream ends
// (dense_stream_t, through stream_setup), and keeps the biases itself.
#ifndef SPIDNN_DENSE_STREAM_H
#define SPIDNN_DENSE_STREAM_H

#include "app_init.h"
#include "dense_kernel.h"
#include "optimizer.h"
#include "stream.h"
#include "stream_update.h"

typedef struct dense_stream_t {
    uint32_t n_neurons;
    uint32_t n_inputs;               // the core's input block
    const float *bias;               // added after the last block, or NULL
    const float *carry;              // 2-D: the previous block's sums
    const optimizer_t *optimizer;
    trained_t *trained;              // training: the kernel's, else NULL
    void (*forward_done)(void);      // z is complete
    void (*gradients_done)(void);    // the sample's gradients are added
    void (*update_done)(void);       // the update is applied
} dense_stream_t;

static dense_stream_t dstream;
static float *kernel_sdram;        // [n_neurons][dstream.n_inputs], in SDRAM
static float *kbuf[2], *xbuf[2], *gbuf[2];
static uint32_t row_blocks;        // blocks per kernel row
static const float *stream_x;      // the sample's inputs (SDRAM)
static float *stream_z;
static const float *stream_delta;

// Input block b and neuron j of job q; the block's first input and size.
static uint32_t block_of(uint32_t q, uint32_t *j, uint32_t *first) {
    uint32_t b = q / dstream.n_neurons;
    *j = q % dstream.n_neurons;
    *first = b * STREAM_BLOCK;
    uint32_t left = dstream.n_inputs - *first;
    return left < STREAM_BLOCK ? left : STREAM_BLOCK;
}

static uint32_t n_row_jobs(void) {
    return row_blocks * dstream.n_neurons;
}

// The row block (of `array`, [n][dstream.n_inputs] in SDRAM) into buf, and the
// input block once per block, when its first neuron's job reads.
static uint32_t row_reads(uint32_t q, float *array, float **buf,
                          stream_transfer_t *t) {
    uint32_t j, first;
    uint32_t n = block_of(q, &j, &first);
    t[0] = (stream_transfer_t) {
        &array[j * dstream.n_inputs + first], buf[q & 1u], n};
    if (j > 0) {
        return 1;
    }
    uint32_t b = q / dstream.n_neurons;
    t[1] = (stream_transfer_t) {(float *) &stream_x[first], xbuf[b & 1u], n};
    return 2;
}

// ---- Forward.
static uint32_t forward_reads(uint32_t q, stream_transfer_t *t) {
    return row_reads(q, kernel_sdram, kbuf, t);
}

static void forward_block(uint32_t q) {
    uint32_t j, first;
    uint32_t n = block_of(q, &j, &first);
    uint32_t b = q / dstream.n_neurons;
    float start = b > 0 ? stream_z[j]
            : dstream.carry != NULL ? dstream.carry[j] : 0.0f;
    float acc = dense_dot(start, kbuf[q & 1u], xbuf[b & 1u], n);
    stream_z[j] = b + 1 == row_blocks && dstream.bias != NULL
            ? acc + dstream.bias[j] : acc;
}

// done: dstream.forward_done, from stream_setup.
static stream_job_t forward_job = {
    0, forward_reads, forward_block, stream_no_transfers, NULL};

static bool stream_forward(const float *x, float *out) {
    stream_x = x;
    stream_z = out;
    forward_job.n_jobs = n_row_jobs();
    stream_start(&forward_job);
    return false;
}

// ---- Gradients.
static uint32_t gradient_reads(uint32_t q, stream_transfer_t *t) {
    return row_reads(q, dstream.trained->grads, gbuf, t);
}

static void gradient_block(uint32_t q) {
    uint32_t j, first;
    uint32_t n = block_of(q, &j, &first);
    uint32_t b = q / dstream.n_neurons;
    dense_add_scaled(gbuf[q & 1u], xbuf[b & 1u], stream_delta[j], n);
}

static uint32_t gradient_writes(uint32_t q, stream_transfer_t *t) {
    uint32_t j, first;
    uint32_t n = block_of(q, &j, &first);
    float *grads = dstream.trained->grads;
    t[0] = (stream_transfer_t) {
        &grads[j * dstream.n_inputs + first], gbuf[q & 1u], n};
    return 1;
}

// done: dstream.gradients_done, from stream_setup.
static stream_job_t gradient_job = {
    0, gradient_reads, gradient_block, gradient_writes, NULL};

// The kernel's gradients of the sample (the caller adds the biases').
static void stream_gradients(const float *x, const float *deltas) {
    stream_x = x;
    stream_delta = deltas;
    gradient_job.n_jobs = n_row_jobs();
    stream_start(&gradient_job);
}

// ---- The update: the kernel's words in blocks (stream_update.h).
static void update_done(void) {
    dstream.update_done();
}

// The kernel's update (the caller steps the biases').
static void stream_update(const step_t *step) {
    stream_start(stream_update_job(step));
}

// ---- Abort: a forward or gradient stream is forgotten, and the batch's
// gradients start again from zero once its write-backs are out.  A
// committed update runs to its end: it is part of the commit.
static void zero_kernel_grads(void) {
    zero_floats(dstream.trained->grads, dstream.trained->n);
}

// False while the update runs (nothing is forgotten: the caller keeps
// the biases' gradients too).
static bool stream_abort(void) {
    if (supdate_running) {
        return false;
    }
    stream_cancel(dstream.trained != NULL ? zero_kernel_grads : NULL);
    return true;
}

// ---- Set-up: the kernel stays in the WEIGHTS region; the gradients and
// state (in config->trained, when training) follow the input vectors in
// the STREAM region.
static void stream_setup(const dense_stream_t *config,
                         data_specification_metadata_t *ds,
                         float *weights_region) {
    dstream = *config;
    forward_job.done = dstream.forward_done;
    gradient_job.done = dstream.gradients_done;
    uint32_t n = dstream.n_neurons;
    kernel_sdram = weights_region;
    row_blocks = (dstream.n_inputs + STREAM_BLOCK - 1) / STREAM_BLOCK;
    stream_init();
    for (uint32_t s = 0; s < 2; s++) {
        kbuf[s] = dtcm_alloc(STREAM_BLOCK);
        xbuf[s] = dtcm_alloc(STREAM_BLOCK);
    }
    if (dstream.trained == NULL) {
        return;
    }
    float *region = data_specification_get_region(REGION_STREAM, ds);
    dstream.trained->weights = kernel_sdram;
    dstream.trained->n = n * dstream.n_inputs;
    uint32_t n_in = dstream.n_inputs;
    dstream.trained->grads = &region[2 * n_in];
    for (uint32_t k = 0; k < MAX_STATES; k++) {
        dstream.trained->state[k] = k < optimizer_n_states(dstream.optimizer)
                ? &region[2 * n_in + (k + 1) * n * n_in] : NULL;
    }
    for (uint32_t s = 0; s < 2; s++) {
        gbuf[s] = dtcm_alloc(STREAM_BLOCK);
    }
    stream_update_setup(dstream.optimizer, dstream.trained, kbuf, gbuf,
                        update_done);
}

#endif
