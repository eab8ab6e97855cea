// The untimed machine: callbacks run one at a time in arrival order, one
// time unit each (so runs are deterministic), from its event queue
// (vm_queue.c), packets routed hop by hop (vm_walk.c) or, with no fault
// configured, core by core through the chips' mail logs (vm_mailbox.c),
// and the chip's recovery from faults between events (vm_recovery.c).
#include <stdlib.h>

#include "vm_core.h"
#include "vm_faults.h"
#include "vm_machine.h"
#include "vm_mailbox.h"
#include "vm_packet.h"
#include "vm_queue.h"
#include "vm_recovery.h"
#include "vm_results.h"
#include "vm_trees.h"
#include "vm_untimed.h"

void vm_untimed_send(vm_t *vm, int32_t chip, uint32_t key, uint32_t payload,
                     int has_payload) {
    vm->stats.sent++;
    vm_packet_t packet = {key, payload, (uint32_t) has_payload, chip, -1, -1,
                          0};
    if (vm->faults.n_rules == 0 || !vm_fault_at_source(vm, &packet)) {
        vm_route(vm, &packet);
    }
    if (vm->faults.n_dropped_chips > 0) {
        vm_reinject(vm);
    }
}

static void dispatch(vm_t *vm, vm_event_t ev) {
    vm_core_t *core = &vm->cores[ev.core];
    if (core->stalled_until > vm->now) {
        vm_hold(core, ev);   // it runs when the stall ends
        return;
    }
    vm_run_event(vm, ev);
}

int vm_untimed_busy(const vm_t *vm) {
    return vm->r_len > 0 || vm->q_len > 0;
}

int vm_untimed_run(vm_t *vm, uint64_t budget) {
    uint64_t start = vm->now;
    for (;;) {
        uint64_t next = vm->faults.active ? vm_faults_release(vm) : VM_NEVER;
        if (vm_untimed_busy(vm) && vm->now - start >= budget) {
            vm_fail(vm, "the pass did not finish within %llu time units",
                    (unsigned long long) budget);
            return VM_TIMEOUT;
        }
        if (vm->r_len > 0) {
            // Packets first, as their callbacks would pre-empt.
            vm_mail_drain_next(vm);
            continue;
        }
        if (vm->q_len == 0) {
            if (next == VM_NEVER) {
                return VM_OK;
            }
            // Idle until a delayed packet or a stall's end.
            if (next - start >= budget) {
                vm->now = start + budget;
                vm_fail(vm, "the pass did not finish within %llu time units",
                        (unsigned long long) budget);
                return VM_TIMEOUT;
            }
            if (next > vm->now) {
                vm->now = next;
            }
            continue;
        }
        dispatch(vm, vm_queue_take(vm));
    }
}

void vm_untimed_clear(vm_t *vm) {
    vm->q_len = 0;
    vm_mail_clear(vm);
}

void vm_untimed_free(vm_t *vm) {
    free(vm->queue);
    vm_mail_free(vm);
    vm_trees_clear(vm);
}
