/*
 * tq_fully_connected_s8_v6m.c - int8 fully connected for Armv6-M (Cortex-M0 / M0+: Thumb-1, MULS 32 x 32 -> 32,
 * no 64-bit multiply), the same function and result as tq_fully_connected_s8.c (formula: tq_kernels.h).
 *
 * Layout path (params->weights_v6m and bias_v6m, which the generator ships for layers with at least 4 outputs
 * of packages planned for an Armv6-M board; Python twins in tinyqat/codegen/layouts.py, v6m_weights and
 * fc_bias_dsp): output rows four at a time (fc_block_1x4, Thumb-1 assembly): per input one LDRB and SXTB of
 * x and, per row, LDRB of the offset weight v = w + 128 (an unsigned byte, so an immediate-offset LDRB; a
 * signed LDRSB has only a register-offset form), MULS, ADDS: 14 instructions per 4 MACs, 8 inputs per loop
 * iteration. With S = sum_i x[i] (once per call) and the input zero point folded into
 * bias_v6m[c] = bias[c] - zp * sum_i w[c][i] at build time,
 *   acc[c] = bias[c] + sum_i w[c][i] * (x[i] - zp) = bias_v6m[c] - 128 * S + sum_i v[c][i] * x[i],
 * computed in wrapping uint32 arithmetic (exact modulo 2^32; the final value lies in the int32 range by
 * tq_kernels.h's accumulator rule). weights_v6m (uint8) is the conv's Armv6-M layout with K = in_features:
 * row group g < ceil(out_features / 4), input i, row r < 4 at (g * in_features + i) * 4 + r, rows past
 * out_features with v = 128 (w = 0; computed, never written).
 * Without the layout (weights_v6m NULL: fewer than 4 outputs, or a package planned for another core): output
 * rows four at a time in C on the natural [out][in] weights, each input value x' = input[i] - input_zero_point
 * loaded and offset once per four rows; every partial sum is the bias plus a subset of the products, within
 * tq_kernels.h's accumulator bound; the out_features mod 4 last rows one at a time.
 * Output stage: tq_requantize_s8_v6m_layer (tq_requant.h: MULS only, the fused form when the generator set
 * params->requant_fused), so no __aeabi_lmul call. No scratch; input and output must not overlap
 * (tq_kernels.h).
 */
#include "tq_kernels.h"

#if TQ_USE_V6M
#include <stddef.h>

#include "tq_requant.h"

#define TQ_FC_V6M_STR2(x) #x
#define TQ_FC_V6M_STR(x) TQ_FC_V6M_STR2(x)

/* Input k of fc_block_1x4's step: r2 = x[k] (sign-extended), then per row r: r3 = v[4k + r]; r3 *= r2; acc += r3. */
#define TQ_FC_V6M_MAC(k, r, acc) \
    "ldrb r3, [r1, #" TQ_FC_V6M_STR(k) "*4+" TQ_FC_V6M_STR(r) "]\n\t" \
    "muls r3, r2, r3\n\t" \
    "adds " acc ", " acc ", r3\n\t"
#define TQ_FC_V6M_INPUT(k) \
    "ldrb r2, [r0, #" TQ_FC_V6M_STR(k) "]\n\t" \
    "sxtb r2, r2\n\t" \
    TQ_FC_V6M_MAC(k, 0, "r4") TQ_FC_V6M_MAC(k, 1, "r5") TQ_FC_V6M_MAC(k, 2, "r6") TQ_FC_V6M_MAC(k, 3, "r7")

/*
 * acc[r] += sum_{i < n} v[4i + r] * x[i] (mod 2^32) for r < 4, n >= 1: v the row group's offset weights, x the
 * int8 input. Eight inputs per loop iteration (immediate offsets up to 31 for the weights, 7 for the input),
 * then the inputs mod 8 one at a time. Accumulators in r4-r7, x in r2, the product in r3; the loop ends in
 * r12 and lr (saved by the push). AAPCS: r0 = x, r1 = v, r2 = n, r3 = acc; r4-r7 saved.
 */
