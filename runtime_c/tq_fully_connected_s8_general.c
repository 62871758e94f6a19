/*
 * tq_fully_connected_s8_general.c - the DSP fully connected kernel's general path (params->dsp_path =
 * &tq_fully_connected_s8_general; the generator sets it for the layers no shorter path takes, tinyqat/codegen/layouts.py
 * fc_dsp_path, and a package ships this file only with such a layer): the same result as tq_fully_connected_s8
 * (tq_kernels.h) for every layer whose params carry the DSP layout (weights_dsp, bias_dsp, requant_dsp).
 *
 * Method (batch 1: every weight is used once, so the cost is the weight stream). The input zero
 * point is folded into the bias at build time: bias_dsp[c] = bias[c] - zp * sum_i w[c][i] (exact
 * integer arithmetic), so acc[c] = bias_dsp[c] + sum_i w[c][i] * x[i] on the raw int8 input.
 * Rows are taken in pairs (a, b) whose weights are stored as one int16 per input,
 * v[i] = w[a][i] + 256 * w[b][i] (|v| <= 32639): its low byte, sign-extended, is w[a][i] (the high
 * byte is w[b][i] - (w[a][i] < 0)). One weight word holds v for two inputs, and per word
 *   R += SMLAD(x2, word)            R = sum x * (w_a + 256 * w_b)
 *   S += SMLAD(x2, SXTB16(word))    S = sum x * w_a
 * (x2: two inputs as int16, SXTB16 of an input word): S is row a's sum and (R - S) / 256 row b's,
 * 3 instructions per 4 MACs instead of 4. R and S wrap modulo 2^32; R - S = 256 * sum x * w_b is
 * exact in int32 while |sum x * w_b| < 2^23, which 128 * 127 * inputs guarantees up to 516 inputs:
 * longer rows run in chunks of at most TQ_FC_DSP_CHUNK_STEPS * 4 = 512 inputs (the first chunk
 * takes the remainder), each chunk's (R - S) >> 8 added to row b's sum and R reset to S. S needs
 * no chunks. Every sum is the portable kernel's modulo 2^32, hence equal to it (tq_kernels.h
 * bounds |acc| below 2^31).
 *
 * fc_groups (Thumb-2 assembly) runs groups of eight rows (four pairs) in steps of four inputs: one
 * input word (x0, x1, x2, x3) gives x02 = SXTB16(x) and x13 = SXTB16(x, ROR #8), shared by the four
 * pairs, whose weight words follow in memory (pair 0 with x02, pair 0 with x13, pair 1 ...): per
 * step 9 loads (immediate offsets, no base update), 10 SXTB16 and 16 SMLAD for 32 MACs (39 estimated cycles),
 * TQ_FC_DSP_UNROLL (8) steps per loop iteration. Layers whose params say requant_fused get their output stage in the same routine:
 * tq_requantize_s8_fused_ssat2 of the doubled sum (tq_requant.h, one SMMLAR, as TQ_REQUANT_FUSED_SSAT2_ASM,
 * reading the channel's (q, e - 1) pair of requant_dsp with one LDRD), equal there to tq_requantize_s8 with the
 * full int8 range; the bytes are then clamped to [act_min, act_max] four at a time
 * (SSUB8 / SEL) and stored as two words. Other layers get the group's sums back (job.acc) and
 * requantize in C (requant_rows). The pairs of rows after the last full group (out_features mod 8, but an odd last
 * row) run tail_pairs1 (C, the same pair method, one pair at a time, four steps per iteration with each two steps'
 * six loads together, the same chunks), then requant_rows (fused layers: TQ_REQUANT_FUSED_SSAT2_ASM as above and
 * the clamp). An odd last row, and every row when in_features is not a multiple of 4, run a C loop on
 * natural-order rows, two at a time with SXTB16.
 *
 * Layout of weights_dsp (in_features * out_features bytes; Python twin: tinyqat/codegen/layouts.py,
 * fc_weights_dsp): G = out_features / 8 groups when in_features is a multiple of 4, else 0; group g,
 * for step s < in_features / 4, pair p < 4, half h < 2, lane l < 2 (l fastest), holds the
 * little-endian int16 w[8g + 2p][i] + 256 * w[8g + 2p + 1][i], i = 4s + 2l + h; then (in_features a multiple of
 * 4) P = (out_features mod 8) / 2 blocks of one pair (layouts.fc_dsp_tail_pairs), block t holding for step s, half
 * h, lane l the int16 w[8G + 2t][i] + 256 * w[8G + 2t + 1][i]; then the other rows (8G + 2P ... out_features - 1)
 * in natural order. requant_dsp (Python twin: layouts.fc_requant_dsp) holds the pairs
 * (multiplier[c], -shift[c] - 1), set together with weights_dsp. No scratch memory; output bytes are written only
 * within out_features. Short layers run paths of their own instead (tq_fully_connected_s8_rows8.c, _k8.c, _pairs.c,
 * _rows8p.c: the same sums). The assembly steps are tq_dsp.h's TQ_FC_STEP and TQ_FC_OUT.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"
#include <stddef.h>

/* Steps of four inputs per chunk: 512 inputs, |sum x * w_b| <= 128 * 127 * 512 < 2^23. */
#define TQ_FC_DSP_CHUNK_STEPS 128
/* Steps per iteration of fc_groups' main loop (a divisor of TQ_FC_DSP_CHUNK_STEPS). */
#define TQ_FC_DSP_UNROLL 8

