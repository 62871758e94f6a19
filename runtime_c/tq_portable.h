/*
 * tq_portable.h - the portable loops of the kernels that have a DSP companion, and the window
 * clipping of every window kernel. Internal to the runtime (generated code includes tq_kernels.h).
 *
 * conv2d, depthwise_conv2d, fully_connected, add, mul and concat have their portable implementation here, once,
 * as static inline functions (formulas: tq_kernels.h): tq_<op>_s8.c defines the public tq_<op>_s8
 * with it where TQ_USE_DSP is 0, and tq_<op>_s8_dsp.c calls it for the cases its fast paths leave
 * out, so both builds run the same loop there. The conv and depthwise loops are macros over the weight
 * fetch (TQ_S8_WEIGHT_AT or TQ_S4_WEIGHT_AT), so the 4-bit kernels tq_conv2d_s4_s8 and
 * tq_depthwise_conv2d_s4_s8 run the same loops. Each keeps the in-place contract of tq_kernels.h on
 * its own (pixel by pixel in raster order, or element by element). The average pool's window count and
 * rounding are here too, shared by tq_avg_pool2d_s8.c and tq_avg_pool2d_s8_mve.c.
 */
#ifndef TQ_PORTABLE_H
#define TQ_PORTABLE_H

#include "tq_kernels.h"
#include "tq_requant.h"

/* The loops below are written once but must compile as if written in their caller: GCC would
 * otherwise optimize a large static inline body on its own before inlining it late, which costs
 * spills in the inner loops (measured with benchmarks/cortex_m.py). */
#if defined(__GNUC__)
#define TQ_LOOP_INLINE __attribute__((always_inline)) static inline
#else
#define TQ_LOOP_INLINE static inline
#endif

/*
 * The in-bounds taps of a window along one axis: a window of `kernel` taps whose first tap lies at
 * input coordinate start (= o * stride - pad) covers start + k for k < kernel; those inside the
 * input [0, size) are k in [TQ_WINDOW_BEGIN(start), TQ_WINDOW_END(start, kernel, size)), i.e.
 * begin = max(0, -start), end = min(kernel, size - start); end <= begin when no tap is inside (a
 * window entirely in the padding). Macros (arguments evaluated more than once: pass plain variables)
 * because GCC compiles them exactly as the expressions written in place; an inline function made
 * it allocate registers differently in the kernels' loops.
 */
#define TQ_WINDOW_BEGIN(start) ((start) < 0 ? -(start) : 0)
#define TQ_WINDOW_END(start, kernel, size) ((start) + (kernel) < (size) ? (kernel) : (size) - (start))

/* The window [start, start + kernel) clipped to [lo, hi), in input positions: its first position and the one after
 * its last (end <= begin when nothing is left); the pools' (portable and Helium) in-bounds taps. */
#define TQ_CLIP_BEGIN(start, lo) ((start) > (lo) ? (start) : (lo))
#define TQ_CLIP_END(start, kernel, hi) ((start) + (kernel) < (hi) ? (start) + (kernel) : (hi))

/* Pooling (tq_avg_pool2d_s8.c and its Helium companion): the number of window positions
 * [start, start + kernel) inside [lo, hi), and the average's rounding: acc / n half away from zero
 * with C division (truncation toward zero), clamped to int8 (formula: tq_kernels.h). */
static inline int32_t tq_pool_overlap(int32_t start, int32_t kernel, int32_t lo, int32_t hi)
{
    const int32_t begin = TQ_CLIP_BEGIN(start, lo), end = TQ_CLIP_END(start, kernel, hi);
    return end > begin ? end - begin : 0;
}

static inline int8_t tq_avg_pool_round(int32_t acc, int32_t n)
{
    acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
    return (int8_t)tq_clamp_s32(acc, INT8_MIN, INT8_MAX);
}

/*
 * The output stage of the loops below: tq_requantize_s8, or where TQ_USE_DSP is 1 (the loops then
 * run as the DSP kernels' fallbacks) tq_requantize_s8_fast, or where TQ_USE_V6M is 1 (Armv6-M: no
 * 64-bit multiply) tq_requantize_s8_v6m; all three give the same result for every input
 * (tq_requant.h), the last two with fewer instructions on those cores. tq_mbqm_portable likewise
 * (tq_mbqm, or tq_mbqm_v6m: equal for every input).
 */
