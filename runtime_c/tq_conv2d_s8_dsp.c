/*
 * tq_conv2d_s8_dsp.c - int8 2-D convolution for cores with the DSP extension (SXTB16 / SMLAD),
 * the same function and result as tq_conv2d_s8.c (see tq_kernels.h for the formula).
 *
 * Method: output pixels are taken two at a time in raster order (p, p + 1; the last one alone
 * when their number is odd). Each pixel's window is copied into an int16 column (im2col) of
 * K = kernel_h * kernel_w * in_c values x - input_zero_point (0 for padded taps), in the
 * weights' [ky][kx][i] order with every group of four reordered to (v0, v2, v1, v3): the
 * first word of a group then pairs with __sxtb16(w) = (w0, w2), the second with the odd
 * bytes (w1, w3), and one SMLAD adds two products. Output channels are taken two at a time:
 * each weight word is loaded and extended once for both pixels (2 x 2 block, 8 MACs per
 * 4 SMLADs). The last K mod 4 values stay in natural order and are multiplied one by one.
 * The columns live on the stack: 2 * TQ_CONV_DSP_COLUMN_MAX int16 (2304 bytes); a layer with
 * K above that, or a core without DSP, runs the portable loop below.
 *
 * Accumulation order differs from the portable kernel but the int32 sum is the same integer:
 * every partial sum is bias[c] plus a subset of the products, so its magnitude is at most
 * |bias| + 255 * 127 * taps, which tq_kernels.h requires to stay below 2^31 (SMLAD wraps
 * modulo 2^32 and never sees an overflow). Requantization: tq_requantize_s8_fast (equal to
 * tq_requantize_s8 for every input).
 *
 * In-place contract (tq_kernels.h): a block writes all channels of pixels p and p + 1 after
 * reading only those two pixels' input windows, and blocks run in raster order.
 */
#include "tq_kernels.h"

#if defined(__ARM_FEATURE_DSP) && !defined(TQ_PORTABLE)
#include "tq_dsp.h"
#include "tq_requant.h"

/* Largest K = kernel_h * kernel_w * in_c of the fast path (3 x 3 x 64, ResNet-8's widest conv). */
#define TQ_CONV_DSP_COLUMN_MAX 576

/* n (a multiple of 4) int8 values from src minus the zero point, reordered by groups of 4: dst
 * gets (v0, v2, v1, v3, v4, v6, ...). nzp2 = (-input_zero_point, -input_zero_point). */
static void column_copy(int16_t *dst, const int8_t *src, int32_t n, int32_t nzp2)
{
    int32_t i;
    for (i = 0; i < n; i += 4) {
        const int32_t v = tq_load_s8x4(src + i);
        tq_store_s16x2(dst + i, __sxtab16(nzp2, v));
        tq_store_s16x2(dst + i + 2, tq_sxtab16_odd(nzp2, v));
    }
}

/* Reorder groups of natural-order int16 values (v0, v1, v2, v3) in place to (v0, v2, v1, v3). */
static void column_pair_up(int16_t *col, int32_t groups)
{
    int32_t g;
    for (g = 0; g < groups; ++g, col += 4) {
        const uint32_t a = (uint32_t)tq_load_s16x2(col);      /* (v0, v1) */
        const uint32_t b = (uint32_t)tq_load_s16x2(col + 2);  /* (v2, v3) */
        tq_store_s16x2(col, (int32_t)((a & 0xFFFFu) | (b << 16)));          /* (v0, v2): PKHBT */
        tq_store_s16x2(col + 2, (int32_t)((a >> 16) | (b & 0xFFFF0000u)));  /* (v1, v3): PKHTB */
    }
}

/* The column of output pixel (oy, ox) (see the file comment). Rows of kernel_w * in_c values
 * that are a multiple of 4 are built row by row (a fully in-bounds row is contiguous in NHWC);
 * otherwise the whole column is filled in natural order and then reordered. */
