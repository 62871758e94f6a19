/*
 * tq_add_s8_general.c - the DSP add of a layer without a table (params->dsp_path = &tq_add_s8_general; see
 * tq_add_s8_dsp.c), in a runtime file of its own: a package ships it only with such a layer
 * (tinyqat/codegen/layouts.py, add_dsp_path), so one whose adds all have tables links none of it.
 *
 * Method: when all three shifts are right shifts or none (shift in [-31, 0], the TFLite ADD
 * preparation gives that: every multiplier below 1), every MultiplyByQuantizedMultiplier is
 * tq_mbqm_fused_pre (one SMLAL, tq_requant.h), provided L <= TQ_ADD_DSP_LEFT_SHIFT_MAX (20, what
 * tinyqat uses): then its arguments stay in [-2^30, 2^30 - 1]: |(x - zp) * 2^L| <= 255 * 2^20 < 2^28,
 * |a|, |b| <= that (q < 2^31, e >= 0), so |a +- b| <= 510 * 2^20 < 2^29 and sat32 never saturates.
 * Otherwise the portable loop (tq_portable.h) runs. Element i is read before it is written: in place as
 * tq_kernels.h allows.
 */
#include "tq_kernels.h"

/* Largest left shift L of the fused path: |a + b| <= 2 * 255 * 2^L must stay in tq_mbqm_fused_pre's range. */
#define TQ_ADD_DSP_LEFT_SHIFT_MAX 20
typedef char tq_add_dsp_left_shift_max_fits[((2 * 255) << TQ_ADD_DSP_LEFT_SHIFT_MAX) <= 0x3FFFFFFF ? 1 : -1];

#if TQ_USE_DSP
#include "tq_portable.h"
#include "tq_requant.h"

static void add_general(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const tq_add_s8_params *p = params;
    const int32_t n = p->size;
    const int32_t zp1 = p->input1_zero_point, zp2 = p->input2_zero_point, zp_out = p->output_zero_point;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t scale = (int32_t)1 << p->left_shift;
    const int32_t sign1 = p->subtract == 2 ? -1 : 1; /* b - a */
    const int32_t sign = p->subtract == 1 ? -1 : 1;  /* a - b */
    const int32_t step = p->broadcast ? p->channels : n; /* elements of input2 per pass */
    int32_t base, c;
    if (p->shift1 > 0 || p->shift1 < -31 || p->shift2 > 0 || p->shift2 < -31 || p->output_shift > 0
        || p->output_shift < -31 || p->left_shift > TQ_ADD_DSP_LEFT_SHIFT_MAX) {
        tq_add_s8_portable(p, input1, input2, output);
        return;
    }
    {
        const tq_fused_multiplier m1 = tq_fused_multiplier_make(p->multiplier1, p->shift1);
        const tq_fused_multiplier m2 = tq_fused_multiplier_make(p->multiplier2, p->shift2);
        const tq_fused_multiplier mo = tq_fused_multiplier_make(p->output_multiplier, p->output_shift);
        for (base = 0; base < n; base += step) {
            const int8_t *in2 = p->broadcast ? input2 : input2 + base;
            for (c = 0; c < step; ++c) {
                const int32_t a = tq_mbqm_fused_pre((input1[base + c] - zp1) * scale, m1);
                const int32_t b = tq_mbqm_fused_pre((in2[c] - zp2) * scale, m2);
                output[base + c] = (int8_t)tq_requantize_s8_fused_pre(sign1 * a + sign * b, mo, zp_out, lo, hi);
            }
        }
    }
}

const struct tq_add_s8_dsp_path tq_add_s8_general = {add_general};

#endif /* TQ_USE_DSP */
