/*
 * tq_conv2d_s8_dsp.c - int8 2-D convolution for cores with the DSP extension (SXTB16 / SMLAD),
 * the same function and result as tq_conv2d_s8.c (see tq_kernels.h for the formula).
 *
 * Method: output pixels are taken two at a time in raster order (p, p + 1; the last one alone
 * when their number is odd, computed twice and written twice at the same place). Each pixel's
 * window becomes an int16 column (im2col) of K4 values: the K = kernel_h * kernel_w * in_c values
 * x - input_zero_point (0 for padded taps) in the weights' [ky][kx][i] order, K4 - K zeros after
 * them (K4 = TQ_CONV_DSP_K4(K), K rounded up to a multiple of 4), every group of four reordered to
 * (v0, v2, v1, v3) (column_copy: SXTAB16 and SXTAB16 ROR #8 of one word give both pairs). A window
 * whose rows are multiples of 4 values is converted row by row from the input; any other (first
 * layers with 1-3 channels, clipped windows with in_c not a multiple of 4) is first gathered as
 * int8 in the column's upper bytes and converted in place (column_fill).
 * The columns live in params->scratch (arena memory planned for this layer's step, disjoint from
 * input and output; tq_conv2d_s8_get_buffer_size bytes, 4-byte aligned): pixel 0's at scratch,
 * pixel 1's TQ_CONV_DSP_COLUMN_MAX values later. A layer with K above TQ_CONV_DSP_COLUMN_MAX or
 * no scratch (NULL) runs the portable window loop (tq_conv2d_s8_window_portable, tq_portable.h;
 * a core without DSP compiles tq_conv2d_s8.c, which uses the same loop, instead); the generator
 * then ships the IR weights (the layouts below only come with scratch and K <= the bound).
 *
 * Blocks: output channels four at a time, each a hand-scheduled 4 x 2 block (Thumb-2 assembly; 4
 * channels x 2 pixels, 8 accumulators in registers, initialised from the bias) over the K4 / 2
 * column pairs, channels past out_c computed with zero weights and not written. Two weight layouts,
 * both built by tinyqat/codegen/layouts.py (the Python twin) with K4 and perm = the column order:
 * - int8 layout (params->weights under TQ_USE_DSP, both build modes; block_4x2_s8): one word per
 *   channel pair and column pair, weights[((g * K4 / 2 + j) * 2 + s) * 4 + b] =
 *   w[4 g + 2 s + (b & 1)][perm[2 j + (b >> 1)]]: SXTB16 gives channel 4g + 2s's pair, SXTB16 ROR #8
 *   channel 4g + 2s + 1's (18 estimated cycles per 16 MACs);
 * - speed layout (params->weights_s16 != NULL, tinyqat build --optimize speed; block_4x2): the
 *   weights pre-extended to int16, weights_s16[((g * K4 / 2 + j) * 4 + i) * 2 + h] =
 *   w[4 g + i][perm[2 j + h]] (16 estimated cycles per 16 MACs).
 * Channel group g < ceil(out_c / 4), pair j < K4 / 2; padding weights (channels >= out_c, values
 * >= K) are 0.
 *
 * Accumulation order differs from the portable kernel but the int32 sum is the same integer:
 * every partial sum is bias[c] plus a subset of the products, so its magnitude is at most
 * |bias| + 255 * 127 * taps, which tq_kernels.h requires to stay below 2^31 (SMLAD wraps
 * modulo 2^32 and never sees an overflow).
 *
 * Output stage, per chunk of up to TQ_CONV_DSP_CHUNK channels of the two pixels (accumulators on the
 * stack), chosen by the build-time params->requant_fused: 2 (fused, full int8 range) an assembly loop
 * of TQ_REQUANT_FUSED_FULL_ASM (one SMLAL and one SSAT per output); 1 tq_requantize_s8_fused; 0
 * tq_requantize_s8_fast (all in tq_requant.h, equal to tq_requantize_s8 under their conditions).
 *
 * In-place contract (tq_kernels.h): a block writes all channels of pixels p and p + 1 after
 * reading only those two pixels' input windows, and blocks run in raster order.
 */
#include "tq_kernels.h"

/* TQ_CONV_DSP_COLUMN_MAX (576) and the scratch size: tq_kernels.h. Byte offset from a pixel-0 column
 * value to the same value of pixel 1: TQ_CONV_DSP_COLUMN_MAX int16 values, written out because it is
 * an immediate of block_4x2's assembly (an LDR offset, below 4096). */
