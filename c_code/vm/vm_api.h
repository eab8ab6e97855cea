// The virtual machine's interface to Python (spiDNN/vm/binding.py).
#ifndef SPIDNN_VM_API_H
#define SPIDNN_VM_API_H

#include <stdint.h>

// Results of the run functions: VM_OK and the rest.
#include "vm_results.h"

typedef struct vm vm_t;

vm_t *vm_create(int32_t width, int32_t height, uint32_t dtcm_heap_bytes);
void vm_destroy(vm_t *vm);
const char *vm_error(vm_t *vm);

int32_t vm_add_chip(vm_t *vm, int32_t x, int32_t y);
int vm_add_link(vm_t *vm, int32_t x, int32_t y, int32_t link,
                int32_t to_x, int32_t to_y);
int vm_set_routes(vm_t *vm, int32_t x, int32_t y, uint32_t n,
                  const uint32_t *keys, const uint32_t *masks,
                  const uint32_t *routes);
int vm_remove_route(vm_t *vm, int32_t x, int32_t y, uint32_t index);
uint32_t vm_n_routes(vm_t *vm, int32_t x, int32_t y);
int32_t vm_add_app_core(vm_t *vm, int32_t x, int32_t y, int32_t p,
                        const char *private_copy_path, uint32_t n_regions,
                        const uint32_t *region_ids, const uint32_t *sizes,
                        const uint8_t *contents);
int32_t vm_add_edge_core(vm_t *vm, int32_t x, int32_t y, int32_t p,
                         int32_t kind);
// Maps the code of original_path (the binary the core's private copy was
// made from) over the copy's, so the app's cores share one copy of it
// (vm_share.c); the bytes shared, 0 if the code differs, -1: no app core.
int64_t vm_share_code(vm_t *vm, int32_t core, const char *original_path);

// Runs every app core's c_main.
int vm_start(vm_t *vm);

// Streams samples through the machine, one pass each: the n_inject packets
// of a sample leave their source cores (keys[i] from src_cores[i], payload
// payloads[s * n_inject + i]), the machine runs until quiet (at most
// `budget` time units: one per callback), and exactly n_expected packets
// must reach the gatherers and every app core's status must show one more
// pass done; the packets are written, in arrival order, to out_keys /
// out_payloads at s * n_expected.  After a sample with commit_after[s]
// (commit_after may be NULL) a control round sends the commit's
// arguments (commit_arg_keys[i] with commit_args[s * n_commit_args + i])
// then commit_key, from control_core.  *n_done: the samples whose pass
// finished.
int vm_run_samples(vm_t *vm, uint32_t n_samples, uint32_t n_inject,
                   const int32_t *src_cores, const uint32_t *keys,
                   const uint32_t *payloads, uint32_t n_expected,
                   uint32_t *out_keys, uint32_t *out_payloads,
                   uint64_t budget, const uint8_t *commit_after,
                   uint32_t n_commit_args, const uint32_t *commit_arg_keys,
                   const uint32_t *commit_args, int32_t control_core,
                   uint32_t commit_key, uint32_t *n_done);

// One control round (control.h): `key` from control_core with the next
// round number as payload, after n_pre argument packets; every app core
// must acknowledge it.  What the gatherers receive meanwhile is kept for
// vm_get_outputs.
int vm_control(vm_t *vm, int32_t control_core, uint32_t key,
               uint64_t budget, uint32_t n_pre, const uint32_t *pre_keys,
               const uint32_t *pre_payloads);
// Packets from source cores as a board's host would send them (keys[i]
// with payloads[i] from src_cores[i]), then the machine runs until quiet
// or for `budget` time units (VM_RUNNING: called again, with or without
// packets, it goes on); nothing is expected of it: what reaches the
// gatherers is kept for vm_get_outputs (the live edge, spiDNN/vm/live.py).
int vm_inject(vm_t *vm, uint32_t n, const int32_t *src_cores,
              const uint32_t *keys, const uint32_t *payloads,
              uint64_t budget);
// The packets gathered since the last pass or control round began: up to
// n copied; returns how many there were.
uint32_t vm_get_outputs(vm_t *vm, uint32_t n, uint32_t *keys,
                        uint32_t *payloads);
