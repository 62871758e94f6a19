/*
 * tq_conv_first.h - internal to the DSP conv's first-layer paths (tq_conv2d_s8_first.c: int8 layout, default builds;
 * tq_conv2d_s8_first16.c: the int16 speed layout, speed builds), for 3 x 3 convs of a 3-channel input (K = 27,
 * K4 = 28; tinyqat/codegen/layouts.py, conv_dsp_path, states the conditions: scratch, requant_fused == 2, out_c a
 * multiple of 4 whose output-stage table, and in default builds the widened weights, fit the scratch): the column
 * builders, the assembly function of the pair runs on int16 weights (tq_first_pairs16) and the driver (tq_first_run).
 * Both paths run the int16 pairs: the default build widens its int8 weights into the scratch once per call (out_c * 14
 * SXTB16 pairs), which costs less than one pixel pair of the int8 pairs' extra 2 cycles per 16 MACs.
 *
 * Same columns, weight layouts, 4 x 2 blocks and output stage as tq_conv2d_s8_dsp.c (see there; tq_conv_dsp.h):
 * per output pixel pair (raster order; the last pixel alone when their number is odd, its column copied and
 * written twice at the same place) two int16 columns of 28 values in the column order (each group of 4 window
 * values (v0, v1, v2, v3) as (v0, v2, v1, v3), minus the input zero point; the 28th value is the zero point, i.e.
 * 0), then every channel group of 4 x 2 accumulators over the 14 column pairs with the output stage in the block
 * (the table of tq_conv_table_fill in the scratch between the two columns). What these paths save over
 * tq_conv2d_s8_dsp.c's general pixel loop is the per-pixel bookkeeping, column dispatch and block calls: a run of
 * pairs whose windows lie inside the input, in one output row, is one call of a Thumb-2 assembly function (each
 * window read as 7 words from its 3 rows of 9 bytes, the 14 column pairs of each group unrolled); a window crossing
 * the edge is staged as int8 with the zero point for its padded taps (first_edge), its pair then run by the same
 * function from the columns.
 *
 * In-place contract (tq_kernels.h): each pair's two windows are read before its outputs are written, pairs in
 * raster order, as in tq_conv2d_s8_dsp.c.
 */
#ifndef TQ_CONV_FIRST_H
#define TQ_CONV_FIRST_H

#include "tq_conv_dsp.h"

#if TQ_USE_DSP
#include "tq_dsp.h"

/* Column values of the 3 x 3 x 3 window (K = 27 rounded up to a multiple of 4). */
#define TQ_FIRST_K4 28

/* One group word of TQ_FIRST_COLUMN: register SRC's 4 int8 values minus the zero point (r2 = (-zp, -zp)) as
 * (v0, v2), (v1, v3) at byte OFF of the column (r12), through r7. */
#define TQ_FIRST_WORD(SRC, OFF)                                                                    \
    "sxtab16 r7, r2, " SRC "\n\t"                                                                 \
    "str r7, [r12, #" TQ_STR(OFF) "]\n\t"                                                          \
    "sxtab16 r7, r2, " SRC ", ror #8\n\t"                                                         \
    "str r7, [r12, #" TQ_STR(OFF) " + 4]\n\t"

/*
 * The column of a window inside the input at byte C of the column base r12 (0: pixel 0's, TQ_CONV_DSP_COL1: pixel
 * 1's): r0 = the window's first byte, r1 = the input row's bytes (rows a, b, c of 9 bytes), r2 = (-zp, -zp), r3 =
 * zp << 24; the group words (a0-a3), (a4-a7), (a8, b0-b2), (b3-b6), (b7, b8, c0, c1), (c2-c5), (c6, c7, c8, zp),
 * each read from the window's bytes only (a byte or halfword of one row joined to the start of the next).
 * Scratch: r4-r8, lr. 9 loads, 3 joins, 14 SXTAB16, 14 stores.
 */
