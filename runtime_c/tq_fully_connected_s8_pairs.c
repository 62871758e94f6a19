/*
 * tq_fully_connected_s8_pairs.c - the DSP fully connected kernel's path for layers of 2, 4 or 6 outputs
 * (params->dsp_path = &tq_fully_connected_s8_pairs; the generator sets it, tinyqat/codegen/layouts.py fc_dsp_path).
 *
 * The same result as tq_fully_connected_s8 (tq_kernels.h) for the layers the path takes: requant_fused, the full int8
 * output range (act_min = -128, act_max = 127) and at most 512 inputs (layouts.py FC_ROWS8_IN_MAX: no row needs chunks,
 * |sum x * w_b| <= 128 * 127 * 512 < 2^23 keeps R - S = 256 * sum x * w_b exact). The path uses
 * tq_fully_connected_s8_general.c's row pairs (the int16 pair layout, the input zero point folded into the bias; its
 * comment proves the sums) and its fused output stage, tq_requantize_s8_fused_ssat2 of the doubled sum, here with e - 1
 * and 2 * output_zero_point + 1 in one record word ez = (-shift[c] - 1) + 256 * (2 * output_zero_point + 1)
 * (tq_requant.h's tq_requantize_s8_fused_ssat2_ez, TQ_REQUANT_FUSED_SSAT2_EZ_ASM), whose SSAT is the whole clamp for
 * the full int8 range. The rows b's sums come out doubled (2 * bias + (R - S) / 128 from doubled biases, which fit
 * int32 as requant_fused bounds |bias_dsp| below 2^30), the rows a's are doubled with one shift. Every constant a group of rows
 * needs follows its weights in one record stream (params->records; no separate bias and requantization arrays). No
 * scratch memory; output bytes are written only within out_features. bias_dsp[c] = bias[c] - input_zero_point * sum_i
 * w[c][i].
 *
 * Method: out_features 2, 4 or 6 (no group of 8 rows), in_features a multiple of 8. One row pair at a time, two steps
 * (8 inputs) per block of six loads, eight blocks per loop iteration, entered at the block the generator computed
 * (tq_dsp.h's TQ_FC_PAIRS_BLOCK and TQ_FC_PAIRS_LOOP, shared with tq_fully_connected_s8_rows8p.c). Records (Python twin
 * layouts.fc_pairs_records): a header of 3 words (layouts.fc_pairs_header: the loop's entry offset skip *
 * TQ_FC_PAIRS_BLOCK_BYTES, 16 * skip, the pairs), then per pair t: bias_dsp of row 2t and 2 * bias_dsp of row 2t + 1;
 * for step s < in_features / 4, half h, lane l (fastest), the little-endian int16 w[2t][i] + 256 * w[2t + 1][i], i =
 * 4s + 2l + h; (multiplier[c], ez[c]) for c = 2t, 2t + 1.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

#define TQ_ASM_ARG __attribute__((unused))

/*
 * tq_fully_connected_s8 for the pairs path's layers (r0 = params, r1 = input, r2 = output); r12 = input +
 * in_features throughout. Stack, filled from the header with one STM: [sp] the next outputs, [sp + 4] the input
 * rewound by skip blocks, [sp + 8] the loop's entry address, [sp + 12] 16 * skip, [sp + 16] pairs left; then
 * TQ_FC_PAIRS_LOOP.
 */
__attribute__((naked, noinline)) static void fc_pairs(TQ_ASM_ARG const tq_fully_connected_s8_params *params,
                                                      TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #28\n\t"
        "ldr r3, [r0, #" TQ_FC_STR(TQ_FC_OFF_RECORDS) "]\n\t"
        "ldr r12, [r0, #0]\n\t"
        "ldm r3!, {r5-r7}\n\t"
        "add r12, r1, r12\n\t"
        "sub r4, r1, r6, lsr #1\n\t"
        "adr.w r0, 4f\n\t"
        "add r5, r5, r0\n\t"
        "stm sp, {r2, r4-r7}\n\t"
        "mov r1, r3\n\t"
        TQ_FC_PAIRS_LOOP("0", "16", "4", "8")
        "add sp, sp, #28\n\t"
        "pop {r4-r11, pc}\n\t");
}

const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_pairs = {fc_pairs};

#endif /* TQ_USE_DSP */
