// A chip's router: its routing table, matched as the SpiNNaker router's
// TCAM matches it, and what it does with a packet (vm_router.c).  The
// untimed walk (vm_walk.c) and the clock (vm_clock.c) both ask it, so
// the two machines route alike.
#ifndef SPIDNN_VM_ROUTER_H
#define SPIDNN_VM_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "vm_map.h"

#define VM_N_LINKS          6       // E, NE, N, W, SW, S
#define VM_MAX_ROUTES       1024    // router entries per chip
#define VM_MAX_HOPS         256     // a packet going round in circles dies

typedef struct vm_route {
    uint32_t key, mask, route;      // route: bits 0-5 links, 6+ processors
} vm_route_t;

#define VM_ROUTER_RECENT    8       // entries tried before the map

typedef struct vm_router {
    vm_route_t *routes;
    uint32_t n_routes;
    // Every key looked up, and the entry that matched it or -1.
    vm_map_t seen;
    // No key matches two entries (PACMAN's tables): then any entry that
    // matches is the first, and the last few that matched are tried
    // before the map (a core's keys come in runs through one entry).
    bool disjoint;
    int32_t recent[VM_ROUTER_RECENT];
    uint32_t next_recent;
} vm_router_t;

// Where a router sends a packet: out of `links` (a bit per link) and to
// its chip's processors in `procs` (a bit per processor).
typedef struct vm_fanout {
    uint32_t links, procs;
} vm_fanout_t;

// The link a packet arrives by at the chip that `link` leads to: the
// links are numbered round the hexagon, so it is the one opposite.
static inline int32_t vm_link_opposite(int32_t link) {
    return (link + 3) % VM_N_LINKS;
}

// Where the router sends a packet with `key` that arrived by link `in`
// (-1: from one of its cores): as the first matching entry says, else,
// from a link, straight on out of the opposite one (default routing).
// False if it drops the packet: a core's packet that matches nothing.
bool vm_router_decide(vm_router_t *router, uint32_t key, int32_t in,
                      vm_fanout_t *out);
// The index of the first entry matching key, or -1.
int32_t vm_router_entry(vm_router_t *router, uint32_t key);
// Forgets the answers kept for the old table (it changed).
void vm_router_forget(vm_router_t *router);
// Frees the table and the answers kept.
void vm_router_free(vm_router_t *router);

#endif
