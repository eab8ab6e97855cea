// conv with its weights in SDRAM (layer_params.streamed): a core whose
// kernel, or, training, whose kernel gradients, optimizer state and sums
// of each output position do not fit DTCM keeps them all in its chip's
// SDRAM and streams them through DTCM in blocks of CONV_STREAM_BLOCK words
// (stream.h), double-buffered.  Its input vectors are read in place in
// SDRAM (layer_core.h's inputs_in_sdram: a band of a wide input's rows
// may not fit DTCM either), once per kernel row and position; the deltas
// stay in DTCM.
//
// The weights are one array in SDRAM, the kernel in Keras' layout then
// the biases, and every pass reads it in that order, block by block:
// - forward: word (r, f) of kernel row r = (i, j, c) adds x * w to z of
//   filter f at each of the core's positions whose window reads input
//   (i, j, c), and a bias word is added last, so each z sums its terms in
//   (i, j, c) order as conv_forward does: the same numbers;
// - the kernel gradient: each position's sums stream block by block, each
//   word taking this sample's term, as conv_accumulate adds it;
// - dL/dx of the owned input elements: each adds its terms in the
//   kernel's (i, j) order and, within, filter order, as
//   conv_input_gradient does;
// - at the batch end the chain (conv.c) runs block by block, each word's
//   running sum over the positions in order, as pass_chain sums it;
// - the update is stream_update.h's, elementwise.
//
// Streams run one at a time, in the order they were asked for (the
// sample's kernel gradient and its input gradients may be asked for in
// either order: the exchange may complete first).
#ifndef SPIDNN_CONV_STREAM_H
#define SPIDNN_CONV_STREAM_H

#include "app_init.h"
#include "stream.h"
#include "stream_update.h"
#include "window_kernel.h"

typedef struct conv_stream_t {
    const window_params_t *window;
    uint32_t first;              // the core's first output element
    uint32_t n;                  // its output elements (whole positions)
    uint32_t n_params;           // kernel words, then the biases (if any)
    float *weights;              // [n_params], in SDRAM
    float *position_sums;        // training: [positions][n_params], SDRAM
    const float *chain_in;       // the previous core's sums (SDRAM), NULL
    trained_t *trained;          // training: its arrays in SDRAM
    const optimizer_t *optimizer;
    void (*forward_done)(void);
    void (*accumulated)(void);   // the sample's kernel gradient is added
    void (*gradients_done)(const float *g);   // the owned elements' dL/dx
    void (*update_done)(void);
    uint32_t chain_key;          // where the chain's sums go
} conv_stream_t;

static conv_stream_t cstream;       // the app fills it in
static uint32_t n_blocks;              // blocks of the weights array
static uint32_t n_positions;           // the core's output positions
static float *wbuf[2], *sbuf[2], *cbuf[2];
static float *chain_sums;              // a block's running sums
static float *zero_block;              // written over a sent block's sums
static float *owned_g;                 // dL/dx of the owned elements
static const float *stream_x;
static float *stream_z;
static const float *stream_delta;      // this core's deltas
static const float *stream_layer_delta;    // the layer's, by element

// Words [first, first + size) of block q.
static uint32_t cblock(uint32_t q, uint32_t *size) {
    uint32_t first = q * CONV_STREAM_BLOCK, left = cstream.n_params - first;
    *size = left < CONV_STREAM_BLOCK ? left : CONV_STREAM_BLOCK;
    return first;
}

// Row r = (i, j, c) of the kernel.
static inline void kernel_row(const window_params_t *w, uint32_t r,
                              uint32_t *i, uint32_t *j, uint32_t *c) {
    *c = r % w->in_channels;
    *j = (r / w->in_channels) % w->kernel_width;
    *i = r / (w->in_channels * w->kernel_width);
}

