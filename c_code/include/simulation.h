// Front-end-common simulation control (FEC c_common simulation.h).
#ifndef SPIDNN_SIMULATION_H
#define SPIDNN_SIMULATION_H

#include "spin1_api.h"

typedef void (*exit_callback_t)(void);

// Reads the system region the toolchain wrote (application magic number,
// timer period, SDP port) and checks that it belongs to this app.
bool simulation_initialise(
        address_t address, uint32_t expected_app_magic_number,
        uint32_t *timer_period, uint32_t *simulation_ticks_pointer,
        uint32_t *infinite_run_pointer, uint32_t *time_pointer,
        int sdp_packet_callback_priority, int dma_transfer_complete_priority);

// Called when the host asks a run-forever app to stop.
void simulation_set_exit_function(exit_callback_t exit_function);

// Routes the DMA_TRANSFER_DONE callbacks of transfers with `tag` (below
// 16) to `callback`, as the simulation interface owns DMA_TRANSFER_DONE.
bool simulation_dma_transfer_done_callback_on(uint tag, callback_t callback);

// Starts the event loop; returns when the simulation ends.
void simulation_run(void);

#endif
