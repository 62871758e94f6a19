/*
 * tq_depthwise_conv2d_s8_mve.c - int8 depthwise convolution for cores with Helium (MVE, Armv8.1-M:
 * Cortex-M55, M85), the same function and result as tq_depthwise_conv2d_s8.c (formula: tq_kernels.h).
 *
 * Method (depth multiplier 1; other multipliers run the portable loop of tq_portable.h). Pixel by pixel
 * in raster order, every channel of a pixel before the next pixel (the in-place contract of
 * tq_kernels.h), eight channels per step in two int32x4 vectors: acc = bias + sum over the pixel's
 * in-bounds taps of w * (x - zp), each tap and four channels one VLDRB.S32 of the input, one VSUB of
 * the zero point, one VLDRB.S32 of the weights, one VMUL and one VADD (MVE's VMLA multiplies by a
 * scalar only; every sum is the formula's, exact in int32 as tq_kernels.h bounds it). Skipping
 * out-of-bounds taps equals zero-point padding. The last in_c mod 8 channels go four at a time, the
 * last group tail-predicated (VCTP.32: inactive lanes read and write no memory). Output stage:
 * tq_requantize_s32x4_mve (tq_requant.h), four bytes stored per vector.
 * No scratch (tq_depthwise_conv2d_s8_get_buffer_size is 0 on these cores).
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_portable.h"
#include "tq_requant.h"

void tq_depthwise_conv2d_s8(const tq_depthwise_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_depthwise_conv2d_s8_params *p = params;
    const int8_t *const weights = p->weights; /* read once: int8 output stores may alias the params */
    const int32_t in_c = p->in_c, in_w = p->in_w, kernel_w = p->kernel_w;
    const int32_t zp = p->input_zero_point, zp_out = p->output_zero_point;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    int32_t oy, ox, c, ky, kx;
    if (p->depth_multiplier != 1) {
        tq_depthwise_conv2d_s8_portable(p, input, output);
        return;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t ky_begin = TQ_WINDOW_BEGIN(y0);
        const int32_t ky_end = TQ_WINDOW_END(y0, p->kernel_h, p->in_h);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t kx_begin = TQ_WINDOW_BEGIN(x0);
            const int32_t kx_end = TQ_WINDOW_END(x0, kernel_w, in_w);
            int8_t *out = output + (oy * p->out_w + ox) * in_c;
            for (c = 0; c + 8 <= in_c; c += 8) {
                int32x4_t a0 = vldrwq_s32(p->bias + c), a1 = vldrwq_s32(p->bias + c + 4);
                for (ky = ky_begin; ky < ky_end; ++ky) {
                    const int8_t *x = input + ((y0 + ky) * in_w + x0 + kx_begin) * in_c + c;
                    const int8_t *w = weights + (ky * kernel_w + kx_begin) * in_c + c;
                    for (kx = kx_begin; kx < kx_end; ++kx) {
                        a0 = vaddq_s32(a0, vmulq_s32(vsubq_n_s32(vldrbq_s32(x), zp), vldrbq_s32(w)));
                        a1 = vaddq_s32(a1, vmulq_s32(vsubq_n_s32(vldrbq_s32(x + 4), zp), vldrbq_s32(w + 4)));
                        x += in_c;
                        w += in_c;
                    }
                }
                vstrbq_s32(out + c, tq_requantize_s32x4_mve(a0, vldrwq_s32(p->multiplier + c), vldrwq_s32(p->shift + c),
                                                             zp_out, act_min, act_max));
                vstrbq_s32(out + c + 4, tq_requantize_s32x4_mve(a1, vldrwq_s32(p->multiplier + c + 4),
                                                                 vldrwq_s32(p->shift + c + 4), zp_out, act_min,
                                                                 act_max));
            }
            for (; c < in_c; c += 4) { /* the last in_c mod 8 channels, four at a time */
                const mve_pred16_t lanes = vctp32q((uint32_t)(in_c - c));
                int32x4_t acc = vldrwq_z_s32(p->bias + c, lanes);
                for (ky = ky_begin; ky < ky_end; ++ky) {
                    const int8_t *x = input + ((y0 + ky) * in_w + x0 + kx_begin) * in_c + c;
                    const int8_t *w = weights + (ky * kernel_w + kx_begin) * in_c + c;
                    for (kx = kx_begin; kx < kx_end; ++kx) {
                        const int32x4_t xv = vsubq_n_s32(vldrbq_z_s32(x, lanes), zp);
                        acc = vaddq_s32(acc, vmulq_s32(xv, vldrbq_z_s32(w, lanes)));
                        x += in_c;
                        w += in_c;
                    }
                }
                vstrbq_p_s32(out + c, tq_requantize_s32x4_mve(acc, vldrwq_z_s32(p->multiplier + c, lanes),
                                                               vldrwq_z_s32(p->shift + c, lanes), zp_out, act_min,
                                                               act_max), lanes);
            }
        }
    }
}

#endif /* TQ_USE_MVE */