/* The work of fc_groups, read and updated by the assembly at the byte offsets in the comments. */
typedef struct {
    const int8_t *x;          /*  0: input */
    const int8_t *w;          /*  4: the next group's weights (advanced) */
    const int32_t *bias;      /*  8: the next group's 8 bias_dsp values (advanced) */
    const int32_t *rq;        /* 12: fused: the next group's requant_dsp pairs (advanced) */
    int8_t *out;              /* 16: fused: the next group's outputs (advanced) */
    int32_t skip;             /* 20: steps of the first iteration skipped (0 .. 7): the first chunk's steps mod 8 run first */
    const int8_t *first_end;  /* 24: end of the first chunk */
    const int8_t *x_end;      /* 28: input + in_features */
    int32_t groups;           /* 32: groups to run, >= 1 (1 when not fused) */
    int32_t fused;            /* 36: 1: requantize and store; 0: leave the sums in acc */
    int32_t zp2;              /* 40: 2 * output_zero_point + 1 */
    uint32_t lo4, hi4;        /* 44, 48: act_min, act_max in each byte */
    int32_t acc[8];           /* 52: not fused: the group's 8 sums; acc[0..3]: row b sums during a group */
} fc_job;

/* Compile-time checks of the offsets the assembly uses (32-bit pointers). */
typedef char tq_fc_job_rq_at_12[offsetof(fc_job, rq) == 12 ? 1 : -1];
typedef char tq_fc_job_out_at_16[offsetof(fc_job, out) == 16 ? 1 : -1];
typedef char tq_fc_job_skip_at_20[offsetof(fc_job, skip) == 20 ? 1 : -1];
typedef char tq_fc_job_x_end_at_28[offsetof(fc_job, x_end) == 28 ? 1 : -1];
typedef char tq_fc_job_groups_at_32[offsetof(fc_job, groups) == 32 ? 1 : -1];
typedef char tq_fc_job_zp2_at_40[offsetof(fc_job, zp2) == 40 ? 1 : -1];
typedef char tq_fc_job_lo4_at_44[offsetof(fc_job, lo4) == 44 ? 1 : -1];
typedef char tq_fc_job_acc_at_52[offsetof(fc_job, acc) == 52 ? 1 : -1];

