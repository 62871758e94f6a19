/*
 * tq_depthwise_conv2d_s8_rows5.c - the DSP depthwise row path's 5x5 windows (tq_depthwise_conv2d_s8_dsp.c, "Row
 * path"), published as tq_depthwise_conv2d_s8_rows5. The generator ships this file, and sets params->dsp_path =
 * &tq_depthwise_conv2d_s8_rows5 under TQ_USE_DSP, only for packages with a 5x5 depthwise layer on the row path
 * (tinyqat/codegen/layouts.py, dw_dsp_path), so packages of 3x3 layers do not link it. Cores without the DSP
 * extension compile nothing here.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

/*
 * 5x5 records (TQ_DW_DSP5_CHANNEL_WORDS (24) words per channel c at rec + 24 c, layouts.dw_records): words
 * 4 r to 4 r + 3 (row r < 5) the doubled weight pairs (w0, w1), (w2, w3), (w1, w2), (w3, w4) of row r (first
 * value in the low half); word 20 the accumulator's start 2 bias[c]; words 21 to 23 q, K, e as words 7 to 9
 * of the 3x3 records.
 */
#define TQ_DW5_BIAS 20

/*
 * One output row of one channel, 5x5 window, stride 1: out[ox * ch] for ox < n from the channel's five
 * padded int16 rows x[0..4] (column ox + k is tap k of output ox) and its 5x5 record w. Four outputs per
 * step (each weight word loaded once for them): per row, words a, b, c, d at columns i, i + 2, i + 4, i + 6
 * and the pairs P01 = (w0, w1), P23 = (w2, w3), P12 = (w1, w2), P34 = (w3, w4);
 * s0 += SMLAD(a, P01) + SMLAD(b, P23) + c.h0 * w4, s1 += a.h1 * w0 + SMLAD(b, P12) + SMLAD(c, P34),
 * s2 and s3 the same from b, c, d; then two outputs per step (s0, s1), then one (s0). Before them, six
 * outputs per step with the same products, each of the five words W0 .. W4 (columns i + 2k) loaded once
 * and applied to every output that reads it, the four pairs held for the row.
 * The last word loaded is column (n - 1) + 5 at most, inside TQ_DW_DSP_WP.
 */
static inline __attribute__((always_inline)) void row5_s1(const int16_t *const x[5], int32_t off, const int32_t *w,
                                                          int32_t n, int8_t *out, int32_t ch, const tq_dw_row_out *o)
{
    const int32_t q = w[TQ_DW5_BIAS + 1], e = w[TQ_DW5_BIAS + 3], acc = w[TQ_DW5_BIAS];
    const int32_t zp = o->zp, lo = o->act_min, hi = o->act_max;
    int32_t i = 0, r;
    for (; i + 6 <= n; i += 6, out += 6 * ch) {
        int32_t s0 = acc, s1 = acc, s2 = acc, s3 = acc, s4 = acc, s5 = acc;
        for (r = 0; r < 5; ++r) {
            const int32_t *wr = w + 4 * r;
            const int16_t *xr = x[r] + off + i;
            const int32_t p01 = wr[0], p23 = wr[1], p12 = wr[2], p34 = wr[3];
            int32_t v = tq_load_s16x2(xr);
            s0 = __smlad(v, p01, s0);
            s1 = __smlatb(v, p01, s1);
            v = tq_load_s16x2(xr + 2);
            s2 = __smlad(v, p01, s2);
            s3 = __smlatb(v, p01, s3);
            s0 = __smlad(v, p23, s0);
            s1 = __smlad(v, p12, s1);
            v = tq_load_s16x2(xr + 4);
            s4 = __smlad(v, p01, s4);
            s5 = __smlatb(v, p01, s5);
            s2 = __smlad(v, p23, s2);
            s3 = __smlad(v, p12, s3);
            s0 = __smlabt(v, p34, s0);
            s1 = __smlad(v, p34, s1);
            v = tq_load_s16x2(xr + 6);
            s4 = __smlad(v, p23, s4);
            s5 = __smlad(v, p12, s5);
            s2 = __smlabt(v, p34, s2);
            s3 = __smlad(v, p34, s3);
            v = tq_load_s16x2(xr + 8);
            s4 = __smlabt(v, p34, s4);
            s5 = __smlad(v, p34, s5);
        }
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
        out[ch] = (int8_t)tq_requantize_s8_fused2(s1, q, e, zp, lo, hi);
        out[2 * ch] = (int8_t)tq_requantize_s8_fused2(s2, q, e, zp, lo, hi);
        out[3 * ch] = (int8_t)tq_requantize_s8_fused2(s3, q, e, zp, lo, hi);
        out[4 * ch] = (int8_t)tq_requantize_s8_fused2(s4, q, e, zp, lo, hi);
        out[5 * ch] = (int8_t)tq_requantize_s8_fused2(s5, q, e, zp, lo, hi);
    }
    for (; i + 4 <= n; i += 4, out += 4 * ch) {
        int32_t s0 = acc, s1 = acc, s2 = acc, s3 = acc;
        for (r = 0; r < 5; ++r) {
            const int32_t *wr = w + 4 * r;
            const int16_t *xr = x[r] + off + i;
            int32_t p = wr[0];
            const int32_t a = tq_load_s16x2(xr), b = tq_load_s16x2(xr + 2);
            int32_t c, d;
            s0 = __smlad(a, p, s0);
            s1 = __smlatb(a, p, s1);
            s2 = __smlad(b, p, s2);
            s3 = __smlatb(b, p, s3);
            p = wr[1];
            c = tq_load_s16x2(xr + 4);
            s0 = __smlad(b, p, s0);
            s2 = __smlad(c, p, s2);
            p = wr[2];
            s1 = __smlad(b, p, s1);
            s3 = __smlad(c, p, s3);
            p = wr[3];
            d = tq_load_s16x2(xr + 6);
            s0 = __smlabt(c, p, s0);
            s1 = __smlad(c, p, s1);
            s2 = __smlabt(d, p, s2);
            s3 = __smlad(d, p, s3);
        }
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
        out[ch] = (int8_t)tq_requantize_s8_fused2(s1, q, e, zp, lo, hi);
        out[2 * ch] = (int8_t)tq_requantize_s8_fused2(s2, q, e, zp, lo, hi);
        out[3 * ch] = (int8_t)tq_requantize_s8_fused2(s3, q, e, zp, lo, hi);
    }
    if (i + 2 <= n) {
        int32_t s0 = acc, s1 = acc;
        for (r = 0; r < 5; ++r) {
            const int32_t *wr = w + 4 * r;
            const int16_t *xr = x[r] + off + i;
            const int32_t a = tq_load_s16x2(xr), b = tq_load_s16x2(xr + 2), c = tq_load_s16x2(xr + 4);
            s0 = __smlad(a, wr[0], s0);
            s1 = __smlatb(a, wr[0], s1);
            s0 = __smlad(b, wr[1], s0);
            s1 = __smlad(b, wr[2], s1);
            s0 = __smlabt(c, wr[3], s0);
            s1 = __smlad(c, wr[3], s1);
        }
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
        out[ch] = (int8_t)tq_requantize_s8_fused2(s1, q, e, zp, lo, hi);
        i += 2;
        out += 2 * ch;
    }
    if (i < n) {
        int32_t s0 = acc;
        for (r = 0; r < 5; ++r) {
            const int16_t *xr = x[r] + off + i;
            s0 = __smlad(tq_load_s16x2(xr), w[4 * r], s0);
            s0 = __smlad(tq_load_s16x2(xr + 2), w[4 * r + 1], s0);
            s0 = __smlabt(tq_load_s16x2(xr + 4), w[4 * r + 3], s0);
        }
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
    }
}

