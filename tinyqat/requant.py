"""Requantization in torch tensor arithmetic: the twin of :mod:`tinyqat.fixedpoint`, batched, on any device.

The QAT forward (:class:`tinyqat.qat.modules.QuantWeighted`) and the torch integer model
(:mod:`tinyqat.sim.torch_model`) compute the device's output stage with these functions, so the
model being trained emits the integers the C kernels will; lowering forms its multipliers and clamps
with the same functions.  Every rule is the one of :mod:`tinyqat.fixedpoint` (TFLite's int8 reference
rules), on int64 tensors holding int32 values; ``tests/test_fixedpoint.py`` holds them equal.

* ``quantize_multipliers(M)``: :func:`tinyqat.fixedpoint.quantize_multiplier` of every element of a
  float64 tensor: ``q, e = frexp(M)``, ``q_fixed = floor(q * 2**31 + 0.5)``, ``q_fixed == 2**31 ->
  (2**30, e + 1)``, ``e < -31 -> (0, 0)``, ``e > 30 -> (2**31 - 1, 30)``.
* ``effective_multipliers(s_in, s_w, s_out)``: ``M[c] = (double)s_in * (double)s_w[c] / (double)s_out``;
  with one channel TFLite's per-tensor ``(double)(float)(s_in * s_w) / (double)s_out``.
* ``srdhm(a, b) = trunc((a*b + nudge) / 2**31)``, ``nudge = 2**30`` if ``a*b >= 0`` else ``1 - 2**30``
  (``INT32_MAX`` for ``a == b == INT32_MIN``);
  ``rdbpot(x, e) = (x >> e) + ((x & (2**e - 1)) > ((2**e - 1) >> 1) + (x < 0))``;
  ``mbqm(x, q, s) = rdbpot(srdhm(sat32(x * 2**max(s, 0)), q), max(-s, 0))`` (double rounding).
* ``mbqm_float(acc, bias, m, h)``: :func:`mbqm` of ``x = acc + bias`` in float64 arithmetic,
  ``floor(t + 1/2 + h * sign(t))`` with ``t = x * m``, ``(m, h, x_max) = float_multipliers(q, shift)``; exact
  (equal to :func:`mbqm`) wherever ``|acc| + |bias| <= x_max`` (:func:`float_multipliers` gives the proof).
* ``softmax_int8(x, exp_table)``: the integer softmax of :class:`tinyqat.ir.Softmax`.
* ``log_softmax_int8(x, exp_table, params)``: TFLite's int8 LOG_SOFTMAX of :class:`tinyqat.ir.LogSoftmax`;
  the per-row logarithm is :func:`log_x_q12`, the twin of :func:`tinyqat.fixedpoint.log_x_q12` on the
  tensor's device (with the twins of ``pot``, ``rounding_half_sum``, ``one_over_one_plus_x`` and the
  leading-zero count; ``tests/test_log_softmax.py`` holds them equal on edges and random values).
* ``activation_interval(act)``: ``"none" -> (None, None)``, ``"relu" -> (0, None)``, ``"relu6" -> (0, 6)``,
  a Hardtanh pair as it is, an infinite bound (one-sided ``clamp``) as ``None``.
* ``activation_range((lo, hi), scale, zp)``: the int8 clamp of a fused activation as TFLite forms it,
  ``q_lo = max(-128, zp + roundf(lo / scale))``, ``q_hi = min(127, zp + roundf(hi / scale))`` with the
  division in float32 and ``roundf`` halving away from zero; an unbounded side keeps the int8 limit,
  and ``q_hi >= q_lo``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from tinyqat.fixedpoint import INT32_MAX, INT32_MIN

Interval = tuple[float | None, float | None]
INT8_MIN, INT8_MAX = -128, 127
ADD_LEFT_SHIFT = 20  # TFLite's int8 ADD scales both inputs by 2**20 before requantizing them
NAMED_INTERVALS: dict[str, Interval] = {"none": (None, None), "relu": (0.0, None), "relu6": (0.0, 6.0)}


def activation_interval(activation: str | tuple[float | None, float | None] | list[float | None]) -> Interval:
    """The real interval ``(lo, hi)`` of an activation: a name of :data:`NAMED_INTERVALS` or a ``(lo, hi)`` pair."""
    if isinstance(activation, str):
        return NAMED_INTERVALS[activation]
    lo, hi = activation  # an infinite bound (a one-sided clamp) is unbounded
    return (None if lo is None or math.isinf(lo) else float(lo), None if hi is None or math.isinf(hi) else float(hi))


MULTIPLIER_SATURATED = 2.0**30 - 2.0**-1  # quantize_multipliers: (INT32_MAX, 30) from here on
MULTIPLIER_FLUSH = 2.0**-32 - 2.0**-64  # quantize_multipliers: (0, 0) below this


def quantize_multipliers(m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(q_fixed, shift)`` int64 tensors for a non-negative float64 tensor ``m`` (module docstring).

    ``frexp(0) = (0, 0)`` gives ``(0, 0)`` directly; the carry ``q_fixed == 2**31`` is ``q_fixed >> 31``.  The two
    ends are clamps of ``m``: every ``m >= 2**30 - 2**-2`` saturates (its shift, with the carry, exceeds 30) and
    so does ``MULTIPLIER_SATURATED = 2**30 - 2**-1`` itself, which gives ``(2**31 - 1, 30)`` as does every ``m``
    between the two; below ``MULTIPLIER_FLUSH = 2**-32 - 2**-64`` the shift stays below -31 even with the carry
    (``(0, 0)``), from it on it is -31.
    """
    m = _float64(m).clamp(max=MULTIPLIER_SATURATED)
    mantissa, exponent = torch.frexp(m.mul_(m >= MULTIPLIER_FLUSH))
    q_fixed = mantissa.mul_(2.0**31).add_(0.5).long()  # non-negative: the truncating conversion is the floor
    carry = q_fixed >> 31
    return q_fixed >> carry, carry.add_(exponent)


