/*
 * tq_add_s8_mve.c - int8 elementwise add for cores with Helium (MVE, Armv8.1-M: Cortex-M55, M85),
 * the same function and result as tq_add_s8.c (formula: tq_kernels.h).
 *
 * Method: four elements per step in int32 lanes: each input one VLDRB.S32, minus its zero point,
 * shifted left by L (|x - zp| * 2^L < 2^31, exact), through tq_mbqm_s32x4_n_mve with its multiplier and
 * shift (per tensor: scalar operands); the two terms added (subtracted for SUB) with saturation (VQADD /
 * VQSUB: sat32(a +- b), or sat32(b - a) for g - x); a broadcast input 2 ([channels], params->broadcast) is read from its start for every
 * position; the output stage tq_requantize_s32x4_n_mve (tq_requant.h); four bytes stored. The last size mod 4
 * elements (per pass) are a tail-predicated step (VCTP.32: inactive lanes read and write no memory; per position with a broadcast). Element i is read before
 * it is written (the in-place contract of tq_kernels.h: output may be either input).
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_requant.h"

/* The sum (difference a - b for SUB, b - a for subtract == 2) of four elements' scaled terms, before the output
 * stage: x1, x2 are the inputs minus their zero points, shifted left by L. Every parameter a scalar: no vector
 * register holds a constant. */
static inline int32x4_t tq_add_mve_sum(int32x4_t x1, int32x4_t x2, int32_t q1, int32_t s1, int32_t q2, int32_t s2,
                                       int32_t subtract)
{
    const int32x4_t a = tq_mbqm_s32x4_n_mve(x1, q1, s1), b = tq_mbqm_s32x4_n_mve(x2, q2, s2);
    return subtract == 2 ? vqsubq_s32(b, a) : subtract ? vqsubq_s32(a, b) : vqaddq_s32(a, b);
}

/* Four elements at in1, in2 (lanes selected by `lanes`; inactive ones read no memory) through the output stage. */
#define TQ_ADD_MVE_STEP(in1, in2, lanes)                                                                        \
    tq_requantize_s32x4_n_mve(tq_add_mve_sum(vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32((in1), (lanes)), zp1), left),  \
                                             vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32((in2), (lanes)), zp2), left),  \
                                             q1, s1, q2, s2, subtract),                                         \
                              qo, so, zp_out, act_min, act_max)

void tq_add_s8(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const tq_add_s8_params *p = params;
    const int32_t q1 = p->multiplier1, s1 = p->shift1, q2 = p->multiplier2, s2 = p->shift2;
    const int32_t qo = p->output_multiplier, so = p->output_shift, subtract = p->subtract;
    const int32_t zp1 = p->input1_zero_point, zp2 = p->input2_zero_point, left = p->left_shift;
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int32_t step = p->broadcast ? p->channels : p->size; /* elements of input2 per pass */
    const int32_t size = p->size, broadcast = p->broadcast;
    const mve_pred16_t all = vctp32q(4);
    int32_t base, i;
    for (base = 0; base < size; base += step) {
        const int8_t *in1 = input1 + base, *in2 = broadcast ? input2 : input2 + base;
        int8_t *out = output + base;
        for (i = 0; i + 4 <= step; i += 4) {
            vstrbq_s32(out + i, TQ_ADD_MVE_STEP(in1 + i, in2 + i, all));
        }
        if (i < step) {
            const mve_pred16_t lanes = vctp32q((uint32_t)(step - i));
            vstrbq_p_s32(out + i, TQ_ADD_MVE_STEP(in1 + i, in2 + i, lanes), lanes);
        }
    }
}

#endif /* TQ_USE_MVE */
