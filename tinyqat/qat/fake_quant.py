"""Fake quantization with a clipped straight-through estimator, and the quantizers that use it.

Every scale, zero point and rounding goes through :mod:`tinyqat.quant`, so the integers the
forward pass sees are the ones lowering computes from the saved parameters.

* Fake quant: ``y = dequantize(quantize(x, s, zp, qmin, qmax), s, zp)``
  ``= (clamp(round(x / s) + zp, qmin, qmax) - zp) * s``.
* Clipped STE gradient: ``dy/dx = 1`` where ``qmin <= round(x / s) + zp <= qmax``, else ``0``;
  scales and zero points receive no gradient.
* Activations (int8 per tensor, ``[-128, 127]``): moving-average min/max observer; the first
  observed batch sets ``min_val, max_val``, later batches do ``avg = avg + c * (batch - avg)``;
  ``(s, zp) = quant.activation_qparams(min_val, max_val)``.
* Fixed output grids (:class:`FixedQuantizer`, TFLite's choice for bounded functions): sigmoid
  and softmax ``(1/256, -128)``, tanh ``(1/128, 0)``; never observed.
* Weights (int8 symmetric per output channel, ``[-127, 127]``): ``s_w = quant.weight_scales(w)``.
* Bias (int32): ``s_b = quant.bias_scale(s_in, s_w)``, zero point 0.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tinyqat import quant


class FakeQuantize(torch.autograd.Function):
    """``dequantize(quantize(x, s, zp, qmin, qmax), s, zp)`` with the clipped straight-through gradient."""

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | int, qmin: int, qmax: int
    ) -> torch.Tensor:
        """Fake-quantize ``x``; remember where ``round(x / s) + zp`` lies inside ``[qmin, qmax]``."""
        unclamped = torch.round(x / scale) + zero_point
        ctx.save_for_backward((unclamped >= qmin) & (unclamped <= qmax))
        return quant.dequantize(quant.quantize(x, scale, zero_point, qmin, qmax), scale, zero_point)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """Pass ``grad`` where the value was representable, zero where it was clipped."""
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None, None, None


def fake_quantize(
    x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | int, qmin: int, qmax: int
) -> torch.Tensor:
    """Apply :class:`FakeQuantize` (``scale``/``zero_point`` broadcast against ``x``)."""
    return FakeQuantize.apply(x, scale, zero_point, qmin, qmax)


def fake_quantize_weight(weight: torch.Tensor) -> torch.Tensor:
    """Per-output-channel symmetric int8: ``s_w = quant.weight_scales(w)`` broadcast over ``w [out, ...]``."""
    scales = quant.channel_view(quant.weight_scales(weight), weight.dim())
    return fake_quantize(weight, scales, 0, quant.WEIGHT_QMIN, quant.WEIGHT_QMAX)


def fake_quantize_bias(bias: torch.Tensor, input_scale: torch.Tensor, w_scales: torch.Tensor) -> torch.Tensor:
    """Int32 bias: scale ``quant.bias_scale(s_in, s_w)`` per output channel, zero point 0."""
    return fake_quantize(bias, quant.bias_scale(input_scale, w_scales), 0, quant.INT32_QMIN, quant.INT32_QMAX)


class ActivationQuantizer(nn.Module):
    """Int8 per-tensor fake quant of an activation with a moving-average min/max observer.

    Buffers (in ``state_dict``): ``min_val``, ``max_val`` (float32 scalars) and ``observed``
    (bool scalar, set by the first observed batch). Flags (plain attributes):
    ``observer_enabled``, ``fake_quant_enabled`` and ``calibrating`` (set by
    :func:`tinyqat.qat.calibrate`).

    The observer updates when ``calibrating`` is set, or when the module is in training mode
    and ``observer_enabled``. Fake quant applies when ``fake_quant_enabled`` and the observer
    has seen data; before that the input passes through unchanged.
    """

    min_val: torch.Tensor
    max_val: torch.Tensor
    observed: torch.Tensor

    def __init__(self, averaging_constant: float = 0.01) -> None:
        super().__init__()
        if not 0.0 < averaging_constant <= 1.0:
            raise ValueError(f"averaging_constant must be in (0, 1], got {averaging_constant}")
        self.averaging_constant = averaging_constant
        self.observer_enabled = True
        self.fake_quant_enabled = True
        self.calibrating = False
        self.register_buffer("min_val", torch.zeros((), dtype=torch.float32))
        self.register_buffer("max_val", torch.zeros((), dtype=torch.float32))
        self.register_buffer("observed", torch.zeros((), dtype=torch.bool))

    def extra_repr(self) -> str:
        """Show the averaging constant and the observed range."""
        lo, hi = self.min_val.item(), self.max_val.item()
        return f"averaging_constant={self.averaging_constant}, range=[{lo:.4g}, {hi:.4g}]"

    @torch.no_grad()
    def observe(self, x: torch.Tensor) -> None:
        """Update the range: first batch ``min/max = batch``; then ``avg = avg + c * (batch - avg)``."""
        lo = x.detach().min().float()
        hi = x.detach().max().float()
        if bool(self.observed):
            self.min_val.add_(self.averaging_constant * (lo - self.min_val))
            self.max_val.add_(self.averaging_constant * (hi - self.max_val))
        else:
            self.min_val.copy_(lo)
            self.max_val.copy_(hi)
            self.observed.fill_(True)

    def qparams(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(scale, zero_point) = quant.activation_qparams(min_val, max_val)`` (float32, int64 scalars)."""
        return quant.activation_qparams(self.min_val, self.max_val)

    def fake_quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Fake-quantize ``x`` on this quantizer's current grid, without observing it."""
        if not (self.fake_quant_enabled and bool(self.observed)):
            return x
        scale, zero_point = self.qparams()
        return fake_quantize(x, scale, zero_point, quant.ACT_QMIN, quant.ACT_QMAX)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Observe ``x`` (see class docstring for when), then fake-quantize it."""
        if self.calibrating or (self.training and self.observer_enabled):
            self.observe(x)
        return self.fake_quantize(x)


class InputQuantizer(ActivationQuantizer):
    """The :class:`ActivationQuantizer` of the model input; remembers the per-sample input shape."""

    def __init__(self, input_shape: tuple[int, ...], averaging_constant: float = 0.01) -> None:
        super().__init__(averaging_constant)
        self.input_shape = tuple(input_shape)


class FixedQuantizer(ActivationQuantizer):
    """An :class:`ActivationQuantizer` on a fixed grid ``(scale, zero_point)``: it never observes.

    ``qparams()`` returns the fixed pair; ``min_val``/``max_val`` hold the grid's real range
    ``[scale * (-128 - zp), scale * (127 - zp)]`` for display, and ``observed`` is set from the start.
    """

    def __init__(self, scale: float, zero_point: int) -> None:
        super().__init__()
        self.scale = scale
        self.zero_point = zero_point
        self.min_val.fill_(scale * (quant.ACT_QMIN - zero_point))
        self.max_val.fill_(scale * (quant.ACT_QMAX - zero_point))
        self.observed.fill_(True)

    def observe(self, x: torch.Tensor) -> None:
        """A fixed grid ignores the data."""

    def qparams(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The fixed ``(scale, zero_point)`` as float32 and int64 scalars."""
        device = self.min_val.device
        return (torch.tensor(self.scale, dtype=torch.float32, device=device),
                torch.tensor(self.zero_point, dtype=torch.int64, device=device))


class WeightQuantizer(nn.Module):
    """Stateless per-output-channel symmetric int8 fake quant of a weight (see :func:`fake_quantize_weight`).

    ``fake_quant_enabled`` also governs the bias fake quant of the layer that owns it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.fake_quant_enabled = True

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        """Fake-quantized ``weight`` (unchanged when fake quant is disabled)."""
        return fake_quantize_weight(weight) if self.fake_quant_enabled else weight