static inline int8_t tq_requantize_s8_portable(int32_t acc, int32_t q, int32_t shift, int32_t zero_point,
                                               int32_t act_min, int32_t act_max)
{
#if TQ_USE_DSP
    return tq_requantize_s8_fast(acc, q, shift, zero_point, act_min, act_max);
#elif TQ_USE_V6M
    return tq_requantize_s8_v6m(acc, q, shift, zero_point, act_min, act_max);
#else
    return tq_requantize_s8(acc, q, shift, zero_point, act_min, act_max);
#endif
}

static inline int32_t tq_mbqm_portable(int32_t x, int32_t q, int32_t shift)
{
#if TQ_USE_V6M
    return tq_mbqm_v6m(x, q, shift);
#else
    return tq_mbqm(x, q, shift);
#endif
}

/*
 * Elementwise multiply, one element (tq_kernels.h, TFLite MUL): clamp(zero_point + mbqm((a - zp1) * (b - zp2), q,
 * shift), act_min, act_max) with the layer's constants in p. |product| <= 255 * 255 < 2^30, so with a right shift
 * (shift <= -1) the fused output stage tq_requantize_s8_fused equals tq_requantize_s8 (tq_requant.h) and is used.
 */
static inline int8_t tq_mul_s8_element(const tq_mul_s8_params *p, int32_t a, int32_t b)
{
    const int32_t product = (a - p->input1_zero_point) * (b - p->input2_zero_point);
    return p->shift <= -1
               ? (int8_t)tq_requantize_s8_fused(product, p->multiplier, -p->shift, p->output_zero_point, p->act_min,
                                                p->act_max)
               : tq_requantize_s8(product, p->multiplier, p->shift, p->output_zero_point, p->act_min, p->act_max);
}

/*
 * Elementwise multiply of channels [c_begin, channels) at every position (tq_mul_s8_element each; input2 the same
 * row at every position when params->broadcast is set). Element by element in order: the in-place contract.
 */
TQ_LOOP_INLINE void tq_mul_s8_portable(const tq_mul_s8_params *params, const int8_t *input1, const int8_t *input2,
                                       int8_t *output, int32_t c_begin)
{
    const int32_t channels = params->channels, positions = params->positions;
    const int32_t step2 = params->broadcast != 0 ? 0 : channels;
    int32_t p, c;
    for (p = 0; p < positions; ++p) {
        const int8_t *a = input1 + p * channels;
        const int8_t *b = input2 + p * step2;
        int8_t *y = output + p * channels;
        for (c = c_begin; c < channels; ++c) {
            y[c] = tq_mul_s8_element(params, a[c], b[c]);
        }
    }
}

/* QM(1.0) = (2^30, shift 1): a concatenation input with it and the output's zero point is copied. */
#define TQ_UNIT_MULTIPLIER ((int32_t)1 << 30)

/* Whether concatenation input k is copied: its quantization is the output's (the formula is the identity there). */
static inline int tq_concat_s8_copies(const tq_concat_s8_params *p, int32_t k)
{
    return p->multiplier[k] == TQ_UNIT_MULTIPLIER && p->shift[k] == 1 && p->zero_point[k] == p->output_zero_point;
}

/*
 * Input k of a concatenation (tq_kernels.h), x, into output channels [first, first + channels[k]) of every
 * position: copied when its quantization is the output's (tq_concat_s8_copies), else
 * y = clamp(mbqm(x - zero_point[k], multiplier[k], shift[k]) + output_zero_point, -128, 127).
 */
TQ_LOOP_INLINE void tq_concat_s8_input_portable(const tq_concat_s8_params *p, int32_t k, const int8_t *x,
                                                int32_t first, int8_t *output)
{
    const int32_t channels = p->channels[k], zp = p->zero_point[k], q = p->multiplier[k], shift = p->shift[k];
    const int copy = tq_concat_s8_copies(p, k);
    int32_t px, i;
    for (px = 0; px < p->positions; ++px) {
        const int8_t *src = x + px * channels;
        int8_t *dst = output + px * p->out_c + first;
        if (copy) {
            for (i = 0; i < channels; ++i) {
                dst[i] = src[i];
            }
        } else {
            for (i = 0; i < channels; ++i) {
                dst[i] = tq_requantize_s8_portable((int32_t)src[i] - zp, q, shift, p->output_zero_point, INT8_MIN,
                                                   INT8_MAX);
            }
        }
    }
}