static void column_fill(const tq_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox, int32_t nzp2,
                        int16_t *col)
{
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t row_len = p->kernel_w * p->in_c;
    const int32_t zp = p->input_zero_point;
    int32_t ky, kx, i;
    if (row_len % 4 != 0) {
        int16_t *dst = col;
        for (ky = 0; ky < p->kernel_h; ++ky) {
            const int32_t iy = y0 + ky;
            for (kx = 0; kx < p->kernel_w; ++kx) {
                const int32_t ix = x0 + kx;
                if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                    for (i = 0; i < p->in_c; ++i) {
                        *dst++ = 0;
                    }
                } else {
                    const int8_t *src = input + (iy * p->in_w + ix) * p->in_c;
                    for (i = 0; i < p->in_c; ++i) {
                        *dst++ = (int16_t)(src[i] - zp);
                    }
                }
            }
        }
        column_pair_up(col, p->kernel_h * row_len / 4);
        return;
    }
    for (ky = 0; ky < p->kernel_h; ++ky, col += row_len) {
        const int32_t iy = y0 + ky;
        const int8_t *src_row = input + (iy < 0 || iy >= p->in_h ? 0 : iy * p->in_w * p->in_c);
        if (iy < 0 || iy >= p->in_h) {
            memset(col, 0, (size_t)row_len * sizeof *col);
        } else if (x0 >= 0 && x0 + p->kernel_w <= p->in_w) {
            column_copy(col, src_row + x0 * p->in_c, row_len, nzp2);
        } else if (p->in_c % 4 == 0) {
            for (kx = 0; kx < p->kernel_w; ++kx) {
                const int32_t ix = x0 + kx;
                if (ix < 0 || ix >= p->in_w) {
                    memset(col + kx * p->in_c, 0, (size_t)p->in_c * sizeof *col);
                } else {
                    column_copy(col + kx * p->in_c, src_row + ix * p->in_c, p->in_c, nzp2);
                }
            }
        } else {
            int16_t *dst = col;
            for (kx = 0; kx < p->kernel_w; ++kx) {
                const int32_t ix = x0 + kx;
                for (i = 0; i < p->in_c; ++i) {
                    *dst++ = (ix < 0 || ix >= p->in_w) ? (int16_t)0 : (int16_t)(src_row[ix * p->in_c + i] - zp);
                }
            }
            column_pair_up(col, row_len / 4);
        }
    }
}

/* One group of four column values at offset k: 16 products (2 pixels x 2 channels x 4). */
#define TQ_CONV_DSP_GROUP(k)                                                                       \
    do {                                                                                           \
        const int32_t a0 = tq_load_s16x2(x + (k)), b0 = tq_load_s16x2(x + (k) + 2);                \
        const int32_t a1 = tq_load_s16x2(x + (k) + TQ_CONV_DSP_COLUMN_MAX);                        \
        const int32_t b1 = tq_load_s16x2(x + (k) + TQ_CONV_DSP_COLUMN_MAX + 2);                    \
        int32_t w = tq_load_s8x4(w0 + (k));                                                        \
        int32_t even = __sxtb16(w), odd = tq_sxtb16_odd(w);                                        \
        s00 = __smlad(a0, even, s00);                                                              \
        s00 = __smlad(b0, odd, s00);                                                               \
        s01 = __smlad(a1, even, s01);                                                              \
        s01 = __smlad(b1, odd, s01);                                                               \
        w = tq_load_s8x4(w1 + (k));                                                                \
        even = __sxtb16(w);                                                                        \
        odd = tq_sxtb16_odd(w);                                                                    \
        s10 = __smlad(a0, even, s10);                                                              \
        s10 = __smlad(b0, odd, s10);                                                               \
        s11 = __smlad(a1, even, s11);                                                              \
        s11 = __smlad(b1, odd, s11);                                                               \
    } while (0)

/*
 * 2 x 2 block: acc[2 * j + n] = bias_j + sum_k w_j[k] * column_n[k] for weight rows w_0, w_1 and
 * columns col (pixel 0) and col + TQ_CONV_DSP_COLUMN_MAX (pixel 1), k < K. Eight values per
 * loop iteration (two groups), then one group, then the K mod 4 natural-order values.
 * TQ_DSP_BLOCK: loads kept together (tq_dsp.h).
 */
