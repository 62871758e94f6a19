/*
 * tq_conv_dsp.h - internal to the DSP conv (tq_conv2d_s8_dsp.c, and tq_conv2d_s8_speed.c which packages
 * built with --optimize speed ship): the column geometry and the assembly text of its 4 x 2 blocks, shared
 * by the int8-layout blocks (tq_conv2d_s8_dsp.c) and the int16 speed-layout blocks (tq_conv2d_s8_speed.c,
 * reached through params->speed_blocks, so a default build links none of them). See tq_conv2d_s8_dsp.c
 * for the method and the layouts. At its end: the pwk paths' block and loop (tq_conv2d_s8_pw16.c, _pw32.c, _pw64.c).
 */
#ifndef TQ_CONV_DSP_H
#define TQ_CONV_DSP_H

#include "tq_kernels.h"

/* TQ_CONV_DSP_COLUMN_MAX (576) and the scratch size: tq_kernels.h. Byte offset from a pixel-0 column
 * value to the same value of pixel 1: TQ_CONV_DSP_COLUMN_MAX int16 values, written out because it is
 * an immediate of block_4x2's assembly (an LDR offset, below 4096). */
#define TQ_CONV_DSP_COL1 1152

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"
#include <stddef.h>
#include <string.h>

#define TQ_STR2(x) #x
#define TQ_STR(x) TQ_STR2(x)

/* The start of a channel group in the 4 x 2 blocks: its four biases (table at r0, advanced; the pointer kept at
 * [sp, #12]) to both pixels' accumulators, (r4, r5), (r6, r7), (r8, r9), (r10, r11). */
#define TQ_CONV_GROUP_BIASES                                                                      \
    "ldm r0!, {r4, r6, r8, r10}\n\t"                                                              \
    "str r0, [sp, #12]\n\t"                                                                       \
    "mov r5, r4\n\t"                                                                              \
    "mov r7, r6\n\t"                                                                              \
    "mov r9, r8\n\t"                                                                              \
    "mov r11, r10\n\t"

/*
 * One column pair of a 4 x 2 block, speed layout (tq_conv2d_s8_speed.c): acc(i, n) += col_n[pair] .
 * w[pair][channel i] with SMLAD for i < 4 channels, n < 2 pixels (col_1 = col_0 + TQ_CONV_DSP_COLUMN_MAX);
 * r0 = column (advanced by 4), r1 = 4 bytes before the pair's weights (advanced by 16), accumulators
 * (i, n) in r(4 + 2 i + n). Hand-scheduled (GCC cannot keep 8 accumulators, 4 operands and 2 pointers in
 * the 14 usable registers) so that only the last load of a run of loads updates its base (a load after a
 * load with base write-back is not pipelined, TRM 3.3.2): two weight words and two column words (the
 * column base advanced by the last), 4 SMLADs, two weight words (the weight base advanced by the last,
 * pre-indexed), 4 SMLADs (16 estimated cycles for 16 MACs, no separate pointer updates).
 */
#define TQ_CONV_PAIR                                                                              \
    "ldr.w r12, [r1, #4]\n\t"                                                                     \
    "ldr.w lr, [r1, #8]\n\t"                                                                      \
    "ldr.w r3, [r0, #" TQ_STR(TQ_CONV_DSP_COL1) "]\n\t"                                           \
    "ldr.w r2, [r0], #4\n\t"                                                                      \
    "smlad r4, r2, r12, r4\n\t"                                                                   \
    "smlad r5, r3, r12, r5\n\t"                                                                   \
    "smlad r6, r2, lr, r6\n\t"                                                                    \
    "smlad r7, r3, lr, r7\n\t"                                                                    \
    "ldr.w r12, [r1, #12]\n\t"                                                                    \
    "ldr.w lr, [r1, #16]!\n\t"                                                                    \
    "smlad r8, r2, r12, r8\n\t"                                                                   \
    "smlad r9, r3, r12, r9\n\t"                                                                   \
    "smlad r10, r2, lr, r10\n\t"                                                                  \
    "smlad r11, r3, lr, r11\n\t"

/*
 * TQ_CONV_PAIR for the int8 layout (both build modes; r1 = 4 bytes before the pair's weights, advanced by
 * 8): the same sums from one weight word per channel pair and column pair: SXTB16 of the word is channel
 * 2s's (w[k], w[k+1]), SXTB16 ROR #8 channel 2s + 1's. 3 pipelined loads (one weight word, two column words,
 * the last advancing the column base), 2 extends + 4 SMLADs, 1 load (advancing the weight base), 2 extends
 * + 4 SMLADs (18 estimated cycles for 16 MACs).
 */
#define TQ_CONV_PAIR_S8                                                                           \
    "ldr.w lr, [r1, #4]\n\t"                                                                      \
    "ldr.w r3, [r0, #" TQ_STR(TQ_CONV_DSP_COL1) "]\n\t"                                           \
    "ldr.w r2, [r0], #4\n\t"                                                                      \
    "sxtb16 r12, lr\n\t"                                                                          \
    "smlad r4, r2, r12, r4\n\t"                                                                   \
    "smlad r5, r3, r12, r5\n\t"                                                                   \
    "sxtb16 lr, lr, ror #8\n\t"                                                                   \
    "smlad r6, r2, lr, r6\n\t"                                                                    \
    "smlad r7, r3, lr, r7\n\t"                                                                    \
    "ldr.w lr, [r1, #8]!\n\t"                                                                     \
    "sxtb16 r12, lr\n\t"                                                                          \
    "smlad r8, r2, r12, r8\n\t"                                                                   \
    "smlad r9, r3, r12, r9\n\t"                                                                   \
    "sxtb16 lr, lr, ror #8\n\t"                                                                   \
    "smlad r10, r2, lr, r10\n\t"                                                                  \
    "smlad r11, r3, lr, r11\n\t"

/* The parameters are read by the assembly (AAPCS registers), not by C: marked unused. */
#define TQ_ASM_ARG __attribute__((unused))

/*
 * The work of a 4 x 2 block call (TQ_CONV_BLOCK_BODY, below), read (not written) by the assembly at the byte
 * offsets in the comments; "advanced" below is the assembly's own copy, from one group to the next. Each of
 * `groups` consecutive channel groups g (4 channels; the weights of a group follow the previous group's)
 * starts its 8 accumulators from 4 words at `bias` (each twice: both pixels) and runs the column pairs; then,
 * with acc == NULL (a layer with requant_fused == 2; see tq_conv2d_s8), `bias` points at the group's
 * output-stage table of TQ_CONV_TABLE_GROUP_WORDS words (its 4 biases, then (q, K, e) per channel: the
 * multiplier, tq_fused2_offset(e, zero point) and the right shift e), each accumulator is doubled and
 * requantized by TQ_REQUANT_FUSED2_FOLDED_ASM (tq_requant.h: tq_requantize_s8_fused2_folded, full int8 range,
 * e <= TQ_FUSED2_OFFSET_E_MAX) and the group's 4 bytes of each pixel are stored at out0 / out1 (advanced by 4);
 * with acc != NULL, `bias` advances by 4 words per group and the 8 sums (acc[2 i + n], channel i, pixel n) are
 * stored at acc (advanced by 8 words).
 */
typedef struct {
    const int32_t *bias; /*  0: the first group's biases or output-stage table */
    int8_t *out0;        /*  4: acc == NULL: pixel 0's byte of the group's first channel (advanced) */
    int8_t *out1;        /*  8: pixel 1's (advanced; equal to out0 for a last pixel alone) */
    int32_t groups;      /* 12: groups to run, >= 1 */
    int32_t *acc;        /* 16: NULL (requantize and store), or where the sums go (advanced) */
} block_job;

/* Compile-time checks of the offsets the assembly uses (32-bit pointers). */
typedef char tq_conv_job_out0_at_4[offsetof(block_job, out0) == 4 ? 1 : -1];
typedef char tq_conv_job_acc_at_16[offsetof(block_job, acc) == 16 ? 1 : -1];

/* Words per channel group in the output-stage table: 4 biases, 4 x (q, K, e). */
#define TQ_CONV_TABLE_GROUP_WORDS 16

/* One channel's two accumulators A (pixel 0) and B (pixel 1): (q, K, e) to r2, r3, r12 from the table at r0
 * (advanced), lr scratch. */
#define TQ_CONV_OUT_CHANNEL(A, B)                                                                 \
    "ldm r0!, {r2, r3, r12}\n\t"                                                                  \
    "lsl " A ", " A ", #1\n\t"                                                                    \
    "lsl " B ", " B ", #1\n"                                                                      \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A, "r2", "r3", "r12", "lr")                                      \
    TQ_REQUANT_FUSED2_FOLDED_ASM(B, "r2", "r3", "r12", "lr") "\t"


/* The 4 output bytes of a channel group of pixel 0 (the low bytes of r4, r6, r8, r10) at r2 and of pixel 1 (r5, r7,
 * r9, r11) at r3, both advanced by 4. */
