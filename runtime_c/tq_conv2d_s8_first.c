/*
 * tq_conv2d_s8_first.c - the DSP conv's path for 3 x 3 convs of a 3-channel input (first layers: K = 27, K4 = 28),
 * published as tq_conv2d_s8_first. The generator ships this file, and sets params->dsp_path = &tq_conv2d_s8_first
 * under TQ_USE_DSP, only for packages with such a layer (tinyqat/codegen/layouts.py, conv_dsp_path, states the
 * conditions: scratch, requant_fused == 2, out_c a multiple of 4 whose output-stage table fits the scratch; a
 * default build only up to 8 channels), so other builds do not link it. Cores without the DSP extension compile
 * nothing here.
 *
 * Same columns, weight layouts, 4 x 2 blocks and output stage as tq_conv2d_s8_dsp.c (see there; tq_conv_dsp.h):
 * per output pixel pair (raster order; the last pixel alone when their number is odd, its column copied and
 * written twice at the same place) two int16 columns of 28 values in the column order (each group of 4 window
 * values (v0, v1, v2, v3) as (v0, v2, v1, v3), minus the input zero point; the 28th value is the zero point, i.e.
 * 0), then every channel group of 4 x 2 accumulators over the 14 column pairs with the output stage in the block
 * (the table of tq_conv_table_fill in the scratch between the two columns). What this path saves over
 * tq_conv2d_s8_dsp.c's general pixel loop is the per-pixel bookkeeping, column dispatch and block call: a run of
 * pairs whose windows lie inside the input, in one output row, is one call of first_pairs8 (int8 layout, Thumb-2
 * assembly: each window read as 7 words from its 3 rows of 9 bytes, the 14 column pairs of each group unrolled);
 * a window crossing the edge is staged as int8 with the zero point for its padded taps (first_edge), its pair then
 * run by first_pairs8 from the columns. With weights_s16 (speed builds) every pair gets its columns in C and the
 * speed layout's block (params->speed_blocks, tq_conv2d_s8_speed.c), so a default build links no speed-layout code
 * (only the indirect call in first_run that reaches it).
 *
 * In-place contract (tq_kernels.h): each pair's two windows are read before its outputs are written, pairs in
 * raster order, as in tq_conv2d_s8_dsp.c.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP
#include "tq_dsp.h"

/* Column values of the 3 x 3 x 3 window (K = 27 rounded up to a multiple of 4). */
#define TQ_FIRST_K4 28

/* One column group word v (4 int8 window values) at col: (v0, v2) and (v1, v3) minus the zero point (nzp2 =
 * (-zp, -zp)), as tq_conv2d_s8_dsp.c's column_word. */
__attribute__((always_inline)) static inline void first_word(int16_t *col, int32_t v, int32_t nzp2)
{
    tq_store_s16x2(col, __sxtab16(nzp2, v));
    tq_store_s16x2(col + 2, tq_sxtab16_odd(nzp2, v));
}

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

/* What first_pairs8 reads (byte offsets used by its assembly in the comments), set once per call. */
typedef struct {
    int32_t rs;            /*  0: the input row's bytes, 3 * in_w */
    int32_t nzp2;          /*  4: (-input_zero_point, -input_zero_point) */
    uint32_t zp_hi;        /*  8: input_zero_point << 24 */
    int32_t step;          /* 12: bytes from a window to the next pixel's, 3 * stride_w */
    int16_t *col;          /* 16: the scratch: pixel 0's column, pixel 1's TQ_CONV_DSP_COLUMN_MAX values later */
    const int8_t *w;       /* 20: the int8-layout weights */
    const int32_t *table;  /* 24: the output-stage table (tq_conv_table_fill) */
    const int32_t *end;    /* 28: the table's end, table + TQ_CONV_TABLE_GROUP_WORDS * out_c / 4 */
    int32_t out_c;         /* 32 */
} first_ctx;

typedef char tq_first_ctx_out_c_at_32[offsetof(first_ctx, out_c) == 32 ? 1 : -1];

/*
 * pairs >= 1 pixel pairs of the int8 layout, each the next two windows inside the input (src, src + step; the next
 * pair from src + 2 step): their columns (TQ_FIRST_COLUMN), then every channel group: the 8 accumulators from the
 * group's biases, the 14 column pairs (TQ_CONV_PAIR_S8, unrolled), the output stage (TQ_CONV_OUT_CHANNEL) and the
 * group's 4 bytes of each pixel at out0 / out1 (advanced by 4). The first pair's bytes go to out0 and out1, each
 * next pair's to the previous pair's out1 end and out_c bytes after it (raster order). pairs == 0: one pair whose
 * two columns are already in the scratch (src unused; out1 == out0 for a last pixel alone).
 * AAPCS: r0 = src, r1 = pairs, r2 = out0, r3 = ctx; stack: out1. Locals: [sp] src, [sp, #4] pairs left, [sp, #8]
 * out0, [sp, #12] the table pointer, [sp, #16] col, [sp, #20] ctx, [sp, #24] out1, [sp, #28] table end,
 * [sp, #32] out_c.
 */
