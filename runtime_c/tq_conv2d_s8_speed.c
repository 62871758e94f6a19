/*
 * tq_conv2d_s8_speed.c - the DSP conv's code for the int16 speed layout (tinyqat build --optimize speed), published as
 * tq_conv2d_s8_speed (tq_conv_dsp.h, struct tq_conv2d_s8_speed_blocks):
 * - block_4x2: tq_conv_dsp.h's TQ_CONV_BLOCK64 assembly with TQ_CONV_PAIR (64 pairs of 56 code bytes per loop;
 *   weights pre-extended to int16, no SXTB16; 16 estimated cycles per 16 MACs);
 * - block_4x2_x2 (published as tq_conv2d_s8_speed_x2, bias_scale 2): the same loop over doubled weights, for
 *   layers whose every channel group runs the output stage in the block: no doubling shift there, no sums path;
 * - pixel_run_of: for layers with in_c a multiple of 16 and stride_w < kernel_w, pixel_run_pairs, tq_conv2d_s8's
 *   pixel loop (tq_conv_dsp.h, tq_conv_pixel_loop) where a pixel pair (ox, ox + 1) of one output row whose windows
 *   lie inside the input's width (with stride_w 1, or one of them has one tap outside it) gets both columns from
 *   column_pair_rows: each input value of the two windows' rows converted once (column_pair, assembly), zeros for
 *   rows and taps outside the input.
 * The generator ships this file, and sets params->speed_blocks = &tq_conv2d_s8_speed, only for packages with a layer
 * in the speed layout that no path of its own runs whole (tq_kernels.h, dsp_path), so a default build neither
 * compiles nor links it. Cores without the DSP extension compile
 * nothing here (their packages read the int8 weights).
 */
#include "tq_conv_dsp.h"
#include "tq_dsp.h"
#include <string.h>

#if TQ_USE_DSP
__attribute__((naked, noinline)) static void block_4x2(TQ_ASM_ARG const int16_t *col, TQ_ASM_ARG const void *w,
                                                       TQ_ASM_ARG int32_t pairs, TQ_ASM_ARG block_job *job)
{
    __asm__ volatile(TQ_CONV_BLOCK64(TQ_CONV_PAIR, 56));
}

/* One channel's two doubled sums A (pixel 0) and B (pixel 1) requantized (TQ_CONV_OUT_CHANNEL without the
 * doubling): (q, K, e) to r2, r3, r12 from the table at r0 (advanced), lr scratch. */
#define TQ_CONV_OUT_CHANNEL_X2(A, B)                                                              \
    "ldm r0!, {r2, r3, r12}\n"                                                                   \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A, "r2", "r3", "r12", "lr")                                      \
    TQ_REQUANT_FUSED2_FOLDED_ASM(B, "r2", "r3", "r12", "lr") "\t"

/* block_4x2_x2's start of a channel group: the biases to both pixels' accumulators (table at r0, advanced; the
 * pointer kept at [sp, #12]), r0 = the column start, then the jump to the loop's entry. Written out at the first
 * group and after each group's output stage (no branch back to a shared copy: one taken branch per group). */
#define TQ_X2_GROUP_START                                                                         \
    TQ_CONV_GROUP_BIASES                                                                         \
    "ldr r0, [sp, #8]\n\t"                                                                       \
    "ldr pc, [sp, #4]\n\t"

/*
 * block_4x2_x2: TQ_CONV_BLOCK64's block for the doubled speed layout (tq_conv2d_s8_speed_x2: weights 2 w and
 * table biases 2 b, so the sums are the output stage's acc2 = 2 acc with no shift; layers with requant_fused 2
 * whose every channel group runs through the output-stage table, tinyqat/codegen/layouts.py speed_doubled):
 * always the output stage (job->acc is not read), the same registers and stack locals as TQ_CONV_BLOCK_BODY
 * ([sp] and [sp, #28] unused; the table's end read with the output pointers, one pipelined load), at most 64
 * pairs (K4 <= 128, the rule's bound): one pass through the 64 pairs entered at pair 64 - pairs, no loop back.
 */
