/*
 * tq_fully_connected_s8_rows8.c - the DSP fully connected kernel's path for short layers in groups of 8 rows
 * (params->dsp_path = &tq_fully_connected_s8_rows8; the generator sets it, tinyqat/codegen/layouts.py fc_dsp_path).
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
 * Method: out_features a multiple of 8, in_features a multiple of 4. tq_fully_connected_s8_general.c's groups of 8 rows
 * (tq_dsp.h's TQ_FC_STEP; the routine's parts TQ_FC_ROWS8_SETUP and TQ_FC_ROWS8_GROUPS, shared with
 * tq_fully_connected_s8_rows8p.c, and TQ_FC_OUT2) in one assembly routine for the whole layer, the entry step of its
 * unrolled loop the generator's (the records' header). Records (Python twin tinyqat/codegen/layouts.py,
 * fc_rows8_records): the header of 3 words (tq_dsp.h's TQ_FC_ROWS8_SETUP: the loop's entry offset, 32 * skip, the
 * groups; layouts.fc_rows8_header), then per group g of rows 8g .. 8g + 7, int32 words: bias_dsp of rows 8g, 8g + 2,
 * 8g + 4, 8g + 6 (the pairs' rows a); the group's weights as in weights_dsp (in_features / 4 steps of 8 words: step s,
 * pair p, half h, lane l (fastest), the little-endian int16 w[8g + 2p][i] + 256 * w[8g + 2p + 1][i], i = 4s + 2l + h);
 * 2 * bias_dsp of rows 8g + 1, 8g + 3, 8g + 5, 8g + 7 (rows b); then (multiplier[c], ez[c]) for c = 8g .. 8g + 7.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

#define TQ_ASM_ARG __attribute__((unused))

/* tq_fully_connected_s8 for the path's layers (r0 = params, r1 = input, r2 = output): tq_dsp.h's TQ_FC_ROWS8_SETUP
 * (the frame of 28 bytes) and TQ_FC_ROWS8_GROUPS. */
__attribute__((naked, noinline)) static void fc_rows8(TQ_ASM_ARG const tq_fully_connected_s8_params *params,
                                                      TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #28\n\t"
        TQ_FC_ROWS8_SETUP
        TQ_FC_ROWS8_GROUPS
        "add sp, sp, #28\n\t"
        "pop {r4-r11, pc}\n\t");
}

const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_rows8 = {fc_rows8};

#endif /* TQ_USE_DSP */