// A core's status region (passes_done, waiting, last_control), and whether
// it is stalled now: out4.  Zeros for a core without one.
void vm_get_core_status(vm_t *vm, int32_t core, uint32_t *out4);

// Faults (vm_faults.c).  Probabilities are per router a packet visits.
void vm_set_faults(vm_t *vm, uint64_t seed, float drop_rate,
                   float delay_rate, uint32_t max_delay,
                   uint32_t reinjection);
int vm_add_drop_rule(vm_t *vm, uint32_t key, uint32_t mask, uint32_t group,
                     uint64_t nth);
int vm_set_link_down(vm_t *vm, int32_t chip, int32_t link);
int vm_set_stall(vm_t *vm, int32_t core, uint64_t at_packet,
                 uint64_t duration);
// dropped_random, dropped_targeted, dropped_dead_link, emergency_routed,
// reinjected, lost, delayed, stalls.
void vm_get_fault_counts(vm_t *vm, uint64_t *out8);

// Fires n timer ticks on the cores that asked for a timer, running the
// machine until quiet after each.
int vm_run_ticks(vm_t *vm, uint32_t n_ticks, uint64_t max_events);

// The virtual clock (vm_clock.c): on from this call, with the fabric's
// timing in picoseconds (a router's latency, a link busy with a packet
// without and with payload, a source core's interval between packets, a
// chip's SDRAM busy per byte a DMA transfer moves, a transfer's start).
void vm_set_clock(vm_t *vm, uint64_t hop_ps, uint64_t link_ps,
                  uint64_t link_payload_ps, uint64_t source_ps,
                  uint64_t dma_byte_ps, uint64_t dma_setup_ps);
// Pauses the clock (between passes, the machine quiet): events run
// untimed, one unit each, until it resumes; what it measured is kept.
void vm_pause_clock(vm_t *vm, uint32_t paused);
// A core's cost lines (N_COST_POINTS + 2: the points, then entering a
// packet callback and a queued one): base + slope * size picoseconds.
int vm_set_core_costs(vm_t *vm, int32_t core, uint32_t n_lines,
                      const uint64_t *base_ps, const uint64_t *slope_ps);
// Times only the first n passes from now on (0: all), in training to
// the end of the batch with its commit round; the clock then stops for
// good.
// A pass's work does not depend on its data, so the passes timed stand
// for the rest (spiDNN/vm/timing.py).
void vm_time_passes(vm_t *vm, uint64_t n);
// Whether the clock is set up, the latest time anything finished (ps),
// the time spent in control rounds (ps), router visits, link crossings,
// passes and commit rounds timed, and passes and commit rounds run.
void vm_get_clock(vm_t *vm, uint64_t *out9);
// Keeps the next `capacity` callbacks' timeline (vm_get_clock_log).
void vm_clock_log(vm_t *vm, uint32_t capacity);
// The timeline kept: up to n entries of (core, kind, start ps, end ps);
// returns how many there were.
uint32_t vm_get_clock_log(vm_t *vm, uint32_t n, uint64_t *out);
// A core's busy time, of that in packet callbacks, and in control
// rounds (ps).
void vm_get_core_clock(vm_t *vm, int32_t core, uint64_t *out3);
// Per link of chip (its index): busy picoseconds, then packets.
void vm_get_link_clock(vm_t *vm, int32_t chip, uint64_t *out12);

// Records the next `capacity` packets delivered to a core (vm_get_trace).
int vm_trace_core(vm_t *vm, int32_t core, uint32_t capacity);
// The packets recorded for a core: up to n copied (key, payload,
// has_payload); returns how many there were.
uint32_t vm_get_trace(vm_t *vm, int32_t core, uint32_t n, uint32_t *keys,
                      uint32_t *payloads, uint32_t *has_payload);

void vm_get_stats(vm_t *vm, uint64_t *sent, uint64_t *delivered,
                  uint64_t *dropped, uint64_t *events, uint64_t *gathered);
// Counts a core's packets by outgoing partition (keys / masks, at most 8).
int vm_set_core_partitions(vm_t *vm, int32_t core, uint32_t n,
                           const uint32_t *keys, const uint32_t *masks);
void vm_get_partition_counts(vm_t *vm, int32_t core, uint64_t *out);
// Per core: packets sent and received, DTCM used and error state.
void vm_get_core_stats(vm_t *vm, int32_t core, uint64_t *out5);

#endif
