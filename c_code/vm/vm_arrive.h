// A packet's arrival at a processor (vm_arrive.c): what both schedulers
// share at the end of a packet's way, before each runs or queues the
// core's callback in its own way.
#ifndef SPIDNN_VM_ARRIVE_H
#define SPIDNN_VM_ARRIVE_H

#include <stdint.h>

#include "vm_chip.h"

typedef struct vm vm_t;

// A packet reaches processor p of chip: it is counted and traced, a
// gatherer's is kept for the host, and a stall due at this packet
// begins.  The app core whose packet callback is to take it, or -1 if
// the packet ends here (no core, a source or a stopped core: dropped; a
// gatherer's; no callback: lost, as on the chip).
int32_t vm_arrive(vm_t *vm, vm_chip_t *chip, uint32_t p, uint32_t key,
                  uint32_t payload, int has_payload);

#endif
