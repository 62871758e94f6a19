/*
 * tq_fully_connected_s8_v6m.c - int8 fully connected for Armv6-M (Cortex-M0 / M0+: Thumb-1, MULS 32 x 32 -> 32,
 * no 64-bit multiply), the same function and result as tq_fully_connected_s8.c (formula: tq_kernels.h).
 *
 * Method: output rows four at a time, so each input value x' = input[i] - input_zero_point is loaded and
 * offset once per four rows (the portable loop does it once per row); each row's accumulator starts at its
 * bias and adds w[c][i] * x' in input order. Every partial sum is the bias plus a subset of the products, so
 * its magnitude stays within tq_kernels.h's accumulator bound (|bias| + 255 * 127 * in_features < 2^31): no
 * int32 overflow, and the final sum is the portable kernel's. The out_features mod 4 last rows go one at a
 * time. Output stage: tq_requantize_s8_v6m_layer (tq_requant.h: MULS only, the fused form when the
 * generator set params->requant_fused), so no __aeabi_lmul call. Natural [out][in] weights (no layout), no scratch;
 * input and output must not overlap (tq_kernels.h).
 */
#include "tq_kernels.h"

#if TQ_USE_V6M
#include "tq_requant.h"

/* Row c's output byte from its accumulator (one copy, called for every row). */
__attribute__((noinline)) static int8_t fc_v6m_out(const tq_fully_connected_s8_params *p, int32_t c, int32_t acc)
{
    return tq_requantize_s8_v6m_layer(acc, p->requant_fused, p->multiplier[c], p->shift[c], p->output_zero_point,
                                      p->act_min, p->act_max);
}

void tq_fully_connected_s8(const tq_fully_connected_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_fully_connected_s8_params *p = params;
    const int32_t n = p->in_features, out_f = p->out_features, zp = p->input_zero_point;
    const int8_t *w = p->weights;
    int32_t c = 0, i;
    for (; c + 4 <= out_f; c += 4, w += 4 * n) {
        const int8_t *w0 = w, *w1 = w + n, *w2 = w1 + n, *w3 = w2 + n;
        int32_t a0 = p->bias[c], a1 = p->bias[c + 1], a2 = p->bias[c + 2], a3 = p->bias[c + 3];
        for (i = 0; i < n; ++i) {
            const int32_t x = (int32_t)input[i] - zp;
            a0 += (int32_t)w0[i] * x;
            a1 += (int32_t)w1[i] * x;
            a2 += (int32_t)w2[i] * x;
            a3 += (int32_t)w3[i] * x;
        }
        output[c] = fc_v6m_out(p, c, a0);
        output[c + 1] = fc_v6m_out(p, c + 1, a1);
        output[c + 2] = fc_v6m_out(p, c + 2, a2);
        output[c + 3] = fc_v6m_out(p, c + 3, a3);
    }
    for (; c < out_f; ++c, w += n) {
        int32_t acc = p->bias[c];
        for (i = 0; i < n; ++i) {
            acc += (int32_t)w[i] * ((int32_t)input[i] - zp);
        }
        output[c] = fc_v6m_out(p, c, acc);
    }
}

#endif /* TQ_USE_V6M */
