/*
 * tq_conv2d_s8_dsp.c - int8 2-D convolution for cores with the DSP extension (SXTB16 / SMLAD),
 * the same function and result as tq_conv2d_s8.c (see tq_kernels.h for the formula).
 *
 * Method: output pixels are taken two at a time in raster order (p, p + 1; the last one alone
 * when their number is odd, computed twice and written twice at the same place). Each pixel's
 * window becomes an int16 column (im2col) of K4 values: the K = kernel_h * kernel_w * in_c values
 * x - input_zero_point (0 for padded taps) in the weights' [ky][kx][i] order, K4 - K zeros after
 * them (K4 = TQ_CONV_DSP_K4(K), K rounded up to a multiple of 4), every group of four reordered to
 * (v0, v2, v1, v3) (column_copy: SXTAB16 and SXTAB16 ROR #8 of one word give both pairs). A pointwise
 * window (1 x 1, no padding, in_c a multiple of 4) is the pixel's channels, converted inline; a window
 * inside the input is converted row by row in one loop when its rows are multiples of 4 values
 * (column_rows), read word by word (3 x 3 x 3: column_3x3x3) or staged (column_inside) when they are
 * not multiples of 4 values (first layers); any other window is converted row by row from the input when
 * its rows are multiples of 4 values, else first gathered as int8 in the column's upper bytes and
 * converted in place (column_fill). Speed layout (weights_s16), layers with in_c a multiple of 16 and stride_w <
 * kernel_w: a pixel pair of one output row whose two windows lie inside the input's width (with stride_w 1: or one
 * of them has one tap outside it) gets both columns at once, in the pixel loop params->speed_blocks->pixel_run_of
 * gives (tq_conv2d_s8_speed.c: each input value of the two windows' rows converted once). Loops, chosen per call
 * from the shapes: pointwise_run (pointwise layers
 * whose every channel group requantizes in the block: no bound checks; with in_c a multiple of 16 both columns of
 * a pair from one assembly call, column_two, in both build modes) and pixel_run (every
 * other layer; its column builder chosen once per call).
 *
 * Paths in runtime files of their own, which the generator ships and names in params->dsp_path only for
 * layers that need them (tinyqat/codegen/layouts.py, conv_dsp_path), so other builds link none of them:
 * a path with `run` does the whole call (tq_conv2d_s8_window.c: the portable window loop for a layer
 * without scratch; tq_conv2d_s8_pw8.c: pointwise layers with 8 input channels; tq_conv2d_s8_pw16.c, _pw32.c,
 * _pw64.c: with 16, 32, 64, in default builds; tq_conv2d_s8_pws16.c, _pws32.c, _pws64.c, _pws128.c: stride-1
 * pointwise layers of speed builds, their output stage in the weights' records, tq_conv_dsp.h), one with `requant_group`
 * is the output stage of a layer with requant_fused 0 or 1 (tq_conv2d_s8_stages.c).
 * The columns live in params->scratch (arena memory planned for this layer's step, disjoint from
 * input and output; tq_conv2d_s8_get_buffer_size bytes, 4-byte aligned): pixel 0's at scratch,
 * pixel 1's TQ_CONV_DSP_COLUMN_MAX values later. A layer with K above TQ_CONV_DSP_COLUMN_MAX or
 * no scratch (NULL) runs the portable window loop (tq_conv2d_s8_window.c, through params->dsp_path;
 * a core without DSP compiles tq_conv2d_s8.c, which uses the same loop, instead); the generator
 * then ships the IR weights (the layouts below only come with scratch and K <= the bound).
 *
 * Blocks: output channels four at a time, each a hand-scheduled 4 x 2 block (Thumb-2 assembly; 4
 * channels x 2 pixels, 8 accumulators in registers, initialised from the bias) over the K4 / 2
 * column pairs, channels past out_c computed with zero weights and not written. Two weight layouts,
 * both built by tinyqat/codegen/layouts.py (the Python twin) with K4 and perm = the column order:
 * - int8 layout (params->weights under TQ_USE_DSP, both build modes; block_4x2_s8 here): one word per
 *   channel pair and column pair, weights[((g * K4 / 2 + j) * 2 + s) * 4 + b] =
 *   w[4 g + 2 s + (b & 1)][perm[2 j + (b >> 1)]]: SXTB16 gives channel 4g + 2s's pair, SXTB16 ROR #8
 *   channel 4g + 2s + 1's (18 estimated cycles per 16 MACs);
 * - speed layout (params->weights_s16 != NULL, tinyqat build --optimize speed; block_4x2 in
 *   tq_conv2d_s8_speed.c, reached through params->speed_blocks so a default build does not link it): the
 *   weights pre-extended to int16, weights_s16[((g * K4 / 2 + j) * 4 + i) * 2 + h] =
 *   w[4 g + i][perm[2 j + h]] (16 estimated cycles per 16 MACs); doubled (2 w, params->speed_blocks =
 *   &tq_conv2d_s8_speed_x2, bias_scale 2: tq_conv_table_fill writes 2 * bias) for layers whose every channel group runs
 *   through the output-stage table with K4 <= 128 (tinyqat/codegen/layouts.py, speed_doubled).
 * Channel group g < ceil(out_c / 4), pair j < K4 / 2; padding weights (channels >= out_c, values
 * >= K) are 0.
 *
 * Accumulation order differs from the portable kernel but the int32 sum is the same integer:
 * every partial sum is bias[c] plus a subset of the products, so its magnitude is at most
 * |bias| + 255 * 127 * taps, which tq_kernels.h requires to stay below 2^31 (SMLAD wraps
 * modulo 2^32 and never sees an overflow).
 *
 * Output stage, chosen by the build-time params->requant_fused. 2 (fused, full int8 range, right shifts
 * <= TQ_FUSED2_OFFSET_E_MAX): the output-stage table in the scratch between the two columns (per channel
 * group its biases and per channel q, tq_fused2_offset(e, zero point) and e, 64 bytes;
 * tq_conv_table_fill of tq_conv_dsp.h, once per call) makes the block requantize its 8 accumulators itself
 * (TQ_REQUANT_FUSED2_FOLDED_ASM, 6 instructions and a byte store per output; tq_conv_dsp.h, block_job) for the first full channel groups, as many as the
 * table holds (2 * K4 + 64 * groups <= TQ_CONV_DSP_COL1 bytes: all of every narrow and first layer, some of
 * wide ones). For the other channels (the last out_c mod 4 among them), and every channel otherwise, the
 * blocks leave their sums on the stack, per chunk of up to TQ_CONV_DSP_CHUNK channels of the two pixels: 2 an
 * assembly loop of TQ_REQUANT_FUSED_FULL_ASM (one SMLAL and one SSAT per output); 1 tq_requantize_s8_fused;
 * 0 tq_requantize_s8_fast (all in tq_requant.h, equal to tq_requantize_s8 under their conditions; 1 and 0 in
 * tq_conv2d_s8_stages.c, through params->dsp_path).
 *
 * In-place contract (tq_kernels.h): a block writes all channels of pixels p and p + 1 after
 * reading only those two pixels' input windows, and blocks run in raster order.
 */
