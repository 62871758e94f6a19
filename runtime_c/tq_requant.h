/*
 * tq_requant.h - tinyqat int8 requantization (TensorFlow Lite reference rules).
 *
 * The one C implementation of requantization: every kernel calls these helpers (the DSP kernels'
 * faster output stages included); no kernel file multiplies, shifts or rounds to requantize.
 * Bit-identical twin of tinyqat/fixedpoint.py; integer arithmetic only, no float.
 *
 *   srdhm(a, b)  = INT32_MAX if a == b == INT32_MIN,
 *                  else trunc((a*b + nudge) / 2^31), nudge = a*b >= 0 ? 2^30 : 1 - 2^30
 *   rdbpot(x, e) = (x >> e) + ((x & mask) > (mask >> 1) + (x < 0)), mask = 2^e - 1, 0 <= e <= 31
 *   mbqm(x, q, shift) = rdbpot(srdhm(sat32(x * 2^left), q), right),
 *                  left = max(shift, 0), right = max(-shift, 0)   ("double rounding")
 *
 * sat32 saturates the left-shifted value to int32 (TFLite leaves that overflow undefined;
 * both agree wherever TFLite is defined). Requires an arithmetic right shift of negative
 * values (GCC and Clang on every target; checked at compile time below).
 */
#ifndef TQ_REQUANT_H
#define TQ_REQUANT_H

#include <stdint.h>

/* Compile-time check: >> of a negative int32 must be an arithmetic shift. */
typedef char tq_requires_arithmetic_shift[((int32_t)-1 >> 1) == (int32_t)-1 ? 1 : -1];

