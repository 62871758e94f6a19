/* tq_reshape_s8.c - the same bytes under another shape; nothing moves in place (see tq_kernels.h). */
#include "tq_kernels.h"

void tq_reshape_s8(const tq_reshape_s8_params *params, const int8_t *input, int8_t *output)
{
    int32_t i;
    if (output == input) {
        return;
    }
    for (i = 0; i < params->size; ++i) {
        output[i] = input[i];
    }
}
