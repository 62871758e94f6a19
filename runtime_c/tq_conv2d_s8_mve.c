/*
 * tq_conv2d_s8_mve.c - int8 2-D convolution for cores with Helium (MVE, Armv8.1-M: Cortex-M55,
 * M85), the same function and result as tq_conv2d_s8.c (formula: tq_kernels.h).
 *
 * Method. With K = kernel_h * kernel_w * in_c and zp the input zero point, output (pixel q, channel c)
 * is acc = corr[c] + sum_k w[c][k] * col_q[k], corr[c] = bias[c] - zp * sum_k w[c][k], where col_q is
 * the pixel's window in weight order (ky, kx, i) with the input zero point in place of out-of-bounds
 * taps (those then add w * (zp - zp) = 0, as the formula's skipped taps): the formula's sum regrouped,
 * exact (added modulo 2^32, equal to the int32 sum tq_kernels.h bounds).
 * Layers with scratch (K <= TQ_CONV_DSP_COLUMN_MAX; TQ_CONV2D_S8_BUFFER_SIZE bytes) and out_c <=
 * TQ_CONV_MVE_CORR_MAX(K) run the vector path; every other layer the portable loop (tq_portable.h).
 * Scratch: corr (out_c int32, computed once per call by VADDVA.S8 over each weight row), then two columns of
 * K16 bytes (K rounded up to 16), or (windows copied: K <= 32, or K > 32 where two pairs fit) in their place and
 * after them the columns of pixel pairs built ahead, run by one call of the small path or tq_conv_mve_columns.
 * Pixels go in blocks of two (raster order, the in-place contract of tq_kernels.h: a block reads only its
 * pixels' windows, or earlier ones' never after writing, and writes only its pixels' outputs).
 * Columns. A window of one row (kernel_h 1) inside the input is its column, read in place, when K is a
 * multiple of 16 or K <= 32. Other windows inside the input are copied by whole vectors and one predicated
 * VLDRB / VSTRB per row (tq_conv_mve_column_inside); windows astride the border are filled with the zero point,
 * then their in-bounds taps copied over (tq_conv_mve_column). The columns' K16 - K last bytes are zero.
 * Sums. Channels go in blocks of TQ_CONV_MVE_BLOCK (64): the block's int32 sums of both pixels wait on the
 * stack (512 bytes), then one vector output stage per four channels of each pixel (tq_conv_mve_store_inline: corr
 * added, tq_requantize_s32x4_right_mve when requant_fused != 0, every shift in [-31, -1], else
 * tq_requantize_s32x4_mve, both in tq_requant.h; the out_c mod 4 last channels by one vector predicated by
 * VCTP.32). K > 32 (tq_conv_mve_columns): two weight rows at a time in one inline-assembly loop over the
 * block's channel pairs (tq_conv_mve_pairs): per 16 values one VLDRB of each column and each row and four
 * VMLADAVA.S8, software-pipelined so that every VMLADAVA follows a VLDRB (cortex-m55.toml), no loop over K (a
 * jump into a straight chain of 35 steps, 1,120 bytes of code, at the one that leaves K16 / 16 steps with the
 * last), over K16 values (the weights read after a row's K are the next row's, times a zero column value); a last
 * pair whose second row's K16 reads would leave the weights array, and an odd last channel (computed twice),
 * by tq_conv_mve_dot2x2 over K values (a tail-predicated step, VCTP.8: inactive lanes load zero, read no
 * memory). K <= 32 (tq_conv_mve_small): the two columns stay in registers (one or two vectors each, the last
 * predicated to K) while each weight row is read once; pointwise layers run all their whole pixel pairs in
 * one call, and layers with copied windows the pairs whose columns fit in the scratch after corr.
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>
#include <string.h>

#include "tq_portable.h"
#include "tq_requant.h"

/* Most channels whose corr fits in the scratch beside the two columns: (buffer - 2 * K16) / 4. */
#define TQ_CONV_MVE_K16(k) (((k) + 15) & ~15)
#define TQ_CONV_MVE_CORR_MAX(k) ((2 * (TQ_CONV_DSP_COLUMN_MAX + (((k) + 3) & ~3)) - 2 * TQ_CONV_MVE_K16(k)) / 4)

/* Channels per block of the output stage: the pixel pair's sums of TQ_CONV_MVE_BLOCK channels (a multiple of 4)
 * wait on the stack (2 * 4 * TQ_CONV_MVE_BLOCK bytes) for one vector output stage per four channels. */
#define TQ_CONV_MVE_BLOCK 64
#define TQ_CONV_MVE_BLOCK_BYTES "256" /* 4 * TQ_CONV_MVE_BLOCK, an assembly immediate */

/* One 16-value step of the 2x2 dot products: aa += dot(wa, xa), ab += dot(wa, xb), ba += dot(wb, xa),
 * bb += dot(wb, xb), the four pointers advanced by 16. GCC inline assembly (the accumulators in even registers,
 * "Te", as VMLADAVA needs) in the order load, multiply, load, multiply, ... so that each VMLADAVA follows a
 * VLDRB (another pipeline: the beats overlap, cortex-m55.toml) where GCC's own order put loads and VMLADAVAs in
 * pairs. */
