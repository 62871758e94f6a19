/* tq_prelu_s8.c - int8 PReLU with one alpha per channel, TFLite PRELU rules, in place allowed
 * (see tq_kernels.h for the formula). |x_c| <= 255 and |x_c * alpha| <= 255 * 127 are below 2^30, so
 * with a right shift the fused output stage tq_requantize_s8_fused equals tq_requantize_s8 (tq_requant.h)
 * and is used. */
#include "tq_kernels.h"
#include "tq_requant.h"

/* clamp(mbqm(v, q, shift) + zero_point, -128, 127) for |v| < 2^30. */
static int8_t prelu_requantize(int32_t v, int32_t q, int32_t shift, int32_t zero_point)
{
    return shift <= -1 ? (int8_t)tq_requantize_s8_fused(v, q, -shift, zero_point, -128, 127)
                       : tq_requantize_s8(v, q, shift, zero_point, -128, 127);
}

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
            y[c] = centered >= 0
                ? prelu_requantize(centered, params->multiplier_pos, params->shift_pos, params->output_zero_point)
                : prelu_requantize(centered * (int32_t)params->alpha[c], params->multiplier_neg, params->shift_neg,
                                   params->output_zero_point);
        }
    }
}
