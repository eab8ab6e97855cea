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
#include "spidnn_layouts.h"
#include "vm_map.h"
#include "vm_router.h"

#define VM_CORES_PER_CHIP   18      // core 0 is the monitor
#define VM_SDRAM_BYTES      (128u * 1024u * 1024u)
#define VM_LOG_BYTES        256
#define VM_MAX_PARTITIONS   8       // outgoing partitions counted per core
#define VM_MAX_PREEMPTION   64      // nested pre-empting packet callbacks
#define VM_DMA_TAGS         16      // FEC's MAX_DMA_CALLBACK_TAG
#define VM_DMA_QUEUE        16      // spin1's DMA queue length
#define VM_MAX_REINJECTIONS 16      // a packet reinjected more is given up
#define VM_NEVER            UINT64_MAX

// A multicast packet on its way, at a router.
typedef struct vm_packet {
    uint32_t key, payload;
    uint32_t has_payload;
    int32_t chip;                   // the router it is at
    int32_t in;                     // the link it arrived on, -1: a core
    int32_t emergency;              // second leg of an emergency route:
                                    // the link to leave by, else -1
    uint32_t retries;               // times it has been reinjected
} vm_packet_t;

// A cost line of the virtual clock: base + slope * size, in picoseconds
// (the apps' spidnn_cost_line_t, c_code/common/cost.h).
typedef struct vm_cost_line {
    uint64_t base_ps, slope_ps;
} vm_cost_line_t;
// After the apps' cost points: entering a packet callback and a queued one.
#define VM_COST_ENTRY_PACKET N_COST_POINTS
#define VM_COST_ENTRY_TASK   (N_COST_POINTS + 1)
#define VM_N_COST_LINES      (N_COST_POINTS + 2)

typedef struct vm_chip {
    int32_t x, y;
    // The virtual clock: when each outgoing link is next free, and its
    // busy time and packets so far.
    uint64_t link_free[VM_N_LINKS];
    uint64_t link_busy_ps[VM_N_LINKS];
    uint64_t link_packets[VM_N_LINKS];
    int32_t links[VM_N_LINKS];      // neighbouring chip index, -1 if none
    uint32_t links_down;            // bit per link that a fault took down
    // The router's dropped-packet register, which the monitor core reads
    // and reinjects (one packet: a second drop before then is lost).
    uint32_t has_dropped;
    vm_packet_t dropped;
    vm_router_t router;
    int32_t cores[VM_CORES_PER_CHIP];   // core index per processor, -1 none
    uint64_t sdram_used;
    // The virtual clock: when the chip's SDRAM is next free for a DMA
    // transfer (its cores share it), and its busy time.
    uint64_t sdram_free, sdram_busy_ps;
} vm_chip_t;

enum { VM_CORE_APP = 0, VM_CORE_SOURCE = 1, VM_CORE_GATHERER = 2 };

enum { VM_EV_PACKET, VM_EV_PACKET_PAYLOAD, VM_EV_USER, VM_EV_SCHEDULED,
       VM_EV_TIMER, VM_EV_ROUTE, VM_EV_WAKE, VM_EV_SOURCE };

typedef struct vm_event {
    uint32_t kind;
    int32_t core;
    uint32_t a, b;
    callback_t cb;
} vm_event_t;

// A packet in a chip's mail log (vm_mailbox.c), for the MCPL_PACKET_
// RECEIVED callbacks of the chip's processors in `procs` (spiDNN's
// packets all carry a payload).
typedef struct vm_mail {
    uint32_t key, payload, procs;
} vm_mail_t;

// Where a key sent from a chip goes (vm_trees.c): the targets
// [first, first + n) of the machine's list, and the branches that ended
// without a way on.
typedef struct vm_tree {
    uint32_t first, n, dropped;
} vm_tree_t;

// A chip whose processors in `procs` take a tree's packets.
typedef struct vm_target {
    int32_t chip;
    uint32_t procs;
} vm_target_t;

// A chip's mail log on the untimed machine (vm_mailbox.c): the packets
// delivered and not yet taken.  Apart from vm_chip_t, which is large.
typedef struct vm_mailbox {
    vm_mail_t *log;
    uint32_t len, cap;
    uint32_t pending;               // processors with packets to take
    uint32_t ready;                 // the chip is in the ready ring
    uint32_t app_procs;             // processors that run an app
} vm_mailbox_t;

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
    vm_partition_t partitions[VM_MAX_PARTITIONS];
    uint32_t n_partitions;
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


typedef struct vm_stats {
    uint64_t sent;                  // packets sent by cores and sources
    uint64_t delivered;             // packets that reached a core
    uint64_t dropped;               // packets lost (no route, no core...)
    uint64_t events;                // callbacks run
    uint64_t gathered;              // packets that reached a gatherer
} vm_stats_t;

