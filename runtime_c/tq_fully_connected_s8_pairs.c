/*
 * tq_fully_connected_s8_pairs.c - the DSP fully connected kernel's path for layers of 2, 4 or 6 outputs
 * (params->dsp_path = &tq_fully_connected_s8_pairs; the generator sets it, tinyqat/codegen/layouts.py fc_dsp_path).
 *
 * The same result as tq_fully_connected_s8 (tq_kernels.h) for the layers the path takes: requant_fused, the full int8
 * output range (act_min = -128, act_max = 127) and at most 512 inputs (layouts.py FC_ROWS8_IN_MAX: no row needs chunks,
 * |sum x * w_b| <= 128 * 127 * 512 < 2^23 keeps R - S = 256 * sum x * w_b exact). The path uses
 * tq_fully_connected_s8_dsp.c's row pairs (the int16 pair layout, the input zero point folded into the bias; its
 * comment proves the sums) and its fused output stage, tq_requantize_s8_fused_ssat2 of the doubled sum (tq_requant.h's
 * TQ_REQUANT_FUSED_SSAT2_ASM), whose SSAT is the whole clamp for the full int8 range. Every constant a group of rows
 * needs follows its weights in one record stream (params->records; no separate bias and requantization arrays). No
 * scratch memory; output bytes are written only within out_features. bias_dsp[c] = bias[c] - input_zero_point * sum_i
 * w[c][i].
 *
 * Method: out_features 2, 4 or 6 (no group of 8 rows), in_features a multiple of 8. One row pair at a time, two steps
 * (8 inputs) per block of six loads, four blocks per loop iteration, entered at a block computed once per call. Records
 * (Python twin layouts.fc_pairs_records), per pair t: bias_dsp of rows 2t, 2t + 1; for step s < in_features / 4, half
 * h, lane l (fastest), the little-endian int16 w[2t][i] + 256 * w[2t + 1][i], i = 4s + 2l + h; (multiplier[c],
 * -shift[c] - 1) for c = 2t, 2t + 1.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

#define TQ_ASM_ARG __attribute__((unused))

/* pairs: block G (two steps) of an iteration: inputs at r0 + 8G, weights at r1 + 16G, (S, R) in (r2, r3). Every
 * instruction is 32-bit, TQ_FC_PAIRS_BLOCK_BYTES long in all (fc_pairs enters its loop at a block). */
#define TQ_FC_PAIRS_BLOCK_BYTES 88
#define TQ_FC_PAIRS_BLOCK(G)                                                                       \
    "ldr.w r4, [r0, #(8 * " G ")]\n\t" "ldr.w r5, [r0, #(8 * " G " + 4)]\n\t"                      \
    "ldr.w r6, [r1, #(16 * " G ")]\n\t" "ldr.w r7, [r1, #(16 * " G " + 4)]\n\t"                   \
    "ldr.w r8, [r1, #(16 * " G " + 8)]\n\t" "ldr.w r9, [r1, #(16 * " G " + 12)]\n\t"              \
    "sxtb16 r10, r4\n\t" "sxtb16 r4, r4, ror #8\n\t" "sxtb16 r11, r5\n\t" "sxtb16 r5, r5, ror #8\n\t" \
    "smlad r3, r10, r6, r3\n\t" "sxtb16 r6, r6\n\t" "smlad r2, r10, r6, r2\n\t"                  \
    "smlad r3, r4, r7, r3\n\t" "sxtb16 r7, r7\n\t" "smlad r2, r4, r7, r2\n\t"                    \
    "smlad r3, r11, r8, r3\n\t" "sxtb16 r8, r8\n\t" "smlad r2, r11, r8, r2\n\t"                  \
    "smlad r3, r5, r9, r3\n\t" "sxtb16 r9, r9\n\t" "smlad r2, r5, r9, r2\n\t"

