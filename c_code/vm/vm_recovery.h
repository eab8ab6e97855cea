// The chip's recovery from faults on the untimed machine (vm_recovery.c).
#ifndef SPIDNN_VM_RECOVERY_H
#define SPIDNN_VM_RECOVERY_H

#include <stdint.h>

typedef struct vm vm_t;

// The monitors reinject what the routers captured.
void vm_reinject(vm_t *vm);
// Reinjects captured drops and releases what is due; the time of the next
// release, or VM_NEVER.
uint64_t vm_faults_release(vm_t *vm);

#endif