#define TQ_CONV_MVE_STEP(aa, ab, ba, bb, xa, xb, wa, wb)                                                         \
    do {                                                                                                      \
        int8x16_t x0_, x1_, v0_, v1_;                                                                         \
        __asm__("vldrb.8 %q[x0], [%[pxa]], #16\n\t"                                                          \
                "vldrb.8 %q[v0], [%[pwa]], #16\n\t"                                                          \
                "vmladava.s8 %[raa], %q[v0], %q[x0]\n\t"                                                     \
                "vldrb.8 %q[x1], [%[pxb]], #16\n\t"                                                          \
                "vmladava.s8 %[rab], %q[v0], %q[x1]\n\t"                                                     \
                "vldrb.8 %q[v1], [%[pwb]], #16\n\t"                                                          \
                "vmladava.s8 %[rba], %q[v1], %q[x0]\n\t"                                                     \
                "vmladava.s8 %[rbb], %q[v1], %q[x1]"                                                          \
                : [raa] "+Te"(aa), [rab] "+Te"(ab), [rba] "+Te"(ba), [rbb] "+Te"(bb), [pxa] "+r"(xa),             \
                  [pxb] "+r"(xb), [pwa] "+r"(wa), [pwb] "+r"(wb), [x0] "=&w"(x0_), [x1] "=&w"(x1_),               \
                  [v0] "=&w"(v0_), [v1] "=&w"(v1_)                                                            \
                :                                                                                             \
                : "memory");                                                                                  \
    } while (0)

/* The four sums of TQ_CONV_MVE_STEP, zero, in fixed even registers (GCC local register variables, which bind
 * asm operands): left to the allocator, the "Te" operands were copied to and from other registers in some loops. */
#define TQ_CONV_MVE_ACCUMULATORS                                                                                \
    register int32_t aa __asm__("r4") = 0;                                                                    \
    register int32_t ab __asm__("r6") = 0;                                                                    \
    register int32_t ba __asm__("r8") = 0;                                                                    \
    register int32_t bb __asm__("r10") = 0

/* r[0..3] = dot(wa, xa), dot(wa, xb), dot(wb, xa), dot(wb, xb) over k values (no alignment needed). */
static inline void tq_conv_mve_dot2x2(const int8_t *wa, const int8_t *wb, const int8_t *xa, const int8_t *xb,
                                      int32_t k, int32_t r[4])
{
    TQ_CONV_MVE_ACCUMULATORS;
    int32_t n = k;
    for (; n >= 16; n -= 16) {
        TQ_CONV_MVE_STEP(aa, ab, ba, bb, xa, xb, wa, wb);
    }
    if (n > 0) {
        const mve_pred16_t lanes = vctp8q((uint32_t)n);
        const int8x16_t x0 = vldrbq_z_s8(xa, lanes);
        const int8x16_t x1 = vldrbq_z_s8(xb, lanes);
        const int8x16_t v0 = vldrbq_z_s8(wa, lanes);
        const int8x16_t v1 = vldrbq_z_s8(wb, lanes);
        aa = vmladavaq_s8(aa, v0, x0);
        ab = vmladavaq_s8(ab, v0, x1);
        ba = vmladavaq_s8(ba, v1, x0);
        bb = vmladavaq_s8(bb, v1, x1);
    }
    r[0] = aa;
    r[1] = ab;
    r[2] = ba;
    r[3] = bb;
}

/* One 16-value step of the 2x2 dot products software-pipelined, entered with x0 / v0 holding its first vectors:
 * aa += dot(v0, x0), ab += dot(v0, x1), ba += dot(v1, x0), bb += dot(v1, x1) with x1 / v1 loaded between them and
 * the next step's x0 / v0 after them, so every VMLADAVA follows a VLDRB and the reverse (cortex-m55.toml: one cycle
 * each). Eight 32-bit instructions: TQ_CONV_MVE_STEP_BYTES bytes of code. TQ_CONV_MVE_STEP_LAST loads no next step. */
#define TQ_CONV_MVE_STEP_BYTES 32
#define TQ_CONV_MVE_STEP_HEAD                                                                                   \
    "vmladava.s8 %[raa], %q[v0], %q[x0]\n\t"                                                                 \
    "vldrb.8 %q[x1], [%[pxb]], #16\n\t"                                                                      \
    "vmladava.s8 %[rab], %q[v0], %q[x1]\n\t"                                                                 \
    "vldrb.8 %q[v1], [%[pwb]], #16\n\t"                                                                      \
    "vmladava.s8 %[rba], %q[v1], %q[x0]\n\t"
