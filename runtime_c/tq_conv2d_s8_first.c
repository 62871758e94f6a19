/*
 * tq_conv2d_s8_first.c - the DSP conv's path for 3 x 3 convs of a 3-channel input (first layers: K = 27, K4 = 28),
 * published as tq_conv2d_s8_first. The generator ships this file, and sets params->dsp_path = &tq_conv2d_s8_first
 * under TQ_USE_DSP, only for packages with such a layer (tinyqat/codegen/layouts.py, conv_dsp_path, states the
 * conditions: scratch, requant_fused == 2, out_c a multiple of 4 whose output-stage table fits the scratch), so
 * other builds do not link it. Cores without the DSP extension compile nothing here.
 *
 * Same columns, weight layouts, blocks and output stage as tq_conv2d_s8_dsp.c (see there; tq_conv_dsp.h): per
 * output pixel pair (raster order; the last pixel alone when their number is odd, its column copied and written
 * twice at the same place) two int16 columns of 28 values in the column order (each group of 4 window values
 * (v0, v1, v2, v3) as (v0, v2, v1, v3), minus the input zero point; the 28th value is the zero point, i.e. 0),
 * then one 4 x 2 block call for all out_c / 4 channel groups with the output stage in the block (the table of
 * tq_conv_table_fill in the scratch between the two columns). What this path saves over tq_conv2d_s8_dsp.c's
 * general pixel loop is the per-pixel bookkeeping and column dispatch: a window inside the input is read as 7
 * words from its 3 rows of 9 bytes (first_inside, inlined), a window crossing the edge is staged as int8 with
 * the zero point for its padded taps (first_edge). Blocks: the int8-layout block here (first_block_s8, the
 * same assembly as tq_conv2d_s8_dsp.c's block_4x2_s8), or with weights_s16 the speed layout's block
 * (params->speed_blocks, tq_conv2d_s8_speed.c), so a default build links no speed-layout code.
 *
 * In-place contract (tq_kernels.h): each pair's two windows are read before its outputs are written, pairs in
 * raster order, as in tq_conv2d_s8_dsp.c.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP
#include "tq_dsp.h"

/* Column values of the 3 x 3 x 3 window (K = 27 rounded up to a multiple of 4). */
#define TQ_FIRST_K4 28

/* The int8-layout 4 x 2 block (tq_conv_dsp.h: TQ_CONV_BLOCK16 with TQ_CONV_PAIR_S8; see block_job). */
__attribute__((naked, noinline)) static void first_block_s8(TQ_ASM_ARG const int16_t *col, TQ_ASM_ARG const void *w,
                                                            TQ_ASM_ARG int32_t pairs, TQ_ASM_ARG block_job *job)
{
    __asm__ volatile(TQ_CONV_BLOCK16(TQ_CONV_PAIR_S8, 64));
}

/* One column group word v (4 int8 window values) at col: (v0, v2) and (v1, v3) minus the zero point (nzp2 =
 * (-zp, -zp)), as tq_conv2d_s8_dsp.c's column_word. */
__attribute__((always_inline)) static inline void first_word(int16_t *col, int32_t v, int32_t nzp2)
{
    tq_store_s16x2(col, __sxtab16(nzp2, v));
    tq_store_s16x2(col + 2, tq_sxtab16_odd(nzp2, v));
}

/* One group word of first_inside's assembly: SRC's 4 int8 values minus the zero point (NZP) as (v0, v2), (v1, v3)
 * at byte OFF of COL, through T. */
#define TQ_FIRST_WORD(SRC, OFF)                                                                    \
    "sxtab16 %[t], %[nzp], " SRC "\n\t"                                                           \
    "str %[t], [%[col], #" #OFF "]\n\t"                                                            \
    "sxtab16 %[t], %[nzp], " SRC ", ror #8\n\t"                                                   \
    "str %[t], [%[col], #" #OFF " + 4]\n\t"

/* The column of a window inside the input: src its first byte, rs the input row's bytes (rows a, b, c of 9 bytes):
 * the group words (a0-a3), (a4-a7), (a8, b0-b2), (b3-b6), (b7, b8, c0, c1), (c2-c5), (c6, c7, c8, zp), each read from
 * the window's bytes only (a byte or halfword of one row joined to the start of the next); zp_hi = zp << 24.
 * Assembly: 9 loads, 3 joins, 14 SXTAB16 and 14 stores (about 45 estimated cycles). */
__attribute__((always_inline)) static inline void first_inside(const int8_t *src, int32_t rs, int32_t nzp2,
                                                               uint32_t zp_hi, int16_t *col)
{
    const int8_t *b;
    int32_t g0, g1, g2, t, u;
    __asm__ volatile(
        "add %[b], %[src], %[rs]\n\t"
        "ldr %[g0], [%[src]]\n\t"
        "ldr %[g1], [%[src], #4]\n\t"
        "ldrb %[g2], [%[src], #8]\n\t"
        "ldr %[u], [%[b]]\n\t"
        "orr %[g2], %[g2], %[u], lsl #8\n\t"
        TQ_FIRST_WORD("%[g0]", 0)
        "ldr %[g0], [%[b], #3]\n\t"
        "ldrh %[u], [%[b], #7]\n\t"
        "add %[b], %[b], %[rs]\n\t"
        TQ_FIRST_WORD("%[g1]", 8)
        "ldr %[g1], [%[b]]\n\t"
        "orr %[g1], %[u], %[g1], lsl #16\n\t"
        TQ_FIRST_WORD("%[g2]", 16)
        "ldr %[g2], [%[b], #2]\n\t"
        "ldr %[u], [%[b], #5]\n\t"
        TQ_FIRST_WORD("%[g0]", 24)
        "orr %[u], %[zph], %[u], lsr #8\n\t"
        TQ_FIRST_WORD("%[g1]", 32)
        TQ_FIRST_WORD("%[g2]", 40)
        TQ_FIRST_WORD("%[u]", 48)
        : [b] "=&r"(b), [g0] "=&r"(g0), [g1] "=&r"(g1), [g2] "=&r"(g2), [t] "=&r"(t), [u] "=&r"(u)
        : [src] "r"(src), [rs] "r"(rs), [nzp] "r"(nzp2), [zph] "r"(zp_hi), [col] "r"(col)
        : "memory");
}