#define TQ_CONV_DSP_COL1 1152

/* Compile-time checks (every build) that tie the columns to tq_kernels.h: pixel 1's column starts
 * TQ_CONV_DSP_COL1 bytes after pixel 0's; TQ_CONV_DSP_COLUMN_MAX is even (pixel 1's column is
 * 4-byte aligned, and an odd K < TQ_CONV_DSP_COLUMN_MAX leaves room for the padding value); the
 * scratch size of the largest K is exactly the two columns, and K above it gets none. */
typedef char tq_conv_dsp_col1_is_2_column_max[TQ_CONV_DSP_COL1 == 2 * TQ_CONV_DSP_COLUMN_MAX ? 1 : -1];
typedef char tq_conv_dsp_col1_fits_ldr[TQ_CONV_DSP_COL1 < 4096 ? 1 : -1];
typedef char tq_conv_dsp_column_max_is_even[TQ_CONV_DSP_COLUMN_MAX % 2 == 0 ? 1 : -1];
typedef char tq_conv_dsp_buffer_is_two_columns
    [TQ_CONV2D_S8_BUFFER_SIZE(1, 1, TQ_CONV_DSP_COLUMN_MAX) == 2 * TQ_CONV_DSP_COL1 ? 1 : -1];
typedef char tq_conv_dsp_no_buffer_above_column_max
    [TQ_CONV2D_S8_BUFFER_SIZE(1, 1, TQ_CONV_DSP_COLUMN_MAX + 1) == 0 ? 1 : -1];

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_portable.h"
#include "tq_requant.h"

#define TQ_STR2(x) #x
#define TQ_STR(x) TQ_STR2(x)
/* The blocks' stack locals (loop end, pairs, column start, unused), below the saved r3-r11, lr: r3 (acc)
 * is at this offset. */
#define TQ_CONV_BLOCK_LOCALS 16
/* The blocks' fifth and sixth arguments (bias, groups) after their 10 pushed registers and the locals. */
#define TQ_CONV_BLOCK_BIAS 56
#define TQ_CONV_BLOCK_GROUPS 60
/* Output channels per output stage call (a multiple of 4; the accumulators of a chunk live on the stack). */
#define TQ_CONV_DSP_CHUNK 32

/*
 * The loops around a block's pairs, for groups >= 1 consecutive channel groups (the weights of a group
 * follow the previous group's; acc gets 8 accumulators per group, bias gives 4 values per group).
 * Per group: the 8 accumulators from its 4 biases, each twice; then the column pairs (pairs even,
 * >= 2: K4 / 2) from the column start: 8 pairs per iteration up to pairs rounded down to a multiple
 * of 8, then 4 pairs if pairs & 4, then 2 if pairs & 2; then the accumulators stored to acc. Stack
 * locals (TQ_CONV_BLOCK_LOCALS bytes, below the saved r3-r11, lr): [sp] the column pointer where the
 * 8-pair loop ends, [sp, #4] pairs, [sp, #8] the column start; the saved r3 (acc), the fifth (bias)
 * and the sixth (groups) argument slots advance / count down from group to group.
 */
#define TQ_CONV_BLOCK_ENTER                                                                        \
    "push {r3-r11, lr}\n\t"                                                                       \
    "sub sp, sp, #" TQ_STR(TQ_CONV_BLOCK_LOCALS) "\n\t"                                           \
    "bic r12, r2, #7\n\t"                                                                         \
    "add r12, r0, r12, lsl #2\n\t"                                                                \
    "strd r12, r2, [sp]\n\t"                                                                      \
    "str r0, [sp, #8]\n"                                                                           \
    "0:\n\t"                                                                                      \
    "ldr r12, [sp, #" TQ_STR(TQ_CONV_BLOCK_BIAS) "]\n\t"                                          \
    "ldm r12!, {r4, r6, r8, r10}\n\t"                                                             \
    "str r12, [sp, #" TQ_STR(TQ_CONV_BLOCK_BIAS) "]\n\t"                                          \
    "mov r5, r4\n\t"                                                                              \
    "mov r7, r6\n\t"                                                                              \
    "mov r9, r8\n\t"                                                                              \
    "mov r11, r10\n\t"                                                                            \
    "ldr r0, [sp, #8]\n\t"                                                                        \
    "ldr r12, [sp]\n\t"                                                                           \
    "cmp r0, r12\n\t"                                                                             \
    "beq 2f\n"                                                                                     \
    "1:\n\t"