/*
 * As row5_s1 with stride 2 (output ox reads columns 2 ox + k): four outputs per step from the words
 * W0 .. W5 at columns 2i, 2i + 2, ..., 2i + 10: s_j += SMLAD(W_j, P01) + SMLAD(W_j+1, P23) + W_j+2.h0 * w4;
 * then one output per step (s0 from W0, W1, W2). Before them, six outputs per step from W0 .. W7, each
 * word loaded once and applied to the (up to three) outputs that read it, the three pairs held for the row.
 * The last word loaded is column 2 (n - 1) + 5 at most.
 */
static inline __attribute__((always_inline)) void row5_s2(const int16_t *const x[5], int32_t off, const int32_t *w,
                                                          int32_t n, int8_t *out, int32_t ch, const tq_dw_row_out *o)
{
    const int32_t q = w[TQ_DW5_BIAS + 1], e = w[TQ_DW5_BIAS + 3], acc = w[TQ_DW5_BIAS];
    const int32_t zp = o->zp, lo = o->act_min, hi = o->act_max;
    int32_t i = 0, r;
    for (; i + 6 <= n; i += 6, out += 6 * ch) {
        int32_t s0 = acc, s1 = acc, s2 = acc, s3 = acc, s4 = acc, s5 = acc;
        for (r = 0; r < 5; ++r) {
            const int32_t *wr = w + 4 * r;
            const int16_t *xr = x[r] + off + 2 * i;
            const int32_t p01 = wr[0], p23 = wr[1], p34 = wr[3];
            int32_t v = tq_load_s16x2(xr);
            s0 = __smlad(v, p01, s0);
            v = tq_load_s16x2(xr + 2);
            s1 = __smlad(v, p01, s1);
            s0 = __smlad(v, p23, s0);
            v = tq_load_s16x2(xr + 4);
            s2 = __smlad(v, p01, s2);
            s1 = __smlad(v, p23, s1);
            s0 = __smlabt(v, p34, s0);
            v = tq_load_s16x2(xr + 6);
            s3 = __smlad(v, p01, s3);
            s2 = __smlad(v, p23, s2);
            s1 = __smlabt(v, p34, s1);
            v = tq_load_s16x2(xr + 8);
            s4 = __smlad(v, p01, s4);
            s3 = __smlad(v, p23, s3);
            s2 = __smlabt(v, p34, s2);
            v = tq_load_s16x2(xr + 10);
            s5 = __smlad(v, p01, s5);
            s4 = __smlad(v, p23, s4);
            s3 = __smlabt(v, p34, s3);
            v = tq_load_s16x2(xr + 12);
            s5 = __smlad(v, p23, s5);
            s4 = __smlabt(v, p34, s4);
            v = tq_load_s16x2(xr + 14);
            s5 = __smlabt(v, p34, s5);
        }
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
        out[ch] = (int8_t)tq_requantize_s8_fused2(s1, q, e, zp, lo, hi);
        out[2 * ch] = (int8_t)tq_requantize_s8_fused2(s2, q, e, zp, lo, hi);
        out[3 * ch] = (int8_t)tq_requantize_s8_fused2(s3, q, e, zp, lo, hi);
        out[4 * ch] = (int8_t)tq_requantize_s8_fused2(s4, q, e, zp, lo, hi);
        out[5 * ch] = (int8_t)tq_requantize_s8_fused2(s5, q, e, zp, lo, hi);
    }
    for (; i + 4 <= n; i += 4, out += 4 * ch) {
        int32_t s0 = acc, s1 = acc, s2 = acc, s3 = acc;
        for (r = 0; r < 5; ++r) {
            const int32_t *wr = w + 4 * r;
            const int16_t *xr = x[r] + off + 2 * i;
            int32_t p = wr[0];
            int32_t a = tq_load_s16x2(xr), b = tq_load_s16x2(xr + 2);
            int32_t c = tq_load_s16x2(xr + 4), d = tq_load_s16x2(xr + 6);
            s0 = __smlad(a, p, s0);
            s1 = __smlad(b, p, s1);
            s2 = __smlad(c, p, s2);
            s3 = __smlad(d, p, s3);
            p = wr[1];
            a = tq_load_s16x2(xr + 8);
            s0 = __smlad(b, p, s0);
            s1 = __smlad(c, p, s1);
            s2 = __smlad(d, p, s2);
            s3 = __smlad(a, p, s3);
            p = wr[3];
            b = tq_load_s16x2(xr + 10);
            s0 = __smlabt(c, p, s0);
            s1 = __smlabt(d, p, s1);
            s2 = __smlabt(a, p, s2);
            s3 = __smlabt(b, p, s3);
        }
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
        out[ch] = (int8_t)tq_requantize_s8_fused2(s1, q, e, zp, lo, hi);
        out[2 * ch] = (int8_t)tq_requantize_s8_fused2(s2, q, e, zp, lo, hi);
        out[3 * ch] = (int8_t)tq_requantize_s8_fused2(s3, q, e, zp, lo, hi);
    }
    for (; i < n; ++i, out += ch) {
        int32_t s0 = acc;
        for (r = 0; r < 5; ++r) {
            const int16_t *xr = x[r] + off + 2 * i;
            s0 = __smlad(tq_load_s16x2(xr), w[4 * r], s0);
            s0 = __smlad(tq_load_s16x2(xr + 2), w[4 * r + 1], s0);
            s0 = __smlabt(tq_load_s16x2(xr + 4), w[4 * r + 3], s0);
        }
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
    }
}

