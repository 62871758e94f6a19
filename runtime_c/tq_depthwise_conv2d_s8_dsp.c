/*
 * tq_depthwise_conv2d_s8_dsp.c - int8 depthwise convolution for cores with the DSP extension,
 * the same function and result as tq_depthwise_conv2d_s8.c (see tq_kernels.h for the formula).
 *
 * Row path (TQ_DW_DSP_OK of tq_kernels.h: 3x3 or 5x5 with out_w >= 6, depth multiplier 1, strides 1 or 2, top / left
 * padding < kernel, requant_fused; params->scratch of tq_depthwise_conv2d_s8_get_buffer_size bytes;
 * a 5x5 window: a ring of five rows, the row functions rows5_s1 / rows5_s2 of tq_depthwise_conv2d_s8_rows5.c (its own
 * assembly for the full int8 range, C loops otherwise) reached through params->dsp_path (set by the generator for
 * such layers), the rest as for 3x3):
 * - per channel, a record of paired doubled weights and output-stage constants built at build time
 *   (params->records, flash); once per call, a ring of three int16 input rows per channel in scratch,
 *   zeroed when the windows use padding columns the copies do not write (see rows_path);
 * - per output row: the input rows of its windows not yet in the ring are copied for all channels
 *   as x - zero point (copy_row / dw_copy: PKHBT / PKHTB + SXTAB16, four pixels (two pairs, the four
 *   loads together) and four channels per step, aligned word stores; a stride-2 layer of an input width with a
 *   straight-line copy of its own, tq_depthwise_conv2d_s8_copy<n>.c, runs that one instead: params->dsp_path);
 *   a row in the padding is a zeroed slot;
 * - then each channel's output row from its three rows: per row of taps one SMLAD over two
 *   horizontally adjacent taps and one SMLAxy for the third (2 products per 2 instructions, the
 *   word loads 4-byte aligned), accumulators in registers, blocks of up to 6 outputs
 *   (dw_rows_s1 / dw_rows_s2, generated Thumb-2 assembly, when the activation range is the full
 *   int8 range and every right shift e <= 22; an output row whose window has one padding row and two
 *   input rows (the first or last row of a layer padded by 1) takes dw_rows2_s1 / dw_rows2_s2, the same
 *   blocks over those two rows only: the padding row's products, all 0, are left out;
 *   else the C loops row_s1 / row_s2), output stage
 *   tq_requantize_s8_fused2_folded / tq_requantize_s8_fused2 (tq_requant.h) on the doubled
 *   accumulator, strided byte stores into the NHWC output.
 * Accumulation starts from 2 bias[c] with doubled weights: the doubled integer sum, which the
 * fused output stage takes as its 2 * acc (|2 acc| <= 2^31 under requant_fused).
 *
 * Pixel path (every other layer, or scratch NULL): one output pixel at a time in raster order,
 * its channels four at a time. A tap's four input channels x[c..c+3] are one word (NHWC) and so are
 * the four weights w[ky][kx][c..c+3]: __sxtab16 / SXTAB16 ROR #8 give (x0 - zp, x2 - zp) and
 * (x1 - zp, x3 - zp), __sxtb16 / SXTB16 ROR #8 give (w0, w2) and (w1, w3), and SMLABB / SMLATT
 * add one product per channel each. The window is clipped to its in-bounds taps once per pixel
 * (TQ_WINDOW_BEGIN / TQ_WINDOW_END of tq_portable.h); the in_c mod 4 last channels, and every depth
 * multiplier other than 1, use the portable loop (tq_depthwise_conv2d_s8_pixel_portable).
 * Requantization: tq_requantize_s8_fused_or_fast (tq_requant.h).
 *
 * In-place contract (tq_kernels.h): the pixel path writes output pixel p after reading only its
 * window; the row path writes output row oy after reading only rows of the windows of row oy and
 * earlier rows (see rows_path).
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_portable.h"
#include "tq_requant.h"

/* s[j] += w[j] * (x[j] - zp) for channels j < 4 of one tap; x, w at the tap's first channel. */
static inline void tap4(const int8_t *x, const int8_t *w, int32_t nzp2, int32_t *s0, int32_t *s1, int32_t *s2,
                        int32_t *s3)
{
    const int32_t xv = tq_load_s8x4(x), wv = tq_load_s8x4(w);
    const int32_t x02 = __sxtab16(nzp2, xv), x13 = tq_sxtab16_odd(nzp2, xv);
    const int32_t w02 = __sxtb16(wv), w13 = tq_sxtb16_odd(wv);
    *s0 = __smlabb(x02, w02, *s0);
    *s2 = __smlatt(x02, w02, *s2);
    *s1 = __smlabb(x13, w13, *s1);
    *s3 = __smlatt(x13, w13, *s3);
}

/*
 * acc[j] += sum over rows r < rows and taps t < taps of w[r * w_row + t * ch + j] *
 * (x[r * row + t * ch + j] - zp), j < 4: four channels of one pixel's clipped window.
 * TQ_DSP_BLOCK: loads kept together (tq_dsp.h).
 */
TQ_DSP_BLOCK static void block4(const int8_t *x, const int8_t *w, int32_t rows, int32_t taps, int32_t row,
                                int32_t w_row, int32_t ch, int32_t nzp2, int32_t acc[4])
{
    int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
    int32_t r, t;
    for (r = 0; r < rows; ++r, x += row, w += w_row) {
        if (taps == 3) {
            tap4(x, w, nzp2, &s0, &s1, &s2, &s3);
            tap4(x + ch, w + ch, nzp2, &s0, &s1, &s2, &s3);
            tap4(x + 2 * ch, w + 2 * ch, nzp2, &s0, &s1, &s2, &s3);
        } else {
            for (t = 0; t < taps; ++t) {
                tap4(x + t * ch, w + t * ch, nzp2, &s0, &s1, &s2, &s3);
            }
        }
    }
    acc[0] = s0;
    acc[1] = s1;
    acc[2] = s2;
    acc[3] = s3;
}

/* The portable loop (tq_portable.h) for input channels [ic_begin, in_c) of one pixel, out of line:
 * one copy for its two uses (depth multiplier != 1, and the in_c mod 4 last channels). */
__attribute__((noinline)) static void pixel_portable(const tq_depthwise_conv2d_s8_params *p, const int8_t *input,
                                                     int32_t y0, int32_t ky_begin, int32_t ky_end, int32_t x0,
                                                     int32_t kx_begin, int32_t kx_end, int32_t ic_begin,
                                                     int8_t *out)
{
    tq_depthwise_conv2d_s8_pixel_portable(p, input, y0, ky_begin, ky_end, x0, kx_begin, kx_end, ic_begin,
                                          p->in_c * p->depth_multiplier, out);
}

/* ---------------------------------------------------------------------------------------------
 * Row path (3x3, depth multiplier 1, strides 1 or 2, requant_fused; TQ_DW_DSP_OK of tq_kernels.h).
 * --------------------------------------------------------------------------------------------- */

/*
 * The channel records of the row path (params->records, built at build time: tinyqat/codegen/layouts.py,
 * dw_records), TQ_DW_DSP_CHANNEL_WORDS (10) words per channel c at rec + 10 c: words 2 r and 2 r + 1
 * (row r < 3) the paired weights, doubled, (2 w[r][0][c], 2 w[r][1][c]) and (2 w[r][1][c], 2 w[r][2][c])
 * (|2 w| <= 254 fits an int16 lane, first value in the low half); word 6 the accumulator's start
 * 2 bias[c]; words 7 to 9 the output stage q = multiplier[c], K = tq_fused2_offset(e, zero point) and
 * the e word: e = -shift[c] (tq_requant.h) in bits 0-7 (the only bits an ASR by a register reads), bit 8
 * (TQ_DW_LAST) set on the last channel's record, W = 2 TQ_DW_DSP_WP (bytes between two channels' rows in a
 * ring slot) in bits 16-31: the assembly's channel loop takes its row advance and its end from it. Word 8
 * is 0 for a channel whose e exceeds TQ_FUSED2_OFFSET_E_MAX (only the C loop runs such layers).
 */
#define TQ_DW_LAST 256
#define TQ_DW_E(word) ((word) & 255) /* e of an e word */

/* dw_copy's arguments (its assembly is generated by scripts/gen_dw_asm.py, below the row blocks). */
typedef struct {
    const int8_t *src;   /* the row's pixel 0, channel 0 */
    int32_t ch;          /* bytes per pixel */
    int32_t nzp2;        /* (-zp, -zp) */
    int16_t *d0;         /* channel 0's row at the first column written (even: aligned word stores) */
    int32_t w;           /* bytes between two channels' rows */
    int32_t d_adv;       /* bytes from a group's last store to the next group's channel-0 row */
    int32_t s_adv;       /* bytes from the source after a group's pixels to the next group's */
    int32_t groups;      /* channel groups of 4 (>= 1) */
    int32_t pairs;       /* pixel pairs per group after the lead one */
    int32_t zpw;         /* four zero-point bytes: a padding pixel */
    int32_t variant;     /* bit 0: a lead pair (padding, pixel 0); bit 1: a last pair (pixel n - 1, padding) */
} dw_copy_job;

__attribute__((naked, noinline)) static void dw_copy(__attribute__((unused)) const dw_copy_job *job);

/* A call's row copies: dw_copy's job (every field but src and d0 fixed for the call) and what the C loop
 * of the in_c mod 4 last channels needs. */
typedef struct {
    dw_copy_job job;
    int32_t n, ch, zp, wp, pl, lead, last;
    int32_t d0; /* dw_copy_job.d0 - the slot: pl - lead values */
    tq_dw_copy_fn *copy; /* NULL, or the layer's copy of its own (params->dsp_path), run instead of dw_copy */
} row_copy;

/* The fixed part of a call's row copies: n pixels per row (NHWC, ch channels) into channel rows of wp
 * values from padded column pl (see copy_row). */
static void copy_prepare(row_copy *rc, int32_t n, int32_t ch, int32_t zp, int32_t wp, int32_t pl)
{
    const int32_t lead = pl & 1, pairs = (n - lead) >> 1, last = (n - lead) & 1;
    rc->n = n;
    rc->ch = ch;
    rc->zp = zp;
    rc->wp = wp;
    rc->pl = pl;
    rc->lead = lead;
    rc->last = last;
    rc->d0 = pl - lead;
    rc->job.src = NULL;
    rc->job.ch = ch;
    rc->job.nzp2 = tq_dup_s16(-zp);
    rc->job.d0 = NULL;
    rc->job.w = 2 * wp;
    rc->job.d_adv = 8 * wp - 4 * (lead + pairs + last);
    rc->job.s_adv = 4 - n * ch;
    rc->job.groups = ch >> 2;
    rc->job.pairs = pairs;
    rc->job.zpw = (int32_t)((uint32_t)(uint8_t)zp * 0x01010101u);
    rc->job.variant = lead + 2 * last;
}

