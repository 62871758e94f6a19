/* tq_conv2d_s4_s8.c - 2-D convolution, groups = 1, 4-bit packed weights, int8 activations
 * (the formula of tq_conv2d_s8; the window loop of tq_portable.h with weights unpacked by TQ_S4_WEIGHT,
 * see tq_kernels.h). */
#include "tq_kernels.h"
#include "tq_portable.h"
#include "tq_requant.h"

void tq_conv2d_s4_s8(const tq_conv2d_s4_s8_params *params, const int8_t *input, int8_t *output)
{
    TQ_CONV2D_WINDOW_LOOP(params, input, output, uint8_t, TQ_S4_WEIGHT_AT);
}
