// Building and tearing down the virtual machine (vm_api.h): chips, links,
// routing tables, and cores with their SDRAM and private app copies.  The
// top of the machine: it may call into every part, to free what each
// keeps, while no part calls back into it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <data_specification.h>
#include "vm_chip.h"
#include "vm_clock.h"
#include "vm_core.h"
#include "vm_dma.h"
#include "vm_faults.h"
#include "vm_machine.h"
#include "vm_router.h"
#include "vm_trees.h"
#include "vm_untimed.h"
#include "vm_build.h"
#include "vm_api.h"

const char *vm_error(vm_t *vm) {
    return vm->error;
}

vm_t *vm_create(int32_t width, int32_t height, uint32_t dtcm_heap_bytes) {
    vm_t *vm = calloc(1, sizeof(vm_t));
    if (vm == NULL) {
        return NULL;
    }
    vm->width = width;
    vm->height = height;
    vm->dtcm_heap_bytes = dtcm_heap_bytes;
    vm->chip_at = malloc(sizeof(int32_t) * (size_t) (width * height));
    for (int32_t i = 0; i < width * height; i++) {
        vm->chip_at[i] = -1;
    }
    vm->current = -1;
    return vm;
}

int32_t vm_add_chip(vm_t *vm, int32_t x, int32_t y) {
    if (x < 0 || y < 0 || x >= vm->width || y >= vm->height
            || vm->chip_at[y * vm->width + x] >= 0) {
        vm_fail(vm, "bad or duplicate chip (%d, %d)", x, y);
        return -1;
    }
    vm->chips = realloc(vm->chips, sizeof(vm_chip_t) * (vm->n_chips + 1));
    vm_chip_t *chip = &vm->chips[vm->n_chips];
    memset(chip, 0, sizeof(*chip));
    chip->x = x;
    chip->y = y;
    for (int i = 0; i < VM_N_LINKS; i++) {
        chip->links[i] = -1;
    }
    for (int i = 0; i < VM_CORES_PER_CHIP; i++) {
        chip->cores[i] = -1;
    }
    vm->chip_at[y * vm->width + x] = vm->n_chips;
    return vm->n_chips++;
}

static int32_t chip_index(vm_t *vm, int32_t x, int32_t y) {
    if (x < 0 || y < 0 || x >= vm->width || y >= vm->height) {
        return -1;
    }
    return vm->chip_at[y * vm->width + x];
}

int vm_add_link(vm_t *vm, int32_t x, int32_t y, int32_t link,
                int32_t to_x, int32_t to_y) {
    int32_t from = chip_index(vm, x, y), to = chip_index(vm, to_x, to_y);
    if (from < 0 || to < 0 || link < 0 || link >= VM_N_LINKS) {
        vm_fail(vm, "bad link %d from (%d, %d) to (%d, %d)",
                link, x, y, to_x, to_y);
        return -1;
    }
    vm->chips[from].links[link] = to;
    vm_trees_clear(vm);
    return 0;
}

// Forgets what was worked out from a router's old table: its answers
// and every multicast tree that passed through it.
static void routes_changed(vm_t *vm, vm_router_t *router) {
    vm_router_forget(router);
    vm_trees_clear(vm);
}

int vm_set_routes(vm_t *vm, int32_t x, int32_t y, uint32_t n,
                  const uint32_t *keys, const uint32_t *masks,
                  const uint32_t *routes) {
    int32_t c = chip_index(vm, x, y);
    if (c < 0) {
        vm_fail(vm, "no chip (%d, %d) for routes", x, y);
        return -1;
    }
    if (n > VM_MAX_ROUTES) {
        vm_fail(vm, "chip (%d, %d) needs %u routing entries; a SpiNNaker "
                "router holds %d", x, y, n, VM_MAX_ROUTES);
        return -1;
    }
    vm_router_t *router = &vm->chips[c].router;
    free(router->routes);
    router->routes = malloc(sizeof(vm_route_t) * (n ? n : 1));
    for (uint32_t i = 0; i < n; i++) {
        router->routes[i] = (vm_route_t) {keys[i], masks[i], routes[i]};
    }
    router->n_routes = n;
    routes_changed(vm, router);
    return 0;
}

