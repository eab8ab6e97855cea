// What the machine counts as it runs (vm_stats.c; the host reads it
// through vm_stats_api.c).
#ifndef SPIDNN_VM_STATS_H
#define SPIDNN_VM_STATS_H

#include <stdint.h>

#include "vm_core_state.h"

typedef struct vm_stats {
    uint64_t sent;                  // packets sent by cores and sources
    uint64_t delivered;             // packets that reached a core
    uint64_t dropped;               // packets lost (no route, no core...)
    uint64_t events;                // callbacks run
    uint64_t gathered;              // packets that reached a gatherer
} vm_stats_t;

// Counts a packet a core sends, in total and by partition.
void vm_count_sent(vm_core_t *core, uint32_t key);

// Records a packet delivered to a core while it is traced (for the
// calibration that replays a core's packets on the ARM build).
static inline void vm_trace_delivery(vm_core_t *core, uint32_t key,
                                     uint32_t payload, int has_payload) {
    if (__builtin_expect(core->trace != NULL, 0)
            && core->trace_len < core->trace_cap) {
        uint32_t *at = &core->trace[3 * core->trace_len++];
        at[0] = key;
        at[1] = payload;
        at[2] = (uint32_t) has_payload;
    }
}

#endif
