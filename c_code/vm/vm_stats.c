// What the machine counts as it runs, for the host's run reports
// (vm_stats_api.c reads it out): packets in total, per core and per
// outgoing partition, and the packets delivered to a traced core.
#include "vm_stats.h"

// Counts a packet a core sends, in total and by partition.
void vm_count_sent(vm_core_t *core, uint32_t key) {
    core->sent++;
    for (uint32_t i = 0; i < core->n_partitions; i++) {
        if ((key & core->partitions[i].mask) == core->partitions[i].key) {
            core->partitions[i].sent++;
            return;
        }
    }
}