#define TQ_CONV_STORE_PAIR                                                                        \
    "strb r6, [r2, #1]\n\t"                                                                       \
    "strb r8, [r2, #2]\n\t"                                                                       \
    "strb r10, [r2, #3]\n\t"                                                                      \
    "strb r4, [r2], #4\n\t"                                                                       \
    "strb r7, [r3, #1]\n\t"                                                                       \
    "strb r9, [r3, #2]\n\t"                                                                       \
    "strb r11, [r3, #3]\n\t"                                                                      \
    "strb r5, [r3], #4\n\t"

/* The end of a channel group in the 4 x 2 blocks: the output stage of its 8 accumulators (OUT, e.g.
 * TQ_CONV_OUT_CHANNEL: the table's constants at r0) and the 4 bytes of each pixel stored at its output pointer, kept
 * at [sp, #O0] (pixel 0) and [sp, #O1] (pixel 1) and advanced by 4. Clobbers r2, r3. */
#define TQ_CONV_GROUP_STORE_BY(OUT, O0, O1)                                                       \
    OUT("r4", "r5") OUT("r6", "r7") OUT("r8", "r9") OUT("r10", "r11")                             \
    "ldr r2, [sp, #" TQ_STR(O0) "]\n\t"                                                           \
    "ldr r3, [sp, #" TQ_STR(O1) "]\n\t"                                                           \
    TQ_CONV_STORE_PAIR                                                                            \
    "str r2, [sp, #" TQ_STR(O0) "]\n\t"                                                           \
    "str r3, [sp, #" TQ_STR(O1) "]\n\t"
#define TQ_CONV_GROUP_STORE(O0, O1) TQ_CONV_GROUP_STORE_BY(TQ_CONV_OUT_CHANNEL, O0, O1)

/*
 * The body of a 4 x 2 block function (naked; AAPCS: r0 = col, r1 = w, r2 = pairs (K4 / 2, even, >= 2),
 * r3 = job; r1 is then kept 4 bytes before the next pair's weights, the pairs' pre-indexed base) with PAIR =
 * TQ_CONV_PAIR or TQ_CONV_PAIR_S8, PAIR_BYTES its code bytes (14 and 16 instructions, each a 32-bit encoding,
 * LDR.W forced: 56 and 64; the loop is word-aligned, which also makes the section word-aligned, so the ADR of
 * its address holds wherever the linker puts the function) and LOOP = U copies of PAIR (U = 16 or 64): per group
 * (block_job), the accumulators from the biases, then all `pairs` column pairs in the loop of U pairs per
 * iteration, the first iteration entered at pair (-pairs) mod U of the loop (the entry address, computed once
 * per call, is loaded to pc: no tail code and no test before the loop; each PAIR advances r0 and r1 itself, so
 * entering late runs exactly pairs mod U pairs first), then the output stage or the sums stored. The job's
 * fields are read once into stack locals (the job is not written). Stack locals (32 bytes, below the saved
 * r4-r11, lr): [sp] the column end (col + 4 pairs), [sp, #4] the entry (Thumb address), [sp, #8] the column
 * start, [sp, #12] the bias / table pointer after the group's biases, [sp, #16] where that pointer ends (groups
 * x 16 or, with the output stage, x 64 bytes), [sp, #20] out0, [sp, #24] out1, [sp, #28] acc.
 */
#define TQ_CONV_BLOCK_BODY(PAIR, PAIR_BYTES, U, LOOP)                                             \
    "push {r4-r11, lr}\n\t"                                                                       \
    "sub sp, sp, #32\n\t"                                                                         \
    "sub r1, r1, #4\n\t"                                                                          \
    "add r12, r0, r2, lsl #2\n\t"                                                                 \
    "str r12, [sp]\n\t"                                                                           \
    "rsb r12, r2, #0\n\t"                                                                         \
    "and r12, r12, #" TQ_STR(U) " - 1\n\t"                                                        \
    "mov lr, #" TQ_STR(PAIR_BYTES) "\n\t"                                                         \
    "mul r12, r12, lr\n\t"                                                                        \
    "adr.w lr, 1f\n\t"                                                                            \
    "add r12, r12, lr\n\t"                                                                        \
    "orr r12, r12, #1\n\t"                                                                        \
    "str r12, [sp, #4]\n\t"                                                                       \
    "str r0, [sp, #8]\n\t"                                                                        \
    "ldr r0, [r3, #0]\n\t"                                                                        \
    "ldr r2, [r3, #12]\n\t"                                                                       \
    "ldr r12, [r3, #16]\n\t"                                                                      \
    "str r12, [sp, #28]\n\t"                                                                      \
    "lsl r2, r2, #4\n\t"                                                                          \
    "cmp r12, #0\n\t"                                                                             \
    "it eq\n\t"                                                                                   \
    "lsleq r2, r2, #2\n\t"                                                                        \
    "add r2, r0, r2\n\t"                                                                          \
    "str r2, [sp, #16]\n\t"                                                                       \
    "ldr r2, [r3, #4]\n\t"                                                                        \
    "ldr r12, [r3, #8]\n\t"                                                                       \
    "str r2, [sp, #20]\n\t"                                                                       \
    "str r12, [sp, #24]\n"                                                                        \
    "0:\n\t"                                                                                      \
    TQ_CONV_GROUP_BIASES                                                                          \
    "ldr r0, [sp, #8]\n\t"                                                                        \
    "ldr pc, [sp, #4]\n\t"                                                                        \
    ".p2align 2\n"                                                                                \
    "1:\n\t"                                                                                      \
    LOOP                                                                                          \
    "ldr r2, [sp]\n\t"                                                                            \
    "cmp r0, r2\n\t"                                                                              \
    "bne 1b\n\t"                                                                                  \
    "ldr r2, [sp, #28]\n\t"                                                                       \
    "ldr r0, [sp, #12]\n\t"                                                                       \
    "cmp r2, #0\n\t"                                                                              \
    "bne 7f\n\t"                                                                                  \
    TQ_CONV_GROUP_STORE(20, 24)                                                                   \
    "6:\n\t"                                                                                      \
    "ldr r2, [sp, #16]\n\t"                                                                       \
    "cmp r0, r2\n\t"                                                                              \
    "bne 0b\n\t"                                                                                  \
    "add sp, sp, #32\n\t"                                                                         \
    "pop {r4-r11, pc}\n"                                                                          \
    "7:\n\t"                                                                                      \
    "stm r2!, {r4-r11}\n\t"                                                                       \
    "str r2, [sp, #28]\n\t"                                                                       \
    "b 6b\n\t"

/* The 4 x 2 block with 16 pairs per loop iteration (int8 layout, both build modes) and with 64 (the speed
 * layout: fewer loop branches for four times the loop's code, in speed builds only). */
#define TQ_CONV_PAIRS8(PAIR) PAIR PAIR PAIR PAIR PAIR PAIR PAIR PAIR
#define TQ_CONV_PAIRS16(PAIR) TQ_CONV_PAIRS8(PAIR) TQ_CONV_PAIRS8(PAIR)
#define TQ_CONV_BLOCK16(PAIR, PAIR_BYTES) TQ_CONV_BLOCK_BODY(PAIR, PAIR_BYTES, 16, TQ_CONV_PAIRS16(PAIR))
#define TQ_CONV_PAIRS32(PAIR) TQ_CONV_PAIRS16(PAIR) TQ_CONV_PAIRS16(PAIR)
#define TQ_CONV_BLOCK64(PAIR, PAIR_BYTES)                                                         \
    TQ_CONV_BLOCK_BODY(PAIR, PAIR_BYTES, 64, TQ_CONV_PAIRS32(PAIR) TQ_CONV_PAIRS32(PAIR))

/* A 4 x 2 block function's C type (block_4x2_s8 in tq_conv2d_s8_dsp.c, block_4x2 in tq_conv2d_s8_speed.c). */
typedef void tq_conv_block_fn(const int16_t *col, const void *w, int32_t pairs, block_job *job);

/* Both columns of a pixel pair (ox, ox + 1) of one output row whose windows lie inside the input's width (with
 * stride_w 1: or one window has one tap outside it), for a layer with in_c a multiple of 16 and stride_w < kernel_w
 * (tq_conv2d_s8_speed.c, column_pair_rows): the windows' first row is input row y0 (may be negative: rows outside the
 * input are padding) and pixel 0's window would start at byte input + off. */
typedef void tq_conv_pair_fn(const tq_conv2d_s8_params *p, const int8_t *input, int32_t off, int32_t y0, int16_t *col);

typedef struct tq_conv_run tq_conv_run;

/* A column builder for a window inside the input (tq_conv2d_s8_dsp.c: column_pointwise, column_rows, column_3x3x3,
 * column_inside): src = the window's first byte. */
typedef void tq_conv_inside_fn(const tq_conv2d_s8_params *p, const int8_t *src, int32_t nzp2, int16_t *col);

/* tq_conv2d_s8's pixel loop (tq_conv_pixel_loop, below): tq_conv2d_s8_dsp.c's pixel_run, or (speed layout)
 * tq_conv2d_s8_speed.c's with pixel-pair columns. */
