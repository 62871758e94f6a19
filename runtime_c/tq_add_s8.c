/* tq_add_s8.c - int8 elementwise add, TFLite ADD rules (see tq_kernels.h for the formula). */
#include "tq_kernels.h"

/* Cores with the DSP extension compile tq_add_s8_dsp.c instead (same function, same result). */
#if !TQ_USE_DSP
#include "tq_requant.h"

void tq_add_s8(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const tq_add_s8_params *p = params;
    const int32_t scale = (int32_t)1 << p->left_shift; /* |x - zp| * 2^L <= 255 * 2^22 < 2^31 */
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t a = tq_mbqm(((int32_t)input1[i] - p->input1_zero_point) * scale, p->multiplier1, p->shift1);
        const int32_t b = tq_mbqm(((int32_t)input2[i] - p->input2_zero_point) * scale, p->multiplier2, p->shift2);
        output[i] = tq_requantize_s8(tq_sat_s32((int64_t)a + b), p->output_multiplier, p->output_shift,
                                     p->output_zero_point, p->act_min, p->act_max);
    }
}

#endif /* !TQ_USE_DSP */