int vm_remove_route(vm_t *vm, int32_t x, int32_t y, uint32_t index) {
    int32_t c = chip_index(vm, x, y);
    if (c < 0 || index >= vm->chips[c].router.n_routes) {
        vm_fail(vm, "no routing entry %u on chip (%d, %d)", index, x, y);
        return -1;
    }
    vm_router_t *router = &vm->chips[c].router;
    memmove(&router->routes[index], &router->routes[index + 1],
            sizeof(vm_route_t) * (router->n_routes - index - 1));
    router->n_routes--;
    routes_changed(vm, router);
    return 0;
}

uint32_t vm_n_routes(vm_t *vm, int32_t x, int32_t y) {
    int32_t c = chip_index(vm, x, y);
    return c < 0 ? 0 : vm->chips[c].router.n_routes;
}

// The charge counter of cores whose app has none (cost.h), and of edge
// cores: the clock charges them nothing.
static uint64_t no_charge;

static int32_t new_core(vm_t *vm, int32_t x, int32_t y, int32_t p,
                        int32_t kind) {
    int32_t c = chip_index(vm, x, y);
    if (c < 0 || p < 1 || p >= VM_CORES_PER_CHIP) {
        vm_fail(vm, "no application core %d on chip (%d, %d): cores 1-%d "
                "run applications", p, x, y, VM_CORES_PER_CHIP - 1);
        return -1;
    }
    if (vm->chips[c].cores[p] >= 0) {
        vm_fail(vm, "core (%d, %d, %d) placed twice", x, y, p);
        return -1;
    }
    if (vm->n_cores == vm->cap_cores) {
        vm->cap_cores = vm->cap_cores ? 2 * vm->cap_cores : 64;
        vm->cores = realloc(vm->cores, sizeof(vm_core_t) * vm->cap_cores);
    }
    vm_core_t *core = &vm->cores[vm->n_cores];
    memset(core, 0, sizeof(*core));
    core->chip = c;
    core->p = p;
    core->kind = kind;
    core->charge = &no_charge;
    vm->chips[c].cores[p] = vm->n_cores;
    return vm->n_cores++;
}

int32_t vm_add_edge_core(vm_t *vm, int32_t x, int32_t y, int32_t p,
                         int32_t kind) {
    if (kind != VM_CORE_SOURCE && kind != VM_CORE_GATHERER) {
        vm_fail(vm, "unknown edge core kind %d", kind);
        return -1;
    }
    return new_core(vm, x, y, p, kind);
}

// Lays out the core's SDRAM block as the data specification executor
// does: the metadata header, then each region, word aligned.
static int build_sdram(vm_t *vm, vm_core_t *core, uint32_t n_regions,
                       const uint32_t *region_ids, const uint32_t *sizes,
                       const uint8_t *contents) {
    size_t total = sizeof(data_specification_metadata_t);
    for (uint32_t i = 0; i < n_regions; i++) {
        total += (sizes[i] + 3u) & ~3u;
    }
    vm_chip_t *chip = &vm->chips[core->chip];
    if (chip->sdram_used + total > VM_SDRAM_BYTES) {
        vm_fail(vm, "chip (%d, %d) is out of SDRAM: %llu + %zu bytes > %u",
                chip->x, chip->y, (unsigned long long) chip->sdram_used,
                total, VM_SDRAM_BYTES);
        return -1;
    }
    chip->sdram_used += total;
    core->sdram = calloc(1, total);
    data_specification_metadata_t *meta = (void *) core->sdram;
    meta->magic_number = DATA_SPECIFICATION_MAGIC_NUMBER;
    meta->version = DATA_SPECIFICATION_VERSION;
    uint8_t *next = core->sdram + sizeof(*meta);
    for (uint32_t i = 0; i < n_regions; i++) {
        if (region_ids[i] >= MAX_MEM_REGIONS) {
            vm_fail(vm, "region %u out of range", region_ids[i]);
            return -1;
        }
        memcpy(next, contents, sizes[i]);
        meta->regions[region_ids[i]].pointer = next;
        meta->regions[region_ids[i]].n_words = (sizes[i] + 3u) / 4u;
        contents += sizes[i];
        next += (sizes[i] + 3u) & ~3u;
    }
    return 0;
}