#define TQ_CONV_BLOCK_AFTER8                                                                       \
    "ldr r2, [sp]\n\t"                                                                            \
    "cmp r0, r2\n\t"                                                                              \
    "bne 1b\n"                                                                                     \
    "2:\n\t"                                                                                      \
    "ldr r2, [sp, #4]\n\t"                                                                        \
    "tst r2, #4\n\t"                                                                              \
    "beq 3f\n\t"
#define TQ_CONV_BLOCK_AFTER4                                                                       \
    "3:\n\t"                                                                                      \
    "ldr r2, [sp, #4]\n\t"                                                                        \
    "tst r2, #2\n\t"                                                                              \
    "beq 4f\n\t"
#define TQ_CONV_BLOCK_EXIT                                                                         \
    "4:\n\t"                                                                                      \
    "ldr r3, [sp, #" TQ_STR(TQ_CONV_BLOCK_LOCALS) "]\n\t"                                         \
    "stm r3!, {r4-r11}\n\t"                                                                       \
    "str r3, [sp, #" TQ_STR(TQ_CONV_BLOCK_LOCALS) "]\n\t"                                         \
    "ldr r2, [sp, #" TQ_STR(TQ_CONV_BLOCK_GROUPS) "]\n\t"                                         \
    "subs r2, r2, #1\n\t"                                                                         \
    "str r2, [sp, #" TQ_STR(TQ_CONV_BLOCK_GROUPS) "]\n\t"                                         \
    "bne 0b\n\t"                                                                                  \
    "add sp, sp, #" TQ_STR(TQ_CONV_BLOCK_LOCALS) "\n\t"                                           \
    "pop {r3-r11, pc}\n\t"

/*
 * 4 x 2 block (speed layout), for each of groups channel groups g: acc[8 g + 2 i + n] = bias[4 g + i]
 * + sum_j col_n[pair j] . w_g[pair j][channel i] with SMLAD, i < 4 channels, n < 2 pixels (col_1 =
 * col_0 + TQ_CONV_DSP_COLUMN_MAX), j < pairs; w points at the first group's first weight word. Hand-scheduled (GCC cannot keep 8 accumulators, 4
 * operands and 2 pointers in the 14 usable registers): per pair, the loads of two column words
 * and two weight words stay together (pipelined), then 4 SMLADs, 2 loads, 4 SMLADs; the pairs in
 * the loop of TQ_CONV_BLOCK_ENTER (8 per iteration, then 4 and 2).
 * AAPCS: r0 = col, r1 = w, r2 = pairs, r3 = acc; stack: bias (4 entries per group), groups; r4-r11 saved.
 */
#define TQ_CONV_PAIR                                                                               \
    "ldr r3, [r0, #" TQ_STR(TQ_CONV_DSP_COL1) "]\n\t"                                            \
    "ldr r2, [r0], #4\n\t"                                                                        \
    "ldr r12, [r1], #4\n\t"                                                                       \
    "ldr lr, [r1], #4\n\t"                                                                        \
    "smlad r4, r2, r12, r4\n\t"                                                                   \
    "smlad r5, r3, r12, r5\n\t"                                                                   \
    "smlad r6, r2, lr, r6\n\t"                                                                    \
    "smlad r7, r3, lr, r7\n\t"                                                                    \
    "ldr r12, [r1], #4\n\t"                                                                       \
    "ldr lr, [r1], #4\n\t"                                                                        \
    "smlad r8, r2, r12, r8\n\t"                                                                   \
    "smlad r9, r3, r12, r9\n\t"                                                                   \
    "smlad r10, r2, lr, r10\n\t"                                                                  \
    "smlad r11, r3, lr, r11\n\t"

/* The parameters are read by the assembly (AAPCS registers), not by C: marked unused. */
#define TQ_ASM_ARG __attribute__((unused))
__attribute__((naked, noinline)) static void block_4x2(TQ_ASM_ARG const int16_t *col, TQ_ASM_ARG const void *w,
                                                       TQ_ASM_ARG int32_t pairs, TQ_ASM_ARG int32_t *acc,
                                                       TQ_ASM_ARG const int32_t *bias, TQ_ASM_ARG int32_t groups)
{
    __asm__ volatile(TQ_CONV_BLOCK_ENTER
        TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR
        TQ_CONV_BLOCK_AFTER8
        TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR
        TQ_CONV_BLOCK_AFTER4
        TQ_CONV_PAIR TQ_CONV_PAIR
        TQ_CONV_BLOCK_EXIT);
}

