/* tq_fully_connected_s8.c - int8 fully connected, per channel (see tq_kernels.h for the formula). */
#include "tq_kernels.h"

/* Cores with the DSP extension compile tq_fully_connected_s8_dsp.c instead, Armv6-M cores
 * tq_fully_connected_s8_v6m.c, Helium cores tq_fully_connected_s8_mve.c (same function, same result). */
#if !TQ_USE_DSP && !TQ_USE_V6M && !TQ_USE_MVE
#include "tq_portable.h"

/* The loop lives in tq_portable.h, with the other kernels that have a DSP companion. */
void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output)
{
    tq_fully_connected_s8_portable(params, input, output);
}

#endif /* !TQ_USE_DSP && !TQ_USE_V6M && !TQ_USE_MVE */
