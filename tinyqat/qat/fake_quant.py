"""Fake quantization with a clipped straight-through estimator, and the quantizers that use it.

Every scale, zero point and rounding of a value that lowering reproduces goes through
:mod:`tinyqat.quant`, so the integers the forward pass sees are the ones lowering computes from
the saved parameters.

* Fake quant: ``y = dequantize(quantize(x, s, zp, qmin, qmax), s, zp)``
  ``= (clamp(round(x / s) + zp, qmin, qmax) - zp) * s`` (``round(x / s)`` computed once).
* Clipped STE gradient: ``dy/dx = 1`` where ``qmin <= round(x / s) + zp <= qmax``, else ``0``;
  scales and zero points receive no gradient (except learned scales, below).
* Activations (int8 per tensor, ``[-128, 127]``): ``(s, zp) = quant.activation_qparams(min_val, max_val)``
  of the quantizer's observer (:mod:`tinyqat.qat.observers`: a moving average of each batch's range, by
  min/max, percentile or MSE; ``observer=`` one of :data:`~tinyqat.qat.observers.OBSERVERS`).
* Inner activations fake-quantize with :class:`FastFakeQuantize`, the cheapest form of the same
  function: ``q = round(x * (1 / s))``, ``y = clamp(q, qmin - zp, qmax - zp) * s`` (equal to the
  formula above because ``zp`` is an integer), and a backward that is one fused
  ``hardtanh_backward`` on the saved ``q`` (no boolean mask).  It rounds ``x * (1 / s)``, as
  PyTorch's own ``torch.fake_quantize_per_tensor_affine`` does, where lowering's formula is
  ``round(x / s)``: the two can differ by one ulp before rounding, i.e. by one step only for a value
  within an ulp of a rounding boundary.  Lowering never re-quantizes an inner activation (the
  integer kernels requantize accumulators with their own fixed-point arithmetic), so this changes
  no integer of the C code; and where the layers compute the device's integers
  (:func:`tinyqat.qat.modules.exact_now`) this value only carries the gradient.  The model *input*
  (:class:`InputQuantizer`), weights and biases use the
  exact :func:`tinyqat.quant.quantize`, because :func:`tinyqat.quantize_input` and lowering
  reproduce them.
* A layer's fused activation ``act(y) = clamp(y, a, b)`` and its output fake quant run as one
  :class:`ClampedFakeQuantize`: ``r = round(y * (1 / s))``, value ``clamp(r, lo, hi) * s`` with ``lo, hi`` the
  grid's bounds applied to ``r(a), r(b)``, gradient ``grad * [y_lo < y < y_hi]`` (:func:`clamped_grid_bounds`),
  equal bit for bit, value and gradient, to :class:`FastFakeQuantize` of ``act(y)`` with the activation's
  gradient; a min/max observer takes the clamped range of ``y``.  Where the layer's value is the device's
  integers, :class:`ClampedExactOutput` keeps that gradient and skips the fake quant.
* Learned scales (``learn_scale=True``, LSQ: Esser et al., "Learned Step Size Quantization"):
  the activation scale is a trainable parameter ``scale`` initialised from the observer's scale on
  the first fake-quantized batch; the zero point stays ``quant.activation_zero_point(min_val,
  scale)`` (observer-placed).  Forward as above with ``s = scale``; gradients
  ``dy/dx`` = clipped STE, ``dy/ds = g * (round(x/s) - x/s)`` inside the range, ``g * (qmin - zp)``
  below it and ``g * (qmax - zp)`` above, with ``g = 1 / sqrt(numel(x) * qmax)`` (LSQ's gradient
  scale).  The saved qparams are the learned scale and its zero point (same artifact schema).
  Weight scales are never learned: lowering recomputes them from ``max|w|``.
* Fixed output grids (:class:`FixedQuantizer`, TFLite's choice for bounded functions): sigmoid
  and softmax ``(1/256, -128)``, tanh ``(1/128, 0)``; never observed.
* Weights (symmetric per output channel, ``bits`` 8 or 4: ``[-127, 127]`` or ``[-7, 7]``):
  ``s_w = quant.weight_scales(w, bits)``.
* Bias (int32): ``s_b = quant.bias_scale(s_in, s_w)``, zero point 0.
"""

from __future__ import annotations

import functools
import math
import struct
from typing import Any

import torch
from torch import nn

