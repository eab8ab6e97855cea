// The faults the host configures (vm_api.h), and what they did; the
// faults themselves act in vm_faults.c.
#include <stdlib.h>
#include <string.h>

#include "vm_chip.h"
#include "vm_core.h"
#include "vm_faults.h"
#include "vm_machine.h"
#include "vm_api.h"

static uint32_t probability_threshold(float p) {
    if (!(p > 0.0f)) {
        return 0;
    }
    if (p >= 1.0f) {
        return UINT32_MAX;
    }
    return (uint32_t) (p * 4294967296.0f);
}

void vm_set_faults(vm_t *vm, uint64_t seed, float drop_rate,
                   float delay_rate, uint32_t max_delay,
                   uint32_t reinjection) {
    vm_faults_t *f = &vm->faults;
    // A zero state would stay zero: mix the seed first.
    f->rng = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    f->drop_threshold = probability_threshold(drop_rate);
    f->delay_threshold = probability_threshold(delay_rate);
    f->max_delay = max_delay ? max_delay : 1;
    f->reinjection = reinjection;
    f->active = 1;
}

int vm_add_drop_rule(vm_t *vm, uint32_t key, uint32_t mask, uint32_t group,
                     uint64_t nth) {
    vm_faults_t *f = &vm->faults;
    f->rules = realloc(f->rules, sizeof(vm_drop_rule_t) * (f->n_rules + 1));
    f->rules[f->n_rules++] = (vm_drop_rule_t) {key & mask, mask, group, nth};
    if (group >= f->n_groups) {
        f->group_seen = realloc(f->group_seen, sizeof(uint64_t) * (group + 1));
        memset(&f->group_seen[f->n_groups], 0,
               sizeof(uint64_t) * (group + 1 - f->n_groups));
        f->n_groups = group + 1;
    }
    f->active = 1;
    return 0;
}

int vm_set_link_down(vm_t *vm, int32_t chip, int32_t link) {
    if (chip < 0 || chip >= vm->n_chips || link < 0 || link >= VM_N_LINKS) {
        vm_fail(vm, "no link %d on chip index %d", link, chip);
        return -1;
    }
    vm->chips[chip].links_down |= 1u << link;
    vm->faults.active = 1;
    return 0;
}

int vm_set_stall(vm_t *vm, int32_t core, uint64_t at_packet,
                 uint64_t duration) {
    if (core < 0 || core >= vm->n_cores || at_packet == 0) {
        vm_fail(vm, "cannot stall core %d at packet %llu", core,
                (unsigned long long) at_packet);
        return -1;
    }
    vm->cores[core].stall_at = at_packet;
    vm->cores[core].stall_for = duration;
    vm->faults.has_stalls = 1;
    vm->faults.active = 1;
    return 0;
}

void vm_get_fault_counts(vm_t *vm, uint64_t *out) {
    memcpy(out, &vm->faults.counts, sizeof(vm_fault_counts_t));
}
