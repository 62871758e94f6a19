/*
 * tq_conv2d_s8_v6m.c - int8 2-D convolution for Armv6-M (Cortex-M0 / M0+: Thumb-1, MULS 32 x 32 -> 32,
 * no DSP, no 64-bit multiply), the same function and result as tq_conv2d_s8.c (formula: tq_kernels.h).
 *
 * Method, per output pixel in raster order:
 * 1. Column (im2col): the pixel's K = kernel_h * kernel_w * in_c window values, in the weights'
 *    [ky][kx][i] order, as int32 words x' = x - input_zero_point, 0 for padded taps (so padding is
 *    exact), in params->scratch (arena memory planned for this layer's step, disjoint from input and
 *    output; 4 * K <= tq_conv2d_s8_get_buffer_size bytes for every K <= TQ_CONV_DSP_COLUMN_MAX), and
 *    their sum S = sum_k x'[k].
 * 2. Output channels four at a time (block_1x4, Thumb-1 assembly): per tap one LDR of x'[k] and, per
 *    channel, LDRB of the offset weight v = w + 128 (an unsigned byte, so an immediate-offset LDRB; a
 *    signed LDRSB has only a register-offset form), MULS into the weight register, ADDS into the
 *    channel's accumulator: 13 instructions per 4 MACs, 8 taps per loop iteration.
 *    sum_k v[k] * x'[k] = sum_k w[k] * x'[k] + 128 * S, so each accumulator starts at
 *    bias[c] - 128 * S (wrapping uint32 arithmetic: the final value, the layer's int32 accumulator,
 *    is exact modulo 2^32 and lies in the int32 range by tq_kernels.h's accumulator rule).
 * 3. Output stage: tq_requantize_s8_v6m_layer (tq_requant.h: MULS only, equal to tq_requantize_s8):
 *    the short fused form when the generator set params->requant_fused, else tq_requantize_s8_v6m.
 *
 * Weights: params->weights_v6m, the Armv6-M layout (Python twin: tinyqat/codegen/layouts.py,
 * conv_weights_v6m): channel group g < ceil(out_c / 4), tap k < K, channel i < 4:
 *   weights_v6m[(g * K + k) * 4 + i] = w[4g + i][k] + 128 (uint8), 128 (w = 0) for channels past out_c.
 * The generator emits it (under #if TQ_USE_V6M) only for layers with K <= TQ_CONV_DSP_COLUMN_MAX of
 * packages planned for an Armv6-M board, always together with the scratch buffer. A layer without it
 * (weights_v6m NULL: a package planned for another core, or K above the bound) or without scratch
 * runs the portable loop (tq_conv2d_s8_portable, tq_portable.h, whose output stage is then
 * tq_requantize_s8_v6m too).
 *
 * In-place contract (tq_kernels.h): pixel by pixel in raster order; a pixel's column is read from its
 * input window before any of its output bytes are written, and only its out_c bytes are written.
 */
#include "tq_kernels.h"

/* The column of the largest K fits the planned scratch: 4 * K <= TQ_CONV2D_S8_BUFFER_SIZE for every
 * K <= TQ_CONV_DSP_COLUMN_MAX (the size is 2 * (COLUMN_MAX + K2) >= 4 * K exactly when K <= COLUMN_MAX). */
typedef char tq_conv_v6m_column_fits_scratch
    [4 * TQ_CONV_DSP_COLUMN_MAX <= TQ_CONV2D_S8_BUFFER_SIZE(1, 1, TQ_CONV_DSP_COLUMN_MAX) ? 1 : -1];

#if TQ_USE_V6M
#include <stddef.h>

#include "tq_portable.h"
#include "tq_requant.h"

#define TQ_STR2(x) #x
#define TQ_STR(x) TQ_STR2(x)

