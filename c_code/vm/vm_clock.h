// The virtual clock (vm_clock.c): the scheduler that times every event
// as a SpiNNaker board would; its host settings are vm_clock_api.c's.
#ifndef SPIDNN_VM_CLOCK_H
#define SPIDNN_VM_CLOCK_H

#include <stdint.h>

#include "vm_clock_state.h"
#include "vm_event.h"

typedef struct vm vm_t;

// A packet the running core sends.
void vm_clock_send(vm_t *vm, uint32_t key, uint32_t payload,
                   int has_payload);
// A packet the host gave a source core, which sends it in its turn.
void vm_clock_host_send(vm_t *vm, int32_t source, uint32_t key,
                        uint32_t payload);
// A queued callback for the running core, or a timer tick at `time`.
void vm_clock_post(vm_t *vm, vm_event_t ev, uint64_t time);
// A DMA transfer's completion for the running core (ev.core), `length`
// bytes: when the core's DMA engine and its chip's SDRAM have moved them.
void vm_clock_post_dma(vm_t *vm, vm_event_t ev, uint32_t length);
// Every timer core's next n_ticks ticks, each at its time.
void vm_clock_post_ticks(vm_t *vm, uint32_t n_ticks);
// The time the running core has reached in its callback.
uint64_t vm_clock_core_time(vm_t *vm);
// The host's packets of a pass leave once what came before has finished;
// a control round's time is counted apart.
void vm_clock_host_turn(vm_t *vm);
void vm_clock_control_begins(vm_t *vm);
void vm_clock_control_ends(vm_t *vm);
// Counts a finished pass (and the commit round run after it, if
// `committed`), and stops the clock once it has timed the passes
// vm_time_passes asked for (training: to the end of a batch).
void vm_clock_count_pass(vm_t *vm, int training, int committed);
// Runs events in time order until none is left (or `budget` callbacks).
int vm_clock_run(vm_t *vm, uint64_t budget);
// Forgets every event (a core stopped the machine).
void vm_clock_clear(vm_t *vm);
void vm_clock_free(vm_t *vm);

#endif
