"""Fixed-point requantization: the one Python implementation (TFLite int8 reference rules).

The C twin is ``runtime_c/tq_requant.h``; both must stay bit-identical.  All array
functions take and return ``np.int64`` arrays holding int32 values, so intermediate
products never overflow numpy's integer range.

Definitions (``INT32_MIN = -2**31``, ``INT32_MAX = 2**31 - 1``):

* ``quantize_multiplier(M)``: ``q, e = frexp(M)`` with ``0.5 <= q < 1``;
  ``q_fixed = round_half_away(q * 2**31)``; if ``q_fixed == 2**31``: ``q_fixed /= 2, e += 1``;
  if ``e < -31``: ``(0, 0)``; if ``e > 30``: ``(2**31 - 1, 30)``.  Then
  ``M ~= q_fixed * 2**(e - 31)``.
* ``srdhm(a, b)`` (SaturatingRoundingDoublingHighMul): ``INT32_MAX`` if
  ``a == b == INT32_MIN``, else ``trunc((a*b + nudge) / 2**31)`` with
  ``nudge = 2**30`` if ``a*b >= 0`` else ``1 - 2**30`` (C division, toward zero).
* ``rdbpot(x, e)`` (RoundingDivideByPOT): ``mask = 2**e - 1``, ``rem = x & mask``,
  ``thr = (mask >> 1) + (x < 0)``, result ``(x >> e) + (rem > thr)`` (arithmetic shift).
* ``mbqm(x, q, shift)`` (MultiplyByQuantizedMultiplier, "double rounding"):
  ``left = max(shift, 0)``, ``right = max(-shift, 0)``,
  ``rdbpot(srdhm(sat32(x * 2**left), q), right)``.  ``sat32`` saturates to int32; TFLite
  leaves that overflow undefined, so the two agree wherever TFLite is defined.
* ``fused_requant_ok(bias, shift, taps)``: the condition of the C fused output stages, decided
  here at build time (the kernels' ``requant_fused`` field).

Fixed-point functions of TFLite's int8 LOG_SOFTMAX (gemmlowp's ``FixedPoint<int32, m>``: a raw int32
``r`` stands for ``r / 2**(31 - m)``; a product of ``Qa`` and ``Qb`` values is ``srdhm`` of the raws, in
``Q(a+b)``; sums are plain int32 sums, exact in every use here).  C twin: ``runtime_c/tq_log_softmax_s8.c``
(the logarithm; the exponential is tabulated at build time, :func:`tinyqat.quant.log_softmax_params`):

* ``pot(x, e)`` (SaturatingRoundingMultiplyByPOT): ``e > 0``: ``x * 2**e`` saturated to int32 (``INT32_MAX``
  when ``x > 2**(31-e) - 1``, ``INT32_MIN`` when ``x < -(2**(31-e) - 1)``); ``e < 0``: ``rdbpot(x, -e)``.
  ``rescale`` from ``Qa`` to ``Qb`` is ``pot(x, a - b)``.
* ``rounding_half_sum(a, b) = trunc((a + b + sign(a + b)) / 2)`` with ``sign(0) = 1``.
* ``one_over_one_plus_x(a)`` (Q0 in, Q0 out, ``1 / (1 + a)`` for ``a`` in [0, 1)): ``h = rounding_half_sum(a,
  INT32_MAX)``; Q2 ``x = 1515870810 + srdhm(h, -1010580540)`` (48/17 - 32/17 h); three times
  ``x += pot(srdhm(x, 2**29 - srdhm(h, x)), 2)``; result ``pot(x, 1)``.
* ``exp_on_negative_values(a)`` (Q5 in, ``a <= 0``; Q0 out): ``k = (a & (2**24 - 1)) - 2**24`` (``a`` mod
  1/4, minus 1/4), ``t = pot(k, 5) + 2**28`` (Q0, ``k + 1/8``), ``t2 = srdhm(t, t)``, ``t3 = srdhm(t2, t)``,
  ``t4 = srdhm(t2, t2)``, ``u = rdbpot(srdhm(rdbpot(t4, 2) + t3, 715827883) + t2, 1)``,
  ``r = 1895147668 + srdhm(1895147668, t + u)`` (exp(-1/8) times its Taylor series); then for each bit
  ``j = -2..4`` set in ``k - a`` at bit ``26 + j``: ``r = srdhm(r, C[j])`` with
  ``C = 1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242`` (``exp(-2**j)`` in Q0);
  ``a == 0`` gives ``INT32_MAX``.
* ``log_x_q12(x)`` (Q12 in, ``x >= 1``; Q5 out: TFLite's ``log_x_for_x_greater_than_or_equal_to_1<5>``):
  ``ha = clz(x)`` (of the uint32), ``ra = pot(srdhm(pot(x, ha - 1), 1518500250), 1)``,
  ``za = sat32(pot(12 - ha, 25) + 2**23)``; ``xb = srdhm(x, 1518500250)``, ``hb = clz(xb) - 1``,
  ``rb = pot(x, hb)``, ``zb = sat32(pot(12 - hb, 25) - 2**23)``; ``r = min(ra, rb)``, ``z = max(za, zb)``
  (Q6); ``p = rounding_half_sum(r, 1805811301)``, ``q = 2 (r - 1805811301)``, ``c = srdhm(q, q)``,
  ``num = srdhm(q, r) + srdhm(srdhm(q, c), 117049297)``,
  ``den = srdhm(p, 1057819769 + q + srdhm(127690142, c)) + srdhm(638450708, q)``,
  result ``pot(srdhm(z, 1488522236) + srdhm(rdbpot(num, 6), one_over_one_plus_x(den)), 1)``.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
TAP_PRODUCT_MAX = 127 * 255  # largest |w * (x - zp)| of one tap: |w| <= 127, |x - zp| <= 255
FUSED2_OFFSET_E_MAX = 22  # largest right shift of the DSP depthwise's folded output stage (TQ_FUSED2_OFFSET_E_MAX)


def quantize_multiplier(m: float) -> tuple[int, int]:
    """Return ``(q_fixed, shift)`` with ``m ~= q_fixed * 2**(shift - 31)`` (TFLite rule).

    ``m`` is a non-negative real (a ratio of scales, computed in double precision).
    """
    if not math.isfinite(m) or m < 0.0:
        raise ValueError(f"multiplier must be finite and non-negative, got {m!r}")
    if m == 0.0:
        return 0, 0
    q, shift = math.frexp(m)
    q_fixed = math.floor(q * 2.0**31 + 0.5)  # q > 0: round half away from zero
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        return INT32_MAX, 30
    return int(q_fixed), int(shift)


def srdhm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul on int32 values held in int64 arrays."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    num = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    res = np.where(num >= 0, num >> 31, -((-num) >> 31))
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, res)


def rdbpot(x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """RoundingDivideByPOT: ``x / 2**exponent`` rounded half away from zero, ``0 <= exponent <= 31``."""
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (x < 0)
    return (x >> e) + (rem > thr)


def mbqm(x: np.ndarray, q: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """MultiplyByQuantizedMultiplier: ``x * q * 2**(shift - 31)`` with TFLite double rounding."""
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = np.clip(x << left, INT32_MIN, INT32_MAX)
    return rdbpot(srdhm(shifted, q), right)


def fused_requant_ok(bias: np.ndarray, shift: np.ndarray, taps: int) -> bool:
    """Whether a layer's output stage may take the fused one-SMLAL form of ``runtime_c/tq_requant.h``
    (``tq_requantize_s8_fused``, equal to :func:`mbqm` there): the generator's answer, stored in the
    kernel parameters (``requant_fused``) so no kernel scans its channels at run time.

    True when every channel's right shift ``e = -shift[c]`` lies in ``[1, 31]`` and every accumulator
    lies in ``[-2**30, 2**30 - 1]``, which ``|bias[c]| <= 2**30 - 1 - TAP_PRODUCT_MAX * taps``
    guarantees (``taps``: products summed per output, ``TAP_PRODUCT_MAX = 127 * 255`` per tap).
    """
    limit = 2**30 - 1 - TAP_PRODUCT_MAX * int(taps)
    bias, shift = np.asarray(bias, np.int64), np.asarray(shift, np.int64)
    return bool(limit >= 0 and np.all((shift >= -31) & (shift <= -1)) and np.all(np.abs(bias) <= limit))


EXP_BARREL = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)  # exp(-2**j), j = -2..4, Q0


def pot(x: np.ndarray, exponent: int | np.ndarray) -> np.ndarray:
    """SaturatingRoundingMultiplyByPOT: ``x * 2**exponent``, saturating up, rounding down (module docstring)."""
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    up = np.maximum(e, 0)
    threshold = (np.int64(1) << (31 - up)) - 1
    left = np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << up))
    return np.where(e >= 0, left, rdbpot(x, np.maximum(-e, 0)))


def rounding_half_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``trunc((a + b + sign(a + b)) / 2)``, ``sign(0) = 1`` (gemmlowp's RoundingHalfSum)."""
    s = np.asarray(a, dtype=np.int64) + np.asarray(b, dtype=np.int64)
    return np.where(s >= 0, (s + 1) // 2, -((1 - s) // 2))


def one_over_one_plus_x(a: np.ndarray) -> np.ndarray:
    """``1 / (1 + a)`` for a Q0 ``a`` in [0, 1), Q0 result: three Newton-Raphson steps (module docstring)."""
    h = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + srdhm(h, -1010580540)
    for _ in range(3):
        x = x + pot(srdhm(x, (1 << 29) - srdhm(h, x)), 2)
    return pot(x, 1)


def exp_on_negative_values(a: np.ndarray) -> np.ndarray:
    """``exp(a)`` for a Q5 ``a <= 0``, Q0 result (gemmlowp's ``exp_on_negative_values``; module docstring)."""
    a = np.asarray(a, dtype=np.int64)
    k = (a & ((1 << 24) - 1)) - (1 << 24)
    t = pot(k, 5) + (1 << 28)
    t2 = srdhm(t, t)
    t3 = srdhm(t2, t)
    t4 = srdhm(t2, t2)
    u = rdbpot(srdhm(rdbpot(t4, 2) + t3, 715827883) + t2, 1)
    r = 1895147668 + srdhm(1895147668, t + u)
    remainder = k - a
    for j, c in zip(range(-2, 5), EXP_BARREL):
        r = np.where(remainder & (1 << (26 + j)), srdhm(r, c), r)
    return np.where(a == 0, INT32_MAX, r)


def _clz32(x: np.ndarray) -> np.ndarray:
    """Leading zeros of non-negative int32 values as uint32 (32 for 0)."""
    return 32 - np.frexp(np.asarray(x, dtype=np.float64))[1].astype(np.int64)


def log_x_q12(x: np.ndarray) -> np.ndarray:
    """``log(x)`` of a Q12 ``x >= 1`` (positive int32 raws), Q5 result (module docstring)."""
    x = np.asarray(x, dtype=np.int64)
    sqrt_half, sqrt_sqrt_half, quarter = 1518500250, 1805811301, 1 << 23
    ha = _clz32(x)
    ra = pot(srdhm(pot(x, ha - 1), sqrt_half), 1)
    za = np.clip(pot(12 - ha, 25) + quarter, INT32_MIN, INT32_MAX)
    hb = _clz32(srdhm(x, sqrt_half)) - 1
    rb = pot(x, hb)
    zb = np.clip(pot(12 - hb, 25) - quarter, INT32_MIN, INT32_MAX)
    r, z = np.minimum(ra, rb), np.maximum(za, zb)
    p = rounding_half_sum(r, sqrt_sqrt_half)
    q = 2 * (r - sqrt_sqrt_half)
    c = srdhm(q, q)
    num = srdhm(q, r) + srdhm(srdhm(q, c), 117049297)
    den = srdhm(p, 1057819769 + q + srdhm(127690142, c)) + srdhm(638450708, q)
    return pot(srdhm(z, 1488522236) + srdhm(rdbpot(num, 6), one_over_one_plus_x(den)), 1)
