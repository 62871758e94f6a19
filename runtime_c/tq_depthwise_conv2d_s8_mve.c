/*
 * tq_depthwise_conv2d_s8_mve.c - int8 depthwise convolution for cores with Helium (MVE, Armv8.1-M:
 * Cortex-M55, M85), the same function and result as tq_depthwise_conv2d_s8.c (formula: tq_kernels.h).
 *
 * Method (depth multiplier 1; other multipliers run the portable loop of tq_portable.h). Pixel by pixel
 * in raster order, every channel of a pixel before the next pixel (the in-place contract of
 * tq_kernels.h): acc = bias + sum over the pixel's in-bounds taps of w * (x - zp), eight channels
 * per step as int16 (one VLDRB.S16 of the input and one VSUB of the zero point: |x - zp| <= 255; one
 * VLDRB.S16 of the weights) multiplied into int32 by VMULLB / VMULLT (even and odd channels) and
 * added to two int32x4 accumulators (every sum is the formula's, exact in int32 as tq_kernels.h bounds
 * it). Skipping out-of-bounds taps equals zero-point padding. The eight-channel steps run out of line per
 * pixel: a 3x3 window inside the input as nine taps in one inline-assembly block (tq_dw_mve_taps3x3),
 * any other window one inline-assembly tap per in-bounds tap (tq_dw_mve_clipped). Biases, multipliers and shifts of the
 * even and odd channels are loaded de-interleaved (VLD20 / VLD21), each accumulator goes through
 * tq_requantize_s32x4_mve (tq_requant.h), and VMOVNB / VMOVNT interleave the two results back into
 * channel order for one 8-byte store. The last in_c mod 8 channels go four at a time in int32 lanes
 * (VMUL, VADD), the last group tail-predicated (VCTP.32: inactive lanes read and write no memory).
 * No scratch (tq_depthwise_conv2d_s8_get_buffer_size is 0 on these cores).
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_portable.h"
#include "tq_requant.h"

/* One tap of tq_dw_mve_taps3x3: x - zp (VLDRB.S16, VSUB.I16) times w (VLDRB.S16), even lanes (VMULLB.S16) added
 * to ae, odd ones (VMULLT.S16) to ao; then x advances by the register named by x_step, w by in_c. The two loads
 * are apart (load, integer, load, multiply, ...: every vector instruction after one of another pipeline). */
#define TQ_DW_MVE_TAP(x_step)                                                                                     \
    "vldrb.s16 %q[xv], [%[x]]\n\t"                                                                              \
    "vsub.i16 %q[xv], %q[xv], %[zp]\n\t"                                                                        \
    "vldrb.s16 %q[wv], [%[w]]\n\t"                                                                              \
    "vmullb.s16 %q[t], %q[xv], %q[wv]\n\t"                                                                      \
    "vadd.i32 %q[ae], %q[ae], %q[t]\n\t"                                                                        \
    "vmullt.s16 %q[t], %q[xv], %q[wv]\n\t"                                                                      \
    "vadd.i32 %q[ao], %q[ao], %q[t]\n\t"                                                                        \
    "add %[x], %[x], %[" x_step "]\n\t"                                                                         \
    "add %[w], %[w], %[in_c]\n\t"

/* The output stage of eight channels whose accumulators are ae (even channels) and ao (odd): each through
 * tq_requantize_s32x4_mve with its channel's multiplier and shift (from multiplier, shifts), interleaved
 * back by VMOVNB / VMOVNT and stored as eight bytes at out. The caller passes the params' fields it read
 * once (int8 output stores may alias the params). */
static inline void tq_dw_mve_store8(int8_t *out, int32x4_t ae, int32x4_t ao, const int32_t *multiplier,
                                    const int32_t *shifts, int32_t zp_out, int32_t act_min, int32_t act_max)
{
    const int32x4x2_t mult = vld2q_s32(multiplier), shift = vld2q_s32(shifts);
    int16x8_t packed = vdupq_n_s16(0);
    ae = tq_requantize_s32x4_mve(ae, mult.val[0], shift.val[0], zp_out, act_min, act_max);
    ao = tq_requantize_s32x4_mve(ao, mult.val[1], shift.val[1], zp_out, act_min, act_max);
    packed = vmovnbq_s32(packed, ae);
    packed = vmovntq_s32(packed, ao);
    vstrbq_s16(out, packed);
}

