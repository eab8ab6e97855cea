// float32 transcendental functions for cores without an FPU or libm.
//
// Only float arithmetic (software-emulated on the ARM968), no double.
// expf: range reduction x = k ln2 + r, |r| <= ln2/2, a degree-7 Taylor
// polynomial for e^r (relative error < 2e-9, below float rounding), then
// scaling by 2^k through the exponent bits.  logf: x = m 2^e with m in
// [sqrt(1/2), sqrt(2)), and log m = 2 atanh(s), s = (m - 1)/(m + 1), by
// its odd series (|s| <= 0.172: five terms are below float rounding).
#ifndef SPIDNN_MATH_H
#define SPIDNN_MATH_H

#include <stdint.h>

typedef union { float f; uint32_t u; } float_bits_t;

static inline float bits_to_float(uint32_t u) {
    float_bits_t b; b.u = u; return b.f;
}

static inline uint32_t float_to_bits(float f) {
    float_bits_t b; b.f = f; return b.u;
}

// 2^k for -126 <= k <= 127, built directly in the exponent field.
static inline float pow2i(int32_t k) {
    return bits_to_float((uint32_t) (k + 127) << 23);
}

static inline float spidnn_expf(float x) {
    if (x > 88.72283f) {
        return bits_to_float(0x7F800000u);      // +inf, as expf overflows
    }
    if (x < -103.97208f) {
        return 0.0f;
    }
    // k = round(x / ln2), split ln2 in two parts for an exact reduction.
    float kf = x * 1.44269504f;
    int32_t k = (int32_t) (kf < 0.0f ? kf - 0.5f : kf + 0.5f);
    float r = x - (float) k * 0.693145752f;
    r = r - (float) k * 1.42860677e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666667f + r * (
            0.0416666667f + r * (0.00833333333f + r * (
            0.00138888889f + r * 0.000198412698f))))));
    if (k < -126) {
        // Subnormal result: scale in two steps to stay in range.
        return p * pow2i(k + 64) * pow2i(-64);
    }
    if (k > 127) {
        return p * pow2i(k - 1) * 2.0f;
    }
    return p * pow2i(k);
}

static inline float spidnn_tanhf(float x) {
    float ax = x < 0.0f ? -x : x;
    float t;
    if (ax > 9.0f) {
        t = 1.0f;                       // tanh rounds to 1 in float here
    } else if (ax < 0.0625f) {
        // Odd Taylor series: no cancellation near zero.
        float x2 = ax * ax;
        t = ax * (1.0f + x2 * (-0.333333333f + x2 * (
                0.133333333f + x2 * -0.0539682540f)));
    } else {
        float e = spidnn_expf(2.0f * ax);
        t = 1.0f - 2.0f / (e + 1.0f);
    }
    return x < 0.0f ? -t : t;
}

static inline float spidnn_sigmoidf(float x) {
    if (x >= 0.0f) {
        return 1.0f / (1.0f + spidnn_expf(-x));
    }
    float e = spidnn_expf(x);
    return e / (1.0f + e);
}

static inline float spidnn_logf(float x) {
    if (!(x > 0.0f)) {
        // log 0 = -inf; log of a negative number or NaN is NaN.
        return x == 0.0f ? bits_to_float(0xFF800000u)
                         : bits_to_float(0x7FC00000u);
    }
    uint32_t u = float_to_bits(x);
    if (u >= 0x7F800000u) {
        return x;                       // +inf
    }
    int32_t e = 0;
    if (u < 0x00800000u) {
        // Subnormal: scale into the normal range first.
        u = float_to_bits(x * 8388608.0f);
        e = -23;
    }
    e += (int32_t) (u >> 23) - 127;
    float m = bits_to_float((u & 0x007FFFFFu) | 0x3F800000u);
    if (m > 1.41421356f) {
        m *= 0.5f;
        e++;
    }
    float s = (m - 1.0f) / (m + 1.0f);
    float s2 = s * s;
    float log_m = 2.0f * s * (1.0f + s2 * (0.333333333f + s2 * (
            0.2f + s2 * (0.142857143f + s2 * 0.111111111f))));
    float ef = (float) e;
    return ef * 0.693145752f + (ef * 1.42860677e-6f + log_m);
}