typedef void tq_conv_pixel_run_fn(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output,
                                  tq_conv_inside_fn *inside, int32_t nzp2, const tq_conv_run *r, int16_t *col);

/* 16 input bytes at SRC (advanced by 16; TQ_PAIR_CONVERT16: at r0) minus the zero point (r2 = its negation, twice)
 * in column order (see tq_conv2d_s8_dsp.c's file comment: the words of SXTAB16 and SXTAB16 ROR #8 of each input word) to r4-r11
 * (r4 the first word). Three loads, then the one that advances SRC (pipelined on the Cortex-M4: 5 estimated
 * cycles), 8 extends. */
#define TQ_PAIR_CONVERT16_AT(SRC)                                                                 \
    "ldr r7, [" SRC ", #4]\n\t"                                                                  \
    "ldr r9, [" SRC ", #8]\n\t"                                                                  \
    "ldr r11, [" SRC ", #12]\n\t"                                                                \
    "ldr r5, [" SRC "], #16\n\t"                                                                 \
    "sxtab16 r4, r2, r5\n\t"                                                                     \
    "sxtab16 r5, r2, r5, ror #8\n\t"                                                             \
    "sxtab16 r6, r2, r7\n\t"                                                                     \
    "sxtab16 r7, r2, r7, ror #8\n\t"                                                             \
    "sxtab16 r8, r2, r9\n\t"                                                                     \
    "sxtab16 r9, r2, r9, ror #8\n\t"                                                             \
    "sxtab16 r10, r2, r11\n\t"                                                                   \
    "sxtab16 r11, r2, r11, ror #8\n\t"
#define TQ_PAIR_CONVERT16 TQ_PAIR_CONVERT16_AT("r0")

/* r4-r11 stored at D (advanced by 32): 8 single stores, the one that advances D last. */
#define TQ_PAIR_STORE32(D)                                                                        \
    "str r5, [" D ", #4]\n\t"                                                                     \
    "str r6, [" D ", #8]\n\t"                                                                     \
    "str r7, [" D ", #12]\n\t"                                                                    \
    "str r8, [" D ", #16]\n\t"                                                                    \
    "str r9, [" D ", #20]\n\t"                                                                    \
    "str r10, [" D ", #24]\n\t"                                                                   \
    "str r11, [" D ", #28]\n\t"                                                                   \
    "str r4, [" D "], #32\n\t"

/* The int16 speed-layout block and pixel loop (tq_conv2d_s8_speed.c: tq_conv2d_s8_speed, named by the generator in
 * the params of the layers that ship weights_s16). */
struct tq_conv2d_s8_speed_blocks {
    tq_conv_block_fn *block;
    tq_conv_pixel_run_fn *(*pixel_run_of)(const tq_conv2d_s8_params *p); /* the layer's pixel loop, or NULL */
    /* 1, or 2 (tq_conv2d_s8_speed_x2: weights_s16 holds 2 w, the block needs table biases 2 b and sums 2 acc) */
    int32_t bias_scale;
};

/* The output stage of a layer: per-layer constants (tq_conv2d_s8_dsp.c's file comment). */
typedef struct {
    int32_t zp_out, act_min, act_max;
    const int32_t *multiplier, *shift;
} tq_conv_out_stage;

/* An output stage over channels c .. c + n - 1 of a block's two pixels from acc[2 * i + pixel] (i < n): out0[c + i],
 * out1[c + i] (out1 == out0 for a last pixel alone). */
typedef void tq_conv_requant_fn(const tq_conv_out_stage *o, int32_t c, int32_t n, const int32_t *acc, int8_t *out0,
                                int8_t *out1);

/* The column of a window that crosses the input's edge (tq_conv2d_s8_dsp.c, column_fill). */
typedef void tq_conv_fill_fn(const tq_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox, int32_t nzp2,
                             int16_t *col);

/* The channels c .. out_c - 1 of a pixel pair whose blocks leave their sums on the stack (tq_conv2d_s8_dsp.c,
 * chunks_run). */
typedef void tq_conv_chunks_fn(const tq_conv2d_s8_params *p, const tq_conv_out_stage *o,
                               tq_conv_requant_fn *requant_group, tq_conv_block_fn *block, const int16_t *col,
                               const uint8_t *w, int32_t w_step, int32_t pairs, int32_t c, int8_t *out0, int8_t *out1);

/* What tq_conv2d_s8 decides once per call for its pixel loop: the block and its weights (w_step bytes per channel
 * group, pairs column pairs), the q_groups first channel groups requantized in the block from table, the rest
 * by chunks with the output stage o and requant_group; fill builds the columns of windows crossing the edge. */
struct tq_conv_run {
    tq_conv_block_fn *block;
    const uint8_t *weights;
    int32_t w_step, pairs, q_groups;
    const int32_t *table;
    tq_conv_out_stage o;
    tq_conv_requant_fn *requant_group;
    tq_conv_fill_fn *fill;
    tq_conv_chunks_fn *chunks;
};

/*
 * tq_conv2d_s8's pixel loop (every layer but pointwise_run's and the dsp_path runs), inlined into its two callers:
 * per pixel pair (raster order) its two columns (`inside`, the layer's builder, for a window inside the input,
 * `fill` otherwise), one block call for the q_groups channel groups with the output stage in the block, then `chunks`
 * for the other channels. With `pair` (tq_conv2d_s8_speed.c; NULL in tq_conv2d_s8_dsp.c's copy, which then has no
 * pair test), a pair (ox, ox + 1) of one output row whose windows lie inside the input's width, or (stride_w 1)
 * whose one window has one tap outside it, gets both columns from `pair`. The last pixel alone (odd count) gets
 * pixel 0's column copied and out1 = out0 (computed twice, written twice at the same place). Each pair's windows
 * are read before its outputs are written (the in-place contract).
 */
__attribute__((always_inline)) static inline void tq_conv_pixel_loop(
    const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output, tq_conv_inside_fn *inside, int32_t nzp2,
    const tq_conv_run *r, int16_t *col, tq_conv_pair_fn *pair, tq_conv_fill_fn *fill, tq_conv_chunks_fn *chunks)
{
    const int32_t out_c = p->out_c, out_w = p->out_w, pixels = p->out_h * out_w;
    const int32_t in_w = p->in_w, in_h = p->in_h, in_c = p->in_c, kernel_h = p->kernel_h;
    const int32_t stride_h = p->stride_h, step_x = p->stride_w * in_c, pad_left = p->pad_left;
    const int32_t k4 = TQ_CONV_DSP_K4(kernel_h * p->kernel_w * in_c), q_groups = r->q_groups;
    /* the windows of ox in [ox_lo, ox_hi) lie inside the input's width */
    const int32_t ox_lo = (pad_left + p->stride_w - 1) / p->stride_w;
    const int32_t ox_hi = in_w - p->kernel_w + pad_left >= 0 ? (in_w - p->kernel_w + pad_left) / p->stride_w + 1 : 0;
    /* pixel pairs (ox, ox + 1) by `pair` for ox in [pair_lo, pair_hi) */
    const int32_t ext = p->stride_w == 1, pair_lo = ox_lo > ext ? ox_lo - ext : 0;
    const int32_t pair_hi = pair == NULL ? 0 : ox_hi - 1 + ext < out_w - 1 ? ox_hi - 1 + ext : out_w - 1;
    int32_t px, k, oy = 0, ox = 0, y0 = -p->pad_top;
    int32_t y_inside = y0 >= 0 && y0 + kernel_h <= in_h;
    int32_t off = (y0 * in_w - pad_left) * in_c; /* the window's first byte, when inside */
    block_job job;
    for (px = 0; px < pixels; px += 2) {
        int8_t *const out0 = output + px * out_c;
        int8_t *out1 = out0 + out_c;
        /* a pixel pair in one output row (ox + 1 < out_w): both columns at once */
        const int32_t both = pair != NULL && ox < pair_hi && ox >= pair_lo;
        if (both) {
            pair(p, input, off, y0, col);
        }
        for (k = 0; k < 2; ++k) {
            int16_t *const c = col + k * TQ_CONV_DSP_COLUMN_MAX;
            if (px + k == pixels) { /* the last pixel alone */
                memcpy(c, col, (size_t)k4 * sizeof *col);
                out1 = out0;
                break;
            }
            if (both) {
                /* built above */
            } else if (y_inside && ox >= ox_lo && ox < ox_hi) {
                inside(p, input + off, nzp2, c);
            } else {
                fill(p, input, oy, ox, nzp2, c);
            }
            off += step_x;
            if (++ox == out_w) {
                ox = 0;
                ++oy;
                y0 += stride_h;
                y_inside = y0 >= 0 && y0 + kernel_h <= in_h;
                off = (y0 * in_w - pad_left) * in_c;
            }
        }
        if (q_groups > 0) { /* every full group, output stage included */
            job.bias = r->table;
            job.out0 = out0;
            job.out1 = out1;
            job.groups = q_groups;
            job.acc = NULL;
            r->block(col, r->weights, r->pairs, &job);
        }
        if (4 * q_groups < out_c) {
            chunks(p, &r->o, r->requant_group, r->block, col, r->weights + q_groups * r->w_step, r->w_step, r->pairs,
                   4 * q_groups, out0, out1);
        }
    }
}

