"""Quantization primitives shared by QAT (training) and lowering (build).

Both sides call these functions on float32 torch tensors, so the integers the
simulator uses are exactly the ones the fake-quant forward saw.

* Activations, int8 asymmetric per tensor: the observed range ``[lo, hi]`` is widened to
  contain 0; ``scale = (hi - lo) / 255`` (float32; ``1.0`` when ``hi == lo``);
  ``zero_point = clamp(-128 - round(lo / scale), -128, 127)``.
* Weights, symmetric per output channel with ``bits`` = 8 (default) or 4:
  ``qmax = 2**(bits - 1) - 1`` (127 or 7), ``scale[c] = max|w[c]| / qmax`` (float32; ``1.0`` for
  an all-zero channel), zero point 0, integers in ``[-qmax, qmax]`` (:func:`quantize_weight`).
  4-bit integers are still int8 values in the IR and the simulator; only the C arrays pack
  them two per byte (:mod:`tinyqat.codegen.pack`).
* Bias, int32: ``round(b[c] / (s_in * s_w[c]))`` with the product taken in float32, in
  ``[INT32_MIN, INT32_MAX]`` (:mod:`tinyqat.fixedpoint`).
* ``quantize(x, s, zp, lo, hi) = clamp(round(x / s) + zp, lo, hi)`` with ``round`` half to
  even (``torch.round``); ``dequantize(q, s, zp) = (q - zp) * s``.
* Average pooling keeps the input grid: ``round_div(acc, n) = acc > 0 ? (acc + n/2) / n : (acc - n/2) / n``
  with C integer division (half away from zero, as TFLite's int8 average pool).
* BatchNorm folding: ``f = gamma / sqrt(var + eps)``; ``w' = w * f`` (per output channel);
  ``b' = beta + (b - mean) * f``.
* Bounded functions have fixed output grids ``(scale, zero_point)`` (:data:`FIXED_QPARAMS`, TFLite's
  choice): sigmoid and softmax ``(1/256, -128)``, tanh ``(1/128, 0)``, log_softmax ``(16/256, 127)``.
* TFLite's int8 LOG_SOFTMAX constants (:func:`log_softmax_params`, its ``Prepare`` with beta 1 and 5
  integer bits): ``(q_in, L) = QM(s_in * 2**26)`` (double; ``s_in`` in [2**-25, 16), so the left shift
  ``L`` lies in [2, 30]),
  ``(q_rev, e_rev) = QM(2**(31 - L) / q_in)`` (``e_rev <= 0``), ``diff_min = -floor(31 * 2**26 / 2**L)``;
  and the exp table of the differences ``d = x - max(x)``: ``exp_table[-d] = rdbpot(exp_on_negative_values(
  mbqm(d, q_in, L)), 12)`` (a Q12 exp) for ``diff_min <= d <= 0``, 0 below (TFLite skips those terms).
* Lookup-table functions (:data:`LUT_FUNCTIONS`, the real ``f`` of an int8 table, float64 numpy):
  ``sigmoid(v) = 1 / (1 + exp(-v))``, ``tanh(v)``, ``hardswish(v) = v * clamp(v + 3, 0, 6) / 6``,
  ``hardsigmoid(v) = clamp(v + 3, 0, 6) / 6`` (fixed grid ``(1/256, -128)``), ``silu(v) = v * sigmoid(v)``,
  ``gelu(v) = v * (1 + erf(v / sqrt(2))) / 2``,
  ``gelu_tanh(v) = v * (1 + tanh(sqrt(2 / pi) * (v + 0.044715 v^3))) / 2``,
  ``elu(v; alpha) = v > 0 ? v : alpha * (exp(v) - 1)``, ``leaky_relu(v; slope) = v >= 0 ? v : slope * v``
  (tabulated with TFLite's integer LEAKY_RELU rule, :func:`leaky_relu_table`) and the scalar
  arithmetic ``affine(v; a, b) = a * v + b`` (``x * c``, ``x + c``, ``x - c``, ``x / c``, ``c - x``, ``-x``).
  :data:`LUT_PARAMS` names each function's constants, in the order they follow ``v``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable

import numpy as np
import torch

from tinyqat.fixedpoint import exp_on_negative_values, mbqm, quantize_multiplier, rdbpot

ACT_QMIN, ACT_QMAX = -128, 127
WEIGHT_BITS = (4, 8)
FIXED_QPARAMS: dict[str, tuple[float, int]] = {
    "sigmoid": (1.0 / 256.0, -128),
    "tanh": (1.0 / 128.0, 0),
    "softmax": (1.0 / 256.0, -128),
    "hardsigmoid": (1.0 / 256.0, -128),
    "log_softmax": (16.0 / 256.0, 127),
}
LOG_SOFTMAX_ROW_MAX = 4095  # the Q12 sum of exps (at most 2**19 per element) stays below 2**31
_ERF = np.frompyfunc(math.erf, 1, 1)
LUT_FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
    "tanh": np.tanh,
    "hardswish": lambda v: v * np.clip(v + 3.0, 0.0, 6.0) / 6.0,
    "hardsigmoid": lambda v: np.clip(v + 3.0, 0.0, 6.0) / 6.0,
    "silu": lambda v: v / (1.0 + np.exp(-v)),
    "gelu": lambda v: v * (1.0 + _ERF(v / math.sqrt(2.0)).astype(np.float64)) / 2.0,
    "gelu_tanh": lambda v: v * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3))) / 2.0,
    "elu": lambda v, alpha=1.0: np.where(v > 0, v, alpha * np.expm1(np.minimum(v, 0.0))),
    "leaky_relu": lambda v, slope=0.01: np.where(v >= 0, v, slope * v),
    "affine": lambda v, a=1.0, b=0.0: a * v + b,
}
LUT_PARAMS: dict[str, tuple[str, ...]] = {"elu": ("alpha",), "leaky_relu": ("negative_slope",),
                                          "affine": ("scale", "offset")}


def as_float32(t: torch.Tensor) -> torch.Tensor:
    """``t.detach().float()``, without the dispatches that would change nothing (no gradient, or already float32)."""
    if t.requires_grad:
        t = t.detach()
    return t if t.dtype == torch.float32 else t.float()


def activation_qparams(lo: torch.Tensor, hi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale (float32 scalar tensor) and zero point (int64 scalar tensor) for range ``[lo, hi]``."""
    lo = torch.clamp(as_float32(lo), max=0.0)
    span = torch.clamp(as_float32(hi), min=0.0) - lo
    scale = torch.where(span > 0, span / float(ACT_QMAX - ACT_QMIN), 1.0)
    return scale, _zero_point(lo, scale)