#include "tq_conv_dsp.h"

/* Compile-time checks (every build) that tie the columns to tq_kernels.h: pixel 1's column starts
 * TQ_CONV_DSP_COL1 bytes after pixel 0's; TQ_CONV_DSP_COLUMN_MAX is even (pixel 1's column is
 * 4-byte aligned, and an odd K < TQ_CONV_DSP_COLUMN_MAX leaves room for the padding value); the
 * scratch size of the largest K is exactly the two columns, and K above it gets none. */
typedef char tq_conv_dsp_col1_is_2_column_max[TQ_CONV_DSP_COL1 == 2 * TQ_CONV_DSP_COLUMN_MAX ? 1 : -1];
typedef char tq_conv_dsp_col1_fits_ldr[TQ_CONV_DSP_COL1 < 4096 ? 1 : -1];
typedef char tq_conv_dsp_column_max_is_even[TQ_CONV_DSP_COLUMN_MAX % 2 == 0 ? 1 : -1];
typedef char tq_conv_dsp_buffer_is_two_columns
    [TQ_CONV2D_S8_BUFFER_SIZE(1, 1, TQ_CONV_DSP_COLUMN_MAX) == 2 * TQ_CONV_DSP_COL1 ? 1 : -1];
typedef char tq_conv_dsp_no_buffer_above_column_max
    [TQ_CONV2D_S8_BUFFER_SIZE(1, 1, TQ_CONV_DSP_COLUMN_MAX + 1) == 0 ? 1 : -1];

#if TQ_USE_DSP
#include "tq_dsp.h"

