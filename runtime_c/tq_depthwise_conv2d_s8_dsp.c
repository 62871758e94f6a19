/*
 * tq_depthwise_conv2d_s8_dsp.c - int8 depthwise convolution for cores with the DSP extension,
 * the same function and result as tq_depthwise_conv2d_s8.c (see tq_kernels.h for the formula).
 *
 * Method (depth multiplier 1): one output pixel at a time in raster order, its channels four at
 * a time. A tap's four input channels x[c..c+3] are one word (NHWC) and so are the four
 * weights w[ky][kx][c..c+3]: __sxtab16 / SXTAB16 ROR #8 give (x0 - zp, x2 - zp) and
 * (x1 - zp, x3 - zp), __sxtb16 / SXTB16 ROR #8 give (w0, w2) and (w1, w3), and SMLABB / SMLATT
 * (bottom x bottom, top x top halves) add one product per channel each. The window is clipped
 * to its in-bounds taps once per pixel (TQ_WINDOW_BEGIN / TQ_WINDOW_END of tq_portable.h, no test
 * per tap); rows of three taps are unrolled. The in_c mod 4 last channels, and every depth
 * multiplier other than 1, use the portable loop (tq_depthwise_conv2d_s8_pixel_portable,
 * tq_portable.h). No scratch memory.
 *
 * Accumulation starts from bias[c] and adds the products in tap order, as tq_kernels.h's bound
 * allows (every partial sum is at most |bias| + 255 * 127 * taps in magnitude). Requantization:
 * tq_requantize_s8_fused_or_fast (tq_requant.h): tq_mbqm_fused (one SMLAL) when the params say
 * requant_fused (decided at build time), else tq_requantize_s8_fast (both equal to
 * tq_requantize_s8 for every input).
 *
 * In-place contract (tq_kernels.h): output pixel p is written after reading only its window.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_portable.h"
#include "tq_requant.h"

/* s[j] += w[j] * (x[j] - zp) for channels j < 4 of one tap; x, w at the tap's first channel. */
static inline void tap4(const int8_t *x, const int8_t *w, int32_t nzp2, int32_t *s0, int32_t *s1, int32_t *s2,
                        int32_t *s3)
{
    const int32_t xv = tq_load_s8x4(x), wv = tq_load_s8x4(w);
    const int32_t x02 = __sxtab16(nzp2, xv), x13 = tq_sxtab16_odd(nzp2, xv);
    const int32_t w02 = __sxtb16(wv), w13 = tq_sxtb16_odd(wv);
    *s0 = __smlabb(x02, w02, *s0);
    *s2 = __smlatt(x02, w02, *s2);
    *s1 = __smlabb(x13, w13, *s1);
    *s3 = __smlatt(x13, w13, *s3);
}

/*
 * acc[j] += sum over rows r < rows and taps t < taps of w[r * w_row + t * ch + j] *
 * (x[r * row + t * ch + j] - zp), j < 4: four channels of one pixel's clipped window.
 * TQ_DSP_BLOCK: loads kept together (tq_dsp.h).
 */
