// Core-major delivery for the untimed machine.  A packet with a payload
// that reaches a chip's app cores (vm_trees.c) is written once into the
// chip's mail log with the set of its processors that take it; the event
// loop then runs a chip's log core by core, each core taking its packets
// in order.
//
// Delivering packet by packet visits every destination core per packet:
// its app copy's code and globals and its DTCM, which for a layer of 128
// cores no longer fit the host's first-level caches, so each delivery
// costs a few cache misses (perf: most of a training run).  Running one
// core's packets together keeps its state in cache, and one log entry
// per chip (not a copy per core) keeps a sample's packets in cache too.
//
// The order of callbacks changes (a core takes its packets in arrival
// order, but no longer interleaved with other cores' callbacks, and a
// packet no longer pre-empts the callback that sent it); the apps are
// written so that any order of their callbacks computes the same numbers
// (vm_clock.c runs them in yet another order).  Used only when nothing
// depends on the order: the clock is off and no fault is configured.
#include <stdlib.h>

#include "vm_chip.h"
#include "vm_core.h"
#include "vm_mailbox.h"
#include "vm_machine.h"
#include "vm_stats.h"

int vm_mail_start(vm_t *vm) {
    size_t n = (size_t) vm->n_chips;
    vm->ready = malloc(sizeof(int32_t) * (n ? n : 1));
    vm->mailboxes = calloc(n ? n : 1, sizeof(vm_mailbox_t));
    if (vm->ready == NULL || vm->mailboxes == NULL) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        for (uint32_t p = 0; p < VM_CORES_PER_CHIP; p++) {
            int32_t c = vm->chips[i].cores[p];
            if (c >= 0 && vm->cores[c].kind == VM_CORE_APP) {
                vm->mailboxes[i].app_procs |= 1u << p;
            }
        }
    }
    return 1;
}

void vm_mail(vm_t *vm, int32_t chip, uint32_t procs, uint32_t key,
             uint32_t payload) {
    vm_mailbox_t *box = &vm->mailboxes[chip];
    if (box->len == box->cap) {
        box->cap = box->cap ? 2 * box->cap : 1024;
        box->log = realloc(box->log, sizeof(vm_mail_t) * box->cap);
    }
    box->log[box->len++] = (vm_mail_t) {key, payload, procs};
    box->pending |= procs;
    if (!box->ready) {
        // Every chip is in the ready ring at most once: it never fills.
        box->ready = 1;
        vm->ready[(vm->r_head + vm->r_len++) % (size_t) vm->n_chips] = chip;
    }
}

// Core c (processor p) takes its packets of entries [from, to).
static void take(vm_t *vm, vm_mailbox_t *box, int32_t c, uint32_t p,
                 uint32_t from, uint32_t to) {
    vm_core_t *core = &vm->cores[c];
    if (core->errored) {
        return;   // it stopped: its packets are lost
    }
    uint32_t bit = 1u << p;
    uint64_t taken = 0, called = 0;
    vm->current = c;
    // By index: a callback may grow (move) the log.  The counts are added
    // after the loop, as nothing in it reads them.
    for (uint32_t i = from; i < to; i++) {
        if (!(box->log[i].procs & bit)) {
            continue;
        }
        vm_mail_t mail = box->log[i];
        taken++;
        vm_trace_delivery(core, mail.key, mail.payload, 1);
        callback_t cb = core->callbacks[MCPL_PACKET_RECEIVED];
        if (cb != NULL) {   // else the packet is lost, as on the chip
            called++;
            cb(mail.key, mail.payload);
        }
    }
    core->received += taken;
    vm->stats.delivered += taken;
    vm->now += taken;
    vm->stats.events += called;
    vm->current = -1;
}

// Runs the log of the next ready chip, in rounds: every core takes what
// was there at the round's start, and what they send to this chip
// meanwhile makes the next round.  An rt_error jumps out of here
// (vm_stop_on_error clears the rest).
void vm_mail_drain_next(vm_t *vm) {
    int32_t chip = vm->ready[vm->r_head];
    vm->r_head = (vm->r_head + 1) % (size_t) vm->n_chips;
    vm->r_len--;
    vm_mailbox_t *box = &vm->mailboxes[chip];
    uint32_t start = 0;
    while (start < box->len) {
        uint32_t end = box->len, procs = box->pending;
        box->pending = 0;
        for (; procs; procs &= procs - 1) {
            uint32_t p = (uint32_t) __builtin_ctz(procs);
            take(vm, box, vm->chips[chip].cores[p], p, start, end);
        }
        start = end;
    }
    box->len = 0;
    box->ready = 0;
}

void vm_mail_clear(vm_t *vm) {
    for (int32_t i = 0; vm->mailboxes != NULL && i < vm->n_chips; i++) {
        vm->mailboxes[i].len = 0;
        vm->mailboxes[i].pending = 0;
        vm->mailboxes[i].ready = 0;
    }
    vm->r_head = vm->r_len = 0;
}

void vm_mail_free(vm_t *vm) {
    for (int32_t i = 0; vm->mailboxes != NULL && i < vm->n_chips; i++) {
        free(vm->mailboxes[i].log);
    }
    free(vm->mailboxes);
    free(vm->ready);
}
