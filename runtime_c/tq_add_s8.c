/* tq_add_s8.c - int8 elementwise add, TFLite ADD rules (see tq_kernels.h for the formula). */
#include "tq_kernels.h"

/* Cores with the DSP extension compile tq_add_s8_dsp.c instead, Armv6-M cores tq_add_s8_v6m.c, Helium cores
 * tq_add_s8_mve.c (same function, same result). */
#if !TQ_USE_DSP && !TQ_USE_V6M && !TQ_USE_MVE
#include "tq_portable.h"

/* The loop lives in tq_portable.h, shared with the DSP kernel's fallback. */
void tq_add_s8(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    tq_add_s8_portable(params, input1, input2, output);
}

#endif /* !TQ_USE_DSP && !TQ_USE_V6M && !TQ_USE_MVE */
