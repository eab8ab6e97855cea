// What the untimed machine keeps in the machine beside its event queue:
// the chips' mail logs (vm_mailbox.c) and the multicast trees
// (vm_trees.c).
#ifndef SPIDNN_VM_UNTIMED_STATE_H
#define SPIDNN_VM_UNTIMED_STATE_H

#include <stdint.h>

// A packet in a chip's mail log (vm_mailbox.c), for the MCPL_PACKET_
// RECEIVED callbacks of the chip's processors in `procs` (spiDNN's
// packets all carry a payload).
typedef struct vm_mail {
    uint32_t key, payload, procs;
} vm_mail_t;

// A chip's mail log on the untimed machine (vm_mailbox.c): the packets
// delivered and not yet taken.  Apart from vm_chip_t, which is large.
typedef struct vm_mailbox {
    vm_mail_t *log;
    uint32_t len, cap;
    uint32_t pending;               // processors with packets to take
    uint32_t ready;                 // the chip is in the ready ring
    uint32_t app_procs;             // processors that run an app
} vm_mailbox_t;

// Where a key sent from a chip goes (vm_trees.c): the targets
// [first, first + n) of the machine's list, and the branches that ended
// without a way on.
// The tree serves every key k with (k & mask) == key (vm_trees.c): each
// router on the way has an entry that such keys alone match; the next
// tree of the same entry of the first router is `next` (-1: none).
typedef struct vm_tree {
    uint32_t first, n, dropped;
    uint32_t key, mask;
    int32_t next;
} vm_tree_t;

// A chip whose processors in `procs` take a tree's packets.
typedef struct vm_target {
    int32_t chip;
    uint32_t procs;
} vm_target_t;

#endif