/* Output channels per output stage call (a multiple of 4; the accumulators of a chunk live on the stack). */
#define TQ_CONV_DSP_CHUNK 32

/* The int8-layout 4 x 2 block (tq_conv_dsp.h: TQ_CONV_BLOCK16 with TQ_CONV_PAIR_S8, 64 code bytes per pair; see
 * block_job). */
__attribute__((naked, noinline)) static void block_4x2_s8(TQ_ASM_ARG const int16_t *col, TQ_ASM_ARG const void *w,
                                                          TQ_ASM_ARG int32_t pairs, TQ_ASM_ARG block_job *job)
{
    __asm__ volatile(TQ_CONV_BLOCK16(TQ_CONV_PAIR_S8, 64));
}

/*
 * The output stage of a layer with the full int8 output range (requant_fused == 2): acc, q and shift
 * point at channel c's entries, out0 / out1 at its bytes; n >= 1 channels. Per channel: its multiplier
 * and shift, round = 2^(e - 1) for e = -shift, then TQ_REQUANT_FUSED_FULL_ASM (tq_requant.h) and a
 * byte store per pixel (about 15 estimated cycles per output).
 * AAPCS: r0 = acc, r1 = q, r2 = shift, r3 = n; stack: out0, out1, zp (read after the 9 saved registers).
 */
__attribute__((naked, noinline)) static void requant_group_full(TQ_ASM_ARG const int32_t *acc,
                                                                TQ_ASM_ARG const int32_t *q,
                                                                TQ_ASM_ARG const int32_t *shift, TQ_ASM_ARG int32_t n,
                                                                TQ_ASM_ARG int8_t *out0, TQ_ASM_ARG int8_t *out1,
                                                                TQ_ASM_ARG int32_t zp)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r4, [sp, #36]\n\t"
        "ldr r5, [sp, #40]\n\t"
        "ldr r6, [sp, #44]\n\t"
        "add r3, r0, r3, lsl #3\n"
        "1:\n\t"
        "ldr r7, [r1], #4\n\t"
        "ldr r8, [r2], #4\n\t"
        "ldrd r10, r11, [r0], #8\n\t"
        "rsb r8, r8, #0\n\t"
        "mov r9, #1\n\t"
        "lsl r9, r9, r8\n\t"
        "lsr r9, r9, #1\n\t"
        TQ_REQUANT_FUSED_FULL_ASM("r10", "r7", "r8", "r9", "r6", "r12", "lr")
        "strb r12, [r4], #1\n\t"
        TQ_REQUANT_FUSED_FULL_ASM("r11", "r7", "r8", "r9", "r6", "r12", "lr")
        "strb r12, [r5], #1\n\t"
        "cmp r0, r3\n\t"
        "bne 1b\n\t"
        "pop {r4-r11, pc}\n\t");
}

static void requant_group_fused_full(const tq_conv_out_stage *o, int32_t c, int32_t n, const int32_t *acc, int8_t *out0,
                                     int8_t *out1)
{
    requant_group_full(acc, o->multiplier + c, o->shift + c, n, out0 + c, out1 + c, o->zp_out);
}

/* n (a multiple of 4) int8 values from src minus the zero point, reordered by groups of 4: dst
 * gets (v0, v2, v1, v3, v4, v6, ...). nzp2 = (-input_zero_point, -input_zero_point). */
static void column_copy(int16_t *dst, const int8_t *src, int32_t n, int32_t nzp2)
{
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) { /* 16 values per iteration: the four loads pipelined */
        const int32_t v0 = tq_load_s8x4(src + i), v1 = tq_load_s8x4(src + i + 4);
        const int32_t v2 = tq_load_s8x4(src + i + 8), v3 = tq_load_s8x4(src + i + 12);
        tq_store_s16x2(dst + i, __sxtab16(nzp2, v0));
        tq_store_s16x2(dst + i + 2, tq_sxtab16_odd(nzp2, v0));
        tq_store_s16x2(dst + i + 4, __sxtab16(nzp2, v1));
        tq_store_s16x2(dst + i + 6, tq_sxtab16_odd(nzp2, v1));
        tq_store_s16x2(dst + i + 8, __sxtab16(nzp2, v2));
        tq_store_s16x2(dst + i + 10, tq_sxtab16_odd(nzp2, v2));
        tq_store_s16x2(dst + i + 12, __sxtab16(nzp2, v3));
        tq_store_s16x2(dst + i + 14, tq_sxtab16_odd(nzp2, v3));
    }
    for (; i < n; i += 4) {
        const int32_t v = tq_load_s8x4(src + i);
        tq_store_s16x2(dst + i, __sxtab16(nzp2, v));
        tq_store_s16x2(dst + i + 2, tq_sxtab16_odd(nzp2, v));
    }
}

