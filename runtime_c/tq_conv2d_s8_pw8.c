/*
 * tq_conv2d_s8_pw8.c - the DSP conv's path for pointwise layers with 8 input channels (below), published as
 * tq_conv2d_s8_pw8. The generator ships this file, and sets params->dsp_path = &tq_conv2d_s8_pw8 under
 * TQ_USE_DSP, only for packages with such a layer (tinyqat/codegen/layouts.py, conv_dsp_path, states the
 * conditions), so other builds do not link it. Cores without the DSP extension compile nothing here.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP

/*
 * Pointwise convs with 8 input channels (MobileNet's narrow 1 x 1 layers: K = 8, too short for the 4 x 2
 * blocks' per-group cost), the path's layers (the generator's choice): a 1 x 1 window, strides 1, no
 * padding, out_h = in_h, out_w = in_w, requant_fused == 2, out_c a multiple of 4 and out_c records of TQ_CONV_PW8_WORDS words
 * within the scratch. Pixel by pixel (raster order, its 8 input bytes read before its outputs are written:
 * the in-place contract), channel by channel from a record built once per call (pw8_records):
 *   W0..W3 = (2 w[c][0], 2 w[c][2]), (2 w[c][1], 2 w[c][3]), (2 w[c][4], 2 w[c][6]), (2 w[c][5], 2 w[c][7])
 *   (int16 pairs), B = 2 (bias[c] - input_zero_point * sum_i w[c][i]), q[c], tq_fused2_offset(e, zp), e;
 * the pixel's raw bytes x as SXTB16 pairs (x0, x2), (x1, x3), (x4, x6), (x5, x7), so
 *   acc2 = B + SMLAD sums = 2 (bias[c] + sum_i w[c][i] (x[i] - input_zero_point)) = 2 acc (exact: the
 *   final value lies in int32 and SMLAD wraps modulo 2^32), requantized by TQ_REQUANT_FUSED2_FOLDED_ASM.
 * Per output: one LDM of the record (8 words), 4 SMLAD, 4 output-stage instructions and a byte store (18 estimated
 * cycles for 8 MACs; 16 channels per loop iteration, pw8_run).
 */
#define TQ_CONV_PW8_WORDS 8

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
        rec[7] = e;
    }
}

/* One channel of pw8_run: its record from r2 (advanced) in one LDM (W0-W3 to r0, r3, r8, r9; B, q, K, e to r10-r12,
 * lr), the pixel's pairs in r4-r7, the byte to r1 (advanced). 18 estimated cycles for 8 MACs. */
#define TQ_PW8_CHANNEL                                                                             \
    "ldm r2!, {r0, r3, r8, r9, r10, r11, r12, lr}\n\t"                                            \
    "smlad r10, r4, r0, r10\n\t"                                                                  \
    "smlad r10, r5, r3, r10\n\t"                                                                  \
    "smlad r10, r6, r8, r10\n\t"                                                                  \
    "smlad r10, r7, r9, r10\n"                                                                     \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r10", "r11", "r12", "lr", "r0")                                 \
    "\tstrb r10, [r1], #1\n\t"
#define TQ_PW8_CHANNELS4 TQ_PW8_CHANNEL TQ_PW8_CHANNEL TQ_PW8_CHANNEL TQ_PW8_CHANNEL

/* The start of a pixel: its 8 bytes from the input pointer at [sp] (advanced by 8) as the SXTB16 pairs in r4-r7,
 * r2 = the first record (at [sp, #4]). */
#define TQ_PW8_PIXEL                                                                               \
    "ldr r2, [sp, #4]\n\t"                                                                        \
    "ldr r0, [sp]\n\t"                                                                            \
    "ldr r3, [r0]\n\t"                                                                            \
    "ldr r12, [r0, #4]\n\t"                                                                       \
    "add r0, r0, #8\n\t"                                                                          \
    "str r0, [sp]\n\t"                                                                            \
    "sxtb16 r4, r3\n\t"                                                                           \
    "sxtb16 r5, r3, ror #8\n\t"                                                                   \
    "sxtb16 r6, r12\n\t"                                                                          \
    "sxtb16 r7, r12, ror #8\n\t"