#define TQ_CONV_MVE_STEP_ASM                                                                                    \
    TQ_CONV_MVE_STEP_HEAD                                                                                     \
    "vldrb.8 %q[x0], [%[pxa]], #16\n\t"                                                                      \
    "vmladava.s8 %[rbb], %q[v1], %q[x1]\n\t"                                                                 \
    "vldrb.8 %q[v0], [%[pwa]], #16\n\t"
#define TQ_CONV_MVE_STEP_LAST TQ_CONV_MVE_STEP_HEAD "vmladava.s8 %[rbb], %q[v1], %q[x1]\n\t"
#define TQ_CONV_MVE_STEP5 TQ_CONV_MVE_STEP_ASM TQ_CONV_MVE_STEP_ASM TQ_CONV_MVE_STEP_ASM TQ_CONV_MVE_STEP_ASM \
    TQ_CONV_MVE_STEP_ASM

/* The chain below has TQ_CONV_MVE_CHAIN = 35 pipelined steps: n16 - 1 of them run for every n16 <= 36 = the most
 * 16-value vectors of a column (K <= TQ_CONV_DSP_COLUMN_MAX). */
#if TQ_CONV_DSP_COLUMN_MAX > 576
#error "tq_conv2d_s8_mve.c: the step chain covers columns of at most 576 values"
#endif

/* The sums of channel pairs (rows wa, wa + k), (wa + 2k, wa + 3k), ... with the columns xa and xb, pairs of them
 * (pairs >= 1), each over n16 * 16 values (len = n16 * 16, 3 <= n16 <= 36, every read inside the rows and the
 * columns), stored at s: s[2i], s[2i + 1] = pixel a's sums of the pair's two rows, s[TQ_CONV_MVE_BLOCK + 2i],
 * s[TQ_CONV_MVE_BLOCK + 2i + 1] pixel b's. GCC inline assembly, one loop over the pairs, no loop over K: the entry
 * at computed once, the step that leaves n16 - 1 steps of the straight chain of 35 pipelined ones
 * (TQ_CONV_MVE_STEP_ASM) before the last (TQ_CONV_MVE_STEP_LAST, label 9): at = 9 - (n16 - 1) *
 * TQ_CONV_MVE_STEP_BYTES = 9 - 2 * len + 32, bit 0 set (Thumb). Per pair the first step's vectors loaded, the
 * sums set to zero between the loads by two VMOV of a zero vector's lanes (another pipeline: the beats overlap,
 * cortex-m55.toml), a jump to at, then the sums stored by two STRD,
 * the column pointers moved back by len and the row pointers to the next pair (wa = wb + k - len, wb = wa + k).
 * volatile: the results are the stores. */
static inline void tq_conv_mve_pairs(const int8_t *w, int32_t k, const int8_t *xa, const int8_t *xb, int32_t n16,
                                     int32_t pairs, int32_t *s)
{
    const int32_t len = n16 * 16, skip = k - len;
    const int8_t *wa = w, *wb = w + k;
    int32_t aa, ab, ba, bb, at;
    int8x16_t x0, x1, v0, v1;
    __asm__ volatile("adr %[at], 9f\n\t"
                     "sub %[at], %[at], %[len], lsl #1\n\t"
                     "add %[at], %[at], #" "32" "\n\t"
                     "orr %[at], %[at], #1\n"
                     "1:\n\t"
                     "vldrb.8 %q[x0], [%[pxa]], #16\n\t"
                     "vmov %[raa], %[rab], %q[z][2], %q[z][0]\n\t"
                     "vldrb.8 %q[v0], [%[pwa]], #16\n\t"
                     "vmov %[rba], %[rbb], %q[z][2], %q[z][0]\n\t"
                     "bx %[at]\n\t"
                     TQ_CONV_MVE_STEP5 TQ_CONV_MVE_STEP5 TQ_CONV_MVE_STEP5 TQ_CONV_MVE_STEP5 TQ_CONV_MVE_STEP5
                     TQ_CONV_MVE_STEP5 TQ_CONV_MVE_STEP5
                     "9:\n\t" TQ_CONV_MVE_STEP_LAST
                     "strd %[rab], %[rbb], [%[s], #" TQ_CONV_MVE_BLOCK_BYTES "]\n\t"
                     "strd %[raa], %[rba], [%[s]], #8\n\t"
                     "subs %[pxa], %[pxa], %[len]\n\t"
                     "subs %[pxb], %[pxb], %[len]\n\t"
                     "adds %[pwa], %[pwb], %[skip]\n\t"
                     "adds %[pwb], %[pwa], %[skip]\n\t"
                     "adds %[pwb], %[pwb], %[len]\n\t"
                     "subs %[pairs], %[pairs], #1\n\t"
                     "bne 1b"
                     : [raa] "=&Te"(aa), [rab] "=&Te"(ab), [rba] "=&Te"(ba), [rbb] "=&Te"(bb), [pxa] "+r"(xa),
                       [pxb] "+r"(xb), [pwa] "+r"(wa), [pwb] "+r"(wb), [s] "+r"(s), [pairs] "+r"(pairs),
                       [at] "=&r"(at), [x0] "=&w"(x0), [x1] "=&w"(x1), [v0] "=&w"(v0), [v1] "=&w"(v1)
                     : [len] "r"(len), [skip] "r"(skip), [z] "w"(vdupq_n_s32(0))
                     : "memory", "cc");
}

