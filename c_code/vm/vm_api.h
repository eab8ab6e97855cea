// The virtual machine's interface to Python (spiDNN/vm/binding.py).
#ifndef SPIDNN_VM_API_H
#define SPIDNN_VM_API_H

#include <stdint.h>

typedef struct vm vm_t;

// Results of the run functions.
#define VM_OK        0
#define VM_STALLED   1   // the machine went quiet before the pass finished
#define VM_LIVELOCK  2   // the pass did not go quiet within its event budget
#define VM_CORE_ERROR 3  // a core called rt_error
#define VM_BAD_CALL  4

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

// Runs every app core's c_main.
int vm_start(vm_t *vm);

// Streams samples through the machine, one pass each: the n_inject packets
// of a sample leave their source cores (keys[i] from src_cores[i], payload
// payloads[s * n_inject + i]), the machine runs until quiet, and exactly
// n_expected packets must reach the gatherers; they are written, in arrival
// order, to out_keys / out_payloads at s * n_expected.
int vm_run_samples(vm_t *vm, uint32_t n_samples, uint32_t n_inject,
                   const int32_t *src_cores, const uint32_t *keys,
                   const uint32_t *payloads, uint32_t n_expected,
                   uint32_t *out_keys, uint32_t *out_payloads,
                   uint64_t max_events_per_sample, uint32_t *n_done);

// Fires n timer ticks on the cores that asked for a timer, running the
// machine until quiet after each.
int vm_run_ticks(vm_t *vm, uint32_t n_ticks, uint64_t max_events);

void vm_get_stats(vm_t *vm, uint64_t *sent, uint64_t *delivered,
                  uint64_t *dropped, uint64_t *events, uint64_t *gathered);
// Counts a core's packets by outgoing partition (keys / masks, at most 8).
int vm_set_core_partitions(vm_t *vm, int32_t core, uint32_t n,
                           const uint32_t *keys, const uint32_t *masks);
void vm_get_partition_counts(vm_t *vm, int32_t core, uint64_t *out);
// Per core: totals, the last pass's counts, DTCM used and error state.
void vm_get_core_stats(vm_t *vm, int32_t core, uint64_t *out7);

#endif
