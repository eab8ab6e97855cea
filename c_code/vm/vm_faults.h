// Faults on demand (vm_faults.c; the chip's recovery from them:
// vm_recovery.h; the host's settings: vm_faults_api.c).
#ifndef SPIDNN_VM_FAULTS_H
#define SPIDNN_VM_FAULTS_H

#include <stdint.h>

#include "vm_core_state.h"
#include "vm_event.h"
#include "vm_faults_state.h"
#include "vm_packet.h"

typedef struct vm vm_t;

// Each returns true if it took the packet.
int vm_fault_at_router(vm_t *vm, const vm_packet_t *packet);
int vm_fault_at_source(vm_t *vm, const vm_packet_t *packet);
void vm_router_drop(vm_t *vm, const vm_packet_t *packet);
// A core's stall begins with the packet it is set for (vm_set_stall).
void vm_stall_check(vm_t *vm, vm_core_t *core);
// Keeps an event for a stalled core, which runs it once the stall ends
// (vm_recovery.c).
void vm_hold(vm_core_t *core, vm_event_t ev);
void vm_faults_free(vm_t *vm);

#endif
