// The untimed machine's event queue (vm_queue.c).
#ifndef SPIDNN_VM_QUEUE_H
#define SPIDNN_VM_QUEUE_H

#include <stdint.h>

#include "vm_chip.h"
#include "vm_event.h"
#include "vm_machine.h"

// Queues an event (a callback for a core) behind those before it.
void vm_untimed_post(vm_t *vm, vm_event_t ev);
// A packet reaches processor p of chip (vm_arrive): its core's callback
// runs at once if it pre-empts and the core is not stalled, else queued.
void vm_untimed_arrive(vm_t *vm, vm_chip_t *chip, uint32_t p, uint32_t key,
                       uint32_t payload, int has_payload);

// The next event queued (vm->q_len > 0), taken off the queue.
static inline vm_event_t vm_queue_take(vm_t *vm) {
    vm_event_t ev = vm->queue[vm->q_head];
    vm->q_head = (vm->q_head + 1) & (vm->q_cap - 1);
    vm->q_len--;
    return ev;
}

#endif
