// What the faults keep in the machine (vm_faults.c): their settings,
// the packets they hold back, and their counts.
#ifndef SPIDNN_VM_FAULTS_STATE_H
#define SPIDNN_VM_FAULTS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "vm_packet.h"

// What the injected faults did, in the order of vm_get_fault_counts.
typedef struct vm_fault_counts {
    uint64_t dropped_random;        // drops at a router by drop_rate
    uint64_t dropped_targeted;      // drops by a rule (n-th packet)
    uint64_t dropped_dead_link;     // no way out, even around a dead link
    uint64_t emergency_routed;      // sent around a dead link
    uint64_t reinjected;            // dropped, captured and sent again
    uint64_t lost;                  // dropped and not captured: gone
    uint64_t delayed;               // held back at a router for a while
    uint64_t stalls;                // cores that stalled
} vm_fault_counts_t;
#define VM_N_FAULT_COUNTS 8

// Drop the nth (0 first) packet that cores send with key & mask == key
// for any rule of the group (a layer's partition: a rule per core).
typedef struct vm_drop_rule {
    uint32_t key, mask;
    uint32_t group;
    uint64_t nth;
} vm_drop_rule_t;

typedef struct vm_faults {
    uint32_t active;                // any fault configured
    uint64_t rng;                   // xorshift64* state
    uint32_t drop_threshold;        // drop when a draw is below it
    uint32_t delay_threshold;       // delay when a draw is below it
    uint32_t max_delay;             // time units, 1 .. max_delay
    uint32_t reinjection;           // the monitors reinject drops
    uint32_t has_stalls;            // some core has a stall configured
    vm_drop_rule_t *rules;
    uint32_t n_rules;
    uint64_t *group_seen;           // packets seen so far, per group
    uint32_t n_groups;
    int32_t *dropped_chips;         // chips whose register holds a packet
    uint32_t n_dropped_chips;
    uint32_t reinjecting;           // in vm_reinject (not re-entered)
    vm_packet_t *delayed;           // sorted by release time
    uint64_t *released_at;
    size_t n_delayed, cap_delayed;
    vm_fault_counts_t counts;
} vm_faults_t;

#endif