/* The column of a window crossing the input's edge, its top-left tap at (y0, x0): the 27 values (the zero point
 * for taps outside the input) and the zero point staged as int8 words, then converted by first_word. Not inlined:
 * few windows cross the edge. */
__attribute__((noinline)) static void first_edge(const tq_conv2d_s8_params *p, const int8_t *input, int32_t y0,
                                                 int32_t x0, int32_t nzp2, int16_t *col)
{
    const int8_t zp = (int8_t)p->input_zero_point;
    int8_t stage[TQ_FIRST_K4];
    int32_t ky, kx, j;
    for (j = 0; j < TQ_FIRST_K4; ++j) {
        stage[j] = zp;
    }
    for (ky = 0; ky < 3; ++ky) {
        const int32_t iy = y0 + ky;
        for (kx = 0; kx < 3; ++kx) {
            const int32_t ix = x0 + kx;
            if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                memcpy(stage + 9 * ky + 3 * kx, input + (iy * p->in_w + ix) * 3, 3);
            }
        }
    }
    for (j = 0; j < 7; ++j) {
        first_word(col + 4 * j, tq_load_s8x4(stage + 4 * j), nzp2);
    }
}

/* The whole call (the file comment): the table, then per pixel pair its two columns and one block call. */
static void first_run(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w, in_h = p->in_h, out_w = p->out_w, out_c = p->out_c;
    const int32_t pixels = p->out_h * out_w, stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t pad_left = p->pad_left, rs = 3 * in_w, step = 3 * stride_w;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    const uint32_t zp_hi = (uint32_t)p->input_zero_point << 24;
    /* the windows of ox in [ox_lo, ox_hi) lie inside the input's width */
    const int32_t ox_lo = (pad_left + stride_w - 1) / stride_w;
    const int32_t ox_hi = in_w - 3 + pad_left >= 0 ? (in_w - 3 + pad_left) / stride_w + 1 : 0;
    int16_t *const col = (int16_t *)p->scratch; /* 2 columns, TQ_CONV_DSP_COLUMN_MAX values apart */
    int32_t *const table = (int32_t *)(void *)(col + TQ_FIRST_K4);
    tq_conv_block_fn *const block = p->weights_s16 != NULL ? p->speed_blocks->block : first_block_s8;
    const void *const weights = p->weights_s16 != NULL ? (const void *)p->weights_s16 : (const void *)p->weights;
    int32_t px, k, ox = 0, y0 = -p->pad_top;
    int32_t y_inside = y0 >= 0 && y0 + 3 <= in_h;
    const int8_t *src = input + (y0 * in_w - pad_left) * 3; /* the window's first byte, when inside */
    block_job job;
    tq_conv_table_fill(p, out_c >> 2, table);
    job.bias = table;
    job.groups = out_c >> 2;
    job.acc = NULL;
    for (px = 0; px < pixels; px += 2) {
        job.out0 = output + px * out_c;
        job.out1 = job.out0 + out_c;
        if (y_inside && ox >= ox_lo && ox + 1 < ox_hi) { /* both windows inside, in one row */
            first_inside(src, rs, nzp2, zp_hi, col);
            first_inside(src + step, rs, nzp2, zp_hi, col + TQ_CONV_DSP_COLUMN_MAX);
            src += 2 * step;
            ox += 2;
            if (ox == out_w) {
                ox = 0;
                y0 += stride_h;
                y_inside = y0 >= 0 && y0 + 3 <= in_h;
                src = input + (y0 * in_w - pad_left) * 3;
            }
            block(col, weights, TQ_FIRST_K4 / 2, &job);
            continue;
        }
        for (k = 0; k < 2; ++k) {
            int16_t *const c = col + k * TQ_CONV_DSP_COLUMN_MAX;
            if (px + k == pixels) { /* the last pixel alone */
                memcpy(c, col, TQ_FIRST_K4 * sizeof *col);
                job.out1 = job.out0;
                break;
            }
            if (y_inside && ox >= ox_lo && ox < ox_hi) {
                first_inside(src, rs, nzp2, zp_hi, c);
            } else {
                first_edge(p, input, y0, ox * stride_w - pad_left, nzp2, c);
            }
            src += step;
            if (++ox == out_w) {
                ox = 0;
                y0 += stride_h;
                y_inside = y0 >= 0 && y0 + 3 <= in_h;
                src = input + (y0 * in_w - pad_left) * 3;
            }
        }
        block(col, weights, TQ_FIRST_K4 / 2, &job);
    }
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_first = {first_run, NULL};

#endif /* TQ_USE_DSP */
