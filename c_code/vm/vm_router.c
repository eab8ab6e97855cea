// A router's table lookup and its routing decision (vm_router.h).
//
// A router whose entries are disjoint first tries the few entries that
// matched last, which a run of one core's keys keeps hitting; perf showed
// a third of a convnet's training in the map's cache misses.
//
// Each router remembers the answer for every key it has looked up
// (vm_map.h; forgotten when the table changes), so a key costs one scan
// of the table the first time and one probe after.  A fixed cache of
// 1024 slots could not hold a 2-D split layer's keys (thousands a sample
// through one chip): perf showed a quarter of a run in rescanning tables
// of hundreds of entries.
#include <stdlib.h>

#include "vm_router.h"

static bool matches(const vm_route_t *route, uint32_t key) {
    return (key & route->mask) == route->key;
}

static int32_t scan(const vm_router_t *router, uint32_t key) {
    for (uint32_t i = 0; i < router->n_routes; i++) {
        if (matches(&router->routes[i], key)) {
            return (int32_t) i;
        }
    }
    return -1;
}

int32_t vm_router_entry(vm_router_t *router, uint32_t key) {
    if (router->disjoint) {
        for (uint32_t r = 0; r < VM_ROUTER_RECENT; r++) {
            int32_t entry = router->recent[r];
            if (entry >= 0 && matches(&router->routes[entry], key)) {
                return entry;
            }
        }
    }
    int32_t found = vm_map_get(&router->seen, key);
    if (found == VM_MAP_EMPTY) {
        found = scan(router, key);
        vm_map_put(&router->seen, key, found);
    }
    if (found >= 0) {
        router->recent[router->next_recent] = found;
        router->next_recent = (router->next_recent + 1) % VM_ROUTER_RECENT;
    }
    return found;
}

// Whether no key matches two of the table's entries: two entries share
// a key where their keys agree on the bits both masks keep.
static bool disjoint(const vm_router_t *router) {
    for (uint32_t i = 0; i < router->n_routes; i++) {
        const vm_route_t *a = &router->routes[i];
        for (uint32_t j = i + 1; j < router->n_routes; j++) {
            const vm_route_t *b = &router->routes[j];
            if (((a->key ^ b->key) & a->mask & b->mask) == 0) {
                return false;
            }
        }
    }
    return true;
}

bool vm_router_decide(vm_router_t *router, uint32_t key, int32_t in,
                      vm_fanout_t *out) {
    uint32_t route;
    int32_t entry = vm_router_entry(router, key);
    if (entry >= 0) {
        route = router->routes[entry].route;
    } else if (in >= 0) {
        route = 1u << vm_link_opposite(in);
    } else {
        return false;
    }
    out->links = route & ((1u << VM_N_LINKS) - 1);
    out->procs = route >> VM_N_LINKS;
    return true;
}

void vm_router_forget(vm_router_t *router) {
    vm_map_clear(&router->seen);
    router->disjoint = disjoint(router);
    for (uint32_t r = 0; r < VM_ROUTER_RECENT; r++) {
        router->recent[r] = -1;
    }
    router->next_recent = 0;
}

void vm_router_free(vm_router_t *router) {
    vm_map_clear(&router->seen);
    free(router->routes);
    router->routes = NULL;
}
