// Faults on demand and the chip's recovery from them (vm_faults.c; the
// host's settings: vm_faults_api.c).
#ifndef SPIDNN_VM_FAULTS_H
#define SPIDNN_VM_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "vm_core.h"
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

typedef struct vm vm_t;

// Each returns true if it took the packet.
int vm_fault_at_router(vm_t *vm, const vm_packet_t *packet);
int vm_fault_at_source(vm_t *vm, const vm_packet_t *packet);
void vm_router_drop(vm_t *vm, const vm_packet_t *packet);
// The monitors reinject what the routers captured.
void vm_reinject(vm_t *vm);
// Reinjects captured drops and releases what is due; the time of the next
// release, or VM_NEVER.
uint64_t vm_faults_release(vm_t *vm);
void vm_stall_check(vm_t *vm, vm_core_t *core);
void vm_hold(vm_core_t *core, vm_event_t ev);
void vm_faults_free(vm_t *vm);

#endif