/*
 * Pixels [0, n) of one input row src (NHWC, ch channels) minus the zero point, as int16, into channel c's
 * row dst + c * wp at padded columns pl .. pl + n - 1 (dst: the slot, 4-byte aligned, wp even).
 * Channel groups of four in dw_copy (generated assembly: PKHBT / PKHTB put two pixels' channel pairs in
 * one word each, SXTAB16 extends and subtracts the zero point, four pixels (two pairs, the loads
 * together) and four channels per step; an odd pl starts with the pair (column pl - 1, padding: 0;
 * pixel 0), an odd remainder ends with (pixel n - 1; column pl + n: 0, a column the windows read as
 * padding or never read), so every word store is aligned; an odd count of pairs between them joins
 * the lead or last pair in one step; one loop per variant, chosen once per call; a layer with a row copy of its
 * own, params->dsp_path->copy, runs that instead), the in_c mod 4 last
 * channels one value at a time (copy_rest).
 */
__attribute__((noinline)) static void copy_rest(const row_copy *rc, const int8_t *src, int16_t *dst)
{
    const int32_t n = rc->n, ch = rc->ch, zp = rc->zp, wp = rc->wp, pl = rc->pl;
    int32_t c, i;
    for (c = ch & ~3; c < ch; ++c) { /* as dw_copy: the lead and last pairs' padding columns too */
        for (i = 0; i < n; ++i) {
            dst[c * wp + pl + i] = (int16_t)(src[i * ch + c] - zp);
        }
        if (rc->lead) {
            dst[c * wp + pl - 1] = 0;
        }
        if (rc->last) {
            dst[c * wp + pl + n] = 0;
        }
    }
}

/* copy_row's call: dw_copy inline (a few stores and a call), the C loop of the in_c mod 4 last channels
 * (copy_rest) out of line. */
static inline void copy_row(row_copy *rc, const int8_t *src, int16_t *dst)
{
    if (rc->job.groups > 0) {
        if (rc->copy != NULL) {
            rc->copy(src, dst + rc->d0, rc->ch, rc->job.zpw);
        } else {
            rc->job.src = src;
            rc->job.d0 = dst + rc->d0;
            dw_copy(&rc->job);
        }
    }
    if (rc->ch & 3) {
        copy_rest(rc, src, dst);
    }
}

/* n (a multiple of 2) int16 zeros from p (4-byte aligned), a word at a time, sixteen per iteration
 * (newlib-nano's memset goes byte by byte; GCC would turn this loop back into a memset call). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))
#endif
static void zero_s16(int16_t *p, int32_t n)
{
    int32_t *w = (int32_t *)(void *)p;
    int32_t i = n >> 1;
    for (; i >= 16; i -= 16, w += 16) {
        w[0] = 0;
        w[1] = 0;
        w[2] = 0;
        w[3] = 0;
        w[4] = 0;
        w[5] = 0;
        w[6] = 0;
        w[7] = 0;
        w[8] = 0;
        w[9] = 0;
        w[10] = 0;
        w[11] = 0;
        w[12] = 0;
        w[13] = 0;
        w[14] = 0;
        w[15] = 0;
    }
    for (; i > 0; --i) {
        *w++ = 0;
    }
}


/*
 * One output row of one channel, stride 1: out[ox * ch] for ox < n from the channel's three padded
 * int16 rows x0, x1, x2 (column ox + k is tap k of output ox) and its paired weights w (pair_weights).
 * Two outputs per step: per row, words a = (x[i], x[i+1]), b = (x[i+2], x[i+3]);
 * s0 += SMLAD(a, (w0, w1)) + b.h0 * w2, s1 += a.h1 * w0 + SMLAD(b, (w1, w2)).
 */
TQ_DSP_BLOCK static void row_s1(const int16_t *x0, const int16_t *x1, const int16_t *x2, const int32_t *w,
                                int32_t acc, int32_t n, int8_t *out, int32_t ch, const tq_dw_row_out *o)
{
    const int32_t w01a = w[0], w12a = w[1], w01b = w[2], w12b = w[3], w01c = w[4], w12c = w[5];
    const int32_t q = o->q, e = o->e, zp = o->zp, lo = o->act_min, hi = o->act_max;
    int32_t i;
    for (i = 0; i + 2 <= n; i += 2, out += 2 * ch) {
        int32_t a = tq_load_s16x2(x0 + i), b = tq_load_s16x2(x0 + i + 2);
        int32_t s0 = __smlad(a, w01a, acc), s1 = __smlatb(a, w01a, acc);
        s0 = __smlabt(b, w12a, s0);
        s1 = __smlad(b, w12a, s1);
        a = tq_load_s16x2(x1 + i);
        b = tq_load_s16x2(x1 + i + 2);
        s0 = __smlad(a, w01b, s0);
        s1 = __smlatb(a, w01b, s1);
        s0 = __smlabt(b, w12b, s0);
        s1 = __smlad(b, w12b, s1);
        a = tq_load_s16x2(x2 + i);
        b = tq_load_s16x2(x2 + i + 2);
        s0 = __smlad(a, w01c, s0);
        s1 = __smlatb(a, w01c, s1);
        s0 = __smlabt(b, w12c, s0);
        s1 = __smlad(b, w12c, s1);
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
        out[ch] = (int8_t)tq_requantize_s8_fused2(s1, q, e, zp, lo, hi);
    }
    if (i < n) {
        int32_t s0 = __smlad(tq_load_s16x2(x0 + i), w01a, acc);
        s0 = __smlabt(tq_load_s16x2(x0 + i + 2), w12a, s0);
        s0 = __smlad(tq_load_s16x2(x1 + i), w01b, s0);
        s0 = __smlabt(tq_load_s16x2(x1 + i + 2), w12b, s0);
        s0 = __smlad(tq_load_s16x2(x2 + i), w01c, s0);
        s0 = __smlabt(tq_load_s16x2(x2 + i + 2), w12c, s0);
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
    }
}

/*
 * As row_s1 with stride 2 (output ox reads columns 2 ox + k): per row, words a = (x[2i], x[2i+1]),
 * b = (x[2i+2], x[2i+3]), c = (x[2i+4], x[2i+5]); s0 += SMLAD(a, (w0, w1)) + b.h0 * w2,
 * s1 += SMLAD(b, (w0, w1)) + c.h0 * w2.
 */
TQ_DSP_BLOCK static void row_s2(const int16_t *x0, const int16_t *x1, const int16_t *x2, const int32_t *w,
                                int32_t acc, int32_t n, int8_t *out, int32_t ch, const tq_dw_row_out *o)
{
    const int32_t w01a = w[0], w12a = w[1], w01b = w[2], w12b = w[3], w01c = w[4], w12c = w[5];
    const int32_t q = o->q, e = o->e, zp = o->zp, lo = o->act_min, hi = o->act_max;
    int32_t i;
    for (i = 0; i + 2 <= n; i += 2, out += 2 * ch, x0 += 4, x1 += 4, x2 += 4) {
        int32_t a = tq_load_s16x2(x0), b = tq_load_s16x2(x0 + 2), c = tq_load_s16x2(x0 + 4);
        int32_t s0 = __smlad(a, w01a, acc), s1 = __smlad(b, w01a, acc);
        s0 = __smlabt(b, w12a, s0);
        s1 = __smlabt(c, w12a, s1);
        a = tq_load_s16x2(x1);
        b = tq_load_s16x2(x1 + 2);
        c = tq_load_s16x2(x1 + 4);
        s0 = __smlad(a, w01b, s0);
        s1 = __smlad(b, w01b, s1);
        s0 = __smlabt(b, w12b, s0);
        s1 = __smlabt(c, w12b, s1);
        a = tq_load_s16x2(x2);
        b = tq_load_s16x2(x2 + 2);
        c = tq_load_s16x2(x2 + 4);
        s0 = __smlad(a, w01c, s0);
        s1 = __smlad(b, w01c, s1);
        s0 = __smlabt(b, w12c, s0);
        s1 = __smlabt(c, w12c, s1);
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
        out[ch] = (int8_t)tq_requantize_s8_fused2(s1, q, e, zp, lo, hi);
    }
    if (i < n) {
        int32_t s0 = __smlad(tq_load_s16x2(x0), w01a, acc);
        s0 = __smlabt(tq_load_s16x2(x0 + 2), w12a, s0);
        s0 = __smlad(tq_load_s16x2(x1), w01b, s0);
        s0 = __smlabt(tq_load_s16x2(x1 + 2), w12b, s0);
        s0 = __smlad(tq_load_s16x2(x2), w01c, s0);
        s0 = __smlabt(tq_load_s16x2(x2 + 2), w12c, s0);
        out[0] = (int8_t)tq_requantize_s8_fused2(s0, q, e, zp, lo, hi);
    }
}

/*
 * The row path's assembly (full int8 activation range, every e <= TQ_FUSED2_OFFSET_E_MAX): one call
 * computes one output row of every channel, column block by column block (dw_job.nmain blocks of 6
 * outputs, then one block of dw_job.tail = out_w mod 6: every word load 4-byte aligned); within a
 * column block the loop runs over the channels (rows += W, record += 40, output += 1, until the record
 * whose e word has TQ_DW_LAST; W from the e word's bits 16-31), so a channel costs its block and no dispatch. A block of k outputs accumulates the products of row_s1 /
 * row_s2 (the same SMLAD / SMLAxy products, starting from 2 bias) and applies
 * tq_requantize_s8_fused2_folded (tq_requant.h) to each: add t, K, acc, asr #31; smmlar acc, acc, q, t;
 * asr acc, acc, e; ssat acc, #8, acc; strb.
 * Registers: r0-r2 row pointers, r3 record, r4 up to r9 accumulators, r9-r11 input words (those the
 * accumulators leave; r7 too in blocks of up to 3 outputs), r12 / lr weight pairs (then the output
 * stage's q, K, t, channel stride and output pointers), lr the e word from the output stage to the channel
 * loop's end, r8 the output pointer in blocks of up to 4 (and r6 the channel stride in blocks of 2); stride 2: window row 0's k + 1 words in the
 * accumulators and one word register, loaded in one run with 2 bias and the weights (each output's first
 * SMLAD overwrites its own word once the previous output has read it). Generated by scripts/gen_dw_asm.py
 * (the register schedule), 28 bytes of frame: dw_job's out to dx (the current channel's output, the main
 * blocks left; after a main block's channel loop, the rows += dx and the output += 5 ch give the next column
 * block's bases) and the record (with two rows, the weight pointer too) to restart the channel loop from.
 * The tail block: one TBH over a table indexed by dw_job.tail.
 */
/* Bytes per channel record: the assembly's record stride and offsets (scripts/gen_dw_asm.py). */
#define TQ_DW_DSP_RECORD_BYTES 40
typedef char tq_dw_dsp_record_bytes[TQ_DW_DSP_RECORD_BYTES == 4 * TQ_DW_DSP_CHANNEL_WORDS ? 1 : -1];

typedef struct { /* field order: the assembly's (one LDM of x0 .. rec, one of out .. dx; gen_dw_asm.J_OUT) */
    const int16_t *x0, *x1, *x2; /* channel 0's three rows at the first output's first column */
    const int32_t *rec;   /* channel 0's record (the last one's e word has TQ_DW_LAST) */
    int8_t *out;          /* channel 0's first output of the row */
    int32_t ch;           /* channels: the output pixel stride */
    int32_t nmain, tail;  /* nmain column blocks of 6 outputs, then one of out_w mod 6 (tail, + TQ_DW_SKIP: below) */
    int32_t dx;           /* bytes from a row pointer after the last channel of a column block of 6 to the next
                           * column block's channel-0 row: 12 stride_w - ch W (W = 2 TQ_DW_DSP_WP) */
    int32_t wrow;         /* dw_rows2_s1 / dw_rows2_s2 only: bytes from a record to the paired weights of x0's
                           * window row (0: rows 0 and 1, the bottom one padding; 8: rows 1 and 2, the top one) */
} dw_job;