// What the injected faults did, in the order of vm_get_fault_counts.
typedef struct vm_fault_counts {
    uint64_t dropped_random;        // drops at a router by drop_rate
    uint64_t dropped_targeted;      // drops by a rule (n-th packet)
    uint64_t dropped_dead_link;     // no way out, even around a dead link
    uint64_t emergency_routed;      // sent around a dead link
    uint64_t reinjected;            // dropped, captured and sent again
    uint64_t lost;                  // dropped and not captured: gone
    uint64_t delayed;               // held back at a router for a while
    uint64_t stalls;                // cores that stalled
} vm_fault_counts_t;
#define VM_N_FAULT_COUNTS 8

// Drop the nth (0 first) packet that cores send with key & mask == key
// for any rule of the group (a layer's partition: a rule per core).
typedef struct vm_drop_rule {
    uint32_t key, mask;
    uint32_t group;
    uint64_t nth;
} vm_drop_rule_t;

typedef struct vm_faults {
    uint32_t active;                // any fault configured
    uint64_t rng;                   // xorshift64* state
    uint32_t drop_threshold;        // drop when a draw is below it
    uint32_t delay_threshold;       // delay when a draw is below it
    uint32_t max_delay;             // time units, 1 .. max_delay
    uint32_t reinjection;           // the monitors reinject drops
    uint32_t has_stalls;            // some core has a stall configured
    vm_drop_rule_t *rules;
    uint32_t n_rules;
    uint64_t *group_seen;           // packets seen so far, per group
    uint32_t n_groups;
    int32_t *dropped_chips;         // chips whose register holds a packet
    uint32_t n_dropped_chips;
    uint32_t reinjecting;           // in vm_reinject (not re-entered)
    vm_packet_t *delayed;           // sorted by release time
    uint64_t *released_at;
    size_t n_delayed, cap_delayed;
    vm_fault_counts_t counts;
} vm_faults_t;

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
    vm_map_t tree_of;               // (chip, key) -> tree (vm_trees.c)
    vm_tree_t *trees;
    uint32_t trees_n, trees_cap;
    vm_target_t *targets;
    uint32_t targets_len, targets_cap;
    vm_mailbox_t *mailboxes;        // per chip (vm_mailbox.c)
    int32_t *ready;                 // chips with mail, a ring of n_chips
    size_t r_head, r_len;

    uint32_t *out_keys, *out_payloads;  // packets the gatherers received
    size_t n_out, cap_out;

    vm_stats_t stats;
    vm_faults_t faults;
    vm_clock_t clock;
    // Time: one unit per callback run, jumping ahead when the machine is
    // idle until a delayed packet or the end of a stall.
    uint64_t now;
    uint32_t control_round;         // the host's last control round
    int32_t current;                // core running a callback, -1 none
    uint32_t preemption_depth;      // packet callbacks running nested
    jmp_buf on_rt_error;
    char error[512];
} vm_t;

// The machine the spin1 calls act on (set by every vm_* entry point).
extern vm_t *vm_active;

// The scheduler (vm_sched.c).
void vm_post(vm_t *vm, vm_event_t ev);
void vm_send(vm_t *vm, int32_t chip, uint32_t key, uint32_t payload,
             int has_payload);
void vm_host_send(vm_t *vm, int32_t source, uint32_t key, uint32_t payload);
void vm_deliver(vm_t *vm, vm_chip_t *chip, uint32_t p, uint32_t key,
                uint32_t payload, int has_payload);
int vm_run_until_quiet(vm_t *vm, uint64_t budget);
int vm_fire_ticks(vm_t *vm, uint32_t n_ticks, uint64_t budget);
int vm_work_left(const vm_t *vm);
int vm_stop_on_error(vm_t *vm);

// The untimed machine (vm_untimed.c).
void vm_untimed_post(vm_t *vm, vm_event_t ev);
void vm_untimed_deliver(vm_t *vm, int32_t c, uint32_t event, callback_t cb,
                        uint32_t key, uint32_t payload, int stalled);
void vm_untimed_send(vm_t *vm, int32_t chip, uint32_t key, uint32_t payload,
                     int has_payload);
int vm_untimed_busy(const vm_t *vm);
int vm_untimed_run(vm_t *vm, uint64_t budget);
void vm_untimed_clear(vm_t *vm);
void vm_untimed_free(vm_t *vm);

// Cores (vm_core.c).
vm_core_t *vm_current_core(void);
int32_t vm_core_run_main(vm_t *vm, int32_t core);
int vm_core_error(vm_t *vm, int32_t index);
callback_t vm_event_callback(const vm_core_t *core, vm_event_t ev);
void vm_run_event(vm_t *vm, vm_event_t ev);

