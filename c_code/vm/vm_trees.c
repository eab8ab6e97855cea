// A packet's way on the untimed machine (vm_route): by its key's
// multicast tree where nothing can change the way, else router by router
// (vm_walk.c).
//
// Multicast trees: where a packet a core sends with a key goes, worked
// out once through the routers' tables (vm_route_tree) and then
// remembered, so that a packet costs one look-up, not one per router it
// passes (a 2-D split layer's packets cross several chips: perf showed
// 52,000 table look-ups a sample for 784-128-10 at 2-D, 7,800 at 1-D).
// A tree that keys took by disjoint tables' entries serves every key
// those entries take, so a partition's keys share a tree: one per key
// was one per key of a convnet's gradient chain (2.2 million a batch,
// overflowing MAX_TREES); the convnet benchmark's fit ran 18.0 -> 22.3
// samples/s with it.
//
// Used with the mail logs (vm_mailbox.c), when no fault is configured:
// then a key's way from a chip never changes until the tables do.
#include <stdlib.h>

#include "vm_chip.h"
#include "vm_machine.h"
#include "vm_mailbox.h"
#include "vm_queue.h"
#include "vm_trees.h"
#include "vm_walk.h"

// Trees kept at most; then they are all forgotten (the host's weight
// download sends millions of keys once each).
#define MAX_TREES (1u << 20)

void vm_trees_clear(vm_t *vm) {
    vm_map_clear(&vm->tree_of);
    if (vm->trees_of_entry != NULL) {
        for (int32_t c = 0; c < vm->n_chips; c++) {
            free(vm->trees_of_entry[c]);
        }
        free(vm->trees_of_entry);
        vm->trees_of_entry = NULL;
    }
    free(vm->trees);
    free(vm->targets);
    vm->trees = NULL;
    vm->targets = NULL;
    vm->trees_n = vm->trees_cap = 0;
    vm->targets_len = vm->targets_cap = 0;
}

// A key's tree from chip, worked out and kept.
static int32_t new_tree(vm_t *vm, int32_t chip, uint32_t key) {
    if (vm->trees_n >= MAX_TREES) {
        vm_trees_clear(vm);
    }
    if (vm->trees_n == vm->trees_cap) {
        vm->trees_cap = vm->trees_cap ? 2 * vm->trees_cap : 4096;
        vm->trees = realloc(vm->trees, sizeof(vm_tree_t) * vm->trees_cap);
    }
    vm_tree_t *tree = &vm->trees[vm->trees_n];
    tree->first = vm->targets_len;
    vm_route_tree(vm, chip, key, tree);
    tree->n = vm->targets_len - tree->first;
    tree->next = -1;
    return (int32_t) vm->trees_n++;
}

// The trees of the keys that take entry `entry` of chip's router: the
// first's index, or -1 (a list per entry, made when first asked).
static int32_t *trees_of_entry(vm_t *vm, int32_t chip, int32_t entry) {
    if (vm->trees_of_entry == NULL) {
        vm->trees_of_entry = calloc((size_t) vm->n_chips, sizeof(int32_t *));
    }
    int32_t **of_chip = &vm->trees_of_entry[chip];
    if (*of_chip == NULL) {
        uint32_t n = vm->chips[chip].router.n_routes;
        *of_chip = malloc(sizeof(int32_t) * (n ? n : 1));
        for (uint32_t i = 0; i < n; i++) {
            (*of_chip)[i] = -1;
        }
    }
    return &(*of_chip)[entry];
}

// The tree of key from chip.  Where the chip's router has an entry for
// it, a tree that every key of that entry's (and of the entries on the
// way's) takes serves them all: a partition's keys then share one,
// where a tree per key would be one per key sent (millions a batch in a
// convnet's gradient chain).  Else a tree per (chip, key).
static const vm_tree_t *find_tree(vm_t *vm, int32_t chip, uint32_t key) {
    vm_router_t *router = &vm->chips[chip].router;
    int32_t entry = router->disjoint ? vm_router_entry(router, key) : -1;
    if (entry >= 0) {
        int32_t *first = trees_of_entry(vm, chip, entry);
        for (int32_t t = *first; t >= 0; t = vm->trees[t].next) {
            if ((key & vm->trees[t].mask) == vm->trees[t].key) {
                return &vm->trees[t];
            }
        }
    }
    uint64_t both = (uint64_t) (uint32_t) chip << 32 | key;
    int32_t index = vm_map_get(&vm->tree_of, both);
    if (index != VM_MAP_EMPTY) {
        return &vm->trees[index];
    }
    index = new_tree(vm, chip, key);
    vm_tree_t *tree = &vm->trees[index];
    if (entry >= 0 && tree->mask != 0xFFFFFFFFu) {
        // (Asked again: new_tree may have cleared every list.)
        int32_t *first = trees_of_entry(vm, chip, entry);
        tree->next = *first;
        *first = index;
    } else {
        vm_map_put(&vm->tree_of, both, index);
    }
    return tree;
}

// Delivers a packet with a payload that a core on chip sends, by the
// key's remembered tree; mail mode only.
static void tree_deliver(vm_t *vm, int32_t chip, uint32_t key,
                     uint32_t payload) {
    const vm_tree_t *tree = find_tree(vm, chip, key);
    vm->stats.dropped += tree->dropped;
    for (uint32_t i = tree->first; i < tree->first + tree->n; i++) {
        vm_target_t target = vm->targets[i];
        uint32_t apps = target.procs & vm->mailboxes[target.chip].app_procs;
        if (apps) {
            vm_mail(vm, target.chip, apps, key, payload);
        }
        for (uint32_t rest = target.procs & ~apps; rest; rest &= rest - 1) {
            vm_untimed_arrive(vm, &vm->chips[target.chip],
                              (uint32_t) __builtin_ctz(rest), key, payload, 1);
        }
    }
}

// Core-major delivery (vm_mailbox.c), while the clock is off and no
// fault is configured: nothing then depends on the callbacks' order.
static inline int mailbox_mode(const vm_t *vm) {
    return !vm->clock.on && !vm->faults.active;
}

void vm_route(vm_t *vm, const vm_packet_t *packet) {
    if (mailbox_mode(vm) && packet->has_payload && packet->in < 0
            && packet->emergency < 0) {
        // The usual: by the key's remembered tree.
        tree_deliver(vm, packet->chip, packet->key, packet->payload);
    } else {
        vm_walk(vm, packet);
    }
}
