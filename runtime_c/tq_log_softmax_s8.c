/*
 * tq_log_softmax_s8.c - int8 log-softmax over the last axis: TFLite's int8 LOG_SOFTMAX (see tq_kernels.h).
 *
 * The exp of each difference is a build-time table (exact for every int8 input); the per-row
 * logarithm is gemmlowp's fixed-point log_x_for_x_greater_than_or_equal_to_1 (Q12 in, Q5 out),
 * written once here; Python twin: log_x_q12 in tinyqat/fixedpoint.py (its docstring has the formula).
 * Raw values are gemmlowp FixedPoint<int32, m> (r stands for r / 2^(31 - m)); a product of two is
 * tq_srdhm of the raws. Every intermediate sum stays in int32 for a Q12 input in [1, 4095].
 */
#include "tq_kernels.h"
#include "tq_requant.h"

/* x * 2^e for e in [0, 31], saturated to int32 (gemmlowp's SaturatingRoundingMultiplyByPOT, e >= 0). */
static int32_t tq_ls_shl_sat(int32_t x, int32_t e)
{
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - e)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((int64_t)x * ((int64_t)1 << e));
}

/* trunc((a + b + sign(a + b)) / 2), sign(0) = 1 (gemmlowp's RoundingHalfSum). */
static int32_t tq_ls_half_sum(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + (int64_t)b;
    return (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
}

/* 1 / (1 + a) for a Q0 a in [0, 1), Q0 result: three Newton-Raphson steps in Q2 (48/17 - 32/17 h start). */
static int32_t tq_ls_one_over_one_plus_x(int32_t a)
{
    const int32_t h = tq_ls_half_sum(a, INT32_MAX);
    int32_t x = 1515870810 + tq_srdhm(h, -1010580540);
    int32_t k;
    for (k = 0; k < 3; ++k) {
        x = x + tq_ls_shl_sat(tq_srdhm(x, (1 << 29) - tq_srdhm(h, x)), 2);
    }
    return tq_ls_shl_sat(x, 1);
}

/* Leading zero bits of x (32 for 0), portable (Armv6-M has no CLZ). */
static int32_t tq_ls_clz(uint32_t x)
{
    int32_t n = 0;
    while (n < 32 && (x & 0x80000000u) == 0u) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* log(x) of a Q12 x >= 1 (raw in [2^19, 2^31 - 1]), Q5 result. */
static int32_t tq_ls_log_q12(int32_t x)
{
    const int32_t sqrt_half = 1518500250;      /* sqrt(1/2), Q0 */
    const int32_t sqrt_sqrt_half = 1805811301; /* (1/2)^(1/4), Q0 */
    const int32_t quarter = 1 << 23;           /* 1/4 in Q6 */
    const int32_t ha = tq_ls_clz((uint32_t)x);
    const int32_t ra = tq_ls_shl_sat(tq_srdhm(tq_ls_shl_sat(x, ha - 1), sqrt_half), 1);
    const int32_t za = tq_sat_s32((int64_t)tq_ls_shl_sat(12 - ha, 25) + quarter);
    const int32_t hb = tq_ls_clz((uint32_t)tq_srdhm(x, sqrt_half)) - 1;
    const int32_t rb = tq_ls_shl_sat(x, hb);
    const int32_t zb = tq_sat_s32((int64_t)tq_ls_shl_sat(12 - hb, 25) - quarter);
    const int32_t r = ra < rb ? ra : rb;
    const int32_t z = za > zb ? za : zb;
    const int32_t p = tq_ls_half_sum(r, sqrt_sqrt_half);
    const int32_t q = 2 * (r - sqrt_sqrt_half);
    const int32_t c = tq_srdhm(q, q);
    const int32_t num = tq_srdhm(q, r) + tq_srdhm(tq_srdhm(q, c), 117049297);
    const int32_t den = tq_srdhm(p, 1057819769 + q + tq_srdhm(127690142, c)) + tq_srdhm(638450708, q);
    const int32_t sum = tq_srdhm(z, 1488522236) + tq_srdhm(tq_rdbpot(num, 6), tq_ls_one_over_one_plus_x(den));
    return tq_ls_shl_sat(sum, 1);
}

void tq_log_softmax_s8(const tq_log_softmax_s8_params *params, const int8_t *input, int8_t *output)
{
    const tq_log_softmax_s8_params *p = params;
    int32_t r, i;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + r * p->row_size;
        int8_t *y = output + r * p->row_size;
        int32_t max = INT8_MIN;
        int32_t sum = 0; /* Q12: exp_table[0] = 2^19 <= sum <= 4095 * 2^19 < 2^31 */
        int32_t log_sum, cut;
        for (i = 0; i < p->row_size; ++i) {
            max = x[i] > max ? x[i] : max;
        }
        for (i = 0; i < p->row_size; ++i) {
            sum += p->exp_table[max - x[i]];
        }
        log_sum = tq_ls_log_q12(sum); /* Q5, >= 0 */
        cut = tq_mbqm((int32_t)((int64_t)log_sum + INT32_MIN), p->reverse_multiplier, p->reverse_shift);
        cut = cut > p->diff_min - 1 ? cut : p->diff_min - 1;
        /* x[i] is read before y[i] is written and never after: in place is safe. */
        for (i = 0; i < p->row_size; ++i) {
            const int32_t d = x[i] - max;
            if (d > cut) {
                const int64_t scaled = (int64_t)tq_mbqm(d, p->input_multiplier, p->input_shift) - log_sum;
                y[i] = (int8_t)tq_clamp_s32(tq_rdbpot(tq_sat_s32(scaled), 22) + 127, INT8_MIN, INT8_MAX);
            } else {
                y[i] = INT8_MIN;
            }
        }
    }
}
