// The virtual clock: when everything on the machine happens, were it a
// SpiNNaker board.
//
// Every core has its own time.  A callback takes the cycles its app's
// cost points charge it (cost.h; the measured cost table, loaded per core
// by vm_set_core_costs), at 200 MHz.  A packet callback (FIQ/IRQ
// priority) pre-empts: it starts when its packet arrives, or when the
// core's previous packet callback ends, and the queued callback it
// interrupts ends that much later.  A queued callback starts when the one
// before it ends.  A packet leaves its core at the end of the cost
// segment that sent it; each router it passes holds it for hop_ps, and
// each link it crosses is busy for its serialisation time, so packets
// queue for a busy link.  A source core injects the host's packets one
// per source_ps.
//
// Events run in order of virtual time, ties in the order they were
// posted, so a run's times repeat exactly.  A callback runs whole when
// its event comes up (the apps are written so that any order of their
// callbacks computes the same numbers), so a packet callback that pre-
// empts a queued one delays that one's end but not the packets it sent
// before: the clock is slightly optimistic there.
//
// With the clock off (no cost table: vm_set_clock never called) the
// machine runs as vm_untimed.c describes, one time unit per callback.
#include <stdlib.h>
#include <string.h>

#include "vm_arrive.h"
#include "vm_chip.h"
#include "vm_clock.h"
#include "vm_core.h"
#include "vm_machine.h"
#include "vm_results.h"
#include "vm_router.h"

static inline int earlier(const vm_timed_t *a, const vm_timed_t *b) {
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void push(vm_clock_t *clock, vm_timed_t entry) {
    if (clock->n == clock->cap) {
        clock->cap = clock->cap ? 2 * clock->cap : 4096;
        clock->heap = realloc(clock->heap, sizeof(vm_timed_t) * clock->cap);
    }
    size_t i = clock->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(&entry, &clock->heap[parent])) {
            break;
        }
        clock->heap[i] = clock->heap[parent];
        i = parent;
    }
    clock->heap[i] = entry;
}

static vm_timed_t pop(vm_clock_t *clock) {
    vm_timed_t top = clock->heap[0];
    vm_timed_t last = clock->heap[--clock->n];
    size_t i = 0, n = clock->n;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) {
            break;
        }
        if (child + 1 < n && earlier(&clock->heap[child + 1],
                                     &clock->heap[child])) {
            child++;
        }
        if (!earlier(&clock->heap[child], &last)) {
            break;
        }
        clock->heap[i] = clock->heap[child];
        i = child;
    }
    if (n > 0) {
        clock->heap[i] = last;
    }
    return top;
}

// ---- The FIFOs and the heap of their heads.

static inline int head_earlier(const vm_head_t *a, const vm_head_t *b) {
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void heads_sift_down(vm_clock_t *clock, size_t i) {
    vm_head_t moving = clock->heads[i];
    size_t n = clock->n_heads;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) {
            break;
        }
        if (child + 1 < n && head_earlier(&clock->heads[child + 1],
                                          &clock->heads[child])) {
            child++;
        }
        if (!head_earlier(&clock->heads[child], &moving)) {
            break;
        }
        clock->heads[i] = clock->heads[child];
        i = child;
    }
    clock->heads[i] = moving;
}

static void heads_push(vm_clock_t *clock, vm_head_t head) {
    if (clock->n_heads == clock->heads_cap) {
        clock->heads_cap = clock->heads_cap ? 2 * clock->heads_cap : 256;
        clock->heads = realloc(clock->heads,
                               sizeof(vm_head_t) * clock->heads_cap);
    }
    size_t i = clock->n_heads++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!head_earlier(&head, &clock->heads[parent])) {
            break;
        }
        clock->heads[i] = clock->heads[parent];
        i = parent;
    }
    clock->heads[i] = head;
}

// The FIFO of core c's packets (from its packet callbacks or its queued
// ones) and of link l of chip c.
static inline uint32_t core_fifo(const vm_t *vm, int32_t c) {
    return 2u * (uint32_t) c + vm->clock.in_packet;
}

static inline uint32_t link_fifo(const vm_t *vm, int32_t chip, int32_t l) {
    return 2u * (uint32_t) vm->n_cores + 6u * (uint32_t) chip
            + (uint32_t) l;
}