/* A DSP conv path in a runtime file of its own, which only packages with a layer that needs it ship
 * (tq_kernels.h: params->dsp_path, named by the generator): `run`, when not NULL, does the whole call
 * (tq_conv2d_s8_window.c: the portable window loop; tq_conv2d_s8_pw8.c: 8-channel pointwise layers);
 * otherwise `requant_group` is the output stage of a layer with requant_fused 0 or 1 (tq_conv2d_s8_stages.c). */
struct tq_conv2d_s8_dsp_path {
    void (*run)(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output);
    tq_conv_requant_fn *requant_group;
};

/* The output-stage table of the first `groups` full channel groups (TQ_CONV_TABLE_GROUP_WORDS words each; see
 * block_job): group g: bias_scale * bias[4g .. 4g + 3] (bias_scale 2: the doubled speed layout, whose sums arrive
 * doubled; else 1), then per channel c = 4g + i: multiplier[c], tq_fused2_offset(e, zp), e with e = -shift[c] (in
 * [1, TQ_FUSED2_OFFSET_E_MAX]: requant_fused == 2). Used by tq_conv2d_s8_dsp.c and tq_conv_first.h. */
static inline void tq_conv_table_fill(const tq_conv2d_s8_params *p, int32_t groups, int32_t bias_scale,
                                      int32_t *table)
{
    const int32_t zp = p->output_zero_point;
    int32_t g, i;
    for (g = 0; g < groups; ++g, table += TQ_CONV_TABLE_GROUP_WORDS) {
        for (i = 0; i < 4; ++i) {
            const int32_t c = 4 * g + i, e = -p->shift[c];
            table[i] = bias_scale * p->bias[c];
            table[4 + 3 * i] = p->multiplier[c];
            table[5 + 3 * i] = tq_fused2_offset(e, zp);
            table[6 + 3 * i] = e;
        }
    }
}

/* Two int16 values of a column group word: (v0, v2) and (v1, v3) of its four int8 values v minus the zero point
 * (nzp2 = (-zp, -zp)), at dst. */
__attribute__((always_inline)) static inline void tq_conv_column_word(int16_t *dst, int32_t v, int32_t nzp2)
{
    tq_store_s16x2(dst, __sxtab16(nzp2, v));
    tq_store_s16x2(dst + 2, tq_sxtab16_odd(nzp2, v));
}

/* The column of a 3 x 3 window on a 3-channel input that lies inside the input (the usual first layer; K = 27,
 * K4 = 28), without staging: rows a, b, c of 9 bytes rs apart from src, any alignment; each group word is read from
 * a row or, where a group spans two rows, put together from a byte or halfword of one and the start of the next:
 * (a0-a3), (a4-a7), (a8, b0-b2), (b3-b6), (b7, b8, c0, c1), (c2-c5), (c6, c7, c8, zero point); zp_hi = the input
 * zero point << 24 (the 28th value, which the zero weight of the padded K4 multiplies). */
__attribute__((always_inline)) static inline void tq_conv_column_3x3x3(const int8_t *src, int32_t rs, int32_t nzp2,
                                                                       uint32_t zp_hi, int16_t *col)
{
    const int8_t *const b = src + rs, *const c = b + rs;
    uint16_t b78;
    memcpy(&b78, b + 7, sizeof b78);
    tq_conv_column_word(col, tq_load_s8x4(src), nzp2);
    tq_conv_column_word(col + 4, tq_load_s8x4(src + 4), nzp2);
    tq_conv_column_word(col + 8, (int32_t)((uint32_t)(uint8_t)src[8] | ((uint32_t)tq_load_s8x4(b) << 8)), nzp2);
    tq_conv_column_word(col + 12, tq_load_s8x4(b + 3), nzp2);
    tq_conv_column_word(col + 16, (int32_t)((uint32_t)b78 | ((uint32_t)tq_load_s8x4(c) << 16)), nzp2);
    tq_conv_column_word(col + 20, tq_load_s8x4(c + 2), nzp2);
    tq_conv_column_word(col + 24, (int32_t)(((uint32_t)tq_load_s8x4(c + 5) >> 8) | zp_hi), nzp2);
}

/*
 * The pwk paths (tq_conv2d_s8_pw16.c, _pw32.c, _pw64.c: tq_conv2d_s8_pw16 / pw32 / pw64), each in a runtime file
 * of its own that the generator ships only for default (size) builds with such a layer (tinyqat/codegen/layouts.py,
 * conv_dsp_path): pointwise convs with in_c = K = 16, 32 or 64 (MobileNet's and DS-CNN's 1 x 1 layers), the paths'
 * layers (the generator's choice): a 1 x 1 window, strides 1, no padding, out_h = in_h, out_w = in_w,
 * requant_fused == 2, out_c a multiple of 4 whose output-stage table (tq_conv_table_fill with bias_scale 2,
 * TQ_CONV_TABLE_GROUP_WORDS words per channel group) fits the scratch. The int8 weight layout of tq_conv2d_s8_dsp.c
 * (K4 = K, P = K / 2 column pairs).
 *
 * Per pixel pair (raster order; the last pixel alone computed twice and written twice at the same place), one call
 * of the path's block, a naked function fully unrolled for its P: the two columns on its own stack, doubled
 * (2 (x - input_zero_point), in column order: SXTAB16 / SXTAB16 ROR #8 of each input word, then SADD16 with itself;
 * |2 (x - zp)| <= 510 fits int16), so every SMLAD sum is 2 acc from the doubled table biases, exactly the input of
 * TQ_REQUANT_FUSED2_FOLDED_ASM (no doubling shift per accumulator). Then per channel group of 4: its biases to
 * r5, r7, r9, r11 and the first pair's SMLADs accumulate onto them (no moves), the P pairs with the columns read
 * sp-relative (immediate offsets, no column pointer: two weight words per pair, all four loads of a pair pipelined,
 * 17 estimated cycles per 16 MACs against the general block's 18), the output stage from the table and the 4 bytes
 * of each pixel stored. The sums equal the general block's doubled (the same integers, see tq_conv2d_s8_dsp.c on
 * the accumulation order; |2 acc| < 2^31 is what requant_fused == 2 guarantees).
 * In-place contract (tq_kernels.h): a pair's input bytes are all read (the columns) before any of its outputs is
 * written, pairs in raster order, as in tq_conv2d_s8_dsp.c's pointwise loop.
 * Stack: a block's frame is 36 + 16 + 4 K bytes (116, 180, 308), which GCC's -fstack-usage does not see in a naked
 * function (tinyqat bench's stack figure reads it from the instructions, as the 4 x 2 blocks' 68).
 */

/* The block's work (read by the assembly at the byte offsets in the comments; not written). */
typedef struct {
    const int8_t *weights; /*  0: the int8-layout weights */
    const int32_t *table;  /*  4: the output-stage table, doubled biases */
    const int32_t *end;    /*  8: the table's end (out_c / 4 groups) */
    int8_t *out0;          /* 12: pixel 0's first output byte */
    int8_t *out1;          /* 16: pixel 1's (equal to out0 for a last pixel alone) */
} tq_pwk_job;

typedef char tq_pwk_job_out1_at_16[offsetof(tq_pwk_job, out1) == 16 ? 1 : -1];

/* Stack locals of the block below the saved registers: [sp] the table pointer after the group's biases, [sp, #4]
 * out0, [sp, #8] out1 (both advanced by 4 per group), [sp, #12] the table's end; the columns from TQ_PWK_C0 (pixel 0)
 * and TQ_PWK_C0 + 2 K (pixel 1). */
#define TQ_PWK_C0 16

/*
 * Column pair J (an assembler expression) of a group: weights at r1 + 8 J + 4 (r1 = 4 bytes before the group's
 * weights), columns at sp + C0 + 4 J (pixel 0) and sp + C1 + 4 J (pixel 1); S0, S2, S4, S6: the registers the
 * pixel-0 SMLADs accumulate onto (r4, r6, r8, r10; the group's first pair: the biases r5, r7, r9, r11); WB: "!" on
 * the group's last pair (the last load advances r1 to 4 bytes before the next group's weights), else "".
 */
#define TQ_PWK_PAIR(J, C1, S0, S2, S4, S6, WB)                                                     \
    "ldr.w r3, [sp, #(" C1 " + 4 * (" J "))]\n\t"                                                 \
    "ldr.w r2, [sp, #(" TQ_STR(TQ_PWK_C0) " + 4 * (" J "))]\n\t"                                  \
    "ldr.w r0, [r1, #(8 * (" J ") + 4)]\n\t"                                                      \
    "ldr.w lr, [r1, #(8 * (" J ") + 8)]" WB "\n\t"                                                \
    "sxtb16 r12, r0\n\t"                                                                          \
    "smlad r4, r2, r12, " S0 "\n\t"                                                               \
    "smlad r5, r3, r12, r5\n\t"                                                                   \
    "sxtb16 r0, r0, ror #8\n\t"                                                                   \
    "smlad r6, r2, r0, " S2 "\n\t"                                                                \
    "smlad r7, r3, r0, r7\n\t"                                                                    \
    "sxtb16 r12, lr\n\t"                                                                          \
    "smlad r8, r2, r12, " S4 "\n\t"                                                               \
    "smlad r9, r3, r12, r9\n\t"                                                                   \
    "sxtb16 lr, lr, ror #8\n\t"                                                                   \
    "smlad r10, r2, lr, " S6 "\n\t"                                                               \
    "smlad r11, r3, lr, r11\n\t"