#if defined(__GNUC__)
#define TQ_CONV_MVE_OUTLINE __attribute__((noinline))
#else
#define TQ_CONV_MVE_OUTLINE
#endif

/* Whole and predicated (VCTP.32 lanes_: inactive lanes read and write no memory) int32 loads and int8 stores. */
#define TQ_CONV_MVE_LD(ptr) vldrwq_s32(ptr)
#define TQ_CONV_MVE_ST(ptr, v) vstrbq_s32((ptr), (v))
#define TQ_CONV_MVE_LD_P(ptr) vldrwq_z_s32((ptr), lanes_)
#define TQ_CONV_MVE_ST_P(ptr, v) vstrbq_p_s32((ptr), (v), lanes_)

/* Four channels of the pixel pair: (corr + sum) of s (pixel a) and s + TQ_CONV_MVE_BLOCK (pixel b) requantized by
 * rq (tq_requant.h) and stored at out_a / out_b, loads ld and stores st; every pointer then advanced by 4. */
#define TQ_CONV_MVE_STORE4(rq, ld, st)                                                                         \
    do {                                                                                                      \
        const int32x4_t q_ = ld(multiplier), e_ = ld(shifts), b_ = ld(base);                                  \
        const int32x4_t ya_ = vaddq_s32(ld(s), b_), yb_ = vaddq_s32(ld(s + TQ_CONV_MVE_BLOCK), b_);           \
        st(out_a, rq(ya_, q_, e_, zp, lo, hi));                                                               \
        st(out_b, rq(yb_, q_, e_, zp, lo, hi));                                                               \
        multiplier += 4;                                                                                      \
        shifts += 4;                                                                                          \
        base += 4;                                                                                            \
        s += 4;                                                                                               \
        out_a += 4;                                                                                           \
        out_b += 4;                                                                                           \
    } while (0)

/* The output stage of channels [c0, c0 + n) of the pixel pair, n <= TQ_CONV_MVE_BLOCK, with rq: out_a[c] =
 * rq(corr[c] + s[c - c0]), out_b[c] = rq(corr[c] + s[TQ_CONV_MVE_BLOCK + c - c0]), four channels per vector, the
 * n mod 4 last ones by one predicated vector (no read past out_c, no write past the pixel). */
#define TQ_CONV_MVE_STORE(rq)                                                                                  \
    do {                                                                                                      \
        int32_t i_;                                                                                           \
        for (i_ = n >> 2; i_ > 0; --i_) {                                                                     \
            TQ_CONV_MVE_STORE4(rq, TQ_CONV_MVE_LD, TQ_CONV_MVE_ST);                                           \
        }                                                                                                     \
        if ((n & 3) != 0) {                                                                                   \
            const mve_pred16_t lanes_ = vctp32q((uint32_t)(n & 3));                                           \
            TQ_CONV_MVE_STORE4(rq, TQ_CONV_MVE_LD_P, TQ_CONV_MVE_ST_P);                                       \
        }                                                                                                     \
    } while (0)

/* TQ_CONV_MVE_STORE with tq_requantize_s32x4_right_mve where requant_fused != 0 (every shift in [-31, -1]),
 * else tq_requantize_s32x4_mve. */
TQ_LOOP_INLINE void tq_conv_mve_store_inline(const tq_conv2d_s8_params *p, const int32_t *corr, int32_t c0, int32_t n,
                                             const int32_t *s, int8_t *out_a, int8_t *out_b)
{
    /* read once: the int8 output stores may alias the params */
    const int32_t *multiplier = p->multiplier + c0, *shifts = p->shift + c0, *base = corr + c0;
    const int32_t zp = p->output_zero_point, lo = p->act_min, hi = p->act_max;
    out_a += c0;
    out_b += c0;
    if (p->requant_fused != 0) {
        TQ_CONV_MVE_STORE(tq_requantize_s32x4_right_mve);
    } else {
        TQ_CONV_MVE_STORE(tq_requantize_s32x4_mve);
    }
}

/* Row w's dot products with the columns in registers (K <= 32, k16 = 16 or 32; the second vectors unused
 * when k16 = 16): one or two VLDRB, the last predicated by tail (VCTP.8 of K - k16 + 16), so no read
 * leaves the row. */
#define TQ_CONV_MVE_SMALL_ROW(w, k16, tail, xa0, xa1, xb0, xb1, da, db)                                          \
    do {                                                                                                      \
        if ((k16) == 16) {                                                                                    \
            const int8x16_t v0_ = vldrbq_z_s8((w), (tail));                                                   \
            (da) = vmladavq_s8(v0_, (xa0));                                                                   \
            (db) = vmladavq_s8(v0_, (xb0));                                                                   \
        } else {                                                                                              \
            const int8x16_t v0_ = vldrbq_s8(w);                                                               \
            const int8x16_t v1_ = vldrbq_z_s8((w) + 16, (tail));                                              \
            (da) = vmladavaq_s8(vmladavq_s8(v0_, (xa0)), v1_, (xa1));                                         \
            (db) = vmladavaq_s8(vmladavq_s8(v0_, (xb0)), v1_, (xb1));                                         \
        }                                                                                                     \
    } while (0)