// Posts an event to a FIFO, or to the heap if the FIFO's last is later
// (the order is (time, seq) wherever an event waits).
static void post(vm_t *vm, uint32_t f, vm_timed_t entry) {
    vm_clock_t *clock = &vm->clock;
    entry.seq = clock->seq++;
    if (clock->fifos == NULL) {
        clock->n_fifos = 2u * (size_t) vm->n_cores + 6u * (size_t) vm->n_chips;
        clock->fifos = calloc(clock->n_fifos, sizeof(vm_fifo_t));
    }
    if (f >= clock->n_fifos) {
        push(clock, entry);
        return;
    }
    vm_fifo_t *fifo = &clock->fifos[f];
    if (fifo->len == 0) {
        heads_push(clock, (vm_head_t) {entry.time, entry.seq, f});
    } else if (fifo->ring[(fifo->head + fifo->len - 1) % fifo->cap].time
               > entry.time) {
        push(clock, entry);
        return;
    }
    if (fifo->len == fifo->cap) {
        uint32_t cap = fifo->cap ? 2 * fifo->cap : 64;
        vm_timed_t *ring = malloc(sizeof(vm_timed_t) * cap);
        for (uint32_t i = 0; i < fifo->len; i++) {
            ring[i] = fifo->ring[(fifo->head + i) % fifo->cap];
        }
        free(fifo->ring);
        fifo->ring = ring;
        fifo->head = 0;
        fifo->cap = cap;
    }
    fifo->ring[(fifo->head + fifo->len++) % fifo->cap] = entry;
}

static void post_other(vm_t *vm, vm_timed_t entry) {
    entry.seq = vm->clock.seq++;
    push(&vm->clock, entry);
}

static inline int clock_pending(const vm_clock_t *clock) {
    return clock->n > 0 || clock->n_heads > 0;
}

// The earliest event waiting, FIFO or heap.
static vm_timed_t next_event(vm_clock_t *clock) {
    if (clock->n_heads == 0 || (clock->n > 0 && (
            clock->heap[0].time < clock->heads[0].time
            || (clock->heap[0].time == clock->heads[0].time
                && clock->heap[0].seq < clock->heads[0].seq)))) {
        return pop(clock);
    }
    vm_fifo_t *fifo = &clock->fifos[clock->heads[0].fifo];
    vm_timed_t entry = fifo->ring[fifo->head];
    fifo->head = (fifo->head + 1) % fifo->cap;
    if (--fifo->len > 0) {
        const vm_timed_t *next = &fifo->ring[fifo->head];
        clock->heads[0].time = next->time;
        clock->heads[0].seq = next->seq;
    } else {
        clock->heads[0] = clock->heads[--clock->n_heads];
    }
    if (clock->n_heads > 0) {
        heads_sift_down(clock, 0);
    }
    return entry;
}

static inline uint64_t later(uint64_t a, uint64_t b) {
    return a > b ? a : b;
}

static inline void finished_at(vm_t *vm, uint64_t time) {
    vm->clock.last = later(vm->clock.last, time);
}

uint64_t vm_clock_core_time(vm_t *vm) {
    if (vm->current < 0) {
        return vm->clock.now;
    }
    vm_core_t *core = &vm->cores[vm->current];
    return core->cb_start + *core->charge;
}

// ---- Packets.

static void post_route(vm_t *vm, uint32_t fifo, int32_t chip, int32_t in,
                       uint32_t key, uint32_t payload, int has_payload,
                       uint32_t hops, uint64_t time) {
    post(vm, fifo, (vm_timed_t) {time, 0,
            {VM_EV_ROUTE, chip, key, payload, NULL}, in,
            (uint32_t) has_payload, hops});
}

static void post_source(vm_t *vm, int32_t source, uint64_t time) {
    post_other(vm, (vm_timed_t) {time, 0,
            {VM_EV_SOURCE, source, 0, 0, NULL}, -1, 0, 0});
}