/* One tap k of block_1x4: r2 = x'[k], then per channel i: r3 = v[4k + i]; r3 *= r2; acc_i (r4 + i) += r3. */
#define TQ_V6M_MAC(k, i, acc) \
    "ldrb r3, [r1, #" TQ_STR(k) "*4+" TQ_STR(i) "]\n\t" \
    "muls r3, r2, r3\n\t" \
    "adds " acc ", " acc ", r3\n\t"
#define TQ_V6M_TAP(k) \
    "ldr r2, [r0, #" TQ_STR(k) "*4]\n\t" \
    TQ_V6M_MAC(k, 0, "r4") TQ_V6M_MAC(k, 1, "r5") TQ_V6M_MAC(k, 2, "r6") TQ_V6M_MAC(k, 3, "r7")

/*
 * acc[i] += sum_{k < taps} v[4k + i] * col[k] (mod 2^32) for i < 4, taps >= 1: v the group's offset
 * weights (uint8), col the int32 column. Eight taps per loop iteration (immediate offsets up to 31
 * for LDRB, 28 for LDR; 4 instructions of loop overhead per 32 MACs), then the taps mod 8 one at a
 * time. Accumulators in r4-r7, x' in r2, the product in r3; the loop ends in r12 and lr (saved by
 * the push). AAPCS: r0 = col, r1 = v, r2 = taps, r3 = acc; r4-r7 saved.
 */
#define TQ_ASM_ARG __attribute__((unused))
__attribute__((naked, noinline)) static void block_1x4(TQ_ASM_ARG const int32_t *col, TQ_ASM_ARG const uint8_t *v,
                                                       TQ_ASM_ARG int32_t taps, TQ_ASM_ARG int32_t *acc)
{
    __asm__ volatile(
        ".syntax unified\n\t" /* GCC passes Thumb-1 inline assembly in divided syntax; it restores its own after */
        "push {r3-r7, lr}\n\t"
        "ldm r3!, {r4-r7}\n\t"
        "lsls r3, r2, #29\n\t"
        "lsrs r3, r3, #27\n\t"          /* (taps mod 8) * 4: the tail's column bytes */
        "mov lr, r3\n\t"
        "lsrs r2, r2, #3\n\t"           /* groups of eight taps */
        "beq 2f\n\t"
        "lsls r2, r2, #5\n\t"
        "adds r2, r0, r2\n\t"
        "mov r12, r2\n"
        "1:\n\t"
        TQ_V6M_TAP(0) TQ_V6M_TAP(1) TQ_V6M_TAP(2) TQ_V6M_TAP(3)
        TQ_V6M_TAP(4) TQ_V6M_TAP(5) TQ_V6M_TAP(6) TQ_V6M_TAP(7)
        "adds r0, #32\n\t"
        "adds r1, #32\n\t"
        "cmp r0, r12\n\t"
        "bne 1b\n"
        "2:\n\t"
        "mov r2, lr\n\t"
        "cmp r2, #0\n\t"
        "beq 4f\n\t"
        "adds r2, r0, r2\n\t"
        "mov r12, r2\n"
        "3:\n\t"
        TQ_V6M_TAP(0)
        "adds r0, #4\n\t"
        "adds r1, #4\n\t"
        "cmp r0, r12\n\t"
        "bne 3b\n"
        "4:\n\t"
        "pop {r3}\n\t"
        "stm r3!, {r4-r7}\n\t"
        "pop {r4-r7, pc}\n\t");
}

/* n values x - zp of src into dst; returns their sum. */
static inline int32_t column_copy(int32_t *dst, const int8_t *src, int32_t n, int32_t zp)
{
    int32_t i, sum = 0;
    for (i = 0; i < n; ++i) {
        const int32_t v = (int32_t)src[i] - zp;
        dst[i] = v;
        sum += v;
    }
    return sum;
}

