/* tq_lookup_s8.c - int8 -> int8 table lookup, in place allowed (see tq_kernels.h). */
#include "tq_kernels.h"

void tq_lookup_s8(const tq_lookup_s8_params *params, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < params->size; ++i) {
        output[i] = params->table[(int32_t)input[i] + 128];
    }
}