/*
 * The assembly's blocks (scripts/gen_dw5_asm.py, which states the registers and the schedule): one call
 * computes 6 (dw5_main6_*) or 3 (dw5_main3_*) outputs (from column i) of one output row for every channel, the
 * output stage tq_requantize_s8_fused2(acc2, q, e, zp, -128, 127) (full int8 range only), as row5_s1 / row5_s2 do.
 * dw5_job:
 * x[r] the window rows of channel 0 at the block's first input column (x[r] + i, stride 1; x[r] + 2 i, stride 2),
 * w_bytes = 2 wp (channel c's rows at x[r] + c wp), end = rec + 24 ch (the loop ends there), out = channel 0's
 * first output of the block, ch, zp the output zero point, rec the records.
 */
typedef struct {
    const int16_t *x[5];
    int32_t w_bytes;
    const int32_t *end;
    int8_t *out;
    int32_t ch, zp;
    const int32_t *rec;
} dw5_job;

/* GENERATED by scripts/gen_dw5_asm.py */
#define TQ_DW5_MAIN6_S1_ASM \
    "\tpush {r4-r11, lr}\n" \
    "\tsub sp, sp, #40\n" \
    "\tldm r0!, {r1-r10}\n" \
    "\tstm sp, {r1-r10}\n" \
    "\tldr r12, [r0]\n" \
    "\tmov lr, #0\n" \
    "tq_dw5_1_6_ch:\n" \
    "\tldr r0, [r12, #80]\n" \
    "\tmov r1, r0\n" \
    "\tmov r2, r0\n" \
    "\tmov r3, r0\n" \
    "\tmov r4, r0\n" \
    "\tmov r5, r0\n" \
    "\tldr r11, [sp, #0]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlatb r1, r10, r6, r1\n" \
    "\tldr r10, [r11, #4]\n" \
    "\tsmlad r0, r10, r7, r0\n" \
    "\tsmlad r1, r10, r8, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlatb r3, r10, r6, r3\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlad r3, r10, r8, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlatb r5, r10, r6, r5\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r9, r3\n" \
    "\tsmlad r4, r10, r7, r4\n" \
    "\tsmlad r5, r10, r8, r5\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlabt r4, r11, r9, r4\n" \
    "\tsmlad r5, r11, r9, r5\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlatb r1, r10, r6, r1\n" \
    "\tldr r10, [r11, #4]\n" \
    "\tsmlad r0, r10, r7, r0\n" \
    "\tsmlad r1, r10, r8, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlatb r3, r10, r6, r3\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlad r3, r10, r8, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlatb r5, r10, r6, r5\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r9, r3\n" \
    "\tsmlad r4, r10, r7, r4\n" \
    "\tsmlad r5, r10, r8, r5\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlabt r4, r11, r9, r4\n" \
    "\tsmlad r5, r11, r9, r5\n" \
    "\tldr r11, [sp, #8]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlatb r1, r10, r6, r1\n" \
    "\tldr r10, [r11, #4]\n" \
    "\tsmlad r0, r10, r7, r0\n" \
    "\tsmlad r1, r10, r8, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlatb r3, r10, r6, r3\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlad r3, r10, r8, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlatb r5, r10, r6, r5\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r9, r3\n" \
    "\tsmlad r4, r10, r7, r4\n" \
    "\tsmlad r5, r10, r8, r5\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlabt r4, r11, r9, r4\n" \
    "\tsmlad r5, r11, r9, r5\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlatb r1, r10, r6, r1\n" \
    "\tldr r10, [r11, #4]\n" \
    "\tsmlad r0, r10, r7, r0\n" \
    "\tsmlad r1, r10, r8, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlatb r3, r10, r6, r3\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlad r3, r10, r8, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlatb r5, r10, r6, r5\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r9, r3\n" \
    "\tsmlad r4, r10, r7, r4\n" \
    "\tsmlad r5, r10, r8, r5\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlabt r4, r11, r9, r4\n" \
    "\tsmlad r5, r11, r9, r5\n" \
    "\tldr r11, [sp, #16]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlatb r1, r10, r6, r1\n" \
    "\tldr r10, [r11, #4]\n" \
    "\tsmlad r0, r10, r7, r0\n" \
    "\tsmlad r1, r10, r8, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlatb r3, r10, r6, r3\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlad r3, r10, r8, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlatb r5, r10, r6, r5\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r9, r3\n" \
    "\tsmlad r4, r10, r7, r4\n" \
    "\tsmlad r5, r10, r8, r5\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlabt r4, r11, r9, r4\n" \
    "\tsmlad r5, r11, r9, r5\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tcmp r8, #0\n" \
    "\tbeq tq_dw5_1_6_e\n" \
    "\tadd r10, r8, r0, asr #31\n" \
    "\tsmmlar r0, r0, r7, r10\n" \
    "\tasr r0, r0, r9\n" \
    "\tssat r0, #8, r0\n" \
    "\tadd r10, r8, r1, asr #31\n" \
    "\tsmmlar r1, r1, r7, r10\n" \
    "\tasr r1, r1, r9\n" \
    "\tssat r1, #8, r1\n" \
    "\tadd r10, r8, r2, asr #31\n" \
    "\tsmmlar r2, r2, r7, r10\n" \
    "\tasr r2, r2, r9\n" \
    "\tssat r2, #8, r2\n" \
    "\tadd r10, r8, r3, asr #31\n" \
    "\tsmmlar r3, r3, r7, r10\n" \
    "\tasr r3, r3, r9\n" \
    "\tssat r3, #8, r3\n" \
    "\tadd r10, r8, r4, asr #31\n" \
    "\tsmmlar r4, r4, r7, r10\n" \
    "\tasr r4, r4, r9\n" \
    "\tssat r4, #8, r4\n" \
    "\tadd r10, r8, r5, asr #31\n" \
    "\tsmmlar r5, r5, r7, r10\n" \
    "\tasr r5, r5, r9\n" \
    "\tssat r5, #8, r5\n" \
    "tq_dw5_1_6_st:\n" \
    "\tldrd r11, r10, [sp, #28]\n" \
    "\tadd r9, r11, r10, lsl #1\n" \
    "\tadd r8, r11, r10, lsl #2\n" \
    "\tstrb r0, [r11]\n" \
    "\tstrb r1, [r11, r10]\n" \
    "\tstrb r2, [r9]\n" \
    "\tstrb r3, [r9, r10]\n" \
    "\tstrb r4, [r8]\n" \
    "\tstrb r5, [r8, r10]\n" \
    "\tadd r11, r11, #1\n" \
    "\tldrd r9, r10, [sp, #20]\n" \
    "\tstr r11, [sp, #28]\n" \
    "\tadd lr, lr, r9\n" \
    "\tcmp r12, r10\n" \
    "\tbne tq_dw5_1_6_ch\n" \
    "\tadd sp, sp, #40\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw5_1_6_e:\n" \
    "\tmov r8, #1\n" \
    "\tlsl r8, r8, r9\n" \
    "\tlsr r8, r8, #1\n" \
    "\tldr r6, [sp, #36]\n" \
    "\tadd r10, r8, r0, asr #31\n" \
    "\tsmmlar r0, r0, r7, r10\n" \
    "\tasr r0, r0, r9\n" \
    "\tadd r0, r0, r6\n" \
    "\tssat r0, #8, r0\n" \
    "\tadd r10, r8, r1, asr #31\n" \
    "\tsmmlar r1, r1, r7, r10\n" \
    "\tasr r1, r1, r9\n" \
    "\tadd r1, r1, r6\n" \
    "\tssat r1, #8, r1\n" \
    "\tadd r10, r8, r2, asr #31\n" \
    "\tsmmlar r2, r2, r7, r10\n" \
    "\tasr r2, r2, r9\n" \
    "\tadd r2, r2, r6\n" \
    "\tssat r2, #8, r2\n" \
    "\tadd r10, r8, r3, asr #31\n" \
    "\tsmmlar r3, r3, r7, r10\n" \
    "\tasr r3, r3, r9\n" \
    "\tadd r3, r3, r6\n" \
    "\tssat r3, #8, r3\n" \
    "\tadd r10, r8, r4, asr #31\n" \
    "\tsmmlar r4, r4, r7, r10\n" \
    "\tasr r4, r4, r9\n" \
    "\tadd r4, r4, r6\n" \
    "\tssat r4, #8, r4\n" \
    "\tadd r10, r8, r5, asr #31\n" \
    "\tsmmlar r5, r5, r7, r10\n" \
    "\tasr r5, r5, r9\n" \
    "\tadd r5, r5, r6\n" \
    "\tssat r5, #8, r5\n" \
    "\tb tq_dw5_1_6_st\n"