/* Four int8 words (16 values) from src minus the zero point, in column order, to dst (see column_copy). */
__attribute__((always_inline)) static inline void column_words4(int16_t *dst, const int8_t *src, int32_t nzp2)
{
    const int32_t v0 = tq_load_s8x4(src), v1 = tq_load_s8x4(src + 4);
    const int32_t v2 = tq_load_s8x4(src + 8), v3 = tq_load_s8x4(src + 12);
    tq_conv_column_word(dst, v0, nzp2);
    tq_conv_column_word(dst + 4, v1, nzp2);
    tq_conv_column_word(dst + 8, v2, nzp2);
    tq_conv_column_word(dst + 12, v3, nzp2);
}

/* column_copy inlined, for pointwise_run's columns (n a multiple of 4): 16 values per step
 * (column_words4), then word by word; no call. */
__attribute__((always_inline)) static inline void column_copy_short(int16_t *dst, const int8_t *src, int32_t n,
                                                                    int32_t nzp2)
{
    const int16_t *const end = dst + n;
    const int16_t *const end16 = dst + (n & ~15);
    for (; dst != end16; dst += 16, src += 16) {
        column_words4(dst, src, nzp2);
    }
    for (; dst != end; dst += 4, src += 4) {
        tq_conv_column_word(dst, tq_load_s8x4(src), nzp2);
    }
}

/*
 * column_two: both columns of a pointwise pixel pair, r0 = pixel 0's channels, r3 = pixel 1's, r1 = col (pixel
 * 0's column; pixel 1's TQ_CONV_DSP_COL1 bytes on), r2 = nzp2, the fifth argument ([sp] at entry) the column's end
 * (col + in_c values, in_c a multiple of 16). Per 16 channels: pixel 1's converted and stored (no base update),
 * then pixel 0's, its last store advancing r1 (46 estimated cycles per 32 values).
 */
__attribute__((naked, noinline)) static void column_two(TQ_ASM_ARG const int8_t *src0, TQ_ASM_ARG int16_t *col,
                                                        TQ_ASM_ARG int32_t nzp2, TQ_ASM_ARG const int8_t *src1,
                                                        TQ_ASM_ARG const int16_t *end)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r12, [sp, #36]\n"
        "1:\n\t"
        TQ_PAIR_CONVERT16_AT("r3")
        "str r4, [r1, #" TQ_STR(TQ_CONV_DSP_COL1) "]\n\t"
        "str r5, [r1, #" TQ_STR(TQ_CONV_DSP_COL1) " + 4]\n\t"
        "str r6, [r1, #" TQ_STR(TQ_CONV_DSP_COL1) " + 8]\n\t"
        "str r7, [r1, #" TQ_STR(TQ_CONV_DSP_COL1) " + 12]\n\t"
        "str r8, [r1, #" TQ_STR(TQ_CONV_DSP_COL1) " + 16]\n\t"
        "str r9, [r1, #" TQ_STR(TQ_CONV_DSP_COL1) " + 20]\n\t"
        "str r10, [r1, #" TQ_STR(TQ_CONV_DSP_COL1) " + 24]\n\t"
        "str r11, [r1, #" TQ_STR(TQ_CONV_DSP_COL1) " + 28]\n\t"
        TQ_PAIR_CONVERT16_AT("r0")
        TQ_PAIR_STORE32("r1")
        "cmp r1, r12\n\t"
        "bne 1b\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* GCC: keep the short loops of stage_copy / stage_fill (inlined in column_fill) as loops, not memcpy /
 * memset calls (slower for a few bytes). */
#if defined(__GNUC__) && !defined(__clang__)
#define TQ_CONV_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TQ_CONV_NO_LIBCALL
#endif

/* dst[0 .. n) = src[0 .. n) (int8, any alignment; words while 4 bytes are left). */
__attribute__((always_inline)) static inline void stage_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4, dst += 4, src += 4) {
        const int32_t v = tq_load_s8x4(src);
        memcpy(dst, &v, sizeof v);
    }
    for (; n > 0; --n) {
        *dst++ = *src++;
    }
}