void vm_count_sent(vm_core_t *core, uint32_t key);
void vm_fail(vm_t *vm, const char *format, ...);
int vm_allocate_dtcm(vm_t *vm);
void vm_route(vm_t *vm, const vm_packet_t *packet);
// Follows key from chip's router as vm_route would without faults, into
// `tree` (its targets and drops) rather than to the cores.
void vm_route_tree(vm_t *vm, int32_t chip, uint32_t key, vm_tree_t *tree);

// Records a packet delivered to a core while it is traced (for the
// calibration that replays a core's packets on the ARM build).
static inline void vm_trace_delivery(vm_core_t *core, uint32_t key,
                                     uint32_t payload, int has_payload) {
    if (__builtin_expect(core->trace != NULL, 0)
            && core->trace_len < core->trace_cap) {
        uint32_t *at = &core->trace[3 * core->trace_len++];
        at[0] = key;
        at[1] = payload;
        at[2] = (uint32_t) has_payload;
    }
}

// The virtual clock (vm_clock.c).
void vm_clock_send(vm_t *vm, uint32_t key, uint32_t payload,
                   int has_payload);
void vm_clock_host_send(vm_t *vm, int32_t source, uint32_t key,
                        uint32_t payload);
void vm_clock_deliver(vm_t *vm, int32_t c, uint32_t event, uint32_t key,
                      uint32_t payload);
void vm_clock_post_ticks(vm_t *vm, uint32_t n_ticks);
void vm_clock_host_turn(vm_t *vm);
void vm_clock_control_begins(vm_t *vm);
void vm_clock_control_ends(vm_t *vm);
void vm_clock_clear(vm_t *vm);
// A queued callback for the running core, or a timer tick at `time`.
void vm_clock_post(vm_t *vm, vm_event_t ev, uint64_t time);
// The time the running core has reached in its callback.
uint64_t vm_clock_core_time(vm_t *vm);
// Counts a finished pass (and the commit round run after it, if
// `committed`), and stops the clock once it has timed the passes
// vm_time_passes asked for (training: to the end of a batch).
void vm_clock_count_pass(vm_t *vm, int training, int committed);
// Runs events in time order until none is left (or `budget` callbacks).
int vm_clock_run(vm_t *vm, uint64_t budget);
void vm_clock_free(vm_t *vm);

// Faults (vm_faults.c): each returns true if it took the packet.
int vm_fault_at_router(vm_t *vm, const vm_packet_t *packet);
int vm_fault_at_source(vm_t *vm, const vm_packet_t *packet);
void vm_router_drop(vm_t *vm, const vm_packet_t *packet);
// The monitors reinject what the routers captured.
void vm_reinject(vm_t *vm);
// Reinjects captured drops and releases what is due; the time of the next
// release, or VM_NEVER.
uint64_t vm_faults_release(vm_t *vm);
void vm_stall_check(vm_t *vm, vm_core_t *core);
void vm_hold(vm_core_t *core, vm_event_t ev);
// The callback an event calls for on its core; NULL if none, or if the
// core has stopped.
callback_t vm_event_callback(const vm_core_t *core, vm_event_t ev);
// Runs an event's callback on its core, whether or not the core stalls.
void vm_run_event(vm_t *vm, vm_event_t ev);
void vm_faults_free(vm_t *vm);

// The mail logs, once every core is added; false if out of memory.
int vm_mail_start(vm_t *vm);
// Puts a packet with a payload in chip's log, for the app cores of
// `procs` (a subset of its app_procs).
void vm_mail(vm_t *vm, int32_t chip, uint32_t procs, uint32_t key,
             uint32_t payload);
// Runs the next ready chip's log (vm->r_len > 0).
void vm_mail_drain_next(vm_t *vm);
// Forgets all mail (a core stopped the machine).
void vm_mail_clear(vm_t *vm);
void vm_mail_free(vm_t *vm);

// Delivers a packet with a payload that a core on chip sends, by the
// key's remembered tree (vm_trees.c); mail mode only.
void vm_tree_deliver(vm_t *vm, int32_t chip, uint32_t key,
                     uint32_t payload);
// Adds to the tree being worked out a chip whose `procs` take it.
void vm_tree_add_target(vm_t *vm, int32_t chip, uint32_t procs);
// Forgets every tree (the tables or links changed, or the machine goes).
void vm_trees_clear(vm_t *vm);

// DMA (vm_dma.c): the transfers of a machine being freed.
void vm_dma_free(vm_t *vm);
void vm_dma_clear(vm_t *vm);

#endif
