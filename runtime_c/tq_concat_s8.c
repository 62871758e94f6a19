/* tq_concat_s8.c - int8 concatenation along channels with requantization (see tq_kernels.h). */
#include "tq_kernels.h"
#include "tq_portable.h"
#include "tq_requant.h"

#define TQ_UNIT_MULTIPLIER ((int32_t)1 << 30) /* QM(1.0) = (2^30, shift 1) */

void tq_concat_s8(const tq_concat_s8_params *params, const int8_t *const *inputs, int8_t *output)
{
    const tq_concat_s8_params *p = params;
    int32_t k, px, i;
    int32_t first = 0; /* output channel of input k's first channel */
    for (k = 0; k < p->num_inputs; ++k) {
        const int8_t *x = inputs[k];
        const int32_t channels = p->channels[k];
        const int32_t zp = p->zero_point[k];
        const int32_t q = p->multiplier[k];
        const int32_t shift = p->shift[k];
        const int copy = q == TQ_UNIT_MULTIPLIER && shift == 1 && zp == p->output_zero_point;
        for (px = 0; px < p->positions; ++px) {
            const int8_t *src = x + px * channels;
            int8_t *dst = output + px * p->out_c + first;
            if (copy) {
                for (i = 0; i < channels; ++i) {
                    dst[i] = src[i];
                }
            } else {
                for (i = 0; i < channels; ++i) {
                    dst[i] = tq_requantize_s8_portable((int32_t)src[i] - zp, q, shift, p->output_zero_point,
                                                       INT8_MIN, INT8_MAX);
                }
            }
        }
        first += channels;
    }
}
