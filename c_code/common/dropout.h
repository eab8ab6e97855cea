// Dropout masks drawn on the cores.
//
// Whether neuron i is kept in training pass s is a hash of (seed, i, s),
// so the mask depends only on the seed and the neuron's index in its
// layer, never on how the layer is sliced over cores.  Kept values are
// scaled by 1 / (1 - rate), as Keras' (TensorFlow's) dropout does.
#ifndef SPIDNN_DROPOUT_H
#define SPIDNN_DROPOUT_H

#include <stdint.h>

// A 32-bit avalanche mix (MurmurHash3's finaliser).
static inline uint32_t dropout_mix(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
}

// The factor of neuron `index` in pass `sample`: 0 or 1 / (1 - rate).
static inline float dropout_scale(uint32_t seed, uint32_t index,
                                  uint32_t sample, float rate) {
    uint32_t h = dropout_mix(seed ^ dropout_mix(
            index * 0x9E3779B9u ^ dropout_mix(sample + 0x632BE5ABu)));
    float u = (float) (h >> 8) * (1.0f / 16777216.0f);   // [0, 1)
    return u < rate ? 0.0f : 1.0f / (1.0f - rate);
}

#endif