def effective_multipliers(s_in: torch.Tensor | float, s_w: torch.Tensor, s_out: torch.Tensor | float) -> torch.Tensor:
    """Real multipliers ``M[c]`` (float64, shape of ``s_w``) of a conv / fully connected layer (module docstring).
    ``s_in`` and ``s_out`` may be tensors or host floats holding float32 values (the same multipliers, fewer
    dispatches): each product and quotient takes its operands to the float type of the formula."""
    if s_w.numel() == 1:
        return (s_w.float() * (s_in.float() if isinstance(s_in, torch.Tensor) else s_in)).double() / s_out
    return s_w.double() * s_in / s_out


def srdhm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """SaturatingRoundingDoublingHighMul on int64 tensors holding int32 values (module docstring)."""
    ab = a * b
    nudge = torch.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    res = torch.div(ab + nudge, 1 << 31, rounding_mode="trunc")
    return torch.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, res)


def rdbpot(x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """RoundingDivideByPOT on int64 tensors, ``0 <= e <= 31`` (module docstring)."""
    mask = (torch.ones_like(e) << e) - 1
    threshold = (mask >> 1) + (x < 0).long()
    return (x >> e) + ((x & mask) > threshold).long()


def mbqm(x: torch.Tensor, q: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """MultiplyByQuantizedMultiplier (double rounding) on int64 tensors; ``q``/``shift`` broadcast."""
    left, right = shift.clamp(min=0), (-shift).clamp(min=0)
    return rdbpot(srdhm((x << left).clamp(INT32_MIN, INT32_MAX), q), right)


def mbqm_nonnegative(x: torch.Tensor, q: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """:func:`mbqm` for multipliers ``q >= 0`` (every conv / fully connected multiplier), in fewer tensor passes.

    With ``q >= 0`` the saturating case of ``srdhm`` cannot occur and its two roundings reduce to
    arithmetic shifts: ``srdhm(a, q) = (a*q + 2**30) >> 31``; ``rdbpot(v, e) = (v + (2**e >> 1) + n) >> e``
    with ``n = -1`` for ``v < 0 and e > 0``, else ``0`` (``(v >> 63) & -[e > 0]``).  Equal to :func:`mbqm`
    (tested); ``q``/``shift`` broadcast against ``x``.
    """
    left, right = shift.clamp(min=0), (-shift).clamp(min=0)
    if bool((left > 0).any()):
        x = (x << left).clamp_(INT32_MIN, INT32_MAX)
    v = (x * q).add_(1 << 30).bitwise_right_shift_(31)
    negative_adjust = torch.where(right > 0, -1, 0)
    return (v.bitwise_right_shift(63).bitwise_and_(negative_adjust).add_(v).add_((1 << right) >> 1)
            .bitwise_right_shift_(right))


# |x| * q * 2**max(shift, 0) at or below which mbqm_float is exact (see float_multipliers).
FLOAT_PRODUCT_MAX = 2.0**51


def float_multipliers(q: torch.Tensor, shift: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(m, h, x_max)`` float64 for :func:`mbqm_float` from ``(q, shift) = quantize_multipliers(M)`` (so ``q = 0``
    or ``2**30 <= q < 2**31``): ``m = q * 2**(shift - 31)`` and ``h = 2**(shift - 1)`` where ``shift < 0``,
    else ``0`` (both exact), and ``x_max = 2**51 / (q * 2**max(shift, 0))`` (:data:`FLOAT_PRODUCT_MAX`;
    ``inf`` for ``q = 0``): :func:`mbqm_float` equals :func:`mbqm` wherever ``|x| <= x_max``.

    Proof, with ``l = max(shift, 0)``, ``r = max(-shift, 0)``, ``X = x * 2**l`` and ``P = X * q``:
    ``|X| <= 2**51 / q <= 2**21``, so ``sat32(X) = X`` (``q = 0`` gives 0 on both sides); with ``q >= 0``,
    ``srdhm(X, q) = v = floor((P + 2**30) / 2**31)`` (:func:`mbqm_nonnegative`) and for ``r > 0``
    ``rdbpot(v, r) = floor((v + 2**(r-1) - [v < 0]) / 2**r)``; nested floors of divisions by integers combine,
    so ``mbqm = floor(t + 1/2 + h - 2h [v < 0])`` with ``t = P / 2**(31+r)`` (the ``h`` terms vanish for
    ``r = 0``).  ``v < 0`` iff ``t < -h``, and for ``-h <= t < 0`` both ``t + 1/2 + h`` and ``t + 1/2 - h``
    lie in ``[0, 1)`` (``h <= 1/4``), so ``[t < 0]`` may replace ``[v < 0]``:
    ``mbqm = floor(t + 1/2 + h * sign(t))``.  In float64: ``x * m`` is ``P`` (an integer ``<= 2**51``) times
    a power of two, exact (so is ``acc * m + bias * m`` for ``|acc| + |bias| <= x_max``: each product is
    exact and the exact sum is representable); for ``r <= 21`` every partial sum is an integer multiple of
    ``2**-(31+r)`` below ``2**53`` of them (``2**51 + 2**30 + 2**51``), exact; for ``r >= 22``
    ``|t| <= 1/4``, so the exact and the rounded sums lie in ``(0, 1)`` and both floors are 0.
    """
    power = _pow2(shift, -31)
    m = q * power
    h = power.mul(2.0**30).mul_(shift < 0)
    return m, h, FLOAT_PRODUCT_MAX / (q * _pow2(shift.clamp(min=0)))


def _pow2(k: torch.Tensor, offset: int = 0) -> torch.Tensor:
    """``2.0**(k + offset)`` (float64) of an int64 tensor with ``-1022 <= k + offset <= 1023``, exact on every device:
    the IEEE bit pattern ``(k + offset + 1023) << 52`` (``exp2`` and ``pow`` need not be exact on an accelerator)."""
    return ((k + (offset + 1023)) << 52).view(torch.float64)


def _float64(t: torch.Tensor) -> torch.Tensor:
    """``t.double()``, without a dispatch for a tensor that is float64 already."""
    return t if t.dtype == torch.float64 else t.double()


def mbqm_float(acc: torch.Tensor, bias: torch.Tensor, m: torch.Tensor, h: torch.Tensor,
               negative: bool = True) -> torch.Tensor:
    """:func:`mbqm` of ``acc + bias`` (float tensors holding integers; ``bias``, ``m``, ``h`` broadcast) as a float64
    tensor of integers: ``floor(t + 1/2 + h * sign(t))``, ``t = acc * m + bias * m``; exact where
    ``|acc| + |bias| <= x_max`` of :func:`float_multipliers` (each product exact on its own).

    ``negative=False`` is for a caller that clamps the result at 0 or above (a ReLU's clamp): it computes
    ``floor(t + (bias * m + 1/2 + h))`` (``+h`` for every sign, three passes fewer), whose ``max(., 0)`` is that of
    :func:`mbqm`: for ``t >= 0`` the two are the same; for ``t < 0`` both ``t + 1/2 +- h < 1`` floor to ``<= 0``.
    The folded constant and the sum are exact by the count of :func:`float_multipliers`.
    """
    if not negative:  # addcmul: bias * m is exact, so fused or not it is one rounding of the same sum
        return acc.to(torch.float64, copy=True).mul_(m).add_(torch.addcmul(h + 0.5, _float64(bias), m)).floor_()
    t = acc.to(torch.float64, copy=True).mul_(m).add_(_float64(bias) * m)
    return t.addcmul_(torch.sign(t), h).add_(0.5).floor_()


def _roundf(v: float) -> int:
    """C ``roundf``: nearest integer, halves away from zero (``v`` is a float32 value, so ``|v| + 0.5`` is exact)."""
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def activation_range(interval: Interval, scale: float, zero_point: int) -> tuple[int, int]:
    """``(q_lo, q_hi)``: the int8 clamp of a fused activation on the grid ``(scale, zero_point)`` (module docstring)."""
    lo, hi = interval
    s = np.float32(scale)
    q_lo = INT8_MIN if lo is None else max(INT8_MIN, zero_point + _roundf(float(np.float32(lo) / s)))
    q_hi = INT8_MAX if hi is None else min(INT8_MAX, zero_point + _roundf(float(np.float32(hi) / s)))
    q_lo = min(q_lo, INT8_MAX)
    return q_lo, max(q_lo, q_hi)


def softmax_int8(x: torch.Tensor, exp_table: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """tinyqat's integer softmax (:class:`tinyqat.ir.Softmax`) of int64 int8 values along ``dim``:
    ``e = exp_table[max(x) - x]``, ``y = clamp(floor((e * 256 + sum(e) // 2) / sum(e)) - 128, -128, 127)``."""
    e = exp_table[x.amax(dim=dim, keepdim=True) - x]
    total = e.sum(dim=dim, keepdim=True)
    return (torch.div(e * 256 + total // 2, total, rounding_mode="floor") - 128).clamp(INT8_MIN, INT8_MAX)



def pot(x: torch.Tensor, exponent: int) -> torch.Tensor:
    """SaturatingRoundingMultiplyByPOT (:func:`tinyqat.fixedpoint.pot`) for a scalar ``exponent``."""
    if exponent < 0:
        return rdbpot(x, torch.full_like(x, -exponent))
    threshold = (1 << (31 - exponent)) - 1
    return torch.where(x > threshold, INT32_MAX, torch.where(x < -threshold, INT32_MIN, x << exponent))


def pot_tensor(x: torch.Tensor, exponent: torch.Tensor) -> torch.Tensor:
    """:func:`pot` with a per-element ``exponent`` (int64 tensor), as :func:`tinyqat.fixedpoint.pot`."""
    up = exponent.clamp(min=0)
    threshold = (torch.ones_like(up) << (31 - up)) - 1
    left = torch.where(x > threshold, INT32_MAX, torch.where(x < -threshold, INT32_MIN, x << up))
    return torch.where(exponent >= 0, left, rdbpot(x, (-exponent).clamp(min=0)))


def rounding_half_sum(a: torch.Tensor, b: torch.Tensor | int) -> torch.Tensor:
    """``trunc((a + b + sign(a + b)) / 2)``, ``sign(0) = 1`` (:func:`tinyqat.fixedpoint.rounding_half_sum`)."""
    total = a + b
    return torch.where(total >= 0, torch.div(total + 1, 2, rounding_mode="floor"),
                       -torch.div(1 - total, 2, rounding_mode="floor"))


def one_over_one_plus_x(a: torch.Tensor) -> torch.Tensor:
    """``1 / (1 + a)`` for a Q0 ``a`` in [0, 1) (:func:`tinyqat.fixedpoint.one_over_one_plus_x`)."""
    h = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + srdhm(h, torch.full_like(h, -1010580540))
    for _ in range(3):
        x = x + pot(srdhm(x, (1 << 29) - srdhm(h, x)), 2)
    return pot(x, 1)


def clz32(x: torch.Tensor) -> torch.Tensor:
    """Leading zeros of non-negative int32 values held in int64 (32 for 0), exact integer arithmetic."""
    count = torch.full_like(x, 32)
    rest = x.clone()
    for bits in (16, 8, 4, 2, 1):
        high = rest >> bits
        keep = high > 0
        count = count - torch.where(keep, bits, 0)
        rest = torch.where(keep, high, rest)
    return count - (rest > 0).long()


def log_x_q12(x: torch.Tensor) -> torch.Tensor:
    """``log(x)`` of a Q12 ``x >= 1`` (positive int32 raws in int64), Q5 result: the twin of
    :func:`tinyqat.fixedpoint.log_x_q12` (same steps, same constants)."""
    sqrt_half, sqrt_sqrt_half, quarter = 1518500250, 1805811301, 1 << 23
    const = functools.partial(torch.full_like, x)
    ha = clz32(x)
    ra = pot(srdhm(pot_tensor(x, ha - 1), const(sqrt_half)), 1)
    za = (pot(12 - ha, 25) + quarter).clamp(INT32_MIN, INT32_MAX)
    hb = clz32(srdhm(x, const(sqrt_half))) - 1
    rb = pot_tensor(x, hb)
    zb = (pot(12 - hb, 25) - quarter).clamp(INT32_MIN, INT32_MAX)
    r, z = torch.minimum(ra, rb), torch.maximum(za, zb)
    p = rounding_half_sum(r, sqrt_sqrt_half)
    q = 2 * (r - sqrt_sqrt_half)
    c = srdhm(q, q)
    num = srdhm(q, r) + srdhm(srdhm(q, c), const(117049297))
    den = srdhm(p, 1057819769 + q + srdhm(const(127690142), c)) + srdhm(const(638450708), q)
    return pot(srdhm(z, const(1488522236)) + srdhm(rdbpot(num, const(6)), one_over_one_plus_x(den)), 1)


def log_softmax_int8(x: torch.Tensor, exp_table: torch.Tensor, params: tuple[int, int, int, int, int],
                     dim: int = -1) -> torch.Tensor:
    """TFLite's int8 log-softmax (:class:`tinyqat.ir.LogSoftmax`) of int64 int8 values along ``dim``;
    ``params = (input_multiplier, input_shift, reverse_multiplier, reverse_shift, diff_min)``."""
    q_in, left, q_rev, e_rev, diff_min = (torch.tensor(v, dtype=torch.int64, device=x.device) for v in params)
    d = x - x.amax(dim=dim, keepdim=True)
    total = exp_table[-d].sum(dim=dim, keepdim=True)
    log_sum = log_x_q12(total)
    cut = torch.maximum(mbqm(log_sum + INT32_MIN, q_rev, e_rev), diff_min - 1)
    scaled = (mbqm(d, q_in, left) - log_sum).clamp(INT32_MIN, INT32_MAX)
    y = (rdbpot(scaled, torch.full_like(scaled, 22)) + 127).clamp(INT8_MIN, INT8_MAX)
    return torch.where(d > cut, y, INT8_MIN)
