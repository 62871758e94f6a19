/* tq_conv2d_s8.c - int8 2-D convolution, groups = 1 (see tq_kernels.h for the formula). */
#include "tq_kernels.h"

/* Both builds: the scratch rule of tq_kernels.h (the portable kernel itself ignores the buffer). */
int32_t tq_conv2d_s8_get_buffer_size(const tq_conv2d_s8_params *params)
{
    return TQ_CONV2D_S8_BUFFER_SIZE(params->kernel_h, params->kernel_w, params->in_c);
}

/* Cores with the DSP extension compile tq_conv2d_s8_dsp.c instead (same function, same result). */
#if !defined(__ARM_FEATURE_DSP) || defined(TQ_PORTABLE)
#include "tq_requant.h"

/*
 * Pointwise fast path (1x1 kernel, stride 1, no padding, so out_h * out_w = in_h * in_w
 * pixels): no window arithmetic, acc = bias[c] + sum_i w[c][i] * (x[i] - input_zero_point)
 * per pixel and channel (the generic accumulator, same integer). Pixel by pixel in raster
 * order, all channels of pixel px after reading only input pixel px: the in-place contract
 * of tq_kernels.h.
 */
static void conv2d_1x1(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t pixels = p->in_h * p->in_w;
    int32_t c, px, i;
    for (px = 0; px < pixels; ++px) {
        const int8_t *x = input + px * p->in_c;
        int8_t *out = output + px * p->out_c;
        for (c = 0; c < p->out_c; ++c) {
            const int8_t *w = p->weights + c * p->in_c;
            int32_t acc = 0; /* int32 accumulator, as TFLite */
            for (i = 0; i < p->in_c; ++i) {
                acc += (int32_t)w[i] * ((int32_t)x[i] - p->input_zero_point);
            }
            out[c] = tq_requantize_s8(acc + p->bias[c], p->multiplier[c], p->shift[c], p->output_zero_point,
                                      p->act_min, p->act_max);
        }
    }
}

void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_conv2d_s8_params *p = params;
    const int32_t tap_stride = p->kernel_h * p->kernel_w * p->in_c; /* weights per output channel */
    int32_t oy, ox, c, ky, kx, i;
    if (p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0
        && p->pad_left == 0 && p->out_h == p->in_h && p->out_w == p->in_w) {
        conv2d_1x1(p, input, output);
        return;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + (oy * p->out_w + ox) * p->out_c;
            for (c = 0; c < p->out_c; ++c) {
                const int8_t *w_c = p->weights + c * tap_stride;
                int32_t acc = 0; /* int32 accumulator, as TFLite */
                for (ky = 0; ky < p->kernel_h; ++ky) {
                    const int32_t iy = y0 + ky;
                    if (iy < 0 || iy >= p->in_h) {
                        continue;
                    }
                    for (kx = 0; kx < p->kernel_w; ++kx) {
                        const int32_t ix = x0 + kx;
                        const int8_t *x;
                        const int8_t *w;
                        if (ix < 0 || ix >= p->in_w) {
                            continue;
                        }
                        x = input + (iy * p->in_w + ix) * p->in_c;
                        w = w_c + (ky * p->kernel_w + kx) * p->in_c;
                        for (i = 0; i < p->in_c; ++i) {
                            acc += (int32_t)w[i] * ((int32_t)x[i] - p->input_zero_point);
                        }
                    }
                }
                acc += p->bias[c];
                out[c] = tq_requantize_s8(acc, p->multiplier[c], p->shift[c], p->output_zero_point,
                                          p->act_min, p->act_max);
            }
        }
    }
}

#endif /* !__ARM_FEATURE_DSP || TQ_PORTABLE */
