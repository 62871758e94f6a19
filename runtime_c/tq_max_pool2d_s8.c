/* tq_max_pool2d_s8.c - int8 max pooling over in-bounds taps (see tq_kernels.h for the formula). */
#include "tq_kernels.h"
#include "tq_portable.h"

#if !TQ_USE_MVE /* Helium cores: tq_max_pool2d_s8_mve.c */

/* The larger of a and b. */
static int8_t larger(int8_t a, int8_t b)
{
    return a > b ? a : b;
}

/*
 * Output pixel by pixel in raster order (the in-place contract of tq_kernels.h): the window's in-bounds
 * taps are scanned for four channels at a time (four running maxima, the window walked once per four
 * channels), then the channels left one at a time.
 */
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
            for (c = 0; c + 4 <= ch; c += 4) {
                int8_t m0 = INT8_MIN, m1 = INT8_MIN, m2 = INT8_MIN, m3 = INT8_MIN;
                const int8_t *row = window + c;
                for (iy = y_begin; iy < y_end; ++iy, row += row_step) {
                    const int8_t *x = row;
                    for (ix = x_begin; ix < x_end; ++ix, x += ch) {
                        m0 = larger(m0, x[0]);
                        m1 = larger(m1, x[1]);
                        m2 = larger(m2, x[2]);
                        m3 = larger(m3, x[3]);
                    }
                }
                out[c] = m0;
                out[c + 1] = m1;
                out[c + 2] = m2;
                out[c + 3] = m3;
            }
            for (; c < ch; ++c) {
                int8_t best = INT8_MIN;
                const int8_t *row = window + c;
                for (iy = y_begin; iy < y_end; ++iy, row += row_step) {
                    const int8_t *x = row;
                    for (ix = x_begin; ix < x_end; ++ix, x += ch) {
                        best = larger(best, *x);
                    }
                }
                out[c] = best;
            }
        }
    }
}

#endif /* !TQ_USE_MVE */
