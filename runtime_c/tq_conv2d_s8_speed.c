/*
 * tq_conv2d_s8_speed.c - the DSP conv's block for the int16 speed layout (tinyqat build --optimize speed):
 * block_4x2, tq_conv_dsp.h's TQ_CONV_BLOCK32 assembly with TQ_CONV_PAIR (56 code bytes; weights pre-extended
 * to int16, no SXTB16; 16 estimated cycles per 16 MACs), published as tq_conv2d_s8_speed. The generator ships this
 * file, and sets params->speed_blocks = &tq_conv2d_s8_speed, only for packages with a layer in the speed
 * layout, so a default build neither compiles nor links it. Cores without the DSP extension compile nothing
 * here (their packages read the int8 weights).
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP
__attribute__((naked, noinline)) static void block_4x2(TQ_ASM_ARG const int16_t *col, TQ_ASM_ARG const void *w,
                                                       TQ_ASM_ARG int32_t pairs, TQ_ASM_ARG block_job *job)
{
    __asm__ volatile(TQ_CONV_BLOCK32(TQ_CONV_PAIR, 56));
}

const tq_conv2d_s8_speed_blocks tq_conv2d_s8_speed = {block_4x2};

#endif /* TQ_USE_DSP */