/* Every channel of `pairs` pixel pairs, K <= 32: pair i's columns at xa + i * x_step and xb + i * x_step (k16 = 16
 * or 32 readable bytes), its outputs at out_a + i * o_step and out_b + i * o_step (pairs > 1: a pointwise layer's
 * run of pixels, no return to the caller between pairs). The columns stay in registers while each weight row is
 * read once, TQ_CONV_MVE_BLOCK channels' sums at a time. */
TQ_LOOP_INLINE void tq_conv_mve_small(const tq_conv2d_s8_params *p, const int8_t *weights, const int32_t *corr,
                                      const int8_t *xa, const int8_t *xb, int32_t k, int32_t k16, int8_t *out_a,
                                      int8_t *out_b, int32_t pairs, int32_t x_step, int32_t o_step)
{
    const mve_pred16_t tail = vctp8q((uint32_t)(k - (k16 - 16)));
    const int32_t out_c = p->out_c;
    int32_t sums[2 * TQ_CONV_MVE_BLOCK];
    int32_t c0, j;
    for (; pairs > 0; --pairs, xa += x_step, xb += x_step, out_a += o_step, out_b += o_step) {
        /* the columns' last vector predicated like the rows': no read past K (columns read in place) */
        const int8x16_t xa0 = k16 == 16 ? vldrbq_z_s8(xa, tail) : vldrbq_s8(xa);
        const int8x16_t xb0 = k16 == 16 ? vldrbq_z_s8(xb, tail) : vldrbq_s8(xb);
        const int8x16_t xa1 = k16 == 32 ? vldrbq_z_s8(xa + 16, tail) : xa0;
        const int8x16_t xb1 = k16 == 32 ? vldrbq_z_s8(xb + 16, tail) : xb0;
        for (c0 = 0; c0 < out_c; c0 += TQ_CONV_MVE_BLOCK) {
            const int32_t n = out_c - c0 < TQ_CONV_MVE_BLOCK ? out_c - c0 : TQ_CONV_MVE_BLOCK;
            const int8_t *w = weights + c0 * k;
            for (j = 0; j < n; ++j, w += k) {
                TQ_CONV_MVE_SMALL_ROW(w, k16, tail, xa0, xa1, xb0, xb1, sums[j], sums[TQ_CONV_MVE_BLOCK + j]);
            }
            tq_conv_mve_store_inline(p, corr, c0, n, sums, out_a, out_b);
        }
    }
}

/* tq_conv_mve_small for k16 = 16 and 32, each compiled on its own (not inlined: the general path's registers are
 * then allocated without them). */
TQ_CONV_MVE_OUTLINE static void tq_conv_mve_small16(const tq_conv2d_s8_params *p, const int8_t *weights,
                                                    const int32_t *corr, const int8_t *xa, const int8_t *xb, int32_t k,
                                                    int8_t *out_a, int8_t *out_b, int32_t pairs, int32_t x_step,
                                                    int32_t o_step)
{
    tq_conv_mve_small(p, weights, corr, xa, xb, k, 16, out_a, out_b, pairs, x_step, o_step);
}

TQ_CONV_MVE_OUTLINE static void tq_conv_mve_small32(const tq_conv2d_s8_params *p, const int8_t *weights,
                                                    const int32_t *corr, const int8_t *xa, const int8_t *xb, int32_t k,
                                                    int8_t *out_a, int8_t *out_b, int32_t pairs, int32_t x_step,
                                                    int32_t o_step)
{
    tq_conv_mve_small(p, weights, corr, xa, xb, k, 32, out_a, out_b, pairs, x_step, o_step);
}

/* Every channel of `count` pixel pairs, K > 32: pair i's columns at xa + i * x_step and xb + i * x_step (K16 values,
 * the K16 - K last zero; read in place for pointwise layers with K = K16), its outputs at out_a + i * o_step and
 * out_b + i * o_step (count > 1: a run of pixel pairs, no return to the caller between pairs), TQ_CONV_MVE_BLOCK
 * channels' sums at a time: the block's channel pairs over K16 values by tq_conv_mve_pairs (the weights read after
 * a row's K are the next row's, times a zero column value), except a last pair whose second row's K16 reads would
 * leave the weights array and an odd last channel (computed twice), by tq_conv_mve_dot2x2 over K values (a
 * tail-predicated step). */
