// A packet on the untimed machine's fabric (vm_walk.c), with what the
// faults need to hold it back or send it again (vm_faults.c).
#ifndef SPIDNN_VM_PACKET_H
#define SPIDNN_VM_PACKET_H

#include <stdint.h>

// A multicast packet on its way, at a router.
typedef struct vm_packet {
    uint32_t key, payload;
    uint32_t has_payload;
    int32_t chip;                   // the router it is at
    int32_t in;                     // the link it arrived on, -1: a core
    int32_t emergency;              // second leg of an emergency route:
                                    // the link to leave by, else -1
    uint32_t retries;               // times it has been reinjected
} vm_packet_t;

#endif
