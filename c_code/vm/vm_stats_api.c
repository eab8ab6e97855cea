// The machine's counts and traces for the host (vm_api.h), which the
// parts of the machine keep as it runs (vm_stats.c).
#include <stdlib.h>
#include <string.h>

#include "vm_core.h"
#include "vm_machine.h"
#include "vm_stats.h"
#include "vm_api.h"

int vm_trace_core(vm_t *vm, int32_t core, uint32_t capacity) {
    if (core < 0 || core >= vm->n_cores) {
        vm_fail(vm, "no core %d to trace", core);
        return -1;
    }
    vm_core_t *c = &vm->cores[core];
    free(c->trace);
    c->trace = malloc(3 * sizeof(uint32_t) * (capacity ? capacity : 1));
    c->trace_len = 0;
    c->trace_cap = capacity;
    return 0;
}

uint32_t vm_get_trace(vm_t *vm, int32_t core, uint32_t n, uint32_t *keys,
                      uint32_t *payloads, uint32_t *has_payload) {
    vm_core_t *c = &vm->cores[core];
    uint32_t got = c->trace_len < n ? (uint32_t) c->trace_len : n;
    for (uint32_t i = 0; i < got; i++) {
        keys[i] = c->trace[3 * i];
        payloads[i] = c->trace[3 * i + 1];
        has_payload[i] = c->trace[3 * i + 2];
    }
    return (uint32_t) c->trace_len;
}

void vm_get_stats(vm_t *vm, uint64_t *sent, uint64_t *delivered,
                  uint64_t *dropped, uint64_t *events, uint64_t *gathered) {
    *sent = vm->stats.sent;
    *delivered = vm->stats.delivered;
    *dropped = vm->stats.dropped;
    *events = vm->stats.events;
    *gathered = vm->stats.gathered;
}

int vm_set_core_partitions(vm_t *vm, int32_t core, uint32_t n,
                           const uint32_t *keys, const uint32_t *masks) {
    if (core < 0 || core >= vm->n_cores || n > VM_MAX_PARTITIONS) {
        vm_fail(vm, "core %d cannot count %u partitions", core, n);
        return -1;
    }
    vm_core_t *c = &vm->cores[core];
    free(c->partitions);
    c->partitions = malloc(sizeof(vm_partition_t) * (n ? n : 1));
    for (uint32_t i = 0; i < n; i++) {
        c->partitions[i] = (vm_partition_t) {keys[i], masks[i], 0};
    }
    c->n_partitions = n;
    c->last_partition = 0;
    return 0;
}

void vm_get_partition_counts(vm_t *vm, int32_t core, uint64_t *out) {
    vm_core_t *c = &vm->cores[core];
    for (uint32_t i = 0; i < c->n_partitions; i++) {
        out[i] = c->partitions[i].sent;
    }
}

void vm_get_core_stats(vm_t *vm, int32_t core, uint64_t *out5) {
    vm_core_t *c = &vm->cores[core];
    out5[0] = c->sent;
    out5[1] = c->received;
    out5[2] = c->dtcm_used;
    out5[3] = c->errored;
    out5[4] = c->error_code;
}
