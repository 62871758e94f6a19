/*
 * tq_fully_connected_s8_dsp.c - int8 fully connected for cores with the DSP extension,
 * the same function and result as tq_fully_connected_s8.c (see tq_kernels.h for the formula).
 *
 * Method (batch 1: every weight is used once, so the cost is the weight stream). The input zero
 * point is folded into the bias at build time: bias_dsp[c] = bias[c] - zp * sum_i w[c][i] (exact
 * integer arithmetic), so acc[c] = bias_dsp[c] + sum_i w[c][i] * x[i] on the raw int8 input.
 * Rows are taken in pairs (a, b) whose weights are stored as one int16 per input,
 * v[i] = w[a][i] + 256 * w[b][i] (|v| <= 32639): its low byte, sign-extended, is w[a][i], and
 * the high byte is w[b][i] - (w[a][i] < 0). One weight word holds v for two inputs, and per word
 *   R += SMLAD(x2, word)            R = sum x * (w_a + 256 * w_b)
 *   S += SMLAD(x2, SXTB16(word))    S = sum x * w_a
 * (x2: two inputs as int16, SXTB16 of an input word). So S is row a's sum, and (R - S) / 256 row
 * b's: 3 instructions per 4 MACs instead of 4. R and S wrap modulo 2^32, but R - S = 256 * sum x *
 * w_b is exact in int32 as long as |sum x * w_b| < 2^23, which 128 * 127 * inputs guarantees for up
 * to 516 inputs: longer rows are summed in chunks of TQ_FC_DSP_CHUNK_STEPS * 4 = 512 inputs, each
 * chunk's (S, (R - S) >> 8) added to the row's int32 sum. Every sum is the same integer as the
 * portable kernel's (tq_kernels.h bounds |acc|; partial sums are added modulo 2^32, uint32_t).
 *
 * Rows four at a time (two pairs): block_fc_4x4, Thumb-2 assembly, runs steps of four inputs: one
 * input word (x0, x1, x2, x3) gives x02 = SXTB16(x) and x13 = SXTB16(x, ROR #8), shared by both
 * pairs; four weight words (pair 0 with x02, pair 0 with x13, pair 1 with x02, pair 1 with x13)
 * follow in memory, and the step is 5 loads (pipelined), 6 SXTB16 and 8 SMLAD for 16 MACs.
 * The in_features mod 4 last inputs are multiplied one by one, the out_features mod 4 last rows
 * run a two-row SXTB16 loop on natural-order rows (an odd last row with itself as partner).
 *
 * Layout of weights_dsp (in_features * out_features bytes; Python twin: tinyqat/codegen/layouts.py,
 * fc_weights_dsp), N = in_features, S = N / 4, T = N mod 4, G = out_features / 4:
 *   for each group g < G (rows 4g .. 4g + 3, pairs p = 0, 1 of rows (4g + 2p, 4g + 2p + 1)):
 *     16 * S bytes: for step s < S, pair p < 2, half h < 2, lane l < 2, the int16 (little-endian)
 *       w[4g + 2p][i] + 256 * w[4g + 2p + 1][i], i = 4s + 2l + h;
 *     then 4 * T bytes: w[4g + r][4S + t], r < 4, t < T;
 *   then the out_features mod 4 last rows in natural order, w[4G + r][i], i < N.
 *
 * Output stage: tq_requantize_s8_fused when the params say requant_fused (decided at build time),
 * tq_requantize_s8_fast otherwise (tq_requant.h). Params without weights_dsp (NULL) run the
 * portable loop (tq_portable.h). No scratch memory.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_portable.h"
#include "tq_requant.h"

/* Steps of four inputs per block_fc_4x4 call: 512 inputs, |sum x * w_b| <= 128 * 127 * 512 < 2^23. */
#define TQ_FC_DSP_CHUNK_STEPS 128

