// The scheduler's interface (vm_sched.h): each operation goes to the
// virtual clock while it is on, else to the untimed machine.  What both
// share, the end of a packet's way at a processor, is vm_arrive.c's.
#include <setjmp.h>
#include <stdlib.h>

#include "vm_chip.h"
#include "vm_clock.h"
#include "vm_core.h"
#include "vm_dma.h"
#include "vm_machine.h"
#include "vm_queue.h"
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

void vm_post_dma(vm_t *vm, vm_event_t ev, uint32_t length) {
    if (vm->clock.on) {
        vm_clock_post_dma(vm, ev, length);
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
