/*
 * tq_conv2d_s8_pws32.c - the DSP conv's path for pointwise layers with 32 input channels in speed builds, published
 * as tq_conv2d_s8_pws32: tq_conv_dsp.h's pws quad block for K = 32 and its pair block with 4 column pairs per
 * iteration (see tq_conv_dsp.h, "The pws paths", for the method, the weights' records, the conditions and the
 * in-place contract). The generator ships this file, and sets params->dsp_path = &tq_conv2d_s8_pws32 under
 * TQ_USE_DSP, only for speed builds with such a layer (tinyqat/codegen/layouts.py, conv_dsp_path), so other builds
 * do not link it. Cores without the DSP extension compile nothing here.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP

__attribute__((naked, noinline)) static void pws_block32(TQ_ASM_ARG const int8_t *src0, TQ_ASM_ARG const int8_t *src1,
                                                         TQ_ASM_ARG int32_t nzp2, TQ_ASM_ARG const tq_pws_job *job)
{
    __asm__ volatile(TQ_PWS_LOOP_BLOCK("4"));
}

__attribute__((naked, noinline)) static void pws_quad32(TQ_ASM_ARG const int8_t *src, TQ_ASM_ARG const int8_t *stop,
                                                        TQ_ASM_ARG int32_t nzp2, TQ_ASM_ARG const tq_pws_job *job)
{
    __asm__ volatile(TQ_PWS_QUAD("32"));
}

/* pws_quad32 for the groups of four pixels, then pws_block32 for a remaining pair and for the last pixel alone (odd
 * count: computed twice, written twice at the same place). */
static void pws32(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    tq_pws_run(p, input, output, pws_quad32, pws_block32, pws_block32);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_pws32 = {pws32, NULL};

#endif /* TQ_USE_DSP */