/* dst[0 .. n) = v. */
__attribute__((always_inline)) static inline void stage_fill(int8_t *dst, int8_t v, int32_t n)
{
    for (; n > 0; --n) {
        *dst++ = v;
    }
}

/* The column of output pixel (oy, ox) whose window crosses the input's edge (windows inside the input have
 * their own builders: column_rows, column_3x3x3, column_inside, column_pointwise): K4 = TQ_CONV_DSP_K4(K)
 * values (see the file comment). Rows of 4 values (kernel_w * in_c == 4) are one group word each, put
 * together in a register from the row's in-bounds bytes and the zero point (a row outside the input is zeros).
 * Otherwise, when every
 * row of kernel_w * in_c values is a multiple of 4 and either lies fully inside the input or has in_c a
 * multiple of 4, it is built row by row (an in-bounds row is contiguous in NHWC); otherwise the raw
 * window (padded taps and the K4 - K padding values = the zero point) is first gathered as int8 in the
 * column's own upper bytes [K4, 2 K4) and then converted in place by column_copy, which reads every
 * group's bytes before it writes over them (byte 2 i + 7 of group i lies below byte K4 + i + 4 of the
 * next group for i <= K4 - 4). */
TQ_CONV_NO_LIBCALL static void column_fill(const tq_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox, int32_t nzp2,
                        int16_t *col)
{
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t in_c = p->in_c, in_w = p->in_w, in_h = p->in_h, kernel_w = p->kernel_w;
    const int32_t row_len = kernel_w * in_c;
    const int32_t k_len = p->kernel_h * row_len, k4 = TQ_CONV_DSP_K4(k_len);
    const int32_t x_inside = x0 >= 0 && x0 + kernel_w <= in_w;
    /* the in-bounds taps of a row: kx in [kx_lo, kx_hi) */
    const int32_t kx_lo = x0 < 0 ? -x0 : 0;
    const int32_t kx_hi = x0 + kernel_w > in_w ? (in_w - x0 > kx_lo ? in_w - x0 : kx_lo) : kernel_w;
    int32_t ky, kx;
    if (row_len == 4) { /* one group word per row (DS-CNN's 10 x 4 x 1 window): built in a register */
        const uint32_t zp_word = (uint32_t)(uint8_t)p->input_zero_point * 0x01010101u;
        const int32_t lo = kx_lo * in_c, hi = kx_hi * in_c; /* the row's bytes [lo, hi) lie in the input */
        for (ky = 0; ky < p->kernel_h; ++ky, col += 4) {
            const int32_t iy = y0 + ky;
            int32_t j;
            uint32_t w = zp_word;
            if (iy < 0 || iy >= in_h || lo >= hi) {
                tq_store_s16x2(col, 0);
                tq_store_s16x2(col + 2, 0);
                continue;
            }
            const int8_t *const s = input + (iy * in_w + x0 + kx_lo) * in_c; /* byte lo of the row */
            for (j = lo; j < hi; ++j) {
                w = (w & ~(0xFFu << (8 * j))) | ((uint32_t)(uint8_t)s[j - lo] << (8 * j));
            }
            tq_conv_column_word(col, (int32_t)w, nzp2);
        }
        return;
    }
    if (row_len % 4 == 0 && (x_inside || in_c % 4 == 0)) {
        for (ky = 0; ky < p->kernel_h; ++ky, col += row_len) {
            const int32_t iy = y0 + ky;
            if (iy < 0 || iy >= in_h) {
                memset(col, 0, (size_t)row_len * sizeof *col);
                continue;
            }
            const int8_t *src_row = input + iy * in_w * in_c;
            if (x_inside) {
                column_copy(col, src_row + x0 * in_c, row_len, nzp2);
                continue;
            }
            for (kx = 0; kx < kernel_w; ++kx) {
                if (kx < kx_lo || kx >= kx_hi) {
                    memset(col + kx * in_c, 0, (size_t)in_c * sizeof *col);
                } else {
                    column_copy(col + kx * in_c, src_row + (x0 + kx) * in_c, in_c, nzp2);
                }
            }
        }
        return;
    }
    {
        int8_t *const stage = (int8_t *)col + k4;
        const int8_t zp = (int8_t)p->input_zero_point;
        int8_t *dst = stage;
        for (ky = 0; ky < p->kernel_h; ++ky, dst += row_len) {
            const int32_t iy = y0 + ky;
            if (iy < 0 || iy >= in_h || kx_lo >= kx_hi) {
                stage_fill(dst, zp, row_len);
                continue;
            }
            stage_fill(dst, zp, kx_lo * in_c);
            stage_copy(dst + kx_lo * in_c, input + (iy * in_w + x0 + kx_lo) * in_c, (kx_hi - kx_lo) * in_c);
            stage_fill(dst + kx_hi * in_c, zp, (kernel_w - kx_hi) * in_c);
        }
        stage_fill(stage + k_len, zp, k4 - k_len);
        column_copy(col, stage, k4, nzp2);
    }
}

