// The virtual clock (vm_clock.c): the scheduler that times every event
// as a SpiNNaker board would; its host settings are vm_clock_api.c's.
#ifndef SPIDNN_VM_CLOCK_H
#define SPIDNN_VM_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "spidnn_layouts.h"
#include "vm_event.h"

// After the apps' cost points: entering a packet callback and a queued one.
#define VM_COST_ENTRY_PACKET N_COST_POINTS
#define VM_COST_ENTRY_TASK   (N_COST_POINTS + 1)
#define VM_N_COST_LINES      (N_COST_POINTS + 2)

// An event at a virtual time; VM_EV_ROUTE: a packet leaving the router
// of chip ev.core (in: the link it came by, -1 from a core).
typedef struct vm_timed {
    uint64_t time, seq;
    vm_event_t ev;
    int32_t in;
    uint32_t has_payload, hops;
} vm_timed_t;

// The virtual clock's state and the fabric's timing (picoseconds).
typedef struct vm_clock {
    uint32_t on;                    // timing the events now
    uint32_t timed;                 // set up (vm_set_clock), maybe paused
    uint64_t hop_ps;                // a router's latency, in to out
    uint64_t link_ps;               // a link busy with a packet: 32 bits
    uint64_t link_payload_ps;       //   and with a payload: 64 bits
    uint64_t source_ps;             // between a source core's packets
    uint64_t dma_byte_ps;           // a chip's SDRAM busy per byte moved
    uint64_t dma_setup_ps;          // a DMA transfer's start
    vm_timed_t *heap;               // min-heap by (time, seq)
    size_t n, cap;
    uint64_t seq;                   // ties in time keep their order
    uint64_t now;                   // the time of the event running
    uint64_t host_time;             // when the host's next packets leave
    uint64_t last;                  // when the latest thing finished
    uint64_t router_visits, link_crossings;
    uint64_t control_ps;            // spent in the host's control rounds
    uint32_t in_control;            // a control round is running
    uint64_t passes, commits;       // timed passes and commit rounds
    uint64_t passes_run, commits_run;   // all of them, timed or not
    uint64_t timed_limit;           // passes to time (0: all), then stop
    uint32_t spent;                 // stopped after timed_limit passes
    // The timeline, while kept (vm_clock_log): per callback its core,
    // kind (VM_EV_*), start and end.
    uint64_t *log;
    size_t log_len, log_cap;
} vm_clock_t;

typedef struct vm vm_t;

// A packet the running core sends.
void vm_clock_send(vm_t *vm, uint32_t key, uint32_t payload,
                   int has_payload);
// A packet the host gave a source core, which sends it in its turn.
void vm_clock_host_send(vm_t *vm, int32_t source, uint32_t key,
                        uint32_t payload);
// A packet for core c's callback for `event`: run at once if it
// pre-empts, else queued.
void vm_clock_deliver(vm_t *vm, int32_t c, uint32_t event, uint32_t key,
                      uint32_t payload);
// A queued callback for the running core, or a timer tick at `time`.
void vm_clock_post(vm_t *vm, vm_event_t ev, uint64_t time);
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
