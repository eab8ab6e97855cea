// The scheduler: how the machine's events are queued and run.  While the
// virtual clock is on, vm_clock.c times them; else vm_untimed.c runs
// them one time unit each (vm_sched.c chooses).
#ifndef SPIDNN_VM_SCHED_H
#define SPIDNN_VM_SCHED_H

#include <stdint.h>

#include "vm_event.h"

typedef struct vm vm_t;

// A queued callback for the running core (spin1_schedule_callback, a
// user event, a DMA's completion).
void vm_post(vm_t *vm, vm_event_t ev);
// A DMA transfer's completion for the running core, once `length` bytes
// have moved (vm_dma.c): as the next event, or with the clock on, when
// the core's DMA engine and its chip's SDRAM are free and done.
void vm_post_dma(vm_t *vm, vm_event_t ev, uint32_t length);
// A packet the running core sends into chip's router.
void vm_send(vm_t *vm, int32_t chip, uint32_t key, uint32_t payload,
             int has_payload);
// A packet the host gave a source core to send (it carries a payload).
void vm_host_send(vm_t *vm, int32_t source, uint32_t key, uint32_t payload);
// Runs until nothing is left to happen, or `budget` time units; a core's
// rt_error stops the machine (vm_stop_on_error).
int vm_run_until_quiet(vm_t *vm, uint64_t budget);
// Fires n timer ticks on the cores that asked for a timer.
int vm_fire_ticks(vm_t *vm, uint32_t n_ticks, uint64_t budget);
// Whether the untimed machine has work left after a run's budget ran out
// (the clock's events are not counted).
int vm_work_left(const vm_t *vm);
// After a core's rt_error, which jumps to a setjmp on vm->on_rt_error:
// everything still to happen is forgotten and the error names the core;
// VM_CORE_ERROR.
int vm_stop_on_error(vm_t *vm);

#endif
