/*
 * tq_add_s8_mve.c - int8 elementwise add for cores with Helium (MVE, Armv8.1-M: Cortex-M55, M85),
 * the same function and result as tq_add_s8.c (formula: tq_kernels.h).
 *
 * Method: four elements per step in int32 lanes: each input one VLDRB.S32, minus its zero point,
 * shifted left by L (|x - zp| * 2^L < 2^31, exact), through tq_mbqm_s32x4_n_mve with its multiplier and
 * shift (per tensor: scalar operands); the two terms added (subtracted for SUB) with saturation (VQADD /
 * VQSUB: sat32(a +- b), or sat32(b - a) for g - x); a broadcast input 2 ([channels], params->broadcast) is read from its start for every
 * position; the output stage tq_requantize_s32x4_n_mve (tq_requant.h); four bytes stored. The last size mod 4
 * elements (per pass) are a tail-predicated step (VCTP.32: inactive lanes read and write no memory; per position with a broadcast). Element i is read before
 * it is written (the in-place contract of tq_kernels.h: output may be either input).
 */
#include "tq_kernels.h"

#if TQ_USE_MVE
#include <arm_mve.h>

#include "tq_requant.h"

/* The sum (difference a - b for SUB, b - a for subtract == 2) of four elements' scaled terms, before the output
 * stage: x1, x2 are the inputs minus their zero points, shifted left by L. Every parameter a scalar: no vector
 * register holds a constant. */
static inline int32x4_t tq_add_mve_sum(int32x4_t x1, int32x4_t x2, int32_t q1, int32_t s1, int32_t q2, int32_t s2,
                                       int32_t subtract)
{
    const int32x4_t a = tq_mbqm_s32x4_n_mve(x1, q1, s1), b = tq_mbqm_s32x4_n_mve(x2, q2, s2);
    return subtract == 2 ? vqsubq_s32(b, a) : subtract ? vqsubq_s32(a, b) : vqaddq_s32(a, b);
}

/* Four elements at in1, in2 (lanes selected by `lanes`; inactive ones read no memory) through the output stage. */
#define TQ_ADD_MVE_STEP(in1, in2, lanes)                                                                        \
    tq_requantize_s32x4_n_mve(tq_add_mve_sum(vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32((in1), (lanes)), zp1), left),  \
                                             vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32((in2), (lanes)), zp2), left),  \
                                             q1, s1, q2, s2, subtract),                                         \
                              qo, so, zp_out, act_min, act_max)

/* The fast path's four elements at in1, in2 (lanes selected by `lanes`; inactive ones read no memory), before the
 * output zero point and clamp: v2 = (x2 - zp2) * 2^20 (VMLAS: x2 * 2^20 + (-zp2 * 2^20), exact), b =
 * tq_mbqm_right_s32x4_n_mve(v2, q2, s2), sum = b - zp1 * 2^19 + x1 * 2^19 (VSUB, VMLA) = a + b exactly
 * (|a + b| <= 255 * 2^20: no saturation), mbqm(sum, qo, so) (tq_mbqm_right_s32x4_n_mve). */
static inline int32x4_t tq_add_mve_exact(const int8_t *in1, const int8_t *in2, mve_pred16_t lanes, int32x4_t c20,
                                         int32_t zp2_20, int32_t zp1_19, int32_t q2, int32_t s2, int32_t qo, int32_t so)
{
    const int32x4_t v2 = vmlasq_n_s32(vldrbq_z_s32(in2, lanes), c20, zp2_20);
    const int32x4_t b = tq_mbqm_right_s32x4_n_mve(v2, q2, s2);
    return tq_mbqm_right_s32x4_n_mve(vmlaq_n_s32(vsubq_n_s32(b, zp1_19), vldrbq_z_s32(in1, lanes), 1 << 19), qo, so);
}