from tinyqat import quant
from tinyqat.fixedpoint import INT32_MAX, INT32_MIN
from tinyqat.qat.observers import FixedRangeObserver, MinMaxObserver, Observer, distributed, observer_class
from tinyqat.requant import Interval, activation_range


class FakeQuantize(torch.autograd.Function):
    """``dequantize(quantize(x, s, zp, qmin, qmax), s, zp)`` with the clipped straight-through gradient."""

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | int, qmin: int, qmax: int
    ) -> torch.Tensor:
        """Fake-quantize ``x``; remember where ``round(x / s) + zp`` lies inside ``[qmin, qmax]``.

        With an integer ``zp`` (a host value) in two passes fewer: ``clamp(round(x / s), qmin - zp, qmax - zp) * s``,
        the same numbers (``round(x / s)`` is an integer, exact in float32 below ``2**24``, and both forms clamp to the
        same end beyond that); the range test ``qmin - zp <= round(x / s) <= qmax - zp`` is the same test too.
        """
        if isinstance(zero_point, int):
            q = torch.round(x / scale)
            lo, hi = qmin - zero_point, qmax - zero_point
            ctx.bounds = (lo - 0.5, hi + 0.5)  # q is integral: lo - 0.5 < q < hi + 0.5 <=> lo <= q <= hi
            ctx.save_for_backward(q)
            return torch.clamp(q, lo, hi).mul_(scale)
        q = quant.round_scaled(x, scale, zero_point)
        ctx.bounds = (qmin - 0.5, qmax + 0.5)
        ctx.save_for_backward(q)
        return quant.dequantize(torch.clamp(q, qmin, qmax), scale, zero_point)  # = quant.quantize, rounded once

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """Pass ``grad`` where the value was representable, zero where it was clipped."""
        (q,) = ctx.saved_tensors
        return torch.ops.aten.hardtanh_backward(grad, q, *ctx.bounds), None, None, None, None


class LearnedScaleFakeQuantize(torch.autograd.Function):
    """Per-tensor fake quant with a learned scale and the LSQ gradient (see the module docstring)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor, qmin: int, qmax: int,
                grad_factor: float) -> torch.Tensor:
        """Exactly :func:`tinyqat.quant.quantize` then dequantize, with ``s = scale``."""
        scaled = x / scale
        q = torch.round(scaled) + zero_point
        ctx.save_for_backward(scaled, q, zero_point)
        ctx.bounds = (qmin, qmax, grad_factor)
        return quant.dequantize(torch.clamp(q, qmin, qmax), scale, zero_point)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """Clipped STE for ``x``; LSQ's step-size gradient for ``scale``."""
        scaled, q, zero_point = ctx.saved_tensors
        qmin, qmax, g = ctx.bounds
        below, above = q < qmin, q > qmax
        inside = ~(below | above)
        d_scale = torch.where(inside, (q - zero_point) - scaled,
                              torch.where(below, (qmin - zero_point).float(), (qmax - zero_point).float()))
        return grad * inside, (grad * d_scale).sum().reshape(()) * g, None, None, None, None


