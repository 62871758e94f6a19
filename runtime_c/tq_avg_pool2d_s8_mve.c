/*
 * tq_avg_pool2d_s8_mve.c - int8 average pooling for cores with Helium (MVE, Armv8.1-M: Cortex-M55, M85), the
 * same function and result as tq_avg_pool2d_s8.c (formula: tq_kernels.h).
 *
 * Method: output pixel by pixel in raster order (the in-place contract of tq_kernels.h); per pixel,
 * channels in steps of 8 int16 lanes when a window has at most 255 taps (each lane starts at zero_point *
 * (counted padded taps) and adds one VLDRB.S16 of 8 channels of each in-bounds tap: exact, |acc| <= 128 * 255
 * < 2^15), else of 4 int32 lanes (VLDRB.S32; |acc| <= 128 * taps, far below 2^31); the sums
 * are rounded and divided by the count lane by lane (tq_avg_pool_round, tq_portable.h: the portable
 * kernel's rounding, no vector divide exists) and stored. The last channels mod 8 (mod 4) are a tail-predicated
 * step (VCTP.16 / VCTP.32: inactive lanes read no memory and are not stored). A step reads only its own channels
 * of the pixel's window before writing them.
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_portable.h"

void tq_avg_pool2d_s8(const tq_avg_pool2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_avg_pool2d_s8_params *p = params;
    const int32_t ch = p->channels, row_step = p->in_w * p->channels;
    /* Counted region: the input, plus the declared padding with count_include_pad. */
    const int32_t count_h = p->count_include_pad ? p->pad_top : 0;
    const int32_t count_w = p->count_include_pad ? p->pad_left : 0;
    /* at most 255 taps a window: every partial sum (|x| <= 128 per tap) fits int16 */
    const int narrow = p->kernel_h * p->kernel_w <= 255;
    int32_t oy, ox, c, iy, ix, lane;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t y_begin = TQ_CLIP_BEGIN(y0, 0);
        const int32_t y_end = TQ_CLIP_END(y0, p->kernel_h, p->in_h);
        const int32_t rows = tq_pool_overlap(y0, p->kernel_h, -count_h, p->in_h + count_h);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t x_begin = TQ_CLIP_BEGIN(x0, 0);
            const int32_t x_end = TQ_CLIP_END(x0, p->kernel_w, p->in_w);
            const int32_t n = rows * tq_pool_overlap(x0, p->kernel_w, -count_w, p->in_w + count_w); /* >= 1 */
            const int32_t padded = n - (y_end - y_begin) * (x_end - x_begin); /* counted padded taps */
            const int8_t *window = input + y_begin * row_step + x_begin * ch;
            int8_t *out = output + (oy * p->out_w + ox) * ch;
            if (narrow) { /* int16 sums, 8 channels a step */
                for (c = 0; c < ch; c += 8) {
                    const mve_pred16_t lanes = vctp16q((uint32_t)(ch - c));
                    const int32_t count = ch - c < 8 ? ch - c : 8;
                    int16x8_t acc = vdupq_n_s16((int16_t)(padded * p->zero_point));
                    int16_t sums[8];
                    const int8_t *row = window + c;
                    for (iy = y_begin; iy < y_end; ++iy, row += row_step) {
                        const int8_t *x = row;
                        for (ix = x_begin; ix < x_end; ++ix, x += ch) {
                            acc = vaddq_s16(acc, vldrbq_z_s16(x, lanes));
                        }
                    }
                    vst1q_s16(sums, acc);
                    for (lane = 0; lane < count; ++lane) {
                        out[c + lane] = tq_avg_pool_round(sums[lane], n);
                    }
                }
                continue;
            }
            for (c = 0; c < ch; c += 4) {
                const mve_pred16_t lanes = vctp32q((uint32_t)(ch - c));
                const int32_t count = ch - c < 4 ? ch - c : 4;
                int32x4_t acc = vdupq_n_s32(padded * p->zero_point);
                int32_t sums[4];
                const int8_t *row = window + c;
                for (iy = y_begin; iy < y_end; ++iy, row += row_step) {
                    const int8_t *x = row;
                    for (ix = x_begin; ix < x_end; ++ix, x += ch) {
                        acc = vaddq_s32(acc, vldrbq_z_s32(x, lanes));
                    }
                }
                vst1q_s32(sums, acc);
                for (lane = 0; lane < count; ++lane) {
                    out[c + lane] = tq_avg_pool_round(sums[lane], n);
                }
            }
        }
    }
}

#endif /* TQ_USE_MVE */