/* column_fill's staged path for a window inside the input whose rows are not multiples of 4 values (first
 * layers with 1-3 channels), without its bookkeeping: src is the window's first byte; its kernel_h rows
 * are staged as int8 in the column's upper bytes [K4, 2 K4), the K4 - K padding values as the zero point,
 * then converted in place (column_copy reads the words of groups j .. j + 3 (or of one group j) before it
 * writes their values, which end at byte 8 j + 32 <= K4 + 4 j + 16 (8 j + 8 <= K4 + 4 j + 4), below the next
 * groups' words, since 4 j + 16 <= K4 (4 j + 4 <= K4)). */
TQ_CONV_NO_LIBCALL static void column_inside(const tq_conv2d_s8_params *p, const int8_t *src, int32_t nzp2,
                                             int16_t *col)
{
    const int32_t row_len = p->kernel_w * p->in_c, row_stride = p->in_w * p->in_c, kernel_h = p->kernel_h;
    const int32_t k4 = TQ_CONV_DSP_K4(kernel_h * row_len);
    int8_t *const stage = (int8_t *)col + k4;
    int8_t *dst = stage;
    int32_t ky;
    for (ky = 0; ky < kernel_h; ++ky, dst += row_len, src += row_stride) {
        stage_copy(dst, src, row_len);
    }
    stage_fill(dst, (int8_t)p->input_zero_point, (int32_t)(stage + k4 - dst));
    column_copy(col, stage, k4, nzp2);
}

/* column_inside for the 3 x 3 window of a 3-channel input (K = 27, the usual first layer): tq_conv_column_3x3x3. */
static void column_3x3x3(const tq_conv2d_s8_params *p, const int8_t *src, int32_t nzp2, int16_t *col)
{
    tq_conv_column_3x3x3(src, p->in_w * 3, nzp2, (uint32_t)p->input_zero_point << 24, col);
}

/* column_fill for a window inside the input whose rows are multiples of 4 values (regular convs with in_c a
 * multiple of 4, DS-CNN's 10 x 4 first layer): its kernel_h rows of row_len values converted straight from the
 * input (16 values per step, then 8, then 4), one call (not inlined: its own registers) and no bound check per row. src is the window's first byte, row_stride the input row's bytes. */
__attribute__((noinline)) static void column_rows(const tq_conv2d_s8_params *p, const int8_t *src, int32_t nzp2,
                                                 int16_t *col)
{
    const int32_t row_stride = p->in_w * p->in_c, kernel_h = p->kernel_h, row_len = p->kernel_w * p->in_c;
    const int32_t len16 = row_len & ~15;
    int32_t ky;
    for (ky = 0; ky < kernel_h; ++ky, src += row_stride) {
        const int8_t *s = src;
        const int8_t *const end = src + len16;
        for (; s != end; s += 16, col += 16) {
            column_words4(col, s, nzp2);
        }
        if ((row_len & 8) != 0) {
            tq_conv_column_word(col, tq_load_s8x4(s), nzp2);
            tq_conv_column_word(col + 4, tq_load_s8x4(s + 4), nzp2);
            col += 8;
            s += 8;
        }
        if ((row_len & 4) != 0) {
            tq_conv_column_word(col, tq_load_s8x4(s), nzp2);
            col += 4;
        }
    }
}

/*
 * tq_conv2d_s8's loop for a pointwise layer (1 x 1 window always inside the input, in_c a multiple of 4)
 * whose every channel group runs through the output-stage table (out_c a multiple of 4): per pixel pair,
 * the two columns straight from the pixels' channels (in_c a multiple of 16: one column_two call; else
 * column_copy_short per pixel) and one block call, without the general loop's walk, column dispatch and
 * output chunks. The last pixel alone (odd count) gets its column twice and
 * out1 = out0 (written twice at the same place). Raster order, each pair's input read before its output
 * is written: the in-place contract holds as for the general loop.
 */
