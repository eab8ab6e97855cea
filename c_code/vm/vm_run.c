// The event loop: packets routed hop by hop through the chips' tables,
// callbacks run one at a time in arrival order (so runs are deterministic).
#include <dlfcn.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm_internal.h"
#include "vm_api.h"

vm_t *vm_active = NULL;

vm_core_t *vm_current_core(void) {
    return &vm_active->cores[vm_active->current];
}

// Doubles the ring buffer, unrolling it to start at index 0.
static void grow_queue(vm_t *vm) {
    size_t cap = vm->q_cap ? 2 * vm->q_cap : 4096;
    vm_event_t *q = malloc(sizeof(vm_event_t) * cap);
    for (size_t i = 0; i < vm->q_len; i++) {
        q[i] = vm->queue[(vm->q_head + i) & (vm->q_cap - 1)];
    }
    free(vm->queue);
    vm->queue = q;
    vm->q_head = 0;
    vm->q_cap = cap;
}

static inline void enqueue(vm_t *vm, vm_event_t ev) {
    if (__builtin_expect(vm->q_len == vm->q_cap, 0)) {
        grow_queue(vm);
    }
    // The capacity is a power of two: wrap with a mask.
    vm->queue[(vm->q_head + vm->q_len) & (vm->q_cap - 1)] = ev;
    vm->q_len++;
}

void vm_enqueue(vm_t *vm, vm_event_t ev) {
    enqueue(vm, ev);
}

// First matching entry wins, as in the SpiNNaker router's TCAM.
static int32_t lookup(vm_chip_t *chip, uint32_t key) {
    vm_cache_slot_t *slot = &chip->cache[(key ^ (key >> 11)) % VM_ROUTE_CACHE];
    if (slot->valid && slot->key == key) {
        return slot->entry;
    }
    int32_t found = -1;
    for (uint32_t i = 0; i < chip->n_routes; i++) {
        if ((key & chip->routes[i].mask) == chip->routes[i].key) {
            found = (int32_t) i;
            break;
        }
    }
    *slot = (vm_cache_slot_t) {key, found, 1};
    return found;
}

static void record_output(vm_t *vm, uint32_t key, uint32_t payload) {
    if (vm->n_out == vm->cap_out) {
        vm->cap_out = vm->cap_out ? 2 * vm->cap_out : 1024;
        vm->out_keys = realloc(vm->out_keys, sizeof(uint32_t) * vm->cap_out);
        vm->out_payloads = realloc(
                vm->out_payloads, sizeof(uint32_t) * vm->cap_out);
    }
    vm->out_keys[vm->n_out] = key;
    vm->out_payloads[vm->n_out] = payload;
    vm->n_out++;
    vm->stats.gathered++;
}

static inline void deliver(vm_t *vm, vm_chip_t *chip, uint32_t p,
                           uint32_t key, uint32_t payload, int has_payload) {
    int32_t c = p < VM_CORES_PER_CHIP ? chip->cores[p] : -1;
    if (c < 0 || vm->cores[c].kind == VM_CORE_SOURCE
            || vm->cores[c].errored) {
        vm->stats.dropped++;
        return;
    }
    vm_core_t *core = &vm->cores[c];
    core->received++;
    core->pass_received++;
    vm->stats.delivered++;
    if (core->kind == VM_CORE_GATHERER) {
        record_output(vm, key, payload);
        return;
    }
    uint32_t event = has_payload ? MCPL_PACKET_RECEIVED : MC_PACKET_RECEIVED;
    callback_t cb = core->callbacks[event];
    if (cb == NULL) {
        return;   // no callback: the packet is lost, as on the chip
    }
    if (core->priorities[event] <= 0
            && vm->preemption_depth < VM_MAX_PREEMPTION) {
        // A FIQ or IRQ callback pre-empts whatever the core is running,
        // as on the chip: run it now, then resume the interrupted core.
        int32_t interrupted = vm->current;
        vm->current = c;
        vm->preemption_depth++;
        vm->stats.events++;
        cb(key, payload);
        vm->preemption_depth--;
        vm->current = interrupted;
        return;
    }
    enqueue(vm, (vm_event_t) {
        has_payload ? VM_EV_PACKET_PAYLOAD : VM_EV_PACKET, c, key, payload,
        NULL});
}

// Counts a packet a core sends, in total, in this pass and by partition.
void vm_count_sent(vm_core_t *core, uint32_t key) {
    core->sent++;
    core->pass_sent++;
    for (uint32_t i = 0; i < core->n_partitions; i++) {
        if ((key & core->partitions[i].mask) == core->partitions[i].key) {
            core->partitions[i].sent++;
            return;
        }
    }
}

