/*
 * tq_add_s8_dsp.c - int8 elementwise add for cores with the DSP extension, the same function and
 * result as tq_add_s8.c (see tq_kernels.h for the formula).
 *
 * Method: when all three shifts are right shifts or none (shift in [-31, 0], the TFLite ADD
 * preparation gives that: every multiplier below 1), every MultiplyByQuantizedMultiplier is
 * computed by tq_mbqm_fused's formula (one SMLAL, tq_requant.h), generalized to e = 0 (then the
 * high word of 2 * v * q + 2^31 is srdhm(v, q) itself), provided L <= 20 (tinyqat uses 20): then
 * its arguments stay in [-2^30, 2^30 - 1]: |(x - zp) * 2^L| <= 255 * 2^20 < 2^28, |a|, |b| <= that
 * (q < 2^31, e >= 0), so |a + b| < 2^29 and sat32 never saturates. Otherwise the portable loop runs.
 * Elementwise, element i read before it is written: in place as tq_kernels.h allows.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_requant.h"

/* tq_mbqm(v, q, -e) for e in [0, 31] and v in [-2^30, 2^30 - 1]; round = e ? 2^(e-1) : 0,
 * sign = e ? -1 : 0 (tq_mbqm_fused with e = 0 allowed). */
static inline int32_t mbqm_e(int32_t v, int32_t q, int32_t e, int32_t round, int32_t sign)
{
    const int64_t t = (int64_t)(((uint64_t)(uint32_t)(round + ((v >> 31) & sign)) << 32) | 0x80000000u)
                      + (int64_t)(v * 2) * q;
    return (int32_t)(t >> 32) >> e;
}

void tq_add_s8(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const tq_add_s8_params *p = params;
    const int32_t n = p->size;
    const int32_t zp1 = p->input1_zero_point, zp2 = p->input2_zero_point, zp_out = p->output_zero_point;
    const int32_t q1 = p->multiplier1, q2 = p->multiplier2, qo = p->output_multiplier;
    const int32_t e1 = -p->shift1, e2 = -p->shift2, eo = -p->output_shift;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t left = p->left_shift, scale = (int32_t)1 << p->left_shift;
    int32_t i;
    if (e1 < 0 || e1 > 31 || e2 < 0 || e2 > 31 || eo < 0 || eo > 31 || left > 20) {
        for (i = 0; i < n; ++i) {
            const int32_t a = tq_mbqm((input1[i] - zp1) * scale, q1, p->shift1);
            const int32_t b = tq_mbqm((input2[i] - zp2) * scale, q2, p->shift2);
            output[i] = tq_requantize_s8(tq_sat_s32((int64_t)a + b), qo, p->output_shift, zp_out, lo, hi);
        }
        return;
    }
    {
        const int32_t r1 = e1 ? (int32_t)(1u << (e1 - 1)) : 0, s1 = e1 ? -1 : 0;
        const int32_t r2 = e2 ? (int32_t)(1u << (e2 - 1)) : 0, s2 = e2 ? -1 : 0;
        const int32_t ro = eo ? (int32_t)(1u << (eo - 1)) : 0, so = eo ? -1 : 0;
        for (i = 0; i < n; ++i) {
            const int32_t a = mbqm_e((input1[i] - zp1) * scale, q1, e1, r1, s1);
            const int32_t b = mbqm_e((input2[i] - zp2) * scale, q2, e2, r2, s2);
            int32_t y = mbqm_e(a + b, qo, eo, ro, so) + zp_out;
            y = y < lo ? lo : y;
            output[i] = (int8_t)(y > hi ? hi : y);
        }
    }
}

#endif /* TQ_USE_DSP */
