// The virtual SpiNNaker machine: chips, routers, cores and an event loop.
//
// One vm_t holds a machine built from the toolchain's placements and
// routing tables.  Every application core runs a private copy of its app's
// host build (its own globals); the spin1/FEC calls an app makes are
// answered for the core that is running, which the event loop sets before
// every callback.  Everything here is single-threaded.
#ifndef SPIDNN_VM_INTERNAL_H
#define SPIDNN_VM_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include <setjmp.h>

#include <spin1_api.h>
#include <simulation.h>

#define VM_N_LINKS          6
#define VM_CORES_PER_CHIP   18      // core 0 is the monitor
#define VM_MAX_ROUTES       1024    // router entries per chip
#define VM_SDRAM_BYTES      (128u * 1024u * 1024u)
#define VM_MAX_HOPS         256     // a packet going round in circles dies
#define VM_ROUTE_CACHE      1024    // per-chip cache of key -> route
#define VM_LOG_BYTES        256
#define VM_MAX_PARTITIONS   8       // outgoing partitions counted per core
#define VM_MAX_PREEMPTION   64      // nested pre-empting packet callbacks

typedef struct vm_route {
    uint32_t key, mask, route;      // route: bits 0-5 links, 6+ processors
} vm_route_t;

typedef struct vm_cache_slot {
    uint32_t key;
    int32_t entry;                  // index of the matching entry, -1 none
    uint32_t valid;
} vm_cache_slot_t;

typedef struct vm_chip {
    int32_t x, y;
    int32_t links[VM_N_LINKS];      // neighbouring chip index, -1 if none
    vm_route_t *routes;
    uint32_t n_routes;
    int32_t cores[VM_CORES_PER_CHIP];   // core index per processor, -1 none
    uint64_t sdram_used;
    vm_cache_slot_t cache[VM_ROUTE_CACHE];
} vm_chip_t;

enum { VM_CORE_APP = 0, VM_CORE_SOURCE = 1, VM_CORE_GATHERER = 2 };

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
    uint64_t received, pass_received;
    callback_t callbacks[NUM_EVENTS];
    int32_t priorities[NUM_EVENTS];   // <= 0: pre-empts (FIQ / IRQ)
    uint64_t sent, pass_sent;
    vm_partition_t partitions[VM_MAX_PARTITIONS];
    uint32_t n_partitions;
    uint32_t error_code;
    void *handle;                   // this core's private copy of the app
    uint8_t *sdram;                 // data specification block
    uint8_t *dtcm;                  // this core's heap in the DTCM arena
    uint32_t dtcm_used;
    uint32_t timer_period;
    exit_callback_t exit_function;
    char last_error[VM_LOG_BYTES];
} vm_core_t;

enum { VM_EV_PACKET, VM_EV_PACKET_PAYLOAD, VM_EV_USER, VM_EV_SCHEDULED,
       VM_EV_TIMER };

typedef struct vm_event {
    uint32_t kind;
    int32_t core;
    uint32_t a, b;
    callback_t cb;
} vm_event_t;

typedef struct vm_stats {
    uint64_t sent;                  // packets sent by cores and sources
    uint64_t delivered;             // packets that reached a core
    uint64_t dropped;               // packets lost (no route, no core...)
    uint64_t events;                // callbacks run
    uint64_t gathered;              // packets that reached a gatherer
} vm_stats_t;

typedef struct vm {
    vm_chip_t *chips;
    int32_t n_chips, width, height;
    int32_t *chip_at;               // [width * height] chip index or -1
    vm_core_t *cores;
    int32_t n_cores, cap_cores;
    uint32_t dtcm_heap_bytes;
    uint8_t *dtcm_arena;            // every core's DTCM heap, back to back

    vm_event_t *queue;              // ring buffer FIFO of events
    size_t q_head, q_len, q_cap;

    uint32_t *out_keys, *out_payloads;  // packets the gatherers received
    size_t n_out, cap_out;

    vm_stats_t stats;
    int32_t current;                // core running a callback, -1 none
    uint32_t preemption_depth;      // packet callbacks running nested
    jmp_buf on_rt_error;
    char error[512];
} vm_t;

// The machine the spin1 calls act on (set by every vm_* entry point).
extern vm_t *vm_active;

vm_core_t *vm_current_core(void);
void vm_enqueue(vm_t *vm, vm_event_t ev);
void vm_send(vm_t *vm, int32_t chip, uint32_t key, uint32_t payload,
             int has_payload);
void vm_count_sent(vm_core_t *core, uint32_t key);
void vm_fail(vm_t *vm, const char *format, ...);

#endif