__attribute__((naked, noinline)) static void block_4x2_x2(TQ_ASM_ARG const int16_t *col, TQ_ASM_ARG const void *w,
                                                          TQ_ASM_ARG int32_t pairs, TQ_ASM_ARG block_job *job)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #32\n\t"
        "sub r1, r1, #4\n\t"
        "rsb r12, r2, #64\n\t"
        "mov lr, #56\n\t"
        "mul r12, r12, lr\n\t"
        "adr.w lr, 1f\n\t"
        "add r12, r12, lr\n\t"
        "orr r12, r12, #1\n\t"
        "str r12, [sp, #4]\n\t"
        "str r0, [sp, #8]\n\t"
        "ldr r0, [r3, #0]\n\t"
        "ldr r2, [r3, #12]\n\t"
        "add r2, r0, r2, lsl #6\n\t"
        "str r2, [sp, #16]\n\t"
        "ldr r2, [r3, #4]\n\t"
        "ldr r12, [r3, #8]\n\t"
        "str r2, [sp, #20]\n\t"
        "str r12, [sp, #24]\n\t"
        TQ_X2_GROUP_START
        ".p2align 2\n"
        "1:\n\t"
        TQ_CONV_PAIRS32(TQ_CONV_PAIR) TQ_CONV_PAIRS32(TQ_CONV_PAIR)
        "ldr r0, [sp, #12]\n\t"
        TQ_CONV_OUT_CHANNEL_X2("r4", "r5") TQ_CONV_OUT_CHANNEL_X2("r6", "r7")
        TQ_CONV_OUT_CHANNEL_X2("r8", "r9") TQ_CONV_OUT_CHANNEL_X2("r10", "r11")
        "ldr r2, [sp, #20]\n\t"
        "ldr r3, [sp, #24]\n\t"
        "ldr r12, [sp, #16]\n\t"
        TQ_CONV_STORE_PAIR
        "str r2, [sp, #20]\n\t"
        "str r3, [sp, #24]\n\t"
        "cmp r0, r12\n\t"
        "beq 9f\n\t"
        TQ_X2_GROUP_START
        "9:\n\t"
        "add sp, sp, #32\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* r4-r11 = 0 (a zero region's stores). */
#define TQ_PAIR_ZERO8                                                                             \
    "mov r4, #0\n\t"                                                                              \
    "mov r5, #0\n\t"                                                                              \
    "mov r6, #0\n\t"                                                                              \
    "mov r7, #0\n\t"                                                                              \
    "mov r8, #0\n\t"                                                                              \
    "mov r9, #0\n\t"                                                                              \
    "mov r10, #0\n\t"                                                                             \
    "mov r11, #0\n\t"

/*
 * column_pair: r0 = src, r1 = col (pixel 0's column; pixel 1's TQ_CONV_DSP_COL1 bytes later), r2 = nzp2, r3 =
 * geometry: a, b, skip, rows (>= 1), mode (copied to the stack: [sp] .. [sp, #16]; [sp, #12] counts the rows
 * down). Per window row (pixel 1's window row starts a values after pixel 0's; a + b values per window row), the
 * a + b + a values of both windows' rows in three regions, each input byte converted once, 16 at a time: the
 * first a to pixel 0's column only (zeros instead, mode bit 0: that window's tap outside the input, src then
 * starts at the second region), the next b to both columns (pixel 1's from its row start), the last a to pixel
 * 1's only (zeros instead, mode bit 1); then src += skip (to the next row's first byte read). a and b are
 * multiples of 16, at least 16. The row's two column rows follow the previous row's, so r1 runs along pixel 0's
 * column; lr keeps pixel 1's row start, then pixel 0's next row start.
 */
__attribute__((naked, noinline)) static void column_pair(TQ_ASM_ARG const int8_t *src, TQ_ASM_ARG int16_t *col,
                                                         TQ_ASM_ARG int32_t nzp2, TQ_ASM_ARG const int32_t *geometry)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #24\n\t"
        "ldm r3, {r4-r8}\n\t"
        "stm sp, {r4-r8}\n"
        "0:\n\t"
        "ldr r12, [sp]\n\t"
        "add lr, r1, #" TQ_STR(TQ_CONV_DSP_COL1) "\n\t"
        "ldr r3, [sp, #16]\n\t"
        "tst r3, #1\n\t"
        "bne 4f\n\t"
        "add r12, r0, r12\n"
        "1:\n\t"
        TQ_PAIR_CONVERT16
        TQ_PAIR_STORE32("r1")
        "cmp r0, r12\n\t"
        "bne 1b\n"
        "5:\n\t"
        "ldr r12, [sp, #4]\n\t"
        "add r12, r0, r12\n\t"
        "mov r3, lr\n"
        "2:\n\t"
        TQ_PAIR_CONVERT16
        TQ_PAIR_STORE32("r1")
        TQ_PAIR_STORE32("r3")
        "cmp r0, r12\n\t"
        "bne 2b\n\t"
        "mov lr, r1\n\t"
        "mov r1, r3\n\t"
        "ldr r12, [sp]\n\t"
        "ldr r3, [sp, #16]\n\t"
        "tst r3, #2\n\t"
        "bne 6f\n\t"
        "add r12, r0, r12\n"
        "3:\n\t"
        TQ_PAIR_CONVERT16
        TQ_PAIR_STORE32("r1")
        "cmp r0, r12\n\t"
        "bne 3b\n"
        "7:\n\t"
        "mov r1, lr\n\t"
        "ldr r12, [sp, #8]\n\t"
        "add r0, r0, r12\n\t"
        "ldr r12, [sp, #12]\n\t"
        "subs r12, r12, #1\n\t"
        "str r12, [sp, #12]\n\t"
        "bne 0b\n\t"
        "add sp, sp, #24\n\t"
        "pop {r4-r11, pc}\n"
        "4:\n\t"
        "add r12, r1, r12, lsl #1\n\t"
        TQ_PAIR_ZERO8
        "8:\n\t"
        TQ_PAIR_STORE32("r1")
        "cmp r1, r12\n\t"
        "bne 8b\n\t"
        "b 5b\n"
        "6:\n\t"
        "add r12, r1, r12, lsl #1\n\t"
        TQ_PAIR_ZERO8
        "9:\n\t"
        TQ_PAIR_STORE32("r1")
        "cmp r1, r12\n\t"
        "bne 9b\n\t"
        "b 7b\n\t");
}

