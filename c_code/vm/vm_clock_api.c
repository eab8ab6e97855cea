// The virtual clock's settings and readings for the host (vm_api.h): the
// fabric's timing, each core's cost lines, which passes to time, and
// what it measured (vm_clock.c keeps the time).
#include <stdlib.h>
#include <string.h>

#include "vm_chip.h"
#include "vm_clock.h"
#include "vm_core.h"
#include "vm_machine.h"
#include "vm_api.h"

void vm_set_clock(vm_t *vm, uint64_t hop_ps, uint64_t link_ps,
                  uint64_t link_payload_ps, uint64_t source_ps,
                  uint64_t dma_byte_ps, uint64_t dma_setup_ps) {
    vm->clock.on = 1;
    vm->clock.timed = 1;
    vm->clock.dma_byte_ps = dma_byte_ps;
    vm->clock.dma_setup_ps = dma_setup_ps;
    vm->clock.hop_ps = hop_ps;
    vm->clock.link_ps = link_ps;
    vm->clock.link_payload_ps = link_payload_ps;
    vm->clock.source_ps = source_ps;
}

int vm_set_core_costs(vm_t *vm, int32_t core, uint32_t n_lines,
                      const uint64_t *base_ps, const uint64_t *slope_ps) {
    if (core < 0 || core >= vm->n_cores || n_lines != VM_N_COST_LINES) {
        vm_fail(vm, "core %d: %u cost lines given, %u expected", core,
                n_lines, VM_N_COST_LINES);
        return -1;
    }
    vm_core_t *c = &vm->cores[core];
    if (c->app_lines == NULL) {
        vm_fail(vm, "core %d's app has no cost points (cost.h)", core);
        return -1;
    }
    if (c->costs == NULL) {
        c->costs = malloc(sizeof(vm_cost_line_t) * VM_N_COST_LINES);
    }
    for (uint32_t i = 0; i < n_lines; i++) {
        c->costs[i] = (vm_cost_line_t) {base_ps[i], slope_ps[i]};
    }
    *c->app_lines = c->costs;
    return 0;
}

void vm_clock_log(vm_t *vm, uint32_t capacity) {
    free(vm->clock.log);
    vm->clock.log = malloc(4 * sizeof(uint64_t) * (capacity ? capacity : 1));
    vm->clock.log_len = 0;
    vm->clock.log_cap = capacity;
}

uint32_t vm_get_clock_log(vm_t *vm, uint32_t n, uint64_t *out) {
    uint32_t got = vm->clock.log_len < n ? (uint32_t) vm->clock.log_len : n;
    memcpy(out, vm->clock.log, 4 * sizeof(uint64_t) * got);
    return (uint32_t) vm->clock.log_len;
}

void vm_pause_clock(vm_t *vm, uint32_t paused) {
    vm->clock.on = vm->clock.timed && !vm->clock.spent && !paused;
}

void vm_time_passes(vm_t *vm, uint64_t n) {
    vm->clock.timed_limit = n;
}

void vm_get_clock(vm_t *vm, uint64_t *out9) {
    out9[0] = vm->clock.timed;
    out9[1] = vm->clock.last;
    out9[2] = vm->clock.control_ps;
    out9[3] = vm->clock.router_visits;
    out9[4] = vm->clock.link_crossings;
    out9[5] = vm->clock.passes;
    out9[6] = vm->clock.commits;
    out9[7] = vm->clock.passes_run;
    out9[8] = vm->clock.commits_run;
}

void vm_get_core_clock(vm_t *vm, int32_t core, uint64_t *out3) {
    out3[0] = vm->cores[core].busy_ps;
    out3[1] = vm->cores[core].fiq_ps;
    out3[2] = vm->cores[core].control_busy_ps;
}

// Per link of a chip: busy picoseconds then packets (out12).
void vm_get_link_clock(vm_t *vm, int32_t chip, uint64_t *out12) {
    for (int l = 0; l < VM_N_LINKS; l++) {
        out12[l] = vm->chips[chip].link_busy_ps[l];
        out12[VM_N_LINKS + l] = vm->chips[chip].link_packets[l];
    }
}
