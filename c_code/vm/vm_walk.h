// A packet's way through the untimed machine's fabric (vm_walk.c).
#ifndef SPIDNN_VM_WALK_H
#define SPIDNN_VM_WALK_H

#include <stdint.h>

#include "vm_packet.h"
#include "vm_untimed_state.h"

typedef struct vm vm_t;

// Routes a packet from the router it is at to every destination its key
// reaches, router by router, faults included.
void vm_walk(vm_t *vm, const vm_packet_t *packet);
// Follows key from chip's router as vm_route would without faults, into
// `tree` (its targets and drops) rather than to the cores.
void vm_route_tree(vm_t *vm, int32_t chip, uint32_t key, vm_tree_t *tree);

#endif
