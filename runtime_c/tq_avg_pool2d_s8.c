/* tq_avg_pool2d_s8.c - int8 average pooling with PyTorch's divisor rule (see tq_kernels.h). */
#include "tq_kernels.h"

#if !TQ_USE_MVE /* Helium cores: tq_avg_pool2d_s8_mve.c */
#include "tq_portable.h"

/*
 * Output pixel by pixel in raster order (the in-place contract of tq_kernels.h): the window's in-bounds
 * rows [y_begin, y_end) and columns [x_begin, x_end) are summed for four channels at a time (four
 * accumulators, the window walked once per four channels), then the channels left one at a time.
 */
void tq_avg_pool2d_s8(const tq_avg_pool2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_avg_pool2d_s8_params *p = params;
    const int32_t ch = p->channels, row_step = p->in_w * p->channels;
    /* Counted region: the input, plus the declared padding with count_include_pad. */
    const int32_t count_h = p->count_include_pad ? p->pad_top : 0;
    const int32_t count_w = p->count_include_pad ? p->pad_left : 0;
    int32_t oy, ox, c, iy, ix;
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
            const int32_t start = padded * p->zero_point;
            const int8_t *window = input + y_begin * row_step + x_begin * ch;
            int8_t *out = output + (oy * p->out_w + ox) * ch;
            for (c = 0; c + 4 <= ch; c += 4) {
                int32_t a0 = start, a1 = start, a2 = start, a3 = start;
                const int8_t *row = window + c;
                for (iy = y_begin; iy < y_end; ++iy, row += row_step) {
                    const int8_t *x = row;
                    for (ix = x_begin; ix < x_end; ++ix, x += ch) {
                        a0 += x[0];
                        a1 += x[1];
                        a2 += x[2];
                        a3 += x[3];
                    }
                }
                out[c] = tq_avg_pool_round(a0, n);
                out[c + 1] = tq_avg_pool_round(a1, n);
                out[c + 2] = tq_avg_pool_round(a2, n);
                out[c + 3] = tq_avg_pool_round(a3, n);
            }
            for (; c < ch; ++c) {
                int32_t acc = start;
                const int8_t *row = window + c;
                for (iy = y_begin; iy < y_end; ++iy, row += row_step) {
                    const int8_t *x = row;
                    for (ix = x_begin; ix < x_end; ++ix, x += ch) {
                        acc += *x;
                    }
                }
                out[c] = tq_avg_pool_round(acc, n);
            }
        }
    }
}

#endif /* !TQ_USE_MVE */
