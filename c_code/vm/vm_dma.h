// DMA between a core's SDRAM and its DTCM (vm_dma.c).
#ifndef SPIDNN_VM_DMA_H
#define SPIDNN_VM_DMA_H

#include <stdint.h>

#include <spin1_api.h>
#include "vm_core_state.h"

typedef struct vm vm_t;

// Queues a transfer on the core's DMA engine, which carries it out when
// it completes: false if spin1's queue is full, else true with its id.
int vm_dma_queue(vm_core_t *core, uint tag, void *system_address,
                 void *tcm_address, uint direction, uint length,
                 uint32_t *id_out);
// The running core's oldest transfer completes (the callback of the
// event that spin1_dma_transfer posts): it is carried out, then the
// tag's callback runs.
void vm_dma_complete(uint id, uint tag);

// Forgets the transfers in flight (a core stopped the machine).
void vm_dma_clear(vm_t *vm);
// Frees the transfers of a machine being freed.
void vm_dma_free(vm_t *vm);

#endif
