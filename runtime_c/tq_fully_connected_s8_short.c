/*
 * tq_fully_connected_s8_short.c - the DSP fully connected kernel's paths for short layers (params->dsp_path; the
 * generator sets it, tinyqat/codegen/layouts.py fc_dsp_path), each with the same result as tq_fully_connected_s8
 * (tq_kernels.h). All three take layers with requant_fused, the full int8 output range (act_min = -128, act_max = 127)
 * and at most 512 inputs (layouts.py FC_ROWS8_IN_MAX: no row needs chunks, |sum x * w_b| <= 128 * 127 * 512 < 2^23
 * keeps R - S = 256 * sum x * w_b exact), and use tq_fully_connected_s8_dsp.c's row pairs (the int16 pair layout, the
 * input zero point folded into the bias; its comment proves the sums) and its fused output stage,
 * tq_requantize_s8_fused_ssat2 of the doubled sum (tq_requant.h's TQ_REQUANT_FUSED_SSAT2_ASM), whose SSAT is the whole
 * clamp for the full int8 range. Every constant a group of rows needs follows its weights in one record stream
 * (params->records; no separate bias and requantization arrays). No scratch memory; output bytes are written only
 * within out_features.
 *
 * tq_fully_connected_s8_rows8: out_features a multiple of 8, in_features a multiple of 4. tq_fully_connected_s8_dsp.c's
 * groups of 8 rows (TQ_FC_STEP, TQ_FC_OUT) in one assembly routine for the whole layer, the entry step of its unrolled
 * loop computed once per call. Records (Python twin tinyqat/codegen/layouts.py, fc_rows8_records), per group g of rows
 * 8g .. 8g + 7, int32 words: bias_dsp of rows 8g, 8g + 2, 8g + 4, 8g + 6 (the pairs' rows a); the group's weights as in
 * weights_dsp (in_features / 4 steps of 8 words: step s, pair p, half h, lane l (fastest), the little-endian int16 w[8g
 * + 2p][i] + 256 * w[8g + 2p + 1][i], i = 4s + 2l + h); bias_dsp of rows 8g + 1, 8g + 3, 8g + 5, 8g + 7 (rows b); then
 * (multiplier[c], -shift[c] - 1) for c = 8g .. 8g + 7.
 *
 * tq_fully_connected_s8_k8: out_features a multiple of 8, in_features = 8. The whole input stays in four registers as
 * int16 pairs, doubled once per call (2 * x fits int16), so the sums come out doubled (2 * acc, what the output stage
 * takes: no doubling per output) from doubled biases: S = 2 * bias_a + sum 2x * w_a, R = S + 256 * sum 2x * w_b, where
 * |2 * sum x * w_b| <= 2 * 8 * 128 * 127 < 2^23 keeps R - S exact, and 2 * bias_dsp fits int32 (requant_fused bounds
 * |bias_dsp| below 2^30). Groups of 4 rows (2 pairs), two groups per loop iteration. Records (Python twin
 * layouts.fc_k8_records), per group g of rows 4g .. 4g + 3, int32 words: 2 * bias_dsp of rows 4g, 4g + 2; the weights,
 * for step s < 2, pair p < 2, half h, lane l (fastest), the little-endian int16 w[4g + 2p][i] + 256 * w[4g + 2p +
 * 1][i], i = 4s + 2l + h; 2 * bias_dsp of rows 4g + 1, 4g + 3; (multiplier[c], -shift[c] - 1) for c = 4g .. 4g + 3.
 *
 * tq_fully_connected_s8_pairs: out_features 2, 4 or 6 (no group of 8 rows), in_features a multiple of 8. One row pair
 * at a time, two steps (8 inputs) per block of six loads, four blocks per loop iteration, entered at a block computed
 * once per call. Records (Python twin layouts.fc_pairs_records), per pair t: bias_dsp of rows 2t, 2t + 1; for step s <
 * in_features / 4, half h, lane l (fastest), the little-endian int16 w[2t][i] + 256 * w[2t + 1][i], i = 4s + 2l + h;
 * (multiplier[c], -shift[c] - 1) for c = 2t, 2t + 1. bias_dsp[c] = bias[c] - input_zero_point * sum_i w[c][i] in all
 * three.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"
#include <stddef.h>

/* Steps of four inputs per iteration of the rows8 routine's loop. */
#define TQ_FC_ROWS8_UNROLL 8
/* A number as text for the assembly. */
#define TQ_FC_ROWS8_STR2(x) #x
#define TQ_FC_ROWS8_STR(x) TQ_FC_ROWS8_STR2(x)

