/* tq_mul_s8.c - int8 elementwise multiply with per-channel broadcast, TFLite MUL rules, in place allowed
 * (see tq_kernels.h for the formula; the loop is tq_portable.h's tq_mul_s8_portable, which
 * tq_mul_s8_dsp.c shares for its remainder channels). tq_mul_const_s8 is the same kernel with the layer's
 * constant as the broadcast input 2. */
#include "tq_kernels.h"
#include "tq_portable.h"

#if !TQ_USE_DSP /* cores with the DSP extension: tq_mul_s8_dsp.c */
void tq_mul_s8(const tq_mul_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    tq_mul_s8_portable(params, input1, input2, output, 0);
}
#endif

void tq_mul_const_s8(const tq_mul_const_s8_params *params, const int8_t *input, int8_t *output)
{
    tq_mul_s8(params, input, params->constant, output);
}