// The square root, correctly rounded (to nearest, ties to even) as IEEE
// sqrt and TensorFlow's are, from 32-bit integers alone: the digit-by-
// digit method takes the significand scaled to 50 bits (n = m 2^25) two
// bits at a time, giving a 25-bit root (24 bits and a guard bit) and a
// remainder that says whether anything lies beyond the guard bit.  The
// remainder stays below 2^28, so no 64-bit arithmetic is needed (which
// Thumb code pays dearly for).
static inline float spidnn_sqrtf(float x) {
    uint32_t bits = float_to_bits(x);
    uint32_t biased = (bits >> 23) & 0xFFu;
    if (x == 0.0f || (biased == 0xFFu && !(bits >> 31))) {
        return x;                  // +-0, +inf and NaN as they are
    }
    if (bits >> 31 || biased == 0xFFu) {
        return bits_to_float(0x7FC00000u);     // negative: NaN
    }
    uint32_t mantissa = bits & 0x7FFFFFu;
    int32_t e = (int32_t) biased - 127;
    if (biased == 0) {             // subnormal: normalise
        e = -126;
        while (!(mantissa & 0x800000u)) {
            mantissa <<= 1;
            e--;
        }
    } else {
        mantissa |= 0x800000u;
    }
    // x = mantissa 2^(e - 23); make e even.
    if (e & 1) {
        mantissa <<= 1;
        e--;
    }
    uint32_t root = 0, remainder = 0;
    for (int32_t i = 24; i >= 0; i--) {
        // Bits 2i + 1 and 2i of n = mantissa << 25.
        int32_t low = 2 * i - 25;
        uint32_t pair = low >= 0 ? (mantissa >> low) & 3u
                : (low == -1 ? (mantissa & 1u) << 1 : 0u);
        remainder = (remainder << 2) | pair;
        uint32_t trial = (root << 2) | 1u;
        root <<= 1;
        if (remainder >= trial) {
            remainder -= trial;
            root |= 1u;
        }
    }
    // root in [2^24, 2^25): x's root is root 2^((e - 48) / 2).
    uint32_t significand = root >> 1;
    uint32_t guard = root & 1u;
    if (guard && (remainder != 0 || (significand & 1u))) {
        significand++;
    }
    int32_t exponent = (e - 48) / 2 + 1;       // of the significand's lsb
    if (significand == 0x1000000u) {
        significand >>= 1;
        exponent++;
    }
    return bits_to_float(((uint32_t) (exponent + 23 + 127) << 23)
                         | (significand & 0x7FFFFFu));
}

// log(1 + x) without losing x when it is small: log(u) * x / (u - 1) with
// u = 1 + x corrects for the rounding of u (Goldberg's method).
static inline float spidnn_log1pf(float x) {
    float u = 1.0f + x;
    if (u == 1.0f) {
        return x;
    }
    return spidnn_logf(u) * x / (u - 1.0f);
}

// erf(x) for |x| < 1 by its Taylor series x sum (-1)^n x^2n / (n! (2n+1))
// 2/sqrt(pi): the terms fall fast enough there that ten are below float
// rounding, and none cancels the others much.
static inline float spidnn_erf_small(float x) {
    float x2 = x * x;
    return x * (1.12837917f + x2 * (-0.376126389f + x2 * (0.112837917f
            + x2 * (-0.0268661706f + x2 * (0.00522397762f + x2 * (
            -0.000854832702f + x2 * (0.000120553330f + x2 * (
            -1.49256504e-05f + x2 * (1.64621144e-06f
            + x2 * -1.63658447e-07f)))))))));
}

// erfc(x) = exp(-x^2) R(x) for x >= 1, R by a degree-9 polynomial in
// t = 1 / (1 + x/2), fitted (least squares on Chebyshev nodes, in
// double) to erfc(x) exp(x^2) over [1, 10.1], past which erfc underflows:
// relative error below 4e-7 in float, where 1 - erf would keep none of
// erfc's digits.
static inline float spidnn_erfc_large(float x) {
    float t = 1.0f / (1.0f + 0.5f * x);
    float r = 3.212499855e-06f + t * (0.2819953267f + t * (0.2834442840f
            + t * (0.2362824873f + t * (0.2288003066f + t * (
            -0.08888072536f + t * (0.3704910060f + t * (-0.5693993886f
            + t * (0.3240330240f + t * -0.06672443557f))))))));
    return spidnn_expf(-x * x) * r;
}

// The complementary error function erfc(x) = 1 - erf(x), which TensorFlow's
// exact gelu takes.
static inline float spidnn_erfcf(float x) {
    if (x >= 1.0f) {
        return x > 10.1f ? 0.0f : spidnn_erfc_large(x);
    }
    if (x <= -1.0f) {
        return 2.0f - (x < -10.1f ? 0.0f : spidnn_erfc_large(-x));
    }
    return 1.0f - spidnn_erf_small(x);
}

// log(1 + e^x) as TensorFlow's Softplus kernel computes it: x itself, or
// e^x, beyond the threshold log(FLT_EPSILON) + 2 where log1p(e^x) would
// round to them.
static inline float spidnn_softplusf(float x) {
    const float threshold = -13.9423847f;
    if (x > -threshold) {
        return x;
    }
    float e = spidnn_expf(x);
    return x < threshold ? e : spidnn_log1pf(e);
}

#endif
