/*
 * tq_conv2d_s8_pw8.c - the DSP conv's path for pointwise layers with 8 input channels (below), published as
 * tq_conv2d_s8_pw8. The generator ships this file, and sets params->dsp_path = &tq_conv2d_s8_pw8 under
 * TQ_USE_DSP, only for packages with such a layer (tinyqat/codegen/layouts.py, conv_dsp_path, states the
 * conditions), so other builds do not link it. Cores without the DSP extension compile nothing here.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP
#include "tq_dsp.h"

/*
 * Pointwise convs with 8 input channels (MobileNet's narrow 1 x 1 layers: K = 8, too short for the 4 x 2
 * blocks' per-group cost), the path's layers (the generator's choice): a 1 x 1 window, strides 1, no
 * padding, out_h = in_h, out_w = in_w, requant_fused == 2, out_c a multiple of 4 (any out_c: the scratch rule,
 * TQ_CONV2D_S8_DSP_BUFFER_SIZE, holds the out_c records of TQ_CONV_PW8_WORDS words and a chunk of TQ_CONV_PW8_CHUNK
 * pixels' pairs; tq_kernels.h). A record per channel, built once per call (pw8_records):
 *   W0..W3 = (2 w[c][0], 2 w[c][2]), (2 w[c][1], 2 w[c][3]), (2 w[c][4], 2 w[c][6]), (2 w[c][5], 2 w[c][7])
 *   (int16 pairs), B = 2 (bias[c] - input_zero_point * sum_i w[c][i]), q[c], tq_fused2_offset(e, zp),
 *   R = e + 256 out_c (e = -shift[c] <= 22 in the low byte, what ASR by register reads; out_c above it);
 * a pixel's raw bytes x as SXTB16 pairs (x0, x2), (x1, x3), (x4, x6), (x5, x7), so
 *   acc2 = B + SMLAD sums = 2 (bias[c] + sum_i w[c][i] (x[i] - input_zero_point)) = 2 acc (exact: the
 *   final value lies in int32 and SMLAD wraps modulo 2^32), requantized by TQ_REQUANT_FUSED2_FOLDED_ASM.
 * Chunks of up to TQ_CONV_PW8_CHUNK consecutive pixels (the scratch after the records): the chunk's
 * pixels as pairs in the scratch (pw8_pairs, 4 words each), then channel by channel (pw8_chunk) its record in 8
 * registers and every pixel of the chunk: one LDM of its pairs, 4 SMLAD, 4 output-stage instructions, a byte
 * store and the output pointer advanced by out_c (R >> 8): 15 estimated cycles for 8 MACs.
 * In-place contract (tq_kernels.h): a chunk's input bytes are all read (converted) before any of its outputs is
 * written, chunks in raster order; the writes of a chunk end at the end of its last pixel pair's outputs, which
 * the contract keeps below the input of every later pixel.
 */
/* The record of each channel (see above) from the int8 or int16 layout (K4 = 8: pair j holds the values
 * perm[2 j], perm[2 j + 1] = (0, 2), (1, 3), (4, 6), (5, 7)). */
static void pw8_records(const tq_conv2d_s8_params *p, int32_t *rec)
{
    const int32_t zp = p->output_zero_point, zp_in = p->input_zero_point;
    int32_t c, j;
    for (c = 0; c < p->out_c; ++c, rec += TQ_CONV_PW8_WORDS) {
        const int32_t g = c >> 2, e = -p->shift[c];
        int32_t sum = 0;
        for (j = 0; j < 4; ++j) {
            int32_t lo, hi;
            if (p->weights_s16 != NULL) {
                const int16_t *w = p->weights_s16 + ((g * 4 + j) * 4 + (c & 3)) * 2;
                lo = w[0];
                hi = w[1];
            } else {
                const int8_t *w = p->weights + ((g * 4 + j) * 2 + ((c >> 1) & 1)) * 4 + (c & 1);
                lo = w[0];
                hi = w[2];
            }
            sum += lo + hi;
            rec[j] = (int32_t)(((uint32_t)(2 * lo) & 0xFFFFu) | ((uint32_t)(2 * hi) << 16));
        }
        rec[4] = 2 * (p->bias[c] - zp_in * sum);
        rec[5] = p->multiplier[c];
        rec[6] = tq_fused2_offset(e, zp);
        rec[7] = e + 256 * p->out_c;
    }
}

/* n pixels (8 bytes each) from src as their SXTB16 pairs (x0, x2), (x1, x3), (x4, x6), (x5, x7) at dst (4 words each). */
static void pw8_pairs(const int8_t *src, int32_t *dst, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i, src += 8, dst += 4) {
        const int32_t a = tq_load_s8x4(src), b = tq_load_s8x4(src + 4);
        dst[0] = __sxtb16(a);
        dst[1] = tq_sxtb16_odd(a);
        dst[2] = __sxtb16(b);
        dst[3] = tq_sxtb16_odd(b);
    }
}

/* One pixel of pw8_chunk's channel loop: its pairs from r12 (advanced) in one LDM, the channel's record in r4-r11 (W0-W3,
 * B, q, K, R), the byte to [lr], lr advanced by out_c. 11 instructions of 4 bytes (TQ_PW8_PIXEL_BYTES; .w forced). */