#define TQ_FIRST_COLUMN(C)                                                                         \
    "add lr, r0, r1\n\t"                                                                          \
    "ldr r4, [r0]\n\t"                                                                            \
    "ldr r5, [r0, #4]\n\t"                                                                        \
    "ldrb r6, [r0, #8]\n\t"                                                                       \
    "ldr r8, [lr]\n\t"                                                                            \
    "orr r6, r6, r8, lsl #8\n\t"                                                                  \
    TQ_FIRST_WORD("r4", C)                                                                        \
    "ldr r4, [lr, #3]\n\t"                                                                        \
    "ldrh r8, [lr, #7]\n\t"                                                                       \
    "add lr, lr, r1\n\t"                                                                          \
    TQ_FIRST_WORD("r5", C + 8)                                                                    \
    "ldr r5, [lr]\n\t"                                                                            \
    "orr r5, r8, r5, lsl #16\n\t"                                                                 \
    TQ_FIRST_WORD("r6", C + 16)                                                                   \
    "ldr r6, [lr, #2]\n\t"                                                                        \
    "ldr r8, [lr, #5]\n\t"                                                                        \
    TQ_FIRST_WORD("r4", C + 24)                                                                   \
    "orr r8, r3, r8, lsr #8\n\t"                                                                  \
    TQ_FIRST_WORD("r5", C + 32)                                                                   \
    TQ_FIRST_WORD("r6", C + 40)                                                                   \
    TQ_FIRST_WORD("r8", C + 48)

/* What a first_pairs function reads (byte offsets used by its assembly in the comments), set once per call. */
typedef struct {
    int32_t rs;            /*  0: the input row's bytes, 3 * in_w */
    int32_t nzp2;          /*  4: (-input_zero_point, -input_zero_point) */
    uint32_t zp_hi;        /*  8: input_zero_point << 24 */
    int32_t step;          /* 12: bytes from a window to the next pixel's, 3 * stride_w */
    int16_t *col;          /* 16: the scratch: pixel 0's column, pixel 1's TQ_CONV_DSP_COLUMN_MAX values later */
    const int16_t *w;      /* 20: the weights in the int16 speed layout */
    const int32_t *table;  /* 24: the output-stage table (tq_conv_table_fill) */
    const int32_t *end;    /* 28: the table's end, table + TQ_CONV_TABLE_GROUP_WORDS * out_c / 4 */
    int32_t out_c;         /* 32 */
} first_ctx;

typedef char tq_first_ctx_out_c_at_32[offsetof(first_ctx, out_c) == 32 ? 1 : -1];

/*
 * The body of tq_first_pairs16 (naked; the weights in the int16 speed layout): pairs >= 1 pixel pairs, each the next
 * two windows inside the input (src, src + step; the next pair from src + 2 step): their columns (TQ_FIRST_COLUMN),
 * then every channel group: the 8 accumulators from the group's biases, the 14 column pairs (TQ_CONV_PAIR,
 * unrolled), the output stage (TQ_CONV_OUT_CHANNEL) and the group's 4 bytes of each pixel at out0 / out1 (advanced
 * by 4). The first pair's bytes go to out0 and out1, each next pair's to the previous pair's out1 end and out_c
 * bytes after it (raster order). pairs == 0: one pair whose
 * two columns are already in the scratch (src unused; out1 == out0 for a last pixel alone).
 * AAPCS: r0 = src, r1 = pairs, r2 = out0, r3 = ctx; stack: out1. Locals: [sp] src, [sp, #4] pairs left, [sp, #8]
 * out0, [sp, #12] the table pointer, [sp, #16] col, [sp, #20] ctx, [sp, #24] out1, [sp, #28] table end,
 * [sp, #32] out_c.
 */
