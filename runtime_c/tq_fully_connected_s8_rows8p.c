/*
 * tq_fully_connected_s8_rows8p.c - the DSP fully connected kernel's path for short layers of 8G + 2P rows, G >= 1
 * groups of 8 and P = 1, 2 or 3 pairs after them (params->dsp_path = &tq_fully_connected_s8_rows8p; the generator
 * sets it, tinyqat/codegen/layouts.py fc_dsp_path, for P = 1: 8G + 4 and 8G + 6 rows run
 * tq_fully_connected_s8_rows8q.c's quad, two pairs per step, instead).
 *
 * The same result as tq_fully_connected_s8 (tq_kernels.h) for the layers the path takes: requant_fused, the full int8
 * output range (act_min = -128, act_max = 127) and at most 512 inputs (layouts.py FC_ROWS8_IN_MAX: no row needs chunks,
 * |sum x * w_b| <= 128 * 127 * 512 < 2^23 keeps R - S = 256 * sum x * w_b exact). The path uses
 * tq_fully_connected_s8_general.c's row pairs (the int16 pair layout, the input zero point folded into the bias; its
 * comment proves the sums) and its fused output stage, tq_requantize_s8_fused_ssat2 of the doubled sum, here with e - 1
 * and 2 * output_zero_point + 1 in one record word ez = (-shift[c] - 1) + 256 * (2 * output_zero_point + 1)
 * (tq_requant.h's tq_requantize_s8_fused_ssat2_ez, TQ_REQUANT_FUSED_SSAT2_EZ_ASM), whose SSAT is the whole clamp for
 * the full int8 range. The rows b's sums come out doubled (2 * bias + (R - S) / 128 from doubled biases, which fit
 * int32 as requant_fused bounds |bias_dsp| below 2^30), the rows a's are doubled with one shift. No scratch memory; output bytes
 * are written only within out_features. bias_dsp[c] = bias[c] - input_zero_point * sum_i w[c][i].
 *
 * Method: out_features mod 8 = 2, 4 or 6 with at least one group of 8 rows, in_features a multiple of 8. One assembly
 * routine for the whole layer: the rows8 path's groups (tq_dsp.h's TQ_FC_ROWS8_GROUPS on TQ_FC_ROWS8_SETUP's frame, as in
 * tq_fully_connected_s8_rows8.c) for rows 0 .. 8G - 1, then the pairs path's row pairs (TQ_FC_PAIRS_LOOP, as in
 * tq_fully_connected_s8_pairs.c) for rows 8G .. out_features - 1, each loop's entry from the generator, without a
 * second call's entry and exit. Records (Python twin layouts.fc_rows8p_records): a header of 6 words, the rows8
 * header (layouts.fc_rows8_header: entry offset, 32 * skip, G) then the pairs loop's entry offset, 16 * its skip and
 * P (layouts.fc_pairs_header); the rows8 path's group records of rows 0 .. 8G - 1
 * (tq_fully_connected_s8_rows8.c), then the pairs path's pair records of the P pairs (tq_fully_connected_s8_pairs.c),
 * one stream.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

#define TQ_ASM_ARG __attribute__((unused))

/*
 * tq_fully_connected_s8 for the path's layers (r0 = params, r1 = input, r2 = output). Stack, filled from the header
 * with one STM: [sp] .. [sp + 20] TQ_FC_ROWS8_SETUP's frame, [sp + 24] the input rewound by the pairs loop's skip
 * blocks, [sp + 28] its entry address, [sp + 32] 16 * its skip, [sp + 36] pairs left ((out_features mod 8) / 2).
 * After the groups r1 is the first pair's record and [sp + 4] its outputs.
 */
__attribute__((naked, noinline)) static void fc_rows8p(TQ_ASM_ARG const tq_fully_connected_s8_params *params,
                                                       TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #44\n\t"
        "ldr r12, [r0, #" TQ_FC_STR(TQ_FC_OFF_RECORDS) "]\n\t"
        "ldr r3, [r0, #0]\n\t"
        "ldm r12!, {r4-r6, r8-r10}\n\t"
        "add r3, r1, r3\n\t"
        "sub r7, r1, r9, lsr #1\n\t"
        "sub r1, r1, r5, lsr #3\n\t"
        "adr.w r0, 2f\n\t"
        "add r4, r4, r0\n\t"
        "adr.w r0, 4f\n\t"
        "add r8, r8, r0\n\t"
        "stm sp, {r1-r10}\n\t"
        "mov r1, r12\n\t"
        TQ_FC_ROWS8_GROUPS
        "ldr r12, [sp, #8]\n\t"
        TQ_FC_PAIRS_LOOP("4", "36", "24", "28")
        "add sp, sp, #44\n\t"
        "pop {r4-r11, pc}\n\t");
}

const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_rows8p = {fc_rows8p};

#endif /* TQ_USE_DSP */
