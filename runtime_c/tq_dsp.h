/*
 * tq_dsp.h - helpers of the kernels for cores with the DSP extension (tq_*_s8_dsp.c).
 *
 * Compiled only when TQ_USE_DSP (tq_kernels.h: __ARM_FEATURE_DSP defined, as on Cortex-M4, M7 and
 * M33 with DSP, and TQ_PORTABLE not) is 1; elsewhere this header is empty and the portable
 * tq_*_s8.c files are used. Uses ACLE intrinsics from <arm_acle.h>; GCC 12 has no __ror and does
 * not fold a rotate into SXTB16 / SXTAB16, so the two rotated forms are one instruction of inline asm.
 *
 * Lane notation: a 32-bit word holds int8 bytes (b0, b1, b2, b3) (b0 lowest) or int16
 * halves (h0, h1) (h0 lowest). SMLAD(a, b, acc) = acc + a.h0 * b.h0 + a.h1 * b.h1.
 * Unaligned words are read with memcpy (one LDR: Armv7E-M / Armv8-M allow unaligned LDR).
 */
#ifndef TQ_DSP_H
#define TQ_DSP_H

#include "tq_kernels.h"

#if TQ_USE_DSP
#include <arm_acle.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * For the innermost block functions: not inlined, and (GCC) not rescheduled, so the loads of a
 * step stay next to each other as written (on the Cortex-M4 a load right after a load takes one
 * cycle, two otherwise; GCC's scheduler interleaves them with the multiplies).
 */
#if defined(__GNUC__) && !defined(__clang__)
#define TQ_DSP_BLOCK __attribute__((noinline, optimize("no-schedule-insns", "no-schedule-insns2")))
#else
#define TQ_DSP_BLOCK __attribute__((noinline))
#endif

/* Four int8 values from any address as one word (b0 = p[0]). */
static inline int32_t tq_load_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Two int16 values from any address as one word (h0 = p[0]). */
static inline int32_t tq_load_s16x2(const int16_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Store word v as two int16 values (p[0] = h0). */
static inline void tq_store_s16x2(int16_t *p, int32_t v)
{
    memcpy(p, &v, sizeof v);
}

/* (b1, b3) sign-extended to (h0, h1): SXTB16 with ROR #8 (the even bytes are __sxtb16). */
static inline int32_t tq_sxtb16_odd(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* a + (b1, b3) sign-extended, lane by lane (16-bit wrap): SXTAB16 with ROR #8. */
static inline int32_t tq_sxtab16_odd(int32_t a, int32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

/* (lo.h0, hi.h0): PKHBT lo, hi, LSL #16 (GCC 12 does not form it from shifts and masks). */
static inline int32_t tq_pkhbt(int32_t lo, int32_t hi)
{
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

/* (lo.h1, hi.h1): PKHTB hi, lo, ASR #16. */
static inline int32_t tq_pkhtb(int32_t lo, int32_t hi)
{
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

/* The int16 value v in both halves: (v, v). */
static inline int32_t tq_dup_s16(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFFFu) | ((uint32_t)v << 16));
}

/*
 * The DSP fully connected kernels' assembly steps (tq_fully_connected_s8_general.c's fc_groups and
 * tq_fully_connected_s8_rows8.c; the pair layout and the method are in tq_fully_connected_s8_general.c's comment):
 * a group of 8 rows (4 pairs) with the input at r0, the weights at r1, (S, R) of the pairs in r4-r11;
 * r2, r3, r12 and lr are scratch. TQ_FC_OUT needs tq_requant.h.
 */

/* A number as text for the assembly. */
#define TQ_FC_STR2(x) #x
#define TQ_FC_STR(x) TQ_FC_STR2(x)

/* Byte offsets of tq_fully_connected_s8_params' fields that the FC paths' assembly reads (32-bit pointers; in_features
 * at 0, out_features at 4). */
#define TQ_FC_OFF_OUTPUT_ZP 12
#define TQ_FC_OFF_RECORDS 64
typedef char tq_fc_in_at_0[offsetof(tq_fully_connected_s8_params, in_features) == 0 ? 1 : -1];
typedef char tq_fc_out_at_4[offsetof(tq_fully_connected_s8_params, out_features) == 4 ? 1 : -1];
typedef char tq_fc_zp_at[offsetof(tq_fully_connected_s8_params, output_zero_point) == TQ_FC_OFF_OUTPUT_ZP ? 1 : -1];
typedef char tq_fc_records_at[offsetof(tq_fully_connected_s8_params, records) == TQ_FC_OFF_RECORDS ? 1 : -1];
/* Pair (S, R) of a step: r2 = x02, r3 = x13, r12 / lr = the pair's two weight words (extended here). */
#define TQ_FC_PAIR(S, R)                                                                           \
    "smlad " R ", r2, r12, " R "\n\t"                                                             \
    "sxtb16 r12, r12\n\t"                                                                         \
    "smlad " S ", r2, r12, " S "\n\t"                                                             \
    "smlad " R ", r3, lr, " R "\n\t"                                                              \
    "sxtb16 lr, lr\n\t"                                                                           \
    "smlad " S ", r3, lr, " S "\n\t"

/* Pair p's two weight words of the step at r1 + K * 32 (immediate offsets, no write-back: on the Cortex-M4 the
 * second load then pipelines with the first, which a load updating its base register would prevent). */
#define TQ_FC_W2(K, OFF0, OFF1)                                                                    \
    "ldr r12, [r1, #(32 * " K " + " OFF0 ")]\n\t" "ldr lr, [r1, #(32 * " K " + " OFF1 ")]\n\t"

/* Step K of an iteration: its input word at r0 + 4 * K, its weights at r1 + 32 * K (the iteration advances r0 and r1
 * once, immediate offsets keep every load pipelined); (S, R) of pairs 0-3 in (r4, r5) ... (r10, r11). Every
 * instruction is 32-bit, so a step is TQ_FC_STEP_BYTES long (fc_groups enters its loop at a step). */
#define TQ_FC_STEP_BYTES 140
#define TQ_FC_STEP(K)                                                                              \
    "ldr.w r2, [r0, #(4 * " K ")]\n\t" TQ_FC_W2(K, "0", "4")                                        \
    "sxtb16 r3, r2, ror #8\n\t"                                                                   \
    "sxtb16 r2, r2\n\t"                                                                           \
    TQ_FC_PAIR("r4", "r5") TQ_FC_W2(K, "8", "12") TQ_FC_PAIR("r6", "r7") TQ_FC_W2(K, "16", "20")  \
    TQ_FC_PAIR("r8", "r9") TQ_FC_W2(K, "24", "28") TQ_FC_PAIR("r10", "r11")

/* Fused output stage of one channel (tq_requant.h, tq_requantize_s8_fused_ssat2 of 2 * acc): acc in A, the
 * channel's requant_dsp pair (q, e - 1) loaded from [r1] (post-incremented), r0 = 2 * zp + 1; the int8 result
 * in A. Clobbers r3, r12, lr. */
#define TQ_FC_OUT(A)                                                                               \
    "ldrd r3, r12, [r1], #8\n\t"                                                                  \
    "lsl " A ", " A ", #1\n\t" TQ_REQUANT_FUSED_SSAT2_ASM(A, "r3", "r12", "lr", "r0")
/* TQ_FC_OUT of the 8 accumulators r4-r11, in that order. */
#define TQ_FC_OUT8                                                                                 \
    TQ_FC_OUT("r4") TQ_FC_OUT("r5") TQ_FC_OUT("r6") TQ_FC_OUT("r7")                               \
    TQ_FC_OUT("r8") TQ_FC_OUT("r9") TQ_FC_OUT("r10") TQ_FC_OUT("r11")

/* The int8 results in the low bytes of r4-r7 as one word in r4 (r4's byte first), and of r8-r11 in r8. */
#define TQ_PACK_R4                                                                                 \
    "bfi r4, r5, #8, #8\n\t"                                                                      \
    "bfi r4, r6, #16, #8\n\t"                                                                     \
    "bfi r4, r7, #24, #8\n\t"
#define TQ_PACK_R8                                                                                 \
    "bfi r8, r9, #8, #8\n\t"                                                                      \
    "bfi r8, r10, #16, #8\n\t"                                                                    \
    "bfi r8, r11, #24, #8\n\t"


/* Fused output stages of two channels (the short paths: tq_requant.h's TQ_REQUANT_FUSED_SSAT2_EZ_ASM): the doubled
 * sums in A and B, their records' words (q, em1 + 256 * zp2) of both loaded from [r1] (post-incremented); the int8
 * results in A and B. Clobbers r0, r2, r3, r12 and lr. */
#define TQ_FC_OUT2(A, B)                                                                           \
    "ldm r1!, {r0, r2, r3, r12}\n\t"                                                              \
    TQ_REQUANT_FUSED_SSAT2_EZ_ASM(A, "r0", "r2", "lr") TQ_REQUANT_FUSED_SSAT2_EZ_ASM(B, "r3", "r12", "lr")

/*
 * The rows8 routine's groups (tq_fully_connected_s8_rows8.c, _rows8p.c; records in its layout, steps TQ_FC_STEP).
 * The records start with a header the generator computes (tinyqat/codegen/layouts.py, fc_rows8_header): the loop's
 * entry offset skip * TQ_FC_STEP_BYTES, 32 * skip and the groups (out_features / 8, at least 1), skip = (-in_features
 * / 4) mod TQ_FC_ROWS8_UNROLL. TQ_FC_ROWS8_SETUP (r0 = params, r1 = input, r2 = output; clobbers r0, r3-r6 and r12)
 * fills the frame from it with one STM and sets r1 to the first group's record: [sp] the input rewound by `skip` steps
 * (4 * skip bytes, never read), [sp + 4] the next group's outputs, [sp + 8] input + in_features, [sp + 12] the loop's
 * entry address, [sp + 16] 32 * skip, [sp + 20] groups left. The first iteration of the loop of TQ_FC_ROWS8_UNROLL
 * steps is entered at step skip (x and the weights rewound by as many steps), so it runs steps mod TQ_FC_ROWS8_UNROLL
 * (or all TQ_FC_ROWS8_UNROLL) steps and the rest are whole iterations. TQ_FC_ROWS8_GROUPS runs the groups (labels 1
 * and 2): the rows a's biases start S and R of each pair, the steps, then the doubled sums, 2 * S for row a and
 * 2 * bias + (R - S) / 128 for row b (R - S = 256 * row b's sum, exact; the record holds the doubled bias), go through
 * TQ_FC_OUT2; it leaves r1 after the last group's record. Clobbers r0-r12 and lr.
 */
#define TQ_FC_ROWS8_UNROLL 8
#define TQ_FC_ROWS8_SETUP                                                                          \
    "ldr r12, [r0, #" TQ_FC_STR(TQ_FC_OFF_RECORDS) "]\n\t"                                         \
    "ldr r3, [r0, #0]\n\t"                                                                        \
    "ldm r12!, {r4-r6}\n\t"                                                                       \
    "add r3, r1, r3\n\t"                                                                          \
    "sub r1, r1, r5, lsr #3\n\t"                                                                  \
    "adr.w r0, 2f\n\t"                                                                            \
    "add r4, r4, r0\n\t"                                                                          \
    "stm sp, {r1-r6}\n\t"                                                                         \
    "mov r1, r12\n\t"
#define TQ_FC_ROWS8_GROUPS                                                                         \
    "1:\n\t" /* group: r1 = its record */                                                        \
    "ldm r1!, {r4, r6, r8, r10}\n\t"                                                              \
    "mov r5, r4\n\t"                                                                              \
    "mov r7, r6\n\t"                                                                              \
    "mov r9, r8\n\t"                                                                              \
    "mov r11, r10\n\t"                                                                            \
    "ldrd r2, r3, [sp, #12]\n\t"                                                                  \
    "sub r1, r1, r3\n\t"                                                                          \
    "ldr r0, [sp, #0]\n\t"                                                                        \
    "mov pc, r2\n\t"                                                                              \
    ".p2align 2\n"                                                                                \
    "2:\n\t"                                                                                      \
    TQ_FC_STEP("0") TQ_FC_STEP("1") TQ_FC_STEP("2") TQ_FC_STEP("3") TQ_FC_STEP("4") TQ_FC_STEP("5")  \
    TQ_FC_STEP("6") TQ_FC_STEP("7")                                                               \
    "add r0, r0, #" TQ_FC_STR(4 * TQ_FC_ROWS8_UNROLL) "\n\t"                                      \
    "add r1, r1, #" TQ_FC_STR(32 * TQ_FC_ROWS8_UNROLL) "\n\t"                                     \
    "ldr r12, [sp, #8]\n\t"                                                                       \
    "cmp r0, r12\n\t"                                                                             \
    "bne 2b\n\t"                                                                                  \
    /* rows b: 2 * bias + (R - S) >> 7; rows a: 2 * S */                                          \
    "ldm r1!, {r0, r2, r3, r12}\n\t"                                                              \
    "sub r5, r5, r4\n\t"                                                                          \
    "add r5, r0, r5, asr #7\n\t"                                                                  \
    "sub r7, r7, r6\n\t"                                                                          \
    "add r7, r2, r7, asr #7\n\t"                                                                  \
    "sub r9, r9, r8\n\t"                                                                          \
    "add r9, r3, r9, asr #7\n\t"                                                                  \
    "sub r11, r11, r10\n\t"                                                                       \
    "add r11, r12, r11, asr #7\n\t"                                                               \
    "lsl r4, r4, #1\n\t"                                                                          \
    "lsl r6, r6, #1\n\t"                                                                          \
    "lsl r8, r8, #1\n\t"                                                                          \
    "lsl r10, r10, #1\n\t"                                                                        \
    TQ_FC_OUT2("r4", "r5") TQ_FC_OUT2("r6", "r7") TQ_FC_OUT2("r8", "r9") TQ_FC_OUT2("r10", "r11") \
    "ldr r3, [sp, #4]\n\t"                                                                        \
    TQ_PACK_R4 TQ_PACK_R8                                                                         \
    "str r4, [r3], #4\n\t"                                                                        \
    "str r8, [r3], #4\n\t"                                                                        \
    "str r3, [sp, #4]\n\t"                                                                        \
    "ldr r3, [sp, #20]\n\t"                                                                       \
    "subs r3, r3, #1\n\t"                                                                         \
    "str r3, [sp, #20]\n\t"                                                                       \
    "bne 1b\n\t"

/*
 * The pairs routine's row pairs (tq_fully_connected_s8_pairs.c, _rows8p.c; records in its layout): one pair at a
 * time, two steps (8 inputs) per block of six loads, TQ_FC_PAIRS_UNROLL blocks per loop iteration, entered at a block
 * per call. TQ_FC_PAIRS_BLOCK(G): block G of an iteration, inputs at r0 + 8G, weights at r1 + 16G, (S, R) in (r2,
 * r3); every instruction is 32-bit, TQ_FC_PAIRS_BLOCK_BYTES long in all. The loop's entry comes from the generator
 * (tinyqat/codegen/layouts.py, fc_pairs_header: skip = (-in_features / 8) mod TQ_FC_PAIRS_UNROLL, in_features a multiple
 * of 8): the
 * caller stores at [sp + XR] the input rewound by `skip` blocks (8 * skip bytes, never read) and at [sp + ENTRY],
 * [sp + ENTRY + 4] the loop's entry address (label 4 + skip * TQ_FC_PAIRS_BLOCK_BYTES) and 16 * skip.
 * TQ_FC_PAIRS_LOOP(OUT, LEFT, XR, ENTRY) runs [sp + LEFT] (at least 1) pairs from the
 * record at r1 (labels 3 and 4), r12 = input + in_features, [sp + OUT] the next outputs (advanced): per pair row a's
 * bias starts S and R, the blocks, then the doubled sums 2 * S and (row b, whose record holds the doubled bias)
 * 2 * bias + (R - S) / 128 go through the two fused output stages (TQ_REQUANT_FUSED_SSAT2_EZ_ASM). Clobbers r0-r11
 * and lr.
 */
#define TQ_FC_PAIRS_BLOCK_BYTES 88
#define TQ_FC_PAIRS_UNROLL 8
#define TQ_FC_PAIRS_BLOCK(G)                                                                       \
    "ldr.w r4, [r0, #(8 * " G ")]\n\t" "ldr.w r5, [r0, #(8 * " G " + 4)]\n\t"                      \
    "ldr.w r6, [r1, #(16 * " G ")]\n\t" "ldr.w r7, [r1, #(16 * " G " + 4)]\n\t"                   \
    "ldr.w r8, [r1, #(16 * " G " + 8)]\n\t" "ldr.w r9, [r1, #(16 * " G " + 12)]\n\t"              \
    "sxtb16 r10, r4\n\t" "sxtb16 r4, r4, ror #8\n\t" "sxtb16 r11, r5\n\t" "sxtb16 r5, r5, ror #8\n\t" \
    "smlad r3, r10, r6, r3\n\t" "sxtb16 r6, r6\n\t" "smlad r2, r10, r6, r2\n\t"                  \
    "smlad r3, r4, r7, r3\n\t" "sxtb16 r7, r7\n\t" "smlad r2, r4, r7, r2\n\t"                    \
    "smlad r3, r11, r8, r3\n\t" "sxtb16 r8, r8\n\t" "smlad r2, r11, r8, r2\n\t"                  \
    "smlad r3, r5, r9, r3\n\t" "sxtb16 r9, r9\n\t" "smlad r2, r5, r9, r2\n\t"
#define TQ_FC_PAIRS_LOOP(OUT, LEFT, XR, ENTRY)                                                \
    "3:\n\t" /* pair: r1 = its record */                                                         \
    "ldm r1!, {r2, lr}\n\t"                                                                       \
    "mov r3, r2\n\t"                                                                              \
    "ldr r0, [sp, #" XR "]\n\t"                                                                   \
    "ldrd r4, r5, [sp, #" ENTRY "]\n\t"                                                           \
    "sub r1, r1, r5\n\t"                                                                          \
    "mov pc, r4\n\t"                                                                              \
    ".p2align 2\n"                                                                                \
    "4:\n\t"                                                                                      \
    TQ_FC_PAIRS_BLOCK("0") TQ_FC_PAIRS_BLOCK("1") TQ_FC_PAIRS_BLOCK("2") TQ_FC_PAIRS_BLOCK("3")   \
    TQ_FC_PAIRS_BLOCK("4") TQ_FC_PAIRS_BLOCK("5") TQ_FC_PAIRS_BLOCK("6") TQ_FC_PAIRS_BLOCK("7")   \
    "add r0, r0, #" TQ_FC_STR(8 * TQ_FC_PAIRS_UNROLL) "\n\t"                                     \
    "add r1, r1, #" TQ_FC_STR(16 * TQ_FC_PAIRS_UNROLL) "\n\t"                                    \
    "cmp r0, r12\n\t"                                                                             \
    "bne 4b\n\t"                                                                                  \
    /* row b: 2 * bias + (R - S) >> 7, row a: 2 * S; the two output stages */                     \
    "sub r3, r3, r2\n\t"                                                                          \
    "add lr, lr, r3, asr #7\n\t"                                                                  \
    "ldm r1!, {r4, r5, r6, r7}\n\t"                                                               \
    "lsl r2, r2, #1\n\t"                                                                          \
    TQ_REQUANT_FUSED_SSAT2_EZ_ASM("r2", "r4", "r5", "r9")                                         \
    TQ_REQUANT_FUSED_SSAT2_EZ_ASM("lr", "r6", "r7", "r9")                                         \
    "ldr r9, [sp, #" OUT "]\n\t"                                                                  \
    "strb r2, [r9], #1\n\t"                                                                       \
    "strb lr, [r9], #1\n\t"                                                                       \
    "str r9, [sp, #" OUT "]\n\t"                                                                  \
    "ldr r9, [sp, #" LEFT "]\n\t"                                                                 \
    "subs r9, r9, #1\n\t"                                                                         \
    "str r9, [sp, #" LEFT "]\n\t"                                                                 \
    "bne 3b\n\t"

/*
 * The quad routine's group of 4 rows (2 pairs: tq_fully_connected_s8_rows8q.c; the pair layout of
 * tq_fully_connected_s8_general.c, two pairs per step): one step of four inputs loads its input word and the two pairs'
 * four weight words in one run, then 2 + 4 SXTB16 and 8 SMLAD for 16 MACs. TQ_FC_QUAD_STEP(K): step K of an
 * iteration, its input word at r0 + 4K, its weights at r1 + 16K (pair 0 with x02, pair 0 with x13, pair 1 ...), (S, R)
 * of the pairs in (r4, r5), (r6, r7); every instruction is 32-bit, TQ_FC_QUAD_STEP_BYTES long in all. TQ_FC_QUAD(OUT,
 * XR, ENTRY) runs one quad from the record at r1 (advanced past it; labels 5 and 6), r12 = input + in_features, [sp +
 * OUT] the next outputs (advanced by 4), [sp + XR] the input rewound by the loop's skip steps, [sp + ENTRY], [sp +
 * ENTRY + 4] the loop's entry address (label 6 + skip * TQ_FC_QUAD_STEP_BYTES) and 16 * skip, skip = (-in_features /
 * 4) mod TQ_FC_QUAD_UNROLL (tinyqat/codegen/layouts.py, fc_quad_header): the rows a's biases start S and R, the steps,
 * then the doubled sums 2 * S and 2 * bias + (R - S) / 128 (rows b: doubled biases in the record) go through
 * TQ_FC_OUT2 and are stored as one word. Clobbers r0-r12 and lr.
 */
#define TQ_FC_QUAD_STEP_BYTES 76
#define TQ_FC_QUAD_UNROLL 8
#define TQ_FC_QUAD_STEP(K)                                                                         \
    "ldr.w r2, [r0, #(4 * " K ")]\n\t"                                                            \
    "ldr.w r8, [r1, #(16 * " K ")]\n\t" "ldr.w r9, [r1, #(16 * " K " + 4)]\n\t"                     \
    "ldr.w r10, [r1, #(16 * " K " + 8)]\n\t" "ldr.w r11, [r1, #(16 * " K " + 12)]\n\t"              \
    "sxtb16 r3, r2, ror #8\n\t"                                                                   \
    "sxtb16 r2, r2\n\t"                                                                           \
    "smlad r5, r2, r8, r5\n\t" "sxtb16 r8, r8\n\t" "smlad r4, r2, r8, r4\n\t"                      \
    "smlad r5, r3, r9, r5\n\t" "sxtb16 r9, r9\n\t" "smlad r4, r3, r9, r4\n\t"                      \
    "smlad r7, r2, r10, r7\n\t" "sxtb16 r10, r10\n\t" "smlad r6, r2, r10, r6\n\t"                  \
    "smlad r7, r3, r11, r7\n\t" "sxtb16 r11, r11\n\t" "smlad r6, r3, r11, r6\n\t"
#define TQ_FC_QUAD(OUT, XR, ENTRY)                                                                 \
    "5:\n\t" /* quad: r1 = its record */                                                         \
    "ldm r1!, {r4, r6}\n\t"                                                                       \
    "mov r5, r4\n\t"                                                                              \
    "mov r7, r6\n\t"                                                                              \
    "ldr r0, [sp, #" XR "]\n\t"                                                                   \
    "ldrd r2, r3, [sp, #" ENTRY "]\n\t"                                                           \
    "sub r1, r1, r3\n\t"                                                                          \
    "mov pc, r2\n\t"                                                                              \
    ".p2align 2\n"                                                                                \
    "6:\n\t"                                                                                      \
    TQ_FC_QUAD_STEP("0") TQ_FC_QUAD_STEP("1") TQ_FC_QUAD_STEP("2") TQ_FC_QUAD_STEP("3")           \
    TQ_FC_QUAD_STEP("4") TQ_FC_QUAD_STEP("5") TQ_FC_QUAD_STEP("6") TQ_FC_QUAD_STEP("7")           \
    "add r0, r0, #" TQ_FC_STR(4 * TQ_FC_QUAD_UNROLL) "\n\t"                                       \
    "add r1, r1, #" TQ_FC_STR(16 * TQ_FC_QUAD_UNROLL) "\n\t"                                      \
    "cmp r0, r12\n\t"                                                                             \
    "bne 6b\n\t"                                                                                  \
    /* rows b: 2 * bias + (R - S) >> 7; rows a: 2 * S */                                          \
    "ldm r1!, {r2, r3}\n\t"                                                                       \
    "sub r5, r5, r4\n\t"                                                                          \
    "add r5, r2, r5, asr #7\n\t"                                                                  \
    "sub r7, r7, r6\n\t"                                                                          \
    "add r7, r3, r7, asr #7\n\t"                                                                  \
    "lsl r4, r4, #1\n\t"                                                                          \
    "lsl r6, r6, #1\n\t"                                                                          \
    TQ_FC_OUT2("r4", "r5") TQ_FC_OUT2("r6", "r7")                                                 \
    "ldr r3, [sp, #" OUT "]\n\t"                                                                  \
    TQ_PACK_R4                                                                                    \
    "str r4, [r3], #4\n\t"                                                                        \
    "str r3, [sp, #" OUT "]\n\t"

/* The DSP depthwise row path's output stage of one channel (tq_depthwise_conv2d_s8_dsp.c, _rows5.c). */
typedef struct {
    int32_t q, e, zp, act_min, act_max;
} tq_dw_row_out;

/* Every channel's output row of a 5x5 row-path layer from the ring's five rows x (channel c's at x[r] + c wp), the
 * records rec and the output stage o, out_w = n outputs at out + c (tq_depthwise_conv2d_s8_rows5.c). */
typedef void tq_dw_rows5_fn(const int16_t *const x[5], int32_t wp, const int32_t *rec, int32_t n, int8_t *out,
                            int32_t ch, const tq_dw_row_out *o);

/* One input row's copy into the row path's ring for a layer of one input width (tq_depthwise_conv2d_s8_copy<n>.c):
 * the row src's channel groups of 4 (channels below ch & ~3), zero point zp given as zpw (four bytes zp), to d, as
 * tq_depthwise_conv2d_s8_dsp.c's dw_copy does for the same layer. */
typedef void tq_dw_copy_fn(const int8_t *src, int16_t *d, int32_t ch, int32_t zpw);

/* The DSP depthwise's path in a runtime file of its own (tq_kernels.h, tq_depthwise_conv2d_s8_params.dsp_path):
 * the 5x5 row functions, strides 1 and 2 (tq_depthwise_conv2d_s8_rows5), or (NULL for 5x5) a row copy
 * (tq_depthwise_conv2d_s8_copy<n>). */
struct tq_depthwise_conv2d_s8_dsp_path {
    tq_dw_rows5_fn *rows5_s1, *rows5_s2;
    tq_dw_copy_fn *copy;
};

#endif /* TQ_USE_DSP */
#endif /* TQ_DSP_H */
