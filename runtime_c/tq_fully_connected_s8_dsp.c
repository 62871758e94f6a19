/*
 * tq_fully_connected_s8_dsp.c - int8 fully connected for cores with the DSP extension,
 * the same function and result as tq_fully_connected_s8.c (see tq_kernels.h for the formula).
 *
 * Method: output channels two at a time; per group of four inputs one word of x gives
 * (x0 - zp, x2 - zp) = __sxtab16(nzp2, x) and (x1 - zp, x3 - zp) = SXTAB16 ROR #8, shared by
 * both channels, whose weight words give (w0, w2) = __sxtb16(w) and (w1, w3) = SXTB16 ROR #8;
 * SMLAD adds two products per instruction. The in_features mod 4 last inputs are multiplied one
 * by one; an odd last channel runs with itself as partner (computed twice, written once). No
 * scratch memory. Accumulation starts from bias[c]; every partial sum is at most
 * |bias| + 255 * 127 * in_features in magnitude (tq_kernels.h's bound), so the int32 sum equals
 * the portable kernel's. Requantization: tq_requantize_s8_fast (equal to tq_requantize_s8).
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"

void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_fully_connected_s8_params *p = params;
    const int32_t n = p->in_features;
    const int32_t nzp2 = tq_dup_s16(-p->input_zero_point);
    int32_t c, g, t;
    for (c = 0; c < p->out_features; c += 2) {
        const int32_t c1 = c + 1 < p->out_features ? c + 1 : c;
        const int8_t *x = input;
        const int8_t *w0 = p->weights + c * n;
        const int8_t *w1 = p->weights + c1 * n;
        int32_t s0 = p->bias[c], s1 = p->bias[c1];
        for (g = n >> 2; g > 0; --g) {
            const int32_t xv = tq_load_s8x4(x);
            const int32_t x02 = __sxtab16(nzp2, xv), x13 = tq_sxtab16_odd(nzp2, xv);
            int32_t wv = tq_load_s8x4(w0);
            s0 = __smlad(x02, __sxtb16(wv), s0);
            s0 = __smlad(x13, tq_sxtb16_odd(wv), s0);
            wv = tq_load_s8x4(w1);
            s1 = __smlad(x02, __sxtb16(wv), s1);
            s1 = __smlad(x13, tq_sxtb16_odd(wv), s1);
            x += 4;
            w0 += 4;
            w1 += 4;
        }
        for (t = 0; t < (n & 3); ++t) {
            const int32_t v = x[t] - p->input_zero_point;
            s0 += w0[t] * v;
            s1 += w1[t] * v;
        }
        output[c] = tq_requantize_s8_fast(s0, p->multiplier[c], p->shift[c], p->output_zero_point, p->act_min,
                                          p->act_max);
        output[c1] = tq_requantize_s8_fast(s1, p->multiplier[c1], p->shift[c1], p->output_zero_point, p->act_min,
                                           p->act_max);
    }
}

#endif /* TQ_USE_DSP */