/*
 * Runs job->groups groups of 8 rows (see fc_job and the file comment). Stack: [sp] end of the chunk, [sp + 8] job.
 * Each chunk runs whole iterations of TQ_FC_DSP_UNROLL steps; the first chunk's first iteration enters the loop at
 * step job->skip (a computed jump of skip * TQ_FC_STEP_BYTES) with x and w rewound by skip steps, so that its
 * remainder steps need no loop of their own.
 */
#define TQ_ASM_ARG __attribute__((unused))
__attribute__((naked, noinline)) static void fc_groups(TQ_ASM_ARG fc_job *job)
{
    __asm__ volatile(
        "push {r0, r4-r11, lr}\n\t"
        "sub sp, sp, #8\n"
        "5:\n\t" /* group: r0 = job */
        "ldr r2, [r0, #8]\n\t"
        "ldm r2!, {r4-r11}\n\t"
        "str r2, [r0, #8]\n\t"
        "add r2, r0, #52\n\t"
        "stm r2, {r5, r7, r9, r11}\n\t" /* row b sums start at their bias */
        "mov r5, r4\n\t"                 /* R = S = bias of row a */
        "mov r7, r6\n\t"
        "mov r9, r8\n\t"
        "mov r11, r10\n\t"
        "ldrd r2, r3, [r0, #20]\n\t"
        "str r3, [sp]\n\t"
        "ldr r1, [r0, #4]\n\t"
        "ldr r0, [r0, #0]\n\t"
        /* the first chunk's first iteration starts at step `skip` (r2), x and w rewound by as many steps */
        "sub r0, r0, r2, lsl #2\n\t"
        "sub r1, r1, r2, lsl #5\n\t"
        "mov r3, #" TQ_FC_STR(TQ_FC_STEP_BYTES) "\n\t"
        "mul r2, r2, r3\n\t"
        "adr.w r3, 1f\n\t"
        "add r3, r3, r2\n\t"
        "mov pc, r3\n\t"
        ".p2align 2\n"
        "1:\n\t"
        TQ_FC_STEP("0") TQ_FC_STEP("1") TQ_FC_STEP("2") TQ_FC_STEP("3") TQ_FC_STEP("4") TQ_FC_STEP("5")
        TQ_FC_STEP("6") TQ_FC_STEP("7")
        "add r0, r0, #32\n\t"
        "add r1, r1, #256\n\t"
        "ldr r12, [sp]\n\t"
        "cmp r0, r12\n\t"
        "bne 1b\n\t"
        /* chunk end: R - S = 256 * row b's chunk sum */
        "ldr r3, [sp, #8]\n\t"
        "sub r5, r5, r4\n\t"
        "sub r7, r7, r6\n\t"
        "sub r9, r9, r8\n\t"
        "sub r11, r11, r10\n\t"
        "ldr r2, [r3, #28]\n\t"
        "cmp r0, r2\n\t"
        "bne 10f\n\t"
        /* last chunk: r3 = job, r1 = w; the 8 sums to r4-r11 in row order */
        "str r1, [r3, #4]\n\t"
        "add r2, r3, #52\n\t"
        "ldm r2, {r0, r1, r12, lr}\n\t"
        "add r5, r0, r5, asr #8\n\t"
        "add r7, r1, r7, asr #8\n\t"
        "add r9, r12, r9, asr #8\n\t"
        "add r11, lr, r11, asr #8\n\t"
        "ldr r12, [r3, #36]\n\t"
        "cmp r12, #0\n\t"
        "bne 8f\n\t"
        "stm r2, {r4-r11}\n\t"
        "b 9f\n"
        "10:\n\t" /* more chunks: row b sums += (R - S) >> 8, R = S, the next chunk is 128 steps */
        "ldrd r2, r12, [r3, #52]\n\t"
        "add r2, r2, r5, asr #8\n\t"
        "add r12, r12, r7, asr #8\n\t"
        "strd r2, r12, [r3, #52]\n\t"
        "ldrd r2, r12, [r3, #60]\n\t"
        "add r2, r2, r9, asr #8\n\t"
        "add r12, r12, r11, asr #8\n\t"
        "strd r2, r12, [r3, #60]\n\t"
        "mov r5, r4\n\t"
        "mov r7, r6\n\t"
        "mov r9, r8\n\t"
        "mov r11, r10\n\t"
        "add r2, r0, #" TQ_FC_STR(TQ_FC_DSP_CHUNK_STEPS * 4) "\n\t"
        "str r2, [sp]\n\t"
        "b 1b\n"
        "8:\n\t"
        "ldr r1, [r3, #12]\n\t"
        "ldr r0, [r3, #40]\n\t"
        TQ_FC_OUT8
        "ldr r3, [sp, #8]\n\t"
        "str r1, [r3, #12]\n\t"
        TQ_PACK_R4 TQ_PACK_R8
        "ldrd r12, lr, [r3, #44]\n\t"
        "ssub8 r5, r4, r12\n\t"
        "sel r4, r4, r12\n\t"
        "ssub8 r5, lr, r4\n\t"
        "sel r4, r4, lr\n\t"
        "ssub8 r5, r8, r12\n\t"
        "sel r8, r8, r12\n\t"
        "ssub8 r5, lr, r8\n\t"
        "sel r8, r8, lr\n\t"
        "ldr r2, [r3, #16]\n\t"
        "str r4, [r2], #4\n\t"
        "str r8, [r2], #4\n\t"
        "str r2, [r3, #16]\n\t"
        "mov r0, r3\n\t"
        "ldr r2, [r3, #32]\n\t"
        "subs r2, r2, #1\n\t"
        "str r2, [r3, #32]\n\t"
        "bne 5b\n"
        "9:\n\t"
        "add sp, sp, #8\n\t"
        "pop {r0, r4-r11, pc}\n\t");
}

