// A core's callbacks: which one an event calls for, and running it as
// the core the spin1 calls answer for (vm_active->current).
#include <dlfcn.h>
#include <setjmp.h>

#include "vm_chip.h"
#include "vm_core.h"
#include "vm_machine.h"
#include "vm_results.h"

vm_core_t *vm_current_core(void) {
    return &vm_active->cores[vm_active->current];
}

// Runs one callback of a core; returns the core that called rt_error in
// it (itself, or one whose packet callback pre-empted it), or -1.
static int32_t guarded_call(vm_t *vm, int32_t core, callback_t cb,
                            uint a, uint b) {
    int32_t failed = -1;
    vm->current = core;
    vm->stats.events++;
    if (setjmp(vm->on_rt_error) == 0) {
        cb(a, b);
    } else {
        failed = vm->current;
        vm->preemption_depth = 0;
    }
    vm->current = -1;
    return failed;
}

static void run_c_main(uint a, uint b) {
    (void) a; (void) b;
    void (*c_main)(void);
    *(void **) &c_main = dlsym(vm_current_core()->handle, "c_main");
    c_main();
}

int32_t vm_core_run_main(vm_t *vm, int32_t core) {
    return guarded_call(vm, core, run_c_main, 0, 0);
}

callback_t vm_event_callback(const vm_core_t *core, vm_event_t ev) {
    if (core->errored) {
        return NULL;
    }
    switch (ev.kind) {
    case VM_EV_PACKET_PAYLOAD:
        return core->callbacks[MCPL_PACKET_RECEIVED];
    case VM_EV_PACKET:
        return core->callbacks[MC_PACKET_RECEIVED];
    case VM_EV_USER:
        return core->callbacks[USER_EVENT];
    case VM_EV_TIMER:
        return core->callbacks[TIMER_TICK];
    default:
        return ev.cb;
    }
}

void vm_run_event(vm_t *vm, vm_event_t ev) {
    vm->now++;
    callback_t cb = vm_event_callback(&vm->cores[ev.core], ev);
    if (cb == NULL) {
        return;   // no callback: the event is lost, as on the chip
    }
    vm->current = ev.core;
    vm->stats.events++;
    cb(ev.a, ev.b);
    vm->current = -1;
}

int vm_core_error(vm_t *vm, int32_t index) {
    vm_core_t *core = &vm->cores[index];
    vm_chip_t *chip = &vm->chips[core->chip];
    vm_fail(vm, "core (%d, %d, %d) stopped with run-time error %u: %s",
            chip->x, chip->y, core->p, core->error_code, core->last_error);
    return VM_CORE_ERROR;
}
