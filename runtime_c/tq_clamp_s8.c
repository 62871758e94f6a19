/* tq_clamp_s8.c - int8 elementwise clamp, in place allowed (see tq_kernels.h). */
#include "tq_kernels.h"
#include "tq_requant.h"

void tq_clamp_s8(const tq_clamp_s8_params *params, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < params->size; ++i) {
        output[i] = (int8_t)tq_clamp_s32(input[i], params->lo, params->hi);
    }
}
