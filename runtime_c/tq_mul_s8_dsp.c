/*
 * tq_mul_s8_dsp.c - int8 elementwise multiply for cores with the DSP extension, the same function and result as
 * tq_mul_s8.c (tq_kernels.h: TFLite MUL, per-channel broadcast of input2, in place allowed).
 *
 * Method, for a layer with a right shift (shift <= -1, e = -shift), the case of every MUL whose scales shrink the
 * product: four channels per step. One word of input1 and one of input2 give, by SXTAB16 (ROR #0 and #8) of the
 * negated zero points, the int16 pairs (a0 - zp1, a2 - zp1), (a1 - zp1, a3 - zp1) and the same of input2; input1's
 * pairs are doubled (SADD16: |2 (a - zp1)| <= 510 fits int16), so SMULBB / SMULTT give the doubled products
 * 2 (a - zp1)(b - zp2), which tq_requant.h's tq_requantize_s8_fused_ssat2 (TQ_REQUANT_FUSED_SSAT2_ASM: five
 * instructions, one SMMLAR) takes as 2 * acc: |product| <= 255 * 255 < 2^30 is its domain. Its SSAT is the clamp to
 * the full int8 range; a narrower [act_min, act_max] is applied after it (both clamps give tq_requantize_s8's
 * result as act_min >= -128 and act_max <= 127). The four bytes are stored as one word, after the step's two input
 * words were read, so the in-place calls of tq_kernels.h read every element before writing it. The channels
 * mod 4 at the end of each position, and every layer with shift >= 0, run tq_portable.h's tq_mul_s8_portable.
 * About 10 est. cycles per element on the Cortex-M4 where the portable loop takes ~38.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_portable.h"
#include "tq_requant.h"

/* Products of the low halves and of the high halves of two int16 pairs (GCC emits SMULBB / SMULTT). */
static inline int32_t mul_bb(int32_t x, int32_t y)
{
    return (int32_t)(int16_t)x * (int16_t)y;
}

static inline int32_t mul_tt(int32_t x, int32_t y)
{
    return (x >> 16) * (y >> 16);
}

/* The four output bytes of one step, (y0, y1, y2, y3) as one word (y0 in the low byte). */
static inline uint32_t pack4(int32_t y0, int32_t y1, int32_t y2, int32_t y3)
{
    return ((uint32_t)y0 & 255u) | ((uint32_t)y1 & 255u) << 8 | ((uint32_t)y2 & 255u) << 16 | (uint32_t)y3 << 24;
}

/* The channel groups of four of every position, with a narrower clamp than the int8 range when `clamp` is set
 * (a constant at each call: the compiler makes the two loops). */
TQ_LOOP_INLINE void mul_groups(const tq_mul_s8_params *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                               int clamp)
{
    const int32_t ch = p->channels, groups = ch >> 2, positions = p->positions;
    const int32_t step2 = p->broadcast != 0 ? 0 : ch;
    const int32_t q = p->multiplier, em1 = -p->shift - 1, zp2 = 2 * p->output_zero_point + 1;
    const int32_t nzp1 = tq_dup_s16(-p->input1_zero_point), nzp2 = tq_dup_s16(-p->input2_zero_point);
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t pos, g;
    for (pos = 0; pos < positions; ++pos) {
        const int8_t *a = input1 + pos * ch;
        const int8_t *b = input2 + pos * step2;
        int8_t *y = output + pos * ch;
        for (g = 0; g < groups; ++g, a += 4, b += 4, y += 4) {
            const int32_t av = tq_load_s8x4(a), bv = tq_load_s8x4(b);
            int32_t a02 = __sxtab16(nzp1, av), a13 = tq_sxtab16_odd(nzp1, av);
            const int32_t b02 = __sxtab16(nzp2, bv), b13 = tq_sxtab16_odd(nzp2, bv);
            int32_t y0, y1, y2, y3;
            uint32_t r;
            a02 = __sadd16(a02, a02);
            a13 = __sadd16(a13, a13);
            y0 = tq_requantize_s8_fused_ssat2_dsp(mul_bb(a02, b02), q, em1, zp2);
            y1 = tq_requantize_s8_fused_ssat2_dsp(mul_bb(a13, b13), q, em1, zp2);
            y2 = tq_requantize_s8_fused_ssat2_dsp(mul_tt(a02, b02), q, em1, zp2);
            y3 = tq_requantize_s8_fused_ssat2_dsp(mul_tt(a13, b13), q, em1, zp2);
            if (clamp) {
                y0 = tq_clamp_s32(y0, lo, hi);
                y1 = tq_clamp_s32(y1, lo, hi);
                y2 = tq_clamp_s32(y2, lo, hi);
                y3 = tq_clamp_s32(y3, lo, hi);
            }
            r = pack4(y0, y1, y2, y3);
            memcpy(y, &r, sizeof r);
        }
    }
}

void tq_mul_s8(const tq_mul_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t c_begin = 0;
    if (params->shift <= -1 && params->channels >= 4) {
        if (params->act_min == -128 && params->act_max == 127) {
            mul_groups(params, input1, input2, output, 0);
        } else {
            mul_groups(params, input1, input2, output, 1);
        }
        c_begin = params->channels & ~3;
    }
    if (c_begin < params->channels) {
        tq_mul_s8_portable(params, input1, input2, output, c_begin);
    }
}

#endif /* TQ_USE_DSP */
