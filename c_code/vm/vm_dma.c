// DMA between a core's SDRAM and its DTCM, with the simulation
// interface's per-tag completion callbacks.
//
// A transfer is carried out when it completes, not when it is asked for,
// and a core's transfers complete in the order asked for, as the spin1
// DMA queue runs them: an app that touches a buffer in flight sees what
// it would see on the chip.  With the clock on, a transfer waits for the
// core's DMA engine and for its chip's SDRAM, which the chip's cores share,
// and takes setup + bytes x byte time; with it off, it completes as the
// next event.  The spin1 call that asks for one is spin1_host.c's: it
// posts the completion through the scheduler, which forgets the transfers
// here when a core stops the machine.
#include <stdlib.h>
#include <string.h>

#include <spin1_api.h>
#include <simulation.h>
#include "vm_core.h"
#include "vm_dma.h"
#include "vm_machine.h"

#define VM_DMA_QUEUE        16      // spin1's DMA queue length

typedef struct vm_dma {
    uint32_t id, tag, direction, length;
    void *system_address, *tcm_address;
} vm_dma_t;

void vm_dma_complete(uint id, uint tag) {
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

int vm_dma_queue(vm_core_t *core, uint tag, void *system_address,
                 void *tcm_address, uint direction, uint length,
                 uint32_t *id_out) {
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
    *id_out = id;
    return 1;
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
