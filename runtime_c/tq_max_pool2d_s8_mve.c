/*
 * tq_max_pool2d_s8_mve.c - int8 max pooling for cores with Helium (MVE, Armv8.1-M: Cortex-M55, M85), the
 * same function and result as tq_max_pool2d_s8.c (formula: tq_kernels.h).
 *
 * Method: output pixel by pixel in raster order (the in-place contract of tq_kernels.h); per pixel,
 * channels in steps of 16 lanes: a running maximum starts at -128 (INT8_MIN, the identity of max) and
 * takes VMAX.S8 with one VLDRB.S8 of 16 channels of each in-bounds tap; the step is stored as 16 bytes.
 * The last channels mod 16 are a tail-predicated step (VCTP.8: inactive lanes read and write no
 * memory). A step reads only its own channels of the pixel's window before writing them.
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_portable.h"

void tq_max_pool2d_s8(const tq_max_pool2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_max_pool2d_s8_params *p = params;
    const int32_t ch = p->channels, row_step = p->in_w * p->channels;
    int32_t oy, ox, c, iy, ix;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t y_begin = TQ_CLIP_BEGIN(y0, 0);
        const int32_t y_end = TQ_CLIP_END(y0, p->kernel_h, p->in_h);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t x_begin = TQ_CLIP_BEGIN(x0, 0);
            const int32_t x_end = TQ_CLIP_END(x0, p->kernel_w, p->in_w);
            const int8_t *window = input + y_begin * row_step + x_begin * ch;
            int8_t *out = output + (oy * p->out_w + ox) * ch;
            for (c = 0; c < ch; c += 16) {
                const mve_pred16_t lanes = vctp8q((uint32_t)(ch - c));
                int8x16_t best = vdupq_n_s8(INT8_MIN);
                const int8_t *row = window + c;
                for (iy = y_begin; iy < y_end; ++iy, row += row_step) {
                    const int8_t *x = row;
                    for (ix = x_begin; ix < x_end; ++ix, x += ch) {
                        best = vmaxq_s8(best, vldrbq_z_s8(x, lanes));
                    }
                }
                vstrbq_p_s8(out + c, best, lanes);
            }
        }
    }
}

#endif /* TQ_USE_MVE */