// Calls visit(row, first filter, filters, the words) for each run of
// kernel words of block q (a run lies in one kernel row); returns the
// block's first bias word's offset in the block (size if none).
static uint32_t kernel_runs(uint32_t q, const float *words,
        void (*visit)(uint32_t r, uint32_t f0, uint32_t nf, const float *w,
                      uint32_t offset)) {
    const window_params_t *w = cstream.window;
    uint32_t size, first = cblock(q, &size);
    uint32_t n_kernel = conv_n_weights(w), F = w->n_filters;
    uint32_t end = first + size < n_kernel ? first + size : n_kernel;
    for (uint32_t k = first; k < end; ) {
        uint32_t r = k / F, f0 = k % F;
        uint32_t nf = F - f0 < end - k ? F - f0 : end - k;
        visit(r, f0, nf, &words[k - first], k - first);
        k += nf;
    }
    return end > first ? end - first : 0;
}

static uint32_t weight_reads(uint32_t q, stream_transfer_t *t) {
    uint32_t size, first = cblock(q, &size);
    t[0] = (stream_transfer_t) {&cstream.weights[first], wbuf[q & 1u], size};
    return 1;
}

// The input element that kernel row (i, j, c) reads for output position
// p, or -1 in the padding.
static inline int32_t row_input(const window_params_t *w, uint32_t p,
                                uint32_t i, uint32_t j, uint32_t c) {
    int32_t pos = window_input_position(w, p / w->out_width,
            p % w->out_width, i, j);
    return pos < 0 ? -1 : pos * (int32_t) w->in_channels + (int32_t) c;
}

// ---- Forward.
static void forward_run(uint32_t r, uint32_t f0, uint32_t nf,
                        const float *wv, uint32_t offset) {
    (void) offset;
    const window_params_t *w = cstream.window;
    uint32_t i, j, c;
    kernel_row(w, r, &i, &j, &c);
    uint32_t p0 = cstream.first / w->out_channels;
    for (uint32_t p = 0; p < n_positions; p++) {
        int32_t e = row_input(w, p0 + p, i, j, c);
        if (e < 0) {
            continue;
        }
        float x = stream_x[e];
        float *z = &stream_z[p * w->out_channels + f0];
        for (uint32_t f = 0; f < nf; f++) {
            z[f] += x * wv[f];
        }
    }
}

static void forward_block(uint32_t q) {
    const float *words = wbuf[q & 1u];
    uint32_t size;
    uint32_t first = cblock(q, &size);
    uint32_t b = kernel_runs(q, words, forward_run);
    // The biases, after every kernel word.
    uint32_t F = cstream.window->out_channels;
    for (; b < size; b++) {
        uint32_t f = first + b - conv_n_weights(cstream.window);
        for (uint32_t p = 0; p < n_positions; p++) {
            stream_z[p * F + f] = stream_z[p * F + f] + words[b];
        }
    }
}

static void forward_finished(void);
static stream_job_t forward_job = {
    0, weight_reads, forward_block, stream_no_transfers, forward_finished};

// ---- The kernel gradient: job q is block q % n_blocks of position
// q / n_blocks's sums.
static uint32_t sums_transfer(uint32_t q, stream_transfer_t *t) {
    uint32_t size, first = cblock(q % n_blocks, &size);
    float *sums = &cstream.position_sums[(q / n_blocks) * cstream.n_params];
    t[0] = (stream_transfer_t) {&sums[first], sbuf[q & 1u], size};
    return 1;
}

static uint32_t accumulate_position;   // of the job being computed
static float *accumulate_sums;

static void accumulate_run(uint32_t r, uint32_t f0, uint32_t nf,
                           const float *unused, uint32_t offset) {
    (void) unused;
    const window_params_t *w = cstream.window;
    uint32_t i, j, c;
    kernel_row(w, r, &i, &j, &c);
    int32_t e = row_input(w, cstream.first / w->out_channels
            + accumulate_position, i, j, c);
    if (e < 0) {
        return;
    }
    float x = stream_x[e];
    const float *d = &stream_delta[accumulate_position * w->out_channels
            + f0];
    float *sums = &accumulate_sums[offset];
    for (uint32_t f = 0; f < nf; f++) {
        sums[f] += x * d[f];
    }
}