#define TQ_DW5_MAIN6_S2_ASM \
    "\tpush {r4-r11, lr}\n" \
    "\tsub sp, sp, #40\n" \
    "\tldm r0!, {r1-r10}\n" \
    "\tstm sp, {r1-r10}\n" \
    "\tldr r12, [r0]\n" \
    "\tmov lr, #0\n" \
    "tq_dw5_2_6_ch:\n" \
    "\tldr r0, [r12, #80]\n" \
    "\tmov r1, r0\n" \
    "\tmov r2, r0\n" \
    "\tmov r3, r0\n" \
    "\tmov r4, r0\n" \
    "\tmov r5, r0\n" \
    "\tldr r11, [sp, #0]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tldr r8, [r11, #4]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlad r0, r8, r7, r0\n" \
    "\tsmlad r1, r8, r6, r1\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tldr r8, [r11, #12]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r7, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlabt r1, r8, r9, r1\n" \
    "\tsmlad r2, r8, r7, r2\n" \
    "\tsmlad r3, r8, r6, r3\n" \
    "\tldr r10, [r11, #16]\n" \
    "\tldr r8, [r11, #20]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r7, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlabt r3, r8, r9, r3\n" \
    "\tsmlad r4, r8, r7, r4\n" \
    "\tsmlad r5, r8, r6, r5\n" \
    "\tldr r10, [r11, #24]\n" \
    "\tldr r11, [r11, #28]\n" \
    "\tsmlabt r4, r10, r9, r4\n" \
    "\tsmlad r5, r10, r7, r5\n" \
    "\tsmlabt r5, r11, r9, r5\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tldr r8, [r11, #4]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlad r0, r8, r7, r0\n" \
    "\tsmlad r1, r8, r6, r1\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tldr r8, [r11, #12]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r7, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlabt r1, r8, r9, r1\n" \
    "\tsmlad r2, r8, r7, r2\n" \
    "\tsmlad r3, r8, r6, r3\n" \
    "\tldr r10, [r11, #16]\n" \
    "\tldr r8, [r11, #20]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r7, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlabt r3, r8, r9, r3\n" \
    "\tsmlad r4, r8, r7, r4\n" \
    "\tsmlad r5, r8, r6, r5\n" \
    "\tldr r10, [r11, #24]\n" \
    "\tldr r11, [r11, #28]\n" \
    "\tsmlabt r4, r10, r9, r4\n" \
    "\tsmlad r5, r10, r7, r5\n" \
    "\tsmlabt r5, r11, r9, r5\n" \
    "\tldr r11, [sp, #8]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tldr r8, [r11, #4]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlad r0, r8, r7, r0\n" \
    "\tsmlad r1, r8, r6, r1\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tldr r8, [r11, #12]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r7, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlabt r1, r8, r9, r1\n" \
    "\tsmlad r2, r8, r7, r2\n" \
    "\tsmlad r3, r8, r6, r3\n" \
    "\tldr r10, [r11, #16]\n" \
    "\tldr r8, [r11, #20]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r7, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlabt r3, r8, r9, r3\n" \
    "\tsmlad r4, r8, r7, r4\n" \
    "\tsmlad r5, r8, r6, r5\n" \
    "\tldr r10, [r11, #24]\n" \
    "\tldr r11, [r11, #28]\n" \
    "\tsmlabt r4, r10, r9, r4\n" \
    "\tsmlad r5, r10, r7, r5\n" \
    "\tsmlabt r5, r11, r9, r5\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tldr r8, [r11, #4]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlad r0, r8, r7, r0\n" \
    "\tsmlad r1, r8, r6, r1\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tldr r8, [r11, #12]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r7, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlabt r1, r8, r9, r1\n" \
    "\tsmlad r2, r8, r7, r2\n" \
    "\tsmlad r3, r8, r6, r3\n" \
    "\tldr r10, [r11, #16]\n" \
    "\tldr r8, [r11, #20]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r7, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlabt r3, r8, r9, r3\n" \
    "\tsmlad r4, r8, r7, r4\n" \
    "\tsmlad r5, r8, r6, r5\n" \
    "\tldr r10, [r11, #24]\n" \
    "\tldr r11, [r11, #28]\n" \
    "\tsmlabt r4, r10, r9, r4\n" \
    "\tsmlad r5, r10, r7, r5\n" \
    "\tsmlabt r5, r11, r9, r5\n" \
    "\tldr r11, [sp, #16]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r10, [r11, #0]\n" \
    "\tldr r8, [r11, #4]\n" \
    "\tsmlad r0, r10, r6, r0\n" \
    "\tsmlad r0, r8, r7, r0\n" \
    "\tsmlad r1, r8, r6, r1\n" \
    "\tldr r10, [r11, #8]\n" \
    "\tldr r8, [r11, #12]\n" \
    "\tsmlabt r0, r10, r9, r0\n" \
    "\tsmlad r1, r10, r7, r1\n" \
    "\tsmlad r2, r10, r6, r2\n" \
    "\tsmlabt r1, r8, r9, r1\n" \
    "\tsmlad r2, r8, r7, r2\n" \
    "\tsmlad r3, r8, r6, r3\n" \
    "\tldr r10, [r11, #16]\n" \
    "\tldr r8, [r11, #20]\n" \
    "\tsmlabt r2, r10, r9, r2\n" \
    "\tsmlad r3, r10, r7, r3\n" \
    "\tsmlad r4, r10, r6, r4\n" \
    "\tsmlabt r3, r8, r9, r3\n" \
    "\tsmlad r4, r8, r7, r4\n" \
    "\tsmlad r5, r8, r6, r5\n" \
    "\tldr r10, [r11, #24]\n" \
    "\tldr r11, [r11, #28]\n" \
    "\tsmlabt r4, r10, r9, r4\n" \
    "\tsmlad r5, r10, r7, r5\n" \
    "\tsmlabt r5, r11, r9, r5\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tcmp r8, #0\n" \
    "\tbeq tq_dw5_2_6_e\n" \
    "\tadd r10, r8, r0, asr #31\n" \
    "\tsmmlar r0, r0, r7, r10\n" \
    "\tasr r0, r0, r9\n" \
    "\tssat r0, #8, r0\n" \
    "\tadd r10, r8, r1, asr #31\n" \
    "\tsmmlar r1, r1, r7, r10\n" \
    "\tasr r1, r1, r9\n" \
    "\tssat r1, #8, r1\n" \
    "\tadd r10, r8, r2, asr #31\n" \
    "\tsmmlar r2, r2, r7, r10\n" \
    "\tasr r2, r2, r9\n" \
    "\tssat r2, #8, r2\n" \
    "\tadd r10, r8, r3, asr #31\n" \
    "\tsmmlar r3, r3, r7, r10\n" \
    "\tasr r3, r3, r9\n" \
    "\tssat r3, #8, r3\n" \
    "\tadd r10, r8, r4, asr #31\n" \
    "\tsmmlar r4, r4, r7, r10\n" \
    "\tasr r4, r4, r9\n" \
    "\tssat r4, #8, r4\n" \
    "\tadd r10, r8, r5, asr #31\n" \
    "\tsmmlar r5, r5, r7, r10\n" \
    "\tasr r5, r5, r9\n" \
    "\tssat r5, #8, r5\n" \
    "tq_dw5_2_6_st:\n" \
    "\tldrd r11, r10, [sp, #28]\n" \
    "\tadd r9, r11, r10, lsl #1\n" \
    "\tadd r8, r11, r10, lsl #2\n" \
    "\tstrb r0, [r11]\n" \
    "\tstrb r1, [r11, r10]\n" \
    "\tstrb r2, [r9]\n" \
    "\tstrb r3, [r9, r10]\n" \
    "\tstrb r4, [r8]\n" \
    "\tstrb r5, [r8, r10]\n" \
    "\tadd r11, r11, #1\n" \
    "\tldrd r9, r10, [sp, #20]\n" \
    "\tstr r11, [sp, #28]\n" \
    "\tadd lr, lr, r9\n" \
    "\tcmp r12, r10\n" \
    "\tbne tq_dw5_2_6_ch\n" \
    "\tadd sp, sp, #40\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw5_2_6_e:\n" \
    "\tmov r8, #1\n" \
    "\tlsl r8, r8, r9\n" \
    "\tlsr r8, r8, #1\n" \
    "\tldr r6, [sp, #36]\n" \
    "\tadd r10, r8, r0, asr #31\n" \
    "\tsmmlar r0, r0, r7, r10\n" \
    "\tasr r0, r0, r9\n" \
    "\tadd r0, r0, r6\n" \
    "\tssat r0, #8, r0\n" \
    "\tadd r10, r8, r1, asr #31\n" \
    "\tsmmlar r1, r1, r7, r10\n" \
    "\tasr r1, r1, r9\n" \
    "\tadd r1, r1, r6\n" \
    "\tssat r1, #8, r1\n" \
    "\tadd r10, r8, r2, asr #31\n" \
    "\tsmmlar r2, r2, r7, r10\n" \
    "\tasr r2, r2, r9\n" \
    "\tadd r2, r2, r6\n" \
    "\tssat r2, #8, r2\n" \
    "\tadd r10, r8, r3, asr #31\n" \
    "\tsmmlar r3, r3, r7, r10\n" \
    "\tasr r3, r3, r9\n" \
    "\tadd r3, r3, r6\n" \
    "\tssat r3, #8, r3\n" \
    "\tadd r10, r8, r4, asr #31\n" \
    "\tsmmlar r4, r4, r7, r10\n" \
    "\tasr r4, r4, r9\n" \
    "\tadd r4, r4, r6\n" \
    "\tssat r4, #8, r4\n" \
    "\tadd r10, r8, r5, asr #31\n" \
    "\tsmmlar r5, r5, r7, r10\n" \
    "\tasr r5, r5, r9\n" \
    "\tadd r5, r5, r6\n" \
    "\tssat r5, #8, r5\n" \
    "\tb tq_dw5_2_6_st\n"