/* Byte offsets of tq_fully_connected_s8_params' fields that the assembly reads (32-bit pointers). */
#define TQ_FC_ROWS8_OFF_OUTPUT_ZP 12
#define TQ_FC_ROWS8_OFF_RECORDS 64
typedef char tq_fc_rows8_in_at_0[offsetof(tq_fully_connected_s8_params, in_features) == 0 ? 1 : -1];
typedef char tq_fc_rows8_out_at_4[offsetof(tq_fully_connected_s8_params, out_features) == 4 ? 1 : -1];
typedef char tq_fc_rows8_zp_at[offsetof(tq_fully_connected_s8_params, output_zero_point) == TQ_FC_ROWS8_OFF_OUTPUT_ZP
                               ? 1 : -1];
typedef char tq_fc_rows8_rec_at[offsetof(tq_fully_connected_s8_params, records) == TQ_FC_ROWS8_OFF_RECORDS ? 1 : -1];

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
#define TQ_ASM_ARG __attribute__((unused))
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
        "ldr r12, [r0, #" TQ_FC_ROWS8_STR(TQ_FC_ROWS8_OFF_OUTPUT_ZP) "]\n\t"
        "mov r4, #1\n\t"
        "add r12, r4, r12, lsl #1\n\t"
        "str r12, [sp, #12]\n\t"
        "lsr r3, r3, #2\n\t"
        "rsb r3, r3, #0\n\t"
        "and r3, r3, #" TQ_FC_ROWS8_STR(TQ_FC_ROWS8_UNROLL - 1) "\n\t" /* skip */
        "sub r12, r1, r3, lsl #2\n\t"
        "str r12, [sp, #16]\n\t"
        "mov r12, #" TQ_FC_ROWS8_STR(TQ_FC_STEP_BYTES) "\n\t"
        "mul r12, r3, r12\n\t"
        "adr.w r4, 2f\n\t"
        "add r12, r12, r4\n\t"
        "lsl r3, r3, #5\n\t"
        "strd r12, r3, [sp, #20]\n\t"
        "ldr r1, [r0, #" TQ_FC_ROWS8_STR(TQ_FC_ROWS8_OFF_RECORDS) "]\n"
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
        "add r0, r0, #" TQ_FC_ROWS8_STR(4 * TQ_FC_ROWS8_UNROLL) "\n\t"
        "add r1, r1, #" TQ_FC_ROWS8_STR(32 * TQ_FC_ROWS8_UNROLL) "\n\t"
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
        TQ_FC_OUT("r4") TQ_FC_OUT("r5") TQ_FC_OUT("r6") TQ_FC_OUT("r7")
        TQ_FC_OUT("r8") TQ_FC_OUT("r9") TQ_FC_OUT("r10") TQ_FC_OUT("r11")
        "ldr r3, [sp, #4]\n\t"
        "bfi r4, r5, #8, #8\n\t"
        "bfi r4, r6, #16, #8\n\t"
        "bfi r4, r7, #24, #8\n\t"
        "bfi r8, r9, #8, #8\n\t"
        "bfi r8, r10, #16, #8\n\t"
        "bfi r8, r11, #24, #8\n\t"
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
    "bfi r4, r5, #8, #8\n\t"                                                                      \
    "bfi r4, r6, #16, #8\n\t"                                                                     \
    "bfi r4, r7, #24, #8\n\t"                                                                     \
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
        "ldr r3, [r0, #" TQ_FC_ROWS8_STR(TQ_FC_ROWS8_OFF_OUTPUT_ZP) "]\n\t"
        "mov r12, #1\n\t"
        "add r3, r12, r3, lsl #1\n\t"
        "str r3, [sp, #0]\n\t"
        "ldr r3, [r0, #4]\n\t"
        "add r3, r2, r3\n\t"
        "str r3, [sp, #4]\n\t"
        "ldr r1, [r0, #" TQ_FC_ROWS8_STR(TQ_FC_ROWS8_OFF_RECORDS) "]\n\t"
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
        "ldr r3, [r0, #" TQ_FC_ROWS8_STR(TQ_FC_ROWS8_OFF_OUTPUT_ZP) "]\n\t"
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
        "mov r4, #" TQ_FC_ROWS8_STR(TQ_FC_PAIRS_BLOCK_BYTES) "\n\t"
        "mul r4, r3, r4\n\t"
        "adr.w r5, 2f\n\t"
        "add r4, r4, r5\n\t"
        "lsl r3, r3, #4\n\t"
        "strd r4, r3, [sp, #16]\n\t"
        "ldr r1, [r0, #" TQ_FC_ROWS8_STR(TQ_FC_ROWS8_OFF_RECORDS) "]\n"
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
