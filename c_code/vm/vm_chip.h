// A chip: its router, its links and the processors that run its cores.
#ifndef SPIDNN_VM_CHIP_H
#define SPIDNN_VM_CHIP_H

#include <stdint.h>

#include "vm_packet.h"
#include "vm_router.h"

#define VM_CORES_PER_CHIP   18      // core 0 is the monitor
#define VM_SDRAM_BYTES      (128u * 1024u * 1024u)

typedef struct vm_chip {
    int32_t x, y;
    // The virtual clock: when each outgoing link is next free, and its
    // busy time and packets so far.
    uint64_t link_free[VM_N_LINKS];
    uint64_t link_busy_ps[VM_N_LINKS];
    uint64_t link_packets[VM_N_LINKS];
    int32_t links[VM_N_LINKS];      // neighbouring chip index, -1 if none
    uint32_t links_down;            // bit per link that a fault took down
    // The router's dropped-packet register, which the monitor core reads
    // and reinjects (one packet: a second drop before then is lost).
    uint32_t has_dropped;
    vm_packet_t dropped;
    vm_router_t router;
    int32_t cores[VM_CORES_PER_CHIP];   // core index per processor, -1 none
    uint64_t sdram_used;
    // The virtual clock: when the chip's SDRAM is next free for a DMA
    // transfer (its cores share it), and its busy time.
    uint64_t sdram_free, sdram_busy_ps;
} vm_chip_t;

#endif
