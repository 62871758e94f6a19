/*
 * tq_conv2d_s8_pws128.c - the DSP conv's path for pointwise layers whose in_c is a multiple of 128 (up to
 * TQ_CONV_DSP_COLUMN_MAX) in speed builds, published as tq_conv2d_s8_pws128: tq_conv_dsp.h's pws quad block for
 * in_c 128, its pair block with 32 column pairs unrolled per iteration, K / 64 iterations per channel group (any K,
 * and in_c 128's pixels after its quads), and a block for the last pixel alone of an odd pixel count (see
 * tq_conv_dsp.h, "The pws paths", for the method, the weights' records, the conditions and the in-place contract).
 * The generator ships this file, and sets params->dsp_path = &tq_conv2d_s8_pws128 under TQ_USE_DSP, only for speed
 * builds with such a layer (tinyqat/codegen/layouts.py, conv_dsp_path), so other builds do not link it. Cores
 * without the DSP extension compile nothing here.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP

/* The pair block with 32 column pairs per iteration (tq_conv_dsp.h, TQ_PWS_LOOP_BLOCK). */
__attribute__((naked, noinline)) static void pws_block128(TQ_ASM_ARG const int8_t *src0,
                                                          TQ_ASM_ARG const int8_t *src1, TQ_ASM_ARG int32_t nzp2,
                                                          TQ_ASM_ARG const tq_pws_job *job)
{
    __asm__ volatile(TQ_PWS_LOOP_BLOCK("32"));
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
        TQ_PWS_LOOP_COLUMNS
        "ldr.w r4, [r1]\n\t"
        "ldr.w r6, [r1, #4]\n\t"
        "ldr.w r8, [r1, #8]\n\t"
        "ldr.w r10, [r1, #12]\n\t"
        "add r1, r1, #16\n"
        "2:\n\t"
        ".set tq_pws_j, 0\n\t"
        ".rept 32\n\t"
        TQ_PWS1_PAIR("tq_pws_j")
        ".set tq_pws_j, tq_pws_j + 1\n\t"
        ".endr\n\t"
        "add r1, r1, #512\n\t"
        "add r0, r0, #128\n\t"
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
    tq_pws_run(p, input, output, p->in_c == 128 ? pws_quad128 : NULL, pws_block128, pws_block128_1);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_pws128 = {pws128, NULL};

#endif /* TQ_USE_DSP */
