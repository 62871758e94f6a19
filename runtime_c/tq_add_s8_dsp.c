/*
 * tq_add_s8_dsp.c - int8 elementwise add for cores with the DSP extension, the same function and
 * result as tq_add_s8.c (see tq_kernels.h for the formula).
 *
 * A layer without a table (subtraction, a broadcast operand, a small add in the default build) runs
 * params->dsp_path, tq_add_s8_general (tq_add_s8_general.c, shipped only with such layers).
 *
 * Table path (params->table set by the generator; its conditions in tq_kernels.h): input 1's rescaled value
 * doubled is 2a = (x1 - zp1) * 2^20 = x1 * 2^20 - zp1 * 2^20, and table[(uint8_t)x2] = 2b - zp1 * 2^20, so
 * acc2 = 2 * (a + b) = x1 * 2^20 + table[(uint8_t)x2] (one SXTB, one ADD with LSL #20) with |a + b| <= 255 * 2^19 + 255 * 2^19 < 2^30 (|b| <= |x2 - zp2| *
 * 2^20 * q2 / 2^31 <= 255 * 2^19); the output stage is tq_requantize_s8_fused_ssat2 (tq_requant.h, five
 * instructions, TQ_REQUANT_FUSED_SSAT2_ASM), equal there to clamp(mbqm(a + b, qo, eo) + zp_out, -128, 127),
 * then the bytes are clamped to [act_min, act_max] four at a time (SSUB8 / SEL). Four elements per step: one
 * word of each input read, then one word written.
 * Elementwise, element i read before it is written (a step reads its four elements of both inputs before
 * writing them): in place as tq_kernels.h allows.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"
#include "tq_requant.h"
#include <string.h>

/* The table path (file comment). */
static void add_table(const tq_add_s8_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *table = p->table;
    const int32_t n = p->size;
    const int32_t q = p->output_multiplier, em1 = -p->output_shift - 1, zp2 = 2 * p->output_zero_point + 1;
    const uint32_t lo4 = 0x01010101u * (uint8_t)p->act_min, hi4 = 0x01010101u * (uint8_t)p->act_max;
    int32_t i, t;
    for (i = 0; i + 4 <= n; i += 4) {
        const uint32_t u = (uint32_t)tq_load_s8x4(input1 + i), v = (uint32_t)tq_load_s8x4(input2 + i);
        int32_t y0 = (int32_t)(int8_t)u * (1 << 20) + table[v & 0xFFu];
        int32_t y1 = (int32_t)(int8_t)(u >> 8) * (1 << 20) + table[(v >> 8) & 0xFFu];
        int32_t y2 = (int32_t)(int8_t)(u >> 16) * (1 << 20) + table[(v >> 16) & 0xFFu];
        int32_t y3 = (int32_t)(int8_t)(u >> 24) * (1 << 20) + table[v >> 24];
        y0 = tq_requantize_s8_fused_ssat2_dsp(y0, q, em1, zp2);
        y1 = tq_requantize_s8_fused_ssat2_dsp(y1, q, em1, zp2);
        y2 = tq_requantize_s8_fused_ssat2_dsp(y2, q, em1, zp2);
        y3 = tq_requantize_s8_fused_ssat2_dsp(y3, q, em1, zp2);
        /* the four bytes into y0 (BFI), then clamped to [act_min, act_max] byte by byte */
        __asm__("bfi %0, %2, #8, #8\n\t"
                "bfi %0, %3, #16, #8\n\t"
                "bfi %0, %4, #24, #8\n\t"
                "ssub8 %1, %0, %5\n\t"
                "sel %0, %0, %5\n\t"
                "ssub8 %1, %6, %0\n\t"
                "sel %0, %0, %6"
                : "+r"(y0), "=&r"(t) : "r"(y1), "r"(y2), "r"(y3), "r"(lo4), "r"(hi4) : "cc");
        memcpy(output + i, &y0, sizeof y0);
    }
    for (; i < n; ++i) {
        int32_t y = input1[i] * (1 << 20) + table[(uint8_t)input2[i]];
        y = tq_requantize_s8_fused_ssat2_dsp(y, q, em1, zp2);
        output[i] = (int8_t)(y < p->act_min ? p->act_min : (y > p->act_max ? p->act_max : y));
    }
}

void tq_add_s8(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    if (params->table != NULL) {
        add_table(params, input1, input2, output);
    } else {
        params->dsp_path->run(params, input1, input2, output);
    }
}

#endif /* TQ_USE_DSP */