TQ_CONV_MVE_OUTLINE static void tq_conv_mve_columns(const tq_conv2d_s8_params *p, const int8_t *weights,
                                                    const int32_t *corr, const int8_t *xa, const int8_t *xb,
                                                    int32_t k, int8_t *out_a, int8_t *out_b, int32_t count,
                                                    int32_t x_step, int32_t o_step)
{
    const int32_t out_c = p->out_c, k16 = TQ_CONV_MVE_K16(k);
    /* rows d < whole may be read over K16 values: the last row only when K = K16 */
    const int32_t whole = k16 == k ? out_c : out_c - 1;
    int32_t sums[2 * TQ_CONV_MVE_BLOCK];
    int32_t c0, j;
    for (; count > 0; --count, xa += x_step, xb += x_step, out_a += o_step, out_b += o_step) {
        for (c0 = 0; c0 < out_c; c0 += TQ_CONV_MVE_BLOCK) {
            const int32_t n = out_c - c0 < TQ_CONV_MVE_BLOCK ? out_c - c0 : TQ_CONV_MVE_BLOCK;
            int32_t pairs = n / 2;
            if (c0 + 2 * pairs > whole) {
                --pairs;
            }
            if (pairs > 0) {
                tq_conv_mve_pairs(weights + c0 * k, k, xa, xb, k16 / 16, pairs, sums);
            }
            for (j = 2 * pairs; j < n; j += 2) {
                const int32_t d = j + 1 < n ? c0 + j + 1 : c0 + j; /* an odd last channel is computed twice */
                int32_t r[4];
                tq_conv_mve_dot2x2(weights + (c0 + j) * k, weights + d * k, xa, xb, k, r);
                sums[j] = r[0];
                sums[TQ_CONV_MVE_BLOCK + j] = r[1];
                sums[j + 1] = r[2]; /* j + 1 < TQ_CONV_MVE_BLOCK: n is even when it is TQ_CONV_MVE_BLOCK */
                sums[TQ_CONV_MVE_BLOCK + j + 1] = r[3];
            }
            tq_conv_mve_store_inline(p, corr, c0, n, sums, out_a, out_b);
        }
    }
}

/* The output pixels whose windows lie wholly inside the input: rows [y_lo, y_hi), columns [x_lo, x_hi) (empty
 * ranges as lo = hi), and the offset of pixel (oy, ox)'s first window value, origin + oy * row_step + ox * col_step
 * (inside pixels only), computed once per call. */
typedef struct {
    int32_t y_lo, y_hi, x_lo, x_hi, origin, row_step, col_step;
} tq_conv_mve_inner;

/* One axis of tq_conv_mve_inner: lo = ceil(pad / stride), hi = floor((size + pad - kernel) / stride) + 1, at least
 * lo (window start o * stride - pad >= 0 and end o * stride - pad + kernel <= size). */
static inline void tq_conv_mve_axis(int32_t size, int32_t pad, int32_t kernel, int32_t stride, int32_t *lo,
                                    int32_t *hi)
{
    const int32_t room = size + pad - kernel;
    *lo = (pad + stride - 1) / stride;
    *hi = room < 0 ? *lo : room / stride + 1;
    if (*hi < *lo) {
        *hi = *lo;
    }
}

/* 1 when pixel (oy, ox)'s window lies wholly inside the input. */
static inline int tq_conv_mve_inside(const tq_conv_mve_inner *r, int32_t oy, int32_t ox)
{
    return (uint32_t)(oy - r->y_lo) < (uint32_t)(r->y_hi - r->y_lo) &&
           (uint32_t)(ox - r->x_lo) < (uint32_t)(r->x_hi - r->x_lo);
}

/* n bytes from src to dst: whole vectors, then the n mod 16 last bytes by one step predicated by VCTP.8 (no byte past
 * n read or written). */
static inline void tq_conv_mve_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 16; n -= 16, src += 16, dst += 16) {
        vstrbq_s8(dst, vldrbq_s8(src));
    }
    if (n > 0) {
        const mve_pred16_t lanes = vctp8q((uint32_t)n);
        vstrbq_p_s8(dst, vldrbq_z_s8(src, lanes), lanes);
    }
}

/* The window starting at src (inside the input) in weight order into col: kernel_h rows of row values, stride
 * values apart in the input, each by whole vectors, then its row mod 16 last values by one VLDRB / VSTRB
 * predicated by tail (VCTP.8 of row mod 16: no byte past the row read or written). */
static inline void tq_conv_mve_column_inside(const int8_t *src, int32_t rows, int32_t row, int32_t stride,
                                             mve_pred16_t tail, int8_t *col)
{
    const int32_t n16 = row >> 4, rest = row & 15;
    for (; rows > 0; --rows, src += stride) {
        const int8_t *x = src;
        int32_t i;
        for (i = n16; i > 0; --i, x += 16, col += 16) {
            vstrbq_s8(col, vldrbq_s8(x));
        }
        if (rest != 0) {
            vstrbq_p_s8(col, vldrbq_z_s8(x, tail), tail);
            col += rest;
        }
    }
}