/*
 * 4 x 2 block, int8 layout (weights in the DSP kernel's int8 order, both build modes): the same sums
 * as block_4x2 from one weight word per channel pair and column pair: SXTB16 of the word is channel
 * 2s's (w[k], w[k+1]), SXTB16 ROR #8 channel 2s + 1's. Per pair: 3 pipelined loads (two column
 * words, one weight word), 2 extends + 4 SMLADs, 1 load, 2 extends + 4 SMLADs (18 estimated cycles
 * for 16 MACs), in the loop of TQ_CONV_BLOCK_ENTER, with block_4x2's registers and stack locals.
 */
#define TQ_CONV_PAIR_S8                                                                            \
    "ldr r3, [r0, #" TQ_STR(TQ_CONV_DSP_COL1) "]\n\t"                                            \
    "ldr r2, [r0], #4\n\t"                                                                        \
    "ldr lr, [r1], #4\n\t"                                                                        \
    "sxtb16 r12, lr\n\t"                                                                          \
    "smlad r4, r2, r12, r4\n\t"                                                                   \
    "smlad r5, r3, r12, r5\n\t"                                                                   \
    "sxtb16 lr, lr, ror #8\n\t"                                                                   \
    "smlad r6, r2, lr, r6\n\t"                                                                    \
    "smlad r7, r3, lr, r7\n\t"                                                                    \
    "ldr lr, [r1], #4\n\t"                                                                        \
    "sxtb16 r12, lr\n\t"                                                                          \
    "smlad r8, r2, r12, r8\n\t"                                                                   \
    "smlad r9, r3, r12, r9\n\t"                                                                   \
    "sxtb16 lr, lr, ror #8\n\t"                                                                   \
    "smlad r10, r2, lr, r10\n\t"                                                                  \
    "smlad r11, r3, lr, r11\n\t"

__attribute__((naked, noinline)) static void block_4x2_s8(TQ_ASM_ARG const int16_t *col, TQ_ASM_ARG const void *w,
                                                          TQ_ASM_ARG int32_t pairs, TQ_ASM_ARG int32_t *acc,
                                                          TQ_ASM_ARG const int32_t *bias, TQ_ASM_ARG int32_t groups)
{
    __asm__ volatile(TQ_CONV_BLOCK_ENTER
        TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8
        TQ_CONV_BLOCK_AFTER8
        TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8
        TQ_CONV_BLOCK_AFTER4
        TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8
        TQ_CONV_BLOCK_EXIT);
}

/* The output stage of a layer: per-layer constants (see the file comment). */
typedef struct {
    int32_t zp_out, act_min, act_max;
    const int32_t *multiplier, *shift;
} out_stage;

/* Channels c .. c + n - 1 of the two pixels of a block from acc[2 * i + pixel] (i < n): out0[c + i],
 * out1[c + i]; the fused output stage (the layer's requant_fused is 1). out1 == out0 for a last pixel
 * alone (its accumulators are pixel 0's, so the same bytes are written twice). */
static void requant_group_fused(const out_stage *o, int32_t c, int32_t n, const int32_t *acc, int8_t *out0,
                                int8_t *out1)
{
    const int32_t *q = o->multiplier + c, *shift = o->shift + c;
    const int32_t zp = o->zp_out, lo = o->act_min, hi = o->act_max;
    int32_t i;
    out0 += c;
    out1 += c;
    for (i = 0; i < n; ++i, acc += 2) {
        const int32_t qi = q[i], e = -shift[i];
        out0[i] = (int8_t)tq_requantize_s8_fused(acc[0], qi, e, zp, lo, hi);
        out1[i] = (int8_t)tq_requantize_s8_fused(acc[1], qi, e, zp, lo, hi);
    }
}

