/* tq_lookup_s8.c - int8 -> int8 table lookup, in place allowed (see tq_kernels.h). */
#include "tq_kernels.h"

#if !TQ_USE_DSP /* cores with the DSP extension: tq_lookup_s8_dsp.c */
/* The table pointer and the size are read once: output[i] may alias *params for all the compiler knows. */
void tq_lookup_s8(const tq_lookup_s8_params *params, const int8_t *input, int8_t *output)
{
    const int8_t *const t = params->table + 128;
    const int32_t n = params->size;
    int32_t i;
    for (i = 0; i < n; ++i) {
        output[i] = t[input[i]];
    }
}
#endif