/* Output pixel (oy, ox)'s window in weight order (ky, kx, i) into col: K bytes, the input zero point outside the
 * input. Each window row is first filled with the zero point (VDUP, predicated vector stores), then its in-bounds
 * taps [kb, ke) copied over it (tq_conv_mve_copy). */
static void tq_conv_mve_column(const tq_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox, int8_t *col)
{
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    const int32_t x0 = ox * p->stride_w - p->pad_left;
    const int32_t row = p->kernel_w * p->in_c;
    const int8x16_t zp = vdupq_n_s8((int8_t)p->input_zero_point);
    /* in-bounds taps [kb, ke), both clipped to the window (a window may lie wholly in the padding) */
    const int32_t begin = TQ_WINDOW_BEGIN(x0);
    const int32_t kb = begin < p->kernel_w ? begin : p->kernel_w;
    const int32_t end = TQ_WINDOW_END(x0, p->kernel_w, p->in_w);
    const int32_t ke = end > kb ? end : kb;
    int32_t ky, i;
    for (ky = 0; ky < p->kernel_h; ++ky, col += row) {
        const int32_t iy = y0 + ky;
        for (i = 0; i < row; i += 16) {
            vstrbq_p_s8(col + i, zp, vctp8q((uint32_t)(row - i)));
        }
        if (iy >= 0 && iy < p->in_h && ke > kb) {
            tq_conv_mve_copy(col + kb * p->in_c, input + (iy * p->in_w + x0 + kb) * p->in_c, (ke - kb) * p->in_c);
        }
    }
}

/* Output pixel (oy, ox)'s column (K values) into col: tq_conv_mve_column_inside for windows inside the input,
 * else tq_conv_mve_column. */
static inline void tq_conv_mve_window(const tq_conv2d_s8_params *p, const tq_conv_mve_inner *r, const int8_t *input,
                                      int32_t oy, int32_t ox, mve_pred16_t tail, int8_t *col)
{
    if (tq_conv_mve_inside(r, oy, ox)) {
        tq_conv_mve_column_inside(input + r->origin + oy * r->row_step + ox * r->col_step, p->kernel_h,
                                  p->kernel_w * p->in_c, p->in_w * p->in_c, tail, col);
    } else {
        tq_conv_mve_column(p, input, oy, ox, col);
    }
}

