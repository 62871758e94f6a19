/*
 * tq_conv2d_s8_mve.c - int8 2-D convolution for cores with Helium (MVE, Armv8.1-M: Cortex-M55,
 * M85), the same function and result as tq_conv2d_s8.c (formula: tq_kernels.h).
 *
 * Method. With K = kernel_h * kernel_w * in_c and zp the input zero point, output (pixel q, channel c)
 * is acc = bias[c] + sum_k w[c][k] * col_q[k] - zp * sum_k w[c][k], where col_q is the pixel's window
 * in weight order (ky, kx, i) with the input zero point in place of out-of-bounds taps (those then
 * add w * (zp - zp) = 0, as the formula's skipped taps): the formula's sum regrouped, exact. Pixels go
 * in blocks of two (raster order, the in-place contract of tq_kernels.h): a 1x1 / stride 1 / unpadded
 * layer reads both columns straight from the input (pixel q's channels are its column); any other
 * layer with K <= TQ_CONV_DSP_COLUMN_MAX copies the two windows into params->scratch (2 * K16 bytes,
 * K16 = K rounded up to 16, within TQ_CONV2D_S8_BUFFER_SIZE) before writing the block. Channels go
 * in pairs: per 16 values, one VLDRB of each column and of each of the two weight rows, four
 * VMLADAVA.S8 and two VADDVA.S8 (the row sums); the last K mod 16 values are one tail-predicated
 * step (VCTP.8: inactive lanes load zero and read no memory). The three terms are added modulo 2^32,
 * equal to the int32 sum tq_kernels.h bounds; the output stage is tq_requantize_s8.
 * Other layers (K too large, or no scratch) run the portable loop (tq_portable.h).
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>
#include <string.h>

#include "tq_portable.h"
#include "tq_requant.h"

/* bias + dot - zp * wsum modulo 2^32, as int32 (the exact sum: tq_kernels.h bounds it). */
static inline int32_t tq_conv_mve_acc(int32_t bias, int32_t dot, int32_t zp, int32_t wsum)
{
    return (int32_t)((uint32_t)bias + (uint32_t)dot - (uint32_t)zp * (uint32_t)wsum);
}

/* r[0..3] = dot(wa, xa), dot(wa, xb), dot(wb, xa), dot(wb, xb); r[4], r[5] = sum wa, sum wb (k values each). */
static inline void tq_conv_mve_dot2x2(const int8_t *wa, const int8_t *wb, const int8_t *xa, const int8_t *xb,
                                      int32_t k, int32_t r[6])
{
    int32_t aa = 0, ab = 0, ba = 0, bb = 0, sa = 0, sb = 0, i;
    for (i = 0; i < k; i += 16) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(k - i));
        const int8x16_t x0 = vldrbq_z_s8(xa + i, lanes);
        const int8x16_t x1 = vldrbq_z_s8(xb + i, lanes);
        const int8x16_t v0 = vldrbq_z_s8(wa + i, lanes);
        const int8x16_t v1 = vldrbq_z_s8(wb + i, lanes);
        aa = vmladavaq_s8(aa, v0, x0);
        ab = vmladavaq_s8(ab, v0, x1);
        sa = vaddvaq_s8(sa, v0);
        ba = vmladavaq_s8(ba, v1, x0);
        bb = vmladavaq_s8(bb, v1, x1);
        sb = vaddvaq_s8(sb, v1);
    }
    r[0] = aa;
    r[1] = ab;
    r[2] = ba;
    r[3] = bb;
    r[4] = sa;
    r[5] = sb;
}

