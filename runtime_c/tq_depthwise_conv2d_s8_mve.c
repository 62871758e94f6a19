/*
 * tq_depthwise_conv2d_s8_mve.c - int8 depthwise convolution for cores with Helium (MVE, Armv8.1-M:
 * Cortex-M55, M85), the same function and result as tq_depthwise_conv2d_s8.c (formula: tq_kernels.h).
 *
 * Layers with depth multiplier 1 read the build-time channel-group records in params->records (layout:
 * tinyqat/codegen/layouts.py, dw_records_mve, the Python twin): per group of 16 channels the folded biases
 * bias - zp * (sum of the channel's weights), the group's int8 weights tap by tap (16 bytes a tap: the even
 * channels', then the odd channels'), the multipliers, the shifts and the output zero point; 16 zero words after
 * the last group; then a padding row of input zero points (16 bytes a group). Others (records NULL: another depth
 * multiplier, or a package built for another core) run the portable loop of tq_portable.h.
 *
 * Method. Pixel by pixel in raster order, every channel of a pixel before the next pixel (the in-place
 * contract of tq_kernels.h); per pixel, group by group:
 *   acc = folded bias + sum over every tap of w * x~, x~ = the input value (in bounds) or zp (in the padding),
 * which is bias + sum over in-bounds taps of w * (x - zp), the formula. Per tap, one VLDRB.8 of 16 input
 * values widened to int16 by VMOVLB / VMOVLT.S8 (even, odd channels), the weights widened by VLDRB.S16, and
 * VMULLB / VMULLT.S16 into int32 products added to four int32x4 accumulators: lane i of accumulator k holds
 * channel 4 i + k (modular int32 adds: the final sum is the formula's, which tq_kernels.h bounds inside int32).
 *
 * Two paths:
 * - 3x3 windows of a layer with requant_fused == 2 (every shift in [-22, -1], the full int8 output range;
 *   decided by the generator; tq_dw_mve_3x3_layer): one inline-assembly block (tq_dw_mve_3x3) with nine tap
 *   pointers (the input, or the padding row for taps outside it) and the records pointer, all advanced by the
 *   loads' post-increments (no scalar instruction inside a group): the whole groups in a loop, then the last
 *   in_c mod 16 channels as one group with predicated input loads and store (VCTP.8: inactive lanes read and
 *   write no memory); the output stage TQ_MBQM_RIGHT_MUL_X2_MVE_ASM (the records hold 2^(31 - e) for such
 *   layers, not the shifts) and TQ_NARROW_ZP_S8_X4_MVE_ASM (tq_requant.h:
 *   saturating narrows put the 16 channels back in order), one 16-byte store; the next group's biases loaded
 *   during the output stage (after the last group: the zero words). A run of pixels whose windows lie inside the
 *   input is one call (the tap pointers move on to the next pixel's in the assembly). A layer of 8 channels
 *   (records holding them twice) computes such runs by pixel pairs at stride 1, each pair starting at an even
 *   pixel index (the in-place contract's blocks): one group of 16 lanes reads 16 contiguous input bytes, two
 *   pixels' taps, and stores the two pixels;
 * - any other window or layer (tq_dw_mve_groups, per pixel): the same sums in intrinsics,
 *   tq_requantize_s32x4_mve, VMOVNB / VMOVNT back into channel order, the lanes past in_c predicated off.
 * No scratch (tq_depthwise_conv2d_s8_get_buffer_size is 0 on these cores).
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_portable.h"
#include "tq_requant.h"

/* channels per group; int32 words of one group's record for a window of `taps` taps: 16 biases, 4 * taps words of
 * weights, 16 multipliers, 16 shifts, 4 words of the output zero point (layouts.py, dw_records_mve) */
#define TQ_DW_MVE_GROUP 16
/* a layer of this many channels has them twice in its one group of records: pixel pairs (layouts.py) */
#define TQ_DW_MVE_PAIR 8
#define TQ_DW_MVE_GROUP_WORDS(taps) (52 + 4 * (taps))

