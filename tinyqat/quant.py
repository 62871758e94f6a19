"""Quantization primitives shared by QAT (training) and lowering (build).

Both sides call these functions on float32 torch tensors, so the integers the
simulator uses are exactly the ones the fake-quant forward saw.

* Activations, int8 asymmetric per tensor: the observed range ``[lo, hi]`` is widened to
  contain 0; ``scale = (hi - lo) / 255`` (float32; ``1.0`` when ``hi == lo``);
  ``zero_point = clamp(-128 - round(lo / scale), -128, 127)``.
* Weights, int8 symmetric per output channel: ``scale[c] = max|w[c]| / 127`` (float32;
  ``1.0`` for an all-zero channel), zero point 0, integers in ``[-127, 127]``.
* Bias, int32: ``round(b[c] / (s_in * s_w[c]))`` with the product taken in float32.
* ``quantize(x, s, zp, lo, hi) = clamp(round(x / s) + zp, lo, hi)`` with ``round`` half to
  even (``torch.round``); ``dequantize(q, s, zp) = (q - zp) * s``.
* Average pooling keeps the input grid: ``round_div(acc, n) = acc > 0 ? (acc + n/2) / n : (acc - n/2) / n``
  with C integer division (half away from zero, as TFLite's int8 average pool).
* BatchNorm folding: ``f = gamma / sqrt(var + eps)``; ``w' = w * f`` (per output channel);
  ``b' = beta + (b - mean) * f``.
"""

from __future__ import annotations

import torch

ACT_QMIN, ACT_QMAX = -128, 127
WEIGHT_QMIN, WEIGHT_QMAX = -127, 127
INT32_QMIN, INT32_QMAX = -(2**31), 2**31 - 1


def activation_qparams(lo: torch.Tensor, hi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale (float32 scalar tensor) and zero point (int64 scalar tensor) for range ``[lo, hi]``."""
    lo = torch.clamp(lo.detach().float(), max=0.0)
    hi = torch.clamp(hi.detach().float(), min=0.0)
    span = hi - lo
    scale = torch.where(span > 0, span / float(ACT_QMAX - ACT_QMIN), torch.ones_like(span))
    zp = torch.clamp(ACT_QMIN - torch.round(lo / scale), ACT_QMIN, ACT_QMAX).to(torch.int64)
    return scale, zp


def weight_scales(weight: torch.Tensor) -> torch.Tensor:
    """Per-output-channel symmetric scales (float32, shape ``[out]``) of ``weight [out, ...]``."""
    w = weight.detach().float().reshape(weight.shape[0], -1)
    amax = w.abs().amax(dim=1)
    return torch.where(amax > 0, amax / float(WEIGHT_QMAX), torch.ones_like(amax))


def quantize(
    x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | int, qmin: int, qmax: int
) -> torch.Tensor:
    """``clamp(round(x / scale) + zero_point, qmin, qmax)`` as a float tensor of integers."""
    return torch.clamp(torch.round(x / scale) + zero_point, qmin, qmax)


def dequantize(q: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | int) -> torch.Tensor:
    """``(q - zero_point) * scale``."""
    return (q - zero_point) * scale


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
    return input_scale.float() * w_scales


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
