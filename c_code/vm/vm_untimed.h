// The untimed machine (vm_untimed.c): one of the scheduler's two
// implementations, behind vm_sched.h.
#ifndef SPIDNN_VM_UNTIMED_H
#define SPIDNN_VM_UNTIMED_H

#include <stdint.h>

#include <spin1_api.h>
#include "vm_event.h"

typedef struct vm vm_t;

void vm_untimed_post(vm_t *vm, vm_event_t ev);
// A packet for core c's callback cb (for `event`): run at once if it
// pre-empts and the core is not stalled, else queued.
void vm_untimed_deliver(vm_t *vm, int32_t c, uint32_t event, callback_t cb,
                        uint32_t key, uint32_t payload, int stalled);
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
