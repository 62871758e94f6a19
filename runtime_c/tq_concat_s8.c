/* tq_concat_s8.c - int8 concatenation along channels with requantization (see tq_kernels.h); the loop of one
 * input is tq_portable.h's tq_concat_s8_input_portable, which tq_concat_s8_dsp.c shares. */
#include "tq_kernels.h"

#if !TQ_USE_DSP /* cores with the DSP extension: tq_concat_s8_dsp.c */
#include "tq_portable.h"

void tq_concat_s8(const tq_concat_s8_params *params, const int8_t *const *inputs, int8_t *output)
{
    int32_t k, first = 0; /* output channel of input k's first channel */
    for (k = 0; k < params->num_inputs; ++k) {
        tq_concat_s8_input_portable(params, k, inputs[k], first, output);
        first += params->channels[k];
    }
}
#endif
