/*
 * tq_fully_connected_s8_rows8p.c - the DSP fully connected kernel's path for short layers of 8G + 2P rows, G >= 1
 * groups of 8 and P = 1, 2 or 3 pairs after them (params->dsp_path = &tq_fully_connected_s8_rows8p; the generator
 * sets it, tinyqat/codegen/layouts.py fc_dsp_path).
 *
 * The same result as tq_fully_connected_s8 (tq_kernels.h) for the layers the path takes: requant_fused, the full int8
 * output range (act_min = -128, act_max = 127) and at most 512 inputs (layouts.py FC_ROWS8_IN_MAX: no row needs chunks,
 * |sum x * w_b| <= 128 * 127 * 512 < 2^23 keeps R - S = 256 * sum x * w_b exact). The path uses
 * tq_fully_connected_s8_general.c's row pairs (the int16 pair layout, the input zero point folded into the bias; its
 * comment proves the sums) and its fused output stage, tq_requantize_s8_fused_ssat2 of the doubled sum (tq_requant.h's
 * TQ_REQUANT_FUSED_SSAT2_ASM), whose SSAT is the whole clamp for the full int8 range. No scratch memory; output bytes
 * are written only within out_features. bias_dsp[c] = bias[c] - input_zero_point * sum_i w[c][i].
 *
 * Method: out_features mod 8 = 2, 4 or 6 with at least one group of 8 rows, in_features a multiple of 8. One assembly
 * routine for the whole layer: the rows8 path's groups (tq_dsp.h's TQ_FC_ROWS8_SETUP and TQ_FC_ROWS8_GROUPS, as in
 * tq_fully_connected_s8_rows8.c) for rows 0 .. 8G - 1, then the pairs path's row pairs (TQ_FC_PAIRS_ENTRY and
 * TQ_FC_PAIRS_LOOP, as in tq_fully_connected_s8_pairs.c) for rows 8G .. out_features - 1, each loop's entry computed
 * once per call, without a second call's entry and exit. Records (Python twin layouts.fc_rows8p_records): the rows8
 * path's records of rows 0 .. 8G - 1 (tq_fully_connected_s8_rows8.c), then the pairs path's records of the P pairs
 * (tq_fully_connected_s8_pairs.c), one stream.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

#define TQ_ASM_ARG __attribute__((unused))

/*
 * tq_fully_connected_s8 for the path's layers (r0 = params, r1 = input, r2 = output). Stack: [sp] .. [sp + 24]
 * TQ_FC_ROWS8_SETUP's frame, [sp + 28] pairs left ((out_features mod 8) / 2), [sp + 32] .. [sp + 40]
 * TQ_FC_PAIRS_ENTRY's. After the groups r1 is the first pair's record and [sp + 4] its outputs.
 */
__attribute__((naked, noinline)) static void fc_rows8p(TQ_ASM_ARG const tq_fully_connected_s8_params *params,
                                                       TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #44\n\t"
        "ldr r3, [r0, #4]\n\t"
        "ubfx r3, r3, #1, #2\n\t"
        "str r3, [sp, #28]\n\t"
        "ldr r3, [r0, #0]\n\t"
        TQ_FC_PAIRS_ENTRY("32", "36")
        TQ_FC_ROWS8_SETUP
        TQ_FC_ROWS8_GROUPS
        "ldr r12, [sp, #0]\n\t"
        TQ_FC_PAIRS_LOOP("4", "12", "28", "32", "36")
        "add sp, sp, #44\n\t"
        "pop {r4-r11, pc}\n\t");
}

const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_rows8p = {fc_rows8p};

#endif /* TQ_USE_DSP */
