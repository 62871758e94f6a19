/*
 * tq_fully_connected_s8_mve.c - int8 fully connected for cores with Helium (MVE, Armv8.1-M:
 * Cortex-M55, M85), the same function and result as tq_fully_connected_s8.c (formula: tq_kernels.h).
 *
 * Method (batch 1: every weight is read once). For output c, with n = in_features and zp the input
 * zero point,
 *   acc[c] = bias[c] + sum_i w[c][i] * x[i] - zp * sum_i w[c][i]
 * which is the formula's sum regrouped (exact integers). Both sums run 16 inputs per step on the raw
 * int8 data: VMLADAVA.S8 (sum of the 16 products added to a scalar) and VADDVA.S8 (sum of the 16
 * weights). Four rows share each input vector (one VLDRB of x, four of weights, eight reductions per
 * 64 MACs); the last n mod 16 inputs are a tail-predicated step (VCTP.8: inactive lanes load as zero,
 * read no memory, add nothing). Rows after the last group of four run one at a time. The three terms
 * are added modulo 2^32 (unsigned), equal to the formula's int32 sum, which tq_kernels.h bounds below
 * 2^31; each output goes through tq_requantize_s8. Natural row-major weights, no scratch; input and
 * output must be disjoint (tq_kernels.h).
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_requant.h"

/* bias + dot - zp * wsum modulo 2^32, as int32 (the exact sum: tq_kernels.h bounds it). */
static inline int32_t tq_fc_mve_acc(int32_t bias, int32_t dot, int32_t zp, int32_t wsum)
{
    return (int32_t)((uint32_t)bias + (uint32_t)dot - (uint32_t)zp * (uint32_t)wsum);
}

void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_fully_connected_s8_params *p = params;
    const int32_t n = p->in_features;
    int32_t c = 0;
    for (; c + 4 <= p->out_features; c += 4) {
        const int8_t *w0 = p->weights + c * n;
        const int8_t *w1 = w0 + n;
        const int8_t *w2 = w1 + n;
        const int8_t *w3 = w2 + n;
        int32_t d0 = 0, d1 = 0, d2 = 0, d3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int32_t i, k;
        for (i = 0; i < n; i += 16) {
            const mve_pred16_t lanes = vctp8q((uint32_t)(n - i));
            const int8x16_t x = vldrbq_z_s8(input + i, lanes);
            const int8x16_t a0 = vldrbq_z_s8(w0 + i, lanes);
            const int8x16_t a1 = vldrbq_z_s8(w1 + i, lanes);
            const int8x16_t a2 = vldrbq_z_s8(w2 + i, lanes);
            const int8x16_t a3 = vldrbq_z_s8(w3 + i, lanes);
            d0 = vmladavaq_s8(d0, a0, x);
            s0 = vaddvaq_s8(s0, a0);
            d1 = vmladavaq_s8(d1, a1, x);
            s1 = vaddvaq_s8(s1, a1);
            d2 = vmladavaq_s8(d2, a2, x);
            s2 = vaddvaq_s8(s2, a2);
            d3 = vmladavaq_s8(d3, a3, x);
            s3 = vaddvaq_s8(s3, a3);
        }
        {
            const int32_t dot[4] = {d0, d1, d2, d3};
            const int32_t wsum[4] = {s0, s1, s2, s3};
            for (k = 0; k < 4; ++k) {
                const int32_t acc = tq_fc_mve_acc(p->bias[c + k], dot[k], p->input_zero_point, wsum[k]);
                output[c + k] = tq_requantize_s8(acc, p->multiplier[c + k], p->shift[c + k], p->output_zero_point,
                                                 p->act_min, p->act_max);
            }
        }
    }
    for (; c < p->out_features; ++c) {
        const int8_t *w = p->weights + c * n;
        int32_t d = 0, s = 0, i;
        for (i = 0; i < n; i += 16) {
            const mve_pred16_t lanes = vctp8q((uint32_t)(n - i));
            const int8x16_t a = vldrbq_z_s8(w + i, lanes);
            d = vmladavaq_s8(d, a, vldrbq_z_s8(input + i, lanes));
            s = vaddvaq_s8(s, a);
        }
        output[c] = tq_requantize_s8(tq_fc_mve_acc(p->bias[c], d, p->input_zero_point, s), p->multiplier[c],
                                     p->shift[c], p->output_zero_point, p->act_min, p->act_max);
    }
}

#endif /* TQ_USE_MVE */
