// The end of a packet's way at a processor, the same under both
// schedulers: the clock (vm_clock.c) and the untimed machine
// (vm_queue.c) each call it, then run or queue the callback themselves.
#include <stdlib.h>

#include <spin1_api.h>
#include "vm_arrive.h"
#include "vm_chip.h"
#include "vm_faults.h"
#include "vm_machine.h"
#include "vm_stats.h"

static void record_output(vm_t *vm, uint32_t key, uint32_t payload) {
    if (vm->n_out == vm->cap_out) {
        vm->cap_out = vm->cap_out ? 2 * vm->cap_out : 1024;
        vm->out_keys = realloc(vm->out_keys, sizeof(uint32_t) * vm->cap_out);
        vm->out_payloads = realloc(
                vm->out_payloads, sizeof(uint32_t) * vm->cap_out);
    }
    vm->out_keys[vm->n_out] = key;
    vm->out_payloads[vm->n_out] = payload;
    vm->n_out++;
    vm->stats.gathered++;
}

int32_t vm_arrive(vm_t *vm, vm_chip_t *chip, uint32_t p, uint32_t key,
                  uint32_t payload, int has_payload) {
    int32_t c = p < VM_CORES_PER_CHIP ? chip->cores[p] : -1;
    if (c < 0 || vm->cores[c].kind == VM_CORE_SOURCE
            || vm->cores[c].errored) {
        vm->stats.dropped++;
        return -1;
    }
    vm_core_t *core = &vm->cores[c];
    core->received++;
    vm->stats.delivered++;
    vm_trace_delivery(core, key, payload, has_payload);
    if (core->kind == VM_CORE_GATHERER) {
        record_output(vm, key, payload);
        return -1;
    }
    uint32_t event = has_payload ? MCPL_PACKET_RECEIVED : MC_PACKET_RECEIVED;
    if (core->callbacks[event] == NULL) {
        return -1;   // no callback: the packet is lost, as on the chip
    }
    if (__builtin_expect(core->stall_at != 0, 0)) {
        vm_stall_check(vm, core);
    }
    return c;
}