#define TQ_DW5_MAIN3_S1_ASM \
    "\tpush {r4-r11, lr}\n" \
    "\tsub sp, sp, #40\n" \
    "\tldm r0!, {r1-r10}\n" \
    "\tstm sp, {r1-r10}\n" \
    "\tldr r12, [r0]\n" \
    "\tmov lr, #0\n" \
    "tq_dw5_1_3_ch:\n" \
    "\tldr r0, [r12, #80]\n" \
    "\tmov r1, r0\n" \
    "\tmov r2, r0\n" \
    "\tldr r11, [sp, #0]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r11, [r11, #12]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlatb r1, r3, r6, r1\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r8, r1\n" \
    "\tsmlad r2, r4, r6, r2\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r9, r1\n" \
    "\tsmlad r2, r5, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r11, [r11, #12]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlatb r1, r3, r6, r1\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r8, r1\n" \
    "\tsmlad r2, r4, r6, r2\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r9, r1\n" \
    "\tsmlad r2, r5, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldr r11, [sp, #8]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r11, [r11, #12]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlatb r1, r3, r6, r1\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r8, r1\n" \
    "\tsmlad r2, r4, r6, r2\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r9, r1\n" \
    "\tsmlad r2, r5, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r11, [r11, #12]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlatb r1, r3, r6, r1\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r8, r1\n" \
    "\tsmlad r2, r4, r6, r2\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r9, r1\n" \
    "\tsmlad r2, r5, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldr r11, [sp, #16]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r11, [r11, #12]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlatb r1, r3, r6, r1\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r8, r1\n" \
    "\tsmlad r2, r4, r6, r2\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r9, r1\n" \
    "\tsmlad r2, r5, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tcmp r8, #0\n" \
    "\tbeq tq_dw5_1_3_e\n" \
    "\tadd r10, r8, r0, asr #31\n" \
    "\tsmmlar r0, r0, r7, r10\n" \
    "\tasr r0, r0, r9\n" \
    "\tssat r0, #8, r0\n" \
    "\tadd r10, r8, r1, asr #31\n" \
    "\tsmmlar r1, r1, r7, r10\n" \
    "\tasr r1, r1, r9\n" \
    "\tssat r1, #8, r1\n" \
    "\tadd r10, r8, r2, asr #31\n" \
    "\tsmmlar r2, r2, r7, r10\n" \
    "\tasr r2, r2, r9\n" \
    "\tssat r2, #8, r2\n" \
    "tq_dw5_1_3_st:\n" \
    "\tldrd r11, r10, [sp, #28]\n" \
    "\tadd r9, r11, r10, lsl #1\n" \
    "\tstrb r0, [r11]\n" \
    "\tstrb r1, [r11, r10]\n" \
    "\tstrb r2, [r9]\n" \
    "\tadd r11, r11, #1\n" \
    "\tldrd r9, r10, [sp, #20]\n" \
    "\tstr r11, [sp, #28]\n" \
    "\tadd lr, lr, r9\n" \
    "\tcmp r12, r10\n" \
    "\tbne tq_dw5_1_3_ch\n" \
    "\tadd sp, sp, #40\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw5_1_3_e:\n" \
    "\tmov r8, #1\n" \
    "\tlsl r8, r8, r9\n" \
    "\tlsr r8, r8, #1\n" \
    "\tldr r6, [sp, #36]\n" \
    "\tadd r10, r8, r0, asr #31\n" \
    "\tsmmlar r0, r0, r7, r10\n" \
    "\tasr r0, r0, r9\n" \
    "\tadd r0, r0, r6\n" \
    "\tssat r0, #8, r0\n" \
    "\tadd r10, r8, r1, asr #31\n" \
    "\tsmmlar r1, r1, r7, r10\n" \
    "\tasr r1, r1, r9\n" \
    "\tadd r1, r1, r6\n" \
    "\tssat r1, #8, r1\n" \
    "\tadd r10, r8, r2, asr #31\n" \
    "\tsmmlar r2, r2, r7, r10\n" \
    "\tasr r2, r2, r9\n" \
    "\tadd r2, r2, r6\n" \
    "\tssat r2, #8, r2\n" \
    "\tb tq_dw5_1_3_st\n"

