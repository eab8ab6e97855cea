// A router's table lookup and its routing decision (vm_router.h).
//
// Each router remembers the answer for every key it has looked up
// (vm_map.h; forgotten when the table changes), so a key costs one scan
// of the table the first time and one probe after.  A fixed cache of
// 1024 slots could not hold a 2-D split layer's keys (thousands a sample
// through one chip): perf showed a quarter of a run in rescanning tables
// of hundreds of entries.
#include <stdlib.h>

#include "vm_router.h"

static int32_t scan(const vm_router_t *router, uint32_t key) {
    for (uint32_t i = 0; i < router->n_routes; i++) {
        if ((key & router->routes[i].mask) == router->routes[i].key) {
            return (int32_t) i;
        }
    }
    return -1;
}

// The index of the first entry matching key, or -1.
static int32_t lookup(vm_router_t *router, uint32_t key) {
    int32_t found = vm_map_get(&router->seen, key);
    if (found == VM_MAP_EMPTY) {
        found = scan(router, key);
        vm_map_put(&router->seen, key, found);
    }
    return found;
}

bool vm_router_decide(vm_router_t *router, uint32_t key, int32_t in,
                      vm_fanout_t *out) {
    uint32_t route;
    int32_t entry = lookup(router, key);
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
}

void vm_router_free(vm_router_t *router) {
    vm_map_clear(&router->seen);
    free(router->routes);
    router->routes = NULL;
}
