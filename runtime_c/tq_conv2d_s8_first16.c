/*
 * tq_conv2d_s8_first16.c - the DSP conv's first-layer path with the int16 speed layout (weights_s16; tinyqat build
 * --optimize speed), published as tq_conv2d_s8_first16: 3 x 3 convs of a 3-channel input, the method in
 * tq_conv_first.h. The generator ships this file, and sets params->dsp_path = &tq_conv2d_s8_first16 under
 * TQ_USE_DSP, only for speed packages with such a layer (tinyqat/codegen/layouts.py, conv_dsp_path), so a default
 * build never links it. Its layers ship weights_s16; without them (a package whose plan gave the layer no DSP
 * weights) it runs the portable window loop on the IR-order weights. Cores without the DSP extension compile
 * nothing here.
 */
#include "tq_conv_first.h"

#if TQ_USE_DSP
#include "tq_portable.h"

static void first_run16(const tq_conv2d_s8_params *p, const int8_t *input, int8_t *output)
{
    if (p->weights_s16 == NULL) {
        tq_conv2d_s8_window_portable(p, input, output);
        return;
    }
    tq_first_run(p, input, output, p->weights_s16);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_first16 = {first_run16, NULL};

#endif /* TQ_USE_DSP */
