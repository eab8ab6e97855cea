// DMA between a core's SDRAM and its DTCM, with the simulation
// interface's per-tag completion callbacks.
//
// A transfer is carried out when it completes, not when it is asked for,
// and a core's transfers complete in the order asked for, as the spin1
// DMA queue runs them: an app that touches a buffer in flight sees what
// it would see on the chip.  With the clock on, a transfer waits for the
// core's DMA engine and for its chip's SDRAM, which the chip's cores share,
// and takes setup + bytes x byte time; with it off, it completes as the
// next event.
#include <stdlib.h>
#include <string.h>

#include <spin1_api.h>
#include <simulation.h>
#include <debug.h>
#include "vm_chip.h"
#include "vm_clock.h"
#include "vm_core.h"
#include "vm_dma.h"
#include "vm_machine.h"
#include "vm_sched.h"

#define VM_DMA_QUEUE        16      // spin1's DMA queue length

typedef struct vm_dma {
    uint32_t id, tag, direction, length;
    void *system_address, *tcm_address;
} vm_dma_t;

static void dma_complete(uint id, uint tag) {
    vm_core_t *core = vm_current_core();
    vm_dma_t t = core->dma[core->dma_head];
    core->dma_head = (core->dma_head + 1) % core->dma_cap;
    core->dma_len--;
    if (t.direction == DMA_READ) {
        memcpy(t.tcm_address, t.system_address, t.length);
    } else {
        memcpy(t.system_address, t.tcm_address, t.length);
    }
    callback_t cb = tag < VM_DMA_TAGS ? core->dma_callbacks[tag] : NULL;
    if (cb != NULL) {
        cb(id, tag);
    }
}

static int in_dtcm(const vm_core_t *core, const void *address, uint length) {
    const uint8_t *p = address;
    return core->dtcm != NULL && p >= core->dtcm
            && p + length <= core->dtcm + vm_active->dtcm_heap_bytes;
}

uint spin1_dma_transfer(uint tag, void *system_address, void *tcm_address,
                        uint direction, uint length) {
    vm_t *vm = vm_active;
    vm_core_t *core = vm_current_core();
    if (!in_dtcm(core, tcm_address, length)) {
        log_error("DMA of %u bytes to or from outside the core's DTCM",
                  length);
        rt_error(RTE_SWERR);
    }
    if (core->dma_len == VM_DMA_QUEUE) {
        return 0;        // spin1's queue is full
    }
    if (core->dma == NULL) {
        core->dma_cap = VM_DMA_QUEUE;
        core->dma = malloc(sizeof(vm_dma_t) * core->dma_cap);
    }
    uint32_t id = ++core->dma_ids;
    core->dma[(core->dma_head + core->dma_len++) % core->dma_cap] =
            (vm_dma_t) {id, tag, direction, length, system_address,
                        tcm_address};
    vm_event_t ev = {VM_EV_SCHEDULED, vm->current, id, tag, dma_complete};
    if (!vm->clock.on) {
        vm_post(vm, ev);
        return id;
    }
    vm_chip_t *chip = &vm->chips[core->chip];
    uint64_t start = vm_clock_core_time(vm);
    start = start > core->dma_free ? start : core->dma_free;
    start = start > chip->sdram_free ? start : chip->sdram_free;
    uint64_t busy = vm->clock.dma_setup_ps
            + (uint64_t) length * vm->clock.dma_byte_ps;
    core->dma_free = chip->sdram_free = start + busy;
    chip->sdram_busy_ps += busy;
    vm_clock_post(vm, ev, start + busy);
    return id;
}

bool simulation_dma_transfer_done_callback_on(uint tag, callback_t callback) {
    if (tag >= VM_DMA_TAGS) {
        return false;
    }
    vm_current_core()->dma_callbacks[tag] = callback;
    return true;
}

void vm_dma_clear(vm_t *vm) {
    for (int32_t i = 0; i < vm->n_cores; i++) {
        vm->cores[i].dma_head = vm->cores[i].dma_len = 0;
    }
}

void vm_dma_free(vm_t *vm) {
    for (int32_t i = 0; i < vm->n_cores; i++) {
        free(vm->cores[i].dma);
        vm->cores[i].dma = NULL;
    }
}
