/*
 * tq_conv2d_s8_pws128.c - the DSP conv's path for pointwise layers whose in_c is a multiple of 128 (up to
 * TQ_CONV_DSP_COLUMN_MAX) in speed builds, published as tq_conv2d_s8_pws128: tq_conv_dsp.h's pws quad block for
 * in_c 128, a pair block with 64 column pairs unrolled per iteration, K / 128 iterations per channel group (any K,
 * and in_c 128's pixels after its quads), and a block for the last pixel alone of an odd pixel count (see tq_conv_dsp.h, "The
 * pws paths", for the method, the weights' records, the conditions and the in-place contract). The generator ships
 * this file, and sets params->dsp_path = &tq_conv2d_s8_pws128 under TQ_USE_DSP, only for speed builds with such a
 * layer (tinyqat/codegen/layouts.py, conv_dsp_path), so other builds do not link it. Cores without the DSP
 * extension compile nothing here.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP

/* The looped blocks' start: both columns in a loop of 16 values of each pixel (r12 advanced by 32 bytes), [sp, #12]
 * the columns' start and [sp, #16] pixel 0's column end; then the group loop's label 0. */
#define TQ_PWS128_COLUMNS                                                                         \
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
 * The columns (TQ_PWS128_COLUMNS); per group: its biases copied to both pixels' accumulators (r1 then advanced to the
 * weights), then per iteration 64 pairs (r1 advanced by 1024 bytes, r0 by 256) until r0 is at the column end, r0 back
 * at the columns' start, the output stage.
 */
__attribute__((naked, noinline)) static void pws_block128(TQ_ASM_ARG const int8_t *src0,
                                                          TQ_ASM_ARG const int8_t *src1, TQ_ASM_ARG int32_t nzp2,
                                                          TQ_ASM_ARG const tq_pws_job *job)
{
    __asm__ volatile(
        TQ_PWS128_COLUMNS
        TQ_PWS_BIASES
        "add r1, r1, #16\n\t"
        "mov r4, r5\n\t"
        "mov r6, r7\n\t"
        "mov r8, r9\n\t"
        "mov r10, r11\n"
        "2:\n\t"
        TQ_PWS_PAIRS("0", "64", "0")
        "add r1, r1, #1024\n\t"
        "add r0, r0, #256\n\t"
        "ldr r2, [sp, #16]\n\t"
        "cmp r0, r2\n\t"
        "bne 2b\n\t"
        "ldr r0, [sp, #12]\n\t"
        TQ_PWS_GROUP_END("0")
        TQ_PWS_EXIT);
}

/* Pair J of pws_block128_1 (one pixel: its column word at r0 + 4 J, the 4 weight words at r1 + 16 J; accumulators
 * r4, r6, r8, r10): five pipelined loads, 4 SMLADs (10 estimated cycles for 8 MACs, against 16 for the pair block
 * computing the pixel twice). */
#define TQ_PWS1_PAIR(J)                                                                           \
    "ldr.w r2, [r0, #(4 * (" J "))]\n\t"                                                          \
    "ldr.w r12, [r1, #(16 * (" J "))]\n\t"                                                        \
    "ldr.w lr, [r1, #(16 * (" J ") + 4)]\n\t"                                                     \
    "ldr.w r3, [r1, #(16 * (" J ") + 8)]\n\t"                                                     \
    "ldr.w r5, [r1, #(16 * (" J ") + 12)]\n\t"                                                    \
    "smlad r4, r2, r12, r4\n\t"                                                                  \
    "smlad r6, r2, lr, r6\n\t"                                                                   \
    "smlad r8, r2, r3, r8\n\t"                                                                   \
    "smlad r10, r2, r5, r10\n\t"

/* Channel C's accumulator A (pixel 0 alone): (q, K, e) from the table at r1 (lr scratch). */
#define TQ_PWS1_OUT_CHANNEL(A, C)                                                                 \
    TQ_PWS_LOAD_QKE("0", C)                                                                       \
    TQ_REQUANT_FUSED2_FOLDED_ASM(A, "r2", "r3", "r12", "lr") "\t"

/*
 * pws_block128_1: pws_block128 for the last pixel alone (odd pixel count; the job's out1 is out0 and is not read):
 * pixel 0's column only (the same loop, pixel 1's column the same values, stored and not read), per group the biases
 * to r4, r6, r8, r10, TQ_PWS1_PAIR per pair, the output stage of the 4 accumulators and their 4 bytes stored.
 */
__attribute__((naked, noinline)) static void pws_block128_1(TQ_ASM_ARG const int8_t *src0,
                                                            TQ_ASM_ARG const int8_t *src1, TQ_ASM_ARG int32_t nzp2,
                                                            TQ_ASM_ARG const tq_pws_job *job)
{
    __asm__ volatile(
        TQ_PWS128_COLUMNS
        "ldr.w r4, [r1]\n\t"
        "ldr.w r6, [r1, #4]\n\t"
        "ldr.w r8, [r1, #8]\n\t"
        "ldr.w r10, [r1, #12]\n\t"
        "add r1, r1, #16\n"
        "2:\n\t"
        ".set tq_pws_j, 0\n\t"
        ".rept 64\n\t"
        TQ_PWS1_PAIR("tq_pws_j")
        ".set tq_pws_j, tq_pws_j + 1\n\t"
        ".endr\n\t"
        "add r1, r1, #1024\n\t"
        "add r0, r0, #256\n\t"
        "ldr r2, [sp, #16]\n\t"
        "cmp r0, r2\n\t"
        "bne 2b\n\t"
        "ldr r0, [sp, #12]\n\t"
        TQ_PWS1_OUT_CHANNEL("r4", "0") TQ_PWS1_OUT_CHANNEL("r6", "1")
        TQ_PWS1_OUT_CHANNEL("r8", "2") TQ_PWS1_OUT_CHANNEL("r10", "3")
        "ldr r2, [sp]\n\t"
        "add r1, r1, #48\n\t"
        "strb r6, [r2, #1]\n\t"
        "strb r8, [r2, #2]\n\t"
        "strb r10, [r2, #3]\n\t"
        "strb r4, [r2], #4\n\t"
        "ldr r12, [sp, #8]\n\t"
        "str r2, [sp]\n\t"
        "cmp r1, r12\n\t"
        "bne 0b\n\t"
        TQ_PWS_EXIT);
}

/* The quad block for K = 128 (tq_conv_dsp.h, TQ_PWS_QUAD). */
__attribute__((naked, noinline)) static void pws_quad128(TQ_ASM_ARG const int8_t *src, TQ_ASM_ARG const int8_t *stop,
                                                         TQ_ASM_ARG int32_t nzp2, TQ_ASM_ARG const tq_pws_job *job)
{
    __asm__ volatile(TQ_PWS_QUAD("128"));
}

/* in_c 128: pws_quad128 for the groups of four pixels; then (any multiple of 128: every pixel) pws_block128 per pair,
 * the last pixel alone (odd count) by pws_block128_1. */
static void pws128(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t first = p->in_c == 128 ? tq_pws_run_quads(p, input, output, pws_quad128) : 0;
    tq_pws_run(p, input, output, first, pws_block128, pws_block128_1);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_pws128 = {pws128, NULL};

#endif /* TQ_USE_DSP */
