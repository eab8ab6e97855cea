// The layer_core.h hooks of an app whose layers have no weights (pool,
// merge): nothing to prepare, apply, send or penalise.
#ifndef SPIDNN_NO_WEIGHTS_H
#define SPIDNN_NO_WEIGHTS_H

#include "layer_core.h"

static bool app_batch_end(void) {
    return true;
}

static bool app_apply_update(const step_t *step) {
    (void) step;
    return true;
}

static void app_send_weights(void) {
}

static uint32_t app_penalty_parts(void) {
    return 0;
}

static float app_penalty(uint32_t part) {
    (void) part;
    return 0.0f;
}

static void app_norm_add(exact_sum_t *sums) {
    (void) sums;
}

#endif
