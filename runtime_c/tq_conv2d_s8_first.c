/*
 * tq_conv2d_s8_first.c - the DSP conv's first-layer path with the int8 weight layout (default builds), published as
 * tq_conv2d_s8_first: 3 x 3 convs of a 3-channel input, the method in tq_conv_first.h. The generator ships this file,
 * and sets params->dsp_path = &tq_conv2d_s8_first under TQ_USE_DSP, only for packages with such a layer
 * (tinyqat/codegen/layouts.py, conv_dsp_path: a default build up to 8 output channels), so other builds do not link
 * it; speed builds take tq_conv2d_s8_first16.c instead. Cores without the DSP extension compile nothing here.
 */
#include "tq_conv_first.h"

#if TQ_USE_DSP

/* The int8 layout widened into the scratch once per call (tq_first_run with no int16 weights). */
static void first_run8(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    tq_first_run(p, input, output, NULL);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_first = {first_run8, NULL};

#endif /* TQ_USE_DSP */
