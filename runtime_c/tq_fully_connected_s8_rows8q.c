/*
 * tq_fully_connected_s8_rows8q.c - the DSP fully connected kernel's path for short layers of 8G + 4 or 8G + 6 rows,
 * G >= 1 groups of 8, then a quad of 4 rows (2 pairs) and, for 8G + 6, one pair (params->dsp_path =
 * &tq_fully_connected_s8_rows8q; the generator sets it, tinyqat/codegen/layouts.py fc_dsp_path).
 *
 * The same result as tq_fully_connected_s8 (tq_kernels.h) for the layers the path takes: requant_fused, the full int8
 * output range (act_min = -128, act_max = 127) and at most 512 inputs (layouts.py FC_ROWS8_IN_MAX: no row needs chunks,
 * |sum x * w_b| <= 128 * 127 * 512 < 2^23 keeps R - S = 256 * sum x * w_b exact). The path uses
 * tq_fully_connected_s8_general.c's row pairs (the int16 pair layout, the input zero point folded into the bias; its
 * comment proves the sums) and its fused output stage, tq_requantize_s8_fused_ssat2 of the doubled sum, here with e - 1
 * and 2 * output_zero_point + 1 in one record word ez = (-shift[c] - 1) + 256 * (2 * output_zero_point + 1)
 * (tq_requant.h's tq_requantize_s8_fused_ssat2_ez, TQ_REQUANT_FUSED_SSAT2_EZ_ASM), whose SSAT is the whole clamp for
 * the full int8 range. The rows b's sums come out doubled (2 * bias + (R - S) / 128 from doubled biases, which fit
 * int32 as requant_fused bounds |bias_dsp| below 2^30), the rows a's are doubled with one shift. No scratch memory;
 * output bytes are written only within out_features. bias_dsp[c] = bias[c] - input_zero_point * sum_i w[c][i].
 *
 * Method: out_features mod 8 = 4 or 6 with at least one group of 8 rows, in_features a multiple of 8. One assembly
 * routine for the whole layer: the rows8 path's groups (tq_dsp.h's TQ_FC_ROWS8_GROUPS on TQ_FC_ROWS8_SETUP's frame)
 * for rows 0 .. 8G - 1, then the quad (TQ_FC_QUAD: two pairs per step, 20 estimated cycles per 16 MACs where two
 * pairs one at a time take 23) for rows 8G .. 8G + 3, then for 8G + 6 rows the pairs path's loop (TQ_FC_PAIRS_LOOP)
 * for the last pair, each loop's entry from the generator. Records (Python twin layouts.fc_rows8q_records): a header of
 * 8 words, the rows8 header (layouts.fc_rows8_header: entry offset, 32 * skip, G), the quad loop's entry offset and
 * 16 * its skip (layouts.fc_quad_header), the pairs loop's entry offset, 16 * its skip and the pairs after the quad,
 * 0 or 1 (layouts.fc_pairs_header); the rows8 path's group records of rows 0 .. 8G - 1 (tq_fully_connected_s8_rows8.c);
 * the quad's record: bias_dsp of rows 8G and 8G + 2, for step s < in_features / 4, pair p < 2, half h, lane l
 * (fastest), the little-endian int16 w[8G + 2p][i] + 256 * w[8G + 2p + 1][i], i = 4s + 2l + h, 2 * bias_dsp of rows
 * 8G + 1 and 8G + 3, then (multiplier[c], ez[c]) for c = 8G .. 8G + 3; then the last pair's record as in
 * tq_fully_connected_s8_pairs.c. One stream.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

#define TQ_ASM_ARG __attribute__((unused))

/*
 * tq_fully_connected_s8 for the path's layers (r0 = params, r1 = input, r2 = output). Stack, filled from the header:
 * [sp] .. [sp + 20] TQ_FC_ROWS8_SETUP's frame, [sp + 24] the quad loop's entry address, [sp + 28] 16 * its skip,
 * [sp + 32] the pairs loop's entry address, [sp + 36] 16 * its skip, [sp + 40] pairs after the quad (0 or 1),
 * [sp + 44] the input rewound by the quad loop's skip steps, [sp + 48] by the pairs loop's skip blocks. After the
 * groups r1 is the quad's record and [sp + 4] its outputs.
 */
__attribute__((naked, noinline)) static void fc_rows8q(TQ_ASM_ARG const tq_fully_connected_s8_params *params,
                                                       TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #52\n\t"
        "ldr r12, [r0, #" TQ_FC_STR(TQ_FC_OFF_RECORDS) "]\n\t"
        "ldr r3, [r0, #0]\n\t"
        "ldm r12!, {r4-r11}\n\t"
        "add r3, r1, r3\n\t"
        "adr.w r0, 2f\n\t"
        "add r4, r4, r0\n\t"
        "adr.w r0, 6f\n\t"
        "add r7, r7, r0\n\t"
        "adr.w r0, 4f\n\t"
        "add r9, r9, r0\n\t"
        "sub r0, r1, r8, lsr #2\n\t"
        "str r0, [sp, #44]\n\t"
        "sub r0, r1, r10, lsr #1\n\t"
        "str r0, [sp, #48]\n\t"
        "sub r1, r1, r5, lsr #3\n\t"
        "stm sp, {r1-r11}\n\t"
        "mov r1, r12\n\t"
        TQ_FC_ROWS8_GROUPS
        "ldr r12, [sp, #8]\n\t"
        TQ_FC_QUAD("4", "44", "24")
        "ldr r3, [sp, #40]\n\t"
        "cmp r3, #0\n\t"
        "beq.w 9f\n\t"
        "ldr r12, [sp, #8]\n\t"
        TQ_FC_PAIRS_LOOP("4", "40", "48", "32")
        "9:\n\t"
        "add sp, sp, #52\n\t"
        "pop {r4-r11, pc}\n\t");
}

const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_rows8q = {fc_rows8q};

#endif /* TQ_USE_DSP */