#define TQ_PWK_MID(J, C1) TQ_PWK_PAIR(J, C1, "r4", "r6", "r8", "r10", "")
#define TQ_PWK_MID2(J, C1) TQ_PWK_MID(J, C1) TQ_PWK_MID(J "+1", C1)
#define TQ_PWK_MID6(J, C1) TQ_PWK_MID2(J, C1) TQ_PWK_MID2(J "+2", C1) TQ_PWK_MID2(J "+4", C1)
#define TQ_PWK_MID8(J, C1) TQ_PWK_MID2(J, C1) TQ_PWK_MID6(J "+2", C1)
/* A block's P pairs: the first (onto the biases), the P - 2 of MIDS (TQ_PWK_MID), the last, its last load advancing
 * r1 by 8 P (WB "!", TAIL ""; P = 32: WB "" and TAIL an ADD, the write-back's offset being at most 255). */
#define TQ_PWK_PAIRS(LAST, C1, MIDS, WB, TAIL)                                                     \
    TQ_PWK_PAIR("0", C1, "r5", "r7", "r9", "r11", "") MIDS TQ_PWK_PAIR(LAST, C1, "r4", "r6", "r8", "r10", WB) TAIL

/* 16 input bytes at SRC (advanced) converted and doubled (2 (x - zp), r2 = (-zp, -zp)) to sp + OFF .. OFF + 31. */
#define TQ_PWK_COLUMN16(SRC, OFF)                                                                  \
    TQ_PAIR_CONVERT16_AT(SRC)                                                                     \
    "sadd16 r4, r4, r4\n\t"                                                                       \
    "sadd16 r5, r5, r5\n\t"                                                                       \
    "sadd16 r6, r6, r6\n\t"                                                                       \
    "sadd16 r7, r7, r7\n\t"                                                                       \
    "sadd16 r8, r8, r8\n\t"                                                                       \
    "sadd16 r9, r9, r9\n\t"                                                                       \
    "sadd16 r10, r10, r10\n\t"                                                                    \
    "sadd16 r11, r11, r11\n\t"                                                                    \
    "str r4, [sp, #(" OFF ")]\n\t"                                                                \
    "str r5, [sp, #(" OFF " + 4)]\n\t"                                                            \
    "str r6, [sp, #(" OFF " + 8)]\n\t"                                                            \
    "str r7, [sp, #(" OFF " + 12)]\n\t"                                                           \
    "str r8, [sp, #(" OFF " + 16)]\n\t"                                                           \
    "str r9, [sp, #(" OFF " + 20)]\n\t"                                                           \
    "str r10, [sp, #(" OFF " + 24)]\n\t"                                                          \
    "str r11, [sp, #(" OFF " + 28)]\n\t"

/* One channel's accumulators A, B (2 acc of pixels 0, 1): (q, K, e) from the table at r0 (advanced). */
#define TQ_PWK_OUT_CHANNEL(A, B)                                                                  \
    "ldm r0!, {r2, r3, r12}\n"                                                                    \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A, "r2", "r3", "r12", "lr")                                      \
    TQ_REQUANT_FUSED2_FOLDED_ASM(B, "r2", "r3", "r12", "lr") "\t"

/*
 * The block body for P column pairs (K = 2 P values per column), FRAME = TQ_PWK_C0 + 4 K stack bytes, C1 = the
 * string of pixel 1's column offset, COLUMNS: both columns built (pixel 1's, then pixel 0's), PAIRS: the group's
 * pairs. AAPCS: r0 = pixel 0's input, r1 = pixel 1's, r2 = (-zp, -zp), r3 = the job (tq_pwk_job).
 */
#define TQ_PWK_BLOCK(FRAME, COLUMNS, PAIRS)                                                       \
    "push {r4-r11, lr}\n\t"                                                                       \
    "sub sp, sp, #" FRAME "\n\t"                                                                  \
    COLUMNS                                                                                       \
    "ldr r1, [r3, #0]\n\t"                                                                        \
    "ldr r0, [r3, #4]\n\t"                                                                        \
    "ldr r12, [r3, #8]\n\t"                                                                       \
    "ldr r2, [r3, #12]\n\t"                                                                       \
    "ldr lr, [r3, #16]\n\t"                                                                       \
    "sub r1, r1, #4\n\t"                                                                          \
    "str r12, [sp, #12]\n\t"                                                                      \
    "str r2, [sp, #4]\n\t"                                                                        \
    "str lr, [sp, #8]\n"                                                                          \
    "0:\n\t"                                                                                      \
    "ldm r0!, {r5, r7, r9, r11}\n\t"                                                              \
    "str r0, [sp]\n\t"                                                                            \
    PAIRS                                                                                         \
    "ldr r0, [sp]\n\t"                                                                            \
    TQ_CONV_GROUP_STORE_BY(TQ_PWK_OUT_CHANNEL, 4, 8)                                              \
    "ldr r2, [sp, #12]\n\t"                                                                       \
    "cmp r0, r2\n\t"                                                                              \
    "bne 0b\n\t"                                                                                  \
    "add sp, sp, #" FRAME "\n\t"                                                                  \
    "pop {r4-r11, pc}\n\t"

typedef void tq_pwk_block_fn(const int8_t *src0, const int8_t *src1, int32_t nzp2, const tq_pwk_job *job);

/* A pwk path's whole call with `block` (in_c = 2 * its P): the table at the start of the scratch, then a block call per
 * pixel pair. */
__attribute__((always_inline)) static inline void tq_pwk_run(const tq_conv2d_s8_params *p, const int8_t *input,
                                                              int8_t *output, tq_pwk_block_fn *block)
{
    const int32_t in_c = p->in_c, out_c = p->out_c, pixels = p->out_h * p->out_w;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    int32_t *const table = (int32_t *)p->scratch;
    int32_t px;
    tq_pwk_job job;
    tq_conv_table_fill(p, out_c >> 2, 2, table);
    job.weights = p->weights;
    job.table = table;
    job.end = table + TQ_CONV_TABLE_GROUP_WORDS * (out_c >> 2);
    for (px = 0; px < pixels; px += 2) {
        const int8_t *const s0 = input + px * in_c;
        const int32_t two = px + 1 < pixels;
        job.out0 = output + px * out_c;
        job.out1 = two ? job.out0 + out_c : job.out0;
        block(s0, two ? s0 + in_c : s0, nzp2, &job);
    }
}

/*
 * The pws paths (tq_conv2d_s8_pws16.c, _pws32.c, _pws64.c: in_c = K = 16, 32, 64; tq_conv2d_s8_pws128.c: K a
 * multiple of 128), which the generator ships only for speed builds with such a layer (tinyqat/codegen/layouts.py,
 * conv_dsp_path and pws_records): the pwk paths' layers (a 1 x 1 window, strides 1, no padding, out_h = in_h,
 * out_w = in_w, requant_fused == 2, out_c a multiple of 4) in the speed layout, with the output-stage table in the
 * weights: params->weights_s16 holds, per channel group g of 4 (TQ_PWS_GROUP_HALVES(K) int16 values, read as words
 * by LDR, which allows any 2-byte alignment of the array: little-endian words, low half first), the group's doubled
 * biases 2 bias[4g + i] (4 int32), its doubled speed-layout weights 2 w (tq_conv2d_s8_dsp.c, K / 2 column pairs of
 * 4 words: the words of pair j are channel 4g + i's (2 w[perm[2j]], 2 w[perm[2j + 1]]), i < 4), then the output
 * stage's words of tq_conv_table_fill channel by channel in three rows, q[4g + i], K[4g + i], e[4g + i] (i < 4; 12
 * int32, TQ_PWS_LOAD_QKE), so that a record's channels 2, 3 are at its channels 0, 1 + 8 bytes in every part. The e
 * words of channels 1 and 3 also carry the quad blocks' record step above bit 8 (the ASRs read only an e word's low
 * byte): channel 1's e + 2^9 8 (from half 0 to half 1), channel 3's e + 2^9 (64 + 8 K - 8) (to the next record) +
 * 2^8 on the last record. Nothing is filled per call and no table bounds the channels.
 *
 * Pixels in raster order: pws16/32/64 and pws128 with in_c 128 first run every group of four pixels in one call of
 * a quad block (TQ_PWS_QUAD, below, which loops over them); then (pws128 with other K: every pixel) one call of the
 * pair block (TQ_PWS_LOOP_BLOCK) per pair; the last pixel alone of an odd count by pws128's one-pixel block, else by
 * the pair block (computed twice, written twice at the same place). Per pixel pair the pair block builds both
 * columns (x - input_zero_point in column order, TQ_PAIR_CONVERT16) in the scratch (pixel 0's at params->scratch,
 * pixel 1's TQ_CONV_DSP_COL1 bytes on), r0 at the columns and r1 at the group's record. Per group: the biases to
 * r5, r7, r9, r11 and copied to r4, r6, r8, r10; the column pairs (two column words, four weight words, 8 SMLADs;
 * 16 estimated cycles per 16 MACs), P pairs per iteration (pws16/32/64: 4, pws128: 32; K / (2 P) iterations, r0
 * and r1 advanced, r0 set back after the last); each SMLAD sum is 2 acc from the doubled biases and weights,
 * exactly the input of TQ_REQUANT_FUSED2_FOLDED_ASM (no doubling shift), |2 acc| < 2^31 by requant_fused == 2 (the
 * same integers as tq_conv2d_s8_dsp.c's blocks, see its accumulation order); then the output stage from the
 * record's (q, K, e) and the 4 bytes of each pixel stored.
 * In-place contract (tq_kernels.h): a pair's (quad's) input bytes are all read (the columns) before any of its
 * outputs is written, in raster order. Stack: 36 + 40 bytes per quad block, 36 + 24 per pair or one-pixel block
 * (naked: not seen by -fstack-usage; tinyqat bench reads it from the instructions).
 */

