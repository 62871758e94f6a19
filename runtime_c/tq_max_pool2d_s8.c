/* tq_max_pool2d_s8.c - int8 max pooling over in-bounds taps (see tq_kernels.h for the formula). */
#include "tq_kernels.h"

void tq_max_pool2d_s8(const tq_max_pool2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_max_pool2d_s8_params *p = params;
    int32_t oy, ox, c, iy, ix;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t y_begin = y0 > 0 ? y0 : 0;
        const int32_t y_end = y0 + p->kernel_h < p->in_h ? y0 + p->kernel_h : p->in_h;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t x_begin = x0 > 0 ? x0 : 0;
            const int32_t x_end = x0 + p->kernel_w < p->in_w ? x0 + p->kernel_w : p->in_w;
            int8_t *out = output + (oy * p->out_w + ox) * p->channels;
            for (c = 0; c < p->channels; ++c) {
                int8_t best = INT8_MIN;
                for (iy = y_begin; iy < y_end; ++iy) {
                    for (ix = x_begin; ix < x_end; ++ix) {
                        const int8_t v = input[(iy * p->in_w + ix) * p->channels + c];
                        best = v > best ? v : best;
                    }
                }
                out[c] = best;
            }
        }
    }
}
