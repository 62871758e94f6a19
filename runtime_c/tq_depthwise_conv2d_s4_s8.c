/* tq_depthwise_conv2d_s4_s8.c - depthwise convolution with depth multiplier, 4-bit packed weights,
 * int8 activations (the formula of tq_depthwise_conv2d_s8; the depthwise loop of tq_portable.h with
 * weights unpacked by TQ_S4_WEIGHT). */
#include "tq_kernels.h"
#include "tq_portable.h"
#include "tq_requant.h"

void tq_depthwise_conv2d_s4_s8(const tq_depthwise_conv2d_s4_s8_params *params, const int8_t *input,
                               int8_t *output)
{
    TQ_DEPTHWISE_LOOP(params, input, output, uint8_t, TQ_S4_WEIGHT_AT);
}
