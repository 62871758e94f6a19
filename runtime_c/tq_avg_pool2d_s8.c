/* tq_avg_pool2d_s8.c - int8 average pooling with PyTorch's divisor rule (see tq_kernels.h). */
#include "tq_kernels.h"
#include "tq_requant.h"

/* Number of window positions [start, start + kernel) inside [lo, hi). */
static int32_t overlap(int32_t start, int32_t kernel, int32_t lo, int32_t hi)
{
    const int32_t begin = start > lo ? start : lo;
    const int32_t end = start + kernel < hi ? start + kernel : hi;
    return end > begin ? end - begin : 0;
}

void tq_avg_pool2d_s8(const tq_avg_pool2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_avg_pool2d_s8_params *p = params;
    /* Counted region: the input, plus the declared padding with count_include_pad. */
    const int32_t count_h = p->count_include_pad ? p->pad_top : 0;
    const int32_t count_w = p->count_include_pad ? p->pad_left : 0;
    int32_t oy, ox, c, iy, ix;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t y_begin = y0 > 0 ? y0 : 0;
        const int32_t y_end = y0 + p->kernel_h < p->in_h ? y0 + p->kernel_h : p->in_h;
        const int32_t rows = overlap(y0, p->kernel_h, -count_h, p->in_h + count_h);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t x_begin = x0 > 0 ? x0 : 0;
            const int32_t x_end = x0 + p->kernel_w < p->in_w ? x0 + p->kernel_w : p->in_w;
            const int32_t n = rows * overlap(x0, p->kernel_w, -count_w, p->in_w + count_w); /* >= 1 */
            const int32_t padded = n - (y_end - y_begin) * (x_end - x_begin); /* counted padded taps */
            int8_t *out = output + (oy * p->out_w + ox) * p->channels;
            for (c = 0; c < p->channels; ++c) {
                int32_t acc = padded * p->zero_point;
                for (iy = y_begin; iy < y_end; ++iy) {
                    for (ix = x_begin; ix < x_end; ++ix) {
                        acc += input[(iy * p->in_w + ix) * p->channels + c];
                    }
                }
                /* Round half away from zero with C division (truncation toward zero). */
                acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
                out[c] = (int8_t)tq_clamp_s32(acc, INT8_MIN, INT8_MAX);
            }
        }
    }
}