/* The nine taps of eight channels of a 3x3 window inside the input (x: its first value of channel c, w: the
 * weights of channel c, tap 0), added to ae (even channels) and ao (odd): tq_dw_mve_tap8's arithmetic in one
 * GCC inline-assembly block, so the compiler neither hoists the eighteen addresses nor spills. */
static inline void tq_dw_mve_taps3x3(const int8_t *x, const int8_t *w, int32_t in_c, int32_t x_row, int32_t zp,
                                     int32x4_t *ae, int32x4_t *ao)
{
    const int32_t next_row = x_row - 2 * in_c; /* from a row's third tap to the next row's first */
    int32x4_t e = *ae, o = *ao, t;
    int16x8_t xv, wv;
    __asm__(TQ_DW_MVE_TAP("in_c") TQ_DW_MVE_TAP("in_c") TQ_DW_MVE_TAP("next_row")
            TQ_DW_MVE_TAP("in_c") TQ_DW_MVE_TAP("in_c") TQ_DW_MVE_TAP("next_row")
            TQ_DW_MVE_TAP("in_c") TQ_DW_MVE_TAP("in_c") TQ_DW_MVE_TAP("next_row")
            : [x] "+r"(x), [w] "+r"(w), [ae] "+w"(e), [ao] "+w"(o), [xv] "=&w"(xv), [wv] "=&w"(wv), [t] "=&w"(t)
            : [in_c] "r"(in_c), [next_row] "r"(next_row), [zp] "r"(zp)
            : "memory");
    *ae = e;
    *ao = o;
}

/* Channels [0, channels) (a multiple of 8) of the output pixel whose 3x3 window, starting at x, lies inside the
 * input: tq_dw_mve_taps3x3 per eight-channel step, the output stage of the loop below. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tq_dw_mve_inside3x3(const tq_depthwise_conv2d_s8_params *p, const int8_t *x, int8_t *out, int32_t channels)
{
    /* read once: the int8 output stores may alias the params */
    const int32_t in_c = p->in_c, x_row = p->in_w * p->in_c, zp = p->input_zero_point;
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int8_t *w = p->weights;
    const int32_t *bias = p->bias, *multiplier = p->multiplier, *shifts = p->shift;
    int32_t c;
    for (c = 0; c < channels; c += 8) {
        const int32x4x2_t b = vld2q_s32(bias + c); /* val[0]: even channels, val[1]: odd */
        int32x4_t ae = b.val[0], ao = b.val[1];
        tq_dw_mve_taps3x3(x + c, w + c, in_c, x_row, zp, &ae, &ao);
        tq_dw_mve_store8(out + c, ae, ao, multiplier + c, shifts + c, zp_out, act_min, act_max);
    }
}

/* One tap of eight channels at x, w (tq_dw_mve_taps3x3's arithmetic in one inline-assembly block), x and w then
 * advanced by in_c. */
static inline void tq_dw_mve_tap(const int8_t **x, const int8_t **w, int32_t in_c, int32_t zp, int32x4_t *ae,
                                 int32x4_t *ao)
{
    const int8_t *px = *x, *pw = *w;
    int32x4_t e = *ae, o = *ao, t;
    int16x8_t xv, wv;
    __asm__(TQ_DW_MVE_TAP("in_c")
            : [x] "+r"(px), [w] "+r"(pw), [ae] "+w"(e), [ao] "+w"(o), [xv] "=&w"(xv), [wv] "=&w"(wv), [t] "=&w"(t)
            : [in_c] "r"(in_c), [zp] "r"(zp)
            : "memory");
    *x = px;
    *w = pw;
    *ae = e;
    *ao = o;
}