void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_conv2d_s8_params *p = params;
    const int8_t *const weights = p->weights; /* read once: int8 output stores may alias the params */
    const int32_t k = p->kernel_h * p->kernel_w * p->in_c;
    const int32_t k16 = TQ_CONV_MVE_K16(k);
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t out_c = p->out_c;
    /* windows inside the input are read in place when they are one row (kernel_h 1) of K values, the column
     * itself, and K is K16 or K <= 32 (the small paths' predicated loads read no value past K) */
    const int column_direct = p->kernel_h == 1 && (k16 == k || k16 <= 32);
    int8_t *const scratch = (int8_t *)p->scratch;
    const mve_pred16_t tail = vctp8q((uint32_t)((p->kernel_w * p->in_c) & 15)); /* a window row's last values */
    int32_t *corr;
    int8_t *cols;
    int32_t q, q0 = 0, c, qy = 0, qx = 0; /* (qy, qx): output pixel q */
    tq_conv_mve_inner inner;
    tq_conv_mve_axis(p->in_h, p->pad_top, p->kernel_h, p->stride_h, &inner.y_lo, &inner.y_hi);
    tq_conv_mve_axis(p->in_w, p->pad_left, p->kernel_w, p->stride_w, &inner.x_lo, &inner.x_hi);
    inner.origin = -(p->pad_top * p->in_w + p->pad_left) * p->in_c;
    inner.row_step = p->stride_h * p->in_w * p->in_c;
    inner.col_step = p->stride_w * p->in_c;
    if (scratch == 0 || k > TQ_CONV_DSP_COLUMN_MAX || out_c > TQ_CONV_MVE_CORR_MAX(k)) {
        tq_conv2d_s8_portable(p, input, output);
        return;
    }
    corr = (int32_t *)(void *)scratch; /* the buffer is 4-byte aligned */
    cols = scratch + 4 * out_c;
    /* zeros after K in both columns: tq_conv_mve_dot2x2 over k16 values (a multiple of 16: no predicated step) reads
     * them, with the weights after row wa's or wb's K values (the next row's, inside the array), which add nothing */
    memset(cols + k, 0, (size_t)(k16 - k));
    memset(cols + k16 + k, 0, (size_t)(k16 - k));
    for (c = 0; c < out_c; ++c) {
        const int8_t *w = weights + c * k;
        int32_t sum = 0, n = k;
        for (; n >= 16; n -= 16, w += 16) {
            sum = vaddvaq_s8(sum, vldrbq_s8(w));
        }
        if (n > 0) {
            sum = vaddvaq_s8(sum, vldrbq_z_s8(w, vctp8q((uint32_t)n)));
        }
        corr[c] = (int32_t)((uint32_t)p->bias[c] - (uint32_t)p->input_zero_point * (uint32_t)sum);
    }
    if ((k16 <= 32 || k16 == k) && p->kernel_h == 1 && p->kernel_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
        p->pad_top == 0 && p->pad_left == 0 && p->out_w == p->in_w && p->out_h == p->in_h) {
        /* pointwise, no padding (out_h, out_w = in_h, in_w: every window inside): the whole pixel pairs in one call
         * (pixel q's column at input + q * K) */
        const int32_t pairs = pixels / 2;
        if (pairs > 0) {
            if (k16 == 16) {
                tq_conv_mve_small16(p, weights, corr, input, input + k, k, output, output + out_c, pairs, 2 * k,
                                    2 * out_c);
            } else if (k16 == 32) {
                tq_conv_mve_small32(p, weights, corr, input, input + k, k, output, output + out_c, pairs, 2 * k,
                                    2 * out_c);
            } else {
                tq_conv_mve_columns(p, weights, corr, input, input + k, k, output, output + out_c, pairs, 2 * k,
                                    2 * out_c);
            }
        }
        q0 = 2 * pairs;
        qy = q0 / p->out_w;
        qx = q0 - qy * p->out_w;
    } else if (k16 <= 32 || !column_direct) {
        /* windows copied: the columns of up to `batch` whole pixel pairs built ahead in the scratch after corr
         * (reading input early is safe, tq_kernels.h), then one call of the small path or tq_conv_mve_columns for
         * them (their K16 - K last values zero, set once: the windows write K values) */
        int8_t *const ahead = cols; /* the two columns' K16 - K zero tails kept: the windows write K values */
        const int32_t room = (int32_t)TQ_CONV2D_S8_BUFFER_SIZE(p->kernel_h, p->kernel_w, p->in_c) - 4 * out_c;
        /* K > 32: batches of at least two pairs (one pair per call gains nothing over the loop below) */
        const int32_t batch = k16 > 32 && room < 2 * (2 * k16) ? 0 : room / (2 * k16);
        if (k16 > 32 && batch > 0) {
            memset(ahead, 0, (size_t)(2 * batch * k16));
        }
        while (batch > 0 && pixels - q0 >= 2) {
            const int32_t m = (pixels - q0) / 2 < batch ? (pixels - q0) / 2 : batch;
            int32_t i;
            for (i = 0; i < 2 * m; ++i) {
                tq_conv_mve_window(p, &inner, input, qy, qx, tail, ahead + i * k16);
                if (++qx == p->out_w) {
                    qx = 0;
                    ++qy;
                }
            }
            if (k16 == 16) {
                tq_conv_mve_small16(p, weights, corr, ahead, ahead + k16, k, output + q0 * out_c,
                                    output + (q0 + 1) * out_c, m, 2 * k16, 2 * out_c);
            } else if (k16 == 32) {
                tq_conv_mve_small32(p, weights, corr, ahead, ahead + k16, k, output + q0 * out_c,
                                    output + (q0 + 1) * out_c, m, 2 * k16, 2 * out_c);
            } else {
                tq_conv_mve_columns(p, weights, corr, ahead, ahead + k16, k, output + q0 * out_c,
                                    output + (q0 + 1) * out_c, m, 2 * k16, 2 * out_c);
            }
            q0 += 2 * m;
        }
    }
    for (q = q0; q < pixels; q += 2) {
        const int32_t last = q + 1 < pixels ? q + 1 : q; /* an odd last pixel is computed twice */
        const int wrap = last != q && qx + 1 == p->out_w; /* pixel last starts the next output row */
        const int32_t ly = qy + wrap, lx = last == q ? qx : (wrap ? 0 : qx + 1);
        const int inside = tq_conv_mve_inside(&inner, qy, qx) && tq_conv_mve_inside(&inner, ly, lx);
        const int8_t *xa = cols, *xb = cols + k16;
        int8_t *out_a = output + q * out_c;
        int8_t *out_b = output + last * out_c;
        if (inside && column_direct) {
            xa = input + (inner.origin + qy * inner.row_step + qx * inner.col_step);
            xb = input + (inner.origin + ly * inner.row_step + lx * inner.col_step);
        } else {
            tq_conv_mve_window(p, &inner, input, qy, qx, tail, cols);
            tq_conv_mve_window(p, &inner, input, ly, lx, tail, cols + k16);
        }
        qx += 2;
        while (qx >= p->out_w) {
            qx -= p->out_w;
            ++qy;
        }
        if (k16 == 16) { /* small K: the columns stay in registers for every channel */
            tq_conv_mve_small16(p, weights, corr, xa, xb, k, out_a, out_b, 1, 0, 0);
        } else if (k16 == 32) {
            tq_conv_mve_small32(p, weights, corr, xa, xb, k, out_a, out_b, 1, 0, 0);
        } else {
            tq_conv_mve_columns(p, weights, corr, xa, xb, k, out_a, out_b, 1, 0, 0);
        }
    }
}

#endif /* TQ_USE_MVE */