/*
 * requant_group_fused for a layer with the full int8 output range (requant_fused == 2): acc, q and shift
 * point at channel c's entries, out0 / out1 at its bytes; n >= 1 channels. Per channel: its multiplier
 * and shift, round = 2^(e - 1) for e = -shift, then TQ_REQUANT_FUSED_FULL_ASM (tq_requant.h) and a
 * byte store per pixel (about 15 estimated cycles per output).
 * AAPCS: r0 = acc, r1 = q, r2 = shift, r3 = n; stack: out0, out1, zp (read after the 9 saved registers).
 */
__attribute__((naked, noinline)) static void requant_group_full(TQ_ASM_ARG const int32_t *acc,
                                                                TQ_ASM_ARG const int32_t *q,
                                                                TQ_ASM_ARG const int32_t *shift, TQ_ASM_ARG int32_t n,
                                                                TQ_ASM_ARG int8_t *out0, TQ_ASM_ARG int8_t *out1,
                                                                TQ_ASM_ARG int32_t zp)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r4, [sp, #36]\n\t"
        "ldr r5, [sp, #40]\n\t"
        "ldr r6, [sp, #44]\n\t"
        "add r3, r0, r3, lsl #3\n"
        "1:\n\t"
        "ldr r7, [r1], #4\n\t"
        "ldr r8, [r2], #4\n\t"
        "ldrd r10, r11, [r0], #8\n\t"
        "rsb r8, r8, #0\n\t"
        "mov r9, #1\n\t"
        "lsl r9, r9, r8\n\t"
        "lsr r9, r9, #1\n\t"
        TQ_REQUANT_FUSED_FULL_ASM("r10", "r7", "r8", "r9", "r6", "r12", "lr")
        "strb r12, [r4], #1\n\t"
        TQ_REQUANT_FUSED_FULL_ASM("r11", "r7", "r8", "r9", "r6", "r12", "lr")
        "strb r12, [r5], #1\n\t"
        "cmp r0, r3\n\t"
        "bne 1b\n\t"
        "pop {r4-r11, pc}\n\t");
}

static void requant_group_fused_full(const out_stage *o, int32_t c, int32_t n, const int32_t *acc, int8_t *out0,
                                     int8_t *out1)
{
    requant_group_full(acc, o->multiplier + c, o->shift + c, n, out0 + c, out1 + c, o->zp_out);
}

/* requant_group_fused with tq_requantize_s8_fast (the layer's requant_fused is 0). */
static void requant_group_fast(const out_stage *o, int32_t c, int32_t n, const int32_t *acc, int8_t *out0,
                               int8_t *out1)
{
    const int32_t *q = o->multiplier + c, *shift = o->shift + c;
    const int32_t zp = o->zp_out, lo = o->act_min, hi = o->act_max;
    int32_t i;
    out0 += c;
    out1 += c;
    for (i = 0; i < n; ++i, acc += 2) {
        out0[i] = tq_requantize_s8_fast(acc[0], q[i], shift[i], zp, lo, hi);
        out1[i] = tq_requantize_s8_fast(acc[1], q[i], shift[i], zp, lo, hi);
    }
}

/* n (a multiple of 4) int8 values from src minus the zero point, reordered by groups of 4: dst
 * gets (v0, v2, v1, v3, v4, v6, ...). nzp2 = (-input_zero_point, -input_zero_point). */
static void column_copy(int16_t *dst, const int8_t *src, int32_t n, int32_t nzp2)
{
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) { /* 16 values per iteration: the four loads pipelined */
        const int32_t v0 = tq_load_s8x4(src + i), v1 = tq_load_s8x4(src + i + 4);
        const int32_t v2 = tq_load_s8x4(src + i + 8), v3 = tq_load_s8x4(src + i + 12);
        tq_store_s16x2(dst + i, __sxtab16(nzp2, v0));
        tq_store_s16x2(dst + i + 2, tq_sxtab16_odd(nzp2, v0));
        tq_store_s16x2(dst + i + 4, __sxtab16(nzp2, v1));
        tq_store_s16x2(dst + i + 6, tq_sxtab16_odd(nzp2, v1));
        tq_store_s16x2(dst + i + 8, __sxtab16(nzp2, v2));
        tq_store_s16x2(dst + i + 10, tq_sxtab16_odd(nzp2, v2));
        tq_store_s16x2(dst + i + 12, __sxtab16(nzp2, v3));
        tq_store_s16x2(dst + i + 14, tq_sxtab16_odd(nzp2, v3));
    }
    for (; i < n; i += 4) {
        const int32_t v = tq_load_s8x4(src + i);
        tq_store_s16x2(dst + i, __sxtab16(nzp2, v));
        tq_store_s16x2(dst + i + 2, tq_sxtab16_odd(nzp2, v));
    }
}

