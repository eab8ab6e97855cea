// What a core does: run its callbacks as the core the spin1 calls answer
// for (vm_core.c).  Its state is vm_core_state.h's.
#ifndef SPIDNN_VM_CORE_H
#define SPIDNN_VM_CORE_H

#include <stdint.h>

#include <spin1_api.h>
#include "vm_core_state.h"
#include "vm_event.h"

typedef struct vm vm_t;

// The core running a callback.
vm_core_t *vm_current_core(void);
// Runs core's c_main; the core that called rt_error in it, or -1.
int32_t vm_core_run_main(vm_t *vm, int32_t core);
// Names the core that stopped with rt_error in the machine's error;
// VM_CORE_ERROR.
int vm_core_error(vm_t *vm, int32_t index);
// The callback an event calls for on its core; NULL if none, or if the
// core has stopped.
callback_t vm_event_callback(const vm_core_t *core, vm_event_t ev);
// Runs an event's callback on its core, whether or not the core stalls.
void vm_run_event(vm_t *vm, vm_event_t ev);

#endif
