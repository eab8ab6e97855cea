// The scheduler's interface (vm_sched.h): each operation goes to the
// virtual clock while it is on, else to the untimed machine.  What both
// share, the end of a packet's way at a processor, is here.
#include <setjmp.h>
#include <stdlib.h>

#include "vm_chip.h"
#include "vm_clock.h"
#include "vm_core.h"
#include "vm_dma.h"
#include "vm_faults.h"
#include "vm_machine.h"
#include "vm_results.h"
#include "vm_sched.h"
#include "vm_stats.h"
#include "vm_untimed.h"

void vm_post(vm_t *vm, vm_event_t ev) {
    if (vm->clock.on) {
        vm_clock_post(vm, ev, vm_clock_core_time(vm));
    } else {
        vm_untimed_post(vm, ev);
    }
}

void vm_send(vm_t *vm, int32_t chip, uint32_t key, uint32_t payload,
             int has_payload) {
    if (vm->clock.on) {
        vm_clock_send(vm, key, payload, has_payload);
    } else {
        vm_untimed_send(vm, chip, key, payload, has_payload);
    }
}

void vm_host_send(vm_t *vm, int32_t source, uint32_t key,
                  uint32_t payload) {
    vm_core_t *src = &vm->cores[source];
    vm_count_sent(src, key);
    if (vm->clock.on) {
        vm_clock_host_send(vm, source, key, payload);
    } else {
        vm_untimed_send(vm, src->chip, key, payload, 1);
    }
}

static void record_output(vm_t *vm, uint32_t key, uint32_t payload) {
    if (vm->n_out == vm->cap_out) {
        vm->cap_out = vm->cap_out ? 2 * vm->cap_out : 1024;
        vm->out_keys = realloc(vm->out_keys, sizeof(uint32_t) * vm->cap_out);
        vm->out_payloads = realloc(
                vm->out_payloads, sizeof(uint32_t) * vm->cap_out);
    }
    vm->out_keys[vm->n_out] = key;
    vm->out_payloads[vm->n_out] = payload;
    vm->n_out++;
    vm->stats.gathered++;
}

void vm_deliver(vm_t *vm, vm_chip_t *chip, uint32_t p, uint32_t key,
                uint32_t payload, int has_payload) {
    int32_t c = p < VM_CORES_PER_CHIP ? chip->cores[p] : -1;
    if (c < 0 || vm->cores[c].kind == VM_CORE_SOURCE
            || vm->cores[c].errored) {
        vm->stats.dropped++;
        return;
    }
    vm_core_t *core = &vm->cores[c];
    core->received++;
    vm->stats.delivered++;
    vm_trace_delivery(core, key, payload, has_payload);
    if (core->kind == VM_CORE_GATHERER) {
        record_output(vm, key, payload);
        return;
    }
    uint32_t event = has_payload ? MCPL_PACKET_RECEIVED : MC_PACKET_RECEIVED;
    callback_t cb = core->callbacks[event];
    if (cb == NULL) {
        return;   // no callback: the packet is lost, as on the chip
    }
    int stalled = 0;
    if (__builtin_expect(core->stall_at != 0, 0)) {
        vm_stall_check(vm, core);
        stalled = core->stalled_until != 0;
    }
    if (vm->clock.on) {
        vm_clock_deliver(vm, c, event, key, payload);
    } else {
        vm_untimed_deliver(vm, c, event, cb, key, payload, stalled);
    }
}

int vm_run_until_quiet(vm_t *vm, uint64_t budget) {
    // One setjmp for the whole run, not one per callback: a core's
    // rt_error ends the run.
    if (setjmp(vm->on_rt_error) != 0) {
        return vm_stop_on_error(vm);
    }
    if (vm->clock.on) {
        return vm_clock_run(vm, budget);
    }
    return vm_untimed_run(vm, budget);
}

int vm_fire_ticks(vm_t *vm, uint32_t n_ticks, uint64_t budget) {
    if (vm->clock.on) {
        vm_clock_post_ticks(vm, n_ticks);
        return vm_run_until_quiet(vm, budget);
    }
    for (uint32_t t = 0; t < n_ticks; t++) {
        for (int32_t i = 0; i < vm->n_cores; i++) {
            vm_core_t *core = &vm->cores[i];
            if (core->kind == VM_CORE_APP && core->timer_period > 0
                    && core->callbacks[TIMER_TICK] != NULL) {
                vm_post(vm, (vm_event_t) {VM_EV_TIMER, i, t + 1, 0, NULL});
            }
        }
        int rc = vm_run_until_quiet(vm, budget);
        if (rc != VM_OK) {
            return rc;
        }
    }
    return VM_OK;
}

int vm_work_left(const vm_t *vm) {
    return vm_untimed_busy(vm);
}

int vm_stop_on_error(vm_t *vm) {
    int32_t failed = vm->current;
    vm->current = -1;
    vm->preemption_depth = 0;
    vm_untimed_clear(vm);
    vm_clock_clear(vm);
    vm_dma_clear(vm);
    return vm_core_error(vm, failed);
}
