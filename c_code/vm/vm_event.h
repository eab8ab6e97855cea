// An event for a core: a callback waiting to run, on either scheduler.
#ifndef SPIDNN_VM_EVENT_H
#define SPIDNN_VM_EVENT_H

#include <stdint.h>

#include <spin1_api.h>

// The kinds number the clock's timeline too, which the host reads
// (spiDNN/vm/machine.py): keep their values.
enum { VM_EV_PACKET, VM_EV_PACKET_PAYLOAD, VM_EV_USER, VM_EV_SCHEDULED,
       VM_EV_TIMER, VM_EV_ROUTE, VM_EV_WAKE, VM_EV_SOURCE };

typedef struct vm_event {
    uint32_t kind;
    int32_t core;
    uint32_t a, b;
    callback_t cb;
} vm_event_t;

#endif