__attribute__((naked, noinline)) static void first_pairs8(TQ_ASM_ARG const int8_t *src, TQ_ASM_ARG int32_t pairs,
                                                          TQ_ASM_ARG int8_t *out0, TQ_ASM_ARG const first_ctx *ctx,
                                                          TQ_ASM_ARG int8_t *out1)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r12, [sp, #36]\n\t"
        "sub sp, sp, #36\n\t"
        "str r0, [sp]\n\t"
        "str r1, [sp, #4]\n\t"
        "str r2, [sp, #8]\n\t"
        "str r3, [sp, #20]\n\t"
        "str r12, [sp, #24]\n\t"
        "ldr r12, [r3, #16]\n\t"
        "str r12, [sp, #16]\n\t"
        "ldr r12, [r3, #28]\n\t"
        "str r12, [sp, #28]\n\t"
        "ldr r12, [r3, #32]\n\t"
        "str r12, [sp, #32]\n\t"
        "cmp r1, #0\n\t"
        "beq 3f\n"
        "1:\n\t"
        "ldr r3, [sp, #20]\n\t"
        "ldm r3, {r1, r2, r3, r9, r12}\n\t"
        "ldr r0, [sp]\n\t"
        TQ_FIRST_COLUMN(0)
        "add r0, r0, r9\n\t"
        TQ_FIRST_COLUMN(TQ_CONV_DSP_COL1)
        "add r0, r0, r9\n\t"
        "str r0, [sp]\n"
        "3:\n\t"
        "ldr r3, [sp, #20]\n\t"
        "ldr r1, [r3, #20]\n\t"
        "ldr r0, [r3, #24]\n\t"
        "sub r1, r1, #4\n"
        "2:\n\t"
        "ldm r0!, {r4, r6, r8, r10}\n\t"
        "str r0, [sp, #12]\n\t"
        "mov r5, r4\n\t"
        "mov r7, r6\n\t"
        "mov r9, r8\n\t"
        "mov r11, r10\n\t"
        "ldr r0, [sp, #16]\n\t"
        TQ_CONV_PAIRS8(TQ_CONV_PAIR_S8)
        TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8 TQ_CONV_PAIR_S8
        "ldr r0, [sp, #12]\n\t"
        TQ_CONV_OUT_CHANNEL("r4", "r5") TQ_CONV_OUT_CHANNEL("r6", "r7")
        TQ_CONV_OUT_CHANNEL("r8", "r9") TQ_CONV_OUT_CHANNEL("r10", "r11")
        "ldr r2, [sp, #8]\n\t"
        "ldr r3, [sp, #24]\n\t"
        "strb r6, [r2, #1]\n\t"
        "strb r8, [r2, #2]\n\t"
        "strb r10, [r2, #3]\n\t"
        "strb r4, [r2], #4\n\t"
        "strb r7, [r3, #1]\n\t"
        "strb r9, [r3, #2]\n\t"
        "strb r11, [r3, #3]\n\t"
        "strb r5, [r3], #4\n\t"
        "str r2, [sp, #8]\n\t"
        "str r3, [sp, #24]\n\t"
        "ldr r2, [sp, #28]\n\t"
        "cmp r0, r2\n\t"
        "bne 2b\n\t"
        "ldr r2, [sp, #32]\n\t"
        "str r3, [sp, #8]\n\t"
        "add r3, r3, r2\n\t"
        "str r3, [sp, #24]\n\t"
        "ldr r1, [sp, #4]\n\t"
        "subs r1, r1, #1\n\t"
        "str r1, [sp, #4]\n\t"
        "bgt 1b\n\t"
        "add sp, sp, #36\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* TQ_FIRST_COLUMN in C (the same column words), for the pairs first_run builds the columns of (a pair across two
 * rows, one beside an edge window, every pair with weights_s16): src = the window's first byte, rs = 3 * in_w. */
