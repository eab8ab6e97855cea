// Counting samples into batches, identically on every core.
//
// Each training core counts the samples it has finished, so all of them
// agree on where a batch ends without a packet saying so.  As in Keras, a
// batch holds batch_size samples except the epoch's last, which holds what
// is left.  A pass of unknown length (a generator's) whose last batch is
// short ends early: the host says so before that batch (control.h's
// end_pass), and the next pass is of the configured length again.
#ifndef SPIDNN_BATCH_H
#define SPIDNN_BATCH_H

#include <stdint.h>
#include <stdbool.h>

typedef struct batch_counter_t {
    uint32_t batch_size;
    uint32_t n_samples;      // this pass's
    uint32_t pass_samples;   // per pass, as configured
    uint32_t batch_start;    // the current batch's first sample in the epoch
    uint32_t in_batch;       // samples finished in the current batch
} batch_counter_t;

static inline void batch_init(batch_counter_t *b, uint32_t batch_size,
                              uint32_t n_samples) {
    *b = (batch_counter_t) {batch_size, n_samples, n_samples, 0, 0};
}

// The pass ends with the batch about to start, of `size` samples.
static inline void batch_end_pass(batch_counter_t *b, uint32_t size) {
    b->n_samples = b->batch_start + size;
}

// Samples in the current batch: the mean of the batch's loss divides by it.
static inline uint32_t batch_current_size(const batch_counter_t *b) {
    uint32_t left = b->n_samples - b->batch_start;
    return left < b->batch_size ? left : b->batch_size;
}

// Counts one finished sample; true if it ended a batch.
static inline bool batch_sample_done(batch_counter_t *b) {
    if (++b->in_batch < batch_current_size(b)) {
        return false;
    }
    b->batch_start += b->in_batch;
    b->in_batch = 0;
    if (b->batch_start >= b->n_samples) {
        b->batch_start = 0;
        b->n_samples = b->pass_samples;
    }
    return true;
}

#endif
