// DMA between a core's SDRAM and its DTCM (vm_dma.c).
#ifndef SPIDNN_VM_DMA_H
#define SPIDNN_VM_DMA_H


typedef struct vm vm_t;

// Forgets the transfers in flight (a core stopped the machine).
void vm_dma_clear(vm_t *vm);
// Frees the transfers of a machine being freed.
void vm_dma_free(vm_t *vm);

#endif