/* Channels [0, channels) (a multiple of 8) of an output pixel whose window keeps `rows` rows of `taps` taps
 * inside the input (either may be 0: a window wholly in the padding), the first at x (input) and w (weights),
 * both of channel 0: tq_dw_mve_tap per tap and eight-channel step, the output stage of the loop below. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tq_dw_mve_clipped(const tq_depthwise_conv2d_s8_params *p, const int8_t *x, const int8_t *w, int32_t rows,
                              int32_t taps, int8_t *out, int32_t channels)
{
    /* read once: the int8 output stores may alias the params */
    const int32_t in_c = p->in_c, zp = p->input_zero_point;
    const int32_t x_skip = (p->in_w - taps) * p->in_c, w_skip = (p->kernel_w - taps) * p->in_c;
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int32_t *bias = p->bias, *multiplier = p->multiplier, *shifts = p->shift;
    int32_t c, r, t;
    for (c = 0; c < channels; c += 8) {
        const int32x4x2_t b = vld2q_s32(bias + c); /* val[0]: even channels, val[1]: odd */
        int32x4_t ae = b.val[0], ao = b.val[1];
        const int8_t *px = x + c, *pw = w + c;
        for (r = rows; r > 0; --r, px += x_skip, pw += w_skip) {
            for (t = taps; t > 0; --t) {
                tq_dw_mve_tap(&px, &pw, in_c, zp, &ae, &ao);
            }
        }
        tq_dw_mve_store8(out + c, ae, ao, multiplier + c, shifts + c, zp_out, act_min, act_max);
    }
}

void tq_depthwise_conv2d_s8(const tq_depthwise_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_depthwise_conv2d_s8_params *p = params;
    const int8_t *const weights = p->weights; /* read once: int8 output stores may alias the params */
    const int32_t in_c = p->in_c, in_w = p->in_w, kernel_w = p->kernel_w;
    const int32_t zp = p->input_zero_point, zp_out = p->output_zero_point;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    int32_t oy, ox, c, ky, kx;
    if (p->depth_multiplier != 1) {
        tq_depthwise_conv2d_s8_portable(p, input, output);
        return;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t ky_begin = TQ_WINDOW_BEGIN(y0);
        const int32_t ky_end = TQ_WINDOW_END(y0, p->kernel_h, p->in_h);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t kx_begin = TQ_WINDOW_BEGIN(x0);
            const int32_t kx_end = TQ_WINDOW_END(x0, kernel_w, in_w);
            int8_t *out = output + (oy * p->out_w + ox) * in_c;
            const int full3x3 = kernel_w == 3 && p->kernel_h == 3 && ky_begin == 0 && ky_end == 3 && kx_begin == 0
                                && kx_end == 3;
            c = in_c & ~7; /* eight-channel steps out of line */
            if (full3x3) { /* a 3x3 window inside the input: the nine taps unrolled */
                tq_dw_mve_inside3x3(p, input + (y0 * in_w + x0) * in_c, out, c);
            } else if (c > 0) {
                const int any = ky_end > ky_begin && kx_end > kx_begin; /* else wholly in the padding: the bias */
                tq_dw_mve_clipped(p, any ? input + ((y0 + ky_begin) * in_w + x0 + kx_begin) * in_c : input,
                                  any ? weights + (ky_begin * kernel_w + kx_begin) * in_c : weights,
                                  any ? ky_end - ky_begin : 0, kx_end - kx_begin, out, c);
            }
            for (; c < in_c; c += 4) { /* the last in_c mod 8 channels, four at a time */
                const mve_pred16_t lanes = vctp32q((uint32_t)(in_c - c));
                int32x4_t acc = vldrwq_z_s32(p->bias + c, lanes);
                for (ky = ky_begin; ky < ky_end; ++ky) {
                    const int8_t *x = input + ((y0 + ky) * in_w + x0 + kx_begin) * in_c + c;
                    const int8_t *w = weights + (ky * kernel_w + kx_begin) * in_c + c;
                    for (kx = kx_begin; kx < kx_end; ++kx) {
                        const int32x4_t xv = vsubq_n_s32(vldrbq_z_s32(x, lanes), zp);
                        acc = vaddq_s32(acc, vmulq_s32(xv, vldrbq_z_s32(w, lanes)));
                        x += in_c;
                        w += in_c;
                    }
                }
                vstrbq_p_s32(out + c, tq_requantize_s32x4_mve(acc, vldrwq_z_s32(p->multiplier + c, lanes),
                                                               vldrwq_z_s32(p->shift + c, lanes), zp_out, act_min,
                                                               act_max), lanes);
            }
        }
    }
}

#endif /* TQ_USE_MVE */