_F32 = struct.Struct("<f")


def round_float32(v: float) -> float:
    """``v`` rounded to float32 (to nearest, ties to even), as a Python float; +-inf where that overflows.  One
    ``+ - * /`` of float32 values computed in Python's float64 and rounded so is the float32 result: float64's 53 bits
    are at least ``2 * 24 + 2``, so the double rounding is innocuous."""
    try:
        return _F32.unpack(_F32.pack(v))[0]
    except OverflowError:
        return math.copysign(math.inf, v)


def normal_float32(*values: float) -> bool:
    """Whether every value is 0 or a normal float32 magnitude (at least ``2**-126``): where float32 tensor arithmetic
    and :func:`round_float32` agree even with subnormals flushed (``torch.set_flush_denormal``)."""
    return all(v == 0.0 or abs(v) >= 2.0**-126 for v in values)


def activation_qparams_host(lo: float, hi: float) -> tuple[float, int] | None:
    """:func:`activation_qparams` of a range held on the host as the values of finite float32 scalars, computed on
    the host: ``(scale, zero_point)`` as a Python float (a float32 value) and int, the tensor version's values (the
    same float32 operations, each rounded by :func:`round_float32`; ``round`` half to even in both); ``None`` where
    an operand or result is a float32 subnormal (:func:`normal_float32`): the caller takes the tensor version."""
    lo = 0.0 if lo > 0.0 else lo  # torch.clamp(lo, max=0): lo unless 0 lies below it
    span = round_float32((0.0 if hi < 0.0 else hi) - lo)
    scale = round_float32(span / float(ACT_QMAX - ACT_QMIN)) if span > 0 else 1.0
    if not normal_float32(lo, hi, span, scale):
        return None
    ratio = round_float32(lo / scale)
    if not normal_float32(ratio):
        return None
    return scale, min(max(ACT_QMIN - round(ratio), ACT_QMIN), ACT_QMAX)


