// Building the machine (vm_build.c), beyond what the host calls itself.
#ifndef SPIDNN_VM_BUILD_H
#define SPIDNN_VM_BUILD_H

typedef struct vm vm_t;

// Every core's DTCM heap, once every core is added; VM_OK or VM_BAD_CALL.
int vm_allocate_dtcm(vm_t *vm);

#endif
