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
 * Per output: 2 LDM, 4 SMLAD, 4 output-stage instructions and a byte store (about 20 estimated cycles for
 * 8 MACs).
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

/* One channel of pw8_run: its record from r2 (advanced), the pixel's pairs in r4-r7, the byte to r1 (advanced). */
#define TQ_PW8_CHANNEL                                                                             \
    "ldm r2!, {r3, r8, r9, r10, r11}\n\t"                                                         \
    "smlad r11, r4, r3, r11\n\t"                                                                  \
    "smlad r11, r5, r8, r11\n\t"                                                                  \
    "smlad r11, r6, r9, r11\n\t"                                                                  \
    "smlad r11, r7, r10, r11\n\t"                                                                 \
    "ldm r2!, {r3, r8, r9}\n"                                                                      \
    TQ_REQUANT_FUSED2_FOLDED_ASM("r11", "r3", "r8", "r9", "r12")                                  \
    "\tstrb r11, [r1], #1\n\t"

/* pixels >= 1 pixels from input (8 bytes each) to output (out_c bytes each); records .. records_end: the
 * out_c records (out_c a multiple of 4), four channels per loop iteration. AAPCS: r0 = input, r1 = output,
 * r2 = pixels, r3 = records; stack: records_end. */
__attribute__((naked, noinline)) static void pw8_run(TQ_ASM_ARG const int8_t *input, TQ_ASM_ARG int8_t *output,
                                                     TQ_ASM_ARG int32_t pixels, TQ_ASM_ARG const int32_t *records,
                                                     TQ_ASM_ARG const int32_t *records_end)
{
    __asm__ volatile(
        "push {r4-r11, lr}\n\t"
        "ldr lr, [sp, #36]\n\t"
        "sub sp, sp, #8\n\t"
        "strd r3, r2, [sp]\n"
        "0:\n\t"
        "ldr r3, [r0]\n\t"
        "ldr r12, [r0, #4]\n\t"
        "add r0, r0, #8\n\t"
        "sxtb16 r4, r3\n\t"
        "sxtb16 r5, r3, ror #8\n\t"
        "sxtb16 r6, r12\n\t"
        "sxtb16 r7, r12, ror #8\n\t"
        "ldr r2, [sp]\n"
        "1:\n\t"
        TQ_PW8_CHANNEL TQ_PW8_CHANNEL TQ_PW8_CHANNEL TQ_PW8_CHANNEL
        "cmp r2, lr\n\t"
        "bne 1b\n\t"
        "ldr r3, [sp, #4]\n\t"
        "subs r3, r3, #1\n\t"
        "str r3, [sp, #4]\n\t"
        "bne 0b\n\t"
        "add sp, sp, #8\n\t"
        "pop {r4-r11, pc}\n\t");
}

/* The whole call: the records in the scratch (out_c records of TQ_CONV_PW8_WORDS words fit: the generator's
 * condition), then every pixel. */
static void pw8(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t *const rec = (int32_t *)p->scratch;
    pw8_records(p, rec);
    pw8_run(input, output, p->out_h * p->out_w, rec, rec + TQ_CONV_PW8_WORDS * p->out_c);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_pw8 = {pw8, NULL};

#endif /* TQ_USE_DSP */