/*
 * tq_fully_connected_s8 for the pairs path's layers (r0 = params, r1 = input, r2 = output); r12 = input +
 * in_features throughout. Stack: [sp] the next outputs, [sp + 4] 2 * output_zero_point + 1, [sp + 8] pairs left,
 * [sp + 12] the input rewound by `skip` blocks (8 * skip bytes, never read), [sp + 16] the loop's entry address,
 * [sp + 20] 16 * skip, skip = (-in_features / 8) mod 4.
 */
__attribute__((naked, noinline)) static void fc_pairs(TQ_ASM_ARG const tq_fully_connected_s8_params *params,
                                                      TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #28\n\t"
        "str r2, [sp, #0]\n\t"
        "ldr r3, [r0, #" TQ_FC_STR(TQ_FC_OFF_OUTPUT_ZP) "]\n\t"
        "mov r4, #1\n\t"
        "add r3, r4, r3, lsl #1\n\t"
        "str r3, [sp, #4]\n\t"
        "ldr r3, [r0, #4]\n\t"
        "lsr r3, r3, #1\n\t"
        "str r3, [sp, #8]\n\t"
        "ldr r3, [r0, #0]\n\t"
        "add r12, r1, r3\n\t"
        "lsr r3, r3, #3\n\t"
        "rsb r3, r3, #0\n\t"
        "and r3, r3, #3\n\t" /* skip */
        "sub r4, r1, r3, lsl #3\n\t"
        "str r4, [sp, #12]\n\t"
        "mov r4, #" TQ_FC_STR(TQ_FC_PAIRS_BLOCK_BYTES) "\n\t"
        "mul r4, r3, r4\n\t"
        "adr.w r5, 2f\n\t"
        "add r4, r4, r5\n\t"
        "lsl r3, r3, #4\n\t"
        "strd r4, r3, [sp, #16]\n\t"
        "ldr r1, [r0, #" TQ_FC_STR(TQ_FC_OFF_RECORDS) "]\n"
        "1:\n\t" /* pair: r1 = its record */
        "ldm r1!, {r2, lr}\n\t"
        "mov r3, r2\n\t"
        "ldr r0, [sp, #12]\n\t"
        "ldrd r4, r5, [sp, #16]\n\t"
        "sub r1, r1, r5\n\t"
        "mov pc, r4\n\t"
        ".p2align 2\n"
        "2:\n\t"
        TQ_FC_PAIRS_BLOCK("0") TQ_FC_PAIRS_BLOCK("1") TQ_FC_PAIRS_BLOCK("2") TQ_FC_PAIRS_BLOCK("3")
        "add r0, r0, #32\n\t"
        "add r1, r1, #64\n\t"
        "cmp r0, r12\n\t"
        "bne 2b\n\t"
        /* row b: bias + (R - S) >> 8; the two output stages */
        "sub r3, r3, r2\n\t"
        "add lr, lr, r3, asr #8\n\t"
        "ldm r1!, {r4, r5, r6, r7}\n\t"
        "ldr r8, [sp, #4]\n\t"
        "lsl r2, r2, #1\n\t"
        TQ_REQUANT_FUSED_SSAT2_ASM("r2", "r4", "r5", "r9", "r8")
        "lsl lr, lr, #1\n\t"
        TQ_REQUANT_FUSED_SSAT2_ASM("lr", "r6", "r7", "r9", "r8")
        "ldr r9, [sp, #0]\n\t"
        "strb r2, [r9], #1\n\t"
        "strb lr, [r9], #1\n\t"
        "str r9, [sp, #0]\n\t"
        "ldr r9, [sp, #8]\n\t"
        "subs r9, r9, #1\n\t"
        "str r9, [sp, #8]\n\t"
        "bne 1b\n\t"
        "add sp, sp, #28\n\t"
        "pop {r4-r11, pc}\n\t");
}

const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_pairs = {fc_pairs};

#endif /* TQ_USE_DSP */