TQ_DSP_BLOCK static void block4(const int8_t *x, const int8_t *w, int32_t rows, int32_t taps, int32_t row,
                                int32_t w_row, int32_t ch, int32_t nzp2, int32_t acc[4])
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    int32_t r, t;
    for (r = 0; r < rows; ++r, x += row, w += w_row) {
        if (taps == 3) {
            tap4(x, w, nzp2, &s0, &s1, &s2, &s3);
            tap4(x + ch, w + ch, nzp2, &s0, &s1, &s2, &s3);
            tap4(x + 2 * ch, w + 2 * ch, nzp2, &s0, &s1, &s2, &s3);
        } else {
            for (t = 0; t < taps; ++t) {
                tap4(x + t * ch, w + t * ch, nzp2, &s0, &s1, &s2, &s3);
            }
        }
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* The portable loop (tq_portable.h) for input channels [ic_begin, in_c) of one pixel, out of line:
 * one copy for its two uses (depth multiplier != 1, and the in_c mod 4 last channels). */
__attribute__((noinline)) static void pixel_portable(const tq_depthwise_conv2d_s8_params *p, const int8_t *input,
                                                     int32_t y0, int32_t ky_begin, int32_t ky_end, int32_t x0,
                                                     int32_t kx_begin, int32_t kx_end, int32_t ic_begin,
                                                     int8_t *out)
{
    tq_depthwise_conv2d_s8_pixel_portable(p, input, y0, ky_begin, ky_end, x0, kx_begin, kx_end, ic_begin,
                                          p->in_c * p->depth_multiplier, out);
}

void tq_depthwise_conv2d_s8(const tq_depthwise_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_depthwise_conv2d_s8_params *p = params;
    /* Locals, not p->...: stores through int8_t * may alias *p, so the compiler would reload. */
    const int32_t ch = p->in_c;                 /* = out_c with multiplier 1 */
    const int32_t row = p->in_w * ch;           /* bytes per input row */
    const int32_t w_row = p->kernel_w * ch;     /* bytes per weight row */
    const int32_t c4 = ch & ~3;
    const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
    const int32_t kernel_h = p->kernel_h, kernel_w = p->kernel_w;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w, pad_top = p->pad_top, pad_left = p->pad_left;
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    const int8_t *weights = p->weights;
    const int32_t *bias = p->bias, *multiplier = p->multiplier, *shift = p->shift;
    const int32_t fused = p->requant_fused;
    int32_t oy, ox, c;
    for (oy = 0; oy < out_h; ++oy) {
        const int32_t y0 = oy * stride_h - pad_top;
        const int32_t ky_begin = TQ_WINDOW_BEGIN(y0);
        const int32_t ky_end = TQ_WINDOW_END(y0, kernel_h, in_h);
        for (ox = 0; ox < out_w; ++ox) {
            const int32_t x0 = ox * stride_w - pad_left;
            const int32_t kx_begin = TQ_WINDOW_BEGIN(x0);
            const int32_t kx_end = TQ_WINDOW_END(x0, kernel_w, in_w);
            const int32_t taps = kx_end - kx_begin; /* in-bounds taps per row */
            int8_t *out = output + (oy * out_w + ox) * ch * p->depth_multiplier;
            if (p->depth_multiplier != 1) {
                pixel_portable(p, input, y0, ky_begin, ky_end, x0, kx_begin, kx_end, 0, out);
                continue;
            }
            if (ky_begin < ky_end && taps > 0) {
                /* first in-bounds tap of the first in-bounds row, channel 0 */
                const int8_t *x_tap = input + (y0 + ky_begin) * row + (x0 + kx_begin) * ch;
                const int8_t *w_tap = weights + ky_begin * w_row + kx_begin * ch;
                for (c = 0; c < c4; c += 4) {
                    int32_t acc[4];
                    acc[0] = bias[c];
                    acc[1] = bias[c + 1];
                    acc[2] = bias[c + 2];
                    acc[3] = bias[c + 3];
                    block4(x_tap + c, w_tap + c, ky_end - ky_begin, taps, row, w_row, ch, nzp2, acc);
                    out[c] = tq_requantize_s8_fused_or_fast(acc[0], fused, multiplier[c], shift[c], zp_out, act_min,
                                                            act_max);
                    out[c + 1] = tq_requantize_s8_fused_or_fast(acc[1], fused, multiplier[c + 1], shift[c + 1], zp_out,
                                                                act_min, act_max);
                    out[c + 2] = tq_requantize_s8_fused_or_fast(acc[2], fused, multiplier[c + 2], shift[c + 2], zp_out,
                                                                act_min, act_max);
                    out[c + 3] = tq_requantize_s8_fused_or_fast(acc[3], fused, multiplier[c + 3], shift[c + 3], zp_out,
                                                                act_min, act_max);
                }
            } else {
                for (c = 0; c < c4; ++c) { /* no in-bounds tap: acc = bias */
                    out[c] = tq_requantize_s8_fused_or_fast(bias[c], fused, multiplier[c], shift[c], zp_out, act_min,
                                                            act_max);
                }
            }
            if (c4 < ch) { /* the last in_c mod 4 channels (multiplier 1: input channel = output channel) */
                pixel_portable(p, input, y0, ky_begin, ky_end, x0, kx_begin, kx_end, c4, out);
            }
        }
    }
}

#endif /* TQ_USE_DSP */
