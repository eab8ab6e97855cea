// Streams arrays that live in SDRAM through DTCM, double-buffered by DMA,
// as sPyNNaker streams synaptic rows: while job q computes on the buffers
// its reads filled, job q + 1's reads are in flight.
//
// A stream is a sequence of jobs.  For each, the app lists the transfers
// that fill its DTCM buffers (reads), computes, and lists the transfers
// that write buffers back (writes).  Jobs of even and odd number use
// different buffers (the app chooses them by q & 1), and the DMA engine
// carries transfers out in the order they were asked for, so a read into
// a buffer asked for after that buffer's write-back finds it written out.
//
// One stream runs at a time.  stream_cancel() forgets the running one
// (an abort): its transfers still complete, and a stream started meanwhile
// begins once they have.
#ifndef SPIDNN_STREAM_H
#define SPIDNN_STREAM_H

#include <stdint.h>
#include <stdbool.h>

#include <spin1_api.h>
#include <simulation.h>
#include <debug.h>

#include "spidnn_layouts.h"     // STREAM_BLOCK: floats per transfer
// Transfers one job may list for its reads or its writes.
#define STREAM_MAX_TRANSFERS 5u
// The DMA tags of reads (by the job's parity) and writes.
#define STREAM_TAG_READ 1u
#define STREAM_TAG_WRITE 3u

typedef struct {
    float *sdram;
    float *tcm;
    uint32_t n;          // floats
} stream_transfer_t;

typedef struct {
    uint32_t n_jobs;
    uint32_t (*reads)(uint32_t q, stream_transfer_t *t);
    void (*compute)(uint32_t q);
    uint32_t (*writes)(uint32_t q, stream_transfer_t *t);
    void (*done)(void);
} stream_job_t;

static struct {
    const stream_job_t *job;
    bool active;
    const stream_job_t *deferred;   // started while cancelled ones drain
    uint32_t next_read, next_compute;
    uint32_t reads_pending[2];
    uint32_t writes_pending;
    uint32_t outstanding;           // every transfer asked for, not done
    uint32_t stale;                 // of those, a cancelled stream's
    void (*drained)(void);          // to run once the stale ones are done
} stream;

// The transfers of a job that reads or writes nothing.
static uint32_t stream_no_transfers(uint32_t q, stream_transfer_t *t) {
    (void) q; (void) t;
    return 0;
}

static void stream_transfer(uint32_t tag, uint32_t direction,
                            const stream_transfer_t *t) {
    if (spin1_dma_transfer(tag, t->sdram, t->tcm, direction,
                           t->n * sizeof(float)) == 0) {
        log_error("the DMA queue is full");
        rt_error(RTE_SWERR);
    }
    stream.outstanding++;
}

static void stream_issue_reads(uint32_t q) {
    stream_transfer_t t[STREAM_MAX_TRANSFERS];
    uint32_t n = stream.job->reads(q, t);
    for (uint32_t i = 0; i < n; i++) {
        stream_transfer(STREAM_TAG_READ + (q & 1u), DMA_READ, &t[i]);
    }
    stream.reads_pending[q & 1u] += n;
}

static void stream_progress(void) {
    while (stream.active && stream.next_compute < stream.next_read
            && stream.reads_pending[stream.next_compute & 1u] == 0) {
        uint32_t q = stream.next_compute++;
        stream.job->compute(q);
        stream_transfer_t t[STREAM_MAX_TRANSFERS];
        uint32_t n = stream.job->writes(q, t);
        for (uint32_t i = 0; i < n; i++) {
            stream_transfer(STREAM_TAG_WRITE, DMA_WRITE, &t[i]);
        }
        stream.writes_pending += n;
        if (stream.next_read < stream.job->n_jobs) {
            stream_issue_reads(stream.next_read++);
        }
    }
    if (stream.active && stream.next_compute == stream.job->n_jobs
            && stream.writes_pending == 0) {
        stream.active = false;
        stream.job->done();
    }
}

static void stream_begin(const stream_job_t *job) {
    stream.job = job;
    stream.active = true;
    stream.next_read = 0;
    stream.next_compute = 0;
    stream.reads_pending[0] = stream.reads_pending[1] = 0;
    stream.writes_pending = 0;
    for (uint32_t q = 0; q < 2 && q < job->n_jobs; q++) {
        stream_issue_reads(stream.next_read++);
    }
    stream_progress();
}

// A cancelled stream's last transfer is done: what waited for it runs.
static void stream_drained(void) {
    if (stream.drained != NULL) {
        void (*drained)(void) = stream.drained;
        stream.drained = NULL;
        drained();
    }
    if (stream.deferred != NULL) {
        const stream_job_t *job = stream.deferred;
        stream.deferred = NULL;
        stream_begin(job);
    }
}

static void stream_dma_done(uint unused, uint tag) {
    (void) unused;
    stream.outstanding--;
    if (stream.stale > 0) {
        if (--stream.stale == 0) {
            stream_drained();
        }
        return;
    }
    if (tag == STREAM_TAG_WRITE) {
        stream.writes_pending--;
    } else {
        stream.reads_pending[tag - STREAM_TAG_READ]--;
    }
    stream_progress();
}

// Runs `job`; its done() is called once its last write is out.
static void stream_start(const stream_job_t *job) {
    if (stream.stale > 0) {
        stream.deferred = job;
    } else {
        stream_begin(job);
    }
}

// Forgets the running stream (and one waiting to start); `drained` runs
// once its transfers are done (at once if none is in flight), before any
// stream started meanwhile: a write-back still in flight would otherwise
// land on what `drained` resets.
static void stream_cancel(void (*drained)(void)) {
    stream.active = false;
    stream.deferred = NULL;
    stream.stale = stream.outstanding;
    stream.drained = drained;
    if (stream.stale == 0) {
        stream_drained();
    }
}

static void stream_init(void) {
    for (uint32_t tag = STREAM_TAG_READ; tag <= STREAM_TAG_WRITE; tag++) {
        simulation_dma_transfer_done_callback_on(tag, stream_dma_done);
    }
}

#endif