/* Pixel q's window in weight order (ky, kx, i) into col: K bytes, the input zero point outside the input. */
static void tq_conv_mve_column(const tq_conv2d_s8_params *p, const int8_t *input, int32_t q, int8_t *col)
{
    const int32_t y0 = (q / p->out_w) * p->stride_h - p->pad_top;
    const int32_t x0 = (q % p->out_w) * p->stride_w - p->pad_left;
    const int32_t row = p->kernel_w * p->in_c;
    int32_t ky;
    for (ky = 0; ky < p->kernel_h; ++ky) {
        const int32_t iy = y0 + ky;
        int8_t *dst = col + ky * row;
        if (iy < 0 || iy >= p->in_h) {
            memset(dst, (int)(int8_t)p->input_zero_point, (size_t)row);
        } else {
            /* in-bounds taps [kb, ke), both clipped to the window (a window may lie wholly in the padding) */
            const int32_t begin = TQ_WINDOW_BEGIN(x0);
            const int32_t kb = begin < p->kernel_w ? begin : p->kernel_w;
            const int32_t end = TQ_WINDOW_END(x0, p->kernel_w, p->in_w);
            const int32_t ke = end > kb ? end : kb;
            if (kb > 0) {
                memset(dst, (int)(int8_t)p->input_zero_point, (size_t)(kb * p->in_c));
            }
            if (ke > kb) {
                memcpy(dst + kb * p->in_c, input + (iy * p->in_w + x0 + kb) * p->in_c, (size_t)((ke - kb) * p->in_c));
            }
            if (ke < p->kernel_w) {
                memset(dst + ke * p->in_c, (int)(int8_t)p->input_zero_point, (size_t)((p->kernel_w - ke) * p->in_c));
            }
        }
    }
}

void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_conv2d_s8_params *p = params;
    const int8_t *const weights = p->weights; /* read once: int8 output stores may alias the params */
    const int32_t k = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t out_c = p->out_c;
    const int32_t zp = p->input_zero_point;
    const int pointwise = p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1
                          && p->pad_top == 0 && p->pad_left == 0 && p->out_h == p->in_h && p->out_w == p->in_w;
    int8_t *const cols = (int8_t *)p->scratch;
    const int32_t k16 = (k + 15) & ~15;
    int32_t q;
    if (!pointwise && (cols == 0 || k > TQ_CONV_DSP_COLUMN_MAX)) {
        tq_conv2d_s8_portable(p, input, output);
        return;
    }
    for (q = 0; q < pixels; q += 2) {
        const int32_t last = q + 1 < pixels ? q + 1 : q; /* an odd last pixel is computed twice */
        const int8_t *xa = input + q * k;
        const int8_t *xb = input + last * k;
        int8_t *out_a = output + q * out_c;
        int8_t *out_b = output + last * out_c;
        int32_t c;
        if (!pointwise) {
            tq_conv_mve_column(p, input, q, cols);
            tq_conv_mve_column(p, input, last, cols + k16);
            xa = cols;
            xb = cols + k16;
        }
        for (c = 0; c < out_c; c += 2) {
            const int32_t d = c + 1 < out_c ? c + 1 : c; /* an odd last channel is computed twice */
            int32_t r[6];
            tq_conv_mve_dot2x2(weights + c * k, weights + d * k, xa, xb, k, r);
            out_a[c] = tq_requantize_s8(tq_conv_mve_acc(p->bias[c], r[0], zp, r[4]), p->multiplier[c], p->shift[c],
                                        p->output_zero_point, p->act_min, p->act_max);
            out_b[c] = tq_requantize_s8(tq_conv_mve_acc(p->bias[c], r[1], zp, r[4]), p->multiplier[c], p->shift[c],
                                        p->output_zero_point, p->act_min, p->act_max);
            out_a[d] = tq_requantize_s8(tq_conv_mve_acc(p->bias[d], r[2], zp, r[5]), p->multiplier[d], p->shift[d],
                                        p->output_zero_point, p->act_min, p->act_max);
            out_b[d] = tq_requantize_s8(tq_conv_mve_acc(p->bias[d], r[3], zp, r[5]), p->multiplier[d], p->shift[d],
                                        p->output_zero_point, p->act_min, p->act_max);
        }
    }
}

#endif /* TQ_USE_MVE */
