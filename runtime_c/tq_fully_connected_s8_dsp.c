/*
 * tq_fully_connected_s8_dsp.c - int8 fully connected for cores with the DSP extension, the same function and
 * result as tq_fully_connected_s8.c (see tq_kernels.h for the formula).
 *
 * Every layer of a package built for a DSP board names its path (params->dsp_path, the generator's choice
 * tinyqat/codegen/layouts.py fc_dsp_path), each in a runtime file of its own that a package ships only with a
 * layer running it: tq_fully_connected_s8_general.c (any shape, the row-pair layout; its comment has the method),
 * or a short layer's path (tq_fully_connected_s8_rows8.c, _rows8p.c, _pairs.c, _k8.c). Params without a path (a
 * package built for a board without DSP kernels, compiled for one with them: no DSP layout) run the portable loop
 * (tq_portable.h) on weights, bias, multiplier and shift.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_portable.h"
#include <stddef.h>

/* The portable loop, a function of its own so that the dispatch below stays two loads and a jump. */
__attribute__((noinline)) static void fc_portable(const tq_fully_connected_s8_params *params, const int8_t *input,
                                                  int8_t *output)
{
    tq_fully_connected_s8_portable(params, input, output);
}

void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output)
{
    if (params->dsp_path != NULL) {
        params->dsp_path->run(params, input, output);
        return;
    }
    fc_portable(params, input, output);
}

#endif /* TQ_USE_DSP */