/* n (>= 1) steps of eight elements of the fast path in one inline-assembly block: tq_add_mve_exact's steps for
 * two groups of four (q0, q1 and q2, q3) interleaved so that load, integer and multiply instructions alternate,
 * every mbqm as tq_mbqm_right_mul_s32x4_n_mve (tq_requant.h: VQRDMULH, the sign by VSHR or VMULH by one, VADD,
 * VQRDMULH by 2^(31 - e)), the output zero point added, the clamp (VMAX, VMIN), VSTRB.32. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void tq_add_mve_exact8(const int8_t *in1, const int8_t *in2, int8_t *out, int32_t steps,
                              const tq_add_s8_params *p)
{
    const int32_t zp2 = -p->input2_zero_point * (1 << 20), zp1 = p->input1_zero_point * (1 << 19);
    const int32_t q2 = p->multiplier2, m2 = (int32_t)(1u << (31 + p->shift2));
    const int32_t qo = p->output_multiplier, mo = (int32_t)(1u << (31 + p->output_shift));
    const int32_t zpo = p->output_zero_point, c19 = 1 << 19;
    const int32x4_t c20 = vdupq_n_s32(1 << 20), one = vdupq_n_s32(1);
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    register int32_t n __asm__("lr") = steps;
    __asm__ volatile("1:\n\t"
                     "vldrb.s32 q0, [%[in2]], #4\n\t"
                     "vmlas.s32 q0, %q[c20], %[zp2]\n\t"
                     "vldrb.s32 q2, [%[in2]], #4\n\t"
                     "vqrdmulh.s32 q0, q0, %[q2]\n\t"
                     "vshr.s32 q1, q0, #31\n\t"
                     "vmlas.s32 q2, %q[c20], %[zp2]\n\t"
                     "vadd.i32 q0, q0, q1\n\t"
                     "vqrdmulh.s32 q0, q0, %[m2]\n\t"
                     "vsub.i32 q0, q0, %[zp1]\n\t"
                     "vldrb.s32 q1, [%[in1]], #4\n\t"
                     "vqrdmulh.s32 q2, q2, %[q2]\n\t"
                     "vshr.s32 q3, q2, #31\n\t"
                     "vmla.s32 q0, q1, %[c19]\n\t"
                     "vadd.i32 q2, q2, q3\n\t"
                     "vqrdmulh.s32 q0, q0, %[qo]\n\t"
                     "vshr.s32 q1, q0, #31\n\t"
                     "vqrdmulh.s32 q2, q2, %[m2]\n\t"
                     "vadd.i32 q0, q0, q1\n\t"
                     "vqrdmulh.s32 q0, q0, %[mo]\n\t"
                     "vsub.i32 q2, q2, %[zp1]\n\t"
                     "vldrb.s32 q3, [%[in1]], #4\n\t"
                     "vadd.i32 q0, q0, %[zpo]\n\t"
                     "vmla.s32 q2, q3, %[c19]\n\t"
                     "vmax.s32 q0, q0, %q[lo]\n\t"
                     "vqrdmulh.s32 q2, q2, %[qo]\n\t"
                     "vmin.s32 q0, q0, %q[hi]\n\t"
                     "vmulh.s32 q3, q2, %q[one]\n\t"
                     "vadd.i32 q2, q2, q3\n\t"
                     "vqrdmulh.s32 q2, q2, %[mo]\n\t"
                     "vadd.i32 q2, q2, %[zpo]\n\t"
                     "vmax.s32 q2, q2, %q[lo]\n\t"
                     "vstrb.32 q0, [%[out]], #4\n\t"
                     "vmin.s32 q2, q2, %q[hi]\n\t"
                     "vstrb.32 q2, [%[out]], #4\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [in1] "+l"(in1), [in2] "+l"(in2), [out] "+l"(out), [n] "+r"(n)
                     : [zp2] "r"(zp2), [q2] "r"(q2), [m2] "r"(m2), [zp1] "r"(zp1), [c19] "r"(c19), [qo] "r"(qo),
                       [mo] "r"(mo), [zpo] "r"(zpo), [c20] "w"(c20), [one] "w"(one), [lo] "w"(lo), [hi] "w"(hi)
                     : "cc", "memory", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7");
}

/* The fast path (params->exact1, tq_kernels.h): tq_add_mve_exact, the output zero point added (VADD: no overflow,
 * |mbqm| <= 2^28), the clamp (VMAX, VMIN), four bytes stored; passes as in the general path. */
static void tq_add_mve_fast(const tq_add_s8_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t q2 = p->multiplier2, s2 = p->shift2, qo = p->output_multiplier, so = p->output_shift;
    const int32_t zp2_20 = -p->input2_zero_point * (1 << 20), zp1_19 = p->input1_zero_point * (1 << 19);
    const int32_t zp_out = p->output_zero_point, size = p->size, broadcast = p->broadcast;
    const int32_t step = broadcast ? p->channels : size; /* elements of input2 per pass */
    const int32x4_t c20 = vdupq_n_s32(1 << 20), lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    const mve_pred16_t all = vctp32q(4);
    int32_t base, i;
    for (base = 0; base < size; base += step) {
        const int8_t *in1 = input1 + base, *in2 = broadcast ? input2 : input2 + base;
        int8_t *out = output + base;
        if (step >= 8) {
            tq_add_mve_exact8(in1, in2, out, step / 8, p);
        }
        for (i = step & ~7; i < step; i += 4) { /* the last step mod 8 elements */
            const mve_pred16_t lanes = i + 4 <= step ? all : vctp32q((uint32_t)(step - i));
            const int32x4_t r = tq_add_mve_exact(in1 + i, in2 + i, lanes, c20, zp2_20, zp1_19, q2, s2, qo, so);
            vstrbq_p_s32(out + i, vminq_s32(vmaxq_s32(vaddq_n_s32(r, zp_out), lo), hi), lanes);
        }
    }
}

void tq_add_s8(const tq_add_s8_params *params, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const tq_add_s8_params *p = params;
    const int32_t q1 = p->multiplier1, s1 = p->shift1, q2 = p->multiplier2, s2 = p->shift2;
    const int32_t qo = p->output_multiplier, so = p->output_shift, subtract = p->subtract;
    const int32_t zp1 = p->input1_zero_point, zp2 = p->input2_zero_point, left = p->left_shift;
    const int32_t zp_out = p->output_zero_point, act_min = p->act_min, act_max = p->act_max;
    const int32_t step = p->broadcast ? p->channels : p->size; /* elements of input2 per pass */
    const int32_t size = p->size, broadcast = p->broadcast;
    const mve_pred16_t all = vctp32q(4);
    int32_t base, i;
    if (p->exact1) {
        tq_add_mve_fast(p, input1, input2, output);
        return;
    }
    for (base = 0; base < size; base += step) {
        const int8_t *in1 = input1 + base, *in2 = broadcast ? input2 : input2 + base;
        int8_t *out = output + base;
        for (i = 0; i + 4 <= step; i += 4) {
            vstrbq_s32(out + i, TQ_ADD_MVE_STEP(in1 + i, in2 + i, all));
        }
        if (i < step) {
            const mve_pred16_t lanes = vctp32q((uint32_t)(step - i));
            vstrbq_p_s32(out + i, TQ_ADD_MVE_STEP(in1 + i, in2 + i, lanes), lanes);
        }
    }
}

#endif /* TQ_USE_MVE */