/* The loads of tap k's 16 input values at x<k> (post-incremented by 16): all lanes, or (PRED) the lanes VPR.P0
 * selects (VCTP.8 of the channels left; inactive lanes read no memory and are zero) */
#define TQ_DW_MVE_LOAD(k) "vldrb.8 q4, [%[x" #k "]], #16\n\t"
#define TQ_DW_MVE_LOAD_PRED(k) "vpst\n\tvldrbt.8 q4, [%[x" #k "]], #16\n\t"

/* One tap of a group: 16 input values (LOAD) times the next 16 weights of the records (post-incremented), into
 * the accumulators q0 to q3 (lane i of qk: channel 4 i + k): VMOVLB / VMOVLT.S8 widen the even and odd channels
 * (the odd ones in place), VLDRB.S16 their weights, VMULLB / VMULLT.S16 multiply into int32; load, integer and
 * multiply instructions alternate. */
#define TQ_DW_MVE_TAP(LOAD, k)                                                                                   \
    LOAD(k)                                                                                                      \
    "vmovlb.s8 q5, q4\n\t"                                                                                       \
    "vldrb.s16 q6, [%[rec]], #8\n\t"                                                                             \
    "vmovlt.s8 q4, q4\n\t"                                                                                       \
    "vmullb.s16 q7, q5, q6\n\t"                                                                                  \
    "vadd.i32 q0, q0, q7\n\t"                                                                                    \
    "vmullt.s16 q7, q5, q6\n\t"                                                                                  \
    "vadd.i32 q2, q2, q7\n\t"                                                                                    \
    "vldrb.s16 q6, [%[rec]], #8\n\t"                                                                             \
    "vmullb.s16 q7, q4, q6\n\t"                                                                                  \
    "vadd.i32 q1, q1, q7\n\t"                                                                                    \
    "vmullt.s16 q7, q4, q6\n\t"                                                                                  \
    "vadd.i32 q3, q3, q7\n\t"

/* One group of a 3x3 window, its biases already in q0 to q3: the nine taps, the output stage
 * (TQ_MBQM_RIGHT_MUL_X2_MVE_ASM, TQ_NARROW_ZP_S8_X4_MVE_ASM), the next group's biases loaded into q0 to q3 (after the
 * last group: the records' zero words), the 16 output bytes in q4 (stored by the caller). After the weights, rec
 * points at the 16 multipliers (bytes 0-63), the 16 rounding multipliers 2^(31 - e) (64-127; the records of
 * such layers hold them instead of the shifts) and the zero point (128-143). */
#define TQ_DW_MVE_GROUP_ASM(LOAD)                                                                                \
    TQ_DW_MVE_TAP(LOAD, 0) TQ_DW_MVE_TAP(LOAD, 1) TQ_DW_MVE_TAP(LOAD, 2)                                         \
    TQ_DW_MVE_TAP(LOAD, 3) TQ_DW_MVE_TAP(LOAD, 4) TQ_DW_MVE_TAP(LOAD, 5)                                         \
    TQ_DW_MVE_TAP(LOAD, 6) TQ_DW_MVE_TAP(LOAD, 7) TQ_DW_MVE_TAP(LOAD, 8)                                         \
    "vldrw.32 q4, [%[rec]], #16\n\t"                                                                             \
    "vldrw.32 q5, [%[rec]], #16\n\t"                                                                             \
    TQ_MBQM_RIGHT_MUL_X2_MVE_ASM("q0", "q1", "q4", "q5", "q6", "q7", "q4", "vldrw.32 q6, [%[rec], #32]\n\t",        \
                             "vldrw.32 q7, [%[rec], #48]\n\t")                                                   \
    "vldrw.32 q4, [%[rec]], #16\n\t"                                                                             \
    "vldrw.32 q5, [%[rec]], #48\n\t"                                                                             \
    TQ_MBQM_RIGHT_MUL_X2_MVE_ASM("q2", "q3", "q4", "q5", "q6", "q7", "q4", "vldrw.32 q6, [%[rec]], #16\n\t",         \
                             "vldrw.32 q7, [%[rec]], #16\n\t")                                                   \
    TQ_NARROW_ZP_S8_X4_MVE_ASM("q0", "q1", "q2", "q3", "q4", "q5", "q7", "vldrw.32 q7, [%[rec]], #16\n\t",       \
                               "vldrw.32 q0, [%[rec]], #16\n\t", "vldrw.32 q1, [%[rec]], #16\n\t",                \
                               "vldrw.32 q2, [%[rec]], #16\n\tvldrw.32 q3, [%[rec]], #16\n\t")

