// The event loop: packets routed hop by hop through the chips' tables,
// callbacks run one at a time in arrival order (so runs are deterministic)
// or, with no clock and no faults, core by core (vm_mailbox.c).
#include <dlfcn.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <data_specification.h>
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
    if (vm->clock.on) {
        vm_clock_post(vm, ev, vm_clock_core_time(vm));
    } else {
        enqueue(vm, ev);
    }
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

void vm_deliver(vm_t *vm, vm_chip_t *chip, uint32_t p, uint32_t key,
                uint32_t payload, int has_payload) {
    int32_t c = p < VM_CORES_PER_CHIP ? chip->cores[p] : -1;
    if (c < 0 || vm->cores[c].kind == VM_CORE_SOURCE
            || vm->cores[c].errored) {
        vm->stats.dropped++;
        return;
    }
    vm_core_t *core = &vm->cores[c];
    core->received++;
    vm->stats.delivered++;
    vm_trace_delivery(core, key, payload, has_payload);
    if (core->kind == VM_CORE_GATHERER) {
        record_output(vm, key, payload);
        return;
    }
    uint32_t event = has_payload ? MCPL_PACKET_RECEIVED : MC_PACKET_RECEIVED;
    callback_t cb = core->callbacks[event];
    if (cb == NULL) {
        return;   // no callback: the packet is lost, as on the chip
    }
    int stalled = 0;
    if (__builtin_expect(core->stall_at != 0, 0)) {
        vm_stall_check(vm, core);
        stalled = core->stalled_until != 0;
    }
    if (vm->clock.on) {
        vm_event_t ev = {has_payload ? VM_EV_PACKET_PAYLOAD : VM_EV_PACKET,
                         c, key, payload, NULL};
        if (core->priorities[event] <= 0) {
            vm_clock_packet(vm, c, event, key, payload);
        } else {
            vm_clock_post(vm, ev, vm->clock.now);
        }
        return;
    }
    if (core->priorities[event] <= 0 && !stalled
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
    for (uint32_t i = 0; i < core->n_partitions; i++) {
        if ((key & core->partitions[i].mask) == core->partitions[i].key) {
            core->partitions[i].sent++;
            return;
        }
    }
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
            dropped++;
            continue;
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
            vm_tree_add_target(vm, c, out.procs);
        }
        for (uint32_t procs = tree == NULL ? out.procs : 0; procs;
                procs &= procs - 1) {
            vm_deliver(vm, here, (uint32_t) __builtin_ctz(procs), key,
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

void vm_route(vm_t *vm, const vm_packet_t *packet) {
    if (vm_mailbox_mode(vm) && packet->has_payload && packet->in < 0
            && packet->emergency < 0) {
        // The usual: by the key's remembered tree.
        vm_tree_deliver(vm, packet->chip, packet->key, packet->payload);
    } else {
        walk(vm, packet, NULL);
    }
}

void vm_route_tree(vm_t *vm, int32_t chip, uint32_t key, vm_tree_t *tree) {
    vm_packet_t packet = {key, 0, 1, chip, -1, -1, 0};
    walk(vm, &packet, tree);
}

// A core sends a packet into its chip's router.
void vm_send(vm_t *vm, int32_t chip, uint32_t key, uint32_t payload,
             int has_payload) {
    if (vm->clock.on) {
        vm_clock_send(vm, -1, key, payload, has_payload);
        return;
    }
    vm->stats.sent++;
    vm_packet_t packet = {key, payload, (uint32_t) has_payload, chip, -1, -1,
                          0};
    if (vm->faults.n_rules == 0 || !vm_fault_at_source(vm, &packet)) {
        vm_route(vm, &packet);
    }
    if (vm->faults.n_dropped_chips > 0) {
        vm_reinject(vm);
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
callback_t vm_event_callback(const vm_core_t *core, vm_event_t ev) {
    if (core->errored) {
        return NULL;
    }
    switch (ev.kind) {
    case VM_EV_PACKET_PAYLOAD:
        return core->callbacks[MCPL_PACKET_RECEIVED];
    case VM_EV_PACKET:
        return core->callbacks[MC_PACKET_RECEIVED];
    case VM_EV_USER:
        return core->callbacks[USER_EVENT];
    case VM_EV_TIMER:
        return core->callbacks[TIMER_TICK];
    default:
        return ev.cb;
    }
}

void vm_run_event(vm_t *vm, vm_event_t ev) {
    vm->now++;
    callback_t cb = vm_event_callback(&vm->cores[ev.core], ev);
    if (cb == NULL) {
        return;   // no callback: the event is lost, as on the chip
    }
    vm->current = ev.core;
    vm->stats.events++;
    cb(ev.a, ev.b);
    vm->current = -1;
}

static void dispatch(vm_t *vm, vm_event_t ev) {
    vm_core_t *core = &vm->cores[ev.core];
    if (core->stalled_until > vm->now) {
        vm_hold(core, ev);   // it runs when the stall ends
        return;
    }
    vm_run_event(vm, ev);
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
    vm->clock.n = 0;
    vm_mail_clear(vm);
    for (int32_t i = 0; i < vm->n_cores; i++) {
        vm->cores[i].w_len = 0;
        vm->cores[i].wake_pending = 0;
        vm->cores[i].outbox_head = vm->cores[i].outbox_len = 0;
        vm->cores[i].dma_head = vm->cores[i].dma_len = 0;
    }
    return core_error(vm, failed);
}

// Runs until nothing is left to happen, or until `budget` time units
// have passed (the host's timeout: VM_TIMEOUT, with what was still to
// happen left in place, as it would be on a board).
static int run_until_quiet(vm_t *vm, uint64_t budget) {
    // One setjmp for the whole run, not one per callback: a core's
    // rt_error ends the run.
    if (setjmp(vm->on_rt_error) != 0) {
        return stop_on_error(vm);
    }
    if (vm->clock.on) {
        return vm_clock_run(vm, budget);
    }
    uint64_t start = vm->now;
    for (;;) {
        uint64_t next = vm->faults.active ? vm_faults_release(vm) : VM_NEVER;
        if ((vm->r_len > 0 || vm->q_len > 0) && vm->now - start >= budget) {
            vm_fail(vm, "the pass did not finish within %llu time units",
                    (unsigned long long) budget);
            return VM_TIMEOUT;
        }
        if (vm->r_len > 0) {
            // Packets first, as their callbacks would pre-empt.
            vm_mail_drain_next(vm);
            continue;
        }
        if (vm->q_len == 0) {
            if (next == VM_NEVER) {
                return VM_OK;
            }
            // Idle until a delayed packet or a stall's end.
            if (next - start >= budget) {
                vm->now = start + budget;
                vm_fail(vm, "the pass did not finish within %llu time units",
                        (unsigned long long) budget);
                return VM_TIMEOUT;
            }
            if (next > vm->now) {
                vm->now = next;
            }
            continue;
        }
        vm_event_t ev = vm->queue[vm->q_head];
        vm->q_head = (vm->q_head + 1) & (vm->q_cap - 1);
        vm->q_len--;
        dispatch(vm, ev);
    }
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

// The app's STATUS region (control.h), where the host reads its progress.
static core_status_t *status_region(vm_core_t *core) {
    data_specification_metadata_t *ds = (void *) core->sdram;
    return ds->regions[REGION_STATUS].pointer;
}

int vm_start(vm_t *vm) {
    vm_active = vm;
    int rc = allocate_dtcm(vm);
    if (rc != VM_OK) {
        return rc;
    }
    if (!vm_mail_start(vm)) {
        vm_fail(vm, "cannot allocate the chips' mail logs");
        return VM_BAD_CALL;
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
        core->status = status_region(core);
    }
    return run_until_quiet(vm, UINT64_MAX);
}

// The gatherers' packets of the pass or round about to start, which
// the host sends once the machine has finished what came before.
static void reset_pass(vm_t *vm) {
    vm->n_out = 0;
    vm->clock.host_time = vm->clock.last;
}

// A source core (a reverse IP tag or the control source) sends a packet
// the host gave it.
static void inject(vm_t *vm, int32_t source, uint32_t key,
                   uint32_t payload) {
    vm_core_t *src = &vm->cores[source];
    vm_count_sent(src, key);
    if (vm->clock.on) {
        vm_clock_send(vm, source, key, payload, 1);
    } else {
        vm_send(vm, src->chip, key, payload, 1);
    }
}

// Cores whose status does not show one more pass done than `before`.
static uint32_t cores_behind(vm_t *vm, const uint32_t *before) {
    uint32_t behind = 0;
    for (int32_t i = 0; i < vm->n_cores; i++) {
        const core_status_t *status = vm->cores[i].status;
        if (status != NULL && status->passes_done != before[i] + 1) {
            behind++;
        }
    }
    return behind;
}

static void note_passes(vm_t *vm, uint32_t *before) {
    for (int32_t i = 0; i < vm->n_cores; i++) {
        const core_status_t *status = vm->cores[i].status;
        before[i] = status != NULL ? status->passes_done : 0;
    }
}

// One control round: the command's packet (after n_pre packets carrying
// its arguments, such as a commit's scale) leaves the control source with
// the next round number, the machine runs until quiet, and every app core
// must have written that number back.
static int control_round(vm_t *vm, int32_t control_core, uint32_t key,
                         uint64_t budget, uint32_t n_pre,
                         const uint32_t *pre_keys,
                         const uint32_t *pre_payloads) {
    uint32_t round = ++vm->control_round;
    if (setjmp(vm->on_rt_error) != 0) {
        return stop_on_error(vm);
    }
    vm->clock.host_time = vm->clock.last;
    vm->clock.in_control = 1;
    for (uint32_t i = 0; i < n_pre; i++) {
        inject(vm, control_core, pre_keys[i], pre_payloads[i]);
    }
    inject(vm, control_core, key, round);
    int rc = run_until_quiet(vm, budget);
    vm->clock.control_ps += vm->clock.last - vm->clock.host_time;
    vm->clock.in_control = 0;
    if (rc != VM_OK) {
        return rc;
    }
    uint32_t missing = 0;
    for (int32_t i = 0; i < vm->n_cores; i++) {
        const core_status_t *status = vm->cores[i].status;
        missing += status != NULL && status->last_control != round;
    }
    if (missing > 0) {
        vm_fail(vm, "%u core(s) did not carry out control round %u",
                missing, round);
        return VM_CONTROL_FAILED;
    }
    return VM_OK;
}

int vm_control(vm_t *vm, int32_t control_core, uint32_t key,
               uint64_t budget, uint32_t n_pre, const uint32_t *pre_keys,
               const uint32_t *pre_payloads) {
    vm_active = vm;
    if (control_core < 0 || control_core >= vm->n_cores
            || vm->cores[control_core].kind != VM_CORE_SOURCE) {
        vm_fail(vm, "control core %d is not a source", control_core);
        return VM_BAD_CALL;
    }
    reset_pass(vm);
    return control_round(vm, control_core, key, budget, n_pre, pre_keys,
                         pre_payloads);
}

// Whether every core the host sends from is a source (else the error).
static bool all_sources(vm_t *vm, uint32_t n, const int32_t *src_cores) {
    for (uint32_t i = 0; i < n; i++) {
        if (src_cores[i] < 0 || src_cores[i] >= vm->n_cores
                || vm->cores[src_cores[i]].kind != VM_CORE_SOURCE) {
            vm_fail(vm, "packet %u names core %d, not a source", i,
                    src_cores[i]);
            return false;
        }
    }
    return true;
}

int vm_inject(vm_t *vm, uint32_t n, const int32_t *src_cores,
              const uint32_t *keys, const uint32_t *payloads,
              uint64_t budget) {
    vm_active = vm;
    if (!all_sources(vm, n, src_cores)) {
        return VM_BAD_CALL;
    }
    reset_pass(vm);
    // Injected packets run pre-empting callbacks at once.
    if (setjmp(vm->on_rt_error) != 0) {
        return stop_on_error(vm);
    }
    for (uint32_t i = 0; i < n; i++) {
        inject(vm, src_cores[i], keys[i], payloads[i]);
    }
    int rc = run_until_quiet(vm, budget);
    if (rc == VM_TIMEOUT && (vm->r_len > 0 || vm->q_len > 0)) {
        // A slice of a longer run (the feeder trains without the host).
        vm->error[0] = '\0';
        return VM_RUNNING;
    }
    return rc;
}

uint32_t vm_get_outputs(vm_t *vm, uint32_t n, uint32_t *keys,
                        uint32_t *payloads) {
    uint32_t got = vm->n_out < n ? (uint32_t) vm->n_out : n;
    memcpy(keys, vm->out_keys, sizeof(uint32_t) * got);
    memcpy(payloads, vm->out_payloads, sizeof(uint32_t) * got);
    return (uint32_t) vm->n_out;
}

int vm_run_samples(vm_t *vm, uint32_t n_samples, uint32_t n_inject,
                   const int32_t *src_cores, const uint32_t *keys,
                   const uint32_t *payloads, uint32_t n_expected,
                   uint32_t *out_keys, uint32_t *out_payloads,
                   uint64_t budget, const uint8_t *commit_after,
                   uint32_t n_commit_args, const uint32_t *commit_arg_keys,
                   const uint32_t *commit_args, int32_t control_core,
                   uint32_t commit_key, uint32_t *n_done) {
    vm_active = vm;
    *n_done = 0;
    if (!all_sources(vm, n_inject, src_cores)) {
        return VM_BAD_CALL;
    }
    uint32_t *before = malloc(sizeof(uint32_t) * (size_t) vm->n_cores);
    int rc = VM_OK;
    for (uint32_t s = 0; s < n_samples && rc == VM_OK; s++) {
        reset_pass(vm);
        note_passes(vm, before);
        const uint32_t *row = &payloads[(size_t) s * n_inject];
        // Injected packets run pre-empting callbacks at once, so a core
        // can fail while the sources are still sending.
        if (setjmp(vm->on_rt_error) != 0) {
            rc = stop_on_error(vm);
            break;
        }
        for (uint32_t i = 0; i < n_inject; i++) {
            inject(vm, src_cores[i], keys[i], row[i]);
        }
        rc = run_until_quiet(vm, budget);
        if (rc != VM_OK) {
            break;
        }
        uint32_t behind = cores_behind(vm, before);
        if (vm->n_out != n_expected || behind > 0) {
            vm_fail(vm, "%zu of %u expected packets reached the gatherers "
                    "and %u core(s) did not finish their part before the "
                    "machine went quiet", vm->n_out, n_expected, behind);
            rc = VM_STALLED;
            break;
        }
        memcpy(&out_keys[(size_t) s * n_expected], vm->out_keys,
               sizeof(uint32_t) * n_expected);
        memcpy(&out_payloads[(size_t) s * n_expected], vm->out_payloads,
               sizeof(uint32_t) * n_expected);
        *n_done = s + 1;
        int committed = commit_after != NULL && commit_after[s];
        if (committed) {
            rc = control_round(vm, control_core, commit_key, budget,
                               n_commit_args, commit_arg_keys,
                               &commit_args[(size_t) s * n_commit_args]);
            if (rc == VM_STALLED || rc == VM_TIMEOUT) {
                // The batch is done: the host repeats the commit, never
                // aborts (some cores may have applied it).
                rc = VM_CONTROL_FAILED;
            }
        }
        vm_clock_count_pass(vm, commit_after != NULL, committed);
    }
    free(before);
    return rc;
}

int vm_run_ticks(vm_t *vm, uint32_t n_ticks, uint64_t max_events) {
    vm_active = vm;
    if (vm->clock.on) {
        // Every tick at its time (the period is in microseconds).
        uint64_t start = vm->clock.last;
        for (int32_t i = 0; i < vm->n_cores; i++) {
            vm_core_t *core = &vm->cores[i];
            if (core->kind != VM_CORE_APP || core->timer_period == 0
                    || core->callbacks[TIMER_TICK] == NULL) {
                continue;
            }
            uint64_t period = (uint64_t) core->timer_period * 1000000u;
            for (uint32_t t = 0; t < n_ticks; t++) {
                vm_clock_post(vm, (vm_event_t) {VM_EV_TIMER, i, t + 1, 0,
                                                NULL},
                              start + (uint64_t) (t + 1) * period);
            }
        }
        return run_until_quiet(vm, max_events);
    }
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

int vm_trace_core(vm_t *vm, int32_t core, uint32_t capacity) {
    if (core < 0 || core >= vm->n_cores) {
        vm_fail(vm, "no core %d to trace", core);
        return -1;
    }
    vm_core_t *c = &vm->cores[core];
    free(c->trace);
    c->trace = malloc(3 * sizeof(uint32_t) * (capacity ? capacity : 1));
    c->trace_len = 0;
    c->trace_cap = capacity;
    return 0;
}

uint32_t vm_get_trace(vm_t *vm, int32_t core, uint32_t n, uint32_t *keys,
                      uint32_t *payloads, uint32_t *has_payload) {
    vm_core_t *c = &vm->cores[core];
    uint32_t got = c->trace_len < n ? (uint32_t) c->trace_len : n;
    for (uint32_t i = 0; i < got; i++) {
        keys[i] = c->trace[3 * i];
        payloads[i] = c->trace[3 * i + 1];
        has_payload[i] = c->trace[3 * i + 2];
    }
    return (uint32_t) c->trace_len;
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

void vm_get_core_stats(vm_t *vm, int32_t core, uint64_t *out5) {
    vm_core_t *c = &vm->cores[core];
    out5[0] = c->sent;
    out5[1] = c->received;
    out5[2] = c->dtcm_used;
    out5[3] = c->errored;
    out5[4] = c->error_code;
}

void vm_get_core_status(vm_t *vm, int32_t core, uint32_t *out4) {
    vm_core_t *c = &vm->cores[core];
    memset(out4, 0, 4 * sizeof(uint32_t));
    if (c->status != NULL) {
        out4[0] = c->status->passes_done;
        out4[1] = c->status->waiting;
        out4[2] = c->status->last_control;
    }
    out4[3] = c->stalled_until > vm->now;
}