static void accumulate_block(uint32_t q) {
    accumulate_position = q / n_blocks;
    accumulate_sums = sbuf[q & 1u];
    uint32_t size;
    uint32_t first = cblock(q % n_blocks, &size);
    uint32_t b = kernel_runs(q % n_blocks, accumulate_sums, accumulate_run);
    uint32_t F = cstream.window->out_channels;
    for (; b < size; b++) {    // the biases' terms: the deltas
        uint32_t f = first + b - conv_n_weights(cstream.window);
        accumulate_sums[b] += stream_delta[accumulate_position * F + f];
    }
}

static stream_job_t accumulate_job = {
    0, sums_transfer, accumulate_block, sums_transfer, NULL};

// ---- dL/dx of the owned input elements.
static void input_gradient_run(uint32_t r, uint32_t f0, uint32_t nf,
                               const float *wv, uint32_t offset) {
    (void) offset;
    const window_params_t *w = cstream.window;
    uint32_t i, j, c;
    kernel_row(w, r, &i, &j, &c);
    uint32_t C = w->in_channels, first = w->owned_first;
    // The owned elements of channel c.
    for (uint32_t k = (c + C - first % C) % C; k < w->n_owned; k += C) {
        uint32_t pos = (first + k) / C;
        int32_t oh = window_output_index(pos / w->in_width, w->pad_top, i,
                w->stride_height, w->out_height);
        int32_t ow = window_output_index(pos % w->in_width, w->pad_left, j,
                w->stride_width, w->out_width);
        if (oh < 0 || ow < 0) {
            continue;
        }
        const float *d = &stream_layer_delta[((uint32_t) oh * w->out_width
                + (uint32_t) ow) * w->out_channels + f0];
        float g = owned_g[k];
        for (uint32_t f = 0; f < nf; f++) {
            g += wv[f] * d[f];
        }
        owned_g[k] = g;
    }
}

static void input_gradient_block(uint32_t q) {
    kernel_runs(q, wbuf[q & 1u], input_gradient_run);
}

// Only the kernel's blocks: the biases take no part (its size and end,
// gradients_finished, are set up with the others').
static stream_job_t input_gradient_job = {
    0, weight_reads, input_gradient_block, stream_no_transfers, NULL};

// ---- The chain: job q is position q % n_positions of block
// q / n_positions; the block's sums go once its last position is in.
static uint32_t chain_reads(uint32_t q, stream_transfer_t *t) {
    uint32_t p = q % n_positions, size;
    uint32_t first = cblock(q / n_positions, &size);
    t[0] = (stream_transfer_t) {
        &cstream.position_sums[p * cstream.n_params + first], sbuf[q & 1u],
        size};
    if (p > 0 || cstream.chain_in == NULL) {
        return 1;
    }
    t[1] = (stream_transfer_t) {
        (float *) &cstream.chain_in[first], cbuf[q & 1u], size};
    return 2;
}

static void chain_block(uint32_t q) {
    uint32_t p = q % n_positions, block = q / n_positions, size;
    uint32_t first = cblock(block, &size);
    const float *sums = sbuf[q & 1u];
    for (uint32_t e = 0; e < size; e++) {
        chain_sums[e] = p > 0 ? chain_sums[e] + sums[e]
                : cstream.chain_in != NULL ? cbuf[q & 1u][e] + sums[e]
                : sums[e];
    }
    if (p + 1 == n_positions) {
        send_floats(cstream.chain_key + first, chain_sums, size);
    }
}

// Sent: the next batch's sums start again from zero.
static uint32_t chain_writes(uint32_t q, stream_transfer_t *t) {
    uint32_t p = q % n_positions, block = q / n_positions, size;
    uint32_t first = cblock(block, &size);
    t[0] = (stream_transfer_t) {
        &cstream.position_sums[p * cstream.n_params + first], zero_block,
        size};
    return 1;
}

static stream_job_t chain_job = {0, chain_reads, chain_block, chain_writes,
                                 NULL};

// ---- The order of streams.
#define CSTREAM_QUEUE 4u
static const stream_job_t *queued[CSTREAM_QUEUE];
static uint32_t n_queued;
static bool cstream_busy;

static void cstream_run(const stream_job_t *job) {
    if (cstream_busy) {
        if (n_queued == CSTREAM_QUEUE) {
            log_error("conv: too many streams waiting");
            rt_error(RTE_SWERR);
        }
        queued[n_queued++] = job;
        return;
    }
    cstream_busy = true;
    stream_start(job);
}