/* SaturatingRoundingDoublingHighMul: round(a * b / 2^31), half away from zero, saturated. */
static inline int32_t tq_srdhm(int32_t a, int32_t b)
{
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (int64_t)1 - ((int64_t)1 << 30);
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    /* C division truncates toward zero, as the reference requires. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* RoundingDivideByPOT: x / 2^exponent rounded half away from zero; 0 <= exponent <= 31. */
static inline int32_t tq_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* Saturate an int64 value to the int32 range. */
static inline int32_t tq_sat_s32(int64_t x)
{
    if (x > INT32_MAX) {
        return INT32_MAX;
    }
    if (x < INT32_MIN) {
        return INT32_MIN;
    }
    return (int32_t)x;
}

/*
 * MultiplyByQuantizedMultiplier: x * q * 2^(shift - 31) with TFLite double rounding.
 * q in [0, 2^31 - 1], shift in [-31, 30]. The left shift is a multiplication in int64
 * (|x| * 2^30 < 2^62, no overflow, no shift of a negative value) saturated to int32.
 */
static inline int32_t tq_mbqm(int32_t x, int32_t q, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t shifted = tq_sat_s32((int64_t)x * ((int64_t)1 << left));
    return tq_rdbpot(tq_srdhm(shifted, q), right);
}

/* min(max(x, lo), hi) on int32 values; requires lo <= hi. */
static inline int32_t tq_clamp_s32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/*
 * The common output stage of conv / fully connected:
 * clamp(mbqm(acc, q, shift) + zero_point, act_min, act_max) as int8,
 * with -128 <= act_min <= act_max <= 127 and zero_point in [-128, 127].
 * The zero point is added in int64 so a saturated mbqm result cannot overflow.
 */
static inline int8_t tq_requantize_s8(int32_t acc, int32_t q, int32_t shift, int32_t zero_point,
                                      int32_t act_min, int32_t act_max)
{
    const int64_t y = (int64_t)tq_mbqm(acc, q, shift) + zero_point;
    return (int8_t)tq_clamp_s32(tq_sat_s32(y), act_min, act_max);
}

/*
 * tq_requantize_s8 with fewer instructions, the same result for every input (the DSP kernels'
 * output stage; tests/test_dsp_kernels.py checks the equality on millions of inputs).
 * When shift <= -1 (right shift e = -shift in [1, 31]), q in [0, 2^31 - 1] and
 * acc in [-2^30, 2^30 - 1] it computes
 *   t = (2 * acc * q + 2^31) >> 32                      (one SMLAL: 2 * acc fits int32)
 *   y = (t + (t >> 31) + 2^(e - 1)) >> e                (arithmetic shifts, no overflow)
 *   output = clamp(y + zero_point, act_min, act_max)    (an SSAT when the range is full)
 * and otherwise calls tq_requantize_s8. Why it is equal:
 *   srdhm(acc, q) = floor((acc*q + 2^30) / 2^31) for every int32 acc and q >= 0 (the nudge
 *     1 - 2^30 with C's truncation toward zero of a negative numerator is a floor of the
 *     numerator + 2^31 - 1, i.e. of acc*q + 2^30) = floor((2*acc*q + 2^31) / 2^32) = t;
 *   rdbpot(t, e) = floor(t / 2^e) + (rem > 2^(e-1) - 1 + (t < 0)), rem = t mod 2^e, which is
 *     floor((t + 2^(e-1) - (t < 0)) / 2^e), and t >> 31 = -(t < 0);
 *   |acc| <= 2^30 and q < 2^31 give -2^30 <= t <= 2^30 - 1, so t + 2^(e-1) <= 2^31 - 1.
 */
static inline int8_t tq_requantize_s8_fast(int32_t acc, int32_t q, int32_t shift, int32_t zero_point,
                                           int32_t act_min, int32_t act_max)
{
    if (shift <= -1 && (uint32_t)acc + 0x40000000u < 0x80000000u) {
        const int32_t e = -shift;
        const int32_t t = (int32_t)(((int64_t)(acc * 2) * q + ((int64_t)1 << 31)) >> 32);
        const int32_t y = (t + (t >> 31) + (int32_t)(1u << (e - 1))) >> e;
        return (int8_t)tq_clamp_s32(y + zero_point, act_min, act_max);
    }
    return tq_requantize_s8(acc, q, shift, zero_point, act_min, act_max);
}

/*
 * The fused output stage of the DSP kernels: a few instructions per output (one SMLAL, no test).
 * It applies to a layer whose params say requant_fused (tq_kernels.h; decided at build time by
 * tinyqat/fixedpoint.py's fused_requant_ok): every right shift e = -shift[c] in [1, 31] (multiplier q[c] in [0, 2^31 - 1] as always)
 * and every accumulator in [-2^30, 2^30 - 1], which |bias[c]| <= 2^30 - 1 - 32385 * taps
 * guarantees (|w| <= 127, |x - zp| <= 255: 32385 per tap). Then
 *   tq_mbqm_fused(acc, q, e) = hi >> e, where {hi, lo} = (int64)(2^(e-1) + (acc >> 31)) * 2^32
 *                                                        + 2^31 + (2 * acc) * q     (one SMLAL)
 * equals rdbpot(srdhm(acc, q), e) = tq_mbqm(acc, q, -e). Why: tq_requantize_s8_fast's comment
 * shows srdhm(acc, q) = t = floor((2*acc*q + 2^31) / 2^32) and rdbpot(t, e) =
 * floor((t + 2^(e-1) - [t < 0]) / 2^e); nesting the two floors (an integer added between them)
 * gives floor((2*acc*q + 2^31 + (2^(e-1) - [t < 0]) * 2^32) / 2^(32+e)), the formula above with
 * [acc < 0] = -(acc >> 31) in place of [t < 0]. Those differ only when acc < 0 and t = 0 (t <= 0
 * whenever acc < 0), where both give floor((2^(e-1) - {0 or 1}) / 2^e) = 0 for e >= 1. hi lies in
 * [-2^30 - 1, 2^31 - 1] (|t| <= 2^30), no overflow. tests/test_dsp_kernels.py checks the equality.
 */
static inline int32_t tq_mbqm_fused(int32_t acc, int32_t q, int32_t e)
{
    const int64_t v = (int64_t)(((uint64_t)(uint32_t)((int32_t)(1u << (e - 1)) + (acc >> 31)) << 32) | 0x80000000u)
                      + (int64_t)(acc * 2) * q;
    return (int32_t)(v >> 32) >> e;
}

/*
 * clamp(tq_mbqm_fused(acc, q, e) + zero_point, act_min, act_max): the fused output stage of the DSP
 * kernels, as an int32 in [act_min, act_max] (a caller stores it with a plain STRB). Under
 * tq_mbqm_fused's conditions (e in [1, 31], q in [0, 2^31 - 1], acc in [-2^30, 2^30 - 1]) it equals
 * tq_requantize_s8(acc, q, -e, zero_point, act_min, act_max): tq_mbqm_fused = tq_mbqm there, and
 * |tq_mbqm_fused| < 2^30 (see there) so the int32 sum with zero_point in [-128, 127] neither overflows
 * nor needs tq_requantize_s8's saturation. tests/test_dsp_kernels.py checks the equality.
 */
static inline int32_t tq_requantize_s8_fused(int32_t acc, int32_t q, int32_t e, int32_t zero_point,
                                             int32_t act_min, int32_t act_max)
{
    int32_t y = tq_mbqm_fused(acc, q, e) + zero_point;
    y = y < act_min ? act_min : y;
    return y > act_max ? act_max : y;
}

/*
 * tq_requantize_s8_fused with the accumulator given doubled, acc2 = 2 * acc (the DSP depthwise conv
 * accumulates with doubled weights and bias, which saves the doubling per output):
 *   hi = ((2^(e-1) + (acc2 >> 31)) * 2^32 + 2^31 + acc2 * q) >> 32   (one SMLAL, or SMMLAR)
 *   output = clamp((hi >> e) + zero_point, act_min, act_max)
 * which is tq_requantize_s8_fused(acc, q, e, ...)'s formula with acc * 2 = acc2 and acc >> 31 =
 * acc2 >> 31, so it equals tq_requantize_s8(acc, q, -e, zero_point, act_min, act_max) under the same
 * conditions (e in [1, 31], q in [0, 2^31 - 1], acc in [-2^30, 2^30 - 1]). tests/test_dsp_kernels.py
 * checks the equality.
 */
static inline int32_t tq_requantize_s8_fused2(int32_t acc2, int32_t q, int32_t e, int32_t zero_point,
                                              int32_t act_min, int32_t act_max)
{
    const int64_t v = (int64_t)(((uint64_t)(uint32_t)((int32_t)(1u << (e - 1)) + (acc2 >> 31)) << 32) | 0x80000000u)
                      + (int64_t)acc2 * q;
    int32_t y = ((int32_t)(v >> 32) >> e) + zero_point;
    y = y < act_min ? act_min : y;
    return y > act_max ? act_max : y;
}

/*
 * tq_requantize_s8_fused2 with the output zero point folded into the rounding term and a full int8
 * clamp (act_min = -128, act_max = 127), the DSP depthwise row path's assembly stage:
 *   K = tq_fused2_offset(e, zero_point) = 2^(e-1) + zero_point * 2^e    (once per channel)
 *   hi = ((K + (acc2 >> 31)) * 2^32 + 2^31 + acc2 * q) >> 32             (SMMLAR)
 *   output = clamp(hi >> e, -128, 127)                                      (ASR, SSAT #8)
 * Equal to tq_requantize_s8_fused2(acc2, q, e, zero_point, -128, 127): adding zero_point * 2^e before
 * the floor division by 2^e adds exactly zero_point after it, and with e <= TQ_FUSED2_OFFSET_E_MAX
 * (22) |zero_point * 2^e| <= 2^29, so hi (within [-2^30 - 1, 2^30 + 2^21] without the term) stays in
 * int32. tests/test_dsp_kernels.py checks the equality.
 */
#define TQ_FUSED2_OFFSET_E_MAX 22

static inline int32_t tq_fused2_offset(int32_t e, int32_t zero_point)
{
    return (int32_t)(1u << (e - 1)) + zero_point * (int32_t)(1u << e);
}

/* tq_requantize_s8_fused2_folded as inline-assembly text (Armv7E-M / Armv8-M DSP), register names as
 * strings: ACC (in: acc2; out: the int8 value), Q (multiplier), K (tq_fused2_offset), E (right shift),
 * T (scratch). Four instructions: ADD (K + (acc2 >> 31)), SMMLAR, ASR, SSAT #8. */
#define TQ_REQUANT_FUSED2_FOLDED_ASM(ACC, Q, K, E, T)                                              \
    "\tadd " T ", " K ", " ACC ", asr #31\n"                                                    \
    "\tsmmlar " ACC ", " ACC ", " Q ", " T "\n"                                                 \
    "\tasr " ACC ", " ACC ", " E "\n"                                                           \
    "\tssat " ACC ", #8, " ACC "\n"

static inline int32_t tq_requantize_s8_fused2_folded(int32_t acc2, int32_t q, int32_t e, int32_t k)
{
    const int64_t v = (int64_t)(((uint64_t)(uint32_t)(k + (acc2 >> 31)) << 32) | 0x80000000u) + (int64_t)acc2 * q;
    const int32_t y = (int32_t)(v >> 32) >> e;
    return y < -128 ? -128 : (y > 127 ? 127 : y);
}

/*
 * The output stage of a DSP kernel layer whose params say requant_fused = fused:
 * tq_requantize_s8_fused(acc, q, -shift, ...) when fused != 0, else tq_requantize_s8_fast(acc, q, shift, ...).
 * Equal to tq_requantize_s8(acc, q, shift, zero_point, act_min, act_max) whenever fused != 0 implies
 * shift in [-31, -1] and acc in [-2^30, 2^30 - 1] (what requant_fused guarantees for the layer's
 * accumulators); for fused == 0 always. tests/test_dsp_kernels.py checks both.
 */
static inline int8_t tq_requantize_s8_fused_or_fast(int32_t acc, int32_t fused, int32_t q, int32_t shift,
                                                    int32_t zero_point, int32_t act_min, int32_t act_max)
{
    if (!fused) {
        return tq_requantize_s8_fast(acc, q, shift, zero_point, act_min, act_max);
    }
    return (int8_t)tq_requantize_s8_fused(acc, q, -shift, zero_point, act_min, act_max);
}

/*
 * tq_requantize_s8_fused(acc, q, e, zero_point, -128, 127) (the full int8 range: the clamp is one SSAT)
 * as Thumb-2 assembly text for a DSP kernel's hand-scheduled output loop (Armv7E-M / Armv8-M Main with
 * DSP): the arguments are register names (string literals); round holds 2^(e-1), hi and lo are
 * scratch; acc is overwritten (2 * acc); the result, in [-128, 127], is left in hi. The same
 * instructions as tq_mbqm_fused ({hi, lo} = (round + (acc >> 31)) * 2^32 + 2^31, SMLAL of 2 * acc
 * and q, hi >> e) followed by + zero_point and the clamp, so the same conditions and proof apply;
 * the emulated layer tests of tests/test_dsp_kernels.py check it against the simulator.
 */
#define TQ_REQUANT_FUSED_FULL_ASM(acc, q, e, round, zp, hi, lo)                                    \
    "add " hi ", " round ", " acc ", asr #31\n\t"                                                 \
    "mov " lo ", #0x80000000\n\t"                                                                 \
    "lsl " acc ", " acc ", #1\n\t"                                                                \
    "smlal " lo ", " hi ", " acc ", " q "\n\t"                                                    \
    "asr " hi ", " hi ", " e "\n\t"                                                               \
    "add " hi ", " hi ", " zp "\n\t"                                                              \
    "ssat " hi ", #8, " hi "\n\t"

/*
 * tq_mbqm_fused generalized to right shifts e in [0, 31] (TFLite ADD's multipliers, below 1, have
 * shift 0 as well as negative shifts), its per-multiplier constants prepared once:
 *   m = tq_fused_multiplier_make(q, shift), shift in [-31, 0]: m.q = q, m.e = -shift,
 *       m.round = e ? 2^(e-1) : 0, m.sign = e ? -1 : 0;
 *   tq_mbqm_fused_pre(v, m) = hi >> e, where {hi, lo} = (int64)(round + ((v >> 31) & sign)) * 2^32
 *                                                       + 2^31 + (2 * v) * q     (one SMLAL)
 * equals tq_mbqm(v, q, shift) for q in [0, 2^31 - 1] and v in [-2^30, 2^30 - 1]. Why: for e >= 1 the
 * formula is tq_mbqm_fused(v, q, e)'s with round and sign precomputed (see there); for e = 0 the added
 * term is 0, so hi = floor((2*v*q + 2^31) / 2^32) = srdhm(v, q) (tq_requantize_s8_fast's comment) and
 * rdbpot(x, 0) = x. tests/test_dsp_kernels.py checks the equality.
 */
typedef struct {
    int32_t q;      /* multiplier, [0, 2^31 - 1] */
    int32_t e;      /* right shift -shift, [0, 31] */
    int32_t round;  /* e ? 2^(e-1) : 0 */
    int32_t sign;   /* e ? -1 : 0 */
} tq_fused_multiplier;

static inline tq_fused_multiplier tq_fused_multiplier_make(int32_t q, int32_t shift)
{
    tq_fused_multiplier m;
    m.q = q;
    m.e = -shift;
    m.round = m.e ? (int32_t)(1u << (m.e - 1)) : 0;
    m.sign = m.e ? -1 : 0;
    return m;
}

static inline int32_t tq_mbqm_fused_pre(int32_t v, tq_fused_multiplier m)
{
    const int64_t t = (int64_t)(((uint64_t)(uint32_t)(m.round + ((v >> 31) & m.sign)) << 32) | 0x80000000u)
                      + (int64_t)(v * 2) * m.q;
    return (int32_t)(t >> 32) >> m.e;
}

/* clamp(tq_mbqm_fused_pre(v, m) + zero_point, act_min, act_max) as an int32 in [act_min, act_max]; equal to
 * tq_requantize_s8(v, m.q, -m.e, zero_point, act_min, act_max) under tq_mbqm_fused_pre's conditions (its
 * result is then at most 2^30 in magnitude: no overflow, no saturation). tests/test_dsp_kernels.py checks it. */
static inline int32_t tq_requantize_s8_fused_pre(int32_t v, tq_fused_multiplier m, int32_t zero_point,
                                                 int32_t act_min, int32_t act_max)
{
    int32_t y = tq_mbqm_fused_pre(v, m) + zero_point;
    y = y < act_min ? act_min : y;
    return y > act_max ? act_max : y;
}

/*
 * Armv6-M (Cortex-M0+) output stage: 32 x 32 -> 32-bit multiplies only (MULS), no 64-bit product,
 * so no __aeabi_lmul call. Equal to tq_srdhm / tq_requantize_s8 for every input
 * (tests/test_v6m_kernels.py checks it on millions of random and extreme inputs, on the host and
 * under QEMU on a Cortex-M0+).
 *
 * tq_srdhm_v6m(a, q) = srdhm(a, q) for every int32 a and q in [0, 2^31 - 1]:
 *   srdhm(a, q) = floor((a*q + 2^30) / 2^31) for q >= 0 (tq_requantize_s8_fast's comment; the
 *   saturating case a = q = INT32_MIN cannot occur). Split a = ah*2^16 + al, q = qh*2^16 + ql with
 *   ah = a >> 16 in [-2^15, 2^15 - 1], qh = q >> 16 in [0, 2^15 - 1], al, ql in [0, 2^16 - 1]:
 *   a*q + 2^30 = ah*qh*2^32 + (ah*ql + al*qh)*2^16 + al*ql + 2^30. With
 *     c0 = floor((al*ql + 2^30) / 2^16) = (al*ql >> 16) + 2^14          (al*ql < 2^32: uint32)
 *     m1 = ah*ql + c0                  in [-2^31 + 2^15, 2^31 - 2^14)    (fits int32)
 *     m2 = al*qh + (m1 mod 2^16)       in [0, (2^16 - 1) * 2^15]         (fits int32)
 *     h  = ah*qh + (m1 >> 16)          (|ah*qh| <= 2^30)
 *   floor((a*q + 2^30) / 2^16) = h*2^16 + m2 (m1 = (m1 >> 16)*2^16 + m1 mod 2^16), and since
 *   0 <= m2 < 2^31, floor(that / 2^15) = 2*h + (m2 >> 15). The last sum is done in uint32 (2*h
 *   may leave the int32 range while the result, |srdhm| <= 2^31 - 1, does not): four MULS.
 *
 * tq_rdbpot_v6m(x, e) = tq_rdbpot(x, e) for e in [0, 31], with the mask in 32 bits
 *   ((1u << e) - 1, 0x7FFFFFFF for e = 31) instead of a 64-bit shift.
 *
 * tq_mbqm_v6m(x, q, shift) = tq_mbqm(x, q, shift) for every int32 x, q in [0, 2^31 - 1] and shift
 *   in [-31, 30]: sat32(x * 2^left) by comparison (x > INT32_MAX >> left saturates up,
 *   x < INT32_MIN >> left down, else the shift is exact), then rdbpot(srdhm(., q), right).
 *
 * tq_requantize_s8_v6m(acc, q, shift, zp, lo, hi) = tq_requantize_s8(...) for every int32 acc,
 *   q in [0, 2^31 - 1], shift in [-31, 30], zp in [-128, 127], -128 <= lo <= hi <= 127:
 *   r = tq_mbqm_v6m(acc, q, shift), then clamp(r + zp, lo, hi) = lo if r < lo - zp, hi if r > hi - zp,
 *   else r + zp (lo - zp and hi - zp lie in [-255, 255]: no int32 overflow, where tq_requantize_s8
 *   adds in int64 and saturates).
 */
static inline int32_t tq_srdhm_v6m(int32_t a, int32_t q)
{
    const int32_t ah = a >> 16;
    const uint32_t al = (uint32_t)a & 0xFFFFu;
    const int32_t qh = q >> 16;
    const uint32_t ql = (uint32_t)q & 0xFFFFu;
    const uint32_t c0 = ((al * ql) >> 16) + 0x4000u;
    const int32_t m1 = ah * (int32_t)ql + (int32_t)c0;
    const uint32_t m2 = al * (uint32_t)qh + ((uint32_t)m1 & 0xFFFFu);
    const uint32_t h = (uint32_t)(ah * qh + (m1 >> 16));
    return (int32_t)((h << 1) + (m2 >> 15));
}

static inline int32_t tq_rdbpot_v6m(int32_t x, int32_t exponent)
{
    const uint32_t mask = (1u << exponent) - 1u;
    const uint32_t remainder = (uint32_t)x & mask;
    const uint32_t threshold = (mask >> 1) + (x < 0 ? 1u : 0u);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t tq_mbqm_v6m(int32_t x, int32_t q, int32_t shift)
{
    if (shift > 0) {
        const int32_t top = INT32_MAX >> shift, bottom = INT32_MIN >> shift;
        const int32_t shifted = x > top ? INT32_MAX : (x < bottom ? INT32_MIN : (int32_t)((uint32_t)x << shift));
        return tq_srdhm_v6m(shifted, q);
    }
    return tq_rdbpot_v6m(tq_srdhm_v6m(x, q), -shift);
}

static inline int8_t tq_requantize_s8_v6m(int32_t acc, int32_t q, int32_t shift, int32_t zero_point,
                                          int32_t act_min, int32_t act_max)
{
    const int32_t r = tq_mbqm_v6m(acc, q, shift);
    if (r < act_min - zero_point) {
        return (int8_t)act_min;
    }
    if (r > act_max - zero_point) {
        return (int8_t)act_max;
    }
    return (int8_t)(r + zero_point);
}

/*
 * tq_requantize_s8_v6m_fused(acc, q, e, zp, lo, hi): the Armv6-M output stage of a layer whose
 * requant_fused field is 1 (decided by the generator, tinyqat/fixedpoint.py's fused_requant_ok: every right
 * shift e = -shift[c] in [1, 31] and every accumulator in [-2^30, 2^30 - 1]):
 *   y = (tq_srdhm_v6m(acc, q) + 2^(e-1) + (acc >> 31)) >> e,  output = clamp(y + zp, lo, hi).
 * It equals tq_requantize_s8(acc, q, -e, zp, lo, hi) there: tq_mbqm_fused's comment shows
 * rdbpot(srdhm(acc, q), e) = floor((t + 2^(e-1) - [acc < 0]) / 2^e) with t = srdhm(acc, q)
 * (= tq_srdhm_v6m(acc, q)), and |t| <= 2^30 keeps the sum and y + zp inside int32 (no saturation).
 * tests/test_v6m_kernels.py checks the equality.
 */
static inline int8_t tq_requantize_s8_v6m_fused(int32_t acc, int32_t q, int32_t e, int32_t zero_point,
                                                int32_t act_min, int32_t act_max)
{
    const int32_t y = ((tq_srdhm_v6m(acc, q) + (int32_t)(1u << (e - 1)) + (acc >> 31)) >> e) + zero_point;
    return (int8_t)(y < act_min ? act_min : (y > act_max ? act_max : y));
}

/* tq_requantize_s8_v6m_fused(acc, q, -shift, ...) when fused != 0 (the layer's requant_fused), else
 * tq_requantize_s8_v6m(acc, q, shift, ...): equal to tq_requantize_s8 under the conditions above. */
static inline int8_t tq_requantize_s8_v6m_layer(int32_t acc, int32_t fused, int32_t q, int32_t shift,
                                                int32_t zero_point, int32_t act_min, int32_t act_max)
{
    if (fused) {
        return tq_requantize_s8_v6m_fused(acc, q, -shift, zero_point, act_min, act_max);
    }
    return tq_requantize_s8_v6m(acc, q, shift, zero_point, act_min, act_max);
}

/*
 * tq_mbqm_fused without its rounding constant, the form of the DSP FC and add kernels' assembly output
 * stage (one SMMLAR, whose built-in 2^31 rounding is srdhm's; they run it as tq_requantize_s8_fused_ssat2
 * below): for e = -shift in [1, 31], q in [0, 2^31 - 1], acc in [-2^30, 2^30 - 1] and zp2 = 2 * zero_point + 1,
 *   T = floor(((acc >> 31) * 2^32 + 2 * acc * q + 2^31) / 2^32)     (SMMLAR(2 * acc, q, acc >> 31))
 *   tq_requantize_s8_fused_ssat(acc, q, shift, zp2) = clamp(((T >> (e - 1)) + zp2) >> 1, -128, 127)
 * equals clamp(tq_mbqm_fused(acc, q, e) + zero_point, -128, 127). Why: T = t - [acc < 0] with
 * t = srdhm(acc, q) (tq_requantize_s8_fast's comment), and tq_mbqm_fused's comment gives
 * tq_mbqm_fused = floor((t + 2^(e-1) - [acc < 0]) / 2^e) = floor((T + 2^(e-1)) / 2^e)
 * = floor((floor(T / 2^(e-1)) + 1) / 2) (nested floors of an integer sum); adding zero_point inside
 * the halving adds it outside. |T| <= 2^30 + 1, so nothing overflows. A clamp to [act_min, act_max]
 * after it gives tq_requantize_s8 (-128 <= act_min <= act_max <= 127). tests/test_dsp_kernels.py
 * checks the equality.
 */
static inline int32_t tq_requantize_s8_fused_ssat(int32_t acc, int32_t q, int32_t shift, int32_t zp2)
{
    const int64_t r = (int64_t)(acc >> 31) * ((int64_t)1 << 32) + (int64_t)(acc * 2) * q + ((int64_t)1 << 31);
    const int32_t t = (int32_t)(r >> 32);
    const int32_t v = ((t >> (-shift - 1)) + zp2) >> 1;
    return v < -128 ? -128 : (v > 127 ? 127 : v);
}

/*
 * tq_requantize_s8_fused_ssat with the accumulator given doubled and the right shift as e - 1 (the DSP add's
 * table path, whose table holds doubled values, and the DSP FC's output stage, whose requant_dsp holds e - 1): for acc in [-2^30, 2^30 - 1], acc2 = 2 * acc, q in
 * [0, 2^31 - 1], shift in [-31, -1] and em1 = -shift - 1,
 *   tq_requantize_s8_fused_ssat2(acc2, q, em1, zp2) = tq_requantize_s8_fused_ssat(acc, q, shift, zp2):
 * acc2 >> 31 = acc >> 31 and acc2 = acc * 2, so T and the result are the same numbers.
 * tests/test_dsp_kernels.py checks the equality; TQ_REQUANT_FUSED_SSAT2_ASM is the same computation as
 * Thumb-2 text (five instructions).
 */
static inline int32_t tq_requantize_s8_fused_ssat2(int32_t acc2, int32_t q, int32_t em1, int32_t zp2)
{
    const int64_t r = (int64_t)(acc2 >> 31) * ((int64_t)1 << 32) + (int64_t)acc2 * q + ((int64_t)1 << 31);
    const int32_t t = (int32_t)(r >> 32);
    const int32_t v = ((t >> em1) + zp2) >> 1;
    return v < -128 ? -128 : (v > 127 ? 127 : v);
}

/* tq_requantize_s8_fused_ssat2 as inline-assembly text (Armv7E-M / Armv8-M DSP), register names as strings:
 * ACC2 (in: 2 * acc; out: the int8 value, sign-extended), Q (multiplier), EM1 (e - 1), T (scratch),
 * ZP2 (2 * zero_point + 1). */
#define TQ_REQUANT_FUSED_SSAT2_ASM(ACC2, Q, EM1, T, ZP2)                                           \
    "asr " T ", " ACC2 ", #31\n\t"                                                                \
    "smmlar " T ", " ACC2 ", " Q ", " T "\n\t"                                                    \
    "asr " T ", " T ", " EM1 "\n\t"                                                               \
    "add " T ", " T ", " ZP2 "\n\t"                                                               \
    "ssat " ACC2 ", #8, " T ", asr #1\n\t"

#if defined(__ARM_FEATURE_DSP)
/* tq_requantize_s8_fused_ssat2 as one inline-assembly statement of TQ_REQUANT_FUSED_SSAT2_ASM, for the DSP kernels
 * written in C (add's table path, mul, concat). */
static inline int32_t tq_requantize_s8_fused_ssat2_dsp(int32_t acc2, int32_t q, int32_t em1, int32_t zp2)
{
    int32_t t;
    __asm__(TQ_REQUANT_FUSED_SSAT2_ASM("%0", "%2", "%3", "%1", "%4")
            : "+r"(acc2), "=&r"(t)
            : "r"(q), "r"(em1), "r"(zp2));
    return acc2;
}
#endif

/*
 * tq_requantize_s8_fused_ssat2 with e - 1 and 2 * zero_point + 1 in one word (the DSP FC short paths' records):
 * ez = em1 + 256 * zp2 with 0 <= em1 <= 30 and -255 <= zp2 <= 255, so ez & 255 = em1 and ez >> 8 = zp2
 * (arithmetic shift), and
 *   tq_requantize_s8_fused_ssat2_ez(acc2, q, ez) = tq_requantize_s8_fused_ssat2(acc2, q, ez & 255, ez >> 8).
 * tests/test_dsp_kernels.py checks it against tq_requantize_s8; TQ_REQUANT_FUSED_SSAT2_EZ_ASM is the same computation
 * as Thumb-2 text, TQ_REQUANT_FUSED_SSAT2_ASM's five instructions with the zero point from EZ: ASR by a register
 * shifts by that register's low byte (em1), and ADD's operand EZ, ASR #8 is zp2.
 */
static inline int32_t tq_requantize_s8_fused_ssat2_ez(int32_t acc2, int32_t q, int32_t ez)
{
    return tq_requantize_s8_fused_ssat2(acc2, q, ez & 255, ez >> 8);
}

/* tq_requantize_s8_fused_ssat2_ez as inline-assembly text, register names as strings: ACC2 (in: 2 * acc; out: the
 * int8 value, sign-extended), Q (multiplier), EZ (em1 + 256 * zp2), T (scratch). */
#define TQ_REQUANT_FUSED_SSAT2_EZ_ASM(ACC2, Q, EZ, T)                                              \
    "asr " T ", " ACC2 ", #31\n\t"                                                                \
    "smmlar " T ", " ACC2 ", " Q ", " T "\n\t"                                                    \
    "asr " T ", " T ", " EZ "\n\t"                                                                \
    "add " T ", " T ", " EZ ", asr #8\n\t"                                                        \
    "ssat " ACC2 ", #8, " T ", asr #1\n\t"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>

/*
 * tq_mbqm and tq_requantize_s8 on four int32 lanes (Helium; the _mve kernels' output stage): lane j of
 * tq_mbqm_s32x4_mve is mbqm(acc_j, q_j, shift_j), of tq_requantize_s32x4_mve
 * clamp(mbqm(acc_j, q_j, shift_j) + zero_point, act_min, act_max), the same integers. Why:
 *   VQSHL by left = max(shift, 0) is sat32(acc * 2^left) (saturating shift left);
 *   VQRDMULH(x, q) = sat((2 * x * q + 2^31) >> 32) = floor((x * q + 2^30) / 2^31), which is srdhm(x, q)
 *     for q >= 0 (tq_requantize_s8_fast's comment), never saturating as q != INT32_MIN;
 *   rdbpot(t, e) = floor((t + 2^(e-1) - [t < 0]) / 2^e) for e >= 1 (the same comment), i.e. VRSHL
 *     (a rounding shift right by e, computed without overflow) of t + (t >> 31); for e = 0 it is t,
 *     so the -1 is added only to lanes with e >= 1. t > -2^31 (|x| <= 2^31 and q < 2^31), so
 *     t + (t >> 31) does not wrap;
 *   the zero point is added with saturation (VQADD), as tq_requantize_s8's sat32 of the int64 sum (a
 *     saturated left shift can bring mbqm to within 128 of the int32 ends).
 */
static inline int32x4_t tq_mbqm_s32x4_mve(int32x4_t acc, int32x4_t q, int32x4_t shift)
{
    const int32x4_t left = vmaxq_s32(shift, vdupq_n_s32(0));
    const int32x4_t right = vminq_s32(shift, vdupq_n_s32(0)); /* -e */
    int32x4_t t = vqrdmulhq_s32(vqshlq_s32(acc, left), q);
    t = vaddq_m_s32(t, t, vshrq_n_s32(t, 31), vcmpltq_n_s32(right, 0));
    return vrshlq_s32(t, right);
}

/*
 * tq_mbqm_s32x4_mve with one multiplier q and shift for all four lanes, as scalars (per-tensor requantization:
 * the add's inputs and output): the same steps with the scalar forms VQSHL / VQRDMULH / VRSHL (register
 * operand; VRSHL by a register is vrshlq_n) and the -1 of negative lanes added for e >= 1 through a mask that
 * is all ones or zero, so lane j is mbqm(acc_j, q, shift) exactly as in tq_mbqm_s32x4_mve.
 */
static inline int32x4_t tq_mbqm_s32x4_n_mve(int32x4_t acc, int32_t q, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0, right = shift < 0 ? shift : 0; /* right = -e */
    const int32x4_t t = vqrdmulhq_n_s32(vqshlq_r_s32(acc, left), q);
    const int32x4_t fix = vandq_s32(vshrq_n_s32(t, 31), vdupq_n_s32(right < 0 ? -1 : 0));
    return vrshlq_n_s32(vaddq_s32(t, fix), right);
}

static inline int32x4_t tq_requantize_s32x4_mve(int32x4_t acc, int32x4_t q, int32x4_t shift, int32_t zero_point,
                                               int32_t act_min, int32_t act_max)
{
    const int32x4_t t = vqaddq_n_s32(tq_mbqm_s32x4_mve(acc, q, shift), zero_point); /* sat32(mbqm + zero_point) */
    return vminq_s32(vmaxq_s32(t, vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
}

/*
 * tq_requantize_s32x4_mve for shifts in [-31, -1] only (every right shift e = -shift_j >= 1: layers whose
 * requant_fused is 1 or 2, tinyqat/fixedpoint.py fused_requant_ok), any accumulator: the left shift is 0 (VQSHL
 * by 0 is the identity, left out) and the -1 of negative lanes is added to every lane, so lane j is
 * tq_requantize_s8(acc_j, q_j, shift_j, ...) by the reasoning above.
 */
static inline int32x4_t tq_requantize_s32x4_right_mve(int32x4_t acc, int32x4_t q, int32x4_t shift,
                                                     int32_t zero_point, int32_t act_min, int32_t act_max)
{
    int32x4_t t = vqrdmulhq_s32(acc, q);
    t = vrshlq_s32(vaddq_s32(t, vshrq_n_s32(t, 31)), shift);
    t = vqaddq_n_s32(t, zero_point);
    return vminq_s32(vmaxq_s32(t, vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
}

/* tq_requantize_s32x4_mve with one multiplier and shift for all lanes (tq_mbqm_s32x4_n_mve). */
static inline int32x4_t tq_requantize_s32x4_n_mve(int32x4_t acc, int32_t q, int32_t shift, int32_t zero_point,
                                                  int32_t act_min, int32_t act_max)
{
    const int32x4_t t = vqaddq_n_s32(tq_mbqm_s32x4_n_mve(acc, q, shift), zero_point);
    return vminq_s32(vmaxq_s32(t, vdupq_n_s32(act_min)), vdupq_n_s32(act_max));
}

/*
 * tq_mbqm_s32x4_n_mve for a right shift: shift in [-31, -1] (no left shift, every lane's e = -shift >= 1), so
 * lane j is mbqm(acc_j, q, shift) = VRSHL(t + (t >> 31), shift), t = VQRDMULH(acc_j, q) (tq_mbqm_s32x4_mve's
 * comment); three instructions fewer. tests/test_mve_kernels.py checks it against tq_mbqm.
 */
static inline int32x4_t tq_mbqm_right_s32x4_n_mve(int32x4_t acc, int32_t q, int32_t shift)
{
    const int32x4_t t = vqrdmulhq_n_s32(acc, q);
    return vrshlq_n_s32(vaddq_s32(t, vshrq_n_s32(t, 31)), shift);
}

/*
 * tq_mbqm_right_s32x4_n_mve with the rounding shift as a multiply (the Helium add's fast path, whose assembly
 * issues these steps): for shift in [-31, -1], e = -shift, x = t + (t >> 31) as above,
 *   VRSHL(x, -e) = floor((x + 2^(e-1)) / 2^e) = VQRDMULH(x, 2^(31-e)):
 * VQRDMULH(x, m) = floor((2 x m + 2^31) / 2^32), with m = 2^(31-e) that is floor((x 2^(32-e) + 2^31) / 2^32);
 * it never saturates (m != INT32_MIN). The sign t >> 31 may equally be VMULH(t, 1) = floor(t / 2^32).
 * tests/test_mve_kernels.py checks it against tq_mbqm.
 */
static inline int32x4_t tq_mbqm_right_mul_s32x4_n_mve(int32x4_t acc, int32_t q, int32_t shift)
{
    const int32x4_t t = vqrdmulhq_n_s32(acc, q);
    return vqrdmulhq_n_s32(vaddq_s32(t, vmulhq_s32(t, vdupq_n_s32(1))), (int32_t)(1u << (31 + shift)));
}

/*
 * The output stage of a layer with every shift in [-31, -1] and the full int8 output range (requant_fused == 2)
 * as inline-assembly text, register names as strings, in two steps that leave room for the caller's loads:
 *   TQ_MBQM_RIGHT_MUL_X2_MVE_ASM(A, B, QA, QB, MA, MB, T, LMA, LMB): lanes of A (B) become mbqm(A_j, QA_j, -e_j)
 *     (B, QB) with MA_j = 2^(31 - e_j) (MB), e_j in [1, 31]: VQRDMULH by QA, t + (t >> 31), VQRDMULH by MA, the
 *     steps of tq_mbqm_right_mul_s32x4_n_mve (its comment proves them); LMA, LMB are the caller's instructions
 *     that load MA, MB, issued before their use and after QA's; T is scratch (it may be QA);
 *   TQ_NARROW_ZP_S8_X4_MVE_ASM(A0, A1, A2, A3, T, U, ZP16, MID0, MID2, MID1, MID3): byte 4 i + k of T becomes
 *     clamp(Ak_i + zero_point, -128, 127) (k = 0 to 3, i = 0 to 3), ZP16 holding the zero point in its int16
 *     lanes (by the end of MID3); MIDk is a caller instruction placed right after Ak is read (it may write Ak and
 *     ZP16, not T or U).
 *     Why: VQMOVNB / VQMOVNT.S32 put sat16(A0_i), sat16(A2_i) in T's halfwords 2 i, 2 i + 1 (sat16(A1_i),
 *     sat16(A3_i) in U's); VQADD.S16 adds the zero point with int16 saturation, VQMOVNB / VQMOVNT.S16 saturate to
 *     int8 into T's even (from T) and odd (from U) bytes. With |zero_point| <= 128 and sat16(x) = x inside
 *     [-32768, 32767], sat8(sat16(sat16(x) + zp)) = sat8(x + zp): an x above the int16 range gives
 *     32767 + zp >= 32639 -> 127, below it -32768 + zp <= -32641 -> -128, as x + zp would. mbqm + zp cannot
 *     overflow int32 for a right shift (|mbqm| <= 2^30), so with the full int8 range this is tq_requantize_s8.
 * tests/test_mve_kernels.py checks both against tq_requantize_s8.
 */
#define TQ_MBQM_RIGHT_MUL_X2_MVE_ASM(A, B, QA, QB, MA, MB, T, LMA, LMB)                                     \
    "vqrdmulh.s32 " A ", " A ", " QA "\n\t"                                                               \
    LMA                                                                                                  \
    "vqrdmulh.s32 " B ", " B ", " QB "\n\t"                                                               \
    LMB                                                                                                  \
    "vshr.s32 " T ", " A ", #31\n\t"                                                                      \
    "vadd.i32 " A ", " A ", " T "\n\t"                                                                    \
    "vqrdmulh.s32 " A ", " A ", " MA "\n\t"                                                               \
    "vshr.s32 " T ", " B ", #31\n\t"                                                                      \
    "vadd.i32 " B ", " B ", " T "\n\t"                                                                    \
    "vqrdmulh.s32 " B ", " B ", " MB "\n\t"

#define TQ_NARROW_ZP_S8_X4_MVE_ASM(A0, A1, A2, A3, T, U, ZP16, MID0, MID2, MID1, MID3)                      \
    "vqmovnb.s32 " T ", " A0 "\n\t"                                                                       \
    MID0                                                                                                 \
    "vqmovnt.s32 " T ", " A2 "\n\t"                                                                       \
    MID2                                                                                                 \
    "vqmovnb.s32 " U ", " A1 "\n\t"                                                                       \
    MID1                                                                                                 \
    "vqmovnt.s32 " U ", " A3 "\n\t"                                                                       \
    MID3                                                                                                 \
    "vqadd.s16 " T ", " T ", " ZP16 "\n\t"                                                                \
    "vqadd.s16 " U ", " U ", " ZP16 "\n\t"                                                                \
    "vqmovnb.s16 " T ", " T "\n\t"                                                                        \
    "vqmovnt.s16 " T ", " U "\n\t"
#endif /* __ARM_FEATURE_MVE */

#endif /* TQ_REQUANT_H */
