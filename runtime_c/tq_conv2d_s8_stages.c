/*
 * tq_conv2d_s8_stages.c - the DSP conv's output stages for layers with requant_fused 1 (tq_conv2d_s8_fused1:
 * tq_requantize_s8_fused) and 0 (tq_conv2d_s8_fast: tq_requantize_s8_fast), called by tq_conv2d_s8_dsp.c's
 * chunks_run (requant_fused 2, the common case, stays in that file). The generator ships this file, and sets
 * params->dsp_path to one of them under TQ_USE_DSP, only for packages with such a conv layer (scratch
 * planned), so other builds do not link them. Cores without the DSP extension compile nothing here.
 */
#include "tq_conv_dsp.h"

#if TQ_USE_DSP

/* Channels c .. c + n - 1 of the two pixels of a block from acc[2 * i + pixel] (i < n): out0[c + i],
 * out1[c + i]; the fused output stage (the layer's requant_fused is 1). out1 == out0 for a last pixel
 * alone (its accumulators are pixel 0's, so the same bytes are written twice). */
static void requant_group_fused(const tq_conv_out_stage *o, int32_t c, int32_t n, const int32_t *acc, int8_t *out0,
                                int8_t *out1)
{
    const int32_t *q = o->multiplier + c, *shift = o->shift + c;
    const int32_t zp = o->zp_out, lo = o->act_min, hi = o->act_max;
    int32_t i;
    out0 += c;
    out1 += c;
    for (i = 0; i < n; ++i, acc += 2) {
        const int32_t qi = q[i], e = -shift[i];
        out0[i] = (int8_t)tq_requantize_s8_fused(acc[0], qi, e, zp, lo, hi);
        out1[i] = (int8_t)tq_requantize_s8_fused(acc[1], qi, e, zp, lo, hi);
    }
}

/* requant_group_fused with tq_requantize_s8_fast (the layer's requant_fused is 0), one output per iteration
 * (acc[2 i + n] is channel c + i of pixel n; one inlined copy of the general output stage). */
static void requant_group_fast(const tq_conv_out_stage *o, int32_t c, int32_t n, const int32_t *acc, int8_t *out0,
                               int8_t *out1)
{
    const int32_t *q = o->multiplier + c, *shift = o->shift + c;
    const int32_t zp = o->zp_out, lo = o->act_min, hi = o->act_max;
    int32_t i;
    for (i = 0; i < 2 * n; ++i) {
        const int32_t ch = i >> 1;
        int8_t *const out = (i & 1) != 0 ? out1 : out0;
        out[c + ch] = tq_requantize_s8_fast(acc[i], q[ch], shift[ch], zp, lo, hi);
    }
}

const tq_conv2d_s8_dsp_path tq_conv2d_s8_fused1 = {NULL, requant_group_fused};
const tq_conv2d_s8_dsp_path tq_conv2d_s8_fast = {NULL, requant_group_fast};

#endif /* TQ_USE_DSP */