void vm_clock_host_send(vm_t *vm, int32_t source, uint32_t key,
                        uint32_t payload) {
    // The source core sends it in its turn.
    vm_core_t *src = &vm->cores[source];
    if (src->outbox_len == src->outbox_cap) {
        src->outbox_cap = src->outbox_cap ? 2 * src->outbox_cap : 1024;
        src->outbox = realloc(src->outbox,
                              2 * sizeof(uint32_t) * src->outbox_cap);
    }
    if (src->outbox_head == src->outbox_len) {
        src->outbox_head = src->outbox_len = 0;
        post_source(vm, source, later(vm->clock.host_time,
                                      src->source_free));
    }
    src->outbox[2 * src->outbox_len] = key;
    src->outbox[2 * src->outbox_len + 1] = payload;
    src->outbox_len++;
}

void vm_clock_send(vm_t *vm, uint32_t key, uint32_t payload,
                   int has_payload) {
    vm->stats.sent++;
    post_route(vm, core_fifo(vm, vm->current), vm->cores[vm->current].chip,
               -1, key, payload, has_payload, 0,
               vm_clock_core_time(vm) + vm->clock.hop_ps);
}

// A source core sends its next packet (host packets have payloads).
static void source_sends(vm_t *vm, int32_t source, uint64_t time) {
    vm_core_t *src = &vm->cores[source];
    const uint32_t *packet = &src->outbox[2 * src->outbox_head++];
    vm->stats.sent++;
    post_route(vm, 2u * (uint32_t) source, src->chip, -1, packet[0],
               packet[1], 1, 0, time + vm->clock.hop_ps);
    src->source_free = time + vm->clock.source_ps;
    if (src->outbox_head < src->outbox_len) {
        post_source(vm, source, src->source_free);
    }
}

// ---- Callbacks.

// Runs `cb` (NULL: none, the event is lost) on core c from `start`, as
// an event of `kind`; its duration.  Every callback the clock times comes
// here, every packet delivery among them: keep it short.
static inline uint64_t run_timed(vm_t *vm, int32_t c, uint64_t start,
                                 uint32_t entry_line, uint32_t kind,
                                 callback_t cb, uint32_t a, uint32_t b) {
    vm_core_t *core = &vm->cores[c];
    core->cb_start = start;
    *core->charge = core->costs != NULL
            ? core->costs[entry_line].base_ps : 0;
    vm->now++;
    if (cb != NULL) {
        vm->current = c;
        vm->clock.in_packet = entry_line == VM_COST_ENTRY_PACKET;
        vm->stats.events++;
        cb(a, b);
        vm->current = -1;
    }
    uint64_t duration = *core->charge;
    core->busy_ps += duration;
    if (__builtin_expect(vm->clock.log_len < vm->clock.log_cap, 0)) {
        uint64_t *at = &vm->clock.log[4 * vm->clock.log_len++];
        at[0] = (uint64_t) c;
        at[1] = kind;
        at[2] = start;
        at[3] = start + duration;
    }
    if (__builtin_expect(vm->clock.in_control, 0)) {
        core->control_busy_ps += duration;
    }
    finished_at(vm, start + duration);
    return duration;
}

// A packet callback at the clock's now, pre-empting.
static void run_packet(vm_t *vm, int32_t c, uint32_t event, uint32_t key,
                       uint32_t payload) {
    vm_core_t *core = &vm->cores[c];
    uint64_t start = later(vm->clock.now, core->fiq_free);
    uint64_t duration = run_timed(
            vm, c, start, VM_COST_ENTRY_PACKET,
            event == MCPL_PACKET_RECEIVED ? VM_EV_PACKET_PAYLOAD
                                          : VM_EV_PACKET,
            core->callbacks[event], key, payload);
    core->fiq_free = start + duration;
    core->fiq_ps += duration;
    if (core->task_end > start) {
        core->task_end += duration;    // it pre-empted the queued callback
    }
}

// One wake event per core at most: the core takes its queue in turn.
static void wake_at(vm_t *vm, int32_t c, uint64_t time) {
    vm->cores[c].wake_pending = 1;
    post_other(vm, (vm_timed_t) {time, 0,
            {VM_EV_WAKE, c, 0, 0, NULL}, -1, 0, 0});
}

