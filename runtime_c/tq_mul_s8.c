/* tq_mul_s8.c - int8 elementwise multiply with per-channel broadcast, TFLite MUL rules, in place allowed
 * (see tq_kernels.h for the formula). */
#include "tq_kernels.h"
#include "tq_requant.h"

void tq_mul_s8(const tq_mul_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t channels = params->channels;
    const int32_t step2 = params->broadcast != 0 ? 0 : channels;
    int32_t p;
    int32_t c;
    for (p = 0; p < params->positions; ++p) {
        const int8_t *a = input1 + p * channels;
        const int8_t *b = input2 + p * step2;
        int8_t *y = output + p * channels;
        for (c = 0; c < channels; ++c) {
            const int32_t product = ((int32_t)a[c] - params->input1_zero_point)
                                    * ((int32_t)b[c] - params->input2_zero_point);
            const int32_t scaled = tq_mbqm(product, params->multiplier, params->shift) + params->output_zero_point;
            y[c] = (int8_t)tq_clamp_s32(scaled, params->act_min, params->act_max);
        }
    }
}