/* One step of a row pair (S, R) of a tail block: x02 / x13 the step's inputs as int16 pairs, u0 / u1 the pair's two
 * weight words (see the file comment). */
static inline void pair_step(int32_t x02, int32_t x13, int32_t u0, int32_t u1, int32_t *s, int32_t *r)
{
    *r = __smlad(x02, u0, *r);
    *s = __smlad(x02, __sxtb16(u0), *s);
    *r = __smlad(x13, u1, *r);
    *s = __smlad(x13, __sxtb16(u1), *s);
}

/* row b's sum += (R - S) / 256 of a chunk (exact, see the file comment), modulo 2^32. */
static inline int32_t pair_b(int32_t b, int32_t r, int32_t s)
{
    return (int32_t)((uint32_t)b + (uint32_t)((int32_t)((uint32_t)r - (uint32_t)s) >> 8));
}

/* Steps of the next chunk of a tail block (at most TQ_FC_DSP_CHUNK_STEPS) when `left` steps remain. */
static inline int32_t chunk_steps(int32_t left)
{
    return left > TQ_FC_DSP_CHUNK_STEPS ? TQ_FC_DSP_CHUNK_STEPS : left;
}

/* Two steps of a one-pair tail block at x, w (six loads together). */
static inline void pair1_2steps(const int8_t *x, const int8_t *w, int32_t *s, int32_t *r)
{
    const int32_t xv = tq_load_s8x4(x), xw = tq_load_s8x4(x + 4), u0 = tq_load_s8x4(w);
    const int32_t u1 = tq_load_s8x4(w + 4), u2 = tq_load_s8x4(w + 8), u3 = tq_load_s8x4(w + 12);
    pair_step(__sxtb16(xv), tq_sxtb16_odd(xv), u0, u1, s, r);
    pair_step(__sxtb16(xw), tq_sxtb16_odd(xw), u2, u3, s, r);
}

