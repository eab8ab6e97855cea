// Multicast trees: where a key sent from a chip goes, remembered for the
// untimed machine (vm_trees.c).
#ifndef SPIDNN_VM_TREES_H
#define SPIDNN_VM_TREES_H

#include <stdint.h>

#include "vm_untimed_state.h"

typedef struct vm vm_t;

// Delivers a packet with a payload that a core on chip sends, by the
// key's remembered tree; mail mode only.
void vm_tree_deliver(vm_t *vm, int32_t chip, uint32_t key,
                     uint32_t payload);
// Adds to the tree being worked out a chip whose `procs` take it.
void vm_tree_add_target(vm_t *vm, int32_t chip, uint32_t procs);
// Forgets every tree (the tables or links changed, or the machine goes).
void vm_trees_clear(vm_t *vm);

#endif