/* dw_job.tail's flag (stride 1, an odd tail; scripts/gen_dw_asm.py SKIP): the row's last output's third tap is
 * right padding; the tail block leaves that product (0) out, and with it the load of the word holding it. */
#define TQ_DW_SKIP 8

/* dw_rows_s1: generated by scripts/gen_dw_asm.py */
#define TQ_DW_ROWS_S1_ASM \
    "\tpush {r4-r11, lr}\n" \
    "\tadd r12, r0, #16\n" \
    "\tsub sp, sp, #28\n" \
    "\tldm r12, {r4-r8}\n" \
    "\tstm sp, {r4-r8}\n" \
    "\tldm r0, {r0-r3}\n" \
    "\tsub r3, r3, #4\n" \
    "\tstr r3, [sp, #20]\n" \
    "\tsubs r4, r6, #1\n" \
    "\tbpl tq_dw1_go\n" \
    "tq_dw1_td:\n" \
    "\tldr r4, [sp, #12]\n" \
    "\ttbh [pc, r4, lsl #1]\n" \
    "tq_dw1_tbl:\n" \
    "\t.hword (tq_dw1_ret - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_t1 - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_t2 - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_t3 - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_t4 - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_t5 - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_ret - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_ret - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_ret - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_t1s - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_ret - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_t3s - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_ret - tq_dw1_tbl) / 2\n" \
    "\t.hword (tq_dw1_t5s - tq_dw1_tbl) / 2\n" \
    "\t.balign 2\n" \
    "tq_dw1_ret:\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1_go:\n" \
    "\tstr r4, [sp, #8]\n" \
    "tq_dw1_main:\n" \
    "\tldr r9, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r10, [r0, #0]\n" \
    "\tldr r11, [r0, #4]\n" \
    "\tsmlad r4, r10, r12, r9\n" \
    "\tsmlabt r4, r11, lr, r4\n" \
    "\tsmlatb r5, r10, r12, r9\n" \
    "\tsmlad r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r9\n" \
    "\tsmlatb r7, r11, r12, r9\n" \
    "\tldr r10, [r0, #8]\n" \
    "\tldr r11, [r0, #12]\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tsmlad r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r9\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tsmlatb r9, r10, r12, r9\n" \
    "\tsmlad r9, r11, lr, r9\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r10, [r1, #0]\n" \
    "\tldr r11, [r1, #4]\n" \
    "\tsmlad r4, r10, r12, r4\n" \
    "\tsmlabt r4, r11, lr, r4\n" \
    "\tsmlatb r5, r10, r12, r5\n" \
    "\tsmlad r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r6\n" \
    "\tsmlatb r7, r11, r12, r7\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tldr r11, [r1, #12]\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tsmlad r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r8\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tsmlatb r9, r10, r12, r9\n" \
    "\tsmlad r9, r11, lr, r9\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r10, [r2, #0]\n" \
    "\tldr r11, [r2, #4]\n" \
    "\tsmlad r4, r10, r12, r4\n" \
    "\tsmlabt r4, r11, lr, r4\n" \
    "\tsmlatb r5, r10, r12, r5\n" \
    "\tsmlad r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r6\n" \
    "\tsmlatb r7, r11, r12, r7\n" \
    "\tldr r10, [r2, #8]\n" \
    "\tldr r11, [r2, #12]\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tsmlad r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r8\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tsmlatb r9, r10, r12, r9\n" \
    "\tsmlad r9, r11, lr, r9\n" \
    "\tldr r10, [r3, #32]\n" \
    "\tldr r11, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r9", "r10", "r11", "lr", "r12") \
    "\tldr r10, [sp, #4]\n" \
    "\tldr r11, [sp, #0]\n" \
    "\tstrb r5, [r11, r10]\n" \
    "\tadd r12, r11, r10, lsl #1\n" \
    "\tstrb r4, [r11], #1\n" \
    "\tstrb r6, [r12]\n" \
    "\tstrb r7, [r12, r10]\n" \
    "\tadd r12, r12, r10, lsl #1\n" \
    "\tstr r11, [sp, #0]\n" \
    "\tstrb r8, [r12]\n" \
    "\tstrb r9, [r12, r10]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1_main\n" \
    "\tldr r4, [sp, #0]\n" \
    "\tldr r5, [sp, #4]\n" \
    "\tldr r6, [sp, #16]\n" \
    "\tldr r3, [sp, #20]\n" \
    "\tldr r7, [sp, #8]\n" \
    "\tadd r4, r4, r5, lsl #2\n" \
    "\tadd r4, r4, r5\n" \
    "\tadd r0, r0, r6\n" \
    "\tadd r1, r1, r6\n" \
    "\tadd r2, r2, r6\n" \
    "\tstr r4, [sp, #0]\n" \
    "\tsubs r7, r7, #1\n" \
    "\tstr r7, [sp, #8]\n" \
    "\tbpl tq_dw1_main\n" \
    "\tb tq_dw1_td\n" \
    "tq_dw1_t1:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1_t1c:\n" \
    "\tldr r4, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tldr r9, [r0, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r7, [r2, #0]\n" \
    "\tldr r9, [r2, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1_t1c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1_t2:\n" \
    "\tldr r8, [sp, #0]\n" \
    "\tldr r6, [sp, #4]\n" \
    "tq_dw1_t2c:\n" \
    "\tldr r5, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tldr r9, [r0, #4]\n" \
    "\tsmlad r4, r7, r12, r5\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r7, [r2, #0]\n" \
    "\tldr r9, [r2, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r6]\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1_t2c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1_t3:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1_t3c:\n" \
    "\tldr r6, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tldr r9, [r0, #4]\n" \
    "\tldr r10, [r0, #8]\n" \
    "\tsmlad r4, r7, r12, r6\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r6\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r7, [r2, #0]\n" \
    "\tldr r9, [r2, #4]\n" \
    "\tldr r10, [r2, #8]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r11]\n" \
    "\tadd r7, r8, r11, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r7]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1_t3c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1_t4:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1_t4c:\n" \
    "\tldr r7, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r9, [r0, #0]\n" \
    "\tldr r10, [r0, #4]\n" \
    "\tldr r11, [r0, #8]\n" \
    "\tsmlad r4, r9, r12, r7\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r7\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r7\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r5\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r9, [r2, #0]\n" \
    "\tldr r10, [r2, #4]\n" \
    "\tldr r11, [r2, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r5\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    "\tstrb r5, [r8, r12]\n" \
    "\tadd r9, r8, r12, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1_t4c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1_t5:\n" \
    "\tldr r8, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r9, [r0, #0]\n" \
    "\tldr r10, [r0, #4]\n" \
    "\tldr r11, [r0, #8]\n" \
    "\tsmlad r4, r9, r12, r8\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r8\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r8\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r8\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r9, [r0, #12]\n" \
    "\tsmlabt r8, r9, lr, r8\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r5\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r9, [r1, #12]\n" \
    "\tsmlabt r8, r9, lr, r8\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r9, [r2, #0]\n" \
    "\tldr r10, [r2, #4]\n" \
    "\tldr r11, [r2, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r5\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r9, [r2, #12]\n" \
    "\tsmlabt r8, r9, lr, r8\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r9", "r10", "lr", "r11") \
    "\tldr r10, [sp, #0]\n" \
    "\tstrb r5, [r10, r12]\n" \
    "\tadd r9, r10, r12, lsl #1\n" \
    "\tstrb r4, [r10], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r9, r9, r12, lsl #1\n" \
    "\tstr r10, [sp, #0]\n" \
    "\tstrb r8, [r9]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1_t5\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1_t1s:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1_t1sc:\n" \
    "\tldr r4, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r7, [r2, #0]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1_t1sc\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1_t3s:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1_t3sc:\n" \
    "\tldr r6, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tldr r9, [r0, #4]\n" \
    "\tsmlad r4, r7, r12, r6\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r6\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r7, [r2, #0]\n" \
    "\tldr r9, [r2, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r11]\n" \
    "\tadd r7, r8, r11, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r7]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1_t3sc\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1_t5s:\n" \
    "\tldr r8, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r9, [r0, #0]\n" \
    "\tldr r10, [r0, #4]\n" \
    "\tldr r11, [r0, #8]\n" \
    "\tsmlad r4, r9, r12, r8\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r8\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r8\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r8\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r5\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r9, [r2, #0]\n" \
    "\tldr r10, [r2, #4]\n" \
    "\tldr r11, [r2, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r5\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r9", "r10", "lr", "r11") \
    "\tldr r10, [sp, #0]\n" \
    "\tstrb r5, [r10, r12]\n" \
    "\tadd r9, r10, r12, lsl #1\n" \
    "\tstrb r4, [r10], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r9, r9, r12, lsl #1\n" \
    "\tstr r10, [sp, #0]\n" \
    "\tstrb r8, [r9]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1_t5s\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n"