#define TQ_DW5_MAIN3_S2_ASM \
    "\tpush {r4-r11, lr}\n" \
    "\tsub sp, sp, #40\n" \
    "\tldm r0!, {r1-r10}\n" \
    "\tstm sp, {r1-r10}\n" \
    "\tldr r12, [r0]\n" \
    "\tmov lr, #0\n" \
    "tq_dw5_2_3_ch:\n" \
    "\tldr r0, [r12, #80]\n" \
    "\tmov r1, r0\n" \
    "\tmov r2, r0\n" \
    "\tldr r11, [sp, #0]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r6, r1\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r7, r1\n" \
    "\tsmlad r2, r5, r6, r2\n" \
    "\tsmlabt r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r6, r1\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r7, r1\n" \
    "\tsmlad r2, r5, r6, r2\n" \
    "\tsmlabt r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldr r11, [sp, #8]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r6, r1\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r7, r1\n" \
    "\tsmlad r2, r5, r6, r2\n" \
    "\tsmlabt r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r6, r1\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r7, r1\n" \
    "\tsmlad r2, r5, r6, r2\n" \
    "\tsmlabt r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldr r11, [sp, #16]\n" \
    "\tadd r11, r11, lr\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tldr r3, [r11, #0]\n" \
    "\tldr r4, [r11, #4]\n" \
    "\tldr r5, [r11, #8]\n" \
    "\tldr r10, [r11, #12]\n" \
    "\tldr r11, [r11, #16]\n" \
    "\tsmlad r0, r3, r6, r0\n" \
    "\tsmlad r0, r4, r7, r0\n" \
    "\tsmlad r1, r4, r6, r1\n" \
    "\tsmlabt r0, r5, r9, r0\n" \
    "\tsmlad r1, r5, r7, r1\n" \
    "\tsmlad r2, r5, r6, r2\n" \
    "\tsmlabt r1, r10, r9, r1\n" \
    "\tsmlad r2, r10, r7, r2\n" \
    "\tsmlabt r2, r11, r9, r2\n" \
    "\tldm r12!, {r6-r9}\n" \
    "\tcmp r8, #0\n" \
    "\tbeq tq_dw5_2_3_e\n" \
    "\tadd r10, r8, r0, asr #31\n" \
    "\tsmmlar r0, r0, r7, r10\n" \
    "\tasr r0, r0, r9\n" \
    "\tssat r0, #8, r0\n" \
    "\tadd r10, r8, r1, asr #31\n" \
    "\tsmmlar r1, r1, r7, r10\n" \
    "\tasr r1, r1, r9\n" \
    "\tssat r1, #8, r1\n" \
    "\tadd r10, r8, r2, asr #31\n" \
    "\tsmmlar r2, r2, r7, r10\n" \
    "\tasr r2, r2, r9\n" \
    "\tssat r2, #8, r2\n" \
    "tq_dw5_2_3_st:\n" \
    "\tldrd r11, r10, [sp, #28]\n" \
    "\tadd r9, r11, r10, lsl #1\n" \
    "\tstrb r0, [r11]\n" \
    "\tstrb r1, [r11, r10]\n" \
    "\tstrb r2, [r9]\n" \
    "\tadd r11, r11, #1\n" \
    "\tldrd r9, r10, [sp, #20]\n" \
    "\tstr r11, [sp, #28]\n" \
    "\tadd lr, lr, r9\n" \
    "\tcmp r12, r10\n" \
    "\tbne tq_dw5_2_3_ch\n" \
    "\tadd sp, sp, #40\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw5_2_3_e:\n" \
    "\tmov r8, #1\n" \
    "\tlsl r8, r8, r9\n" \
    "\tlsr r8, r8, #1\n" \
    "\tldr r6, [sp, #36]\n" \
    "\tadd r10, r8, r0, asr #31\n" \
    "\tsmmlar r0, r0, r7, r10\n" \
    "\tasr r0, r0, r9\n" \
    "\tadd r0, r0, r6\n" \
    "\tssat r0, #8, r0\n" \
    "\tadd r10, r8, r1, asr #31\n" \
    "\tsmmlar r1, r1, r7, r10\n" \
    "\tasr r1, r1, r9\n" \
    "\tadd r1, r1, r6\n" \
    "\tssat r1, #8, r1\n" \
    "\tadd r10, r8, r2, asr #31\n" \
    "\tsmmlar r2, r2, r7, r10\n" \
    "\tasr r2, r2, r9\n" \
    "\tadd r2, r2, r6\n" \
    "\tssat r2, #8, r2\n" \
    "\tb tq_dw5_2_3_st\n"