/* GCC: keep the short loops of stage_copy / stage_fill (inlined in column_fill) as loops, not memcpy /
 * memset calls (slower for a few bytes). */
#if defined(__GNUC__) && !defined(__clang__)
#define TQ_CONV_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TQ_CONV_NO_LIBCALL
#endif

/* dst[0 .. n) = src[0 .. n) (int8, any alignment; words while 4 bytes are left). */
__attribute__((always_inline)) static inline void stage_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        const int32_t v = tq_load_s8x4(src);
        memcpy(dst, &v, sizeof v);
    }
    for (; n > 0; --n) {
        *dst++ = *src++;
    }
}

/* dst[0 .. n) = v. */
__attribute__((always_inline)) static inline void stage_fill(int8_t *dst, int8_t v, int32_t n)
{
    for (; n > 0; --n) {
        *dst++ = v;
    }
}

/* The column of output pixel (oy, ox): K4 = TQ_CONV_DSP_K4(K) values (see the file comment). When every
 * row of kernel_w * in_c values is a multiple of 4 and either lies fully inside the input or has in_c a
 * multiple of 4, it is built row by row (an in-bounds row is contiguous in NHWC); otherwise the raw
 * window (padded taps and the K4 - K padding values = the zero point) is first gathered as int8 in the
 * column's own upper bytes [K4, 2 K4) and then converted in place by column_copy, which reads every
 * group's bytes before it writes over them (byte 2 i + 7 of group i lies below byte K4 + i + 4 of the
 * next group for i <= K4 - 4). */
TQ_CONV_NO_LIBCALL static void column_fill(const tq_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox, int32_t nzp2,
                        int16_t *col)
{
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t in_c = p->in_c, in_w = p->in_w, in_h = p->in_h, kernel_w = p->kernel_w;
    const int32_t row_len = kernel_w * in_c;
    const int32_t k_len = p->kernel_h * row_len, k4 = TQ_CONV_DSP_K4(k_len);
    const int32_t x_inside = x0 >= 0 && x0 + kernel_w <= in_w;
    /* the in-bounds taps of a row: kx in [kx_lo, kx_hi) */
    const int32_t kx_lo = x0 < 0 ? -x0 : 0;
    const int32_t kx_hi = x0 + kernel_w > in_w ? (in_w - x0 > kx_lo ? in_w - x0 : kx_lo) : kernel_w;
    int32_t ky, kx;
    if (row_len % 4 == 0 && (x_inside || in_c % 4 == 0)) {
        for (ky = 0; ky < p->kernel_h; ++ky, col += row_len) {
            const int32_t iy = y0 + ky;
            if (iy < 0 || iy >= in_h) {
                memset(col, 0, (size_t)row_len * sizeof *col);
                continue;
            }
            const int8_t *src_row = input + iy * in_w * in_c;
            if (x_inside) {
                column_copy(col, src_row + x0 * in_c, row_len, nzp2);
                continue;
            }
            for (kx = 0; kx < kernel_w; ++kx) {
                if (kx < kx_lo || kx >= kx_hi) {
                    memset(col + kx * in_c, 0, (size_t)in_c * sizeof *col);
                } else {
                    column_copy(col + kx * in_c, src_row + (x0 + kx) * in_c, in_c, nzp2);
                }
            }
        }
        return;
    }
    {
        int8_t *const stage = (int8_t *)col + k4;
        const int8_t zp = (int8_t)p->input_zero_point;
        int8_t *dst = stage;
        if (x_inside && y0 >= 0 && y0 + p->kernel_h <= in_h) { /* the whole window inside: rows only */
            const int8_t *src = input + (y0 * in_w + x0) * in_c;
            for (ky = 0; ky < p->kernel_h; ++ky, dst += row_len, src += in_w * in_c) {
                stage_copy(dst, src, row_len);
            }
            stage_fill(stage + k_len, zp, k4 - k_len);
            column_copy(col, stage, k4, nzp2);
            return;
        }
        for (ky = 0; ky < p->kernel_h; ++ky, dst += row_len) {
            const int32_t iy = y0 + ky;
            if (iy < 0 || iy >= in_h || kx_lo >= kx_hi) {
                stage_fill(dst, zp, row_len);
                continue;
            }
            stage_fill(dst, zp, kx_lo * in_c);
            stage_copy(dst + kx_lo * in_c, input + (iy * in_w + x0 + kx_lo) * in_c, (kx_hi - kx_lo) * in_c);
            stage_fill(dst + kx_hi * in_c, zp, (kernel_w - kx_hi) * in_c);
        }
        stage_fill(stage + k_len, zp, k4 - k_len);
        column_copy(col, stage, k4, nzp2);
    }
}

