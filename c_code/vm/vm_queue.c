// The untimed machine's event queue: callbacks wait their turn in one
// FIFO for the whole machine, except a packet callback that pre-empts,
// which runs as its packet arrives.  Below the packets' way (vm_walk.c,
// vm_trees.c), which ends here, and the run (vm_untimed.c), which takes
// the queue in turn.
#include <stdlib.h>

#include <spin1_api.h>
#include "vm_arrive.h"
#include "vm_core.h"
#include "vm_machine.h"
#include "vm_queue.h"

#define VM_MAX_PREEMPTION   64      // nested pre-empting packet callbacks

// Doubles the ring buffer, unrolling it to start at index 0.
static void grow_queue(vm_t *vm) {
    size_t cap = vm->q_cap ? 2 * vm->q_cap : 4096;
    vm_event_t *q = malloc(sizeof(vm_event_t) * cap);
    for (size_t i = 0; i < vm->q_len; i++) {
        q[i] = vm->queue[(vm->q_head + i) & (vm->q_cap - 1)];
    }
    free(vm->queue);
    vm->queue = q;
    vm->q_head = 0;
    vm->q_cap = cap;
}

static inline void enqueue(vm_t *vm, vm_event_t ev) {
    if (__builtin_expect(vm->q_len == vm->q_cap, 0)) {
        grow_queue(vm);
    }
    // The capacity is a power of two: wrap with a mask.
    vm->queue[(vm->q_head + vm->q_len) & (vm->q_cap - 1)] = ev;
    vm->q_len++;
}

void vm_untimed_post(vm_t *vm, vm_event_t ev) {
    enqueue(vm, ev);
}

void vm_untimed_arrive(vm_t *vm, vm_chip_t *chip, uint32_t p, uint32_t key,
                       uint32_t payload, int has_payload) {
    int32_t c = vm_arrive(vm, chip, p, key, payload, has_payload);
    if (c < 0) {
        return;
    }
    vm_core_t *core = &vm->cores[c];
    uint32_t event = has_payload ? MCPL_PACKET_RECEIVED : MC_PACKET_RECEIVED;
    callback_t cb = core->callbacks[event];
    // vm_arrive began any stall due at this packet.
    int stalled = core->stall_at != 0 && core->stalled_until != 0;
    if (core->priorities[event] <= 0 && !stalled
            && vm->preemption_depth < VM_MAX_PREEMPTION) {
        // A FIQ or IRQ callback pre-empts whatever the core is running,
        // as on the chip: run it now, then resume the interrupted core.
        int32_t interrupted = vm->current;
        vm->current = c;
        vm->preemption_depth++;
        vm->stats.events++;
        cb(key, payload);
        vm->preemption_depth--;
        vm->current = interrupted;
        return;
    }
    enqueue(vm, (vm_event_t) {
        event == MCPL_PACKET_RECEIVED ? VM_EV_PACKET_PAYLOAD : VM_EV_PACKET,
        c, key, payload, NULL});
}