static void pointwise_run(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output, int32_t nzp2,
                          tq_conv_block_fn *block, const int32_t *table, int16_t *col)
{
    const int32_t in_c = p->in_c, out_c = p->out_c, out_w = p->out_w, pixels = p->out_h * out_w;
    const int32_t step_x = p->stride_w * in_c;
    const int32_t row_skip = (p->stride_h * p->in_w - out_w * p->stride_w) * in_c; /* after a row's last pixel */
    const void *const weights = p->weights_s16 != NULL ? (const void *)p->weights_s16 : (const void *)p->weights;
    const int pairs16 = (in_c & 15) == 0; /* both columns of a pair from one column_two call */
    const int8_t *src = input;
    int32_t px, ox = 0;
    block_job job;
    job.bias = table;
    job.groups = out_c >> 2;
    job.acc = NULL;
    for (px = 0; px < pixels; px += 2) {
        const int8_t *const s0 = src, *s1 = src; /* pixels px and px + 1 (px again for the last pixel alone) */
        job.out0 = output + px * out_c;
        job.out1 = job.out0;
        src += step_x;
        if (++ox == out_w) {
            ox = 0;
            src += row_skip;
        }
        if (px + 1 < pixels) {
            s1 = src;
            job.out1 = job.out0 + out_c;
            src += step_x;
            if (++ox == out_w) {
                ox = 0;
                src += row_skip;
            }
        }
        if (pairs16) {
            column_two(s0, col, nzp2, s1, col + in_c);
        } else {
            column_copy_short(col, s0, in_c, nzp2);
            column_copy_short(col + TQ_CONV_DSP_COLUMN_MAX, s1, in_c, nzp2);
        }
        block(col, weights, in_c >> 1, &job);
    }
}

/* The channels c .. out_c - 1 of one pixel pair (columns at col) whose blocks leave their sums on the stack
 * (the file comment's output stage): chunks of up to TQ_CONV_DSP_CHUNK channels, each its full groups in one
 * block call, then its 1 to 3 last channels (the group's padding channels computed, not written), then one
 * requant_group call. w: channel c's group weights, w_step bytes per group. Not inlined: tq_conv2d_s8's pixel
 * loop keeps fewer live values. */
__attribute__((noinline)) static void chunks_run(const tq_conv2d_s8_params *p, const tq_conv_out_stage *o,
                                                 tq_conv_requant_fn *requant_group, tq_conv_block_fn *block,
                                                 const int16_t *col, const uint8_t *w, int32_t w_step, int32_t pairs,
                                                 int32_t c, int8_t *out0, int8_t *out1)
{
    const int32_t out_c = p->out_c;
    const int32_t *const bias = p->bias;
    block_job job;
    job.out0 = out0;
    job.out1 = out1;
    for (; c < out_c; c += TQ_CONV_DSP_CHUNK) {
        const int32_t n = out_c - c < TQ_CONV_DSP_CHUNK ? out_c - c : TQ_CONV_DSP_CHUNK;
        int32_t acc[2 * TQ_CONV_DSP_CHUNK];
        int32_t b4[4] = {0, 0, 0, 0};
        if (n >= 4) { /* the chunk's full channel groups in one call */
            job.bias = bias + c;
            job.groups = n >> 2;
            job.acc = acc;
            block(col, w, pairs, &job);
            w += (n >> 2) * w_step;
        }
        if (n & 3) {
            memcpy(b4, bias + c + (n & ~3), (size_t)(n & 3) * sizeof *b4);
            job.bias = b4;
            job.groups = 1;
            job.acc = acc + 2 * (n & ~3);
            block(col, w, pairs, &job);
        }
        requant_group(o, c, n, acc, out0, out1);
    }
}

/* The column of a pointwise window (1 x 1, in_c a multiple of 4): the pixel's channels. */
static void column_pointwise(const tq_conv2d_s8_params *p, const int8_t *src, int32_t nzp2, int16_t *col)
{
    column_copy(col, src, p->in_c, nzp2);
}