/*
 * pixels >= 1 pixels from input (8 bytes each) to output (out_c bytes each, out_c a multiple of 4); records: the
 * out_c records. Per pixel the channels run 16 per loop iteration (label 1, no test inside); when out_c mod 16 = r
 * is not 0 the pixel's first iteration enters the 16 channels at channel 16 - r (labels 5, 6, 7), so each pixel
 * runs exactly out_c channels in order. The pixel start with that entry (label 10, or 11 / 12 / 13) is chosen once
 * per call and kept at [sp, #16] (its Thumb address), the loop back to the next pixel is a load of it to pc.
 * AAPCS: r0 = input, r1 = output, r2 = pixels, r3 = records; stack: out_c. Locals: [sp] input, [sp, #4] records,
 * [sp, #8] records end, [sp, #12] output end, [sp, #16] the pixel start.
 */
__attribute__((naked, noinline)) static void pw8_run(TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output,
                                                     TQ_ASM_ARG int32_t pixels, TQ_ASM_ARG const int32_t *records,
                                                     TQ_ASM_ARG int32_t out_c)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr r12, [sp, #36]\n\t"
        "sub sp, sp, #24\n\t"
        "add lr, r3, r12, lsl #5\n\t"
        "mul r2, r2, r12\n\t"
        "add r2, r1, r2\n\t"
        "str r0, [sp]\n\t"
        "str r3, [sp, #4]\n\t"
        "str lr, [sp, #8]\n\t"
        "str r2, [sp, #12]\n\t"
        "and r12, r12, #12\n\t"
        "adr.w r0, 10f\n\t"
        "cmp r12, #4\n\t"
        "bne 20f\n\t"
        "adr.w r0, 11f\n"
        "20:\n\t"
        "cmp r12, #8\n\t"
        "bne 21f\n\t"
        "adr.w r0, 12f\n"
        "21:\n\t"
        "cmp r12, #12\n\t"
        "bne 22f\n\t"
        "adr.w r0, 13f\n"
        "22:\n\t"
        "orr r0, r0, #1\n\t"
        "str r0, [sp, #16]\n\t"
        "bx r0\n\t"
        ".p2align 2\n" /* the section word-aligned: the ADRs above hold wherever the linker puts it */
        "10:\n\t"
        TQ_PW8_PIXEL
        "1:\n\t"
        TQ_PW8_CHANNELS4
        "5:\n\t"
        TQ_PW8_CHANNELS4
        "6:\n\t"
        TQ_PW8_CHANNELS4
        "7:\n\t"
        TQ_PW8_CHANNELS4
        "ldr r0, [sp, #8]\n\t"
        "cmp r2, r0\n\t"
        "bne 1b\n\t"
        "ldr r0, [sp, #12]\n\t"
        "cmp r1, r0\n\t"
        "beq 9f\n\t"
        "ldr pc, [sp, #16]\n"
        "11:\n\t"
        TQ_PW8_PIXEL
        "b 7b\n"
        "12:\n\t"
        TQ_PW8_PIXEL
        "b 6b\n"
        "13:\n\t"
        TQ_PW8_PIXEL
        "b 5b\n"
        "9:\n\t"
        "add sp, sp, #24\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* The whole call: the records in the scratch (out_c records of TQ_CONV_PW8_WORDS words fit: the generator's
 * condition), then every pixel. */
static void pw8(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t *const rec = (int32_t *)p->scratch;
    pw8_records(p, rec);
    pw8_run(input, output, p->out_h * p->out_w, rec, p->out_c);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_pw8 = {pw8, NULL};

#endif /* TQ_USE_DSP */