// Queues a callback on its core: it runs after those queued before it.
void vm_clock_post(vm_t *vm, vm_event_t ev, uint64_t time) {
    vm_core_t *core = &vm->cores[ev.core];
    if (core->w_len == core->w_cap) {
        size_t cap = core->w_cap ? 2 * core->w_cap : 16;
        vm_timed_t *ring = malloc(sizeof(vm_timed_t) * cap);
        for (size_t i = 0; i < core->w_len; i++) {
            ring[i] = core->waiting[(core->w_head + i) % core->w_cap];
        }
        free(core->waiting);
        core->waiting = ring;
        core->w_head = 0;
        core->w_cap = cap;
    }
    core->waiting[(core->w_head + core->w_len) % core->w_cap] =
            (vm_timed_t) {time, 0, ev, -1, 0, 0};
    if (core->w_len++ == 0 && !core->wake_pending) {
        wake_at(vm, ev.core, later(time, core->task_end));
    }
}

// A packet for core c's callback for `event`: run at once if it
// pre-empts, else queued.
static void deliver(vm_t *vm, int32_t c, uint32_t event, uint32_t key,
                    uint32_t payload) {
    if (vm->cores[c].priorities[event] <= 0) {
        run_packet(vm, c, event, key, payload);
    } else {
        vm_clock_post(vm, (vm_event_t) {
                event == MCPL_PACKET_RECEIVED ? VM_EV_PACKET_PAYLOAD
                                              : VM_EV_PACKET,
                c, key, payload, NULL}, vm->clock.now);
    }
}

// A packet reaches processor p of chip at the clock's now.
static void arrive(vm_t *vm, vm_chip_t *chip, uint32_t p, uint32_t key,
                   uint32_t payload, int has_payload) {
    int32_t c = vm_arrive(vm, chip, p, key, payload, has_payload);
    if (c >= 0) {
        deliver(vm, c, has_payload ? MCPL_PACKET_RECEIVED
                                   : MC_PACKET_RECEIVED, key, payload);
    }
}

// ---- Packets on their way.

// A packet leaves the router of entry->ev.core at entry->time: to its
// local cores at once, and onto each link when the link is free.
static void route(vm_t *vm, const vm_timed_t *entry) {
    vm_chip_t *here = &vm->chips[entry->ev.core];
    uint32_t key = entry->ev.a, payload = entry->ev.b;
    vm->clock.router_visits++;
    finished_at(vm, entry->time);
    vm_fanout_t out;
    if (!vm_router_decide(&here->router, key, entry->in, &out)) {
        vm->stats.dropped++;
        return;
    }
    for (uint32_t procs = out.procs; procs; procs &= procs - 1) {
        arrive(vm, here, (uint32_t) __builtin_ctz(procs), key, payload,
               (int) entry->has_payload);
    }
    uint64_t serialise = entry->has_payload
            ? vm->clock.link_payload_ps : vm->clock.link_ps;
    for (uint32_t links = out.links; links; links &= links - 1) {
        int32_t l = __builtin_ctz(links);
        int32_t next = here->links[l];
        if (next < 0 || entry->hops + 1 >= VM_MAX_HOPS) {
            vm->stats.dropped++;
            continue;
        }
        uint64_t start = later(entry->time, here->link_free[l]);
        here->link_free[l] = start + serialise;
        here->link_busy_ps[l] += serialise;
        here->link_packets[l]++;
        vm->clock.link_crossings++;
        post_route(vm, link_fifo(vm, entry->ev.core, l), next,
                   vm_link_opposite(l), key, payload,
                   (int) entry->has_payload, entry->hops + 1,
                   start + serialise + vm->clock.hop_ps);
    }
}

void vm_clock_post_dma(vm_t *vm, vm_event_t ev, uint32_t length) {
    // The core's DMA engine takes one transfer at a time, and the chip's
    // cores share its SDRAM.
    vm_core_t *core = &vm->cores[ev.core];
    vm_chip_t *chip = &vm->chips[core->chip];
    uint64_t start = vm_clock_core_time(vm);
    start = start > core->dma_free ? start : core->dma_free;
    start = start > chip->sdram_free ? start : chip->sdram_free;
    uint64_t busy = vm->clock.dma_setup_ps
            + (uint64_t) length * vm->clock.dma_byte_ps;
    core->dma_free = chip->sdram_free = start + busy;
    chip->sdram_busy_ps += busy;
    vm_clock_post(vm, ev, start + busy);
}

