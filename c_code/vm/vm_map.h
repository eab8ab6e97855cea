// A hash map from 64-bit keys to int32 values that only grows (until
// cleared): the machine's memory of what it has worked out once, such as
// a router's answer for a key (vm_router.c) or a key's multicast tree
// (vm_trees.c).  Open addressing, at most half full, so probes stay short.
#ifndef SPIDNN_VM_MAP_H
#define SPIDNN_VM_MAP_H

#include <stdint.h>

#define VM_MAP_EMPTY INT32_MIN      // no value is this

typedef struct vm_map_slot {
    uint64_t key;
    int32_t value;                  // VM_MAP_EMPTY: a free slot
} vm_map_slot_t;

typedef struct vm_map {
    vm_map_slot_t *slots;
    uint32_t size, n;               // size: a power of two, or 0
} vm_map_t;

static inline uint32_t vm_map_slot_of(uint64_t key, uint32_t size) {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;   // Fibonacci hashing
    return (uint32_t) (h >> 32) & (size - 1);
}

// The value of key, or VM_MAP_EMPTY.
static inline int32_t vm_map_get(const vm_map_t *map, uint64_t key) {
    if (map->size == 0) {
        return VM_MAP_EMPTY;
    }
    uint32_t slot = vm_map_slot_of(key, map->size);
    while (map->slots[slot].value != VM_MAP_EMPTY) {
        if (map->slots[slot].key == key) {
            return map->slots[slot].value;
        }
        slot = (slot + 1) & (map->size - 1);
    }
    return VM_MAP_EMPTY;
}

// Sets the value of a key the map does not hold.
void vm_map_put(vm_map_t *map, uint64_t key, int32_t value);
void vm_map_clear(vm_map_t *map);

#endif
