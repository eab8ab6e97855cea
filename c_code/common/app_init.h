// What every spiDNN app does first: read its data specification, start the
// simulation interface and copy its parameter struct; and its DTCM arrays.
#ifndef SPIDNN_APP_INIT_H
#define SPIDNN_APP_INIT_H

#include <stdint.h>
#include <stdbool.h>

#include <spin1_api.h>
#include <debug.h>
#include <data_specification.h>
#include <simulation.h>

#include "spidnn_layouts.h"

// Callback priorities: packets are stored in the FIQ callback; the
// arithmetic runs in a queued callback, as spin1 apps keep FIQ work short.
#define PACKET_PRIORITY  -1
#define COMPUTE_PRIORITY 1
#define SDP_PRIORITY     2
#define DMA_PRIORITY     0

// The simulation interface's state, which every app keeps but none reads.
static uint32_t simulation_ticks;
static uint32_t infinite_run;
static uint32_t time;

// Reads the header, initialises the simulation interface from the system
// region and copies the params region into `params`; returns the data
// specification, or NULL if any step failed.
static inline data_specification_metadata_t *app_initialise(
        void *params, uint32_t params_bytes) {
    data_specification_metadata_t *ds = data_specification_get_data_address();
    if (!data_specification_read_header(ds)) {
        return NULL;
    }
    uint32_t timer_period;
    if (!simulation_initialise(
            data_specification_get_region(REGION_SYSTEM, ds),
            APPLICATION_NAME_HASH, &timer_period, &simulation_ticks,
            &infinite_run, &time, SDP_PRIORITY, DMA_PRIORITY)) {
        return NULL;
    }
    spin1_memcpy(params, data_specification_get_region(REGION_PARAMS, ds),
                 params_bytes);
    return ds;
}

// n floats of DTCM; running out stops the core, as it would on the chip.
static inline float *dtcm_alloc(uint32_t n_floats) {
    float *p = spin1_malloc(n_floats * sizeof(float));
    if (p == NULL) {
        log_error("out of DTCM allocating %u floats", n_floats);
        rt_error(RTE_MALLOC);
    }
    return p;
}

static inline void zero_floats(float *p, uint32_t n_floats) {
    for (uint32_t i = 0; i < n_floats; i++) {
        p[i] = 0.0f;
    }
}

// n floats of DTCM, zeroed.
static inline float *dtcm_zeros(uint32_t n_floats) {
    float *p = dtcm_alloc(n_floats);
    zero_floats(p, n_floats);
    return p;
}

#endif