/* One step of block_fc_4x4: r0 = x, r1 = w (both post-incremented), r4-r7 = R0, S0, R1, S1. */
#define TQ_FC_STEP                                                                                 \
    "ldr r8, [r0], #4\n\t"                                                                        \
    "ldr r10, [r1], #4\n\t"                                                                       \
    "ldr r11, [r1], #4\n\t"                                                                       \
    "ldr r12, [r1], #4\n\t"                                                                       \
    "ldr lr, [r1], #4\n\t"                                                                        \
    "sxtb16 r9, r8, ror #8\n\t"                                                                   \
    "sxtb16 r8, r8\n\t"                                                                           \
    "smlad r4, r8, r10, r4\n\t"                                                                   \
    "sxtb16 r10, r10\n\t"                                                                         \
    "smlad r5, r8, r10, r5\n\t"                                                                   \
    "smlad r4, r9, r11, r4\n\t"                                                                   \
    "sxtb16 r11, r11\n\t"                                                                         \
    "smlad r5, r9, r11, r5\n\t"                                                                   \
    "smlad r6, r8, r12, r6\n\t"                                                                   \
    "sxtb16 r12, r12\n\t"                                                                         \
    "smlad r7, r8, r12, r7\n\t"                                                                   \
    "smlad r6, r9, lr, r6\n\t"                                                                    \
    "sxtb16 lr, lr\n\t"                                                                           \
    "smlad r7, r9, lr, r7\n\t"

/*
 * acc = {R0, S0, R1, S1} of two row pairs over steps >= 1 steps of four inputs from x, weights from w
 * (the group's stream, see the file comment), starting from 0. Four steps per loop iteration, then
 * one at a time. AAPCS: r0 = x, r1 = w, r2 = steps, r3 = acc; r4-r11 saved, r3 kept on the stack.
 */
#define TQ_ASM_ARG __attribute__((unused))
__attribute__((naked, noinline)) static void block_fc_4x4(TQ_ASM_ARG const int8_t *x, TQ_ASM_ARG const int8_t *w,
                                                          TQ_ASM_ARG int32_t steps, TQ_ASM_ARG int32_t *acc)
{
    __asm__ volatile(
        "push {r3-r11, lr}\n\t"
        "add r3, r0, r2, lsl #2\n\t"
        "bic r2, r2, #3\n\t"
        "add r2, r0, r2, lsl #2\n\t"
        "movs r4, #0\n\t"
        "movs r5, #0\n\t"
        "movs r6, #0\n\t"
        "movs r7, #0\n\t"
        "cmp r0, r2\n\t"
        "beq 2f\n"
        "1:\n\t"
        TQ_FC_STEP TQ_FC_STEP TQ_FC_STEP TQ_FC_STEP
        "cmp r0, r2\n\t"
        "bne 1b\n"
        "2:\n\t"
        "cmp r0, r3\n\t"
        "beq 4f\n"
        "3:\n\t"
        TQ_FC_STEP
        "cmp r0, r3\n\t"
        "bne 3b\n"
        "4:\n\t"
        "ldr r3, [sp]\n\t"
        "stm r3, {r4-r7}\n\t"
        "pop {r3-r11, pc}\n\t");
}

/* Row b's sum of a pair from R and S: (R - S) / 256, exact (see the file comment). */
static inline uint32_t pair_high(int32_t r, int32_t s)
{
    return (uint32_t)((int32_t)((uint32_t)r - (uint32_t)s) >> 8);
}

/* The output stage of one channel: per-layer constants, fused or not (see the file comment). */
typedef struct {
    int32_t fused, zp_out, act_min, act_max;
    const int32_t *multiplier, *shift;
} out_stage;

/* The general (not fused) output stage, out of line: one copy of its code. */
__attribute__((noinline)) static int8_t requant_fast(const out_stage *o, int32_t c, uint32_t acc)
{
    return tq_requantize_s8_fast((int32_t)acc, o->multiplier[c], o->shift[c], o->zp_out, o->act_min, o->act_max);
}

