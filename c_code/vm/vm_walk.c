// A packet's way through the fabric on the untimed machine: router by
// router from where it is to every destination its key reaches, around
// dead links and through the faults on the way.  The same walk, without
// faults, works out a key's multicast tree for vm_trees.c, which keeps
// it and asks for a walk only when the tree cannot serve.
#include <stdlib.h>

#include "vm_chip.h"
#include "vm_faults.h"
#include "vm_machine.h"
#include "vm_queue.h"
#include "vm_router.h"
#include "vm_walk.h"

// Adds to the tree being worked out a chip whose `procs` take it: the
// tree's targets follow one another in the machine's list.
static void add_target(vm_t *vm, int32_t chip, uint32_t procs) {
    if (vm->targets_len == vm->targets_cap) {
        vm->targets_cap = vm->targets_cap ? 2 * vm->targets_cap : 4096;
        vm->targets = realloc(vm->targets,
                              sizeof(vm_target_t) * vm->targets_cap);
    }
    vm->targets[vm->targets_len++] = (vm_target_t) {chip, procs};
}

// Where a packet leaves a router by a link that is down: around it, by
// the next link anticlockwise and then the one before the dead link (the
// two other sides of the triangle), as SpiNNaker's emergency routing
// does; -1 if that way is blocked too.
static int32_t emergency_first_leg(const vm_chip_t *chip, int32_t link) {
    int32_t first = (link + 1) % VM_N_LINKS;
    if (chip->links[first] < 0 || (chip->links_down >> first) & 1u) {
        return -1;
    }
    return first;
}

// True if every link of `route` is up or can be routed around: a router
// sends a multicast packet to all its outputs or (dropping it) to none.
static int links_usable(const vm_chip_t *chip, uint32_t links) {
    for (uint32_t down = links & chip->links_down; down; down &= down - 1) {
        if (emergency_first_leg(chip, __builtin_ctz(down)) < 0) {
            return 0;
        }
    }
    return 1;
}

// A tree's keys are those that take the entry this router took for key,
// if no other key can match it first (a disjoint table); else key alone
// (a key matching no entry goes on by default routing, or is dropped, as
// keys matching entries elsewhere in the table would not).
static void narrow(vm_tree_t *tree, vm_router_t *router, uint32_t key) {
    int32_t entry = router->disjoint ? vm_router_entry(router, key) : -1;
    tree->mask |= entry >= 0 ? router->routes[entry].mask : 0xFFFFFFFFu;
    tree->key = key & tree->mask;
}

// Routes one packet from the router it is at to every destination its
// key reaches, each router deciding as vm_router_decide says.  With `tree` (vm_trees.c; never with faults), the chips whose
// processors it reaches and the branches dropped go into the tree
// instead of the packet being delivered.
static void walk(vm_t *vm, const vm_packet_t *packet, vm_tree_t *tree) {
    // The key, payload and retries are the whole tree's; each branch has
    // its router, the link it came in by and any emergency leg.
    int32_t stack_chip[VM_MAX_HOPS], stack_in[VM_MAX_HOPS];
    int32_t stack_emergency[VM_MAX_HOPS];
    uint32_t stack_hops[VM_MAX_HOPS];
    int top = 0;
    int faulty = vm->faults.active;
    uint32_t dropped = 0;
    const uint32_t key = packet->key, payload = packet->payload;
    const int has_payload = (int) packet->has_payload;
    stack_chip[top] = packet->chip;
    stack_in[top] = packet->in;
    stack_emergency[top] = packet->emergency;
    stack_hops[top] = 0;
    top++;
    while (top > 0) {
        top--;
        int32_t c = stack_chip[top], in = stack_in[top];
        int32_t emergency = stack_emergency[top];
        uint32_t hops = stack_hops[top];
        vm_chip_t *here = &vm->chips[c];
        vm_packet_t at;     // the packet at this router, for a fault
        if (faulty) {
            at = *packet;
            at.chip = c;
            at.in = in;
            at.emergency = emergency;
            if (vm_fault_at_router(vm, &at)) {
                continue;
            }
        }
        vm_fanout_t out;
        if (emergency >= 0) {
            // The second leg of an emergency route takes no table lookup.
            out = (vm_fanout_t) {1u << emergency, 0};
        } else if (!vm_router_decide(&here->router, key, in, &out)) {
            if (tree != NULL) {
                narrow(tree, &here->router, key);
            }
            dropped++;
            continue;
        }
        if (tree != NULL) {
            narrow(tree, &here->router, key);
        }
        uint32_t links = out.links;
        if (faulty && (links & here->links_down)
                && (emergency >= 0 || !links_usable(here, links))) {
            vm->faults.counts.dropped_dead_link++;
            vm_router_drop(vm, &at);
            continue;
        }
        // Visit only the set bits: processors first, then links.
        if (tree != NULL && out.procs) {
            add_target(vm, c, out.procs);
        }
        for (uint32_t procs = tree == NULL ? out.procs : 0; procs;
                procs &= procs - 1) {
            vm_untimed_arrive(vm, here, (uint32_t) __builtin_ctz(procs), key,
                              payload, has_payload);
        }
        for (; links; links &= links - 1) {
            int32_t l = __builtin_ctz(links);
            int32_t next_emergency = -1, next_in;
            if ((here->links_down >> l) & 1u) {
                int32_t first = emergency_first_leg(here, l);
                vm->faults.counts.emergency_routed++;
                next_emergency = (l + VM_N_LINKS - 1) % VM_N_LINKS;
                l = first;
            }
            if (next_emergency < 0 && emergency >= 0) {
                // The end of an emergency route: it arrives as if over
                // the dead link, for default routing's sake.
                next_in = (l + 4) % VM_N_LINKS;
            } else {
                next_in = vm_link_opposite(l);
            }
            int32_t next = here->links[l];
            if (next < 0 || hops + 1 >= VM_MAX_HOPS || top >= VM_MAX_HOPS) {
                dropped++;
                continue;
            }
            stack_chip[top] = next;
            stack_in[top] = next_in;
            stack_emergency[top] = next_emergency;
            stack_hops[top] = hops + 1;
            top++;
        }
    }
    if (tree != NULL) {
        tree->dropped = dropped;
    } else {
        vm->stats.dropped += dropped;
    }
}

void vm_walk(vm_t *vm, const vm_packet_t *packet) {
    walk(vm, packet, NULL);
}

void vm_route_tree(vm_t *vm, int32_t chip, uint32_t key, vm_tree_t *tree) {
    vm_packet_t packet = {key, 0, 1, chip, -1, -1, 0};
    tree->key = key;
    tree->mask = 0;
    walk(vm, &packet, tree);
}