/* The next pixel after (oy, ox) in raster order. */
static inline void next_pixel(int32_t *oy, int32_t *ox, int32_t out_w)
{
    if (++*ox == out_w) {
        *ox = 0;
        ++*oy;
    }
}

void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_conv2d_s8_params *p = params;
    /* Locals, not p->...: stores through int8_t * may alias *p, so the compiler would reload. */
    const int32_t k_len = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t pairs = TQ_CONV_DSP_K4(k_len) >> 1; /* column pairs per channel */
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t out_w = p->out_w, out_c = p->out_c;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    const int16_t *weights_s16 = p->weights_s16;
    const uint8_t *const weights =
        weights_s16 != NULL ? (const uint8_t *)(const void *)weights_s16 : (const uint8_t *)p->weights;
    /* bytes per channel group: 4 channels x K2 values, int16 (speed layout) or int8 (int8 layout) */
    const int32_t w_step = (weights_s16 != NULL ? 16 : 8) * pairs;
    const int32_t *bias = p->bias;
    int16_t *const col = (int16_t *)p->scratch; /* 2 columns, TQ_CONV_DSP_COLUMN_MAX values apart */
    void (*const requant_group)(const out_stage *, int32_t, int32_t, const int32_t *, int8_t *, int8_t *) =
        p->requant_fused == 2 ? requant_group_fused_full : p->requant_fused ? requant_group_fused : requant_group_fast;
    void (*const block)(const int16_t *, const void *, int32_t, int32_t *, const int32_t *, int32_t) =
        weights_s16 != NULL ? block_4x2 : block_4x2_s8;
    out_stage o;
    int32_t px, c, oy = 0, ox = 0;
    if (k_len > TQ_CONV_DSP_COLUMN_MAX || col == NULL) {
        tq_conv2d_s8_window_portable(p, input, output);
        return;
    }
    o.multiplier = p->multiplier;
    o.shift = p->shift;
    o.zp_out = p->output_zero_point;
    o.act_min = p->act_min;
    o.act_max = p->act_max;
    for (px = 0; px < pixels; px += 2) {
        int8_t *out0 = output + px * out_c;
        int8_t *out1 = out0 + out_c;
        const uint8_t *w = weights;
        column_fill(p, input, oy, ox, nzp2, col);
        next_pixel(&oy, &ox, out_w);
        if (px + 1 < pixels) {
            column_fill(p, input, oy, ox, nzp2, col + TQ_CONV_DSP_COLUMN_MAX);
            next_pixel(&oy, &ox, out_w);
        } else { /* the last pixel alone: computed twice, written twice at the same place */
            memcpy(col + TQ_CONV_DSP_COLUMN_MAX, col, (size_t)TQ_CONV_DSP_K4(k_len) * sizeof *col);
            out1 = out0;
        }
        for (c = 0; c < out_c; c += TQ_CONV_DSP_CHUNK) { /* chunks of channels, one output stage call each */
            const int32_t n = out_c - c < TQ_CONV_DSP_CHUNK ? out_c - c : TQ_CONV_DSP_CHUNK;
            int32_t acc[2 * TQ_CONV_DSP_CHUNK];
            if (n >= 4) { /* the chunk's full channel groups in one call */
                block(col, w, pairs, acc, bias + c, n >> 2);
                w += (n >> 2) * w_step;
            }
            if (n & 3) { /* 1 to 3 channels left: the group's padding channels are computed, not written */
                int32_t b4[4] = {0, 0, 0, 0};
                memcpy(b4, bias + c + (n & ~3), (size_t)(n & 3) * sizeof *b4);
                block(col, w, pairs, acc + 2 * (n & ~3), b4, 1);
            }
            requant_group(&o, c, n, acc, out0, out1);
        }
    }
}

#endif /* TQ_USE_DSP */