#define TQ_FIRST_PAIRS_BODY                                              \
    "push {r4-r11, lr}\n\t"                                              \
    "ldr r12, [sp, #36]\n\t"                                             \
    "sub sp, sp, #36\n\t"                                                \
    "str r0, [sp]\n\t"                                                   \
    "str r1, [sp, #4]\n\t"                                               \
    "str r2, [sp, #8]\n\t"                                               \
    "str r3, [sp, #20]\n\t"                                              \
    "str r12, [sp, #24]\n\t"                                             \
    "ldr r12, [r3, #16]\n\t"                                             \
    "str r12, [sp, #16]\n\t"                                             \
    "ldr r12, [r3, #28]\n\t"                                             \
    "str r12, [sp, #28]\n\t"                                             \
    "ldr r12, [r3, #32]\n\t"                                             \
    "str r12, [sp, #32]\n\t"                                             \
    "cmp r1, #0\n\t"                                                     \
    "beq 3f\n"                                                           \
    "1:\n\t"                                                             \
    "ldr r3, [sp, #20]\n\t"                                              \
    "ldm r3, {r1, r2, r3, r9, r12}\n\t"                                  \
    "ldr r0, [sp]\n\t"                                                   \
    TQ_FIRST_COLUMN(0)                                                   \
    "add r0, r0, r9\n\t"                                                 \
    TQ_FIRST_COLUMN(TQ_CONV_DSP_COL1)                                    \
    "add r0, r0, r9\n\t"                                                 \
    "str r0, [sp]\n"                                                     \
    "3:\n\t"                                                             \
    "ldr r3, [sp, #20]\n\t"                                              \
    "ldr r1, [r3, #20]\n\t"                                              \
    "ldr r0, [r3, #24]\n\t"                                              \
    "sub r1, r1, #4\n"                                                   \
    "2:\n\t"                                                             \
    TQ_CONV_GROUP_BIASES                                                 \
    "ldr r0, [sp, #16]\n\t"                                              \
    TQ_CONV_PAIRS8(TQ_CONV_PAIR)                                         \
    TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR                               \
    TQ_CONV_PAIR TQ_CONV_PAIR TQ_CONV_PAIR                               \
    "ldr r0, [sp, #12]\n\t"                                              \
    TQ_CONV_GROUP_STORE(8, 24)                                           \
    "ldr r2, [sp, #28]\n\t"                                              \
    "cmp r0, r2\n\t"                                                     \
    "bne 2b\n\t"                                                         \
    "ldr r2, [sp, #32]\n\t"                                              \
    "str r3, [sp, #8]\n\t"                                               \
    "add r3, r3, r2\n\t"                                                 \
    "str r3, [sp, #24]\n\t"                                              \
    "ldr r1, [sp, #4]\n\t"                                               \
    "subs r1, r1, #1\n\t"                                                \
    "str r1, [sp, #4]\n\t"                                               \
    "bgt 1b\n\t"                                                         \
    "add sp, sp, #36\n\t"                                                \
    "pop {r4-r11, pc}\n\t"

/* The pair runs (TQ_FIRST_PAIRS_BODY with TQ_CONV_PAIR: 16 estimated cycles per 16 MACs) on int16 weights in the
 * speed layout: the layer's weights_s16 (tq_conv2d_s8_first16.c) or its int8 layout widened once per call into the
 * scratch (tq_conv2d_s8_first.c). */
__attribute__((naked, noinline)) static void tq_first_pairs16(TQ_ASM_ARG const int8_t *src, TQ_ASM_ARG int32_t pairs,
                                                              TQ_ASM_ARG int8_t *out0, TQ_ASM_ARG const first_ctx *ctx,
                                                              TQ_ASM_ARG int8_t *out1)
{
    __asm__ volatile(TQ_FIRST_PAIRS_BODY);
}

/* The column of a window crossing the input's edge, its top-left tap at (y0, x0): the 27 values (the zero point
 * for taps outside the input) and the zero point staged as int8 words, then converted by tq_conv_column_word. Not inlined:
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
        tq_conv_column_word(col + 4 * j, tq_load_s8x4(stage + 4 * j), nzp2);
    }
}

/* Where first_run stands: the next pixel's output column ox, its window's first row y0 (y_inside: the window's 3 rows lie
 * inside the input) and first byte's offset off (when inside); the window columns ox in [ox_lo, ox_hi) lie inside the
 * input's width. */
typedef struct {
    int32_t ox, y0, y_inside, off, ox_lo, ox_hi;
} first_pos;

/* pos at the start of the next output row: ox = 0, y0 advanced by stride_h. */
static inline void first_next_row(const tq_conv2d_s8_params *p, first_pos *pos)
{
    pos->ox = 0;
    pos->y0 += p->stride_h;
    pos->y_inside = pos->y0 >= 0 && pos->y0 + 3 <= p->in_h;
    pos->off = (pos->y0 * p->in_w - p->pad_left) * 3;
}

/* The two columns of the pair at pos (pos advanced), or with alone the column of the last pixel and its copy: the
 * window's column from the input when it lies inside (tq_conv_column_3x3x3, tq_conv_dsp.h), else staged (first_edge). Not inlined: tq_first_run's
 * loop keeps fewer live values. */