/* A tail pair (rows a, b in acc, which start at their bias_dsp and end at their sums) over `steps` steps of four
 * inputs, in chunks of at most TQ_FC_DSP_CHUNK_STEPS steps, four steps per iteration (then two and one); source order
 * keeps each two steps' six loads together (TQ_DSP_BLOCK). Returns the weights after the pair. */
TQ_DSP_BLOCK static const int8_t *tail_pairs1(const int8_t *x, const int8_t *w, int32_t steps, int32_t acc[2])
{
    int32_t s = acc[0], b = acc[1];
    while (steps > 0) {
        const int32_t chunk = chunk_steps(steps);
        int32_t r = s, k;
        steps -= chunk;
        for (k = chunk >> 2; k > 0; --k) {
            pair1_2steps(x, w, &s, &r);
            pair1_2steps(x + 8, w + 16, &s, &r);
            x += 16;
            w += 32;
        }
        if ((chunk & 2) != 0) {
            pair1_2steps(x, w, &s, &r);
            x += 8;
            w += 16;
        }
        if ((chunk & 1) != 0) {
            const int32_t xv = tq_load_s8x4(x), u0 = tq_load_s8x4(w), u1 = tq_load_s8x4(w + 4);
            pair_step(__sxtb16(xv), tq_sxtb16_odd(xv), u0, u1, &s, &r);
            x += 4;
            w += 8;
        }
        b = pair_b(b, r, s);
    }
    acc[0] = s;
    acc[1] = b;
    return w;
}

/* Two natural-order rows: acc[k] += sum_i w_k[i] * x[i] (the input zero point is in bias_dsp), modulo 2^32 (the
 * final sums are exact). Eight inputs per iteration; TQ_DSP_BLOCK keeps each group's loads together. */