// A stream has ended: the next waiting one starts.
static void cstream_next(void) {
    cstream_busy = false;
    if (n_queued > 0) {
        const stream_job_t *job = queued[0];
        for (uint32_t k = 1; k < n_queued; k++) {
            queued[k - 1] = queued[k];
        }
        n_queued--;
        cstream_busy = true;
        stream_start(job);
    }
}

static void forward_finished(void) {
    cstream_next();
    cstream.forward_done();
}

static void accumulate_finished(void) {
    cstream_next();
    cstream.accumulated();
}

static void gradients_finished(void) {
    cstream_next();
    cstream.gradients_done(owned_g);
}

static void update_finished(void) {
    cstream_next();
    cstream.update_done();
}

// ---- What conv.c calls.
static void conv_stream_forward(const float *x, float *z) {
    stream_x = x;
    stream_z = z;
    zero_floats(z, cstream.n);
    cstream_run(&forward_job);
}

static void conv_stream_accumulate(const float *x, const float *deltas) {
    stream_x = x;
    stream_delta = deltas;
    cstream_run(&accumulate_job);
}

static void conv_stream_input_gradients(const float *x,
                                        const float *layer_delta) {
    stream_x = x;
    stream_layer_delta = layer_delta;
    zero_floats(owned_g, cstream.window->n_owned);
    cstream_run(&input_gradient_job);
}

static void conv_stream_chain(void) {
    cstream_run(&chain_job);
}

static void conv_stream_update(const step_t *step) {
    cstream_run(stream_update_job(step));
}

// Forgets the running streams (an abort), unless the update runs: a
// committed update is part of the commit and runs to its end.  `drained`
// runs once the forgotten transfers are done.
static bool conv_stream_abort(void (*drained)(void)) {
    if (supdate_running) {
        return false;
    }
    n_queued = 0;
    cstream_busy = false;
    stream_cancel(drained);
    return true;
}

// Sets up the streams of cstream, which the app has filled in (its
// arrays in SDRAM already laid out).
static void conv_stream_setup(void) {
    const window_params_t *w = cstream.window;
    if (w->n_filters != w->out_channels) {
        // z and the deltas are laid out by the layer's filters.
        log_error("conv: a streamed core holds every filter");
        rt_error(RTE_SWERR);
    }
    n_positions = cstream.n / w->out_channels;
    n_blocks = (cstream.n_params + CONV_STREAM_BLOCK - 1)
            / CONV_STREAM_BLOCK;
    forward_job.n_jobs = n_blocks;
    uint32_t n_kernel = conv_n_weights(w);
    input_gradient_job.n_jobs = (n_kernel + CONV_STREAM_BLOCK - 1)
            / CONV_STREAM_BLOCK;
    input_gradient_job.done = gradients_finished;
    stream_init();
    for (uint32_t s = 0; s < 2; s++) {
        wbuf[s] = dtcm_alloc(CONV_STREAM_BLOCK);
    }
    n_queued = 0;
    cstream_busy = false;
    if (cstream.trained == NULL) {
        return;
    }
    accumulate_job.n_jobs = n_positions * n_blocks;
    accumulate_job.done = accumulate_finished;
    chain_job.n_jobs = n_positions * n_blocks;
    // The link sent, the totals come from the chain's last core.
    chain_job.done = cstream_next;
    for (uint32_t s = 0; s < 2; s++) {
        sbuf[s] = dtcm_alloc(CONV_STREAM_BLOCK);
        cbuf[s] = cstream.chain_in != NULL
                ? dtcm_alloc(CONV_STREAM_BLOCK) : NULL;
    }
    chain_sums = dtcm_alloc(CONV_STREAM_BLOCK);
    zero_block = dtcm_zeros(CONV_STREAM_BLOCK);
    owned_g = dtcm_alloc(w->n_owned > 0 ? w->n_owned : 1);
    stream_update_setup(cstream.optimizer, cstream.trained,
                        CONV_STREAM_BLOCK, wbuf, sbuf, update_finished);
}

#endif