// ---- Timer ticks and queued callbacks' turns.

void vm_clock_post_ticks(vm_t *vm, uint32_t n_ticks) {
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
            vm_clock_post(vm, (vm_event_t) {VM_EV_TIMER, i, t + 1, 0, NULL},
                          start + (uint64_t) (t + 1) * period);
        }
    }
}

// A core's turn to run its next queued callback, unless a packet
// callback has pushed the running one's end further.
static void wake(vm_t *vm, int32_t c, uint64_t now) {
    vm_core_t *core = &vm->cores[c];
    core->wake_pending = 0;
    if (core->w_len == 0) {
        return;
    }
    uint64_t start = later(now, core->fiq_free);
    if (core->task_end > start) {
        wake_at(vm, c, core->task_end);
        return;
    }
    vm_event_t ev = core->waiting[core->w_head].ev;
    core->w_head = (core->w_head + 1) % core->w_cap;
    core->w_len--;
    uint64_t duration = run_timed(vm, c, start, VM_COST_ENTRY_TASK, ev.kind,
                                  vm_event_callback(core, ev), ev.a, ev.b);
    core->task_end = start + duration;
    if (core->w_len > 0 && !core->wake_pending) {
        wake_at(vm, c, later(core->waiting[core->w_head].time,
                             core->task_end));
    }
}

void vm_clock_host_turn(vm_t *vm) {
    vm->clock.host_time = vm->clock.last;
}

void vm_clock_control_begins(vm_t *vm) {
    vm->clock.host_time = vm->clock.last;
    vm->clock.in_control = 1;
}

void vm_clock_control_ends(vm_t *vm) {
    vm->clock.control_ps += vm->clock.last - vm->clock.host_time;
    vm->clock.in_control = 0;
}

void vm_clock_count_pass(vm_t *vm, int training, int committed) {
    vm_clock_t *clock = &vm->clock;
    clock->passes_run++;
    clock->commits_run += committed;
    clock->passes += clock->on;
    clock->commits += clock->on && committed;
    // Training: whole batches, as a batch's last pass does more (a conv
    // layer sends its kernel gradients then) and its commit round follows.
    if (clock->on && clock->timed_limit > 0
            && clock->passes >= clock->timed_limit
            && (!training || committed)) {
        clock->spent = 1;
        clock->on = 0;
    }
}

int vm_clock_run(vm_t *vm, uint64_t budget) {
    uint64_t start = vm->now;
    while (clock_pending(&vm->clock)) {
        if (vm->now - start >= budget) {
            vm_fail(vm, "the pass did not finish within %llu time units",
                    (unsigned long long) budget);
            return VM_TIMEOUT;
        }
        vm_timed_t entry = next_event(&vm->clock);
        vm->clock.now = entry.time;
        if (entry.ev.kind == VM_EV_ROUTE) {
            route(vm, &entry);
        } else if (entry.ev.kind == VM_EV_SOURCE) {
            source_sends(vm, entry.ev.core, entry.time);
        } else {
            wake(vm, entry.ev.core, entry.time);
        }
    }
    return VM_OK;
}

void vm_clock_clear(vm_t *vm) {
    vm->clock.n = 0;
    vm->clock.n_heads = 0;
    for (size_t f = 0; f < vm->clock.n_fifos; f++) {
        vm->clock.fifos[f].head = vm->clock.fifos[f].len = 0;
    }
    for (int32_t i = 0; i < vm->n_cores; i++) {
        vm->cores[i].w_len = 0;
        vm->cores[i].wake_pending = 0;
        vm->cores[i].outbox_head = vm->cores[i].outbox_len = 0;
    }
}

void vm_clock_free(vm_t *vm) {
    free(vm->clock.heap);
    for (size_t f = 0; f < vm->clock.n_fifos; f++) {
        free(vm->clock.fifos[f].ring);
    }
    free(vm->clock.fifos);
    free(vm->clock.heads);
    free(vm->clock.log);
    for (int32_t i = 0; i < vm->n_cores; i++) {
        free(vm->cores[i].costs);
        free(vm->cores[i].waiting);
        free(vm->cores[i].outbox);
    }
}
