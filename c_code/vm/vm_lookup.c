// A router's table lookup: the first entry whose key matches under its
// mask, as in the SpiNNaker router's TCAM.
//
// Each chip remembers the answer for every key it has looked up, in a
// hash table that grows as keys come (cleared when the table changes), so
// a key costs one scan of the table the first time and one probe after.
// A fixed cache of 1024 slots could not hold a 2-D split layer's keys
// (thousands a sample through one chip): perf showed a quarter of a run
// in rescanning tables of hundreds of entries.
#include <stdlib.h>

#include "vm_internal.h"

#define EMPTY INT32_MIN

static inline uint32_t slot_of(uint32_t key, uint32_t size) {
    uint32_t h = key * 2654435769u;   // Fibonacci hashing
    return (h ^ (h >> 16)) & (size - 1);
}

static int32_t scan(const vm_chip_t *chip, uint32_t key) {
    for (uint32_t i = 0; i < chip->n_routes; i++) {
        if ((key & chip->routes[i].mask) == chip->routes[i].key) {
            return (int32_t) i;
        }
    }
    return -1;
}

static void put(vm_chip_t *chip, uint32_t key, int32_t entry) {
    uint32_t slot = slot_of(key, chip->seen_size);
    while (chip->seen[slot].entry != EMPTY) {
        slot = (slot + 1) & (chip->seen_size - 1);
    }
    chip->seen[slot] = (vm_seen_t) {key, entry};
    chip->seen_n++;
}

// Doubles the table of answers (at most half full, so probes stay short).
static void grow(vm_chip_t *chip) {
    uint32_t old_size = chip->seen_size;
    vm_seen_t *old = chip->seen;
    chip->seen_size = old_size ? 2 * old_size : 1024;
    chip->seen = malloc(sizeof(vm_seen_t) * chip->seen_size);
    for (uint32_t s = 0; s < chip->seen_size; s++) {
        chip->seen[s].entry = EMPTY;
    }
    chip->seen_n = 0;
    for (uint32_t s = 0; s < old_size; s++) {
        if (old[s].entry != EMPTY) {
            put(chip, old[s].key, old[s].entry);
        }
    }
    free(old);
}

int32_t vm_lookup(vm_chip_t *chip, uint32_t key) {
    if (chip->seen_size > 0) {
        uint32_t slot = slot_of(key, chip->seen_size);
        while (chip->seen[slot].entry != EMPTY) {
            if (chip->seen[slot].key == key) {
                return chip->seen[slot].entry;
            }
            slot = (slot + 1) & (chip->seen_size - 1);
        }
    }
    int32_t found = scan(chip, key);
    if (2 * (chip->seen_n + 1) > chip->seen_size) {
        grow(chip);
    }
    put(chip, key, found);
    return found;
}

void vm_routes_changed(vm_chip_t *chip) {
    free(chip->seen);
    chip->seen = NULL;
    chip->seen_size = chip->seen_n = 0;
}

void vm_routes_free(vm_chip_t *chip) {
    vm_routes_changed(chip);
    free(chip->routes);
    chip->routes = NULL;
}
