/* tq_fully_connected_s8.c - int8 fully connected, per channel (see tq_kernels.h for the formula). */
#include "tq_kernels.h"

/* Cores with the DSP extension compile tq_fully_connected_s8_dsp.c instead (same function, same result). */
#if !defined(__ARM_FEATURE_DSP) || defined(TQ_PORTABLE)
#include "tq_requant.h"

void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_fully_connected_s8_params *p = params;
    int32_t c, i;
    for (c = 0; c < p->out_features; ++c) {
        const int8_t *w = p->weights + c * p->in_features;
        int32_t acc = 0; /* int32 accumulator, as TFLite */
        for (i = 0; i < p->in_features; ++i) {
            acc += (int32_t)w[i] * ((int32_t)input[i] - p->input_zero_point);
        }
        acc += p->bias[c];
        output[c] = tq_requantize_s8(acc, p->multiplier[c], p->shift[c], p->output_zero_point,
                                     p->act_min, p->act_max);
    }
}

#endif /* !__ARM_FEATURE_DSP || TQ_PORTABLE */
