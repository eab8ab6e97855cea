// Sending float32 values (and other words) in multicast payloads.
#ifndef SPIDNN_SEND_H
#define SPIDNN_SEND_H

#include <stdint.h>
#include <spin1_api.h>

#include "spidnn_math.h"

// A payload word, whatever it stands for.
static inline void send_word(uint32_t key, uint32_t payload) {
    while (!spin1_send_mc_packet(key, payload, WITH_PAYLOAD)) {
        // The router's queue is full: retry, as every spin1 app does.
    }
}

static inline void send_float(uint32_t key, float value) {
    send_word(key, float_to_bits(value));
}

// values[i] at first_key + i.
static inline void send_floats(uint32_t first_key, const float *values,
                               uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        send_float(first_key + i, values[i]);
    }
}

#endif
