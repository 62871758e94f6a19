/* tq_conv2d_s8.c - int8 2-D convolution, groups = 1 (see tq_kernels.h for the formula). */
#include "tq_kernels.h"

/* Every build: the scratch rules of tq_kernels.h (the portable kernel itself ignores the buffer). */
int32_t tq_conv2d_s8_get_buffer_size(const tq_conv2d_s8_params *params)
{
#if TQ_USE_V6M || TQ_USE_MVE
    return TQ_CONV2D_S8_BUFFER_SIZE(params->kernel_h, params->kernel_w, params->in_c);
#else
    return TQ_CONV2D_S8_DSP_BUFFER_SIZE(params->kernel_h, params->kernel_w, params->in_c, params->out_c,
                                        params->requant_fused);
#endif
}

/* Cores with the DSP extension compile tq_conv2d_s8_dsp.c instead, Armv6-M cores tq_conv2d_s8_v6m.c,
 * Helium cores tq_conv2d_s8_mve.c (same function, same result). */
#if !TQ_USE_DSP && !TQ_USE_V6M && !TQ_USE_MVE
#include "tq_portable.h"

/* The loop lives in tq_portable.h, shared with the DSP kernel's fallback. */
void tq_conv2d_s8(const tq_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    tq_conv2d_s8_portable(params, input, output);
}

#endif /* !TQ_USE_DSP && !TQ_USE_V6M && !TQ_USE_MVE */