/* int16 values per channel group of a pws layer's weights_s16: 8 (biases) + 4 K (weights) + 24 ((q, K, e) x 4). */
#define TQ_PWS_GROUP_HALVES(k) (32 + 4 * (k))

/* The block's work (read by the assembly at the byte offsets in the comments; not written). */
typedef struct {
    const int16_t *records; /*  0: the first group's record (params->weights_s16) */
    const int16_t *end;     /*  4: the records' end (out_c / 4 groups) */
    int8_t *out0;           /*  8: pixel 0's first output byte */
    int8_t *out1;           /* 12: pixel 1's (equal to out0 for a last pixel alone) */
    int16_t *col;           /* 16: pixel 0's column (params->scratch) */
    int32_t k;              /* 20: K = in_c */
} tq_pws_job;

typedef char tq_pws_job_k_at_20[offsetof(tq_pws_job, k) == 20 ? 1 : -1];

/*
 * Column pair J (an assembler expression) with the weights at r1 + WO + 16 J (4 words, channels 0 to 3), the columns
 * at r0 + 4 J (pixel 0) and r0 + TQ_CONV_DSP_COL1 + 4 J (pixel 1); S0, S2, S4, S6: the registers the pixel-0 SMLADs
 * accumulate onto (r4, r6, r8, r10, or the biases r5, r7, r9, r11 on a group's first pair). Four pipelined loads, 4
 * SMLADs, two loads, 4 SMLADs: 16 estimated cycles.
 */
#define TQ_PWS_PAIR(J, WO, S0, S2, S4, S6)                                                         \
    "ldr.w r12, [r1, #(" WO " + 16 * (" J "))]\n\t"                                               \
    "ldr.w lr, [r1, #(" WO " + 16 * (" J ") + 4)]\n\t"                                            \
    "ldr.w r3, [r0, #(" TQ_STR(TQ_CONV_DSP_COL1) " + 4 * (" J "))]\n\t"                           \
    "ldr.w r2, [r0, #(4 * (" J "))]\n\t"                                                          \
    "smlad r4, r2, r12, " S0 "\n\t"                                                               \
    "smlad r5, r3, r12, r5\n\t"                                                                   \
    "smlad r6, r2, lr, " S2 "\n\t"                                                                \
    "smlad r7, r3, lr, r7\n\t"                                                                    \
    "ldr.w r12, [r1, #(" WO " + 16 * (" J ") + 8)]\n\t"                                           \
    "ldr.w lr, [r1, #(" WO " + 16 * (" J ") + 12)]\n\t"                                           \
    "smlad r8, r2, r12, " S4 "\n\t"                                                               \
    "smlad r9, r3, r12, r9\n\t"                                                                   \
    "smlad r10, r2, lr, " S6 "\n\t"                                                               \
    "smlad r11, r3, lr, r11\n\t"

/* Pairs FIRST .. FIRST + N - 1 (assembler expressions) accumulating onto r4, r6, r8, r10 (assembler repetition). */
#define TQ_PWS_PAIRS(FIRST, N, WO)                                                                 \
    ".set tq_pws_j, " FIRST "\n\t"                                                                \
    ".rept " N "\n\t"                                                                             \
    TQ_PWS_PAIR("tq_pws_j", WO, "r4", "r6", "r8", "r10")                                          \
    ".set tq_pws_j, tq_pws_j + 1\n\t"                                                             \
    ".endr\n\t"

/* The biases of the group at r1 to r5, r7, r9, r11 (four pipelined loads). */
#define TQ_PWS_BIASES                                                                             \
    "ldr.w r5, [r1]\n\t"                                                                          \
    "ldr.w r7, [r1, #4]\n\t"                                                                      \
    "ldr.w r9, [r1, #8]\n\t"                                                                      \
    "ldr.w r11, [r1, #12]\n\t"

/* Channel C's output-stage words (q, K, e) of the record's table at r1 + T (rows of 4 words) to r2, r3, r12. */
#define TQ_PWS_LOAD_QKE(T, C)                                                                     \
    "ldr.w r2, [r1, #(" T " + 4 * " C ")]\n\t"                                                     \
    "ldr.w r3, [r1, #(" T " + 16 + 4 * " C ")]\n\t"                                                \
    "ldr.w r12, [r1, #(" T " + 32 + 4 * " C ")]\n"

/* Channel C's accumulators A, B (2 acc of pixels 0, 1): (q, K, e) from the table at r1 + T (lr scratch). */
#define TQ_PWS_OUT_CHANNEL(A, B, T, C)                                                            \
    TQ_PWS_LOAD_QKE(T, C)                                                                         \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A, "r2", "r3", "r12", "lr")                                      \
    TQ_REQUANT_FUSED2_FOLDED_ASM(B, "r2", "r3", "r12", "lr") "\t"

/* The end of a group: the output stage from the table at r1 + OFF, r1 advanced past it, the 4 bytes of
 * each pixel stored at out0 ([sp]) and out1 ([sp, #4]), both advanced by 4, and the loop back to 0: while r1 is not
 * the records' end ([sp, #8]). */
#define TQ_PWS_GROUP_END(OFF)                                                                     \
    TQ_PWS_OUT_CHANNEL("r4", "r5", OFF, "0") TQ_PWS_OUT_CHANNEL("r6", "r7", OFF, "1")              \
    TQ_PWS_OUT_CHANNEL("r8", "r9", OFF, "2") TQ_PWS_OUT_CHANNEL("r10", "r11", OFF, "3")            \
    "ldr r2, [sp]\n\t"                                                                            \
    "ldr r3, [sp, #4]\n\t"                                                                        \
    "ldr r12, [sp, #8]\n\t"                                                                       \
    "add r1, r1, #(" OFF " + 48)\n\t"                                                             \
    TQ_CONV_STORE_PAIR                                                                            \
    "str r2, [sp]\n\t"                                                                            \
    "str r3, [sp, #4]\n\t"                                                                        \
    "cmp r1, r12\n\t"                                                                             \
    "bne 0b\n\t"

/* 16 input bytes of pixel 1 (r1) and of pixel 0 (r0), both advanced, converted (r2 = (-zp, -zp)) to the columns at
 * r12 + OFF + 32 c (pixel 0) and r12 + TQ_CONV_DSP_COL1 + OFF (pixel 1). */
#define TQ_PWS_COLUMN16(OFF)                                                                      \
    TQ_PAIR_CONVERT16_AT("r1")                                                                    \
    "str r4, [r12, #(" TQ_STR(TQ_CONV_DSP_COL1) " + " OFF ")]\n\t"                                \
    "str r5, [r12, #(" TQ_STR(TQ_CONV_DSP_COL1) " + " OFF " + 4)]\n\t"                            \
    "str r6, [r12, #(" TQ_STR(TQ_CONV_DSP_COL1) " + " OFF " + 8)]\n\t"                            \
    "str r7, [r12, #(" TQ_STR(TQ_CONV_DSP_COL1) " + " OFF " + 12)]\n\t"                           \
    "str r8, [r12, #(" TQ_STR(TQ_CONV_DSP_COL1) " + " OFF " + 16)]\n\t"                           \
    "str r9, [r12, #(" TQ_STR(TQ_CONV_DSP_COL1) " + " OFF " + 20)]\n\t"                           \
    "str r10, [r12, #(" TQ_STR(TQ_CONV_DSP_COL1) " + " OFF " + 24)]\n\t"                          \
    "str r11, [r12, #(" TQ_STR(TQ_CONV_DSP_COL1) " + " OFF " + 28)]\n\t"                          \
    TQ_PAIR_CONVERT16_AT("r0")                                                                    \
    "str r4, [r12, #(" OFF ")]\n\t"                                                               \
    "str r5, [r12, #(" OFF " + 4)]\n\t"                                                           \
    "str r6, [r12, #(" OFF " + 8)]\n\t"                                                           \
    "str r7, [r12, #(" OFF " + 12)]\n\t"                                                          \
    "str r8, [r12, #(" OFF " + 16)]\n\t"                                                          \
    "str r9, [r12, #(" OFF " + 20)]\n\t"                                                          \
    "str r10, [r12, #(" OFF " + 24)]\n\t"                                                         \
    "str r11, [r12, #(" OFF " + 28)]\n\t"