/* tq_conv2d_s8's pixel loop (tq_conv_dsp.h, tq_conv_pixel_loop) without pixel-pair builders. */
__attribute__((noinline)) static void pixel_run(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output,
                                                tq_conv_inside_fn *inside, int32_t nzp2, const tq_conv_run *r,
                                                int16_t *col)
{
    tq_conv_pixel_loop(p, input, output, inside, nzp2, r, col, NULL, column_fill, chunks_run);
}

void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_conv2d_s8_params *p = params;
    /* Locals, not p->...: stores through int8_t * may alias *p, so the compiler would reload. */
    const int32_t k_len = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t k4 = TQ_CONV_DSP_K4(k_len);
    const int32_t pairs = k4 >> 1; /* column pairs per channel */
    const int32_t out_c = p->out_c;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    const int16_t *weights_s16 = p->weights_s16;
    const uint8_t *const weights =
        weights_s16 != NULL ? (const uint8_t *)(const void *)weights_s16 : (const uint8_t *)p->weights;
    /* bytes per channel group: 4 channels x K2 values, int16 (speed layout) or int8 (int8 layout) */
    const int32_t w_step = (weights_s16 != NULL ? 16 : 8) * pairs;
    int16_t *const col = (int16_t *)p->scratch; /* 2 columns, TQ_CONV_DSP_COLUMN_MAX values apart */
    /* The first q_groups full channel groups run with the output stage in the block (block_job, acc NULL); its
     * table lies in the scratch between the two columns: 2 * K4 bytes from the start, TQ_CONV_TABLE_GROUP_WORDS
     * words per group, as many groups as fit below pixel 1's column. */
    const int32_t table_groups = (TQ_CONV_DSP_COL1 - 2 * k4) / (4 * TQ_CONV_TABLE_GROUP_WORDS);
    const int32_t q_groups = p->requant_fused != 2 ? 0 : (out_c >> 2) < table_groups ? out_c >> 2 : table_groups;
    int32_t *const table = (int32_t *)(void *)(col + k4);
    /* A pointwise window always inside the input with in_c a multiple of 4: the column is the pixel's
     * channels (column_copy straight from the input). */
    const int32_t pointwise = p->kernel_h == 1 && p->kernel_w == 1 && p->pad_top == 0 && p->pad_left == 0 &&
                              (p->in_c & 3) == 0 && (p->out_h - 1) * p->stride_h < p->in_h &&
                              (p->out_w - 1) * p->stride_w < p->in_w;
    /* the paths in runtime files of their own (the generator's choice, tq_kernels.h): the whole call, or the
     * output stage of requant_fused 0 / 1 */
    const tq_conv2d_s8_dsp_path *const path = p->dsp_path;
    tq_conv_run r;
    tq_conv_pixel_run_fn *run;
    tq_conv_block_fn *block;
    if (path != NULL && path->run != NULL) { /* its speed layout, if any, read by the path: no speed_blocks */
        path->run(p, input, output);
        return;
    }
    /* the speed layout's blocks come from tq_conv2d_s8_speed.c through the params (set with weights_s16 when no
     * path runs the whole call) */
    block = weights_s16 != NULL ? p->speed_blocks->block : block_4x2_s8;
    tq_conv_table_fill(p, q_groups, weights_s16 != NULL ? p->speed_blocks->bias_scale : 1, table);
    if (pointwise && 4 * q_groups == out_c) {
        pointwise_run(p, input, output, nzp2, block, table, col);
        return;
    }
    r.block = block;
    r.weights = weights;
    r.w_step = w_step;
    r.pairs = pairs;
    r.q_groups = q_groups;
    r.table = table;
    r.o.multiplier = p->multiplier;
    r.o.shift = p->shift;
    r.o.zp_out = p->output_zero_point;
    r.o.act_min = p->act_min;
    r.o.act_max = p->act_max;
    r.requant_group = p->requant_fused == 2 ? requant_group_fused_full : path->requant_group;
    r.fill = column_fill;
    r.chunks = chunks_run;
    run = weights_s16 != NULL ? p->speed_blocks->pixel_run_of(p) : NULL;
    (run != NULL ? run : pixel_run)(p, input, output,
              pointwise ? column_pointwise
              : ((p->kernel_w * p->in_c) & 3) == 0 ? column_rows
              : k_len == 27 && p->kernel_h == 3 && p->in_c == 3 ? column_3x3x3 : column_inside,
              nzp2, &r, col);
}

#endif /* TQ_USE_DSP */
