// A packet's way on the untimed machine, by multicast trees (where a key
// sent from a chip goes, remembered) where they serve (vm_trees.c).
#ifndef SPIDNN_VM_TREES_H
#define SPIDNN_VM_TREES_H

#include <stdint.h>

#include "vm_packet.h"
#include "vm_untimed_state.h"

typedef struct vm vm_t;

// Routes a packet from the router it is at to every destination its key
// reaches (faults included), or by its key's tree when nothing can
// change the way.
void vm_route(vm_t *vm, const vm_packet_t *packet);
// Forgets every tree (the tables or links changed, or the machine goes).
void vm_trees_clear(vm_t *vm);

#endif
