/* tq_prelu_s8.c - int8 PReLU with one alpha per channel, TFLite PRELU rules, in place allowed
 * (see tq_kernels.h for the formula). */
#include "tq_kernels.h"
#include "tq_requant.h"

void tq_prelu_s8(const tq_prelu_s8_params *params, const int8_t *input, int8_t *output)
{
    const int32_t channels = params->channels;
    int32_t p;
    int32_t c;
    for (p = 0; p < params->positions; ++p) {
        const int8_t *x = input + p * channels;
        int8_t *y = output + p * channels;
        for (c = 0; c < channels; ++c) {
            const int32_t centered = (int32_t)x[c] - params->input_zero_point;
            const int32_t scaled = centered >= 0
                ? tq_mbqm(centered, params->multiplier_pos, params->shift_pos)
                : tq_mbqm(centered * (int32_t)params->alpha[c], params->multiplier_neg, params->shift_neg);
            y[c] = (int8_t)tq_clamp_s32(scaled + params->output_zero_point, -128, 127);
        }
    }
}
