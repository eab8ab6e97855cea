// Exact sums of non-negative float32 values (a gradient's squares): a
// fixed-point integer wide enough for any float32, so that adding in any
// order, on any core, in any grouping gives the same bits, rounded to
// float32 once at the end.  A batch-wide sum over slices that many cores
// hold (a gradient norm for Keras' clipnorm) is then the same whatever the
// slicing and the packet timing, with no chain to fix an order, and no
// worse than a float32 sum in any order (TensorFlow's own is a tree).
//
// Word k holds bits 32k .. 32k + 31 of the sum in units of 2^-149 (the
// least float32 subnormal): a float32 below 2^128 spans at most bits 0 ..
// 277, and 2^32 of them stay below bit 309, so EXACT_VALUE_WORDS = 10
// hold every sum a core can make.  The word after them keeps flags
// (infinity, NaN), which add by OR, not with a carry.  Words travel one
// per packet (clip_norm.h), each added where it belongs.
#ifndef SPIDNN_EXACT_SUM_H
#define SPIDNN_EXACT_SUM_H

#include <stdint.h>

#include "spidnn_math.h"

#define EXACT_VALUE_WORDS 10u
#define EXACT_WORDS (EXACT_VALUE_WORDS + 1u)
#define EXACT_FLAGS EXACT_VALUE_WORDS
#define EXACT_INFINITE 1u
#define EXACT_NAN 2u

typedef struct exact_sum_t {
    uint32_t word[EXACT_WORDS];
} exact_sum_t;

static inline void exact_zero(exact_sum_t *s) {
    for (uint32_t k = 0; k < EXACT_WORDS; k++) {
        s->word[k] = 0;
    }
}

// Adds `value` at word k, the carry running up (bits past the last value
// word cannot occur: see above).
static inline void exact_add_word(exact_sum_t *s, uint32_t k,
                                  uint32_t value) {
    if (k >= EXACT_VALUE_WORDS) {
        s->word[EXACT_FLAGS] |= value;
        return;
    }
    uint64_t carry = value;
    for (; carry != 0 && k < EXACT_VALUE_WORDS; k++) {
        carry += s->word[k];
        s->word[k] = (uint32_t) carry;
        carry >>= 32;
    }
}

// Adds a float32 of sign 0 (a square): its significand at its exponent's
// bit, across the two words it spans.
static inline void exact_add(exact_sum_t *s, float value) {
    uint32_t bits = float_to_bits(value);
    uint32_t exponent = (bits >> 23) & 0xFFu;
    uint32_t significand = bits & 0x7FFFFFu;
    if (exponent == 0xFFu) {
        s->word[EXACT_FLAGS] |= significand != 0 ? EXACT_NAN : EXACT_INFINITE;
        return;
    }
    uint32_t shift = 0;
    if (exponent != 0) {
        significand |= 0x800000u;
        shift = exponent - 1u;
    }
    uint64_t part = (uint64_t) significand << (shift & 31u);
    exact_add_word(s, shift >> 5, (uint32_t) part);
    exact_add_word(s, (shift >> 5) + 1u, (uint32_t) (part >> 32));
}

// The sum rounded to the nearest float32 (ties to even), as IEEE rounds
// an exact result: infinity past float32's range, or if a value added was
// infinite; NaN if one was NaN.
static inline float exact_to_float(const exact_sum_t *s) {
    uint32_t flags = s->word[EXACT_FLAGS];
    if (flags & EXACT_NAN) {
        return bits_to_float(0x7FC00000u);
    }
    if (flags & EXACT_INFINITE) {
        return bits_to_float(0x7F800000u);
    }
    int32_t top = -1;            // the highest bit set
    for (uint32_t k = EXACT_VALUE_WORDS; k-- > 0 && top < 0;) {
        for (uint32_t b = 32; b-- > 0;) {
            if (s->word[k] & (1u << b)) {
                top = (int32_t) (32u * k + b);
                break;
            }
        }
    }
    if (top < 23) {              // below 2^-126: a subnormal, exact
        return bits_to_float(top < 0 ? 0u : s->word[0]);
    }
    // The 24 bits from `top` down, the next (round) and any below (sticky).
    uint32_t significand = 0, round = 0, sticky = 0;
    for (int32_t b = top; b >= 0; b--) {
        uint32_t bit = (s->word[b >> 5] >> (b & 31)) & 1u;
        if (b > top - 24) {
            significand = (significand << 1) | bit;
        } else if (b == top - 24) {
            round = bit;
        } else if (bit) {
            sticky = 1;
            break;
        }
    }
    if (round && (sticky || (significand & 1u))) {
        significand++;
        if (significand == 0x1000000u) {
            significand >>= 1;
            top++;
        }
    }
    // value = significand 2^(top - 23 - 149): biased exponent top - 22.
    uint32_t exponent = (uint32_t) (top - 22);
    if (exponent >= 0xFFu) {
        return bits_to_float(0x7F800000u);
    }
    return bits_to_float((exponent << 23) | (significand & 0x7FFFFFu));
}

#endif
