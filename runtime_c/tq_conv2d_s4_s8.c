/* tq_conv2d_s4_s8.c - 2-D convolution, groups = 1, 4-bit packed weights, int8 activations
 * (the formula of tq_conv2d_s8; weights unpacked with TQ_S4_WEIGHT, see tq_kernels.h). */
#include "tq_kernels.h"
#include "tq_portable.h"
#include "tq_requant.h"

void tq_conv2d_s4_s8(const tq_conv2d_s4_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_conv2d_s4_s8_params *p = params;
    const int32_t tap_stride = p->kernel_h * p->kernel_w * p->in_c; /* weights per output channel */
    int32_t oy, ox, c, ky, kx, i;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t ky_begin = TQ_WINDOW_BEGIN(y0);
        const int32_t ky_end = TQ_WINDOW_END(y0, p->kernel_h, p->in_h);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t kx_begin = TQ_WINDOW_BEGIN(x0);
            const int32_t kx_end = TQ_WINDOW_END(x0, p->kernel_w, p->in_w);
            int8_t *out = output + (oy * p->out_w + ox) * p->out_c;
            for (c = 0; c < p->out_c; ++c) {
                int32_t acc = 0; /* int32 accumulator, as TFLite */
                for (ky = ky_begin; ky < ky_end; ++ky) {
                    for (kx = kx_begin; kx < kx_end; ++kx) {
                        const int8_t *x = input + ((y0 + ky) * p->in_w + x0 + kx) * p->in_c;
                        const int32_t k = c * tap_stride + (ky * p->kernel_w + kx) * p->in_c; /* flat weight index */
                        for (i = 0; i < p->in_c; ++i) {
                            acc += TQ_S4_WEIGHT(p->weights, k + i) * ((int32_t)x[i] - p->input_zero_point);
                        }
                    }
                }
                acc += p->bias[c];
                out[c] = tq_requantize_s8_portable(acc, p->multiplier[c], p->shift[c], p->output_zero_point,
                                                   p->act_min, p->act_max);
            }
        }
    }
}
