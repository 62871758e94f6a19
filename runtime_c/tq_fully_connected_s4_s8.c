/* tq_fully_connected_s4_s8.c - fully connected, per channel, 4-bit packed weights, int8 activations
 * (the formula of tq_fully_connected_s8; weights unpacked with TQ_S4_WEIGHT, see tq_kernels.h). */
#include "tq_kernels.h"
#include "tq_portable.h"
#include "tq_requant.h"

void tq_fully_connected_s4_s8(const tq_fully_connected_s4_s8_params *params, const int8_t *input,
                              int8_t *output)
{
    const tq_fully_connected_s4_s8_params *p = params;
    int32_t c, i;
    for (c = 0; c < p->out_features; ++c) {
        const int32_t k = c * p->in_features; /* flat index of w[c][0] */
        int32_t acc = 0; /* int32 accumulator, as TFLite */
        for (i = 0; i < p->in_features; ++i) {
            acc += TQ_S4_WEIGHT(p->weights, k + i) * ((int32_t)input[i] - p->input_zero_point);
        }
        acc += p->bias[c];
        output[c] = tq_requantize_s8_portable(acc, p->multiplier[c], p->shift[c], p->output_zero_point,
                                              p->act_min, p->act_max);
    }
}