/* dw_rows_s2: generated by scripts/gen_dw_asm.py */
#define TQ_DW_ROWS_S2_ASM \
    "\tpush {r4-r11, lr}\n" \
    "\tadd r12, r0, #16\n" \
    "\tsub sp, sp, #28\n" \
    "\tldm r12, {r4-r8}\n" \
    "\tstm sp, {r4-r8}\n" \
    "\tldm r0, {r0-r3}\n" \
    "\tsub r3, r3, #4\n" \
    "\tstr r3, [sp, #20]\n" \
    "\tsubs r4, r6, #1\n" \
    "\tbpl tq_dw2_go\n" \
    "tq_dw2_td:\n" \
    "\tldr r4, [sp, #12]\n" \
    "\ttbh [pc, r4, lsl #1]\n" \
    "tq_dw2_tbl:\n" \
    "\t.hword (tq_dw2_ret - tq_dw2_tbl) / 2\n" \
    "\t.hword (tq_dw2_t1 - tq_dw2_tbl) / 2\n" \
    "\t.hword (tq_dw2_t2 - tq_dw2_tbl) / 2\n" \
    "\t.hword (tq_dw2_t3 - tq_dw2_tbl) / 2\n" \
    "\t.hword (tq_dw2_t4 - tq_dw2_tbl) / 2\n" \
    "\t.hword (tq_dw2_t5 - tq_dw2_tbl) / 2\n" \
    "\t.balign 2\n" \
    "tq_dw2_ret:\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2_go:\n" \
    "\tstr r4, [sp, #8]\n" \
    "tq_dw2_main:\n" \
    "\tldr r11, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r6, [r0, #8]\n" \
    "\tldr r7, [r0, #12]\n" \
    "\tldr r8, [r0, #16]\n" \
    "\tldr r9, [r0, #20]\n" \
    "\tldr r10, [r0, #24]\n" \
    "\tsmlad r4, r4, r12, r11\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r11\n" \
    "\tsmlabt r5, r6, lr, r5\n" \
    "\tsmlad r6, r6, r12, r11\n" \
    "\tsmlabt r6, r7, lr, r6\n" \
    "\tsmlad r7, r7, r12, r11\n" \
    "\tsmlabt r7, r8, lr, r7\n" \
    "\tsmlad r8, r8, r12, r11\n" \
    "\tsmlabt r8, r9, lr, r8\n" \
    "\tsmlad r9, r9, r12, r11\n" \
    "\tsmlabt r9, r10, lr, r9\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r10, [r1, #0]\n" \
    "\tldr r11, [r1, #4]\n" \
    "\tsmlad r4, r10, r12, r4\n" \
    "\tsmlabt r4, r11, lr, r4\n" \
    "\tsmlad r5, r11, r12, r5\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tldr r11, [r1, #12]\n" \
    "\tsmlabt r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlad r7, r11, r12, r7\n" \
    "\tldr r10, [r1, #16]\n" \
    "\tldr r11, [r1, #20]\n" \
    "\tsmlabt r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r8\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tsmlad r9, r11, r12, r9\n" \
    "\tldr r10, [r1, #24]\n" \
    "\tsmlabt r9, r10, lr, r9\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r10, [r2, #0]\n" \
    "\tldr r11, [r2, #4]\n" \
    "\tsmlad r4, r10, r12, r4\n" \
    "\tsmlabt r4, r11, lr, r4\n" \
    "\tsmlad r5, r11, r12, r5\n" \
    "\tldr r10, [r2, #8]\n" \
    "\tldr r11, [r2, #12]\n" \
    "\tsmlabt r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlad r7, r11, r12, r7\n" \
    "\tldr r10, [r2, #16]\n" \
    "\tldr r11, [r2, #20]\n" \
    "\tsmlabt r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r8\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tsmlad r9, r11, r12, r9\n" \
    "\tldr r10, [r2, #24]\n" \
    "\tsmlabt r9, r10, lr, r9\n" \
    "\tldr r10, [r3, #32]\n" \
    "\tldr r11, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r9", "r10", "r11", "lr", "r12") \
    "\tldr r10, [sp, #4]\n" \
    "\tldr r11, [sp, #0]\n" \
    "\tstrb r5, [r11, r10]\n" \
    "\tadd r12, r11, r10, lsl #1\n" \
    "\tstrb r4, [r11], #1\n" \
    "\tstrb r6, [r12]\n" \
    "\tstrb r7, [r12, r10]\n" \
    "\tadd r12, r12, r10, lsl #1\n" \
    "\tstr r11, [sp, #0]\n" \
    "\tstrb r8, [r12]\n" \
    "\tstrb r9, [r12, r10]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2_main\n" \
    "\tldr r4, [sp, #0]\n" \
    "\tldr r5, [sp, #4]\n" \
    "\tldr r6, [sp, #16]\n" \
    "\tldr r3, [sp, #20]\n" \
    "\tldr r7, [sp, #8]\n" \
    "\tadd r4, r4, r5, lsl #2\n" \
    "\tadd r4, r4, r5\n" \
    "\tadd r0, r0, r6\n" \
    "\tadd r1, r1, r6\n" \
    "\tadd r2, r2, r6\n" \
    "\tstr r4, [sp, #0]\n" \
    "\tsubs r7, r7, #1\n" \
    "\tstr r7, [sp, #8]\n" \
    "\tbpl tq_dw2_main\n" \
    "\tb tq_dw2_td\n" \
    "tq_dw2_t1:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw2_t1c:\n" \
    "\tldr r9, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r7, [r0, #4]\n" \
    "\tsmlad r4, r4, r12, r9\n" \
    "\tsmlabt r4, r7, lr, r4\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r7, [r2, #0]\n" \
    "\tldr r9, [r2, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2_t1c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2_t2:\n" \
    "\tldr r8, [sp, #0]\n" \
    "\tldr r6, [sp, #4]\n" \
    "tq_dw2_t2c:\n" \
    "\tldr r9, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r7, [r0, #8]\n" \
    "\tsmlad r4, r4, r12, r9\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r9\n" \
    "\tsmlabt r5, r7, lr, r5\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlad r5, r9, r12, r5\n" \
    "\tsmlabt r5, r10, lr, r5\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r7, [r2, #0]\n" \
    "\tldr r9, [r2, #4]\n" \
    "\tldr r10, [r2, #8]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlad r5, r9, r12, r5\n" \
    "\tsmlabt r5, r10, lr, r5\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r6]\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2_t2c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2_t3:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw2_t3c:\n" \
    "\tldr r9, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r6, [r0, #8]\n" \
    "\tldr r7, [r0, #12]\n" \
    "\tsmlad r4, r4, r12, r9\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r9\n" \
    "\tsmlabt r5, r6, lr, r5\n" \
    "\tsmlad r6, r6, r12, r9\n" \
    "\tsmlabt r6, r7, lr, r6\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tldr r11, [r1, #12]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlad r5, r9, r12, r5\n" \
    "\tsmlabt r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r7, [r2, #0]\n" \
    "\tldr r9, [r2, #4]\n" \
    "\tldr r10, [r2, #8]\n" \
    "\tldr r11, [r2, #12]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlad r5, r9, r12, r5\n" \
    "\tsmlabt r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r11]\n" \
    "\tadd r7, r8, r11, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r7]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2_t3c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2_t4:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw2_t4c:\n" \
    "\tldr r10, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r6, [r0, #8]\n" \
    "\tldr r7, [r0, #12]\n" \
    "\tldr r9, [r0, #16]\n" \
    "\tsmlad r4, r4, r12, r10\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r10\n" \
    "\tsmlabt r5, r6, lr, r5\n" \
    "\tsmlad r6, r6, r12, r10\n" \
    "\tsmlabt r6, r7, lr, r6\n" \
    "\tsmlad r7, r7, r12, r10\n" \
    "\tsmlabt r7, r9, lr, r7\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlad r5, r10, r12, r5\n" \
    "\tsmlabt r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r6\n" \
    "\tldr r9, [r1, #12]\n" \
    "\tldr r10, [r1, #16]\n" \
    "\tsmlabt r6, r9, lr, r6\n" \
    "\tsmlad r7, r9, r12, r7\n" \
    "\tsmlabt r7, r10, lr, r7\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r9, [r2, #0]\n" \
    "\tldr r10, [r2, #4]\n" \
    "\tldr r11, [r2, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlad r5, r10, r12, r5\n" \
    "\tsmlabt r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r6\n" \
    "\tldr r9, [r2, #12]\n" \
    "\tldr r10, [r2, #16]\n" \
    "\tsmlabt r6, r9, lr, r6\n" \
    "\tsmlad r7, r9, r12, r7\n" \
    "\tsmlabt r7, r10, lr, r7\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    "\tstrb r5, [r8, r12]\n" \
    "\tadd r9, r8, r12, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2_t4c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2_t5:\n" \
    "\tldr r10, [r3, #28]\n" \
    "\tldr r12, [r3, #4]\n" \
    "\tldr lr, [r3, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r6, [r0, #8]\n" \
    "\tldr r7, [r0, #12]\n" \
    "\tldr r8, [r0, #16]\n" \
    "\tldr r9, [r0, #20]\n" \
    "\tsmlad r4, r4, r12, r10\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r10\n" \
    "\tsmlabt r5, r6, lr, r5\n" \
    "\tsmlad r6, r6, r12, r10\n" \
    "\tsmlabt r6, r7, lr, r6\n" \
    "\tsmlad r7, r7, r12, r10\n" \
    "\tsmlabt r7, r8, lr, r7\n" \
    "\tsmlad r8, r8, r12, r10\n" \
    "\tsmlabt r8, r9, lr, r8\n" \
    "\tldr r12, [r3, #12]\n" \
    "\tldr lr, [r3, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlad r5, r10, r12, r5\n" \
    "\tsmlabt r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r6\n" \
    "\tldr r9, [r1, #12]\n" \
    "\tldr r10, [r1, #16]\n" \
    "\tldr r11, [r1, #20]\n" \
    "\tsmlabt r6, r9, lr, r6\n" \
    "\tsmlad r7, r9, r12, r7\n" \
    "\tsmlabt r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r8\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tldr r12, [r3, #20]\n" \
    "\tldr lr, [r3, #24]\n" \
    "\tldr r9, [r2, #0]\n" \
    "\tldr r10, [r2, #4]\n" \
    "\tldr r11, [r2, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlad r5, r10, r12, r5\n" \
    "\tsmlabt r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r6\n" \
    "\tldr r9, [r2, #12]\n" \
    "\tldr r10, [r2, #16]\n" \
    "\tldr r11, [r2, #20]\n" \
    "\tsmlabt r6, r9, lr, r6\n" \
    "\tsmlad r7, r9, r12, r7\n" \
    "\tsmlabt r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r8\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r9", "r10", "lr", "r11") \
    "\tldr r10, [sp, #0]\n" \
    "\tstrb r5, [r10, r12]\n" \
    "\tadd r9, r10, r12, lsl #1\n" \
    "\tstrb r4, [r10], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r9, r9, r12, lsl #1\n" \
    "\tstr r10, [sp, #0]\n" \
    "\tstrb r8, [r9]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, lr, lsr #16\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2_t5\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n"