/*
 * Pointwise conv (1x1 kernel, stride 1, no padding, so out_h * out_w = in_h * in_w pixels): no
 * window arithmetic, acc = bias[c] + sum_i w[c][i] * (x[i] - input_zero_point) per pixel and
 * channel (the generic accumulator, same integer). Pixel by pixel in raster order, all channels
 * of pixel px after reading only input pixel px: the in-place contract of tq_kernels.h.
 */
TQ_LOOP_INLINE void tq_conv2d_s8_1x1_portable(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
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
            out[c] = tq_requantize_s8_portable(acc + p->bias[c], p->multiplier[c], p->shift[c],
                                               p->output_zero_point, p->act_min, p->act_max);
        }
    }
}

/* Weight k + i (flat index, in the layout of tq_kernels.h; k the start of a run, i the offset in it) of
 * an int8 weight array, read through the pointer to the run's start, and of packed 4-bit weights
 * (TQ_S4_WEIGHT, tq_kernels.h). The window loops below take either. */
#define TQ_S8_WEIGHT_AT(weights, k, i) ((int32_t)((weights) + (k))[(i)])
#define TQ_S4_WEIGHT_AT(weights, k, i) TQ_S4_WEIGHT((weights), (k) + (i))

/* Any conv, one pixel and one channel at a time over the window's in-bounds taps, pixels in raster
 * order; WEIGHT(weights, k, i) reads weight k + i of a WTYPE array (int8_t with TQ_S8_WEIGHT_AT,
 * uint8_t with TQ_S4_WEIGHT_AT): the one loop of
 * tq_conv2d_s8's portable path and of tq_conv2d_s4_s8 (p: either params struct). */
