/*
 * tq_conv2d_s8_pw16.c - the DSP conv's path for pointwise layers with 16 input channels, published as
 * tq_conv2d_s8_pw16: tq_conv_dsp.h's pwk block unrolled for K = 16 (P = 8 column pairs; see tq_conv_dsp.h, "The pwk
 * paths", for the method, the conditions and the in-place contract). The generator ships this file, and sets
 * params->dsp_path = &tq_conv2d_s8_pw16 under TQ_USE_DSP, only for default (size) builds with such a layer
 * (tinyqat/codegen/layouts.py, conv_dsp_path), so other builds do not link it. Cores without the DSP extension
 * compile nothing here.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP

/* Columns at sp + TQ_PWK_C0 and sp + 48, frame 80 bytes. */
__attribute__((naked, noinline)) static void pwk_block16(TQ_ASM_ARG const int8_t *src0, TQ_ASM_ARG const int8_t *src1,
                                                         TQ_ASM_ARG int32_t nzp2, TQ_ASM_ARG const tq_pwk_job *job)
{
    __asm__ volatile(TQ_PWK_BLOCK(
        "80",
        TQ_PWK_COLUMN16("r1", "48 + 0")
        TQ_PWK_COLUMN16("r0", "16 + 0"),
        TQ_PWK_PAIRS("7", "48", TQ_PWK_MID6("1", "48"), "!", "")));
}

static void pw16(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    tq_pwk_run(p, input, output, pwk_block16);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_pw16 = {pw16, NULL};

#endif /* TQ_USE_DSP */
