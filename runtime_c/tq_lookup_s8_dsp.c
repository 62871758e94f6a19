/*
 * tq_lookup_s8_dsp.c - int8 -> int8 table lookup for cores with the DSP extension, the same function and result as
 * tq_lookup_s8.c (tq_kernels.h: output[i] = table[input[i] + 128], in place allowed).
 *
 * Method: four elements per word. One (unaligned) word load of input[i .. i + 3]; each byte, sign-extended (SXTB
 * with ROR #0, #8, #16, #24), indexes t = table + 128 (LDRB with a register offset); the four bytes are packed (ORR
 * with LSL #8, #16, #24) and stored as one word: about 4.5 cycles per element on the Cortex-M4 where the byte loop
 * takes 8 or more. Every word of the input is read whole before its output word is written, so the in-place call
 * (output == input, tq_kernels.h) reads each element before writing it. Eight elements per loop iteration, then
 * four, then the last size mod 4 one at a time.
 */
#include "tq_kernels.h"

#if TQ_USE_DSP
#include "tq_dsp.h"

/* The four table entries of the input bytes of word v (b0 first), packed as a word (t = table + 128). */
static inline uint32_t lut4(const int8_t *t, uint32_t v)
{
    return (uint32_t)(uint8_t)t[(int8_t)v] | (uint32_t)(uint8_t)t[(int8_t)(v >> 8)] << 8
           | (uint32_t)(uint8_t)t[(int8_t)(v >> 16)] << 16 | (uint32_t)(uint8_t)t[(int8_t)(v >> 24)] << 24;
}

void tq_lookup_s8(const tq_lookup_s8_params *params, const int8_t *input, int8_t *output)
{
    const int8_t *const t = params->table + 128;
    const int32_t n = params->size;
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint32_t v0 = (uint32_t)tq_load_s8x4(input + i), v1 = (uint32_t)tq_load_s8x4(input + i + 4);
        const uint32_t r0 = lut4(t, v0), r1 = lut4(t, v1);
        memcpy(output + i, &r0, sizeof r0);
        memcpy(output + i + 4, &r1, sizeof r1);
    }
    if (i + 4 <= n) {
        const uint32_t r = lut4(t, (uint32_t)tq_load_s8x4(input + i));
        memcpy(output + i, &r, sizeof r);
        i += 4;
    }
    for (; i < n; ++i) {
        output[i] = t[input[i]];
    }
}

#endif /* TQ_USE_DSP */