/* The operands of both assembly blocks: the nine input pointers, the records, the output */
#define TQ_DW_MVE_POINTERS                                                                                       \
    [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [x3] "+r"(x3), [x4] "+r"(x4), [x5] "+r"(x5), [x6] "+r"(x6),     \
        [x7] "+r"(x7), [x8] "+r"(x8), [rec] "+l"(rec), [out] "+r"(out)
#define TQ_DW_MVE_CLOBBERS                                                                                       \
    "cc", "memory", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11", "d12", "d13", "d14", \
        "d15"

/* The output pixels at out (all channels, `pixels` >= 1 of them, in_c bytes apart) of a 3x3 window; the first
 * one's tap k at x[k], channel 0 (the input, or the records' padding row for a tap outside the input); the
 * records from rec; requant_fused == 2. Per pixel: `whole` groups of 16 channels in one loop, then, when
 * in_c - 16 * whole = left > 0, one group with its input loads and its store predicated (VCTP.8 of left; the
 * post-increments write back all the same: predication masks element accesses, not the base register update,
 * as QEMU models it and as LLVM relies on when it tail-predicates loops of post-incremented MVE loads,
 * reviews.llvm.org/D86022; not yet checked against the Armv8.1-M Architecture Reference Manual's pseudocode);
 * then every tap pointer moves by skip bytes (stride_w * in_c - 16 *
 * groups: the next pixel's taps, for a run of pixels whose windows lie inside the input) and out to the next
 * pixel. One call per run of pixels saves the registers once. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tq_dw_mve_3x3(const int8_t *const x[9], const int32_t *rec, int8_t *out, int32_t whole, int32_t left,
                          int32_t pixels, int32_t skip)
{
    const int8_t *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3], *x4 = x[4], *x5 = x[5], *x6 = x[6], *x7 = x[7];
    const int8_t *x8 = x[8];
    const int32_t *const rec0 = rec;
    const int32_t out_skip = (left > 0 ? -16 : 0) + left; /* after the last group: in_c - 16 * groups */
    int32_t n = pixels;
    /* q0 to q3: the accumulators; q4 to q7: input values, weights, products, then the output stage's constants;
     * lr: counters and scalars read from the stack */
    __asm__ volatile("2:\n\t"
                     "ldr lr, %[whole]\n\t"
                     "cmp lr, #0\n\t"
                     "beq 3f\n\t"
                     "vldrw.32 q0, [%[rec]]\n\t"
                     "vldrw.32 q1, [%[rec], #16]\n\t"
                     "vldrw.32 q2, [%[rec], #32]\n\t"
                     "vldrw.32 q3, [%[rec], #48]\n\t"
                     "adds %[rec], %[rec], #64\n"
                     "1:\n\t"
                     TQ_DW_MVE_GROUP_ASM(TQ_DW_MVE_LOAD)
                     "vstrb.8 q4, [%[out]], #16\n\t"
                     "subs lr, lr, #1\n\t"
                     "bne 1b\n\t"
                     "subs %[rec], %[rec], #64\n" /* back to the next group's biases */
                     "3:\n\t"
                     "ldr lr, %[left]\n\t"
                     "cmp lr, #0\n\t"
                     "beq 4f\n\t"
                     "vctp.8 lr\n\t"
                     "vldrw.32 q0, [%[rec]], #16\n\t"
                     "vldrw.32 q1, [%[rec]], #16\n\t"
                     "vldrw.32 q2, [%[rec]], #16\n\t"
                     "vldrw.32 q3, [%[rec]], #16\n\t"
                     TQ_DW_MVE_GROUP_ASM(TQ_DW_MVE_LOAD_PRED)
                     "vpst\n\t"
                     "vstrbt.8 q4, [%[out]], #16\n"
                     "4:\n\t"
                     "ldr lr, %[skip]\n\t"
                     "add %[x0], %[x0], lr\n\t"
                     "add %[x1], %[x1], lr\n\t"
                     "add %[x2], %[x2], lr\n\t"
                     "add %[x3], %[x3], lr\n\t"
                     "add %[x4], %[x4], lr\n\t"
                     "add %[x5], %[x5], lr\n\t"
                     "add %[x6], %[x6], lr\n\t"
                     "add %[x7], %[x7], lr\n\t"
                     "add %[x8], %[x8], lr\n\t"
                     "ldr lr, %[out_skip]\n\t"
                     "add %[out], %[out], lr\n\t"
                     "ldr %[rec], %[rec0]\n\t"
                     "ldr lr, %[n]\n\t"
                     "subs lr, lr, #1\n\t"
                     "str lr, %[n]\n\t"
                     "bne 2b\n\t"
                     : TQ_DW_MVE_POINTERS, [n] "+m"(n)
                     : [whole] "m"(whole), [left] "m"(left), [skip] "m"(skip), [out_skip] "m"(out_skip),
                       [rec0] "m"(rec0)
                     : TQ_DW_MVE_CLOBBERS, "lr");
}

