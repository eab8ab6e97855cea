// Sending float32 values in multicast payloads.
#ifndef SPIDNN_SEND_H
#define SPIDNN_SEND_H

#include <stdint.h>
#include <spin1_api.h>

#include "spidnn_math.h"

static inline void send_float(uint32_t key, float value) {
    while (!spin1_send_mc_packet(key, float_to_bits(value), WITH_PAYLOAD)) {
        // The router's queue is full: retry, as every spin1 app does.
    }
}

// values[i] at first_key + i.
static inline void send_floats(uint32_t first_key, const float *values,
                               uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        send_float(first_key + i, values[i]);
    }
}

#endif