/* dw_rows2_s1: generated by scripts/gen_dw_asm.py */
#define TQ_DW_ROWS2_S1_ASM \
    "\tpush {r4-r11, lr}\n" \
    "\tadd r12, r0, #16\n" \
    "\tsub sp, sp, #28\n" \
    "\tldm r12, {r4-r8}\n" \
    "\tldr r9, [r0, #36]\n" \
    "\tstm sp, {r4-r8}\n" \
    "\tldm r0, {r0-r3}\n" \
    "\tsub r3, r3, #4\n" \
    "\tstr r3, [sp, #20]\n" \
    "\tadd r2, r3, r9\n" \
    "\tstr r2, [sp, #24]\n" \
    "\tsubs r4, r6, #1\n" \
    "\tbpl tq_dw1p_go\n" \
    "tq_dw1p_td:\n" \
    "\tldr r4, [sp, #12]\n" \
    "\ttbh [pc, r4, lsl #1]\n" \
    "tq_dw1p_tbl:\n" \
    "\t.hword (tq_dw1p_ret - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_t1 - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_t2 - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_t3 - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_t4 - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_t5 - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_ret - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_ret - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_ret - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_t1s - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_ret - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_t3s - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_ret - tq_dw1p_tbl) / 2\n" \
    "\t.hword (tq_dw1p_t5s - tq_dw1p_tbl) / 2\n" \
    "\t.balign 2\n" \
    "tq_dw1p_ret:\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1p_go:\n" \
    "\tstr r4, [sp, #8]\n" \
    "tq_dw1p_main:\n" \
    "\tldr r9, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r10, [r0, #0]\n" \
    "\tldr r11, [r0, #4]\n" \
    "\tsmlad r4, r10, r12, r9\n" \
    "\tsmlabt r4, r11, lr, r4\n" \
    "\tsmlatb r5, r10, r12, r9\n" \
    "\tsmlad r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r9\n" \
    "\tsmlatb r7, r11, r12, r9\n" \
    "\tldr r10, [r0, #8]\n" \
    "\tldr r11, [r0, #12]\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tsmlad r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r9\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tsmlatb r9, r10, r12, r9\n" \
    "\tsmlad r9, r11, lr, r9\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r10, [r1, #0]\n" \
    "\tldr r11, [r1, #4]\n" \
    "\tsmlad r4, r10, r12, r4\n" \
    "\tsmlabt r4, r11, lr, r4\n" \
    "\tsmlatb r5, r10, r12, r5\n" \
    "\tsmlad r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r6\n" \
    "\tsmlatb r7, r11, r12, r7\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tldr r11, [r1, #12]\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tsmlad r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r8\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tsmlatb r9, r10, r12, r9\n" \
    "\tsmlad r9, r11, lr, r9\n" \
    "\tldr r10, [r3, #32]\n" \
    "\tldr r11, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r9", "r10", "r11", "lr", "r12") \
    "\tldr r10, [sp, #4]\n" \
    "\tldr r11, [sp, #0]\n" \
    "\tstrb r5, [r11, r10]\n" \
    "\tadd r12, r11, r10, lsl #1\n" \
    "\tstrb r4, [r11], #1\n" \
    "\tstrb r6, [r12]\n" \
    "\tstrb r7, [r12, r10]\n" \
    "\tadd r12, r12, r10, lsl #1\n" \
    "\tstr r11, [sp, #0]\n" \
    "\tstrb r8, [r12]\n" \
    "\tstrb r9, [r12, r10]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1p_main\n" \
    "\tldr r4, [sp, #0]\n" \
    "\tldr r5, [sp, #4]\n" \
    "\tldr r6, [sp, #16]\n" \
    "\tldr r3, [sp, #20]\n" \
    "\tldr r7, [sp, #8]\n" \
    "\tldr r2, [sp, #24]\n" \
    "\tadd r4, r4, r5, lsl #2\n" \
    "\tadd r4, r4, r5\n" \
    "\tadd r0, r0, r6\n" \
    "\tadd r1, r1, r6\n" \
    "\tstr r4, [sp, #0]\n" \
    "\tsubs r7, r7, #1\n" \
    "\tstr r7, [sp, #8]\n" \
    "\tbpl tq_dw1p_main\n" \
    "\tb tq_dw1p_td\n" \
    "tq_dw1p_t1:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1p_t1c:\n" \
    "\tldr r4, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tldr r9, [r0, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1p_t1c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1p_t2:\n" \
    "\tldr r8, [sp, #0]\n" \
    "\tldr r6, [sp, #4]\n" \
    "tq_dw1p_t2c:\n" \
    "\tldr r5, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tldr r9, [r0, #4]\n" \
    "\tsmlad r4, r7, r12, r5\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r6]\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1p_t2c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1p_t3:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1p_t3c:\n" \
    "\tldr r6, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tldr r9, [r0, #4]\n" \
    "\tldr r10, [r0, #8]\n" \
    "\tsmlad r4, r7, r12, r6\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r6\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tsmlabt r6, r10, lr, r6\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r11]\n" \
    "\tadd r7, r8, r11, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r7]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1p_t3c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1p_t4:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1p_t4c:\n" \
    "\tldr r7, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r9, [r0, #0]\n" \
    "\tldr r10, [r0, #4]\n" \
    "\tldr r11, [r0, #8]\n" \
    "\tsmlad r4, r9, r12, r7\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r7\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r7\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r5\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    "\tstrb r5, [r8, r12]\n" \
    "\tadd r9, r8, r12, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1p_t4c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1p_t5:\n" \
    "\tldr r8, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r9, [r0, #0]\n" \
    "\tldr r10, [r0, #4]\n" \
    "\tldr r11, [r0, #8]\n" \
    "\tsmlad r4, r9, r12, r8\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r8\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r8\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r8\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r9, [r0, #12]\n" \
    "\tsmlabt r8, r9, lr, r8\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r5\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r9, [r1, #12]\n" \
    "\tsmlabt r8, r9, lr, r8\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r9", "r10", "lr", "r11") \
    "\tldr r10, [sp, #0]\n" \
    "\tstrb r5, [r10, r12]\n" \
    "\tadd r9, r10, r12, lsl #1\n" \
    "\tstrb r4, [r10], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r9, r9, r12, lsl #1\n" \
    "\tstr r10, [sp, #0]\n" \
    "\tstrb r8, [r9]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1p_t5\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1p_t1s:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1p_t1sc:\n" \
    "\tldr r4, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1p_t1sc\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1p_t3s:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw1p_t3sc:\n" \
    "\tldr r6, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r7, [r0, #0]\n" \
    "\tldr r9, [r0, #4]\n" \
    "\tsmlad r4, r7, r12, r6\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r6\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlatb r5, r7, r12, r5\n" \
    "\tsmlad r5, r9, lr, r5\n" \
    "\tsmlad r6, r9, r12, r6\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r11]\n" \
    "\tadd r7, r8, r11, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r7]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1p_t3sc\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw1p_t5s:\n" \
    "\tldr r8, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r9, [r0, #0]\n" \
    "\tldr r10, [r0, #4]\n" \
    "\tldr r11, [r0, #8]\n" \
    "\tsmlad r4, r9, r12, r8\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r8\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r8\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r8\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlatb r5, r9, r12, r5\n" \
    "\tsmlad r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlatb r7, r10, r12, r7\n" \
    "\tsmlad r7, r11, lr, r7\n" \
    "\tsmlad r8, r11, r12, r8\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r9", "r10", "lr", "r11") \
    "\tldr r10, [sp, #0]\n" \
    "\tstrb r5, [r10, r12]\n" \
    "\tadd r9, r10, r12, lsl #1\n" \
    "\tstrb r4, [r10], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r9, r9, r12, lsl #1\n" \
    "\tstr r10, [sp, #0]\n" \
    "\tstrb r8, [r9]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw1p_t5s\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n"

