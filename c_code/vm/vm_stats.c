// What the machine counts as it runs, for the host's run reports
// (vm_stats_api.c reads it out): packets in total, per core and per
// outgoing partition, and the packets delivered to a traced core.
#include "vm_stats.h"

// Counts a packet a core sends, in total and by partition: the one the
// last packet was counted in first (a core sends in runs; a windowed
// core has a partition per holder its gradients go to, dozens).
void vm_count_sent(vm_core_t *core, uint32_t key) {
    core->sent++;
    uint32_t n = core->n_partitions;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = core->last_partition + k;
        i = i < n ? i : i - n;
        if ((key & core->partitions[i].mask) == core->partitions[i].key) {
            core->partitions[i].sent++;
            core->last_partition = i;
            return;
        }
    }
}
