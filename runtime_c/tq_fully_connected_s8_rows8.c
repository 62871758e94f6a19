/*
 * tq_fully_connected_s8_rows8.c - the DSP fully connected kernel's path for short layers in groups of 8 rows
 * (params->dsp_path = &tq_fully_connected_s8_rows8; the generator sets it, tinyqat/codegen/layouts.py fc_dsp_path).
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
 * Method: out_features a multiple of 8, in_features a multiple of 4. tq_fully_connected_s8_dsp.c's groups of 8 rows
 * (tq_dsp.h's TQ_FC_STEP, TQ_FC_OUT) in one assembly routine for the whole layer, the entry step of its unrolled loop
 * computed once per call. Records (Python twin tinyqat/codegen/layouts.py, fc_rows8_records), per group g of rows 8g ..
 * 8g + 7, int32 words: bias_dsp of rows 8g, 8g + 2, 8g + 4, 8g + 6 (the pairs' rows a); the group's weights as in
 * weights_dsp (in_features / 4 steps of 8 words: step s, pair p, half h, lane l (fastest), the little-endian int16 w[8g
 * + 2p][i] + 256 * w[8g + 2p + 1][i], i = 4s + 2l + h); bias_dsp of rows 8g + 1, 8g + 3, 8g + 5, 8g + 7 (rows b); then
 * (multiplier[c], -shift[c] - 1) for c = 8g .. 8g + 7.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

#define TQ_ASM_ARG __attribute__((unused))

/* Steps of four inputs per iteration of the routine's loop. */
#define TQ_FC_ROWS8_UNROLL 8

/*
 * tq_fully_connected_s8 for the path's layers (r0 = params, r1 = input, r2 = output). Stack: [sp] input +
 * in_features, [sp + 4] the next group's outputs, [sp + 8] groups left, [sp + 12] 2 * output_zero_point + 1,
 * [sp + 16] the input rewound by `skip` steps (4 * skip bytes, never read), [sp + 20] the loop's entry address,
 * [sp + 24] 32 * skip. The first iteration of the loop of TQ_FC_ROWS8_UNROLL steps is entered at step skip =
 * (-steps) mod TQ_FC_ROWS8_UNROLL (x and the weights rewound by as many steps), so it runs steps mod
 * TQ_FC_ROWS8_UNROLL (or all TQ_FC_ROWS8_UNROLL) steps and the rest are whole iterations. Per group: the rows a's
 * biases start S and R of each pair, the steps, then row b's sums are its bias + (R - S) / 256 and the eight sums
 * go through TQ_FC_OUT.
 */
__attribute__((naked, noinline)) static void fc_rows8(TQ_ASM_ARG const tq_fully_connected_s8_params *params,
                                                      TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #28\n\t"
        "ldr r3, [r0, #0]\n\t"
        "add r12, r1, r3\n\t"
        "str r12, [sp, #0]\n\t"
        "str r2, [sp, #4]\n\t"
        "ldr r12, [r0, #4]\n\t"
        "lsr r12, r12, #3\n\t"
        "str r12, [sp, #8]\n\t"
        "ldr r12, [r0, #" TQ_FC_STR(TQ_FC_OFF_OUTPUT_ZP) "]\n\t"
        "mov r4, #1\n\t"
        "add r12, r4, r12, lsl #1\n\t"
        "str r12, [sp, #12]\n\t"
        "lsr r3, r3, #2\n\t"
        "rsb r3, r3, #0\n\t"
        "and r3, r3, #" TQ_FC_STR(TQ_FC_ROWS8_UNROLL - 1) "\n\t" /* skip */
        "sub r12, r1, r3, lsl #2\n\t"
        "str r12, [sp, #16]\n\t"
        "mov r12, #" TQ_FC_STR(TQ_FC_STEP_BYTES) "\n\t"
        "mul r12, r3, r12\n\t"
        "adr.w r4, 2f\n\t"
        "add r12, r12, r4\n\t"
        "lsl r3, r3, #5\n\t"
        "strd r12, r3, [sp, #20]\n\t"
        "ldr r1, [r0, #" TQ_FC_STR(TQ_FC_OFF_RECORDS) "]\n"
        "1:\n\t" /* group: r1 = its record */
        "ldm r1!, {r4, r6, r8, r10}\n\t"
        "mov r5, r4\n\t"
        "mov r7, r6\n\t"
        "mov r9, r8\n\t"
        "mov r11, r10\n\t"
        "ldrd r2, r3, [sp, #20]\n\t"
        "sub r1, r1, r3\n\t"
        "ldr r0, [sp, #16]\n\t"
        "mov pc, r2\n\t"
        ".p2align 2\n"
        "2:\n\t"
        TQ_FC_STEP("0") TQ_FC_STEP("1") TQ_FC_STEP("2") TQ_FC_STEP("3") TQ_FC_STEP("4") TQ_FC_STEP("5")
        TQ_FC_STEP("6") TQ_FC_STEP("7")
        "add r0, r0, #" TQ_FC_STR(4 * TQ_FC_ROWS8_UNROLL) "\n\t"
        "add r1, r1, #" TQ_FC_STR(32 * TQ_FC_ROWS8_UNROLL) "\n\t"
        "ldr r12, [sp]\n\t"
        "cmp r0, r12\n\t"
        "bne 2b\n\t"
        /* rows b: bias + (R - S) >> 8 */
        "ldm r1!, {r0, r2, r3, r12}\n\t"
        "sub r5, r5, r4\n\t"
        "add r5, r0, r5, asr #8\n\t"
        "sub r7, r7, r6\n\t"
        "add r7, r2, r7, asr #8\n\t"
        "sub r9, r9, r8\n\t"
        "add r9, r3, r9, asr #8\n\t"
        "sub r11, r11, r10\n\t"
        "add r11, r12, r11, asr #8\n\t"
        "ldr r0, [sp, #12]\n\t"
        TQ_FC_OUT8
        "ldr r3, [sp, #4]\n\t"
        TQ_PACK_R4 TQ_PACK_R8
        "str r4, [r3], #4\n\t"
        "str r8, [r3], #4\n\t"
        "str r3, [sp, #4]\n\t"
        "ldr r3, [sp, #8]\n\t"
        "subs r3, r3, #1\n\t"
        "str r3, [sp, #8]\n\t"
        "bne 1b\n\t"
        "add sp, sp, #28\n\t"
        "pop {r4-r11, pc}\n\t");
}

const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_rows8 = {fc_rows8};

#endif /* TQ_USE_DSP */