int32_t vm_add_app_core(vm_t *vm, int32_t x, int32_t y, int32_t p,
                        const char *private_copy_path, uint32_t n_regions,
                        const uint32_t *region_ids, const uint32_t *sizes,
                        const uint8_t *contents) {
    int32_t index = new_core(vm, x, y, p, VM_CORE_APP);
    if (index < 0) {
        return -1;
    }
    vm_core_t *core = &vm->cores[index];
    if (build_sdram(vm, core, n_regions, region_ids, sizes, contents) < 0) {
        return -1;
    }
    // The path names a copy of the app made for this core alone, so the
    // loader maps a fresh instance with its own globals.
    core->handle = dlopen(private_copy_path, RTLD_NOW | RTLD_LOCAL);
    if (core->handle == NULL) {
        vm_fail(vm, "cannot load %s: %s", private_copy_path, dlerror());
        return -1;
    }
    if (dlsym(core->handle, "c_main") == NULL) {
        vm_fail(vm, "%s has no c_main", private_copy_path);
        return -1;
    }
    // The app copy's cost lines and charge (cost.h), for the clock.
    core->app_lines = dlsym(core->handle, "spidnn_cost_lines");
    core->charge = dlsym(core->handle, "spidnn_cost_charge");
    if (core->app_lines == NULL || core->charge == NULL) {
        core->app_lines = NULL;
        core->charge = &no_charge;
    }
    return index;
}

// Every core's DTCM heap as one zeroed block, in huge pages where the
// host allows: a packet delivery then touches few pages, whichever core.
int vm_allocate_dtcm(vm_t *vm) {
    size_t bytes = (size_t) vm->n_cores * vm->dtcm_heap_bytes;
    size_t huge_page = 2u << 20;
    bytes = (bytes + huge_page - 1) / huge_page * huge_page;
    void *arena = NULL;
    if (bytes == 0 || posix_memalign(&arena, huge_page, bytes) != 0) {
        vm_fail(vm, "cannot allocate %zu bytes of DTCM", bytes);
        return VM_BAD_CALL;
    }
    madvise(arena, bytes, MADV_HUGEPAGE);
    memset(arena, 0, bytes);
    vm->dtcm_arena = arena;
    for (int32_t i = 0; i < vm->n_cores; i++) {
        vm->cores[i].dtcm = vm->dtcm_arena
                + (size_t) i * vm->dtcm_heap_bytes;
    }
    return VM_OK;
}

void vm_destroy(vm_t *vm) {
    if (vm == NULL) {
        return;
    }
    vm_faults_free(vm);
    vm_clock_free(vm);
    vm_dma_free(vm);
    vm_untimed_free(vm);
    for (int32_t i = 0; i < vm->n_cores; i++) {
        vm_core_t *core = &vm->cores[i];
        if (core->handle != NULL) {
            dlclose(core->handle);
        }
        free(core->sdram);
        free(core->trace);
        free(core->partitions);
    }
    for (int32_t i = 0; i < vm->n_chips; i++) {
        vm_router_free(&vm->chips[i].router);
    }
    if (vm_active == vm) {
        vm_active = NULL;
    }
    free(vm->dtcm_arena);
    free(vm->cores);
    free(vm->chips);
    free(vm->chip_at);
    free(vm->out_keys);
    free(vm->out_payloads);
    free(vm);
}