/* The block start: registers saved, 24 bytes of locals ([sp] out0, [sp, #4] out1, [sp, #8] the records' end, [sp, #12]
 * the columns, [sp, #16] pixel 0's column end), r12 = the columns (job->col). AAPCS: r0 = pixel 0's input, r1 = pixel
 * 1's, r2 = (-zp, -zp), r3 = the job (tq_pws_job). */
#define TQ_PWS_ENTRY                                                                              \
    "push {r4-r11, lr}\n\t"                                                                       \
    "sub sp, sp, #24\n\t"                                                                         \
    "ldr r12, [r3, #16]\n\t"

/* After the columns: r0 = the columns, r1 = the first record, the locals from the job (r3). */
#define TQ_PWS_LOCALS                                                                             \
    "ldr r0, [r3, #16]\n\t"                                                                       \
    "ldr r1, [r3, #0]\n\t"                                                                        \
    "ldr r2, [r3, #4]\n\t"                                                                        \
    "ldr r12, [r3, #8]\n\t"                                                                       \
    "ldr lr, [r3, #12]\n\t"                                                                       \
    "str r2, [sp, #8]\n\t"                                                                        \
    "str r12, [sp]\n\t"                                                                           \
    "str lr, [sp, #4]\n\t"

#define TQ_PWS_EXIT                                                                               \
    "add sp, sp, #24\n\t"                                                                         \
    "pop {r4-r11, pc}\n\t"

/* The pair and one-pixel blocks' start (tq_pws_block_fn): both columns in a loop of 16 values of each pixel (r12
 * advanced by 32 bytes, until r0 is at pixel 0's input end: r0 + K), [sp, #12] the columns' start and [sp, #16]
 * pixel 0's column end; then the group loop's label 0. */
#define TQ_PWS_LOOP_COLUMNS                                                                       \
    TQ_PWS_ENTRY                                                                                  \
    "ldr lr, [r3, #20]\n\t"                                                                       \
    "add lr, r0, lr\n"                                                                            \
    "1:\n\t"                                                                                      \
    TQ_PWS_COLUMN16("0")                                                                          \
    "add r12, r12, #32\n\t"                                                                       \
    "cmp r0, lr\n\t"                                                                              \
    "bne 1b\n\t"                                                                                  \
    "str r12, [sp, #16]\n\t"                                                                      \
    TQ_PWS_LOCALS                                                                                 \
    "str r0, [sp, #12]\n"                                                                         \
    "0:\n\t"

/*
 * The pair block with P (a string) column pairs per iteration (K a multiple of 2 P; tq_pws_block_fn: r0, r1 = the
 * two pixels' inputs, r2 = (-zp, -zp), r3 = the job): the columns (TQ_PWS_LOOP_COLUMNS); per group its biases copied
 * to both pixels' accumulators (r1 then advanced to the weights), per iteration P pairs (r1 advanced by 16 P bytes,
 * r0 by 4 P) until r0 is at the column end, r0 back at the columns' start, the output stage.
 */
#define TQ_PWS_LOOP_BLOCK(P)                                                                      \
    TQ_PWS_LOOP_COLUMNS                                                                           \
    TQ_PWS_BIASES                                                                                 \
    "add r1, r1, #16\n\t"                                                                         \
    "mov r4, r5\n\t"                                                                              \
    "mov r6, r7\n\t"                                                                              \
    "mov r8, r9\n\t"                                                                              \
    "mov r10, r11\n"                                                                              \
    "2:\n\t"                                                                                      \
    TQ_PWS_PAIRS("0", P, "0")                                                                     \
    "add r1, r1, #(16 * " P ")\n\t"                                                               \
    "add r0, r0, #(4 * " P ")\n\t"                                                                \
    "ldr r2, [sp, #16]\n\t"                                                                       \
    "cmp r0, r2\n\t"                                                                              \
    "bne 2b\n\t"                                                                                  \
    "ldr r0, [sp, #12]\n\t"                                                                       \
    TQ_PWS_GROUP_END("0")                                                                         \
    TQ_PWS_EXIT

/*
 * The quad blocks (TQ_PWS_QUAD, K <= TQ_PWS_QUAD_K_MAX): four pixels per step, each 4-channel record run as two
 * halves of 2 channels x 4 pixels (channel 2h + i, pixel n in r(4 + 4 i + n)), so each (q, K, e) load serves four
 * outputs instead of two. The four columns in the scratch at 0, 2 K, 4 K and 6 K bytes (8 K bytes: within
 * TQ_CONV2D_S8_BUFFER_SIZE for K <= 192). One body (TQ_PWQ_HALF) runs both halves: r1 at the record + 8 h, where
 * half h's biases, weight words and table words are at the offsets of half 0's (the record's layout); the body's
 * last e word (channel 2h + 1's) steps r1 to the next half and ends the loop on the last record. Pair J: the weight
 * words of channels 2h, 2h + 1 at r1 + 16 + 16 J (+ 4), the columns' words at r0 + 4 J + 2 K n; two weight and two
 * column loads, 4 SMLADs, two column loads, 4 SMLADs (16 estimated cycles per 16 MACs). The first pair accumulates
 * onto the biases in r7 and r11 (written last).
 */
#define TQ_PWS_QUAD_K_MAX 192

#define TQ_PWQ_PAIR(J, K, WO, A4, A5, A6, A8, A9, A10)                                             \
    "ldr.w r12, [r1, #(" WO " + 16 * (" J "))]\n\t"                                               \
    "ldr.w lr, [r1, #(" WO " + 16 * (" J ") + 4)]\n\t"                                            \
    "ldr.w r2, [r0, #(4 * (" J "))]\n\t"                                                          \
    "ldr.w r3, [r0, #(2 * (" K ") + 4 * (" J "))]\n\t"                                            \
    "smlad r4, r2, r12, " A4 "\n\t"                                                               \
    "smlad r8, r2, lr, " A8 "\n\t"                                                                \
    "smlad r5, r3, r12, " A5 "\n\t"                                                               \
    "smlad r9, r3, lr, " A9 "\n\t"                                                                \
    "ldr.w r2, [r0, #(4 * (" K ") + 4 * (" J "))]\n\t"                                            \
    "ldr.w r3, [r0, #(6 * (" K ") + 4 * (" J "))]\n\t"                                            \
    "smlad r6, r2, r12, " A6 "\n\t"                                                               \
    "smlad r10, r2, lr, " A10 "\n\t"                                                              \
    "smlad r7, r3, r12, r7\n\t"                                                                   \
    "smlad r11, r3, lr, r11\n\t"

/* Channel C's four accumulators A0..A3 (pixels 0 to 3): (q, K, e) from the table at r1 + T (lr scratch). */
#define TQ_PWQ_OUT_CHANNEL(A0, A1, A2, A3, T, C)                                                  \
    TQ_PWS_LOAD_QKE(T, C)                                                                         \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A0, "r2", "r3", "r12", "lr")                                     \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A1, "r2", "r3", "r12", "lr")                                     \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A2, "r2", "r3", "r12", "lr")                                     \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A3, "r2", "r3", "r12", "lr") "\t"

/* The half at r1 (TQ_PWS_QUAD): its two biases, the K / 2 pairs, the output stage, r1 stepped by its last e word
 * (the flags from its bit 8: Z clear after the last record's half 1), the 2 bytes of each of the four pixels stored at
 * [sp] (advanced by 2) + n out_c ([sp, #4] = out_c; three row pointers first, no store waits for its address), and
 * the loop back to 0 unless it was the last half. Every instruction 32-bit (at 0, word-aligned: none straddles a
 * word). */
