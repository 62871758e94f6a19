/*
 * tq_concat_s8_dsp.c - int8 concatenation along channels with requantization for cores with the DSP extension, the
 * same function and result as tq_concat_s8.c (tq_kernels.h: input k's channels requantized to the output,
 * y = clamp(mbqm(x - zero_point[k], multiplier[k], shift[k]) + output_zero_point, -128, 127), or copied when the
 * ratio is exactly 1.0 and the zero points agree).
 *
 * Method, per input: v = x - zero_point[k] lies in [-255, 255].
 * - Copy: a word at a time (unaligned LDR / STR), then the channels mod 4 one at a time.
 * - Left shift L = shift[k] >= 0, L <= TQ_CONCAT_DSP_LEFT_MAX: mbqm(v, q, shift) = srdhm(v * 2^L, q) (no right
 *   shift), and srdhm(a, q) = floor((2 a q + 2^31) / 2^32) for q >= 0 (tq_requant.h, tq_requantize_s8_fast's
 *   comment), which is SMMULR(2 a, q): one SMMULR of v * 2^(L + 1) (|v| * 2^(L + 1) <= 255 * 2^23 < 2^31), then the
 *   zero point and SSAT #8 (|srdhm| <= |a| < 2^31 - 128: no saturation before the clamp).
 * - Right shift (shift[k] <= -1): tq_requant.h's tq_requantize_s8_fused_ssat2 of acc2 = 2 v (TQ_REQUANT_FUSED_SSAT2_ASM,
 *   five instructions; |v| <= 255 is inside its domain), whose SSAT is the clamp to [-128, 127].
 * - Larger left shifts: tq_portable.h's tq_concat_s8_input_portable.
 * Four elements per step in the requantizing loops (byte loads and stores), about 9 est. cycles per element on
 * the Cortex-M4 where the portable loop's general output stage takes ~80. Inputs never overlap the output
 * (tq_kernels.h).
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_portable.h"
#include "tq_requant.h"

/* The largest left shift of the SMMULR loop: 255 * 2^(L + 1) must fit int32. */
#define TQ_CONCAT_DSP_LEFT_MAX 22
typedef char tq_concat_dsp_left_max_fits[(255L << (TQ_CONCAT_DSP_LEFT_MAX + 1)) <= 0x7FFFFFFFL ? 1 : -1];

/* Output of the left-shift loop: SSAT #8 of SMMULR(a2, q) + zero point (a2 = v * 2^(L + 1)). */
static inline int32_t concat_left(int32_t a2, int32_t q, int32_t zpo)
{
    int32_t t;
    __asm__("smmulr %0, %1, %2\n\t"
            "add %0, %0, %3\n\t"
            "ssat %0, #8, %0"
            : "=&r"(t)
            : "r"(a2), "r"(q), "r"(zpo));
    return t;
}

/* Input k with a left shift (`left` set: s = L + 1, c = output zero point) or a right shift (s = e - 1, c = 2 zpo +
 * 1), channels at output channels [first, ...): four elements per step, then one at a time. */
TQ_LOOP_INLINE void concat_requant(const tq_concat_s8_params *p, int32_t k, const int8_t *x, int32_t first,
                                   int8_t *output, int left)
{
    const int32_t channels = p->channels[k], zp = p->zero_point[k], q = p->multiplier[k];
    const int32_t s = left ? p->shift[k] + 1 : -p->shift[k] - 1;
    const int32_t c = left ? p->output_zero_point : 2 * p->output_zero_point + 1;
    int32_t px, i;
    for (px = 0; px < p->positions; ++px) {
        const int8_t *src = x + px * channels;
        int8_t *dst = output + px * p->out_c + first;
        for (i = 0; i + 4 <= channels; i += 4) {
            const int32_t v0 = src[i] - zp, v1 = src[i + 1] - zp, v2 = src[i + 2] - zp, v3 = src[i + 3] - zp;
            if (left) {
                dst[i] = (int8_t)concat_left(v0 << s, q, c);
                dst[i + 1] = (int8_t)concat_left(v1 << s, q, c);
                dst[i + 2] = (int8_t)concat_left(v2 << s, q, c);
                dst[i + 3] = (int8_t)concat_left(v3 << s, q, c);
            } else {
                dst[i] = (int8_t)tq_requantize_s8_fused_ssat2_dsp(2 * v0, q, s, c);
                dst[i + 1] = (int8_t)tq_requantize_s8_fused_ssat2_dsp(2 * v1, q, s, c);
                dst[i + 2] = (int8_t)tq_requantize_s8_fused_ssat2_dsp(2 * v2, q, s, c);
                dst[i + 3] = (int8_t)tq_requantize_s8_fused_ssat2_dsp(2 * v3, q, s, c);
            }
        }
        for (; i < channels; ++i) {
            const int32_t v = src[i] - zp;
            dst[i] = (int8_t)(left ? concat_left(v << s, q, c) : tq_requantize_s8_fused_ssat2_dsp(2 * v, q, s, c));
        }
    }
}

/* Input k copied (its quantization is the output's): a word at a time, then byte by byte. */
static void concat_copy(const tq_concat_s8_params *p, int32_t k, const int8_t *x, int32_t first, int8_t *output)
{
    const int32_t channels = p->channels[k];
    int32_t px, i;
    for (px = 0; px < p->positions; ++px) {
        const int8_t *src = x + px * channels;
        int8_t *dst = output + px * p->out_c + first;
        for (i = 0; i + 4 <= channels; i += 4) {
            const int32_t w = tq_load_s8x4(src + i);
            memcpy(dst + i, &w, sizeof w);
        }
        for (; i < channels; ++i) {
            dst[i] = src[i];
        }
    }
}

void tq_concat_s8(const tq_concat_s8_params *params, const int8_t *const *inputs, int8_t *output)
{
    int32_t k, first = 0; /* output channel of input k's first channel */
    for (k = 0; k < params->num_inputs; ++k) {
        const int32_t shift = params->shift[k];
        if (tq_concat_s8_copies(params, k)) {
            concat_copy(params, k, inputs[k], first, output);
        } else if (shift <= -1) {
            concat_requant(params, k, inputs[k], first, output, 0);
        } else if (shift <= TQ_CONCAT_DSP_LEFT_MAX) {
            concat_requant(params, k, inputs[k], first, output, 1);
        } else {
            tq_concat_s8_input_portable(params, k, inputs[k], first, output);
        }
        first += params->channels[k];
    }
}

#endif /* TQ_USE_DSP */