/* The products of one tap of 16 channels added to the accumulators a0 to a3 (lane i of ak: channel 4 i + k): the
 * input values xv widened by VMOVLB / VMOVLT.S8, the weights at w (even channels', then odd channels') by
 * VLDRB.S16, VMULLB / VMULLT.S16; in one inline-assembly block so that GCC keeps the four accumulators in
 * registers (eight vector registers in all). */
static inline void tq_dw_mve_mac16(int8x16_t xv, const int8_t *w, int32x4_t *a0, int32x4_t *a1, int32x4_t *a2,
                                   int32x4_t *a3)
{
    int32x4_t r0 = *a0, r1 = *a1, r2 = *a2, r3 = *a3, t;
    int16x8_t xe, wv;
    __asm__("vmovlb.s8 %q[xe], %q[xv]\n\t"
            "vmovlt.s8 %q[xv], %q[xv]\n\t"
            "vldrb.s16 %q[wv], [%[w]]\n\t"
            "vmullb.s16 %q[t], %q[xe], %q[wv]\n\t"
            "vadd.i32 %q[r0], %q[r0], %q[t]\n\t"
            "vmullt.s16 %q[t], %q[xe], %q[wv]\n\t"
            "vadd.i32 %q[r2], %q[r2], %q[t]\n\t"
            "vldrb.s16 %q[wv], [%[w], #8]\n\t"
            "vmullb.s16 %q[t], %q[xv], %q[wv]\n\t"
            "vadd.i32 %q[r1], %q[r1], %q[t]\n\t"
            "vmullt.s16 %q[t], %q[xv], %q[wv]\n\t"
            "vadd.i32 %q[r3], %q[r3], %q[t]\n\t"
            : [r0] "+w"(r0), [r1] "+w"(r1), [r2] "+w"(r2), [r3] "+w"(r3), [xv] "+w"(xv), [xe] "=&w"(xe),
              [wv] "=&w"(wv), [t] "=&w"(t)
            : [w] "l"(w)
            : "memory");
    *a0 = r0;
    *a1 = r1;
    *a2 = r2;
    *a3 = r3;
}