#define TQ_CONV2D_WINDOW_LOOP(p, input, output, WTYPE, WEIGHT)                                                 \
    do {                                                                                                      \
        const WTYPE *const weights_ = (p)->weights; /* read once: int8 output stores may alias the params */   \
        const int32_t tap_stride = (p)->kernel_h * (p)->kernel_w * (p)->in_c; /* weights per channel */       \
        int32_t oy, ox, c, ky, kx, i;                                                                         \
        for (oy = 0; oy < (p)->out_h; ++oy) {                                                                 \
            const int32_t y0 = oy * (p)->stride_h - (p)->pad_top;                                             \
            const int32_t ky_begin = TQ_WINDOW_BEGIN(y0);                                                     \
            const int32_t ky_end = TQ_WINDOW_END(y0, (p)->kernel_h, (p)->in_h);                               \
            for (ox = 0; ox < (p)->out_w; ++ox) {                                                             \
                const int32_t x0 = ox * (p)->stride_w - (p)->pad_left;                                        \
                const int32_t kx_begin = TQ_WINDOW_BEGIN(x0);                                                 \
                const int32_t kx_end = TQ_WINDOW_END(x0, (p)->kernel_w, (p)->in_w);                           \
                int8_t *out_ = (output) + (oy * (p)->out_w + ox) * (p)->out_c;                                \
                for (c = 0; c < (p)->out_c; ++c) {                                                            \
                    const int32_t k_c_ = c * tap_stride; /* flat index of w[c][0][0][0] */                    \
                    int32_t acc = 0; /* int32 accumulator, as TFLite */                                       \
                    for (ky = ky_begin; ky < ky_end; ++ky) {                                                  \
                        for (kx = kx_begin; kx < kx_end; ++kx) {                                              \
                            const int8_t *x_ = (input) + ((y0 + ky) * (p)->in_w + x0 + kx) * (p)->in_c;       \
                            const int32_t k_ = k_c_ + (ky * (p)->kernel_w + kx) * (p)->in_c;                  \
                            for (i = 0; i < (p)->in_c; ++i) {                                                 \
                                acc += WEIGHT(weights_, k_, i) * ((int32_t)x_[i] - (p)->input_zero_point);    \
                            }                                                                                 \
                        }                                                                                     \
                    }                                                                                         \
                    acc += (p)->bias[c];                                                                      \
                    out_[c] = tq_requantize_s8_portable(acc, (p)->multiplier[c], (p)->shift[c],               \
                                                        (p)->output_zero_point, (p)->act_min, (p)->act_max); \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
    } while (0)

/* Any conv, the window loop with int8 weights. Reads neither weights_s16 nor scratch. */
TQ_LOOP_INLINE void tq_conv2d_s8_window_portable(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    TQ_CONV2D_WINDOW_LOOP(p, input, output, int8_t, TQ_S8_WEIGHT_AT);
}

/* tq_conv2d_s8, portable: the pointwise path for 1x1 / stride 1 / unpadded layers, else the window loop. */
TQ_LOOP_INLINE void tq_conv2d_s8_portable(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_conv2d_s8_params *p = params;
    if (p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0
        && p->pad_left == 0 && p->out_h == p->in_h && p->out_w == p->in_w) {
        tq_conv2d_s8_1x1_portable(p, input, output);
        return;
    }
    tq_conv2d_s8_window_portable(p, input, output);
}

/*
 * Depthwise conv, one output pixel: output channels c = ic * m + j (j < m = depth_multiplier) of the
 * input channels ic in [ic_begin, in_c), out_c = in_c * m. The pixel's window starts at input
 * (y0, x0); ky in [ky_begin, ky_end) and kx in [kx_begin, kx_end) are its in-bounds taps
 * (TQ_WINDOW_BEGIN / TQ_WINDOW_END); out points at the pixel's channel 0. WEIGHT(weights, k, i) reads
 * weight k + i of a WTYPE array (int8_t with TQ_S8_WEIGHT_AT, uint8_t with TQ_S4_WEIGHT_AT); p is
 * either depthwise params struct.
 */
#define TQ_DEPTHWISE_PIXEL(p, input, y0, ky_begin, ky_end, x0, kx_begin, kx_end, ic_begin, out_c, out, WTYPE,  \
                           WEIGHT)                                                                            \
    do {                                                                                                      \
        const WTYPE *const weights_ = (p)->weights; /* read once: int8 output stores may alias the params */   \
        int32_t ic_, m_, ky_, kx_;                                                                            \
        for (ic_ = (ic_begin); ic_ < (p)->in_c; ++ic_) {                                                      \
            for (m_ = 0; m_ < (p)->depth_multiplier; ++m_) {                                                  \
                const int32_t c_ = ic_ * (p)->depth_multiplier + m_; /* reads input channel c / m = ic */     \
                int32_t acc_ = 0; /* int32 accumulator, as TFLite */                                          \
                for (ky_ = (ky_begin); ky_ < (ky_end); ++ky_) {                                               \
                    const int8_t *x_row_ = (input) + ((y0) + ky_) * (p)->in_w * (p)->in_c + ic_;              \
                    const int32_t k_row_ = ky_ * (p)->kernel_w * (out_c) + c_; /* flat index of w[ky][0][c] */ \
                    for (kx_ = (kx_begin); kx_ < (kx_end); ++kx_) {                                           \
                        acc_ += WEIGHT(weights_, k_row_, kx_ * (out_c))                                       \
                                * ((int32_t)x_row_[((x0) + kx_) * (p)->in_c] - (p)->input_zero_point);        \
                    }                                                                                         \
                }                                                                                             \
                acc_ += (p)->bias[c_];                                                                        \
                (out)[c_] = tq_requantize_s8_portable(acc_, (p)->multiplier[c_], (p)->shift[c_],              \
                                                      (p)->output_zero_point, (p)->act_min, (p)->act_max);   \
            }                                                                                                 \
        }                                                                                                     \
    } while (0)

/* Depthwise conv, every output pixel in raster order, every channel of a pixel (TQ_DEPTHWISE_PIXEL). */
#define TQ_DEPTHWISE_LOOP(p, input, output, WTYPE, WEIGHT)                                                    \
    do {                                                                                                      \
        const int32_t out_c = (p)->in_c * (p)->depth_multiplier;                                              \
        int32_t oy, ox;                                                                                       \
        for (oy = 0; oy < (p)->out_h; ++oy) {                                                                 \
            const int32_t y0 = oy * (p)->stride_h - (p)->pad_top;                                             \
            const int32_t ky_begin = TQ_WINDOW_BEGIN(y0);                                                     \
            const int32_t ky_end = TQ_WINDOW_END(y0, (p)->kernel_h, (p)->in_h);                               \
            for (ox = 0; ox < (p)->out_w; ++ox) {                                                             \
                const int32_t x0 = ox * (p)->stride_w - (p)->pad_left;                                        \
                const int32_t kx_begin = TQ_WINDOW_BEGIN(x0);                                                 \
                const int32_t kx_end = TQ_WINDOW_END(x0, (p)->kernel_w, (p)->in_w);                           \
                int8_t *out_ = (output) + (oy * (p)->out_w + ox) * out_c;                                     \
                TQ_DEPTHWISE_PIXEL(p, input, y0, ky_begin, ky_end, x0, kx_begin, kx_end, 0, out_c, out_,      \
                                   WTYPE, WEIGHT);                                                            \
            }                                                                                                 \
        }                                                                                                     \
    } while (0)

/* One depthwise output pixel with int8 weights (the DSP and Armv6-M kernels' fallback). */
TQ_LOOP_INLINE void tq_depthwise_conv2d_s8_pixel_portable(const tq_depthwise_conv2d_s8_params *p,
                                                         const int8_t *input, int32_t y0, int32_t ky_begin,
                                                         int32_t ky_end, int32_t x0, int32_t kx_begin,
                                                         int32_t kx_end, int32_t ic_begin,
                                                         int32_t out_c, int8_t *out)
{
    TQ_DEPTHWISE_PIXEL(p, input, y0, ky_begin, ky_end, x0, kx_begin, kx_end, ic_begin, out_c, out, int8_t,
                       TQ_S8_WEIGHT_AT);
}

/* tq_depthwise_conv2d_s8, portable: pixel by pixel in raster order, every channel of a pixel. */
TQ_LOOP_INLINE void tq_depthwise_conv2d_s8_portable(const tq_depthwise_conv2d_s8_params *params,
                                                   const int8_t *input, int8_t *output)
{
    TQ_DEPTHWISE_LOOP(params, input, output, int8_t, TQ_S8_WEIGHT_AT);
}

/* tq_fully_connected_s8, portable: one output channel at a time. */
TQ_LOOP_INLINE void tq_fully_connected_s8_portable(const tq_fully_connected_s8_params *params, const int8_t *input,
                                                  int8_t *output)
{
    const tq_fully_connected_s8_params *p = params;
    int32_t c, i;
    for (c = 0; c < p->out_features; ++c) {
        const int8_t *w = p->weights + c * p->in_features;
        int32_t acc = 0; /* int32 accumulator, as TFLite */
        for (i = 0; i < p->in_features; ++i) {
            acc += (int32_t)w[i] * ((int32_t)input[i] - p->input_zero_point);
        }
        acc += p->bias[c];
        output[c] = tq_requantize_s8_portable(acc, p->multiplier[c], p->shift[c], p->output_zero_point,
                                              p->act_min, p->act_max);
    }
}

/* tq_add_s8, portable: element by element, element i read before it is written (input2 of a broadcast is
 * read again at every position, never written). */
TQ_LOOP_INLINE void tq_add_s8_portable(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2,
                                      int8_t *output)
{
    const tq_add_s8_params *p = params;
    const int32_t scale = (int32_t)1 << p->left_shift; /* |x - zp| * 2^L <= 255 * 2^22 < 2^31 */
    const int32_t sign1 = p->subtract == 2 ? -1 : 1; /* b - a */
    const int32_t sign = p->subtract == 1 ? -1 : 1;  /* a - b */
    const int32_t step = p->broadcast ? p->channels : p->size; /* elements of input2 per pass */
    int32_t base, c;
    for (base = 0; base < p->size; base += step) {
        const int8_t *in2 = p->broadcast ? input2 : input2 + base;
        for (c = 0; c < step; ++c) {
            const int32_t i = base + c;
            const int32_t a = tq_mbqm_portable(((int32_t)input1[i] - p->input1_zero_point) * scale, p->multiplier1,
                                               p->shift1);
            const int32_t b = tq_mbqm_portable(((int32_t)in2[c] - p->input2_zero_point) * scale, p->multiplier2,
                                               p->shift2);
            output[i] = tq_requantize_s8_portable(tq_sat_s32((int64_t)sign1 * a + (int64_t)sign * b), p->output_multiplier,
                                                  p->output_shift, p->output_zero_point, p->act_min, p->act_max);
        }
    }
}

#endif /* TQ_PORTABLE_H */