/* Channel c's output: the fused stage inline, else requant_fast. */
__attribute__((always_inline)) static inline int8_t requant(const out_stage *o, int32_t c, uint32_t acc)
{
    if (o->fused) {
        return (int8_t)tq_requantize_s8_fused((int32_t)acc, o->multiplier[c], -o->shift[c], o->zp_out, o->act_min,
                                              o->act_max);
    }
    return requant_fast(o, c, acc);
}

void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_fully_connected_s8_params *p = params;
    /* Locals, not p->...: stores through int8_t * may alias *p, so the compiler would reload. */
    const int32_t n = p->in_features, out_f = p->out_features;
    const int32_t steps = n >> 2, tail = n & 3;
    const int8_t *const x_tail = input + (n - tail);
    const int32_t *bias = p->bias_dsp;
    const int8_t *w = p->weights_dsp;
    out_stage o;
    int32_t c, i, t;
    if (w == NULL) {
        tq_fully_connected_s8_portable(p, input, output);
        return;
    }
    o.multiplier = p->multiplier;
    o.shift = p->shift;
    o.zp_out = p->output_zero_point;
    o.act_min = p->act_min;
    o.act_max = p->act_max;
    o.fused = p->requant_fused;
    for (c = 0; c + 4 <= out_f; c += 4) {
        uint32_t s0 = (uint32_t)bias[c], s1 = (uint32_t)bias[c + 1];
        uint32_t s2 = (uint32_t)bias[c + 2], s3 = (uint32_t)bias[c + 3];
        const int8_t *x = input;
        int32_t left = steps;
        while (left > 0) {
            const int32_t k = left < TQ_FC_DSP_CHUNK_STEPS ? left : TQ_FC_DSP_CHUNK_STEPS;
            int32_t acc[4];
            block_fc_4x4(x, w, k, acc);
            s0 += (uint32_t)acc[1];
            s1 += pair_high(acc[0], acc[1]);
            s2 += (uint32_t)acc[3];
            s3 += pair_high(acc[2], acc[3]);
            x += 4 * k;
            w += 16 * k;
            left -= k;
        }
        for (t = 0; t < tail; ++t, ++w) {
            const int32_t v = x_tail[t];
            s0 += (uint32_t)(w[0] * v);
            s1 += (uint32_t)(w[tail] * v);
            s2 += (uint32_t)(w[2 * tail] * v);
            s3 += (uint32_t)(w[3 * tail] * v);
        }
        w += 3 * tail;
        output[c] = requant(&o, c, s0);
        output[c + 1] = requant(&o, c + 1, s1);
        output[c + 2] = requant(&o, c + 2, s2);
        output[c + 3] = requant(&o, c + 3, s3);
    }
    for (; c < out_f; c += 2) { /* the last 1 to 3 rows, natural order, two at a time */
        const int32_t c1 = c + 1 < out_f ? c + 1 : c;
        const int8_t *w0 = w + (c - (out_f & ~3)) * n;
        const int8_t *w1 = w + (c1 - (out_f & ~3)) * n;
        int32_t a0 = bias[c], a1 = bias[c1];
        for (i = 0; i + 4 <= n; i += 4) {
            const int32_t xv = tq_load_s8x4(input + i);
            const int32_t x02 = __sxtb16(xv), x13 = tq_sxtb16_odd(xv);
            int32_t wv = tq_load_s8x4(w0 + i);
            a0 = __smlad(x02, __sxtb16(wv), a0);
            a0 = __smlad(x13, tq_sxtb16_odd(wv), a0);
            wv = tq_load_s8x4(w1 + i);
            a1 = __smlad(x02, __sxtb16(wv), a1);
            a1 = __smlad(x13, tq_sxtb16_odd(wv), a1);
        }
        for (; i < n; ++i) {
            a0 = (int32_t)((uint32_t)a0 + (uint32_t)(w0[i] * input[i]));
            a1 = (int32_t)((uint32_t)a1 + (uint32_t)(w1[i] * input[i]));
        }
        output[c] = requant(&o, c, (uint32_t)a0);
        output[c1] = requant(&o, c1, (uint32_t)a1);
    }
}

#endif /* TQ_USE_DSP */
