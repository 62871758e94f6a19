/* tq_depthwise_conv2d_s4_s8.c - depthwise convolution with depth multiplier, 4-bit packed weights,
 * int8 activations (the formula of tq_depthwise_conv2d_s8; weights unpacked with TQ_S4_WEIGHT). */
#include "tq_kernels.h"
#include "tq_portable.h"
#include "tq_requant.h"

void tq_depthwise_conv2d_s4_s8(const tq_depthwise_conv2d_s4_s8_params *params, const int8_t *input,
                               int8_t *output)
{
    const tq_depthwise_conv2d_s4_s8_params *p = params;
    const int32_t out_c = p->in_c * p->depth_multiplier;
    int32_t oy, ox, ic, m, ky, kx;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t ky_begin = TQ_WINDOW_BEGIN(y0);
        const int32_t ky_end = TQ_WINDOW_END(y0, p->kernel_h, p->in_h);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t kx_begin = TQ_WINDOW_BEGIN(x0);
            const int32_t kx_end = TQ_WINDOW_END(x0, p->kernel_w, p->in_w);
            int8_t *out = output + (oy * p->out_w + ox) * out_c;
            for (ic = 0; ic < p->in_c; ++ic) {
                for (m = 0; m < p->depth_multiplier; ++m) {
                    const int32_t c = ic * p->depth_multiplier + m; /* reads input channel c / m = ic */
                    int32_t acc = 0; /* int32 accumulator, as TFLite */
                    for (ky = ky_begin; ky < ky_end; ++ky) {
                        const int8_t *x_row = input + (y0 + ky) * p->in_w * p->in_c + ic;
                        const int32_t k_row = ky * p->kernel_w * out_c + c; /* flat index of w[ky][0][c] */
                        for (kx = kx_begin; kx < kx_end; ++kx) {
                            acc += TQ_S4_WEIGHT(p->weights, k_row + kx * out_c)
                                   * ((int32_t)x_row[(x0 + kx) * p->in_c] - p->input_zero_point);
                        }
                    }
                    acc += p->bias[c];
                    out[c] = tq_requantize_s8_portable(acc, p->multiplier[c], p->shift[c], p->output_zero_point,
                                                       p->act_min, p->act_max);
                }
            }
        }
    }
}