/* dw_rows2_s2: generated by scripts/gen_dw_asm.py */
#define TQ_DW_ROWS2_S2_ASM \
    "\tpush {r4-r11, lr}\n" \
    "\tadd r12, r0, #16\n" \
    "\tsub sp, sp, #28\n" \
    "\tldm r12, {r4-r8}\n" \
    "\tldr r9, [r0, #36]\n" \
    "\tstm sp, {r4-r8}\n" \
    "\tldm r0, {r0-r3}\n" \
    "\tsub r3, r3, #4\n" \
    "\tstr r3, [sp, #20]\n" \
    "\tadd r2, r3, r9\n" \
    "\tstr r2, [sp, #24]\n" \
    "\tsubs r4, r6, #1\n" \
    "\tbpl tq_dw2p_go\n" \
    "tq_dw2p_td:\n" \
    "\tldr r4, [sp, #12]\n" \
    "\ttbh [pc, r4, lsl #1]\n" \
    "tq_dw2p_tbl:\n" \
    "\t.hword (tq_dw2p_ret - tq_dw2p_tbl) / 2\n" \
    "\t.hword (tq_dw2p_t1 - tq_dw2p_tbl) / 2\n" \
    "\t.hword (tq_dw2p_t2 - tq_dw2p_tbl) / 2\n" \
    "\t.hword (tq_dw2p_t3 - tq_dw2p_tbl) / 2\n" \
    "\t.hword (tq_dw2p_t4 - tq_dw2p_tbl) / 2\n" \
    "\t.hword (tq_dw2p_t5 - tq_dw2p_tbl) / 2\n" \
    "\t.balign 2\n" \
    "tq_dw2p_ret:\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2p_go:\n" \
    "\tstr r4, [sp, #8]\n" \
    "tq_dw2p_main:\n" \
    "\tldr r11, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r6, [r0, #8]\n" \
    "\tldr r7, [r0, #12]\n" \
    "\tldr r8, [r0, #16]\n" \
    "\tldr r9, [r0, #20]\n" \
    "\tldr r10, [r0, #24]\n" \
    "\tsmlad r4, r4, r12, r11\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r11\n" \
    "\tsmlabt r5, r6, lr, r5\n" \
    "\tsmlad r6, r6, r12, r11\n" \
    "\tsmlabt r6, r7, lr, r6\n" \
    "\tsmlad r7, r7, r12, r11\n" \
    "\tsmlabt r7, r8, lr, r7\n" \
    "\tsmlad r8, r8, r12, r11\n" \
    "\tsmlabt r8, r9, lr, r8\n" \
    "\tsmlad r9, r9, r12, r11\n" \
    "\tsmlabt r9, r10, lr, r9\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r10, [r1, #0]\n" \
    "\tldr r11, [r1, #4]\n" \
    "\tsmlad r4, r10, r12, r4\n" \
    "\tsmlabt r4, r11, lr, r4\n" \
    "\tsmlad r5, r11, r12, r5\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tldr r11, [r1, #12]\n" \
    "\tsmlabt r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tsmlad r7, r11, r12, r7\n" \
    "\tldr r10, [r1, #16]\n" \
    "\tldr r11, [r1, #20]\n" \
    "\tsmlabt r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r8\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tsmlad r9, r11, r12, r9\n" \
    "\tldr r10, [r1, #24]\n" \
    "\tsmlabt r9, r10, lr, r9\n" \
    "\tldr r10, [r3, #32]\n" \
    "\tldr r11, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r10", "r11", "lr", "r12") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r9", "r10", "r11", "lr", "r12") \
    "\tldr r10, [sp, #4]\n" \
    "\tldr r11, [sp, #0]\n" \
    "\tstrb r5, [r11, r10]\n" \
    "\tadd r12, r11, r10, lsl #1\n" \
    "\tstrb r4, [r11], #1\n" \
    "\tstrb r6, [r12]\n" \
    "\tstrb r7, [r12, r10]\n" \
    "\tadd r12, r12, r10, lsl #1\n" \
    "\tstr r11, [sp, #0]\n" \
    "\tstrb r8, [r12]\n" \
    "\tstrb r9, [r12, r10]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2p_main\n" \
    "\tldr r4, [sp, #0]\n" \
    "\tldr r5, [sp, #4]\n" \
    "\tldr r6, [sp, #16]\n" \
    "\tldr r3, [sp, #20]\n" \
    "\tldr r7, [sp, #8]\n" \
    "\tldr r2, [sp, #24]\n" \
    "\tadd r4, r4, r5, lsl #2\n" \
    "\tadd r4, r4, r5\n" \
    "\tadd r0, r0, r6\n" \
    "\tadd r1, r1, r6\n" \
    "\tstr r4, [sp, #0]\n" \
    "\tsubs r7, r7, #1\n" \
    "\tstr r7, [sp, #8]\n" \
    "\tbpl tq_dw2p_main\n" \
    "\tb tq_dw2p_td\n" \
    "tq_dw2p_t1:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw2p_t1c:\n" \
    "\tldr r9, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r7, [r0, #4]\n" \
    "\tsmlad r4, r4, r12, r9\n" \
    "\tsmlabt r4, r7, lr, r4\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2p_t1c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2p_t2:\n" \
    "\tldr r8, [sp, #0]\n" \
    "\tldr r6, [sp, #4]\n" \
    "tq_dw2p_t2c:\n" \
    "\tldr r9, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r7, [r0, #8]\n" \
    "\tsmlad r4, r4, r12, r9\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r9\n" \
    "\tsmlabt r5, r7, lr, r5\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlad r5, r9, r12, r5\n" \
    "\tsmlabt r5, r10, lr, r5\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r6]\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2p_t2c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2p_t3:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw2p_t3c:\n" \
    "\tldr r9, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r6, [r0, #8]\n" \
    "\tldr r7, [r0, #12]\n" \
    "\tsmlad r4, r4, r12, r9\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r9\n" \
    "\tsmlabt r5, r6, lr, r5\n" \
    "\tsmlad r6, r6, r12, r9\n" \
    "\tsmlabt r6, r7, lr, r6\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r7, [r1, #0]\n" \
    "\tldr r9, [r1, #4]\n" \
    "\tldr r10, [r1, #8]\n" \
    "\tldr r11, [r1, #12]\n" \
    "\tsmlad r4, r7, r12, r4\n" \
    "\tsmlabt r4, r9, lr, r4\n" \
    "\tsmlad r5, r9, r12, r5\n" \
    "\tsmlabt r5, r10, lr, r5\n" \
    "\tsmlad r6, r10, r12, r6\n" \
    "\tsmlabt r6, r11, lr, r6\n" \
    "\tldr r7, [r3, #32]\n" \
    "\tldr r9, [r3, #36]\n" \
    "\tldr r11, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r7", "r9", "lr", "r10") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r7", "r9", "lr", "r10") \
    "\tstrb r5, [r8, r11]\n" \
    "\tadd r7, r8, r11, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r7]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2p_t3c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2p_t4:\n" \
    "\tldr r8, [sp, #0]\n" \
    "tq_dw2p_t4c:\n" \
    "\tldr r10, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r6, [r0, #8]\n" \
    "\tldr r7, [r0, #12]\n" \
    "\tldr r9, [r0, #16]\n" \
    "\tsmlad r4, r4, r12, r10\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r10\n" \
    "\tsmlabt r5, r6, lr, r5\n" \
    "\tsmlad r6, r6, r12, r10\n" \
    "\tsmlabt r6, r7, lr, r6\n" \
    "\tsmlad r7, r7, r12, r10\n" \
    "\tsmlabt r7, r9, lr, r7\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlad r5, r10, r12, r5\n" \
    "\tsmlabt r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r6\n" \
    "\tldr r9, [r1, #12]\n" \
    "\tldr r10, [r1, #16]\n" \
    "\tsmlabt r6, r9, lr, r6\n" \
    "\tsmlad r7, r9, r12, r7\n" \
    "\tsmlabt r7, r10, lr, r7\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    "\tstrb r5, [r8, r12]\n" \
    "\tadd r9, r8, r12, lsl #1\n" \
    "\tstrb r4, [r8], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2p_t4c\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dw2p_t5:\n" \
    "\tldr r10, [r3, #28]\n" \
    "\tldr r12, [r2, #4]\n" \
    "\tldr lr, [r2, #8]\n" \
    "\tldr r4, [r0, #0]\n" \
    "\tldr r5, [r0, #4]\n" \
    "\tldr r6, [r0, #8]\n" \
    "\tldr r7, [r0, #12]\n" \
    "\tldr r8, [r0, #16]\n" \
    "\tldr r9, [r0, #20]\n" \
    "\tsmlad r4, r4, r12, r10\n" \
    "\tsmlabt r4, r5, lr, r4\n" \
    "\tsmlad r5, r5, r12, r10\n" \
    "\tsmlabt r5, r6, lr, r5\n" \
    "\tsmlad r6, r6, r12, r10\n" \
    "\tsmlabt r6, r7, lr, r6\n" \
    "\tsmlad r7, r7, r12, r10\n" \
    "\tsmlabt r7, r8, lr, r7\n" \
    "\tsmlad r8, r8, r12, r10\n" \
    "\tsmlabt r8, r9, lr, r8\n" \
    "\tldr r12, [r2, #12]\n" \
    "\tldr lr, [r2, #16]\n" \
    "\tldr r9, [r1, #0]\n" \
    "\tldr r10, [r1, #4]\n" \
    "\tldr r11, [r1, #8]\n" \
    "\tsmlad r4, r9, r12, r4\n" \
    "\tsmlabt r4, r10, lr, r4\n" \
    "\tsmlad r5, r10, r12, r5\n" \
    "\tsmlabt r5, r11, lr, r5\n" \
    "\tsmlad r6, r11, r12, r6\n" \
    "\tldr r9, [r1, #12]\n" \
    "\tldr r10, [r1, #16]\n" \
    "\tldr r11, [r1, #20]\n" \
    "\tsmlabt r6, r9, lr, r6\n" \
    "\tsmlad r7, r9, r12, r7\n" \
    "\tsmlabt r7, r10, lr, r7\n" \
    "\tsmlad r8, r10, r12, r8\n" \
    "\tsmlabt r8, r11, lr, r8\n" \
    "\tldr r9, [r3, #32]\n" \
    "\tldr r10, [r3, #36]\n" \
    "\tldr r12, [sp, #4]\n" \
    "\tldr lr, [r3, #40]!\n" \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r4", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r5", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r6", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r7", "r9", "r10", "lr", "r11") \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r8", "r9", "r10", "lr", "r11") \
    "\tldr r10, [sp, #0]\n" \
    "\tstrb r5, [r10, r12]\n" \
    "\tadd r9, r10, r12, lsl #1\n" \
    "\tstrb r4, [r10], #1\n" \
    "\tstrb r6, [r9]\n" \
    "\tstrb r7, [r9, r12]\n" \
    "\tadd r9, r9, r12, lsl #1\n" \
    "\tstr r10, [sp, #0]\n" \
    "\tstrb r8, [r9]\n" \
    "\tadd r0, r0, lr, lsr #16\n" \
    "\tadd r1, r1, lr, lsr #16\n" \
    "\tadd r2, r2, #40\n" \
    "\ttst lr, #256\n" \
    "\tbeq tq_dw2p_t5\n" \
    "\tadd sp, sp, #28\n" \
    "\tpop {r4-r11, pc}\n"

/* dw_copy: generated by scripts/gen_dw_asm.py */
#define TQ_DW_COPY_ASM \
    "\tpush {r4-r11, lr}\n" \
    "\tsub sp, sp, #24\n" \
    "\tldm r0, {r1-r11}\n" \
    "\tstr r7, [sp, #4]\n" \
    "\tstr r6, [sp, #8]\n" \
    "\tadd r12, r1, r8, lsl #2\n" \
    "\tstr r12, [sp, #12]\n" \
    "\tstr r10, [sp, #16]\n" \
    "\tlsr r7, r9, #1\n" \
    "\tstr r7, [sp, #0]\n" \
    "\tand r12, r9, #1\n" \
    "\tadd r11, r11, r12, lsl #2\n" \
    "\tmov r0, r1\n" \
    "\tmov r1, r2\n" \
    "\tmov r2, r3\n" \
    "\tmov r3, r4\n" \
    "\tadd r8, r1, r1, lsl #1\n" \
    "\tadd r4, r3, r5\n" \
    "\tadd r6, r4, r5, lsl #1\n" \
    "\tadd r5, r4, r5\n" \
    "\tcmp r11, #1\n" \
    "\tbeq tq_dwc_v1\n" \
    "\tcmp r11, #7\n" \
    "\tbeq tq_dwc_v7\n" \
    "\tcmp r11, #3\n" \
    "\tbeq tq_dwc_v3\n" \
    "\tcmp r11, #5\n" \
    "\tbeq tq_dwc_v5\n" \
    "\tcmp r11, #4\n" \
    "\tbeq tq_dwc_v4\n" \
    "\tcmp r11, #2\n" \
    "\tbeq tq_dwc_v2\n" \
    "\tcmp r11, #6\n" \
    "\tbeq tq_dwc_v6\n" \
    "tq_dwc_v0:\n" \
    "\tcbz r7, tq_dwc_e0\n" \
    "tq_dwc_q0:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [r0, r8]\n" \
    "\tadd r0, r0, r1, lsl #2\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tsubs r7, r7, #1\n" \
    "\tbne tq_dwc_q0\n" \
    "tq_dwc_e0:\n" \
    "\tldr r9, [sp, #4]\n" \
    "\tldr r10, [sp, #8]\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tldr r7, [sp, #0]\n" \
    "\tadd r0, r0, r9\n" \
    "\tadd r3, r3, r10\n" \
    "\tadd r4, r4, r10\n" \
    "\tadd r5, r5, r10\n" \
    "\tadd r6, r6, r10\n" \
    "\tcmp r0, r11\n" \
    "\tbne tq_dwc_v0\n" \
    "\tadd sp, sp, #24\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dwc_v1:\n" \
    "\tldr r9, [sp, #16]\n" \
    "\tldr r10, [r0]\n" \
    "\tadd r0, r0, r1\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tcbz r7, tq_dwc_e1\n" \
    "tq_dwc_q1:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [r0, r8]\n" \
    "\tadd r0, r0, r1, lsl #2\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tsubs r7, r7, #1\n" \
    "\tbne tq_dwc_q1\n" \
    "tq_dwc_e1:\n" \
    "\tldr r9, [sp, #4]\n" \
    "\tldr r10, [sp, #8]\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tldr r7, [sp, #0]\n" \
    "\tadd r0, r0, r9\n" \
    "\tadd r3, r3, r10\n" \
    "\tadd r4, r4, r10\n" \
    "\tadd r5, r5, r10\n" \
    "\tadd r6, r6, r10\n" \
    "\tcmp r0, r11\n" \
    "\tbne tq_dwc_v1\n" \
    "\tadd sp, sp, #24\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dwc_v2:\n" \
    "\tcbz r7, tq_dwc_e2\n" \
    "tq_dwc_q2:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [r0, r8]\n" \
    "\tadd r0, r0, r1, lsl #2\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tsubs r7, r7, #1\n" \
    "\tbne tq_dwc_q2\n" \
    "tq_dwc_e2:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [sp, #16]\n" \
    "\tadd r0, r0, r1\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tldr r9, [sp, #4]\n" \
    "\tldr r10, [sp, #8]\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tldr r7, [sp, #0]\n" \
    "\tadd r0, r0, r9\n" \
    "\tadd r3, r3, r10\n" \
    "\tadd r4, r4, r10\n" \
    "\tadd r5, r5, r10\n" \
    "\tadd r6, r6, r10\n" \
    "\tcmp r0, r11\n" \
    "\tbne tq_dwc_v2\n" \
    "\tadd sp, sp, #24\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dwc_v3:\n" \
    "\tldr r9, [sp, #16]\n" \
    "\tldr r10, [r0]\n" \
    "\tadd r0, r0, r1\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tcbz r7, tq_dwc_e3\n" \
    "tq_dwc_q3:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [r0, r8]\n" \
    "\tadd r0, r0, r1, lsl #2\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tsubs r7, r7, #1\n" \
    "\tbne tq_dwc_q3\n" \
    "tq_dwc_e3:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [sp, #16]\n" \
    "\tadd r0, r0, r1\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tldr r9, [sp, #4]\n" \
    "\tldr r10, [sp, #8]\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tldr r7, [sp, #0]\n" \
    "\tadd r0, r0, r9\n" \
    "\tadd r3, r3, r10\n" \
    "\tadd r4, r4, r10\n" \
    "\tadd r5, r5, r10\n" \
    "\tadd r6, r6, r10\n" \
    "\tcmp r0, r11\n" \
    "\tbne tq_dwc_v3\n" \
    "\tadd sp, sp, #24\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dwc_v4:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tadd r0, r0, r1, lsl #1\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tcbz r7, tq_dwc_e4\n" \
    "tq_dwc_q4:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [r0, r8]\n" \
    "\tadd r0, r0, r1, lsl #2\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tsubs r7, r7, #1\n" \
    "\tbne tq_dwc_q4\n" \
    "tq_dwc_e4:\n" \
    "\tldr r9, [sp, #4]\n" \
    "\tldr r10, [sp, #8]\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tldr r7, [sp, #0]\n" \
    "\tadd r0, r0, r9\n" \
    "\tadd r3, r3, r10\n" \
    "\tadd r4, r4, r10\n" \
    "\tadd r5, r5, r10\n" \
    "\tadd r6, r6, r10\n" \
    "\tcmp r0, r11\n" \
    "\tbne tq_dwc_v4\n" \
    "\tadd sp, sp, #24\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dwc_v5:\n" \
    "\tldr r9, [sp, #16]\n" \
    "\tldr r10, [r0]\n" \
    "\tldr r11, [r0, r1]\n" \
    "\tldr r12, [r0, r1, lsl #1]\n" \
    "\tadd r0, r0, r8\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tcbz r7, tq_dwc_e5\n" \
    "tq_dwc_q5:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [r0, r8]\n" \
    "\tadd r0, r0, r1, lsl #2\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tsubs r7, r7, #1\n" \
    "\tbne tq_dwc_q5\n" \
    "tq_dwc_e5:\n" \
    "\tldr r9, [sp, #4]\n" \
    "\tldr r10, [sp, #8]\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tldr r7, [sp, #0]\n" \
    "\tadd r0, r0, r9\n" \
    "\tadd r3, r3, r10\n" \
    "\tadd r4, r4, r10\n" \
    "\tadd r5, r5, r10\n" \
    "\tadd r6, r6, r10\n" \
    "\tcmp r0, r11\n" \
    "\tbne tq_dwc_v5\n" \
    "\tadd sp, sp, #24\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dwc_v6:\n" \
    "\tcbz r7, tq_dwc_e6\n" \
    "tq_dwc_q6:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [r0, r8]\n" \
    "\tadd r0, r0, r1, lsl #2\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tsubs r7, r7, #1\n" \
    "\tbne tq_dwc_q6\n" \
    "tq_dwc_e6:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [sp, #16]\n" \
    "\tadd r0, r0, r8\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tldr r9, [sp, #4]\n" \
    "\tldr r10, [sp, #8]\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tldr r7, [sp, #0]\n" \
    "\tadd r0, r0, r9\n" \
    "\tadd r3, r3, r10\n" \
    "\tadd r4, r4, r10\n" \
    "\tadd r5, r5, r10\n" \
    "\tadd r6, r6, r10\n" \
    "\tcmp r0, r11\n" \
    "\tbne tq_dwc_v6\n" \
    "\tadd sp, sp, #24\n" \
    "\tpop {r4-r11, pc}\n" \
    "tq_dwc_v7:\n" \
    "\tldr r9, [sp, #16]\n" \
    "\tldr r10, [r0]\n" \
    "\tldr r11, [r0, r1]\n" \
    "\tldr r12, [r0, r1, lsl #1]\n" \
    "\tadd r0, r0, r8\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tlsrs r7, r7, #1\n" \
    "\tbcs tq_dwc_m7\n" \
    "\tsubs r7, r7, #1\n" \
    "\tbmi tq_dwc_e7\n" \
    "tq_dwc_q7:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [r0, r8]\n" \
    "\tadd r0, r0, r1, lsl #2\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "tq_dwc_m7:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [r0, r1]\n" \
    "\tldr r11, [r0, r1, lsl #1]\n" \
    "\tldr r12, [r0, r8]\n" \
    "\tadd r0, r0, r1, lsl #2\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tpkhbt lr, r11, r12, lsl #16\n" \
    "\tpkhtb r12, r12, r11, asr #16\n" \
    "\tsxtab16 r11, r2, lr\n" \
    "\tstr r11, [r3], #4\n" \
    "\tsxtab16 r11, r2, lr, ror #8\n" \
    "\tstr r11, [r4], #4\n" \
    "\tsxtab16 r11, r2, r12\n" \
    "\tstr r11, [r5], #4\n" \
    "\tsxtab16 r11, r2, r12, ror #8\n" \
    "\tstr r11, [r6], #4\n" \
    "\tsubs r7, r7, #1\n" \
    "\tbpl tq_dwc_q7\n" \
    "tq_dwc_e7:\n" \
    "\tldr r9, [r0]\n" \
    "\tldr r10, [sp, #16]\n" \
    "\tadd r0, r0, r1\n" \
    "\tpkhbt lr, r9, r10, lsl #16\n" \
    "\tpkhtb r10, r10, r9, asr #16\n" \
    "\tsxtab16 r9, r2, lr\n" \
    "\tstr r9, [r3], #4\n" \
    "\tsxtab16 r9, r2, lr, ror #8\n" \
    "\tstr r9, [r4], #4\n" \
    "\tsxtab16 r9, r2, r10\n" \
    "\tstr r9, [r5], #4\n" \
    "\tsxtab16 r9, r2, r10, ror #8\n" \
    "\tstr r9, [r6], #4\n" \
    "\tldr r9, [sp, #4]\n" \
    "\tldr r10, [sp, #8]\n" \
    "\tldr r11, [sp, #12]\n" \
    "\tldr r7, [sp, #0]\n" \
    "\tadd r0, r0, r9\n" \
    "\tadd r3, r3, r10\n" \
    "\tadd r4, r4, r10\n" \
    "\tadd r5, r5, r10\n" \
    "\tadd r6, r6, r10\n" \
    "\tcmp r0, r11\n" \
    "\tbne tq_dwc_v7\n" \
    "\tadd sp, sp, #24\n" \
    "\tpop {r4-r11, pc}\n"

#define TQ_ASM_ARG __attribute__((unused))
__attribute__((naked, noinline)) static void dw_rows_s1(TQ_ASM_ARG const dw_job *job)
{
    __asm__ volatile(TQ_DW_ROWS_S1_ASM);
}

__attribute__((naked, noinline)) static void dw_rows_s2(TQ_ASM_ARG const dw_job *job)
{
    __asm__ volatile(TQ_DW_ROWS_S2_ASM);
}

__attribute__((naked, noinline)) static void dw_rows2_s1(TQ_ASM_ARG const dw_job *job)
{
    __asm__ volatile(TQ_DW_ROWS2_S1_ASM);
}

__attribute__((naked, noinline)) static void dw_rows2_s2(TQ_ASM_ARG const dw_job *job)
{
    __asm__ volatile(TQ_DW_ROWS2_S2_ASM);
}

__attribute__((naked, noinline)) static void dw_copy(TQ_ASM_ARG const dw_copy_job *job)
{
    __asm__ volatile(TQ_DW_COPY_ASM);
}

/* A row function of the assembly (one output row of every channel). */
typedef void dw_rows_fn(const dw_job *job);

/* rows_asm's step to the next output row's window: the slots rotate (stride 1: (x0, x1, x2) <- (x1, x2, x0); stride 2:
 * (x2, x0, x1)) and the window's new input rows from src are copied into the slots they take (stride 2: x1, then x2;
 * stride 1: x2), x2's only when copy_x2 (not the bottom padding row). Returns the next input row to copy. */
static inline const int8_t *next_window(row_copy *rc, const int8_t *src, int32_t in_row, int32_t sh, int32_t copy_x2,
                                        int16_t **x)
{
    int16_t *t = x[0];
    if (sh == 1) {
        x[0] = x[1];
        x[1] = x[2];
    } else {
        x[0] = x[2];
        x[2] = x[1];
        x[1] = t;
        copy_row(rc, src, t);
        src += in_row;
        t = x[2];
    }
    x[2] = t;
    if (copy_x2) {
        copy_row(rc, src, t);
        src += in_row;
    }
    return src;
}

/*
 * The assembly path's output rows (3x3 windows) when every window has at most one padding row (rows_path's rows2;
 * the window of output row oy: input rows top = oy sh - pt .. top + 2): the ring's slots rotate with the windows,
 * (x0, x1, x2) the slots of rows top .. top + 2 (output row 0: slots 0, 1, 2; the next row's window: stride 1
 * (x1, x2, x0), stride 2 (x2, x0, x1)). Per output row the input rows of its window not yet in the ring are copied
 * into their slots (a padding row is neither copied nor zeroed: no block reads it), then one row function: the
 * two-row one (dw_rows2_s1 / dw_rows2_s2, the padding row's products left out) for a window with a padding row
 * (top row -1: rows 0 and 1 with the weights of window rows 1 and 2, dw_job.wrow 8; bottom row in_h: rows top and
 * top + 1 with those of rows 0 and 1), else the three-row one (dw_rows_s1 / dw_rows_s2). Input rows are copied in
 * order (src): output row 0's window rows, then per further output row the last sh rows of its window (sh - 1 when
 * the last one is the bottom padding row). Out of line, with the few values its loop needs.
 */
__attribute__((noinline)) static void rows_asm(const tq_depthwise_conv2d_s8_params *p, dw_job *job, row_copy *rc,
                                               int16_t *ring, int32_t slot, const int8_t *input)
{
    const int32_t sh = p->stride_h, bottom = p->in_h - 2; /* a window from row bottom on has the bottom padding row */
    const int32_t in_row = p->in_w * p->in_c, out_row = p->out_w * p->in_c; /* bytes per input / output row */
    dw_rows_fn *const rows3 = p->stride_w == 1 ? dw_rows_s1 : dw_rows_s2;
    dw_rows_fn *const rows2 = p->stride_w == 1 ? dw_rows2_s1 : dw_rows2_s2;
    int16_t *x[3], *t;
    int32_t top = -p->pad_top, n = p->out_h - 1; /* n: output rows after the current one */
    const int8_t *src = input, *end = input + (top + 3 < p->in_h ? top + 3 : p->in_h) * in_row;
    x[0] = ring;
    x[1] = ring + slot;
    x[2] = ring + 2 * slot;
    for (t = ring - top * slot; src < end; src += in_row, t += slot) { /* output row 0's window: row r in slot r - top */
        copy_row(rc, src, t);
    }
    if (top < 0) { /* pad_top 1: output row 0 */
        job->x0 = x[1];
        job->x1 = x[2];
        job->wrow = 8;
        rows2(job);
        if (n == 0) {
            return;
        }
        --n;
        top += sh;
        job->out += out_row;
        src = next_window(rc, src, in_row, sh, top < bottom, x);
    }
    for (;; --n) { /* windows from input row 0 down */
        job->x0 = x[0];
        job->x1 = x[1];
        if (top >= bottom) {
            job->wrow = 0;
            rows2(job);
            return; /* the last output row */
        }
        job->x2 = x[2];
        rows3(job);
        if (n == 0) {
            return;
        }
        top += sh;
        job->out += out_row;
        src = next_window(rc, src, in_row, sh, top < bottom, x);
    }
}

/*
 * The row path. Scratch: a ring of k = kernel_h (3 or 5) slots, each one int16 row of wp = TQ_DW_DSP_WP
 * values per channel ([slot][channel][wp]): padded column j holds input column j - pad_left minus the
 * zero point, 0 in the padding. The copies write the input columns and, for alignment, at most one
 * padding column on each side (with 0). When the windows use other padding columns (j < pad_left - 1,
 * or from the copies' end up to column (out_w - 1) stride_w + k - 1, k - 2 when the assembly's tail skips
 * the last output's third tap (TQ_DW_SKIP); columns beyond are at most loaded in a word's unused half),
 * the whole ring is zeroed once per call (copies never write those columns).
 * With the assembly and at most one padding row per window (rows2): rows_asm, which never reads a padding row.
 * Else input row iy lives in slot (iy + pad_top) mod k; a row in the top padding is a slot still zero from the
 * start (margins) or zeroed when it enters the ring, a row in the bottom padding a slot zeroed whole.
 * Records: params->records (flash). Output rows in order: first the input rows of its window not yet in the ring
 * (all channels), then every channel's output row.
 * In-place contract (tq_kernels.h): output row oy is written after reading only input rows of the
 * windows of row oy (and earlier rows), and each byte read later lies in a window of a later
 * pixel, so every read comes before any write the contract allows over it.
 */
static void rows_path(const tq_depthwise_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t ch = p->in_c, in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
    const int32_t sh = p->stride_h, sw = p->stride_w, pt = p->pad_top, pl = p->pad_left;
    const int32_t k = p->kernel_h; /* = kernel_w: 3 or 5, the ring's slots */
    const int32_t wp = TQ_DW_DSP_WP(out_w, sw, k);
    const int32_t slot = ch * wp; /* int16 values per ring slot */
    const int32_t in_row = in_w * ch, out_row = out_w * ch; /* bytes per input / output row */
    const int32_t *pw = p->records;
    int16_t *ring = (int16_t *)p->scratch;
    const int32_t last_col = (out_w - 1) * sw + k - pl; /* input columns used: [0, min(in_w, last_col)) */
    const int32_t ncopy = in_w < last_col ? in_w : last_col;
    /* requant_fused == 2 (decided by the generator): the full int8 range and every e <= TQ_FUSED2_OFFSET_E_MAX;
     * this file's assembly covers 3x3 windows, 5x5 ones run tq_depthwise_conv2d_s8_rows5.c's row functions */
    const int32_t use_asm = p->requant_fused == 2 && k == 3;
    /* the assembly's skipping tail (dw_job.tail): stride 1, an odd tail, and the row's last output's third
     * tap, padded column out_w + 1, in the right padding (input column out_w + 1 - pl >= in_w) */
    const int32_t skip = use_asm && sw == 1 && (out_w & 1) && out_w + 1 - pl >= in_w;
    /* padding columns the windows use that no copy writes: copies write [pl - lead, pl + ncopy + last);
     * the windows use [0, (out_w - 1) sw + k), less the last column when the assembly skips it */
    const int32_t lead = pl & 1, last = (ncopy - lead) & 1;
    const int32_t margins = pl - lead > 0 || pl + ncopy + last < (out_w - 1) * sw + k - skip;
    /* every window has at most one padding row (top row -1, pad_top <= 1; bottom row in_h, no window below row
     * in_h - 2), which the two-row assembly leaves out: rows_asm */
    const int32_t rows2 = use_asm && in_h >= 2 && pt <= 1 && (out_h - 1) * sh - pt <= in_h - 2;
    int16_t *slots[10]; /* slot s at slots[s] and slots[s + k]: a window's rows without a wrap test */
    int32_t next = -pt; /* the next input row to bring into the ring */
    int32_t next_slot = 0, top_slot = 0; /* slots of input rows next and oy * sh - pt (row -pt: slot 0) */
    int32_t oy, c, j;
    const int16_t *r[5];
    row_copy rc;
    tq_dw_row_out o;
    dw_job job;
    copy_prepare(&rc, ncopy, ch, p->input_zero_point, wp, pl);
    rc.copy = p->dsp_path != NULL ? p->dsp_path->copy : NULL;
    job.ch = ch;
    job.rec = pw;
    job.tail = out_w % 6 + (skip ? TQ_DW_SKIP : 0);
    job.nmain = out_w / 6;
    job.dx = 12 * sw - ch * 2 * wp;
    job.out = output;
    if (margins) {
        zero_s16(ring, k * slot);
    }
    if (rows2) {
        rows_asm(p, &job, &rc, ring, slot, input);
        return;
    }
    for (j = 0; j < k; ++j) {
        slots[j] = slots[j + k] = ring + j * slot;
    }
    o.zp = p->output_zero_point;
    o.act_min = p->act_min;
    o.act_max = p->act_max;
    for (oy = 0; oy < out_h; ++oy, job.out += out_row) {
        const int32_t top = oy * sh - pt;
        for (; next <= top + k - 1; ++next, next_slot = next_slot == k - 1 ? 0 : next_slot + 1) {
            if (next < 0 || next >= in_h) { /* padding (top: zero from the start with margins) */
                if (next >= in_h || !margins) {
                    zero_s16(slots[next_slot], slot);
                }
            } else {
                copy_row(&rc, input + next * in_row, slots[next_slot]);
            }
        }
        for (j = 0; j < k; ++j) { /* window row j: input row top + j, slot (top_slot + j) mod k */
            r[j] = slots[top_slot + j];
        }
        top_slot = top_slot + sh < k ? top_slot + sh : top_slot + sh - k;
        if (use_asm) {
            job.x0 = r[0];
            job.x1 = r[1];
            job.x2 = r[2];
            if (sw == 1) {
                dw_rows_s1(&job);
            } else {
                dw_rows_s2(&job);
            }
            continue;
        }
        if (k == 5) {
            if (sw == 1) {
                p->dsp_path->rows5_s1(r, wp, pw, out_w, job.out, ch, &o);
            } else {
                p->dsp_path->rows5_s2(r, wp, pw, out_w, job.out, ch, &o);
            }
            continue;
        }
        for (c = 0; c < ch; ++c, r[0] += wp, r[1] += wp, r[2] += wp) {
            const int32_t *rec = pw + TQ_DW_DSP_CHANNEL_WORDS * c;
            o.q = rec[7];
            o.e = TQ_DW_E(rec[9]);
            if (sw == 1) {
                row_s1(r[0], r[1], r[2], rec, rec[6], out_w, job.out + c, ch, &o);
            } else {
                row_s2(r[0], r[1], r[2], rec, rec[6], out_w, job.out + c, ch, &o);
            }
        }
    }
}

/* The pixel path (every layer off the row path): out of line, so the row path's calls set up none of its values. */
__attribute__((noinline)) static void pixel_path(const tq_depthwise_conv2d_s8_params *params, const int8_t *input,
                                                 int8_t *output)
{
    const tq_depthwise_conv2d_s8_params *p = params;
    /* Locals, not p->...: stores through int8_t * may alias *p, so the compiler would reload. */
    const int32_t ch = p->in_c;                 /* = out_c with multiplier 1 */
    const int32_t row = p->in_w * ch;           /* bytes per input row */
    const int32_t w_row = p->kernel_w * ch;     /* bytes per weight row */
    const int32_t c4 = ch & ~3;
    const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
    const int32_t kernel_h = p->kernel_h, kernel_w = p->kernel_w;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w, pad_top = p->pad_top, pad_left = p->pad_left;
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    const int8_t *weights = p->weights;
    const int32_t *bias = p->bias, *multiplier = p->multiplier, *shift = p->shift;
    const int32_t fused = p->requant_fused;
    int32_t oy, ox, c;
    for (oy = 0; oy < out_h; ++oy) {
        const int32_t y0 = oy * stride_h - pad_top;
        const int32_t ky_begin = TQ_WINDOW_BEGIN(y0);
        const int32_t ky_end = TQ_WINDOW_END(y0, kernel_h, in_h);
        for (ox = 0; ox < out_w; ++ox) {
            const int32_t x0 = ox * stride_w - pad_left;
            const int32_t kx_begin = TQ_WINDOW_BEGIN(x0);
            const int32_t kx_end = TQ_WINDOW_END(x0, kernel_w, in_w);
            const int32_t taps = kx_end - kx_begin; /* in-bounds taps per row */
            int8_t *out = output + (oy * out_w + ox) * ch * p->depth_multiplier;
            if (p->depth_multiplier != 1) {
                pixel_portable(p, input, y0, ky_begin, ky_end, x0, kx_begin, kx_end, 0, out);
                continue;
            }
            if (ky_begin < ky_end && taps > 0) {
                /* first in-bounds tap of the first in-bounds row, channel 0 */
                const int8_t *x_tap = input + (y0 + ky_begin) * row + (x0 + kx_begin) * ch;
                const int8_t *w_tap = weights + ky_begin * w_row + kx_begin * ch;
                for (c = 0; c < c4; c += 4) {
                    int32_t acc[4];
                    acc[0] = bias[c];
                    acc[1] = bias[c + 1];
                    acc[2] = bias[c + 2];
                    acc[3] = bias[c + 3];
                    block4(x_tap + c, w_tap + c, ky_end - ky_begin, taps, row, w_row, ch, nzp2, acc);
                    out[c] = tq_requantize_s8_fused_or_fast(acc[0], fused, multiplier[c], shift[c], zp_out, act_min,
                                                            act_max);
                    out[c + 1] = tq_requantize_s8_fused_or_fast(acc[1], fused, multiplier[c + 1], shift[c + 1], zp_out,
                                                                act_min, act_max);
                    out[c + 2] = tq_requantize_s8_fused_or_fast(acc[2], fused, multiplier[c + 2], shift[c + 2], zp_out,
                                                                act_min, act_max);
                    out[c + 3] = tq_requantize_s8_fused_or_fast(acc[3], fused, multiplier[c + 3], shift[c + 3], zp_out,
                                                                act_min, act_max);
                }
            } else {
                for (c = 0; c < c4; ++c) { /* no in-bounds tap: acc = bias */
                    out[c] = tq_requantize_s8_fused_or_fast(bias[c], fused, multiplier[c], shift[c], zp_out, act_min,
                                                            act_max);
                }
            }
            if (c4 < ch) { /* the last in_c mod 4 channels (multiplier 1: input channel = output channel) */
                pixel_portable(p, input, y0, ky_begin, ky_end, x0, kx_begin, kx_end, c4, out);
            }
        }
    }
}

void tq_depthwise_conv2d_s8(const tq_depthwise_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_depthwise_conv2d_s8_params *p = params;
    if (p->scratch != NULL && p->records != NULL
        && TQ_DW_DSP_OK(p->kernel_h, p->kernel_w, p->depth_multiplier, p->stride_h, p->stride_w, p->pad_top,
                        p->pad_left, p->requant_fused, p->out_w)) {
        rows_path(p, input, output);
    } else {
        pixel_path(p, input, output);
    }
}

#endif /* TQ_USE_DSP */