/* The channels of the output pixel at out whose window starts at input row y0,
 * column x0 (either may be outside the input): every tap, in-bounds ones from the input, the others the zero
 * point's vector; tq_requantize_s32x4_mve; the channels past in_c of the last group predicated off. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tq_dw_mve_groups(const tq_depthwise_conv2d_s8_params *p, const int8_t *input, int32_t y0, int32_t x0,
                             int8_t *out)
{
    /* read once: the int8 output stores may alias the params */
    const int32_t in_c = p->in_c, in_w = p->in_w, in_h = p->in_h, kh = p->kernel_h, kw = p->kernel_w;
    const int32_t taps = kh * kw, words = TQ_DW_MVE_GROUP_WORDS(taps);
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int8_t zp_in = (int8_t)p->input_zero_point;
    const int32_t *rec = p->records;
    int32_t c, ky, kx;
    for (c = 0; c < in_c; c += TQ_DW_MVE_GROUP, rec += words) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(in_c - c));
        const int8_t *w = (const int8_t *)(rec + 16);
        const int32_t *requant = rec + 16 + 4 * taps; /* 16 multipliers, then 16 shifts */
        int32x4_t a0 = vldrwq_s32(rec), a1 = vldrwq_s32(rec + 4), a2 = vldrwq_s32(rec + 8), a3 = vldrwq_s32(rec + 12);
        int16x8_t even = vdupq_n_s16(0), odd = vdupq_n_s16(0);
        int8x16_t packed = vdupq_n_s8(0);
        for (ky = 0; ky < kh; ++ky) {
            const int32_t iy = y0 + ky;
            const int8_t *x = iy >= 0 && iy < in_h ? input + (iy * in_w + x0) * in_c + c : 0;
            for (kx = 0; kx < kw; ++kx, w += TQ_DW_MVE_GROUP) {
                const int32_t ix = x0 + kx;
                const int8x16_t xv = x != 0 && ix >= 0 && ix < in_w ? vldrbq_z_s8(x + kx * in_c, lanes)
                                                                     : vdupq_n_s8(zp_in);
                tq_dw_mve_mac16(xv, w, &a0, &a1, &a2, &a3);
            }
        }
        a0 = tq_requantize_s32x4_mve(a0, vldrwq_s32(requant), vldrwq_s32(requant + 16), zp_out, act_min, act_max);
        a1 = tq_requantize_s32x4_mve(a1, vldrwq_s32(requant + 4), vldrwq_s32(requant + 20), zp_out, act_min, act_max);
        a2 = tq_requantize_s32x4_mve(a2, vldrwq_s32(requant + 8), vldrwq_s32(requant + 24), zp_out, act_min, act_max);
        a3 = tq_requantize_s32x4_mve(a3, vldrwq_s32(requant + 12), vldrwq_s32(requant + 28), zp_out, act_min,
                                     act_max);
        /* lane i of ak is channel 4 i + k: halfword h of even (odd) is channel 2 h (2 h + 1) */
        even = vmovntq_s32(vmovnbq_s32(even, a0), a2);
        odd = vmovntq_s32(vmovnbq_s32(odd, a1), a3);
        packed = vmovntq_s16(vmovnbq_s16(packed, even), odd);
        vstrbq_p_s8(out + c, packed, lanes);
    }
}

