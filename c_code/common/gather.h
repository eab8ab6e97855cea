// Gathering a vector of values that arrive one packet each, by the index
// the key gives (key_space.h), counting until the slice is complete.
#ifndef SPIDNN_GATHER_H
#define SPIDNN_GATHER_H

#include <stdint.h>
#include <stdbool.h>

#include "key_space.h"
#include "spidnn_math.h"

typedef struct gather_t {
    key_space_t space;     // the sending partition
    float *values;         // values[index - first]
    uint32_t first;        // the slice of indices kept: [first, first + n)
    uint32_t n;
    uint32_t received;     // of the slice, since it was last complete
} gather_t;

// What gather_receive did with a packet.
#define GATHER_NOT_MINE  0u   // the key is not in the space
#define GATHER_IGNORED   1u   // in the space, outside the slice
#define GATHER_STORED    2u
#define GATHER_COMPLETE  3u   // stored, and the slice is now complete

static inline void gather_init(gather_t *g, key_space_t space, float *values,
                               uint32_t first, uint32_t n) {
    *g = (gather_t) {space, values, first, n, 0};
}

// The whole sending partition, every index kept.
static inline void gather_init_all(gather_t *g, key_space_t space,
                                   float *values) {
    gather_init(g, space, values, 0, space.n_atoms);
}

// Forgets what arrived of an incomplete vector (after an abort).
static inline void gather_reset(gather_t *g) {
    g->received = 0;
}

static inline uint32_t gather_receive(gather_t *g, uint32_t key,
                                      uint32_t payload) {
    uint32_t index;
    if (!key_space_index(&g->space, key, &index)) {
        return GATHER_NOT_MINE;
    }
    if (index < g->first || index - g->first >= g->n) {
        return GATHER_IGNORED;
    }
    g->values[index - g->first] = bits_to_float(payload);
    if (++g->received < g->n) {
        return GATHER_STORED;
    }
    g->received = 0;
    return GATHER_COMPLETE;
}

#endif
