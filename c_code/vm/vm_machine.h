// The virtual SpiNNaker machine: chips, routers, cores and the state of
// each part of it (vm_build.c builds it).
//
// One vm_t holds a machine built from the toolchain's placements and
// routing tables.  Every application core runs a private copy of its app's
// host build (its own globals); the spin1/FEC calls an app makes are
// answered for the core that is running, which the schedulers set before
// every callback.  Everything here is single-threaded.
#ifndef SPIDNN_VM_MACHINE_H
#define SPIDNN_VM_MACHINE_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "vm_chip.h"
#include "vm_clock_state.h"
#include "vm_core_state.h"
#include "vm_event.h"
#include "vm_faults_state.h"
#include "vm_map.h"
#include "vm_stats.h"
#include "vm_untimed_state.h"

typedef struct vm {
    struct vm_chip *chips;
    int32_t n_chips, width, height;
    int32_t *chip_at;               // [width * height] chip index or -1
    struct vm_core *cores;
    int32_t n_cores, cap_cores;
    uint32_t dtcm_heap_bytes;
    uint8_t *dtcm_arena;            // every core's DTCM heap, back to back

    vm_event_t *queue;              // ring buffer FIFO of events
    size_t q_head, q_len, q_cap;
    vm_map_t tree_of;               // (chip, key) -> tree (vm_trees.c)
    int32_t **trees_of_entry;       // [chip][entry]: its first tree, or -1
    struct vm_tree *trees;
    uint32_t trees_n, trees_cap;
    struct vm_target *targets;
    uint32_t targets_len, targets_cap;
    struct vm_mailbox *mailboxes;        // per chip (vm_mailbox.c)
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

// Sets the machine's error message (vm_error).
void vm_fail(vm_t *vm, const char *format, ...);

#endif