/* The column of output pixel (oy, ox) (file comment, step 1); returns S, the sum of its values. */
static int32_t column_fill(const tq_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox, int32_t *col)
{
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t in_c = p->in_c, row_len = p->kernel_w * in_c, zp = p->input_zero_point;
    int32_t ky, kx, i, sum = 0;
    for (ky = 0; ky < p->kernel_h; ++ky, col += row_len) {
        const int32_t iy = y0 + ky;
        const int8_t *src_row;
        if (iy < 0 || iy >= p->in_h) {
            for (i = 0; i < row_len; ++i) {
                col[i] = 0;
            }
            continue;
        }
        src_row = input + iy * p->in_w * in_c;
        if (x0 >= 0 && x0 + p->kernel_w <= p->in_w) { /* the whole row in bounds: contiguous in NHWC */
            sum += column_copy(col, src_row + x0 * in_c, row_len, zp);
        } else {
            for (kx = 0; kx < p->kernel_w; ++kx) {
                const int32_t ix = x0 + kx;
                if (ix < 0 || ix >= p->in_w) {
                    for (i = 0; i < in_c; ++i) {
                        col[kx * in_c + i] = 0;
                    }
                } else {
                    sum += column_copy(col + kx * in_c, src_row + ix * in_c, in_c, zp);
                }
            }
        }
    }
    return sum;
}

void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_conv2d_s8_params *p = params;
    /* Locals, not p->...: stores through int8_t * may alias *p, so the compiler would reload. */
    const int32_t k_len = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t out_c = p->out_c, out_w = p->out_w, pixels = p->out_h * p->out_w;
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int32_t fused = p->requant_fused;
    const int32_t *bias = p->bias, *multiplier = p->multiplier, *shift = p->shift;
    const uint8_t *weights_v6m = p->weights_v6m;
    int32_t *const col = (int32_t *)p->scratch;
    int32_t px, c, i, oy = 0, ox = 0;
    if (weights_v6m == NULL || col == NULL || k_len > TQ_CONV_DSP_COLUMN_MAX) {
        tq_conv2d_s8_portable(p, input, output);
        return;
    }
    for (px = 0; px < pixels; ++px) {
        const uint32_t correction = 128u * (uint32_t)column_fill(p, input, oy, ox, col);
        int8_t *out = output + px * out_c;
        const uint8_t *v = weights_v6m;
        int32_t acc[4];
        if (++ox == out_w) {
            ox = 0;
            ++oy;
        }
        for (c = 0; c + 4 <= out_c; c += 4, v += 4 * k_len) {
            acc[0] = (int32_t)((uint32_t)bias[c] - correction);
            acc[1] = (int32_t)((uint32_t)bias[c + 1] - correction);
            acc[2] = (int32_t)((uint32_t)bias[c + 2] - correction);
            acc[3] = (int32_t)((uint32_t)bias[c + 3] - correction);
            block_1x4(col, v, k_len, acc);
            out[c] = tq_requantize_s8_v6m_layer(acc[0], fused, multiplier[c], shift[c], zp_out, act_min, act_max);
            out[c + 1] = tq_requantize_s8_v6m_layer(acc[1], fused, multiplier[c + 1], shift[c + 1], zp_out, act_min,
                                                      act_max);
            out[c + 2] = tq_requantize_s8_v6m_layer(acc[2], fused, multiplier[c + 2], shift[c + 2], zp_out, act_min,
                                                      act_max);
            out[c + 3] = tq_requantize_s8_v6m_layer(acc[3], fused, multiplier[c + 3], shift[c + 3], zp_out, act_min,
                                                      act_max);
        }
        if (c < out_c) { /* 1 to 3 channels left: the group's padding channels are computed, not written */
            for (i = 0; i < 4; ++i) {
                acc[i] = (int32_t)((uint32_t)bias[c + i < out_c ? c + i : c] - correction);
            }
            block_1x4(col, v, k_len, acc);
            for (i = 0; c + i < out_c; ++i) {
                out[c + i] = tq_requantize_s8_v6m_layer(acc[i], fused, multiplier[c + i], shift[c + i], zp_out, act_min,
                                                        act_max);
            }
        }
    }
}

#endif /* TQ_USE_V6M */