/* END GENERATED */

#define TQ_ASM_ARG __attribute__((unused))
__attribute__((naked, noinline)) static void dw5_main6_s1(TQ_ASM_ARG const dw5_job *job)
{
    __asm__ volatile(TQ_DW5_MAIN6_S1_ASM);
}

__attribute__((naked, noinline)) static void dw5_main6_s2(TQ_ASM_ARG const dw5_job *job)
{
    __asm__ volatile(TQ_DW5_MAIN6_S2_ASM);
}

__attribute__((naked, noinline)) static void dw5_main3_s1(TQ_ASM_ARG const dw5_job *job)
{
    __asm__ volatile(TQ_DW5_MAIN3_S1_ASM);
}

__attribute__((naked, noinline)) static void dw5_main3_s2(TQ_ASM_ARG const dw5_job *job)
{
    __asm__ volatile(TQ_DW5_MAIN3_S2_ASM);
}

/* A block's rows and output in job: the block's first output i (stride s). */
static void dw5_at(dw5_job *job, const int16_t *const x[5], int32_t s, int32_t i, int8_t *out)
{
    int32_t r;
    for (r = 0; r < 5; ++r) {
        job->x[r] = x[r] + s * i;
    }
    job->out = out + i * job->ch;
}

/*
 * Every channel's output row, 5x5 window, stride s = 1 (rows5_s1) or 2 (rows5_s2), one call per output row:
 * channel c's rows at x[r] + c wp, its record at rec + 24 c, its outputs at out + c. With the full int8 output
 * range (act_min -128, act_max 127) the assembly computes the row's blocks of 6 outputs (dw5_main6_s1 /
 * dw5_main6_s2, one call per block for every channel), then, with 3 to 5 outputs left, one block of 3
 * (dw5_main3_s1 / dw5_main3_s2), then the C loops (row5_s1 / row5_s2 inlined in the channel loop: no call and
 * no output-stage setup per channel) the last 0 to 2 outputs; otherwise the C loops compute the whole row.
 */
