/*
 * tq_conv2d_s8_window.c - the DSP conv's path for a layer without its columns (params->scratch NULL: no scratch
 * planned, or K above TQ_CONV_DSP_COLUMN_MAX): the portable window loop on the IR-order int8 weights
 * (tq_conv2d_s8_window_portable, tq_portable.h), published as tq_conv2d_s8_window. The generator ships this
 * file, and sets params->dsp_path = &tq_conv2d_s8_window under TQ_USE_DSP, only for packages with such a conv
 * layer, so other builds neither compile nor link the loop into the DSP conv. Cores without the DSP extension
 * compile nothing here (tq_conv2d_s8.c and tq_conv2d_s8_v6m.c carry their own loops).
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP
#include "tq_portable.h"

static void window_run(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    tq_conv2d_s8_window_portable(params, input, output);
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_window = {window_run, NULL};

#endif /* TQ_USE_DSP */