TQ_DSP_BLOCK static void rows_2(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t acc[2])
{
    int32_t a0 = acc[0], a1 = acc[1], i = 0;
    for (; i + 8 <= n; i += 8) {
        int32_t xv = tq_load_s8x4(x + i), u = tq_load_s8x4(w0 + i), v = tq_load_s8x4(w1 + i);
        int32_t x02 = __sxtb16(xv), x13 = tq_sxtb16_odd(xv);
        a0 = __smlad(x02, __sxtb16(u), a0);
        a0 = __smlad(x13, tq_sxtb16_odd(u), a0);
        a1 = __smlad(x02, __sxtb16(v), a1);
        a1 = __smlad(x13, tq_sxtb16_odd(v), a1);
        xv = tq_load_s8x4(x + i + 4);
        u = tq_load_s8x4(w0 + i + 4);
        v = tq_load_s8x4(w1 + i + 4);
        x02 = __sxtb16(xv);
        x13 = tq_sxtb16_odd(xv);
        a0 = __smlad(x02, __sxtb16(u), a0);
        a0 = __smlad(x13, tq_sxtb16_odd(u), a0);
        a1 = __smlad(x02, __sxtb16(v), a1);
        a1 = __smlad(x13, tq_sxtb16_odd(v), a1);
    }
    for (; i < n; ++i) {
        a0 = (int32_t)((uint32_t)a0 + (uint32_t)(w0[i] * x[i]));
        a1 = (int32_t)((uint32_t)a1 + (uint32_t)(w1[i] * x[i]));
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* The C output stage (layers without requant_fused, the tail blocks and the natural rows), one copy: output[c + k] of
 * acc[k], k < count; channel c's multiplier and shift from requant_dsp (q, -shift - 1). */
__attribute__((noinline)) static void requant_rows(const tq_fully_connected_s8_params *p, int32_t c, const int32_t *acc,
                                                   int32_t count, int8_t *output)
{
    const int32_t *rq = p->requant_dsp;
    const int32_t fused = p->requant_fused, zp = p->output_zero_point, lo = p->act_min, hi = p->act_max;
    int32_t k;
    if (fused) { /* fc_groups' fused stage: TQ_REQUANT_FUSED_SSAT2_ASM of 2 * acc, then the clamp */
        const int32_t zp2 = 2 * zp + 1;
        for (k = 0; k < count; ++k, ++c) {
            int32_t y = (int32_t)((uint32_t)acc[k] << 1), t;
            __asm__(TQ_REQUANT_FUSED_SSAT2_ASM("%0", "%2", "%3", "%1", "%4")
                    : "+r"(y), "=&r"(t)
                    : "r"(rq[2 * c]), "r"(rq[2 * c + 1]), "r"(zp2));
            y = y < lo ? lo : y;
            output[c] = (int8_t)(y > hi ? hi : y);
        }
        return;
    }
    for (k = 0; k < count; ++k, ++c) {
        output[c] = tq_requantize_s8_fast(acc[k], rq[2 * c], -rq[2 * c + 1] - 1, zp, lo, hi);
    }
}

/* The general path (params with weights_dsp, bias_dsp and requant_dsp). */
__attribute__((noinline)) static void fc_dsp(const tq_fully_connected_s8_params *params, const int8_t *input,
                                             int8_t *output)
{
    const tq_fully_connected_s8_params *p = params;
    const int32_t n = p->in_features, out_f = p->out_features;
    int32_t groups = (n & 3) != 0 ? 0 : out_f >> 3; /* layouts.py: fc_dsp_groups */
    const int32_t *bias = p->bias_dsp;
    const int8_t *w = p->weights_dsp;
    int32_t c = 0;
    if (groups > 0) {
        const int32_t steps = n >> 2;
        const int32_t first = steps - (steps - 1) / TQ_FC_DSP_CHUNK_STEPS * TQ_FC_DSP_CHUNK_STEPS; /* 1 .. 128 */
        fc_job job;
        job.x = input;
        job.w = w;
        job.bias = bias;
        job.rq = p->requant_dsp;
        job.out = output;
        job.skip = (TQ_FC_DSP_UNROLL - (first & (TQ_FC_DSP_UNROLL - 1))) & (TQ_FC_DSP_UNROLL - 1);
        job.first_end = input + 4 * first;
        job.x_end = input + n;
        job.zp2 = 2 * p->output_zero_point + 1;
        job.lo4 = 0x01010101u * (uint8_t)p->act_min;
        job.hi4 = 0x01010101u * (uint8_t)p->act_max;
        if (p->requant_fused) {
            job.groups = groups;
            job.fused = 1;
            fc_groups(&job);
        } else {
            job.fused = 0;
            for (c = 0; c < 8 * groups; c += 8) {
                job.groups = 1;
                fc_groups(&job);
                requant_rows(p, c, job.acc, 8, output);
            }
        }
        c = 8 * groups;
        w = job.w;
    }
    if ((n & 3) == 0 && out_f - c >= 2) { /* tail pairs (layouts.py: fc_dsp_tail_pairs) */
        int32_t acc[6], k = 0;
        for (; k + 2 <= out_f - c; k += 2) {
            acc[k] = bias[c + k];
            acc[k + 1] = bias[c + k + 1];
            w = tail_pairs1(input, w, n >> 2, acc + k);
        }
        requant_rows(p, c, acc, k, output);
        c += k;
    }
    for (; c < out_f; c += 2) { /* natural-order rows, two at a time (an odd last row twice) */
        const int32_t c1 = c + 1 < out_f ? c + 1 : c;
        int32_t acc[2];
        acc[0] = bias[c];
        acc[1] = bias[c1];
        rows_2(input, w, w + (c1 - c) * n, n, acc);
        requant_rows(p, c, acc, c1 - c + 1, output);
        w += 2 * n;
    }
}

const struct tq_fully_connected_s8_dsp_path tq_fully_connected_s8_general = {fc_dsp};

#endif /* TQ_USE_DSP */
