// Multicast trees for the untimed machine: where a packet a core sends
// with a key goes, worked out once through the routers' tables and then
// remembered, so that a packet costs one look-up, not one per router it
// passes (a 2-D split layer's packets cross several chips: perf showed
// 52,000 table look-ups a sample for 784-128-10 at 2-D, 7,800 at 1-D).
//
// Used with the mail logs (vm_mailbox.c), when no fault is configured:
// then a key's way from a chip never changes until the tables do.
#include <stdlib.h>

#include "vm_internal.h"

// Trees kept at most; then they are all forgotten (the host's weight
// download sends millions of keys once each).
#define MAX_TREES (1u << 20)

static inline uint32_t slot_of(int32_t chip, uint32_t key, uint32_t size) {
    uint32_t h = key * 2654435769u ^ (uint32_t) chip * 0x85ebca6bu;
    return (h ^ (h >> 16)) & (size - 1);
}

void vm_trees_clear(vm_t *vm) {
    free(vm->trees);
    free(vm->targets);
    vm->trees = NULL;
    vm->targets = NULL;
    vm->trees_size = vm->trees_n = 0;
    vm->targets_len = vm->targets_cap = 0;
}

static vm_tree_t *find_slot(vm_tree_t *trees, uint32_t size, int32_t chip,
                            uint32_t key) {
    uint32_t slot = slot_of(chip, key, size);
    while (trees[slot].chip >= 0
            && (trees[slot].chip != chip || trees[slot].key != key)) {
        slot = (slot + 1) & (size - 1);
    }
    return &trees[slot];
}

// Doubles the table (at most half full, so probes stay short).
static void grow(vm_t *vm) {
    uint32_t old_size = vm->trees_size;
    vm_tree_t *old = vm->trees;
    vm->trees_size = old_size ? 2 * old_size : 4096;
    vm->trees = malloc(sizeof(vm_tree_t) * vm->trees_size);
    for (uint32_t s = 0; s < vm->trees_size; s++) {
        vm->trees[s].chip = -1;
    }
    for (uint32_t s = 0; s < old_size; s++) {
        if (old[s].chip >= 0) {
            *find_slot(vm->trees, vm->trees_size, old[s].chip,
                       old[s].key) = old[s];
        }
    }
    free(old);
}

static void add_target(vm_t *vm, int32_t chip, uint32_t procs) {
    if (vm->targets_len == vm->targets_cap) {
        vm->targets_cap = vm->targets_cap ? 2 * vm->targets_cap : 4096;
        vm->targets = realloc(vm->targets,
                              sizeof(vm_target_t) * vm->targets_cap);
    }
    vm->targets[vm->targets_len++] = (vm_target_t) {chip, procs};
}

// Follows key from chip's router through every table, as vm_route does
// without faults: the chips whose processors take it, and the branches
// that end without a way on (dropped).
static void build(vm_t *vm, vm_tree_t *tree) {
    int32_t stack_chip[VM_MAX_HOPS], stack_in[VM_MAX_HOPS];
    uint32_t stack_hops[VM_MAX_HOPS];
    int top = 0;
    tree->first = vm->targets_len;
    tree->dropped = 0;
    stack_chip[top] = tree->chip;
    stack_in[top] = -1;
    stack_hops[top++] = 0;
    while (top > 0) {
        top--;
        int32_t c = stack_chip[top], in = stack_in[top];
        uint32_t hops = stack_hops[top];
        vm_chip_t *here = &vm->chips[c];
        int32_t entry = vm_lookup(here, tree->key);
        uint32_t route;
        if (entry >= 0) {
            route = here->routes[entry].route;
        } else if (in >= 0) {
            route = 1u << ((in + 3) % VM_N_LINKS);
        } else {
            tree->dropped++;
            continue;
        }
        if (route >> VM_N_LINKS) {
            add_target(vm, c, route >> VM_N_LINKS);
        }
        for (uint32_t links = route & ((1u << VM_N_LINKS) - 1); links;
                links &= links - 1) {
            int32_t l = __builtin_ctz(links);
            int32_t next = here->links[l];
            if (next < 0 || hops + 1 >= VM_MAX_HOPS || top >= VM_MAX_HOPS) {
                tree->dropped++;
                continue;
            }
            stack_chip[top] = next;
            stack_in[top] = (l + 3) % VM_N_LINKS;
            stack_hops[top++] = hops + 1;
        }
    }
    tree->n = vm->targets_len - tree->first;
}

void vm_tree_deliver(vm_t *vm, int32_t chip, uint32_t key,
                     uint32_t payload) {
    if (vm->trees_n >= MAX_TREES) {
        vm_trees_clear(vm);
    }
    if (2 * (vm->trees_n + 1) > vm->trees_size) {
        grow(vm);
    }
    vm_tree_t *tree = find_slot(vm->trees, vm->trees_size, chip, key);
    if (tree->chip < 0) {
        tree->chip = chip;
        tree->key = key;
        vm->trees_n++;
        build(vm, tree);
    }
    vm->stats.dropped += tree->dropped;
    // By index: a gatherer's delivery does not touch the trees, but keep
    // to one way of reading them.
    for (uint32_t i = tree->first; i < tree->first + tree->n; i++) {
        vm_target_t target = vm->targets[i];
        uint32_t apps = target.procs & vm->mailboxes[target.chip].app_procs;
        if (apps) {
            vm_mail(vm, target.chip, apps, key, payload);
        }
        for (uint32_t rest = target.procs & ~apps; rest; rest &= rest - 1) {
            vm_deliver(vm, &vm->chips[target.chip],
                       (uint32_t) __builtin_ctz(rest), key, payload, 1);
        }
    }
}