/* Every output pixel of a layer with a 3x3 window and requant_fused == 2 in raster order: tap pointers (the input,
 * or the records' padding row outside it), then tq_dw_mve_3x3. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tq_dw_mve_3x3_layer(const tq_depthwise_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    /* read once: int8 output stores may alias the params */
    const int32_t in_c = p->in_c, in_w = p->in_w, in_h = p->in_h, row = in_w * in_c;
    const int32_t out_h = p->out_h, out_w = p->out_w, stride_h = p->stride_h, stride_w = p->stride_w;
    const int32_t pad_top = p->pad_top, pad_left = p->pad_left;
    const int32_t whole = in_c / TQ_DW_MVE_GROUP, groups = (in_c + TQ_DW_MVE_GROUP - 1) / TQ_DW_MVE_GROUP;
    const int32_t *const rec = p->records;
    /* the padding row: input_zero_point bytes after the groups and the zero words */
    const int8_t *const padding = (const int8_t *)(rec + groups * TQ_DW_MVE_GROUP_WORDS(9) + 16);
    const int32_t skip = stride_w * in_c - groups * TQ_DW_MVE_GROUP; /* tap pointers to the next pixel's */
    int8_t *out = output;
    int32_t oy, ox, ky, kx, k, run;
    for (oy = 0; oy < out_h; ++oy) {
        const int32_t y0 = oy * stride_h - pad_top;
        const int8_t *rows[3]; /* the window rows' first bytes, NULL outside the input */
        const int inside_h = y0 >= 0 && y0 + 3 <= in_h;
        for (ky = 0; ky < 3; ++ky) {
            rows[ky] = y0 + ky >= 0 && y0 + ky < in_h ? input + (y0 + ky) * row : 0;
        }
        for (ox = 0; ox < out_w; ox += run, out += run * in_c) {
            const int32_t x0 = ox * stride_w - pad_left;
            const int8_t *x[9];
            run = 1;
            if (inside_h && x0 >= 0 && x0 + 3 <= in_w) { /* inside the input, and the run of pixels after it */
                run = (in_w - 3 - x0) / stride_w + 1;
                run = run < out_w - ox ? run : out_w - ox;
                x[0] = rows[0] + x0 * in_c;
                x[1] = x[0] + in_c;
                x[2] = x[1] + in_c;
                x[3] = x[0] + row;
                x[4] = x[3] + in_c;
                x[5] = x[4] + in_c;
                x[6] = x[3] + row;
                x[7] = x[6] + in_c;
                x[8] = x[7] + in_c;
            } else {
                int32_t col[3]; /* the window columns' byte offsets, -1 outside the input */
                for (kx = 0; kx < 3; ++kx) {
                    col[kx] = x0 + kx >= 0 && x0 + kx < in_w ? (x0 + kx) * in_c : -1;
                }
                for (ky = 0; ky < 3; ++ky) {
                    for (kx = 0; kx < 3; ++kx) {
                        x[3 * ky + kx] = rows[ky] != 0 && col[kx] >= 0 ? rows[ky] + col[kx] : padding;
                    }
                }
            }
            if (in_c == TQ_DW_MVE_PAIR && stride_w == 1 && run > 1) {
                /* pixel pairs (the records' one group holds the 8 channels twice; input pixels x0 + kx and
                 * x0 + kx + 1 are 16 contiguous bytes), each starting at an even pixel index (the in-place
                 * contract's blocks), a pixel before and after them alone */
                const int32_t lone = (oy * out_w + ox) & 1, pairs = (run - lone) / 2;
                if (lone) {
                    tq_dw_mve_3x3(x, rec, out, 0, in_c, 1, 0);
                    for (k = 0; k < 9; ++k) {
                        x[k] += in_c;
                    }
                }
                if (pairs > 0) {
                    tq_dw_mve_3x3(x, rec, out + lone * in_c, 1, 0, pairs, 0);
                }
                if (lone + 2 * pairs < run) {
                    for (k = 0; k < 9; ++k) {
                        x[k] += 2 * pairs * in_c;
                    }
                    tq_dw_mve_3x3(x, rec, out + (run - 1) * in_c, 0, in_c, 1, 0);
                }
            } else {
                tq_dw_mve_3x3(x, rec, out, whole, in_c - whole * TQ_DW_MVE_GROUP, run, skip);
            }
        }
    }
}

void tq_depthwise_conv2d_s8(const tq_depthwise_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_depthwise_conv2d_s8_params *p = params;
    /* read once: int8 output stores may alias the params */
    const int32_t in_c = p->in_c, out_h = p->out_h, out_w = p->out_w;
    const int32_t stride_h = p->stride_h, stride_w = p->stride_w, pad_top = p->pad_top, pad_left = p->pad_left;
    int32_t oy, ox;
    if (p->depth_multiplier != 1 || p->records == 0) {
        tq_depthwise_conv2d_s8_portable(p, input, output);
        return;
    }
    if (p->requant_fused == 2 && p->kernel_h == 3 && p->kernel_w == 3) {
        tq_dw_mve_3x3_layer(p, input, output);
        return;
    }
    for (oy = 0; oy < out_h; ++oy) {
        for (ox = 0; ox < out_w; ++ox) {
            tq_dw_mve_groups(p, input, oy * stride_h - pad_top, ox * stride_w - pad_left,
                             output + (oy * out_w + ox) * in_c);
        }
    }
}

#endif /* TQ_USE_MVE */