__attribute__((noinline)) static void first_pair_columns(const tq_conv2d_s8_params *p, const int8_t *input,
                                                         const first_ctx *ctx, first_pos *pos, int32_t alone)
{
    int32_t k;
    for (k = 0; k < 2; ++k) {
        int16_t *const c = ctx->col + k * TQ_CONV_DSP_COLUMN_MAX;
        if (k == 1 && alone) {
            memcpy(c, ctx->col, TQ_FIRST_K4 * sizeof *c);
            return;
        }
        if (pos->y_inside && pos->ox >= pos->ox_lo && pos->ox < pos->ox_hi) {
            tq_conv_column_3x3x3(input + pos->off, ctx->rs, ctx->nzp2, ctx->zp_hi, c);
        } else {
            first_edge(p, input, pos->y0, pos->ox * p->stride_w - p->pad_left, ctx->nzp2, c);
        }
        pos->off += ctx->step;
        if (++pos->ox == p->out_w) {
            first_next_row(p, pos);
        }
    }
}

/*
 * The whole call on the int16 speed-layout weights w16, or with w16 == NULL on the int8 layout p->weights widened into
 * the scratch after the table (each weight word's SXTB16 and SXTB16 ROR #8, the speed layout's two words: out_c * 56
 * bytes, which tinyqat/codegen/layouts.py, conv_dsp_path, checks fit below the second column): the table, then the
 * pixel pairs in raster order. A run of pairs whose windows all lie inside the input, in one output row, is one
 * tq_first_pairs16 call; any other pair (a window crossing the edge, a pair across two rows, the last pixel alone)
 * gets its columns from first_pair_columns and then a tq_first_pairs16 call with pairs 0.
 */
static inline void tq_first_run(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output,
                                const int16_t *w16)
{
    const int32_t in_w = p->in_w, out_w = p->out_w, out_c = p->out_c;
    const int32_t pixels = p->out_h * out_w, stride_w = p->stride_w, pad_left = p->pad_left;
    int32_t fast_end, px = 0;
    first_ctx ctx;
    first_pos pos;
    pos.ox_lo = (pad_left + stride_w - 1) / stride_w;
    pos.ox_hi = in_w - 3 + pad_left >= 0 ? (in_w - 3 + pad_left) / stride_w + 1 : 0;
    fast_end = (pos.ox_hi < out_w ? pos.ox_hi : out_w) - 1; /* fast pairs start below it */
    pos.y0 = -p->pad_top - p->stride_h; /* first_next_row from the row before the first: ox = 0, y0 = -pad_top */
    first_next_row(p, &pos);
    ctx.rs = 3 * in_w;
    ctx.nzp2 = tq_dup_s16(-p->input_zero_point);
    ctx.zp_hi = (uint32_t)p->input_zero_point << 24;
    ctx.step = 3 * stride_w;
    ctx.col = (int16_t *)p->scratch;
    ctx.table = (int32_t *)(void *)(ctx.col + TQ_FIRST_K4);
    ctx.end = ctx.table + TQ_CONV_TABLE_GROUP_WORDS * (out_c >> 2);
    ctx.out_c = out_c;
    tq_conv_table_fill(p, out_c >> 2, 1, (int32_t *)(void *)(ctx.col + TQ_FIRST_K4));
    if (w16 == NULL) {
        int16_t *const wide = (int16_t *)(void *)ctx.end;
        int32_t j;
        for (j = 0; j < out_c * (TQ_FIRST_K4 / 4); ++j) {
            tq_conv_column_word(wide + 4 * j, tq_load_s8x4(p->weights + 4 * j), 0);
        }
        w16 = wide;
    }
    ctx.w = w16;
    while (px < pixels) {
        int8_t *const out0 = output + px * out_c;
        const int32_t alone = px + 1 == pixels;
        if (pos.y_inside && pos.ox >= pos.ox_lo && pos.ox < fast_end) { /* n pairs inside, in one row */
            const int32_t n = (fast_end - pos.ox + 1) >> 1;
            tq_first_pairs16(input + pos.off, n, out0, &ctx, out0 + out_c);
            px += 2 * n;
            pos.ox += 2 * n;
            pos.off += 2 * n * ctx.step;
            if (pos.ox == out_w) {
                first_next_row(p, &pos);
            }
            continue;
        }
        first_pair_columns(p, input, &ctx, &pos, alone);
        tq_first_pairs16(input, 0, out0, &ctx, alone ? out0 : out0 + out_c);
        px += 2;
    }
}

#endif /* TQ_USE_DSP */
#endif /* TQ_CONV_FIRST_H */
