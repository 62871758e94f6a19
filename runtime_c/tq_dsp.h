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
 * The DSP fully connected kernels' assembly steps (tq_fully_connected_s8_dsp.c's fc_groups and
 * tq_fully_connected_s8_rows8.c; the pair layout and the method are in tq_fully_connected_s8_dsp.c's comment):
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

#endif /* TQ_USE_DSP */
#endif /* TQ_DSP_H */
