/*
 * tq_depthwise_conv2d_s8_v6m.c - int8 depthwise convolution for Armv6-M (Cortex-M0 / M0+), the same
 * function and result as tq_depthwise_conv2d_s8.c (formula: tq_kernels.h).
 *
 * Method, input channel by input channel:
 * 1. Plane: the channel's values u = x + 128 (uint8) over the padded region the windows cover,
 *    plane_h = (out_h - 1) * stride_h + kernel_h rows from input row -pad_top and
 *    plane_w = (out_w - 1) * stride_w + kernel_w columns from input column -pad_left, the padded
 *    positions holding u = input_zero_point + 128 (the zero-point padding), in params->scratch
 *    (tq_depthwise_conv2d_s8_get_buffer_size bytes, arena memory planned for this layer's step).
 * 2. Each output channel c = ic * m + j (j < m, the depth multiplier) of that input channel, every
 *    output pixel: with every tap read from the plane (no window clipping),
 *      sum_t w_t * (x_t - zp) = sum_t w_t * u_t - (128 + zp) * sum_t w_t     (t over all taps),
 *    so acc = (bias[c] - (128 + zp) * W_c) + sum_t w_t * u_t, W_c = sum_t w_t computed once per
 *    channel (wrapping uint32 arithmetic; the final value is the layer's int32 accumulator). A 3 x 3
 *    window is unrolled with its nine weights in locals; other windows loop over the taps.
 * 3. Output stage: tq_requantize_s8_v6m_layer (tq_requant.h; the fused form when the generator set
 *    params->requant_fused), the channel's multiplier and shift fixed through its pixel loop.
 * Layers whose plane exceeds TQ_DEPTHWISE_V6M_PLANE_MAX bytes (buffer size 0), or without scratch,
 * run the portable loop (tq_depthwise_conv2d_s8_portable, tq_portable.h).
 *
 * In place (tq_kernels.h's contract, what the planner allows): this kernel writes channel by channel,
 * not pixel by pixel. With depth multiplier 1 and an output that starts d bytes from the input with
 * d a multiple of in_c, output channel c only overwrites input bytes of channel c, which its plane
 * already holds, so every output the contract allows is computed from intact input. Any other
 * overlap of input and output (d not a multiple of in_c, or m > 1) runs the portable loop, which
 * keeps the contract pixel by pixel.
 */
#include "tq_kernels.h"

#if TQ_USE_V6M
#include <stddef.h>

#include "tq_portable.h"
#include "tq_requant.h"

/* The plane of input channel ic (file comment, step 1). */
__attribute__((noinline)) static void plane_fill(const tq_depthwise_conv2d_s8_params *p, const int8_t *input,
                                                 int32_t ic, int32_t plane_h, int32_t plane_w, uint8_t *plane)
{
    const uint8_t pad = (uint8_t)(p->input_zero_point + 128);
    const int32_t in_c = p->in_c, in_w = p->in_w;
    int32_t py, px;
    for (py = 0; py < plane_h; ++py, plane += plane_w) {
        const int32_t iy = py - p->pad_top;
        const int32_t begin = TQ_WINDOW_BEGIN(-p->pad_left); /* first plane column inside the input */
        const int32_t end = TQ_WINDOW_END(-p->pad_left, plane_w, in_w);
        const int8_t *src;
        if (iy < 0 || iy >= p->in_h) {
            for (px = 0; px < plane_w; ++px) {
                plane[px] = pad;
            }
            continue;
        }
        for (px = 0; px < begin; ++px) {
            plane[px] = pad;
        }
        src = input + (iy * in_w + begin - p->pad_left) * in_c + ic;
        for (; px < end; ++px, src += in_c) {
            plane[px] = (uint8_t)((uint8_t)*src ^ 0x80u);
        }
        for (; px < plane_w; ++px) {
            plane[px] = pad;
        }
    }
}

