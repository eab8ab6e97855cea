// The virtual clock's state (vm_clock.c keeps it in the machine): the
// fabric's timing, the heap of timed events and what it has measured.
#ifndef SPIDNN_VM_CLOCK_STATE_H
#define SPIDNN_VM_CLOCK_STATE_H

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

// Events posted in order of (time, seq): a core's packets sent from its
// packet callbacks, or from its queued ones, and a link's packets each
// leave later than the one before, so each such stream is a FIFO, and
// the clock takes the earliest of the FIFOs' heads and the heap's top.
// Most events then cost an append and no heap operation (vm_clock.c).
typedef struct vm_fifo {
    vm_timed_t *ring;
    uint32_t head, len, cap;
} vm_fifo_t;

// A non-empty FIFO's head, in the heap of heads.
typedef struct vm_head {
    uint64_t time, seq;
    uint32_t fifo;
} vm_head_t;

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
    vm_timed_t *heap;               // min-heap by (time, seq): events
    size_t n, cap;                  //   no FIFO takes in order
    vm_fifo_t *fifos;               // two per core, then six per chip
    size_t n_fifos;
    vm_head_t *heads;               // min-heap of the FIFOs' heads
    size_t n_heads, heads_cap;
    uint64_t seq;                   // ties in time keep their order
    uint64_t now;                   // the time of the event running
    uint64_t host_time;             // when the host's next packets leave
    uint64_t last;                  // when the latest thing finished
    uint64_t router_visits, link_crossings;
    uint64_t control_ps;            // spent in the host's control rounds
    uint32_t in_control;            // a control round is running
    uint32_t in_packet;             // the callback running is a packet's
    uint64_t passes, commits;       // timed passes and commit rounds
    uint64_t passes_run, commits_run;   // all of them, timed or not
    uint64_t timed_limit;           // passes to time (0: all), then stop
    uint32_t spent;                 // stopped after timed_limit passes
    // The timeline, while kept (vm_clock_log): per callback its core,
    // kind (VM_EV_*), start and end.
    uint64_t *log;
    size_t log_len, log_cap;
} vm_clock_t;

#endif
