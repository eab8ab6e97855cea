// A batch's sums added up along a chain of a layer's cores, in core order:
// core c adds its part to the running sums of cores 0 .. c-1 and passes
// them on (gradient_chain partition), and the last core's sums, which
// every core of the layer receives, are the totals.  The same additions
// in the same order whatever the packet timing, and, as each core adds
// its part in its elements' order, whatever the slicing: the layers whose
// weights every core shares (prelu's shared alphas) apply identical
// updates from them.  Packets per batch: n per core.
//
// The app defines app_chain_link (its part added to the running sums),
// calls chain_batch_end at its batch end, chain_abort on an abort, and
// gives its packets to chain_receive.
#ifndef SPIDNN_CHAIN_H
#define SPIDNN_CHAIN_H

#include "layer_core.h"

#define CHAIN_NO_CORE 0xFFFFFFFFu

// Adds this core's part to `sums`, the running sums of the cores before
// it; the first core's (`first`) hold nothing yet: it writes them.
static void app_chain_link(float *sums, bool first);

static float *chain_sums;        // the running sums, then this core's
static uint32_t chain_n;
static uint32_t chain_key;       // this core's first key
static bool chain_first;         // no core adds before this one
static gather_t chain_gather;    // the running sums from the previous core
static gather_t chain_total_gather;   // the totals from the last core
static bool chain_ready;         // this core's batch is complete
static bool chain_in_complete;   // the previous core's sums are all in

// `totals` (n floats) receives the totals; `previous` is the core adding
// before this one (CHAIN_NO_CORE: none), `last` the chain's last.
static void chain_setup(uint32_t key, key_space_t space, uint32_t previous,
                        uint32_t last, float *totals, uint32_t n) {
    chain_n = n;
    chain_key = key;
    chain_first = previous == CHAIN_NO_CORE;
    chain_sums = dtcm_alloc(n);
    if (!chain_first) {
        gather_init(&chain_gather, space, chain_sums, previous * n, n);
    }
    gather_init(&chain_total_gather, space, totals, last * n, n);
    chain_ready = false;
    chain_in_complete = false;
}

static void chain_pass(uint generation, uint unused) {
    (void) unused;
    if (stale(generation)) {
        return;
    }
    app_chain_link(chain_sums, chain_first);
    send_floats(chain_key, chain_sums, chain_n);
}

static void chain_totals_in(uint generation, uint unused) {
    (void) unused;
    if (!stale(generation)) {
        layer_update_ready();
    }
}

// The core's batch is complete: it passes the chain on once the running
// sums are in (the first at once); the update is ready with the totals.
static void chain_batch_end(void) {
    if (chain_first || chain_in_complete) {
        chain_in_complete = false;
        schedule(chain_pass, 0);
    } else {
        chain_ready = true;
    }
    control_waiting(WAITING_CHAIN);
}

static void chain_abort(void) {
    gather_reset(&chain_gather);
    gather_reset(&chain_total_gather);
    chain_ready = false;
    chain_in_complete = false;
}

// True if the packet is the chain's.
static bool chain_receive(uint32_t key, uint32_t payload) {
    uint32_t got = gather_receive(&chain_total_gather, key, payload);
    if (got == GATHER_COMPLETE) {
        schedule(chain_totals_in, 0);
    }
    if (got != GATHER_IGNORED) {
        return got != GATHER_NOT_MINE;
    }
    // A running sum: this core's to add to if it comes from the previous
    // core, else another link of the chain.
    if (!chain_first && gather_receive(&chain_gather, key, payload)
            == GATHER_COMPLETE) {
        if (chain_ready) {
            chain_ready = false;
            schedule(chain_pass, 0);
        } else {
            chain_in_complete = true;
        }
    }
    return true;
}

#endif
