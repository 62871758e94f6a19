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
* ``activation_interval(act)``: ``"none" -> (None, None)``, ``"relu" -> (0, None)``, ``"relu6" -> (0, 6)``,
  a Hardtanh pair as it is.
* ``activation_range((lo, hi), scale, zp)``: the int8 clamp of a fused activation as TFLite forms it,
  ``q_lo = max(-128, zp + roundf(lo / scale))``, ``q_hi = min(127, zp + roundf(hi / scale))`` with the
  division in float32 and ``roundf`` halving away from zero; an unbounded side keeps the int8 limit,
  and ``q_hi >= q_lo``.
"""

from __future__ import annotations

import torch

from tinyqat.fixedpoint import INT32_MAX, INT32_MIN

Interval = tuple[float | None, float | None]
INT8_MIN, INT8_MAX = -128, 127
NAMED_INTERVALS: dict[str, Interval] = {"none": (None, None), "relu": (0.0, None), "relu6": (0.0, 6.0)}


def activation_interval(activation: str | tuple[float | None, float | None] | list[float | None]) -> Interval:
    """The real interval ``(lo, hi)`` of an activation: a name of :data:`NAMED_INTERVALS` or a ``(lo, hi)`` pair."""
    if isinstance(activation, str):
        return NAMED_INTERVALS[activation]
    lo, hi = activation
    return (None if lo is None else float(lo), None if hi is None else float(hi))


def quantize_multipliers(m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(q_fixed, shift)`` int64 tensors for a non-negative float64 tensor ``m`` (module docstring)."""
    mantissa, exponent = torch.frexp(m.double())
    q_fixed = torch.floor(mantissa * 2.0**31 + 0.5).long()
    carry = q_fixed == 2**31
    q_fixed = torch.where(carry, q_fixed >> 1, q_fixed)
    shift = exponent.long() + carry.long()
    flush = (m == 0) | (shift < -31)
    q_fixed = torch.where(flush, 0, torch.where(shift > 30, INT32_MAX, q_fixed))
    shift = torch.where(flush, 0, shift.clamp(max=30))
    return q_fixed, shift


def effective_multipliers(s_in: torch.Tensor, s_w: torch.Tensor, s_out: torch.Tensor) -> torch.Tensor:
    """Real multipliers ``M[c]`` (float64, shape of ``s_w``) of a conv / fully connected layer (module docstring)."""
    if s_w.numel() == 1:
        return (s_in.float() * s_w.float()).double() / s_out.double()
    return s_in.double() * s_w.double() / s_out.double()


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


def _roundf_bound(bound: float, scale: torch.Tensor) -> torch.Tensor:
    """C ``roundf(bound / scale)`` with the division in float32, as an int64 scalar tensor."""
    v = (torch.tensor(bound, dtype=torch.float32, device=scale.device) / scale.float()).double()
    return (torch.sign(v) * torch.floor(v.abs() + 0.5)).long()  # float64: |v| + 0.5 is exact


def activation_range(interval: Interval, scale: torch.Tensor, zero_point: torch.Tensor) -> tuple[torch.Tensor,
                                                                                                   torch.Tensor]:
    """``(q_lo, q_hi)`` int64 scalar tensors: the int8 clamp of a fused activation (module docstring)."""
    lo, hi = interval
    zp = zero_point.long()
    q_lo = zp.new_tensor(INT8_MIN) if lo is None else (zp + _roundf_bound(lo, scale)).clamp(INT8_MIN, INT8_MAX)
    q_hi = zp.new_tensor(INT8_MAX) if hi is None else (zp + _roundf_bound(hi, scale)).clamp(max=INT8_MAX)
    return q_lo, torch.maximum(q_lo, q_hi)
