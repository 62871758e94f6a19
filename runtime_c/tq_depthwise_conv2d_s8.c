/* tq_depthwise_conv2d_s8.c - int8 depthwise convolution with depth multiplier (see tq_kernels.h). */
#include "tq_kernels.h"

/* Every build: the scratch rules of tq_kernels.h (the portable kernel itself ignores the buffer). */
int32_t tq_depthwise_conv2d_s8_dsp_buffer_size(const tq_depthwise_conv2d_s8_params *params)
{
    const tq_depthwise_conv2d_s8_params *p = params;
    return TQ_DEPTHWISE_CONV2D_S8_DSP_BUFFER_SIZE(p->kernel_h, p->kernel_w, p->depth_multiplier, p->stride_h,
                                                  p->stride_w, p->pad_top, p->pad_left, p->requant_fused, p->in_c,
                                                  p->out_w);
}

int32_t tq_depthwise_conv2d_s8_v6m_buffer_size(const tq_depthwise_conv2d_s8_params *params)
{
    const tq_depthwise_conv2d_s8_params *p = params;
    return TQ_DEPTHWISE_CONV2D_S8_V6M_BUFFER_SIZE(p->out_h, p->out_w, p->kernel_h, p->kernel_w, p->stride_h,
                                                  p->stride_w);
}

int32_t tq_depthwise_conv2d_s8_get_buffer_size(const tq_depthwise_conv2d_s8_params *params)
{
#if TQ_USE_V6M
    return tq_depthwise_conv2d_s8_v6m_buffer_size(params);
#elif TQ_USE_MVE
    (void)params; /* the Helium kernel uses no scratch */
    return 0;
#else
    return tq_depthwise_conv2d_s8_dsp_buffer_size(params);
#endif
}

/* Cores with the DSP extension compile tq_depthwise_conv2d_s8_dsp.c instead, Armv6-M cores
 * tq_depthwise_conv2d_s8_v6m.c, Helium cores tq_depthwise_conv2d_s8_mve.c (same function, same result). */
#if !TQ_USE_DSP && !TQ_USE_V6M && !TQ_USE_MVE
#include "tq_portable.h"

/* The loop lives in tq_portable.h, shared with the DSP kernel's fallback. */
void tq_depthwise_conv2d_s8(const tq_depthwise_conv2d_s8_params *params, const int8_t *input, int8_t *output)
{
    tq_depthwise_conv2d_s8_portable(params, input, output);
}

#endif /* !TQ_USE_DSP && !TQ_USE_V6M && !TQ_USE_MVE */
