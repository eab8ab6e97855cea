// The subset of the spin1 event-driven API that spiDNN's apps use.
//
// Declarations follow the public spinnaker_tools documentation of
// spin1_api.h (same names, arguments and constants), so an app written
// against this header builds unchanged with the real one.  On the host the
// functions are implemented by the virtual machine (c_code/vm).
#ifndef SPIDNN_SPIN1_API_H
#define SPIDNN_SPIN1_API_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

typedef unsigned int uint;
typedef unsigned short ushort;
typedef unsigned char uchar;
typedef uint32_t *address_t;

typedef void (*callback_t)(uint, uint);

// Events an app can attach a callback to.
#define MC_PACKET_RECEIVED   0
#define DMA_TRANSFER_DONE    1
#define TIMER_TICK           2
#define SDP_PACKET_RX        3
#define USER_EVENT           4
#define MCPL_PACKET_RECEIVED 5
#define NUM_EVENTS           8   // the real enum's count (two unused here)

// Payload flag of spin1_send_mc_packet.
#define NO_PAYLOAD   0
#define WITH_PAYLOAD 1

// Directions of spin1_dma_transfer.
#define DMA_READ  0
#define DMA_WRITE 1

// spin1_start synchronisation.
typedef enum { SYNC_NOWAIT = 0, SYNC_WAIT = 1 } sync_bool;

// Run-time error codes passed to rt_error (sark.h's enum rte_code_e).
#define RTE_MALLOC 10
#define RTE_SWERR  13

void spin1_callback_on(uint event_id, callback_t cback, int priority);
void spin1_callback_off(uint event_id);
uint spin1_schedule_callback(callback_t cback, uint arg0, uint arg1,
                             uint priority);
uint spin1_trigger_user_event(uint arg0, uint arg1);
void spin1_set_timer_tick(uint time);
uint spin1_start(sync_bool sync);
void spin1_exit(uint error);
uint spin1_send_mc_packet(uint key, uint data, uint load);
void *spin1_malloc(uint bytes);
// Queues a DMA transfer between SDRAM and DTCM; DMA_TRANSFER_DONE is
// called with (its id, tag) when it is done, in the order asked for.
// Returns the transfer's id, or 0 if the queue is full.
uint spin1_dma_transfer(uint tag, void *system_address, void *tcm_address,
                        uint direction, uint length);
void spin1_memcpy(void *dst, void const *src, uint len);
uint spin1_get_core_id(void);
uint spin1_get_chip_id(void);
// Stops the core (sark.h declares it NORETURN: code after a call is dead,
// in the board build and in this one).
__attribute__((noreturn)) void rt_error(uint code, ...);

#endif