#define TQ_PW8_PIXEL_BYTES 44
#define TQ_PW8_PIXEL                                                                               \
    "ldm.w r12!, {r0, r1, r2, r3}\n\t"                                                            \
    "smlad r0, r0, r4, r8\n\t"                                                                    \
    "smlad r0, r1, r5, r0\n\t"                                                                    \
    "smlad r0, r2, r6, r0\n\t"                                                                    \
    "smlad r0, r3, r7, r0\n\t"                                                                    \
    "add.w r1, r10, r0, asr #31\n\t"                                                              \
    "smmlar r0, r0, r9, r1\n\t"                                                                   \
    "asr.w r0, r0, r11\n\t"                                                                       \
    "ssat r0, #8, r0\n\t"                                                                         \
    "strb.w r0, [lr]\n\t"                                                                         \
    "add.w lr, lr, r11, lsr #8\n\t"
#define TQ_PW8_PIXELS4 TQ_PW8_PIXEL TQ_PW8_PIXEL TQ_PW8_PIXEL TQ_PW8_PIXEL
#define TQ_PW8_PIXELS16 TQ_PW8_PIXELS4 TQ_PW8_PIXELS4 TQ_PW8_PIXELS4 TQ_PW8_PIXELS4

/*
 * One chunk: n in [1, TQ_CONV_PW8_CHUNK] pixels' pairs at pairs (pw8_pairs), their outputs at output (out_c bytes each),
 * records: the out_c records. Channel by channel: its record to r4-r11, r12 = pairs, lr = output + c, then the
 * unrolled pixel loop entered at pixel TQ_CONV_PW8_CHUNK - n (the entry's Thumb address, computed once, loaded to pc),
 * so each channel runs exactly n pixels.
 * AAPCS: r0 = pairs, r1 = output, r2 = n, r3 = records; stack: out_c. Locals: [sp] the next record, [sp, #4] the records'
 * end, [sp, #8] the next channel's output, [sp, #12] pairs, [sp, #16] the entry.
 */
__attribute__((naked, noinline)) static void pw8_chunk(TQ_ASM_ARG const int32_t *pairs, TQ_ASM_ARG int8_t *output,
                                                       TQ_ASM_ARG int32_t n, TQ_ASM_ARG const int32_t *records,
                                                       TQ_ASM_ARG int32_t out_c)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r12, [sp, #36]\n\t"
        "sub sp, sp, #24\n\t"
        "str r3, [sp]\n\t"
        "add lr, r3, r12, lsl #5\n\t"
        "str lr, [sp, #4]\n\t"
        "str r1, [sp, #8]\n\t"
        "str r0, [sp, #12]\n\t"
        "rsb r2, r2, #" TQ_STR(TQ_CONV_PW8_CHUNK) "\n\t"
        "mov lr, #" TQ_STR(TQ_PW8_PIXEL_BYTES) "\n\t"
        "mul r2, r2, lr\n\t"
        "adr.w lr, 1f\n\t"
        "add r2, r2, lr\n\t"
        "orr r2, r2, #1\n\t"
        "str r2, [sp, #16]\n"
        "0:\n\t"
        "ldr lr, [sp]\n\t"
        "ldm lr!, {r4-r11}\n\t"
        "str lr, [sp]\n\t"
        "ldr lr, [sp, #8]\n\t"
        "add r12, lr, #1\n\t"
        "str r12, [sp, #8]\n\t"
        "ldr r12, [sp, #12]\n\t"
        "ldr pc, [sp, #16]\n\t"
        ".p2align 2\n" /* the section word-aligned: the ADR above holds wherever the linker puts it */
        "1:\n\t"
        TQ_PW8_PIXELS16 TQ_PW8_PIXELS16
        "ldr r0, [sp]\n\t"
        "ldr r1, [sp, #4]\n\t"
        "cmp r0, r1\n\t"
        "bne 0b\n\t"
        "add sp, sp, #24\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* The whole call: the records at the start of the scratch, the chunks' pairs after them (TQ_CONV2D_S8_DSP_BUFFER_SIZE
 * >= TQ_CONV_PW8_BUFFER_SIZE(out_c) bytes in all: the records and TQ_CONV_PW8_CHUNK pixels' pairs). */
static void pw8(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t out_c = p->out_c, pixels = p->out_h * p->out_w;
    int32_t *const rec = (int32_t *)p->scratch;
    int32_t *const pairs = rec + TQ_CONV_PW8_WORDS * out_c;
    int32_t px;
    pw8_records(p, rec);
    for (px = 0; px < pixels; px += TQ_CONV_PW8_CHUNK) {
        const int32_t n = pixels - px < TQ_CONV_PW8_CHUNK ? pixels - px : TQ_CONV_PW8_CHUNK;
        pw8_pairs(input + 8 * px, pairs, n);
        pw8_chunk(pairs, output + px * out_c, n, rec, out_c);
    }
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_pw8 = {pw8, NULL};

#endif /* TQ_USE_DSP */
