/*
 * tq_add_s8_mve.c - int8 elementwise add for cores with Helium (MVE, Armv8.1-M: Cortex-M55, M85),
 * the same function and result as tq_add_s8.c (formula: tq_kernels.h).
 *
 * Method: four elements per step in int32 lanes: each input one VLDRB.S32, minus its zero point,
 * shifted left by L (|x - zp| * 2^L < 2^31, exact), through tq_mbqm_s32x4_mve with its multiplier and
 * shift; the two terms added (subtracted for SUB) with saturation (VQADD / VQSUB: sat32(a +- b) or b - a); a broadcast
 * input 2 ([channels], params->broadcast) is read from its start for every position; the output stage
 * tq_requantize_s32x4_mve (tq_requant.h); four bytes stored. The last size mod 4 elements are a
 * tail-predicated step (VCTP.32: inactive lanes read and write no memory; per position with a broadcast). Element i is read before
 * it is written (the in-place contract of tq_kernels.h: output may be either input).
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_requant.h"

void tq_add_s8(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const tq_add_s8_params *p = params;
    const int32x4_t q1 = vdupq_n_s32(p->multiplier1), s1 = vdupq_n_s32(p->shift1);
    const int32x4_t q2 = vdupq_n_s32(p->multiplier2), s2 = vdupq_n_s32(p->shift2);
    const int32x4_t qo = vdupq_n_s32(p->output_multiplier), so = vdupq_n_s32(p->output_shift);
    const int32_t zp1 = p->input1_zero_point, zp2 = p->input2_zero_point, left = p->left_shift;
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int32_t step = p->broadcast ? p->channels : p->size; /* elements of input2 per pass */
    int32_t base, i;
    for (base = 0; base < p->size; base += step) {
        const int8_t *in2 = p->broadcast ? input2 : input2 + base;
        for (i = 0; i < step; i += 4) {
            const mve_pred16_t lanes = vctp32q((uint32_t)(step - i));
            const int32x4_t x1 = vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32(input1 + base + i, lanes), zp1), left);
            const int32x4_t x2 = vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32(in2 + i, lanes), zp2), left);
            const int32x4_t a = tq_mbqm_s32x4_mve(x1, q1, s1), b = tq_mbqm_s32x4_mve(x2, q2, s2);
            const int32x4_t sum = p->subtract == 2 ? vqsubq_s32(b, a)
                                  : p->subtract ? vqsubq_s32(a, b) : vqaddq_s32(a, b);
            vstrbq_p_s32(output + base + i, tq_requantize_s32x4_mve(sum, qo, so, zp_out, act_min, act_max), lanes);
        }
    }
}

#endif /* TQ_USE_MVE */