/* Output channel c (weights w_t = weights[t * out_c + c]) over every pixel, from the plane (step 2). */
static void channel_3x3(const tq_depthwise_conv2d_s8_params *p, const uint8_t *plane, int32_t plane_w, int32_t c,
                        int32_t out_c, uint32_t acc0, int8_t *output)
{
    const int8_t *wc = p->weights + c;
    const int32_t w0 = wc[0], w1 = wc[out_c], w2 = wc[2 * out_c], w3 = wc[3 * out_c], w4 = wc[4 * out_c];
    const int32_t w5 = wc[5 * out_c], w6 = wc[6 * out_c], w7 = wc[7 * out_c], w8 = wc[8 * out_c];
    const int32_t q = p->multiplier[c], shift = p->shift[c];
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int32_t fused = p->requant_fused;
    const int32_t sw = p->stride_w, row_step = p->stride_h * plane_w, out_w = p->out_w;
    int32_t oy, ox;
    int8_t *out = output + c;
    for (oy = 0; oy < p->out_h; ++oy, plane += row_step) {
        const uint8_t *r = plane;
        for (ox = 0; ox < out_w; ++ox, r += sw, out += out_c) {
            const uint8_t *r1 = r + plane_w, *r2 = r1 + plane_w;
            uint32_t acc = acc0;
            acc += (uint32_t)(w0 * r[0] + w1 * r[1] + w2 * r[2]);
            acc += (uint32_t)(w3 * r1[0] + w4 * r1[1] + w5 * r1[2]);
            acc += (uint32_t)(w6 * r2[0] + w7 * r2[1] + w8 * r2[2]);
            *out = tq_requantize_s8_v6m_layer((int32_t)acc, fused, q, shift, zp_out, act_min, act_max);
        }
    }
}

static void channel_any(const tq_depthwise_conv2d_s8_params *p, const uint8_t *plane, int32_t plane_w, int32_t c,
                        int32_t out_c, uint32_t acc0, int8_t *output)
{
    const int8_t *wc = p->weights + c;
    const int32_t q = p->multiplier[c], shift = p->shift[c];
    const int32_t kh = p->kernel_h, kw = p->kernel_w;
    int32_t oy, ox, ky, kx;
    int8_t *out = output + c;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox, out += out_c) {
            const uint8_t *r = plane + oy * p->stride_h * plane_w + ox * p->stride_w;
            uint32_t acc = acc0;
            for (ky = 0; ky < kh; ++ky, r += plane_w) {
                for (kx = 0; kx < kw; ++kx) {
                    acc += (uint32_t)((int32_t)wc[(ky * kw + kx) * out_c] * (int32_t)r[kx]);
                }
            }
            *out = tq_requantize_s8_v6m_layer((int32_t)acc, p->requant_fused, q, shift, p->output_zero_point,
                                              p->act_min, p->act_max);
        }
    }
}

void tq_depthwise_conv2d_s8(const tq_depthwise_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_depthwise_conv2d_s8_params *p = params;
    const int32_t m = p->depth_multiplier, out_c = p->in_c * m, taps = p->kernel_h * p->kernel_w;
    const int32_t plane_h = (p->out_h - 1) * p->stride_h + p->kernel_h;
    const int32_t plane_w = (p->out_w - 1) * p->stride_w + p->kernel_w;
    const int32_t size = p->in_h * p->in_w * p->in_c, out_size = p->out_h * p->out_w * out_c;
    const uintptr_t in_addr = (uintptr_t)input, out_addr = (uintptr_t)output;
    const int32_t overlap = out_addr < in_addr + (uintptr_t)size && in_addr < out_addr + (uintptr_t)out_size;
    const uint32_t distance = out_addr >= in_addr ? (uint32_t)(out_addr - in_addr) : (uint32_t)(in_addr - out_addr);
    uint8_t *const plane = (uint8_t *)p->scratch;
    int32_t ic, j, t;
    if (plane == NULL || tq_depthwise_conv2d_s8_get_buffer_size(p) == 0
        || (overlap && (m != 1 || distance % (uint32_t)p->in_c != 0))) {
        tq_depthwise_conv2d_s8_portable(p, input, output);
        return;
    }
    for (ic = 0; ic < p->in_c; ++ic) {
        plane_fill(p, input, ic, plane_h, plane_w, plane);
        for (j = 0; j < m; ++j) {
            const int32_t c = ic * m + j;
            int32_t wsum = 0;
            for (t = 0; t < taps; ++t) {
                wsum += p->weights[t * out_c + c];
            }
            {
                const uint32_t acc0 = (uint32_t)p->bias[c] - (uint32_t)((128 + p->input_zero_point) * wsum);
                if (p->kernel_h == 3 && p->kernel_w == 3) {
                    channel_3x3(p, plane, plane_w, c, out_c, acc0, output);
                } else {
                    channel_any(p, plane, plane_w, c, out_c, acc0, output);
                }
            }
        }
    }
}

#endif /* TQ_USE_V6M */
