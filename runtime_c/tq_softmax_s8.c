/* tq_softmax_s8.c - int8 softmax over the last axis with an int32 exp table (see tq_kernels.h). */
#include "tq_kernels.h"
#include "tq_requant.h"

void tq_softmax_s8(const tq_softmax_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_softmax_s8_params *p = params;
    int32_t r, i;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + r * p->row_size;
        int8_t *y = output + r * p->row_size;
        int32_t max = INT8_MIN;
        int32_t sum = 0; /* exp_table[0] = 2^16 <= sum < 2^16 * 2^15 = 2^31 */
        for (i = 0; i < p->row_size; ++i) {
            max = x[i] > max ? x[i] : max;
        }
        for (i = 0; i < p->row_size; ++i) {
            sum += p->exp_table[max - x[i]];
        }
        /* x[i] is read before y[i] is written and never after: in place is safe. */
        for (i = 0; i < p->row_size; ++i) {
            const int32_t e = p->exp_table[max - x[i]];
            y[i] = (int8_t)tq_clamp_s32((e * 256 + sum / 2) / sum - 128, INT8_MIN, INT8_MAX);
        }
    }
}