def activation_zero_point(lo: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``clamp(-128 - round(min(lo, 0) / scale), -128, 127)`` as an int64 scalar tensor.

    Also used with a learned scale (LSQ), where the observed ``lo`` only places the zero point.
    """
    return _zero_point(torch.clamp(as_float32(lo), max=0.0), scale.detach())


def _zero_point(lo: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """:func:`activation_zero_point` of an ``lo <= 0`` (float32)."""
    return torch.clamp(ACT_QMIN - torch.round(lo / scale), ACT_QMIN, ACT_QMAX).to(torch.int64)


def weight_qmax(bits: int = 8) -> int:
    """Largest weight integer for ``bits`` (8: 127, 4: 7); the range is ``[-qmax, qmax]``."""
    if bits not in WEIGHT_BITS:
        raise ValueError(f"weight bits must be one of {WEIGHT_BITS}, got {bits!r}")
    return 2 ** (bits - 1) - 1


def weight_scales(weight: torch.Tensor, bits: int = 8) -> torch.Tensor:
    """Per-output-channel symmetric scales (float32, shape ``[out]``) of ``weight [out, ...]``."""
    amax = as_float32(weight).reshape(weight.shape[0], -1).abs().amax(dim=1)
    return torch.where(amax > 0, amax / float(weight_qmax(bits)), 1.0)


def quantize_weight(weight: torch.Tensor, bits: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """``(w_q, s_w)``: integers ``clamp(round(w / s_w[c]), -qmax, qmax)`` (float tensor) and the scales."""
    qmax = weight_qmax(bits)
    s_w = weight_scales(weight, bits)
    return quantize(weight, channel_view(s_w, weight.dim()), 0, -qmax, qmax), s_w


def round_scaled(x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | int) -> torch.Tensor:
    """``round(x / scale) + zero_point`` (not clamped) as a float tensor of integers."""
    q = torch.round(x / scale)
    return q if isinstance(zero_point, int) and zero_point == 0 else q + zero_point


def quantize(
    x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | int, qmin: int, qmax: int
) -> torch.Tensor:
    """``clamp(round(x / scale) + zero_point, qmin, qmax)`` as a float tensor of integers."""
    return torch.clamp(round_scaled(x, scale, zero_point), qmin, qmax)


def dequantize(q: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | int) -> torch.Tensor:
    """``(q - zero_point) * scale``."""
    return (q if isinstance(zero_point, int) and zero_point == 0 else q - zero_point) * scale


def round_div(acc: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """C's ``acc > 0 ? (acc + n/2) / n : (acc - n/2) / n`` (truncating division) on float tensors of integers.

    Exact while ``|acc| + n < 2**24`` (float32 integers).
    """
    return torch.sign(acc) * torch.floor((acc.abs() + torch.floor(n / 2)) / n)


def channel_view(v: torch.Tensor, ndim: int) -> torch.Tensor:
    """Reshape a per-output-channel vector to broadcast over a ``[out, ...]`` tensor of ``ndim`` dims."""
    return v.reshape((-1,) + (1,) * (ndim - 1))


def bias_scale(input_scale: torch.Tensor, w_scales: torch.Tensor) -> torch.Tensor:
    """Bias scale per channel: ``s_in * s_w[c]`` in float32."""
    return (input_scale if input_scale.dtype == torch.float32 else input_scale.float()) * w_scales


def fold_bn(
    weight: torch.Tensor,
    bias: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    eps: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold BatchNorm statistics into ``weight [out, ...]`` and ``bias [out]`` (float32)."""
    factor = gamma / torch.sqrt(var + eps)
    return weight * channel_view(factor, weight.dim()), beta + (bias - mean) * factor


def lookup_table(function: str, s_in: float, zp_in: int, s_out: float, zp_out: int,
                 params: tuple[float, ...] = ()) -> np.ndarray:
    """The int8 table of a :data:`LUT_FUNCTIONS` function with its constants ``params`` (int64, 256
    entries, index ``q + 128``): ``clamp(round(f(s_in * (q - zp_in), *params) / s_out) + zp_out, -128, 127)``
    for every int8 ``q``, in float64 with ``round`` half to even (``np.round``); ``leaky_relu`` is
    :func:`leaky_relu_table` instead.  Lowering and the QAT forward build it with this function."""
    if function == "leaky_relu":
        return leaky_relu_table(params[0] if params else 0.01, s_in, zp_in, s_out, zp_out)
    q = np.arange(ACT_QMIN, ACT_QMAX + 1, dtype=np.float64)
    real = LUT_FUNCTIONS[function](float(s_in) * (q - zp_in), *params)
    return np.clip(np.round(real / float(s_out)) + zp_out, ACT_QMIN, ACT_QMAX).astype(np.int64)


def leaky_relu_table(slope: float, s_in: float, zp_in: int, s_out: float, zp_out: int) -> np.ndarray:
    """TFLite int8 LEAKY_RELU as a table over every int8 ``q``: ``x_c = q - zp_in``, ``y = clamp(zp_out +
    (x_c >= 0 ? mbqm(x_c, QM(s_in / s_out)) : sign(slope) * mbqm(x_c, QM(|slope| * s_in / s_out))))``
    (ratios in double precision, ``QM`` = :func:`tinyqat.fixedpoint.quantize_multiplier`; TFLite's negative
    multiplier for a negative slope rounds symmetrically, so it equals the sign times the positive one)."""
    x_c = np.arange(ACT_QMIN, ACT_QMAX + 1, dtype=np.int64) - zp_in
    ratio = float(s_in) / float(s_out)
    q_id, e_id = quantize_multiplier(ratio)
    q_a, e_a = quantize_multiplier(abs(float(slope)) * ratio)
    negative = np.sign(slope).astype(np.int64) * mbqm(x_c, q_a, e_a)
    y = np.where(x_c >= 0, mbqm(x_c, q_id, e_id), negative) + zp_out
    return np.clip(y, ACT_QMIN, ACT_QMAX).astype(np.int64)


def softmax_exp_table(s_in: float) -> np.ndarray:
    """Integer softmax's ``exp_table[d] = round(2**16 * exp(-s_in * d))`` for ``d = 0..255`` (float64, int64
    result).  Lowering and the QAT forward build it with this function."""
    return np.round(65536.0 * np.exp(-float(s_in) * np.arange(256, dtype=np.float64))).astype(np.int64)



def log_softmax_scale_ok(s_in: float) -> bool:
    """Whether TFLite's LOG_SOFTMAX constants exist for the input scale: ``2**-25 <= s_in < 16``, i.e. the left
    shift of ``QM(s_in * 2**26)`` lies in [2, 30]."""
    return 2.0**-25 <= float(s_in) < 16.0


def log_softmax_params(s_in: float) -> tuple[int, int, int, int, int]:
    """TFLite's LOG_SOFTMAX constants ``(q_in, left_shift, q_rev, e_rev, diff_min)`` for the input scale
    ``s_in`` (module docstring); ``ValueError`` for ``s_in`` outside [2**-25, 16)."""
    if not log_softmax_scale_ok(s_in):
        raise ValueError(f"log_softmax input scale {s_in!r} is outside [2**-25, 16)")
    q_in, left = quantize_multiplier(float(s_in) * 2.0**26)  # below TFLite's cap 2**31 - 1 in this range
    q_rev, e_rev = quantize_multiplier(float(2 ** (31 - left)) / float(q_in))
    diff_min = -math.floor(31.0 * 2.0**26 / 2.0**left)
    return q_in, left, q_rev, e_rev, diff_min


def log_softmax_exp_table(s_in: float) -> np.ndarray:
    """``exp_table[k]``, ``k = max(x) - x = 0..255``: the Q12 exp TFLite's LOG_SOFTMAX sums for that difference,
    0 where it skips it (module docstring).  Lowering and the QAT forward build it with this function."""
    q_in, left, _, _, diff_min = log_softmax_params(s_in)
    d = -np.arange(256, dtype=np.int64)
    terms = rdbpot(exp_on_negative_values(mbqm(np.maximum(d, diff_min), q_in, left)), 12)
    return np.where(d >= diff_min, terms, 0).astype(np.int64)