#define TQ_ASM_ARG __attribute__((unused))
__attribute__((naked, noinline)) static void fc_block_1x4(TQ_ASM_ARG const int8_t *x, TQ_ASM_ARG const uint8_t *v,
                                                          TQ_ASM_ARG int32_t n, TQ_ASM_ARG uint32_t *acc)
{
    __asm__ volatile(
        ".syntax unified\n\t" /* GCC passes Thumb-1 inline assembly in divided syntax; it restores its own after */
        "push {r3-r7, lr}\n\t"
        "ldm r3!, {r4-r7}\n\t"
        "adds r3, r0, r2\n\t"
        "mov lr, r3\n\t"                /* end of the input */
        "lsrs r2, r2, #3\n\t"
        "lsls r2, r2, #3\n\t"
        "adds r2, r0, r2\n\t"
        "mov r12, r2\n\t"               /* end of the groups of eight inputs */
        "cmp r0, r12\n\t"
        "beq 2f\n"
        "1:\n\t"
        TQ_FC_V6M_INPUT(0) TQ_FC_V6M_INPUT(1) TQ_FC_V6M_INPUT(2) TQ_FC_V6M_INPUT(3)
        TQ_FC_V6M_INPUT(4) TQ_FC_V6M_INPUT(5) TQ_FC_V6M_INPUT(6) TQ_FC_V6M_INPUT(7)
        "adds r0, #8\n\t"
        "adds r1, #32\n\t"
        "cmp r0, r12\n\t"
        "bne 1b\n"
        "2:\n\t"
        "cmp r0, lr\n\t"
        "beq 4f\n"
        "3:\n\t"
        TQ_FC_V6M_INPUT(0)
        "adds r0, #1\n\t"
        "adds r1, #4\n\t"
        "cmp r0, lr\n\t"
        "bne 3b\n"
        "4:\n\t"
        "pop {r3}\n\t"
        "stm r3!, {r4-r7}\n\t"
        "pop {r4-r7, pc}\n\t");
}

/* Row c's output byte from its accumulator (one copy, called for every row). */
__attribute__((noinline)) static int8_t fc_v6m_out(const tq_fully_connected_s8_params *p, int32_t c, int32_t acc)
{
    return tq_requantize_s8_v6m_layer(acc, p->requant_fused, p->multiplier[c], p->shift[c], p->output_zero_point,
                                      p->act_min, p->act_max);
}

/* The layout path (file comment). */
static void fc_v6m_layout(const tq_fully_connected_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t n = p->in_features, out_f = p->out_features;
    const uint8_t *v = p->weights_v6m;
    uint32_t start = 0;
    int32_t c, r, i;
    for (i = 0; i < n; ++i) {
        start -= 128u * (uint32_t)(int32_t)input[i]; /* -128 * S */
    }
    for (c = 0; c < out_f; c += 4, v += 4 * n) {
        uint32_t acc[4];
        for (r = 0; r < 4; ++r) {
            acc[r] = start + (c + r < out_f ? (uint32_t)p->bias_v6m[c + r] : 0u);
        }
        fc_block_1x4(input, v, n, acc);
        for (r = 0; r < 4 && c + r < out_f; ++r) {
            output[c + r] = fc_v6m_out(p, c + r, (int32_t)acc[r]);
        }
    }
}

void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_fully_connected_s8_params *p = params;
    const int32_t n = p->in_features, out_f = p->out_features, zp = p->input_zero_point;
    const int8_t *w = p->weights;
    int32_t c = 0, i;
    if (p->weights_v6m != NULL) {
        fc_v6m_layout(p, input, output);
        return;
    }
    for (; c + 4 <= out_f; c += 4, w += 4 * n) {
        const int8_t *w0 = w, *w1 = w + n, *w2 = w1 + n, *w3 = w2 + n;
        int32_t a0 = p->bias[c], a1 = p->bias[c + 1], a2 = p->bias[c + 2], a3 = p->bias[c + 3];
        for (i = 0; i < n; ++i) {
            const int32_t x = (int32_t)input[i] - zp;
            a0 += (int32_t)w0[i] * x;
            a1 += (int32_t)w1[i] * x;
            a2 += (int32_t)w2[i] * x;
            a3 += (int32_t)w3[i] * x;
        }
        output[c] = fc_v6m_out(p, c, a0);
        output[c + 1] = fc_v6m_out(p, c + 1, a1);
        output[c + 2] = fc_v6m_out(p, c + 2, a2);
        output[c + 3] = fc_v6m_out(p, c + 3, a3);
    }
    for (; c < out_f; ++c, w += n) {
        int32_t acc = p->bias[c];
        for (i = 0; i < n; ++i) {
            acc += (int32_t)w[i] * ((int32_t)input[i] - zp);
        }
        output[c] = fc_v6m_out(p, c, acc);
    }
}

#endif /* TQ_USE_V6M */