/* tq_conv_pair_fn: column_pair over the window rows inside the input, ky in [ky_lo, ky_hi), zeros (the padding's
 * values) in the others; with stride_w == 1 a window may have its first tap (pixel 0) or its last (pixel 1) outside
 * the input's width (x0 = -1, or x0 + kernel_w + 1 > in_w, x0 = pixel 0's first input column, x0 * in_c = off - y0 *
 * in_w * in_c): that region of column_pair is zeros. */
static void column_pair_rows(const tq_conv2d_s8_params *p, const int8_t *input, int32_t off, int32_t y0, int16_t *col)
{
    const int32_t in_c = p->in_c, row_len = p->kernel_w * in_c, row_stride = p->in_w * in_c;
    const int32_t kernel_h = p->kernel_h, in_h = p->in_h, a = p->stride_w * in_c, b = row_len - a;
    const int32_t x0c = off - y0 * row_stride; /* x0 * in_c */
    const int32_t zero_a = x0c < 0, zero_c = x0c + row_len + a > row_stride;
    int32_t geometry[5];
    geometry[0] = a;
    geometry[1] = b;
    geometry[2] = row_stride - b - (zero_a ? 0 : a) - (zero_c ? 0 : a);
    geometry[4] = zero_a | zero_c << 1;
    if (y0 >= 0 && y0 + kernel_h <= in_h) {
        geometry[3] = kernel_h;
        column_pair(input + (off + (zero_a ? a : 0)), col, tq_dup_s16(-p->input_zero_point), geometry);
    } else {
        const int32_t ky_lo = y0 < 0 ? -y0 : 0, ky_hi = in_h - y0 < kernel_h ? in_h - y0 : kernel_h;
        int32_t ky;
        geometry[3] = ky_hi - ky_lo;
        if (ky_lo < ky_hi) {
            column_pair(input + (off + ky_lo * row_stride + (zero_a ? a : 0)), col + ky_lo * row_len,
                        tq_dup_s16(-p->input_zero_point), geometry);
        }
        for (ky = 0; ky < kernel_h; ++ky) {
            if (ky < ky_lo || ky >= ky_hi) {
                memset(col + ky * row_len, 0, (size_t)row_len * sizeof *col);
                memset(col + TQ_CONV_DSP_COLUMN_MAX + ky * row_len, 0, (size_t)row_len * sizeof *col);
            }
        }
    }
}

/* tq_conv_pixel_loop with column_pair_rows for the pixel pairs. */
static void pixel_run_pairs(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output,
                            tq_conv_inside_fn *inside, int32_t nzp2, const tq_conv_run *r, int16_t *col)
{
    tq_conv_pixel_loop(p, input, output, inside, nzp2, r, col, column_pair_rows, r->fill, r->chunks);
}

/* pixel_run_pairs for a layer with in_c a multiple of 16 and stride_w < kernel_w (what column_pair needs), else
 * NULL (tq_conv2d_s8_dsp.c's pixel_run). */
static tq_conv_pixel_run_fn *pixel_run_of(const tq_conv2d_s8_params *p)
{
    return (p->in_c & 15) == 0 && p->stride_w < p->kernel_w ? pixel_run_pairs : NULL;
}

const tq_conv2d_s8_speed_blocks tq_conv2d_s8_speed = {block_4x2, pixel_run_of, 1};
const tq_conv2d_s8_speed_blocks tq_conv2d_s8_speed_x2 = {block_4x2_x2, pixel_run_of, 2};

#endif /* TQ_USE_DSP */
