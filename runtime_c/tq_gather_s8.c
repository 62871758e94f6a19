/* tq_gather_s8.c - per-pixel channel gather, in place below a strictly increasing index (see tq_kernels.h).
 * The sizes and the index pointer are read once (a store to output may alias *params for all the compiler knows);
 * four channels per step, their four bytes read before any is written: in place, output p * out_c + j never lies
 * above input p * in_c + index[j] (out_c <= in_c, index strictly increasing), so reading ahead stays safe. */
#include "tq_kernels.h"

void tq_gather_s8(const tq_gather_s8_params *params, const int8_t *input, int8_t *output)
{
    const int32_t *const index = params->index;
    const int32_t positions = params->positions, in_c = params->in_c, out_c = params->out_c;
    int32_t p, j;
    for (p = 0; p < positions; ++p) {
        const int8_t *src = input + p * in_c;
        int8_t *dst = output + p * out_c;
        for (j = 0; j + 4 <= out_c; j += 4) {
            const int8_t v0 = src[index[j]], v1 = src[index[j + 1]], v2 = src[index[j + 2]], v3 = src[index[j + 3]];
            dst[j] = v0;
            dst[j + 1] = v1;
            dst[j + 2] = v2;
            dst[j + 3] = v3;
        }
        for (; j < out_c; ++j) {
            dst[j] = src[index[j]];
        }
    }
}
