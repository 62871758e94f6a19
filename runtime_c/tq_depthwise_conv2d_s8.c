/* tq_depthwise_conv2d_s8.c - int8 depthwise convolution with depth multiplier (see tq_kernels.h). */
#include "tq_kernels.h"

/* Cores with the DSP extension compile tq_depthwise_conv2d_s8_dsp.c instead (same function, same result). */
#if !TQ_USE_DSP
#include "tq_portable.h"

/* The loop lives in tq_portable.h, shared with the DSP kernel's fallback. */
void tq_depthwise_conv2d_s8(const tq_depthwise_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    tq_depthwise_conv2d_s8_portable(params, input, output);
}

#endif /* !TQ_USE_DSP */