// Routes one packet from a core on `chip` to every destination its key
// reaches.  Links are numbered E, NE, N, W, SW, S; a packet that arrives on
// link l and matches no entry is default-routed out of link (l + 3) % 6,
// straight on; one a core sends that matches nothing is dropped.
void vm_send(vm_t *vm, int32_t chip, uint32_t key, uint32_t payload,
             int has_payload) {
    int32_t stack_chip[VM_MAX_HOPS], stack_in[VM_MAX_HOPS];
    uint32_t stack_hops[VM_MAX_HOPS];
    int top = 0;
    vm->stats.sent++;
    stack_chip[top] = chip;
    stack_in[top] = -1;
    stack_hops[top] = 0;
    top++;
    while (top > 0) {
        top--;
        int32_t c = stack_chip[top], in = stack_in[top];
        uint32_t hops = stack_hops[top];
        vm_chip_t *here = &vm->chips[c];
        int32_t entry = lookup(here, key);
        uint32_t route;
        if (entry >= 0) {
            route = here->routes[entry].route;
        } else if (in >= 0) {
            route = 1u << ((in + 3) % VM_N_LINKS);
        } else {
            vm->stats.dropped++;
            continue;
        }
        // Visit only the set bits: processors first, then links.
        for (uint32_t procs = route >> VM_N_LINKS; procs; procs &= procs - 1) {
            deliver(vm, here, (uint32_t) __builtin_ctz(procs), key, payload,
                    has_payload);
        }
        for (uint32_t links = route & ((1u << VM_N_LINKS) - 1); links;
                links &= links - 1) {
            int32_t l = __builtin_ctz(links);
            int32_t next = here->links[l];
            if (next < 0 || hops + 1 >= VM_MAX_HOPS || top >= VM_MAX_HOPS) {
                vm->stats.dropped++;
                continue;
            }
            stack_chip[top] = next;
            stack_in[top] = (l + 3) % VM_N_LINKS;
            stack_hops[top] = hops + 1;
            top++;
        }
    }
}

// Runs one callback of a core; returns the core that called rt_error in
// it (itself, or one whose packet callback pre-empted it), or -1.
static int32_t guarded_call(vm_t *vm, int32_t core, callback_t cb,
                            uint a, uint b) {
    int32_t failed = -1;
    vm->current = core;
    vm->stats.events++;
    if (setjmp(vm->on_rt_error) == 0) {
        cb(a, b);
    } else {
        failed = vm->current;
        vm->preemption_depth = 0;
    }
    vm->current = -1;
    return failed;
}

static void run_c_main(uint a, uint b) {
    (void) a; (void) b;
    void (*c_main)(void);
    *(void **) &c_main = dlsym(vm_current_core()->handle, "c_main");
    c_main();
}

// Runs the callback an event calls for; rt_error jumps out of it to the
// setjmp in run_until_quiet.
static void dispatch(vm_t *vm, vm_event_t ev) {
    vm_core_t *core = &vm->cores[ev.core];
    if (core->errored) {
        return;
    }
    callback_t cb = NULL;
    switch (ev.kind) {
    case VM_EV_PACKET_PAYLOAD:
        cb = core->callbacks[MCPL_PACKET_RECEIVED];
        break;
    case VM_EV_PACKET:
        cb = core->callbacks[MC_PACKET_RECEIVED];
        break;
    case VM_EV_USER:
        cb = core->callbacks[USER_EVENT];
        break;
    case VM_EV_TIMER:
        cb = core->callbacks[TIMER_TICK];
        break;
    default:
        cb = ev.cb;
    }
    if (cb == NULL) {
        return;   // no callback: the event is lost, as on the chip
    }
    vm->current = ev.core;
    vm->stats.events++;
    cb(ev.a, ev.b);
    vm->current = -1;
}

static int core_error(vm_t *vm, int32_t index) {
    vm_core_t *core = &vm->cores[index];
    vm_chip_t *chip = &vm->chips[core->chip];
    vm_fail(vm, "core (%d, %d, %d) stopped with run-time error %u: %s",
            chip->x, chip->y, core->p, core->error_code, core->last_error);
    return VM_CORE_ERROR;
}

// After a core's rt_error: the machine stops and the error names it.
static int stop_on_error(vm_t *vm) {
    int32_t failed = vm->current;
    vm->current = -1;
    vm->preemption_depth = 0;
    vm->q_len = 0;
    return core_error(vm, failed);
}

static int run_until_quiet(vm_t *vm, uint64_t max_events) {
    // One setjmp for the whole run, not one per callback: a core's
    // rt_error ends the run.
    if (setjmp(vm->on_rt_error) != 0) {
        return stop_on_error(vm);
    }
    uint64_t n = 0;
    while (vm->q_len > 0) {
        if (n++ >= max_events) {
            vm_fail(vm, "the machine did not go quiet within %llu events",
                    (unsigned long long) max_events);
            vm->q_len = 0;
            return VM_LIVELOCK;
        }
        vm_event_t ev = vm->queue[vm->q_head];
        vm->q_head = (vm->q_head + 1) & (vm->q_cap - 1);
        vm->q_len--;
        dispatch(vm, ev);
    }
    return VM_OK;
}