__attribute__((always_inline)) static inline void first_inside(const int8_t *src, int32_t rs, int32_t nzp2,
                                                               uint32_t zp_hi, int16_t *col)
{
    const int8_t *const b = src + rs, *const c = b + rs;
    uint16_t b78;
    memcpy(&b78, b + 7, sizeof b78);
    first_word(col, tq_load_s8x4(src), nzp2);
    first_word(col + 4, tq_load_s8x4(src + 4), nzp2);
    first_word(col + 8, (int32_t)((uint32_t)(uint8_t)src[8] | ((uint32_t)tq_load_s8x4(b) << 8)), nzp2);
    first_word(col + 12, tq_load_s8x4(b + 3), nzp2);
    first_word(col + 16, (int32_t)((uint32_t)b78 | ((uint32_t)tq_load_s8x4(c) << 16)), nzp2);
    first_word(col + 20, tq_load_s8x4(c + 2), nzp2);
    first_word(col + 24, (int32_t)(((uint32_t)tq_load_s8x4(c + 5) >> 8) | zp_hi), nzp2);
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

/*
 * The whole call (the file comment): the table, then the pixel pairs in raster order. With the int8 layout, a run of
 * pairs whose windows all lie inside the input, in one output row, is one first_pairs8 call; any other pair (a
 * window crossing the edge, a pair across two rows, the last pixel alone), and every pair with weights_s16, gets its
 * columns here (first_inside, first_edge) and then first_pairs8 (pairs 0) or the speed layout's block.
 */
static void first_run(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w, in_h = p->in_h, out_w = p->out_w, out_c = p->out_c;
    const int32_t pixels = p->out_h * out_w, stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t pad_left = p->pad_left;
    /* the windows of ox in [ox_lo, ox_hi) lie inside the input's width; fast pairs start below fast_end */
    const int32_t ox_lo = (pad_left + stride_w - 1) / stride_w;
    const int32_t ox_hi = in_w - 3 + pad_left >= 0 ? (in_w - 3 + pad_left) / stride_w + 1 : 0;
    const int32_t fast_end = (ox_hi < out_w ? ox_hi : out_w) - 1;
    const int16_t *const w16 = p->weights_s16;
    first_ctx ctx;
    block_job job;
    int32_t px = 0, k, ox = 0, y0 = -p->pad_top;
    int32_t y_inside = y0 >= 0 && y0 + 3 <= in_h;
    int32_t off = (y0 * in_w - pad_left) * 3; /* the window's first byte, when inside */
    ctx.rs = 3 * in_w;
    ctx.nzp2 = tq_dup_s16(-p->input_zero_point);
    ctx.zp_hi = (uint32_t)p->input_zero_point << 24;
    ctx.step = 3 * stride_w;
    ctx.col = (int16_t *)p->scratch;
    ctx.w = p->weights;
    ctx.table = (int32_t *)(void *)(ctx.col + TQ_FIRST_K4);
    ctx.end = ctx.table + TQ_CONV_TABLE_GROUP_WORDS * (out_c >> 2);
    ctx.out_c = out_c;
    tq_conv_table_fill(p, out_c >> 2, (int32_t *)(void *)(ctx.col + TQ_FIRST_K4));
    job.bias = ctx.table;
    job.groups = out_c >> 2;
    job.acc = NULL;
    while (px < pixels) {
        int8_t *const out0 = output + px * out_c;
        if (w16 == NULL && y_inside && ox >= ox_lo && ox < fast_end) { /* n pairs inside, in one row */
            const int32_t n = (fast_end - ox + 1) >> 1;
            first_pairs8(input + off, n, out0, &ctx, out0 + out_c);
            px += 2 * n;
            ox += 2 * n;
            off += 2 * n * ctx.step;
        } else {
            job.out0 = out0;
            job.out1 = out0 + out_c;
            for (k = 0; k < 2; ++k, ++px) {
                int16_t *const c = ctx.col + k * TQ_CONV_DSP_COLUMN_MAX;
                if (px == pixels) { /* the last pixel alone */
                    memcpy(c, ctx.col, TQ_FIRST_K4 * sizeof *c);
                    job.out1 = out0;
                    break;
                }
                if (y_inside && ox >= ox_lo && ox < ox_hi) {
                    first_inside(input + off, ctx.rs, ctx.nzp2, ctx.zp_hi, c);
                } else {
                    first_edge(p, input, y0, ox * stride_w - pad_left, ctx.nzp2, c);
                }
                off += ctx.step;
                if (++ox == out_w) {
                    ox = 0;
                    y0 += stride_h;
                    y_inside = y0 >= 0 && y0 + 3 <= in_h;
                    off = (y0 * in_w - pad_left) * 3;
                }
            }
            if (w16 == NULL) {
                first_pairs8(input, 0, job.out0, &ctx, job.out1);
            } else {
                p->speed_blocks->block(ctx.col, w16, TQ_FIRST_K4 / 2, &job);
            }
            continue;
        }
        if (ox == out_w) {
            ox = 0;
            y0 += stride_h;
            y_inside = y0 >= 0 && y0 + 3 <= in_h;
            off = (y0 * in_w - pad_left) * 3;
        }
    }
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_first = {first_run, NULL};

#endif /* TQ_USE_DSP */
