/*
 * tq_fully_connected_s8_mve.c - int8 fully connected for cores with Helium (MVE, Armv8.1-M:
 * Cortex-M55, M85), the same function and result as tq_fully_connected_s8.c (formula: tq_kernels.h).
 *
 * Method (batch 1: every weight is read once). For output c, with n = in_features and zp the input
 * zero point, acc[c] = bias[c] + sum_i w[c][i] * x[i] + sum_i w[c][i] * (-zp), the formula's sum
 * regrouped (exact integers). Both sums go into one scalar per row, 16 inputs per step, with
 * VMLADAVA.S8 (the 16 products' sum added to the scalar): once with the input vector, once with a
 * vector of -zp, which fits int8 unless zp = -128; then 128 * w = 127 * w + w, a VMLADAVA with 127 and
 * a VADDVA.S8 (the 16 weights' sum). Four rows share each input vector; the last n mod 16 inputs are
 * a tail-predicated step (VCTP.8: inactive lanes load zero and read no memory). The four sums plus
 * the biases are one int32x4 vector (added modulo 2^32, equal to the int32 sum tq_kernels.h bounds)
 * whose output stage is tq_requantize_s32x4_mve (tq_requant.h), four bytes stored. Rows after the last
 * group of four run one at a time with tq_requantize_s8. Natural row-major weights, no scratch; input
 * and output must be disjoint (tq_kernels.h).
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_portable.h" /* TQ_LOOP_INLINE */
#include "tq_requant.h"

/* sum_i row[i] * x[i] + zk * sum_i row[i] (+ sum_i row[i] when extra) for one row of n values,
 * zk = min(-zp, 127), extra = (zp == -128). */
TQ_LOOP_INLINE int32_t tq_fc_mve_row(const int8_t *row, const int8_t *x, int32_t n, int8x16_t zk, int extra)
{
    int32_t d = 0;
    for (; n >= 16; n -= 16, row += 16, x += 16) {
        const int8x16_t a = vldrbq_s8(row);
        d = vmladavaq_s8(d, a, vldrbq_s8(x));
        d = vmladavaq_s8(d, a, zk);
        if (extra) {
            d = vaddvaq_s8(d, a);
        }
    }
    if (n > 0) {
        const mve_pred16_t lanes = vctp8q((uint32_t)n);
        const int8x16_t a = vldrbq_z_s8(row, lanes);
        d = vmladavaq_s8(d, a, vldrbq_z_s8(x, lanes));
        d = vmladavaq_s8(d, a, zk);
        if (extra) {
            d = vaddvaq_s8(d, a);
        }
    }
    return d;
}

/* The same for four rows r0 .. r3 sharing the input, as an int32x4 vector. */
TQ_LOOP_INLINE int32x4_t tq_fc_mve_rows4(const int8_t *r0, const int8_t *r1, const int8_t *r2, const int8_t *r3,
                                        const int8_t *x, int32_t n, int8x16_t zk, int extra)
{
    int32_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    int32x4_t v;
    for (; n >= 16; n -= 16, x += 16, r0 += 16, r1 += 16, r2 += 16, r3 += 16) {
        const int8x16_t xv = vldrbq_s8(x);
        const int8x16_t a0 = vldrbq_s8(r0);
        const int8x16_t a1 = vldrbq_s8(r1);
        const int8x16_t a2 = vldrbq_s8(r2);
        const int8x16_t a3 = vldrbq_s8(r3);
        d0 = vmladavaq_s8(d0, a0, xv);
        d0 = vmladavaq_s8(d0, a0, zk);
        d1 = vmladavaq_s8(d1, a1, xv);
        d1 = vmladavaq_s8(d1, a1, zk);
        d2 = vmladavaq_s8(d2, a2, xv);
        d2 = vmladavaq_s8(d2, a2, zk);
        d3 = vmladavaq_s8(d3, a3, xv);
        d3 = vmladavaq_s8(d3, a3, zk);
        if (extra) {
            d0 = vaddvaq_s8(d0, a0);
            d1 = vaddvaq_s8(d1, a1);
            d2 = vaddvaq_s8(d2, a2);
            d3 = vaddvaq_s8(d3, a3);
        }
    }
    if (n > 0) {
        d0 += tq_fc_mve_row(r0, x, n, zk, extra);
        d1 += tq_fc_mve_row(r1, x, n, zk, extra);
        d2 += tq_fc_mve_row(r2, x, n, zk, extra);
        d3 += tq_fc_mve_row(r3, x, n, zk, extra);
    }
    v = vsetq_lane_s32(d0, vdupq_n_s32(0), 0);
    v = vsetq_lane_s32(d1, v, 1);
    v = vsetq_lane_s32(d2, v, 2);
    return vsetq_lane_s32(d3, v, 3);
}

TQ_LOOP_INLINE void tq_fc_mve(const tq_fully_connected_s8_params *p, const int8_t *input, int8_t *output, int extra)
{
    const int8_t *const weights = p->weights; /* read once: int8 output stores may alias the params */
    const int32_t n = p->in_features;
    const int32_t zk = extra ? 127 : -p->input_zero_point;
    const int8x16_t zv = vdupq_n_s8((int8_t)zk);
    int32_t c = 0;
    for (; c + 4 <= p->out_features; c += 4) {
        const int8_t *r0 = weights + c * n;
        const int32x4_t d = tq_fc_mve_rows4(r0, r0 + n, r0 + 2 * n, r0 + 3 * n, input, n, zv, extra);
        vstrbq_s32(output + c, tq_requantize_s32x4_mve(vaddq_s32(d, vldrwq_s32(p->bias + c)),
                                                       vldrwq_s32(p->multiplier + c), vldrwq_s32(p->shift + c),
                                                       p->output_zero_point, p->act_min, p->act_max));
    }
    for (; c < p->out_features; ++c) {
        const int32_t d = tq_fc_mve_row(weights + c * n, input, n, zv, extra);
        output[c] = tq_requantize_s8((int32_t)((uint32_t)p->bias[c] + (uint32_t)d), p->multiplier[c], p->shift[c],
                                     p->output_zero_point, p->act_min, p->act_max);
    }
}

void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output)
{
    if (params->input_zero_point == -128) { /* two copies, each with its inner loops specialized */
        tq_fc_mve(params, input, output, 1);
    } else {
        tq_fc_mve(params, input, output, 0);
    }
}

#endif /* TQ_USE_MVE */