// Every core's DTCM heap as one zeroed block, in huge pages where the
// host allows: a packet delivery then touches few pages, whichever core.
static int allocate_dtcm(vm_t *vm) {
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

int vm_start(vm_t *vm) {
    vm_active = vm;
    int rc = allocate_dtcm(vm);
    if (rc != VM_OK) {
        return rc;
    }
    for (int32_t i = 0; i < vm->n_cores; i++) {
        vm_core_t *core = &vm->cores[i];
        if (core->kind != VM_CORE_APP) {
            continue;
        }
        int32_t failed = guarded_call(vm, i, run_c_main, 0, 0);
        if (failed >= 0) {
            return core_error(vm, failed);
        }
    }
    return run_until_quiet(vm, UINT64_MAX);
}

static void reset_pass(vm_t *vm) {
    for (int32_t i = 0; i < vm->n_cores; i++) {
        vm->cores[i].pass_sent = 0;
        vm->cores[i].pass_received = 0;
    }
    vm->n_out = 0;
}

int vm_run_samples(vm_t *vm, uint32_t n_samples, uint32_t n_inject,
                   const int32_t *src_cores, const uint32_t *keys,
                   const uint32_t *payloads, uint32_t n_expected,
                   uint32_t *out_keys, uint32_t *out_payloads,
                   uint64_t max_events_per_sample, uint32_t *n_done) {
    vm_active = vm;
    *n_done = 0;
    for (uint32_t i = 0; i < n_inject; i++) {
        if (src_cores[i] < 0 || src_cores[i] >= vm->n_cores
                || vm->cores[src_cores[i]].kind != VM_CORE_SOURCE) {
            vm_fail(vm, "injection %u names core %d, not a source", i,
                    src_cores[i]);
            return VM_BAD_CALL;
        }
    }
    for (uint32_t s = 0; s < n_samples; s++) {
        reset_pass(vm);
        const uint32_t *row = &payloads[(size_t) s * n_inject];
        // Injected packets run pre-empting callbacks at once, so a core
        // can fail while the sources are still sending.
        if (setjmp(vm->on_rt_error) != 0) {
            return stop_on_error(vm);
        }
        for (uint32_t i = 0; i < n_inject; i++) {
            vm_core_t *src = &vm->cores[src_cores[i]];
            vm_count_sent(src, keys[i]);
            vm_send(vm, src->chip, keys[i], row[i], 1);
        }
        int rc = run_until_quiet(vm, max_events_per_sample);
        if (rc != VM_OK) {
            return rc;
        }
        if (vm->n_out != n_expected) {
            vm_fail(vm, "sample %u: %zu of %u expected packets reached the "
                    "gatherers before the machine went quiet", s, vm->n_out,
                    n_expected);
            return VM_STALLED;
        }
        memcpy(&out_keys[(size_t) s * n_expected], vm->out_keys,
               sizeof(uint32_t) * n_expected);
        memcpy(&out_payloads[(size_t) s * n_expected], vm->out_payloads,
               sizeof(uint32_t) * n_expected);
        *n_done = s + 1;
    }
    return VM_OK;
}

int vm_run_ticks(vm_t *vm, uint32_t n_ticks, uint64_t max_events) {
    vm_active = vm;
    for (uint32_t t = 0; t < n_ticks; t++) {
        for (int32_t i = 0; i < vm->n_cores; i++) {
            vm_core_t *core = &vm->cores[i];
            if (core->kind == VM_CORE_APP && core->timer_period > 0
                    && core->callbacks[TIMER_TICK] != NULL) {
                vm_enqueue(vm, (vm_event_t) {VM_EV_TIMER, i, t + 1, 0, NULL});
            }
        }
        int rc = run_until_quiet(vm, max_events);
        if (rc != VM_OK) {
            return rc;
        }
    }
    return VM_OK;
}

void vm_get_stats(vm_t *vm, uint64_t *sent, uint64_t *delivered,
                  uint64_t *dropped, uint64_t *events, uint64_t *gathered) {
    *sent = vm->stats.sent;
    *delivered = vm->stats.delivered;
    *dropped = vm->stats.dropped;
    *events = vm->stats.events;
    *gathered = vm->stats.gathered;
}

int vm_set_core_partitions(vm_t *vm, int32_t core, uint32_t n,
                           const uint32_t *keys, const uint32_t *masks) {
    if (core < 0 || core >= vm->n_cores || n > VM_MAX_PARTITIONS) {
        vm_fail(vm, "core %d cannot count %u partitions", core, n);
        return -1;
    }
    vm_core_t *c = &vm->cores[core];
    for (uint32_t i = 0; i < n; i++) {
        c->partitions[i] = (vm_partition_t) {keys[i], masks[i], 0};
    }
    c->n_partitions = n;
    return 0;
}

void vm_get_partition_counts(vm_t *vm, int32_t core, uint64_t *out) {
    vm_core_t *c = &vm->cores[core];
    for (uint32_t i = 0; i < c->n_partitions; i++) {
        out[i] = c->partitions[i].sent;
    }
}

void vm_get_core_stats(vm_t *vm, int32_t core, uint64_t *out7) {
    vm_core_t *c = &vm->cores[core];
    out7[0] = c->sent;
    out7[1] = c->received;
    out7[2] = c->pass_sent;
    out7[3] = c->pass_received;
    out7[4] = c->dtcm_used;
    out7[5] = c->errored;
    out7[6] = c->error_code;
}
