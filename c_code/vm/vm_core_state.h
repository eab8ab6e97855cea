// A core's state: the app it runs (its private copy, SDRAM and DTCM), its
// callbacks, and what each part of the machine keeps for it.  Apart from
// what a core does (vm_core.h), so that the machine's state (vm_machine.h)
// stands below every part that acts on it.
#ifndef SPIDNN_VM_CORE_STATE_H
#define SPIDNN_VM_CORE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <spin1_api.h>
#include <simulation.h>
#include "spidnn_layouts.h"
#include "vm_event.h"

#define VM_LOG_BYTES        256
#define VM_MAX_PARTITIONS   128     // outgoing partitions counted per core
#define VM_DMA_TAGS         16      // FEC's MAX_DMA_CALLBACK_TAG
#define VM_NEVER            UINT64_MAX

enum { VM_CORE_APP = 0, VM_CORE_SOURCE = 1, VM_CORE_GATHERER = 2 };

// A cost line of the virtual clock: base + slope * size, in picoseconds
// (the apps' spidnn_cost_line_t, c_code/common/cost.h).
typedef struct vm_cost_line {
    uint64_t base_ps, slope_ps;
} vm_cost_line_t;

// Packets a core sent with keys in one of its outgoing partitions.
typedef struct vm_partition {
    uint32_t key, mask;
    uint64_t sent;
} vm_partition_t;

typedef struct vm_core {
    // Fields every packet delivery touches come first, so they share the
    // struct's first cache lines.
    int32_t chip, p, kind;
    uint32_t errored;
    uint64_t received;
    // A stall: from the stall_at-th packet received (0: none) until
    // stalled_until (VM_NEVER: for good); events for the core wait in
    // `held` until then.
    uint64_t stall_at, stalled_until;
    callback_t callbacks[NUM_EVENTS];
    int32_t priorities[NUM_EVENTS];   // <= 0: pre-empts (FIQ / IRQ)
    // The virtual clock (vm_clock.c), in picoseconds: what the running
    // callback has been charged so far (the app's own counter, cost.h)
    // and when it started, when the packet callbacks and the queued ones
    // are next free, the core's busy time, and its cost lines
    // (VM_N_COST_LINES, or NULL: free).
    uint64_t *charge;
    uint64_t cb_start;
    uint64_t fiq_free, task_end;
    uint64_t busy_ps, fiq_ps;
    vm_cost_line_t *costs;
    uint64_t sent;
    vm_partition_t *partitions;     // those counted (vm_stats.c)
    uint32_t n_partitions, last_partition;
    uint32_t error_code;
    void *handle;                   // this core's private copy of the app
    uint8_t *sdram;                 // data specification block
    uint8_t *dtcm;                  // this core's heap in the DTCM arena
    uint32_t dtcm_used;
    uint32_t timer_period;
    core_status_t *status;          // the app's STATUS region, or NULL
    uint64_t stall_for;             // time units, or VM_NEVER
    vm_event_t *held;
    size_t n_held, cap_held;
    exit_callback_t exit_function;
    // The clock's less busy fields: where the app copy looks for its
    // cost lines, and the core's busy time in control rounds.
    const vm_cost_line_t **app_lines;
    uint64_t control_busy_ps;
    // A source: when it can send again, and the host's packets it has
    // yet to send (key, payload pairs from `outbox_head`); it sends one
    // per VM_EV_SOURCE event, so the clock's heap holds one of its
    // packets at a time, not a whole sample's.
    uint64_t source_free;
    uint32_t *outbox;
    size_t outbox_head, outbox_len, outbox_cap;
    // Queued callbacks waiting their turn, in order (ring buffer), each
    // with the time it was queued; a VM_EV_WAKE event in the clock's heap
    // while any wait.
    struct vm_timed *waiting;
    size_t w_head, w_len, w_cap;
    uint32_t wake_pending;
    // The packets delivered to the core, in order, while traced (for the
    // calibration that replays them on the ARM build): key, payload and
    // has_payload per packet.
    uint32_t *trace;
    size_t trace_len, trace_cap;
    // DMA (vm_dma.c): the transfers asked for and not yet done, in order
    // (ring buffer), when the core's DMA engine is next free, and the
    // simulation interface's callback per tag.
    struct vm_dma *dma;
    size_t dma_head, dma_len, dma_cap;
    uint64_t dma_free;
    uint32_t dma_ids;
    callback_t dma_callbacks[VM_DMA_TAGS];
    char last_error[VM_LOG_BYTES];
} vm_core_t;

#endif