#define TQ_PWQ_HALF(K)                                                                            \
    "ldr.w r7, [r1]\n\t"                                                                          \
    "ldr.w r11, [r1, #4]\n\t"                                                                     \
    TQ_PWQ_PAIR("0", K, "16", "r7", "r7", "r7", "r11", "r11", "r11")                              \
    ".set tq_pws_j, 1\n\t"                                                                        \
    ".rept (" K ") / 2 - 1\n\t"                                                                   \
    TQ_PWQ_PAIR("tq_pws_j", K, "16", "r4", "r5", "r6", "r8", "r9", "r10")                          \
    ".set tq_pws_j, tq_pws_j + 1\n\t"                                                             \
    ".endr\n\t"                                                                                   \
    TQ_PWQ_OUT_CHANNEL("r4", "r5", "r6", "r7", "16 + 8 * (" K ")", "0")                           \
    TQ_PWQ_OUT_CHANNEL("r8", "r9", "r10", "r11", "16 + 8 * (" K ")", "1")                         \
    "tst r12, #256\n\t"                                                                           \
    "add r1, r1, r12, lsr #9\n\t"                                                                 \
    "ldr.w r2, [sp]\n\t"                                                                          \
    "ldr.w r3, [sp, #4]\n\t"                                                                      \
    "add r12, r2, r3\n\t"                                                                         \
    "add lr, r2, r3, lsl #1\n\t"                                                                  \
    "add r3, r12, r3, lsl #1\n\t"                                                                 \
    "strb.w r8, [r2, #1]\n\t"                                                                     \
    "strb.w r4, [r2], #2\n\t"                                                                     \
    "strb r5, [r12]\n\t"                                                                          \
    "strb r9, [r12, #1]\n\t"                                                                      \
    "strb r6, [lr]\n\t"                                                                           \
    "strb r10, [lr, #1]\n\t"                                                                      \
    "strb r7, [r3]\n\t"                                                                           \
    "strb r11, [r3, #1]\n\t"                                                                      \
    "str.w r2, [sp]\n\t"                                                                          \
    "beq.w 0b\n\t"

/* 16 input bytes of r1 and of r0 (both advanced) converted (r2 = (-zp, -zp)) to r12 + O1 and r12 + O0. */
#define TQ_PWQ_COLUMN16(O0, O1)                                                                   \
    TQ_PAIR_CONVERT16_AT("r1")                                                                    \
    "str r4, [r12, #(" O1 ")]\n\t"                                                                \
    "str r5, [r12, #(" O1 " + 4)]\n\t"                                                            \
    "str r6, [r12, #(" O1 " + 8)]\n\t"                                                            \
    "str r7, [r12, #(" O1 " + 12)]\n\t"                                                           \
    "str r8, [r12, #(" O1 " + 16)]\n\t"                                                           \
    "str r9, [r12, #(" O1 " + 20)]\n\t"                                                           \
    "str r10, [r12, #(" O1 " + 24)]\n\t"                                                          \
    "str r11, [r12, #(" O1 " + 28)]\n\t"                                                          \
    TQ_PAIR_CONVERT16_AT("r0")                                                                    \
    "str r4, [r12, #(" O0 ")]\n\t"                                                                \
    "str r5, [r12, #(" O0 " + 4)]\n\t"                                                            \
    "str r6, [r12, #(" O0 " + 8)]\n\t"                                                            \
    "str r7, [r12, #(" O0 " + 12)]\n\t"                                                           \
    "str r8, [r12, #(" O0 " + 16)]\n\t"                                                           \
    "str r9, [r12, #(" O0 " + 20)]\n\t"                                                           \
    "str r10, [r12, #(" O0 " + 24)]\n\t"                                                          \
    "str r11, [r12, #(" O0 " + 28)]\n\t"

/* Two pixels' columns: K input bytes at r0 and at r1 (the next pixel: r0's end), both advanced by K, converted to
 * r12 + O0 and r12 + O1 (r12 kept): for K up to 32 unrolled, else 32 bytes of each pixel per iteration (lr = r0's
 * end, r12 advanced by 64, then set back). */
#define TQ_PWQ_COLUMNS(K, O0, O1)                                                                 \
    ".if (" K ") <= 32\n\t"                                                                       \
    ".set tq_pws_c, 0\n\t"                                                                        \
    ".rept (" K ") / 16\n\t"                                                                      \
    TQ_PWQ_COLUMN16(O0 " + tq_pws_c", O1 " + tq_pws_c")                                           \
    ".set tq_pws_c, tq_pws_c + 32\n\t"                                                            \
    ".endr\n\t"                                                                                   \
    ".else\n\t"                                                                                   \
    "mov lr, r1\n"                                                                                \
    "1:\n\t"                                                                                      \
    TQ_PWQ_COLUMN16(O0, O1)                                                                       \
    TQ_PWQ_COLUMN16(O0 " + 32", O1 " + 32")                                                       \
    "add r12, r12, #64\n\t"                                                                       \
    "cmp r0, lr\n\t"                                                                              \
    "bne 1b\n\t"                                                                                  \
    "sub r12, r12, #(2 * (" K "))\n\t"                                                            \
    ".endif\n\t"

/*
 * The quad block for K (a string; a multiple of 16, at most TQ_PWS_QUAD_K_MAX) with its loop over groups of four
 * pixels (tq_pws_loop_fn: r0 = the first quad's input, r1 = stop, the input after the last quad): per quad the four
 * columns, then the records' halves (TQ_PWQ_HALF, until the last record's flag), then the next quad (input 4 K bytes
 * on, outputs 4 out_c bytes on, out_c = job->out1 - job->out0). Locals (40 bytes): [sp] the half's output,
 * [sp, #4] out_c, [sp, #12] the next quad's input, [sp, #16] stop, [sp, #20] (-zp, -zp), [sp, #24] the records,
 * [sp, #28] the columns, [sp, #32] the quad's output.
 */
#define TQ_PWS_QUAD(K)                                                                            \
    "push {r4-r11, lr}\n\t"                                                                       \
    "sub sp, sp, #40\n\t"                                                                         \
    "str r1, [sp, #16]\n\t"                                                                       \
    "str r2, [sp, #20]\n\t"                                                                       \
    "ldm r3, {r1, r4, r5, r6, r7}\n\t"                                                            \
    "sub r6, r6, r5\n\t"                                                                          \
    "str r1, [sp, #24]\n\t"                                                                       \
    "str r5, [sp, #32]\n\t"                                                                       \
    "str r6, [sp, #4]\n\t"                                                                        \
    "str r7, [sp, #28]\n"                                                                         \
    "3:\n\t"                                                                                      \
    "ldr r12, [sp, #28]\n\t"                                                                      \
    "add r1, r0, #(" K ")\n\t"                                                                    \
    TQ_PWQ_COLUMNS(K, "0", "2 * (" K ")")                                                         \
    "mov r0, r1\n\t"                                                                              \
    "add r1, r1, #(" K ")\n\t"                                                                    \
    TQ_PWQ_COLUMNS(K, "4 * (" K ")", "6 * (" K ")")                                               \
    "str r1, [sp, #12]\n\t"                                                                       \
    "ldr r0, [sp, #28]\n\t"                                                                       \
    "ldr r1, [sp, #24]\n\t"                                                                       \
    "ldr r2, [sp, #32]\n\t"                                                                       \
    "str r2, [sp]\n\t"                                                                            \
    ".p2align 2\n"                                                                                \
    "0:\n\t"                                                                                      \
    TQ_PWQ_HALF(K)                                                                                \
    "ldr r2, [sp, #32]\n\t"                                                                       \
    "ldr r3, [sp, #4]\n\t"                                                                        \
    "ldr r0, [sp, #12]\n\t"                                                                       \
    "ldr r12, [sp, #16]\n\t"                                                                      \
    "add r2, r2, r3, lsl #2\n\t"                                                                  \
    "str r2, [sp, #32]\n\t"                                                                       \
    "ldr r2, [sp, #20]\n\t"                                                                       \
    "cmp r0, r12\n\t"                                                                             \
    "bne 3b\n\t"                                                                                  \
    "add sp, sp, #40\n\t"                                                                         \
    "pop {r4-r11, pc}\n\t"

typedef void tq_pws_block_fn(const int8_t *src0, const int8_t *src1, int32_t nzp2, const tq_pws_job *job);

typedef void tq_pws_loop_fn(const int8_t *src, const int8_t *stop, int32_t nzp2, const tq_pws_job *job);

/* A pws path's whole call: with `quad` (a TQ_PWS_QUAD block, or NULL for none) every group of four pixels (raster
 * order) in one call of it; then a `block` call per remaining pixel pair, the last pixel alone (odd count) by `lone`
 * (src1 = src0, out1 = out0: the same job, one pixel). */
__attribute__((always_inline)) static inline void tq_pws_run(const tq_conv2d_s8_params *p, const int8_t *input,
                                                              int8_t *output, tq_pws_loop_fn *quad,
                                                              tq_pws_block_fn *block, tq_pws_block_fn *lone)
{
    const int32_t in_c = p->in_c, out_c = p->out_c, pixels = p->out_h * p->out_w;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    int32_t px = 0;
    tq_pws_job job;
    job.records = p->weights_s16;
    job.end = p->weights_s16 + TQ_PWS_GROUP_HALVES(in_c) * (out_c >> 2);
    job.col = (int16_t *)p->scratch;
    job.k = in_c;
    if (quad != NULL && pixels >= 4) {
        px = pixels & ~3;
        job.out0 = output;
        job.out1 = output + out_c;
        quad(input, input + px * in_c, nzp2, &job);
    }
    for (; px < pixels; px += 2) {
        const int8_t *const s0 = input + px * in_c;
        const int32_t two = px + 1 < pixels;
        job.out0 = output + px * out_c;
        job.out1 = two ? job.out0 + out_c : job.out0;
        (two ? block : lone)(s0, two ? s0 + in_c : s0, nzp2, &job);
    }
}

#endif /* TQ_USE_DSP */
#endif /* TQ_CONV_DSP_H */
