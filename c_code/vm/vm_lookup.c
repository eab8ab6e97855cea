// A router's table lookup: the first entry whose key matches under its
// mask, as in the SpiNNaker router's TCAM.
//
// Each chip remembers the answer for every key it has looked up
// (vm_map.h; forgotten when the table changes), so a key costs one scan
// of the table the first time and one probe after.  A fixed cache of
// 1024 slots could not hold a 2-D split layer's keys (thousands a sample
// through one chip): perf showed a quarter of a run in rescanning tables
// of hundreds of entries.
#include <stdlib.h>

#include "vm_internal.h"

static int32_t scan(const vm_chip_t *chip, uint32_t key) {
    for (uint32_t i = 0; i < chip->n_routes; i++) {
        if ((key & chip->routes[i].mask) == chip->routes[i].key) {
            return (int32_t) i;
        }
    }
    return -1;
}

int32_t vm_lookup(vm_chip_t *chip, uint32_t key) {
    int32_t found = vm_map_get(&chip->seen, key);
    if (found == VM_MAP_EMPTY) {
        found = scan(chip, key);
        vm_map_put(&chip->seen, key, found);
    }
    return found;
}

void vm_routes_changed(vm_t *vm, vm_chip_t *chip) {
    vm_map_clear(&chip->seen);
    vm_trees_clear(vm);
}

void vm_routes_free(vm_chip_t *chip) {
    vm_map_clear(&chip->seen);
    free(chip->routes);
    chip->routes = NULL;
}