class FastFakeQuantize(torch.autograd.Function):
    """Per-tensor fake quant of an inner activation, ``x * (1 / s)`` rounding (see the module docstring)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, scale: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
        """``clamp(round(x * (1 / s)), lo, hi) * s`` with ``lo = qmin - zp``, ``hi = qmax - zp``."""
        q = torch.round(x * torch.reciprocal(scale))
        ctx.save_for_backward(q)
        ctx.bounds = (lo - 0.5, hi + 0.5)  # q is integral: lo - 0.5 < q < hi + 0.5 <=> lo <= q <= hi
        return torch.clamp(q, lo, hi).mul_(scale)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """``grad`` where ``lo <= q <= hi``, else 0 (clipped straight-through estimator)."""
        (q,) = ctx.saved_tensors
        return torch.ops.aten.hardtanh_backward(grad, q, *ctx.bounds), None, None, None


class ClampedFakeQuantize(torch.autograd.Function):
    """:class:`FastFakeQuantize` of ``clamp(y, a, b)`` (a fused activation) in one pass set, with the gradient of
    the activation and the fake quant together (see :func:`clamped_grid_bounds` for ``lo, hi, y_lo, y_hi``)."""

    @staticmethod
    def forward(ctx: Any, y: torch.Tensor, scale: torch.Tensor, lo: int, hi: int, y_lo: float,
                y_hi: float) -> torch.Tensor:
        """``clamp(round(y * (1 / s)), lo, hi) * s``."""
        ctx.save_for_backward(y)
        ctx.bounds = (y_lo, y_hi)
        return torch.mul(y, torch.reciprocal(scale)).round_().clamp_(lo, hi).mul_(scale)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """``grad`` where ``y_lo < y < y_hi``, else 0."""
        (y,) = ctx.saved_tensors
        return torch.ops.aten.hardtanh_backward(grad, y, *ctx.bounds), None, None, None, None, None


class ClampedExactOutput(torch.autograd.Function):
    """A weighted layer's exact output in one autograd node: forward ``exact`` (the device's values, a tensor without
    gradient), backward the gradient that :class:`ClampedFakeQuantize` of the real-valued accumulator
    ``y = (b_int * s_b)[c] + acc * s_b[c]`` (``y``, computed without gradient, is passed in) gives ``acc`` and
    ``b_int``, as autograd through that expression would: ``g = grad`` where ``y_lo < y < y_hi``, else 0;
    ``d acc = g * s_b[c]``; ``d b_int = sum_to_size(g, (1, C, 1, ...)) * s_b`` (the straight-through form of
    :class:`ExactForward` without the fake quant whose value it discards, nor the surrogate's autograd nodes)."""

    @staticmethod
    def forward(ctx: Any, acc: torch.Tensor, b_int: torch.Tensor, s_b: torch.Tensor, y: torch.Tensor,
                exact: torch.Tensor, y_lo: float, y_hi: float) -> torch.Tensor:
        """``exact``."""
        ctx.save_for_backward(y, s_b)
        ctx.bounds = (y_lo, y_hi)
        return exact

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """``(g * s_b[c], sum_to_size(g) * s_b)`` with ``g = grad * [y_lo < y < y_hi]``."""
        y, s_b = ctx.saved_tensors
        g = torch.ops.aten.hardtanh_backward(grad, y, *ctx.bounds)
        s_view = s_b.reshape((1, -1) + (1,) * (g.dim() - 2))
        grad_b = g.sum_to_size(s_view.shape).reshape(-1) * s_b if ctx.needs_input_grad[1] else None
        grad_acc = g.mul_(s_view) if ctx.needs_input_grad[0] else None  # g is this node's own tensor: scaled in place
        return grad_acc, grad_b, None, None, None, None, None


def _clamp(x: torch.Tensor, interval: Interval) -> torch.Tensor:
    """``clamp(x, lo, hi)`` with ``None`` for an unbounded side (the tensor itself when both are)."""
    return x if interval == (None, None) else torch.clamp(x, *interval)


_F32 = struct.Struct("<f")
_U32 = struct.Struct("<I")
_float32 = quant.round_float32


def _clamp_value(v: float, interval: Interval) -> float:
    """``float(torch.clamp(t, *interval))`` of a float32 scalar tensor ``t`` of value ``v``, on the host: the bounds
    taken to float32, ``v`` kept unless a bound lies beyond it (so NaN stays NaN, as in the tensor clamp)."""
    lo, hi = interval
    if lo is not None:
        v = max(v, _float32(lo))
    if hi is not None:
        v = min(v, _float32(hi))
    return v


def _next_float32(v: float, up: bool) -> float:
    """The float32 next to the float32 value ``v`` towards +inf (``up``) or -inf (``numpy.nextafter`` on float32)."""
    if v == 0.0:
        return math.copysign(2.0**-149, 1.0 if up else -1.0)
    bits = _U32.unpack(_F32.pack(v))[0]
    return _F32.unpack(_U32.pack(bits + 1 if (v > 0.0) == up else bits - 1))[0]


def _grid_index(v: float, inverse_scale: float) -> float:
    """``round(v * (1 / s))`` as :class:`FastFakeQuantize` computes it (float32 product, half to even) for float32
    ``v`` and ``inverse_scale``: their exact product fits a double, so rounding it to float32 is the float32 product."""
    r = _float32(v * inverse_scale)
    return float(round(r)) if math.isfinite(r) else r


def clamped_grid_bounds(scale: float, zero_point: int, interval: Interval,
                        inverse_scale: float | None = None) -> tuple[int, int, float, float]:
    """``(lo, hi, y_lo, y_hi)`` such that ``FastFakeQuantize(clamp(y, a, b))`` (``(a, b) = interval``, ``None`` =
    unbounded; the clamp as ``F.relu`` / ``F.relu6`` / ``F.hardtanh`` compute it) equals, value and gradient,
    ``clamp(round(y * (1 / s)), lo, hi) * s`` with gradient ``grad * [y_lo < y < y_hi]`` for float32 ``y``.

    With ``inv = 1 / s`` (float32) and ``r(v) = round(v * inv)``, monotone in ``v``: ``r(clamp(y, a, b)) =
    clamp(r(y), r(a), r(b))``, and clamping that to ``[qmin - zp, qmax - zp]`` is one clamp to
    ``[lo, hi]`` = the grid's bounds applied to ``r(a)``, ``r(b)``.  The gradient of the composition is
    ``grad`` where ``a < y < b`` (the activation's strict backward) and ``qmin - zp <= r(y) <= qmax - zp``
    (there ``clamp(y) = y``); ``r`` monotone makes the second ``v_lo <= y <= v_hi`` for the smallest and
    largest float32 ``v`` inside, found by stepping ulps from ``(bound -/+ 1/2) * s``; the two strict
    bounds are ``y_lo = max(a, prev(v_lo))`` and ``y_hi = min(b, next(v_hi))``.  ``inverse_scale``: the float32
    ``1 / s`` the device computes (``torch.reciprocal``), by default the IEEE quotient.
    """
    inv = _float32(1.0 / _float32(scale)) if inverse_scale is None else _float32(inverse_scale)
    q_lo, q_hi = quant.ACT_QMIN - zero_point, quant.ACT_QMAX - zero_point
    v_hi = _float32((q_hi + 0.5) * scale)
    while _grid_index(v_hi, inv) > q_hi:
        v_hi = _next_float32(v_hi, False)
    while _grid_index(_next_float32(v_hi, True), inv) <= q_hi:
        v_hi = _next_float32(v_hi, True)
    v_lo = _float32((q_lo - 0.5) * scale)
    while _grid_index(v_lo, inv) < q_lo:
        v_lo = _next_float32(v_lo, True)
    while _grid_index(_next_float32(v_lo, False), inv) >= q_lo:
        v_lo = _next_float32(v_lo, False)
    a, b = interval
    lo = q_lo if a is None else int(min(max(_grid_index(_float32(a), inv), q_lo), q_hi))
    hi = q_hi if b is None else int(min(max(_grid_index(_float32(b), inv), q_lo), q_hi))
    y_lo = _next_float32(v_lo, False)
    y_hi = _next_float32(v_hi, True)
    return (lo, hi, y_lo if a is None else max(_float32(a), y_lo),
            y_hi if b is None else min(_float32(b), y_hi))


def _integers(x: torch.Tensor, scale: torch.Tensor, lo: float, hi: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(q, clamp(q, lo, hi))`` with ``q = round(x / s)``: :class:`IntegerSTE`'s forward (``q`` for its gradient)."""
    q = torch.round(x / scale)
    return q, torch.clamp(q, lo, hi)


def _integers_grad(grad: torch.Tensor, q: torch.Tensor, scale: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """:class:`IntegerSTE`'s gradient: ``grad / s`` where ``lo <= q <= hi``, else ``0``."""
    # q is integral: lo - 0.5 < q < hi + 0.5 <=> lo <= q <= hi
    return torch.ops.aten.hardtanh_backward(grad, q, lo - 0.5, hi + 0.5) / scale


class IntegerSTE(torch.autograd.Function):
    """``clamp(round(x / s), lo, hi)``: the integers of ``x`` on the grid ``s`` (zero point 0), with the
    clipped straight-through gradient ``d/dx = 1 / s`` where ``lo <= round(x / s) <= hi``, else ``0``."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, scale: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
        """The clamped integers (a float tensor)."""
        q, clamped = _integers(x, scale, lo, hi)
        ctx.save_for_backward(q, scale)
        ctx.bounds = (lo, hi)
        return clamped

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """``grad / s`` inside the range, ``0`` outside."""
        q, scale = ctx.saved_tensors
        return _integers_grad(grad, q, scale, *ctx.bounds), None, None, None


class LayerIntegers(torch.autograd.Function):
    """The integer operands of a layer's exact forward in one autograd node (one node where three would cost three
    times the Python dispatch): ``x_int = round(x * inverse_scale)`` of an input already on its grid (its integers
    ``q - zp`` exactly: ``x = k * s`` rounded to float32 is within an ulp of ``k * s``), gradient ``inverse_scale``;
    ``w_int = IntegerSTE(w, w_scale, -qmax, qmax)`` and ``b_int = IntegerSTE(b, b_scale, INT32_MIN, INT32_MAX)``,
    values and gradients as :class:`IntegerSTE`.  An output whose input has no gradient has none either."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, inverse_scale: torch.Tensor, w: torch.Tensor, w_scale: torch.Tensor,
                qmax: int, b: torch.Tensor, b_scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(x_int, w_int, b_int)`` (float tensors of integers)."""
        x_int = torch.mul(x, inverse_scale).round_()
        w_q, w_int = _integers(w, w_scale, -qmax, qmax)
        b_q, b_int = _integers(b, b_scale, INT32_MIN, INT32_MAX)
        ctx.save_for_backward(inverse_scale, w_q, w_scale, b_q, b_scale)
        ctx.qmax = qmax
        ctx.set_materialize_grads(False)
        for k, out in ((0, x_int), (2, w_int), (5, b_int)):
            if not ctx.needs_input_grad[k]:
                ctx.mark_non_differentiable(out)
        return x_int, w_int, b_int

    @staticmethod
    def backward(ctx: Any, grad_x: torch.Tensor | None, grad_w: torch.Tensor | None,
                 grad_b: torch.Tensor | None) -> tuple[torch.Tensor | None, ...]:
        """``grad_x * inverse_scale`` and the clipped straight-through gradients of the weights and the bias."""
        inverse_scale, w_q, w_scale, b_q, b_scale = ctx.saved_tensors
        qmax = ctx.qmax
        return (None if grad_x is None else grad_x * inverse_scale, None,
                None if grad_w is None else _integers_grad(grad_w, w_q, w_scale, -qmax, qmax), None, None,
                None if grad_b is None else _integers_grad(grad_b, b_q, b_scale, INT32_MIN, INT32_MAX), None)


class ExactForward(torch.autograd.Function):
    """Forward ``exact`` (a tensor without gradient), backward the gradient of ``surrogate``: the
    straight-through form ``surrogate + (exact - surrogate).detach()`` without its two extra passes."""

    @staticmethod
    def forward(ctx: Any, surrogate: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
        """``exact``."""
        return exact

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        """All of ``grad`` to ``surrogate``."""
        return grad, None


def fake_quantize(
    x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | int, qmin: int, qmax: int
) -> torch.Tensor:
    """Apply :class:`FakeQuantize` (``scale``/``zero_point`` broadcast against ``x``)."""
    return FakeQuantize.apply(x, scale, zero_point, qmin, qmax)


def fake_quantize_weight(weight: torch.Tensor, bits: int = 8, scales: torch.Tensor | None = None) -> torch.Tensor:
    """Per-output-channel symmetric ``bits``-bit: ``s_w = quant.weight_scales(w, bits)`` broadcast over ``w``
    (``scales`` may pass that ``s_w`` when the caller has it already)."""
    qmax = quant.weight_qmax(bits)
    s_w = quant.weight_scales(weight, bits) if scales is None else scales
    return fake_quantize(weight, quant.channel_view(s_w, weight.dim()), 0, -qmax, qmax)


class ActivationQuantizer(nn.Module):
    """Int8 per-tensor fake quant of an activation, on the range of its observer.

    Submodule ``range_observer`` (an :class:`~tinyqat.qat.observers.Observer`, chosen by ``observer``,
    one of :data:`~tinyqat.qat.observers.OBSERVERS`) holds the statistics in its buffers ``min_val``,
    ``max_val`` and ``observed``; the quantizer shows them as read-only attributes of the same names.
    With ``learn_scale`` the quantizer also has the parameter ``scale`` and the buffer
    ``scale_initialized``.  Flags (plain attributes): ``observer_enabled``, ``fake_quant_enabled`` and
    ``calibrating`` (set by :func:`tinyqat.qat.calibrate`).

    The observer updates when ``calibrating`` is set, or when the module is in training mode
    and ``observer_enabled``. Fake quant applies when ``fake_quant_enabled`` and the observer
    has seen data; before that the input passes through unchanged.

    State dicts written before the observer was a submodule (``min_val``, ``max_val``, ``observed`` on
    the quantizer itself) still load.
    """

    range_observer: Observer
    scale_initialized: torch.Tensor
    exact_rounding = False  # True: round(x / s) exactly as lowering (the model input)
    layer_name = "?"  # the user's module path of the layer whose output this is (set by prepare_qat), for errors

    def __init__(self, averaging_constant: float = 0.01, observer: str = "minmax", learn_scale: bool = False) -> None:
        super().__init__()
        self.observer_enabled = True
        self.fake_quant_enabled = True
        self.calibrating = False
        self.learn_scale = False
        self.range_observer = MinMaxObserver(averaging_constant)  # checks the constant; configure sets the kind
        self.configure(observer, learn_scale)

    @property
    def observer(self) -> str:
        """The name of the observer kind (``"minmax"``, ``"percentile"``, ``"mse"``; ``"fixed"`` for a fixed grid)."""
        return self.range_observer.name

    @observer.setter
    def observer(self, name: str) -> None:
        """Assigning a name is :meth:`configure` with that observer (the learned-scale setting unchanged)."""
        self.configure(name, self.learn_scale)

    @property
    def averaging_constant(self) -> float:
        """The observer's moving-average constant ``c``."""
        return self.range_observer.averaging_constant

    @property
    def min_val(self) -> torch.Tensor:
        """The observer's buffer ``min_val`` (low end of the observed range)."""
        return self.range_observer.min_val

    @property
    def max_val(self) -> torch.Tensor:
        """The observer's buffer ``max_val`` (high end of the observed range)."""
        return self.range_observer.max_val

    @property
    def observed(self) -> torch.Tensor:
        """The observer's buffer ``observed`` (bool scalar: it has seen data)."""
        return self.range_observer.observed

    def configure(self, observer: str = "minmax", learn_scale: bool = False) -> None:
        """Choose the observer (one of :data:`~tinyqat.qat.observers.OBSERVERS`) and whether the scale is learned.

        A new observer kind takes over the statistics gathered so far.  Turning ``learn_scale`` on adds
        the parameter ``scale`` (initialised from the observer on the first fake-quantized batch); a
        quantizer's scale cannot be un-learned.
        """
        cls = observer_class(observer)
        if self.learn_scale and not learn_scale:
            raise ValueError("a learned scale cannot be turned off")
        if type(self.range_observer) is not cls:
            self.range_observer = self.range_observer.converted(cls)
        if learn_scale and not self.learn_scale:
            self.learn_scale = True
            self.scale = nn.Parameter(torch.ones((), dtype=torch.float32, device=self.min_val.device))
            self.register_buffer("scale_initialized", torch.zeros((), dtype=torch.bool, device=self.min_val.device))

    def extra_repr(self) -> str:
        """Show the learned scale, if any (the observer shows its own range)."""
        return f"learned scale={self.scale.item():.4g}" if self.learn_scale else ""

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        """Accept the older layout with the observer's buffers directly on the quantizer."""
        for buf in ("min_val", "max_val", "observed"):
            new_key = f"{prefix}range_observer.{buf}"
            if prefix + buf in state_dict and new_key not in state_dict:
                state_dict[new_key] = state_dict.pop(prefix + buf)
        super()._load_from_state_dict(state_dict, prefix, *args)

    def quantizes(self) -> bool:
        """Whether :meth:`fake_quantize` applies: fake quant enabled and the observer has seen data
        (:meth:`~tinyqat.qat.observers.Observer.is_observed`, read from the device once per change)."""
        return self.fake_quant_enabled and self.range_observer.is_observed()

    def observe(self, x: torch.Tensor) -> None:
        """Update the observer's range with ``x`` (:meth:`tinyqat.qat.observers.Observer.update`)."""
        self.range_observer.update(x)

    def _learned_scale(self) -> torch.Tensor:
        """The trainable scale, initialised from the observer on first use, kept positive."""
        if not bool(self.scale_initialized):
            with torch.no_grad():
                self.scale.copy_(quant.activation_qparams(*self.range_observer.range())[0])
                self.scale_initialized.fill_(True)
        return torch.clamp(self.scale, min=1e-8)

    def qparams(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(scale, zero_point)``: ``quant.activation_qparams(min_val, max_val)``, or the learned scale
        with ``quant.activation_zero_point(min_val, scale)`` (float32, int64 scalars; no gradient).

        Memoised on the identity and in-place version counters of ``min_val`` / ``max_val``, so any
        change to them, ``load_state_dict`` included, recomputes; not memoised under
        ``torch.distributed``, whose collectives (DDP's buffer broadcast) write buffers without
        bumping their version counters.  Where the observer remembers the range it wrote
        (:meth:`~tinyqat.qat.observers.Observer.host_range`) the pair is computed on the host
        (:func:`tinyqat.quant.activation_qparams_host`, the same values in two dispatches instead of eleven).
        """
        obs = self.range_observer
        if self.learn_scale and obs.is_observed():
            scale = self._learned_scale().detach()
            return scale, quant.activation_zero_point(obs.min_val, scale)
        lo, hi = obs.range()
        key = (id(lo), lo._version, id(hi), hi._version)
        cached = self.__dict__.get("_qparams_cache")
        if cached is None or cached[0] != key or distributed():
            host_range = obs.host_range()
            host = None if host_range is None else quant.activation_qparams_host(*host_range)
            if host is None:
                value = quant.activation_qparams(lo, hi)
            else:  # the same values, computed on the host from the observer's remembered range
                value = (torch.tensor(host[0], dtype=torch.float32, device=lo.device),
                         torch.tensor(host[1], dtype=torch.int64, device=lo.device))
            cached = (key, value, host)
            self.__dict__["_qparams_cache"] = cached
        return cached[1]

    def fake_quantize(self, x: torch.Tensor) -> torch.Tensor:
        """Fake-quantize ``x`` on this quantizer's current grid, without observing it."""
        obs = self.range_observer
        if not self.quantizes():
            return x
        if self.learn_scale:
            scale = self._learned_scale()
            zero_point = quant.activation_zero_point(obs.min_val, scale)
            grad_factor = 1.0 / math.sqrt(max(x.numel(), 1) * quant.ACT_QMAX)
            return LearnedScaleFakeQuantize.apply(x, scale, zero_point, quant.ACT_QMIN, quant.ACT_QMAX, grad_factor)
        scale, zero_point = self.qparams()
        zp = int(zero_point)
        if self.exact_rounding:
            return fake_quantize(x, scale, zp, quant.ACT_QMIN, quant.ACT_QMAX)
        return FastFakeQuantize.apply(x, scale, quant.ACT_QMIN - zp, quant.ACT_QMAX - zp)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Observe ``x`` (see class docstring for when), then fake-quantize it."""
        if self.calibrating or (self.training and self.observer_enabled):
            self.range_observer.update(x, f"layer '{self.layer_name}'")
        return self.fake_quantize(x)

    @property
    def clamp_fusable(self) -> bool:
        """Whether :meth:`Grid.clamped_bounds` describes this quantizer's fake quant (a grid from the observer,
        rounding ``x * (1 / s)``: neither a learned scale nor the model input's exact rounding)."""
        return not (self.learn_scale or self.exact_rounding)

    def observe_clamped(self, y: torch.Tensor, interval: Interval) -> None:
        """What :meth:`forward` of ``clamp(y, *interval)`` observes, without forming the clamp for a min/max
        observer: the clamp is monotone, so the range of ``clamp(y)`` is the clamped range of ``y``."""
        if not (self.calibrating or (self.training and self.observer_enabled)):
            return
        where, observer = f"layer '{self.layer_name}'", self.range_observer
        with torch.no_grad():
            if type(observer) is MinMaxObserver:
                lo, hi = y.amin(), y.amax()  # two reductions: faster on the CPU than one torch.aminmax
                if lo.dtype != torch.float32:
                    lo, hi = lo.float(), hi.float()
                observer.update_range(_clamp_value(float(lo), interval), _clamp_value(float(hi), interval), where)
            else:
                observer.update(_clamp(y.detach(), interval), where)

    def grid(self) -> Grid:
        """The current grid (:meth:`qparams`) as a :class:`Grid`, one object per grid (memoised with :meth:`qparams`),
        which reads the device once and memoises the values derived from the grid."""
        scale, zero_point = self.qparams()
        grid = self.__dict__.get("_grid_cache")
        if grid is None or grid.scale is not scale:
            cached = self.__dict__.get("_qparams_cache")
            grid = Grid(scale, zero_point, cached[2] if cached is not None and cached[1][0] is scale else None)
            self.__dict__["_grid_cache"] = grid
        return grid

    def fake_quantize_clamped(self, y: torch.Tensor, interval: Interval) -> torch.Tensor:
        """:meth:`fake_quantize` of ``clamp(y, *interval)`` and its gradient through the clamp, bit for bit, in one
        :class:`ClampedFakeQuantize` (``clamp_fusable`` quantizers that have observed data)."""
        grid = self.grid()
        return ClampedFakeQuantize.apply(y, grid.scale, *grid.clamped_bounds(interval))


class Grid:
    """An activation grid ``(scale, zero_point)`` (float32 and int64 scalar tensors) with its host values
    ``host = (float(scale), int(zero_point))``, the memoised tensor :attr:`inverse` and,
    memoised per activation interval, :meth:`clamped_bounds` and :meth:`activation_range`."""

    def __init__(self, scale: torch.Tensor, zero_point: torch.Tensor, host: tuple[float, int] | None = None) -> None:
        """``host``: ``(float(scale), int(zero_point))`` where the caller has it (read from the device otherwise)."""
        self.scale, self.zero_point = scale, zero_point
        self.host = (float(scale), int(zero_point)) if host is None else host
        self._memo: dict[tuple[str, Interval], Any] = {}

    def clamped_bounds(self, interval: Interval) -> tuple[int, int, float, float]:
        """:func:`clamped_grid_bounds` of ``interval`` on this grid (with the device's ``1 / s``)."""
        key = ("clamped", interval)
        if key not in self._memo:
            self._memo[key] = clamped_grid_bounds(*self.host, interval, float(self.inverse))
        return self._memo[key]

    @functools.cached_property
    def inverse(self) -> torch.Tensor:
        """``torch.reciprocal(scale)`` (float32): the ``1 / s`` the fake quant and the layers' input integers use."""
        return torch.reciprocal(self.scale)

    def activation_range(self, interval: Interval) -> tuple[int, int]:
        """:func:`tinyqat.requant.activation_range` of ``interval`` on this grid (the int8 clamp lowering fuses)."""
        key = ("range", interval)
        if key not in self._memo:
            self._memo[key] = activation_range(interval, *self.host)
        return self._memo[key]


class InputQuantizer(ActivationQuantizer):
    """The :class:`ActivationQuantizer` of the model input; remembers the per-sample input shape.

    Rounds exactly as :func:`tinyqat.quantize_input` (``round(x / s)``).
    """

    exact_rounding = True

    def __init__(self, input_shape: tuple[int, ...], averaging_constant: float = 0.01, observer: str = "minmax",
                 learn_scale: bool = False) -> None:
        super().__init__(averaging_constant, observer, learn_scale)
        self.input_shape = tuple(input_shape)


class FixedQuantizer(ActivationQuantizer):
    """An :class:`ActivationQuantizer` on a fixed grid ``(scale, zero_point)``: it never observes.

    ``qparams()`` returns the fixed pair; its observer is a
    :class:`~tinyqat.qat.observers.FixedRangeObserver` holding the grid's real range
    ``[scale * (-128 - zp), scale * (127 - zp)]`` for display, ``observed`` from the start.
    """

    def __init__(self, scale: float, zero_point: int) -> None:
        super().__init__()
        self.scale_value = scale
        self.zero_point = zero_point
        self.range_observer = FixedRangeObserver(scale * (quant.ACT_QMIN - zero_point),
                                                 scale * (quant.ACT_QMAX - zero_point))

    def configure(self, observer: str = "minmax", learn_scale: bool = False) -> None:
        """A fixed grid keeps its fixed range (``observer`` is ignored) and cannot learn its scale."""
        if learn_scale:
            raise ValueError("a fixed grid cannot learn its scale")

    def qparams(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The fixed ``(scale, zero_point)`` as float32 and int64 scalars."""
        device = self.min_val.device
        return (torch.tensor(self.scale_value, dtype=torch.float32, device=device),
                torch.tensor(self.zero_point, dtype=torch.int64, device=device))


class WeightQuantizer(nn.Module):
    """Stateless per-output-channel symmetric fake quant of a weight (see :func:`fake_quantize_weight`).

    ``bits`` is 8 (``[-127, 127]``, default) or 4 (``[-7, 7]``).  ``fake_quant_enabled`` also
    governs the bias fake quant of the layer that owns it.
    """

    def __init__(self, bits: int = 8) -> None:
        super().__init__()
        quant.weight_qmax(bits)  # validates
        self.bits = bits
        self.fake_quant_enabled = True

    def extra_repr(self) -> str:
        """Show the bit width."""
        return f"bits={self.bits}"

    def forward(self, weight: torch.Tensor, scales: torch.Tensor | None = None) -> torch.Tensor:
        """Fake-quantized ``weight`` (unchanged when fake quant is disabled); ``scales``: its ``s_w`` if known."""
        return fake_quantize_weight(weight, self.bits, scales) if self.fake_quant_enabled else weight
