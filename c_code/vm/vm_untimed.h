// The untimed machine (vm_untimed.c): one of the scheduler's two
// implementations, behind vm_sched.h; its event queue is vm_queue.h's.
#ifndef SPIDNN_VM_UNTIMED_H
#define SPIDNN_VM_UNTIMED_H

#include <stdint.h>

typedef struct vm vm_t;

// A packet a core or the host sends into chip's router.
void vm_untimed_send(vm_t *vm, int32_t chip, uint32_t key, uint32_t payload,
                     int has_payload);
// Whether mail or queued events are waiting.
int vm_untimed_busy(const vm_t *vm);
// Runs until nothing is left to happen, or until `budget` time units
// have passed (VM_TIMEOUT, with what was still to happen left in place,
// as it would be on a board).
int vm_untimed_run(vm_t *vm, uint64_t budget);
// Forgets every event and all mail (a core stopped the machine).
void vm_untimed_clear(vm_t *vm);
void vm_untimed_free(vm_t *vm);

#endif
