// The chip's recovery from faults on the untimed machine (vm_faults.c
// says which): the monitors reinject the packets the routers captured,
// delayed packets go on when due, and a stalled core runs what it held
// once its stall ends.  It sends packets on their way again, so it stands
// above that way (vm_trees.c, vm_walk.c), which the faults stand below.
#include <string.h>

#include "vm_chip.h"
#include "vm_core.h"
#include "vm_machine.h"
#include "vm_recovery.h"
#include "vm_trees.h"

// A core whose stall has ended runs its held events, in order.
static uint64_t release_stalls(vm_t *vm) {
    uint64_t next = VM_NEVER;
    for (int32_t i = 0; i < vm->n_cores; i++) {
        vm_core_t *core = &vm->cores[i];
        if (core->stall_at == 0 || core->stalled_until == 0) {
            continue;
        }
        if (core->stalled_until > vm->now) {
            if (core->n_held > 0 && core->stalled_until < next) {
                next = core->stalled_until;
            }
            continue;
        }
        // Still holding while it works through what it held, so a packet
        // that arrives meanwhile waits behind the older ones.
        core->stalled_until = VM_NEVER;
        for (size_t k = 0; k < core->n_held; k++) {
            vm_run_event(vm, core->held[k]);
        }
        core->n_held = 0;
        core->stalled_until = 0;
    }
    return next;
}

void vm_reinject(vm_t *vm) {
    vm_faults_t *f = &vm->faults;
    // A reinjected packet's callbacks send packets of their own: what they
    // drop waits for this loop, not a nested one.
    if (f->reinjecting) {
        return;
    }
    f->reinjecting = 1;
    while (f->n_dropped_chips > 0) {
        vm_chip_t *chip = &vm->chips[f->dropped_chips[--f->n_dropped_chips]];
        vm_packet_t packet = chip->dropped;
        chip->has_dropped = 0;
        packet.retries++;
        f->counts.reinjected++;
        vm_route(vm, &packet);
    }
    f->reinjecting = 0;
}

uint64_t vm_faults_release(vm_t *vm) {
    vm_faults_t *f = &vm->faults;
    vm_reinject(vm);
    while (f->n_delayed > 0 && f->released_at[0] <= vm->now) {
        vm_packet_t packet = f->delayed[0];
        f->n_delayed--;
        memmove(f->delayed, &f->delayed[1], sizeof(vm_packet_t) * f->n_delayed);
        memmove(f->released_at, &f->released_at[1],
                sizeof(uint64_t) * f->n_delayed);
        vm_route(vm, &packet);
    }
    uint64_t next = f->has_stalls ? release_stalls(vm) : VM_NEVER;
    if (f->n_dropped_chips > 0) {
        next = vm->now;
    }
    if (f->n_delayed > 0 && f->released_at[0] < next) {
        next = f->released_at[0];
    }
    return next;
}
