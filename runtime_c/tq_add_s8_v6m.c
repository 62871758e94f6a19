/*
 * tq_add_s8_v6m.c - int8 elementwise add for Armv6-M (Cortex-M0 / M0+: MULS 32 x 32 -> 32, no 64-bit multiply),
 * the same function and result as tq_add_s8.c (formula: tq_kernels.h).
 *
 * Table path (params->table set by the generator; its conditions in tq_kernels.h): input 1's rescaled value
 * doubled is 2a = (x1 - zp1) * 2^20 = x1 * 2^20 - zp1 * 2^20, and table[(uint8_t)x2] = 2b - zp1 * 2^20, so
 * acc2 = 2 * (a + b) = x1 * 2^20 + table[(uint8_t)x2], even, with |a + b| <= 255 * 2^19 + 255 * 2^19 < 2^30; the output stage is
 * tq_requantize_s8_v6m_fused(acc2 >> 1, q, e, ...) (tq_requant.h), equal to tq_requantize_s8 for accumulators
 * in [-2^30, 2^30 - 1] and e = -output_shift in [1, 31].
 * Otherwise every MultiplyByQuantizedMultiplier is tq_mbqm_v6m and the output stage tq_requantize_s8_v6m
 * (equal to tq_mbqm / tq_requantize_s8 for every input; sat32(a + b) adds in int64, ADDS / ADCS), so no
 * __aeabi_lmul call on either path.
 * Elementwise, element i read before it is written: in place as tq_kernels.h allows.
 */
#include "tq_kernels.h"

#if TQ_USE_V6M
#include "tq_requant.h"
#include <stddef.h>

void tq_add_s8(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const tq_add_s8_params *p = params;
    const int32_t n = p->size, zp_out = p->output_zero_point, lo = p->act_min, hi = p->act_max;
    int32_t i;
    if (p->table != NULL) {
        const int32_t *table = p->table;
        const int32_t q = p->output_multiplier, e = -p->output_shift;
        for (i = 0; i < n; ++i) {
            const int32_t acc2 = input1[i] * (1 << 20) + table[(uint8_t)input2[i]];
            output[i] = tq_requantize_s8_v6m_fused(acc2 >> 1, q, e, zp_out, lo, hi);
        }
    } else {
        const int32_t scale = (int32_t)1 << p->left_shift; /* |x - zp| * 2^L <= 255 * 2^22 < 2^31 */
        const int32_t zp1 = p->input1_zero_point, zp2 = p->input2_zero_point;
        const int32_t step = p->broadcast ? p->channels : n; /* elements of input2 per pass */
        int32_t base;
        for (base = 0; base < n; base += step) {
            const int8_t *in2 = p->broadcast ? input2 : input2 + base;
            for (i = 0; i < step; ++i) {
                const int32_t a = tq_mbqm_v6m((input1[base + i] - zp1) * scale, p->multiplier1, p->shift1);
                const int32_t b = tq_mbqm_v6m((in2[i] - zp2) * scale, p->multiplier2, p->shift2);
                const int64_t sum = p->subtract == 2 ? (int64_t)b - a
                                    : p->subtract ? (int64_t)a - b : (int64_t)a + b;
                output[base + i] = tq_requantize_s8_v6m(tq_sat_s32(sum), p->output_multiplier, p->output_shift,
                                                        zp_out, lo, hi);
            }
        }
    }
}

#endif /* TQ_USE_V6M */
