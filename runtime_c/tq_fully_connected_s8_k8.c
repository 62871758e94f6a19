/*
 * tq_fully_connected_s8_k8.c - the DSP fully connected kernel's path for layers of 8 inputs (params->dsp_path =
 * &tq_fully_connected_s8_k8; the generator sets it, tinyqat/codegen/layouts.py fc_dsp_path).
 *
 * The same result as tq_fully_connected_s8 (tq_kernels.h) for the layers the path takes: requant_fused, the full int8
 * output range (act_min = -128, act_max = 127) and at most 512 inputs (layouts.py FC_ROWS8_IN_MAX: no row needs chunks,
 * |sum x * w_b| <= 128 * 127 * 512 < 2^23 keeps R - S = 256 * sum x * w_b exact). The path uses
 * tq_fully_connected_s8_general.c's row pairs (the int16 pair layout, the input zero point folded into the bias; its
 * comment proves the sums) and its fused output stage, tq_requantize_s8_fused_ssat2 of the doubled sum (tq_requant.h's
 * TQ_REQUANT_FUSED_SSAT2_ASM), whose SSAT is the whole clamp for the full int8 range. Every constant a group of rows
 * needs follows its weights in one record stream (params->records; no separate bias and requantization arrays). No
 * scratch memory; output bytes are written only within out_features. bias_dsp[c] = bias[c] - input_zero_point * sum_i
 * w[c][i].
 *
 * Method: out_features a multiple of 8, in_features = 8. The whole input stays in four registers as int16 pairs,
 * doubled once per call (2 * x fits int16), so the sums come out doubled (2 * acc, what the output stage takes: no
 * doubling per output) from doubled biases: S = 2 * bias_a + sum 2x * w_a, R = S + 256 * sum 2x * w_b, where |2 * sum x
 * * w_b| <= 2 * 8 * 128 * 127 < 2^23 keeps R - S exact, and 2 * bias_dsp fits int32 (requant_fused bounds |bias_dsp|
 * below 2^30). Groups of 4 rows (2 pairs), two groups per loop iteration. Records (Python twin layouts.fc_k8_records),
 * per group g of rows 4g .. 4g + 3, int32 words: 2 * bias_dsp of rows 4g, 4g + 2; the weights, for step s < 2, pair p <
 * 2, half h, lane l (fastest), the little-endian int16 w[4g + 2p][i] + 256 * w[4g + 2p + 1][i], i = 4s + 2l + h; 2 *
 * bias_dsp of rows 4g + 1, 4g + 3; (multiplier[c], -shift[c] - 1) for c = 4g .. 4g + 3.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

#define TQ_ASM_ARG __attribute__((unused))

/* k8: step K (0 or 1) of a group of 4 rows: pairs (r4, r5) and (r6, r7), the input's int16 pairs X02 / X13 of the
 * step, its 4 weight words loaded from r1 (advanced). */
#define TQ_FC_K8_STEP(X02, X13)                                                                    \
    "ldm r1!, {r2, r3, r12, lr}\n\t"                                                              \
    "smlad r5, " X02 ", r2, r5\n\t" "sxtb16 r2, r2\n\t" "smlad r4, " X02 ", r2, r4\n\t"           \
    "smlad r5, " X13 ", r3, r5\n\t" "sxtb16 r3, r3\n\t" "smlad r4, " X13 ", r3, r4\n\t"           \
    "smlad r7, " X02 ", r12, r7\n\t" "sxtb16 r12, r12\n\t" "smlad r6, " X02 ", r12, r6\n\t"      \
    "smlad r7, " X13 ", lr, r7\n\t" "sxtb16 lr, lr\n\t" "smlad r6, " X13 ", lr, r6\n\t"

/* k8: the output stage of the doubled sum in A with the channel's (q, e - 1) from r1 (advanced), lr = 2 * zp + 1. */
#define TQ_FC_K8_OUT(A)                                                                            \
    "ldrd r2, r3, [r1], #8\n\t" TQ_REQUANT_FUSED_SSAT2_ASM(A, "r2", "r3", "r12", "lr")

/* k8: a group of 4 rows (record at r1, advanced; outputs at r0, advanced). */
#define TQ_FC_K8_GROUP                                                                             \
    "ldm r1!, {r4, r6}\n\t"                                                                       \
    "mov r5, r4\n\t"                                                                              \
    "mov r7, r6\n\t"                                                                              \
    TQ_FC_K8_STEP("r8", "r9") TQ_FC_K8_STEP("r10", "r11")                                         \
    "ldm r1!, {r2, r3}\n\t"                                                                       \
    "sub r5, r5, r4\n\t"                                                                          \
    "add r5, r2, r5, asr #8\n\t"                                                                  \
    "sub r7, r7, r6\n\t"                                                                          \
    "add r7, r3, r7, asr #8\n\t"                                                                  \
    "ldr lr, [sp]\n\t"                                                                            \
    TQ_FC_K8_OUT("r4") TQ_FC_K8_OUT("r5") TQ_FC_K8_OUT("r6") TQ_FC_K8_OUT("r7")                   \
    TQ_PACK_R4                                                                                    \
    "str r4, [r0], #4\n\t"

/*
 * tq_fully_connected_s8 for the k8 path's layers (r0 = params, r1 = input, r2 = output). Stack: [sp] 2 *
 * output_zero_point + 1, [sp + 4] output + out_features. The input's two words become 2 * (x0, x2), 2 * (x1, x3),
 * 2 * (x4, x6), 2 * (x5, x7) in r8-r11; then two groups of 4 rows per iteration.
 */
__attribute__((naked, noinline)) static void fc_k8(TQ_ASM_ARG const tq_fully_connected_s8_params *params,
                                                   TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "sub sp, sp, #12\n\t"
        "ldr r3, [r1, #0]\n\t"
        "ldr r12, [r1, #4]\n\t"
        "sxtb16 r8, r3\n\t"
        "sxtb16 r9, r3, ror #8\n\t"
        "sxtb16 r10, r12\n\t"
        "sxtb16 r11, r12, ror #8\n\t"
        "sadd16 r8, r8, r8\n\t"
        "sadd16 r9, r9, r9\n\t"
        "sadd16 r10, r10, r10\n\t"
        "sadd16 r11, r11, r11\n\t"
        "ldr r3, [r0, #" TQ_FC_STR(TQ_FC_OFF_OUTPUT_ZP) "]\n\t"
        "mov r12, #1\n\t"
        "add r3, r12, r3, lsl #1\n\t"
        "str r3, [sp, #0]\n\t"
        "ldr r3, [r0, #4]\n\t"
        "add r3, r2, r3\n\t"
        "str r3, [sp, #4]\n\t"
        "ldr r1, [r0, #" TQ_FC_STR(TQ_FC_OFF_RECORDS) "]\n\t"
        "mov r0, r2\n"
        "1:\n\t"
        TQ_FC_K8_GROUP TQ_FC_K8_GROUP
        "ldr r2, [sp, #4]\n\t"
        "cmp r0, r2\n\t"
        "bne 1b\n\t"
        "add sp, sp, #12\n\t"
        "pop {r4-r11, pc}\n\t");
}

const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_k8 = {fc_k8};

#endif /* TQ_USE_DSP */
