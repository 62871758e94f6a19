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
