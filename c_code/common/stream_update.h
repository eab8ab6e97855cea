// An optimizer's step over weights that live in SDRAM (a streamed core's
// kernel: dense_stream.h, conv_stream.h): the weights, their gradients and
// each state array stream through DTCM block by block (stream.h), each
// block one optimizer step of its own.  The step is elementwise, and so
// are the penalty gradients and Keras' clipping and weight decay, so the
// numbers are those of one step over the whole array in DTCM.
#ifndef SPIDNN_STREAM_UPDATE_H
#define SPIDNN_STREAM_UPDATE_H

#include "optimizer.h"
#include "stream.h"

typedef struct stream_update_t {
    const optimizer_t *optimizer;
    trained_t *trained;      // its arrays in SDRAM
    uint32_t block;          // floats per block
    // DTCM blocks of `block` floats, two of each (by job parity).
    float *wbuf[2], *gbuf[2], *sbuf[2][MAX_STATES];
    void (*done)(void);      // the step is applied and written back
} stream_update_t;

static stream_update_t supdate;
static step_t supdate_step;      // the committed step being applied
static bool supdate_running;

static uint32_t supdate_block_size(uint32_t q) {
    uint32_t left = supdate.trained->n - q * supdate.block;
    return left < supdate.block ? left : supdate.block;
}

// Weights, gradients and each state array of block q, to or from its
// buffers.
static uint32_t supdate_transfers(uint32_t q, stream_transfer_t *t) {
    uint32_t first = q * supdate.block, n = supdate_block_size(q);
    trained_t *trained = supdate.trained;
    uint32_t count = 0;
    t[count++] = (stream_transfer_t) {
        &trained->weights[first], supdate.wbuf[q & 1u], n};
    t[count++] = (stream_transfer_t) {
        &trained->grads[first], supdate.gbuf[q & 1u], n};
    for (uint32_t k = 0; k < optimizer_n_states(supdate.optimizer); k++) {
        t[count++] = (stream_transfer_t) {
            &trained->state[k][first], supdate.sbuf[q & 1u][k], n};
    }
    return count;
}

static void supdate_block(uint32_t q) {
    uint32_t first = q * supdate.block, n = supdate_block_size(q);
    const trained_t *trained = supdate.trained;
    // The block as a trained_t of its own, with the regularisers of the
    // words it holds: those before the whole array's split take the
    // first.
    trained_t view;
    view.weights = supdate.wbuf[q & 1u];
    view.grads = supdate.gbuf[q & 1u];
    for (uint32_t k = 0; k < MAX_STATES; k++) {
        view.state[k] = supdate.sbuf[q & 1u][k];
    }
    view.n = n;
    view.regulariser[0] = trained->regulariser[0];
    view.regulariser[1] = trained->regulariser[1];
    view.split = trained->split <= first ? 0
            : (trained->split - first < n ? trained->split - first : n);
    view.clip[0] = trained->clip[0];
    view.clip[1] = trained->clip[1];
    trained_step(supdate.optimizer, &view, &supdate_step);
}

static void supdate_done(void) {
    supdate_running = false;
    supdate.done();
}

static stream_job_t supdate_job = {
    0, supdate_transfers, supdate_block, supdate_transfers, supdate_done};

// The stream that applies `step` (supdate.done() runs once its last
// block is written), for the caller to start.
static const stream_job_t *stream_update_job(const step_t *step) {
    supdate_step = *step;
    supdate_job.n_jobs =
            (supdate.trained->n + supdate.block - 1) / supdate.block;
    supdate_running = true;
    return &supdate_job;
}

// Sets up the step over `trained`'s arrays (in SDRAM), streamed in blocks
// of `block` floats through the caller's blocks w[] (for the weights) and
// g[] (the gradients), which its other streams may use too, and state
// blocks of its own.  (Fields one by one: a struct copy would call
// memcpy, which SpiNNaker does not provide.)
static void stream_update_setup(const optimizer_t *optimizer,
                                trained_t *trained, uint32_t block,
                                float *w[2], float *g[2],
                                void (*done)(void)) {
    supdate.optimizer = optimizer;
    supdate.trained = trained;
    supdate.block = block;
    supdate.done = done;
    supdate_running = false;
    for (uint32_t s = 0; s < 2; s++) {
        supdate.wbuf[s] = w[s];
        supdate.gbuf[s] = g[s];
        for (uint32_t k = 0; k < MAX_STATES; k++) {
            supdate.sbuf[s][k] = k < optimizer_n_states(optimizer)
                    ? dtcm_alloc(block) : NULL;
        }
    }
}

#endif