static int32_t rows5_main(const int16_t *const x[5], int32_t wp, const int32_t *rec, int32_t n, int8_t *out,
                          int32_t ch, const tq_dw_row_out *o, int32_t s)
{
    int32_t i = 0;
    dw5_job job;
    if (o->act_min != -128 || o->act_max != 127) {
        return 0;
    }
    job.w_bytes = 2 * wp;
    job.end = rec + TQ_DW_DSP5_CHANNEL_WORDS * ch;
    job.ch = ch;
    job.zp = o->zp;
    job.rec = rec;
    for (; i + 6 <= n; i += 6) {
        dw5_at(&job, x, s, i, out);
        if (s == 1) {
            dw5_main6_s1(&job);
        } else {
            dw5_main6_s2(&job);
        }
    }
    if (i + 3 <= n) {
        dw5_at(&job, x, s, i, out);
        if (s == 1) {
            dw5_main3_s1(&job);
        } else {
            dw5_main3_s2(&job);
        }
        i += 3;
    }
    return i;
}

TQ_DSP_BLOCK static void rows5_s1(const int16_t *const x[5], int32_t wp, const int32_t *rec, int32_t n, int8_t *out,
                                  int32_t ch, const tq_dw_row_out *o)
{
    const int32_t i = rows5_main(x, wp, rec, n, out, ch, o, 1);
    int32_t c;
    if (i < n) {
        for (c = 0; c < ch; ++c) {
            row5_s1(x, c * wp + i, rec + TQ_DW_DSP5_CHANNEL_WORDS * c, n - i, out + i * ch + c, ch, o);
        }
    }
}

TQ_DSP_BLOCK static void rows5_s2(const int16_t *const x[5], int32_t wp, const int32_t *rec, int32_t n, int8_t *out,
                                  int32_t ch, const tq_dw_row_out *o)
{
    const int32_t i = rows5_main(x, wp, rec, n, out, ch, o, 2);
    int32_t c;
    if (i < n) {
        for (c = 0; c < ch; ++c) {
            row5_s2(x, c * wp + 2 * i, rec + TQ_DW_DSP5_CHANNEL_WORDS * c, n - i, out + i * ch + c, ch, o);
        }
    }
}

const tq_depthwise_conv2d_s8_dsp_path tq_depthwise_conv2d_s8_rows5 = {rows5_s1, rows5_s2, NULL};

#endif /* TQ_USE_DSP */
