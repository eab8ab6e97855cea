// The growing hash map of vm_map.h.
#include <stdlib.h>

#include "vm_map.h"

static void place(vm_map_t *map, uint64_t key, int32_t value) {
    uint32_t slot = vm_map_slot_of(key, map->size);
    while (map->slots[slot].value != VM_MAP_EMPTY) {
        slot = (slot + 1) & (map->size - 1);
    }
    map->slots[slot] = (vm_map_slot_t) {key, value};
    map->n++;
}

void vm_map_put(vm_map_t *map, uint64_t key, int32_t value) {
    if (2 * (map->n + 1) > map->size) {
        vm_map_t old = *map;
        map->size = old.size ? 2 * old.size : 1024;
        map->slots = malloc(sizeof(vm_map_slot_t) * map->size);
        for (uint32_t s = 0; s < map->size; s++) {
            map->slots[s].value = VM_MAP_EMPTY;
        }
        map->n = 0;
        for (uint32_t s = 0; s < old.size; s++) {
            if (old.slots[s].value != VM_MAP_EMPTY) {
                place(map, old.slots[s].key, old.slots[s].value);
            }
        }
        free(old.slots);
    }
    place(map, key, value);
}

void vm_map_clear(vm_map_t *map) {
    free(map->slots);
    *map = (vm_map_t) {NULL, 0, 0};
}
