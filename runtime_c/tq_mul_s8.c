/* tq_mul_s8.c - int8 elementwise multiply with per-channel broadcast, TFLite MUL rules, in place allowed
 * (see tq_kernels.h for the formula). |product| <= 255 * 255 < 2^30, so with a right shift (shift <= -1)
 * the fused output stage tq_requantize_s8_fused equals tq_requantize_s8 (tq_requant.h) and is used.
 * tq_mul_const_s8 is the same kernel with the layer's constant as the broadcast input 2. */
#include "tq_kernels.h"
#include "tq_requant.h"

void tq_mul_s8(const tq_mul_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t channels = params->channels;
    const int32_t step2 = params->broadcast != 0 ? 0 : channels;
    const int32_t q = params->multiplier;
    const int32_t shift = params->shift;
    const int32_t zp1 = params->input1_zero_point;
    const int32_t zp2 = params->input2_zero_point;
    const int32_t zp_out = params->output_zero_point;
    const int32_t lo = params->act_min;
    const int32_t hi = params->act_max;
    int32_t p;
    int32_t c;
    for (p = 0; p < params->positions; ++p) {
        const int8_t *a = input1 + p * channels;
        const int8_t *b = input2 + p * step2;
        int8_t *y = output + p * channels;
        for (c = 0; c < channels; ++c) {
            const int32_t product = ((int32_t)a[c] - zp1) * ((int32_t)b[c] - zp2);
            y[c] = shift <= -1 ? (int8_t)tq_requantize_s8_fused(product, q, -shift, zp_out, lo, hi)
                               : tq_requantize_s8(product, q, shift, zp_out, lo, hi);
        }
    }
}

void tq_mul_const_s8(const tq_mul_const_s8_params *params, const int8_t *input, int8_t *output)
{
    tq_mul_s8(params, input, params->constant, output);
}