TQ_DSP_BLOCK static void block_2x2(const int16_t *col, const int8_t *w0, const int8_t *w1, int32_t k_len,
                                   int32_t bias0, int32_t bias1, int32_t acc[4])
{
    const int16_t *x = col;
    int32_t s00 = bias0, s01 = bias0, s10 = bias1, s11 = bias1; /* s<channel><pixel> */
    int32_t n, t;
    for (n = k_len >> 3; n > 0; --n) {
        TQ_CONV_DSP_GROUP(0);
        TQ_CONV_DSP_GROUP(4);
        x += 8;
        w0 += 8;
        w1 += 8;
    }
    if (k_len & 4) {
        TQ_CONV_DSP_GROUP(0);
        x += 4;
        w0 += 4;
        w1 += 4;
    }
    for (t = 0; t < (k_len & 3); ++t) {
        const int32_t v0 = x[t], v1 = x[t + TQ_CONV_DSP_COLUMN_MAX];
        s00 += w0[t] * v0;
        s01 += w0[t] * v1;
        s10 += w1[t] * v0;
        s11 += w1[t] * v1;
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
}

/* The portable loop (one pixel, one channel at a time), for K > TQ_CONV_DSP_COLUMN_MAX. */
static void conv_generic(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t tap_stride = p->kernel_h * p->kernel_w * p->in_c;
    int32_t oy, ox, c, ky, kx, i;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + (oy * p->out_w + ox) * p->out_c;
            for (c = 0; c < p->out_c; ++c) {
                int32_t acc = p->bias[c];
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
                        w = p->weights + c * tap_stride + (ky * p->kernel_w + kx) * p->in_c;
                        for (i = 0; i < p->in_c; ++i) {
                            acc += w[i] * (x[i] - p->input_zero_point);
                        }
                    }
                }
                out[c] = tq_requantize_s8_fast(acc, p->multiplier[c], p->shift[c], p->output_zero_point,
                                               p->act_min, p->act_max);
            }
        }
    }
}

void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_conv2d_s8_params *p = params;
    /* Locals, not p->...: stores through int8_t * may alias *p, so the compiler would reload. */
    const int32_t k_len = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t out_w = p->out_w, out_c = p->out_c;
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    const int8_t *weights = p->weights;
    const int32_t *bias = p->bias, *multiplier = p->multiplier, *shift = p->shift;
    int16_t col[2 * TQ_CONV_DSP_COLUMN_MAX];
    int32_t px, c, oy = 0, ox = 0;
    if (k_len > TQ_CONV_DSP_COLUMN_MAX) {
        conv_generic(p, input, output);
        return;
    }
    for (px = 0; px < pixels; px += 2) {
        const int32_t two = px + 1 < pixels; /* 0: the last pixel alone (computed twice, written once) */
        int8_t *out0 = output + px * out_c;
        int8_t *out1 = out0 + out_c;
        column_fill(p, input, oy, ox, nzp2, col);
        if (++ox == out_w) {
            ox = 0;
            ++oy;
        }
        if (two) {
            column_fill(p, input, oy, ox, nzp2, col + TQ_CONV_DSP_COLUMN_MAX);
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
        } else {
            memcpy(col + TQ_CONV_DSP_COLUMN_MAX, col, (size_t)k_len * sizeof *col);
        }
        for (c = 0; c < out_c; c += 2) {
            const int32_t c1 = c + 1 < out_c ? c + 1 : c; /* odd out_c: the last channel twice */
            int32_t acc[4];
            block_2x2(col, weights + c * k_len, weights + c1 * k_len, k_len, bias[c], bias[c1], acc);
            out0[c] = tq_requantize_s8_fast(acc[0], multiplier[c], shift[c], zp_out, act_min, act_max);
            if (two) {
                out1[c] = tq_requantize_s8_fast(acc[1], multiplier[c], shift[c], zp_out, act_min, act_max);
            }
            if (c1 != c) {
                out0[c1] = tq_requantize_s8_fast(acc[2], multiplier[c1], shift[c1], zp_out, act_min, act_max);
                if (two) {
                    out1[c1] = tq_requantize_s8_fast(acc[3], multiplier[c1], shift[c1], zp_out, act_min, act_max);
                }
            }
        }
    }
}

#endif /* __ARM_FEATURE_DSP && !TQ_PORTABLE */
