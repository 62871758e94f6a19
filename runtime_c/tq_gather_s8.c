/* tq_gather_s8.c - per-pixel channel gather, in place below a strictly increasing index (see tq_kernels.h). */
#include "tq_kernels.h"

void tq_gather_s8(const tq_gather_s8_params *params, const int8_t *input, int8_t *output)
{
    const int32_t *index = params->index;
    int32_t p, j;
    for (p = 0; p < params->positions; ++p) {
        const int8_t *src = input + p * params->in_c;
        int8_t *dst = output + p * params->out_c;
        for (j = 0; j < params->out_c; ++j) {
            dst[j] = src[index[j]];
        }
    }
}
