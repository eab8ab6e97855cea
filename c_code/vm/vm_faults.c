// Faults on demand, and the recovery the chip itself offers (the
// recovery, which sends packets on again, is vm_recovery.c's: the faults
// here act on a packet at a router, below the packets' way, which asks
// them).
//
// Drops: a router drops a packet (by a seeded draw per router visit, or by
// a rule naming the n-th packet of a partition).  As on SpiNNaker, a
// dropped packet lands in the router's dropped-packet register, which the
// monitor core reads and reinjects: here the monitors keep up with one
// packet at a time (they read the registers once a packet has been routed
// to all its destinations), so only a second drop at a router while that
// packet is on its way is lost for good, as is a packet reinjected too
// often, and everything when reinjection is off.  A dead link is routed around
// in hardware (emergency routing, vm_walk.c); if that fails the packet is
// dropped like any other.
//
// Delays hold a packet at a router for a few time units, which reorders
// it; stalls hold a core's events until its stall ends (or for good).
// Everything here draws from one seeded generator in event order, so a
// run with faults is as deterministic as one without.
#include <stdlib.h>

#include "vm_chip.h"
#include "vm_core_state.h"
#include "vm_faults.h"
#include "vm_machine.h"

#define VM_MAX_REINJECTIONS 16      // a packet reinjected more is given up

// xorshift64*: small, fast and good enough to pick which packets fail.
static uint32_t draw(vm_faults_t *f) {
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return (uint32_t) ((f->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

void vm_router_drop(vm_t *vm, const vm_packet_t *packet) {
    vm_faults_t *f = &vm->faults;
    vm_chip_t *chip = &vm->chips[packet->chip];
    if (f->reinjection && !chip->has_dropped
            && packet->retries < VM_MAX_REINJECTIONS) {
        chip->dropped = *packet;
        chip->has_dropped = 1;
        f->dropped_chips = realloc(f->dropped_chips,
                sizeof(int32_t) * (f->n_dropped_chips + 1));
        f->dropped_chips[f->n_dropped_chips++] = packet->chip;
        return;
    }
    f->counts.lost++;
    vm->stats.dropped++;
}

int vm_fault_at_source(vm_t *vm, const vm_packet_t *packet) {
    vm_faults_t *f = &vm->faults;
    for (uint32_t i = 0; i < f->n_rules; i++) {
        vm_drop_rule_t *rule = &f->rules[i];
        if ((packet->key & rule->mask) == rule->key) {
            if (f->group_seen[rule->group]++ == rule->nth) {
                f->counts.dropped_targeted++;
                vm_router_drop(vm, packet);
                return 1;
            }
            return 0;
        }
    }
    return 0;
}

static void delay(vm_t *vm, const vm_packet_t *packet, uint64_t release) {
    vm_faults_t *f = &vm->faults;
    if (f->n_delayed == f->cap_delayed) {
        f->cap_delayed = f->cap_delayed ? 2 * f->cap_delayed : 64;
        f->delayed = realloc(f->delayed, sizeof(vm_packet_t) * f->cap_delayed);
        f->released_at = realloc(f->released_at,
                                 sizeof(uint64_t) * f->cap_delayed);
    }
    // Keep the list sorted by release, first in first out among equals.
    size_t i = f->n_delayed;
    while (i > 0 && f->released_at[i - 1] > release) {
        f->delayed[i] = f->delayed[i - 1];
        f->released_at[i] = f->released_at[i - 1];
        i--;
    }
    f->delayed[i] = *packet;
    f->released_at[i] = release;
    f->n_delayed++;
    f->counts.delayed++;
}

int vm_fault_at_router(vm_t *vm, const vm_packet_t *packet) {
    vm_faults_t *f = &vm->faults;
    if (f->drop_threshold && draw(f) < f->drop_threshold) {
        f->counts.dropped_random++;
        vm_router_drop(vm, packet);
        return 1;
    }
    if (f->delay_threshold && draw(f) < f->delay_threshold) {
        delay(vm, packet, vm->now + 1 + draw(f) % f->max_delay);
        return 1;
    }
    return 0;
}

void vm_stall_check(vm_t *vm, vm_core_t *core) {
    if (core->stall_at != 0 && core->received == core->stall_at) {
        core->stalled_until = core->stall_for == VM_NEVER
                ? VM_NEVER : vm->now + core->stall_for;
        vm->faults.counts.stalls++;
    }
}

void vm_hold(vm_core_t *core, vm_event_t ev) {
    if (core->n_held == core->cap_held) {
        core->cap_held = core->cap_held ? 2 * core->cap_held : 64;
        core->held = realloc(core->held, sizeof(vm_event_t) * core->cap_held);
    }
    core->held[core->n_held++] = ev;
}

void vm_faults_free(vm_t *vm) {
    vm_faults_t *f = &vm->faults;
    free(f->rules);
    free(f->group_seen);
    free(f->dropped_chips);
    free(f->delayed);
    free(f->released_at);
    for (int32_t i = 0; i < vm->n_cores; i++) {
        free(vm->cores[i].held);
    }
}
