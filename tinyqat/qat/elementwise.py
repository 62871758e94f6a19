"""QAT modules of the elementwise ops: pointwise table functions, two-tensor multiply, PReLU and the product
with a constant (:class:`QuantMulConst`, its formula in its docstring).

``prepare_qat`` puts them in place of the float ops.  Each computes, once its input and output grids
are known (``fq_in`` of each input, never observed here; its own output quantizer ``fq_out``, observing
in training; the fixed grid ``(1/256, -128)`` for hardsigmoid, :data:`tinyqat.quant.FIXED_QPARAMS`),
exactly the integers of the lowered op, as value ``(q - zp_out) * s_out``, with the gradient of the
float surrogate (``fake_quant.ExactForward``); before that, the surrogate itself.  Inputs lie on their
grids, so ``round(x / s) = q - zp`` (the centered int8 value):

* :class:`QuantPointwise` (``nn.Hardsigmoid`` / ``F.hardsigmoid``, ``nn.SiLU`` / ``F.silu``, ``nn.GELU`` /
  ``F.gelu`` with ``approximate`` ``"none"`` or ``"tanh"``, ``nn.ELU`` / ``F.elu``, ``nn.LeakyReLU`` /
  ``F.leaky_relu``, and scalar arithmetic ``x * c``, ``x + c``, ``x - c``, ``c - x``, ``x / c``, ``-x`` as
  ``affine(x) = a * x + b``): ``q = lookup_table(f, s_in, zp_in, s_out, zp_out, params)[q_in + 128]``
  (:func:`tinyqat.quant.lookup_table`); surrogate ``fq_out(f(x, *params))``.
* :class:`QuantMul` (``a * b``, ``b`` the same shape as ``a`` or a per-channel gate ``(N, C, 1, 1)`` /
  ``(N, C, 1)``, either operand may be the gate): TFLite int8 MUL,
  ``q = clamp(mbqm(round(a / s1) * round(b / s2), QM(s1 * s2 / s_out)) + zp_out, -128, 127)``;
  surrogate ``fq_out(a * b)``.
* :class:`QuantPReLU` (``nn.PReLU``, one alpha or one per channel): alpha fake-quantized to int8,
  symmetric per tensor (``s_a = max|alpha| / 127``, ``a_q`` its integers, as lowering does); TFLite int8
  PRELU, ``c = round(x / s_in)``, ``q = clamp(zp_out + (c >= 0 ? mbqm(c, QM(s_in / s_out))
  : mbqm(c * a_q, QM(s_in / s_out * s_a))), -128, 127)``; surrogate ``fq_out(F.prelu(x, fq(alpha)))``.

(``QM`` = :func:`tinyqat.requant.quantize_multipliers`, ``mbqm`` = :func:`tinyqat.requant.mbqm`, ratios in
float64 as lowering forms them.)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from tinyqat import quant, requant
from tinyqat.qat.fake_quant import ActivationQuantizer, ExactForward, FixedQuantizer, WeightQuantizer
from tinyqat.qat.modules import QuantizerRef, QuantOutput, exact_now

POINTWISE: dict[str, Callable[..., torch.Tensor]] = {
    "hardsigmoid": F.hardsigmoid,
    "silu": F.silu,
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "elu": lambda x, alpha=1.0: F.elu(x, alpha),
    "leaky_relu": lambda x, slope=0.01: F.leaky_relu(x, slope),
    "affine": lambda x, a=1.0, b=0.0: x * a + b,
}


def _ready(*quantizers: ActivationQuantizer) -> bool:
    """Every grid is known and fake quant is on: the exact integer forward applies."""
    return all(q.quantizes() for q in quantizers)


def _centered(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """``round(x / s)``: the centered int8 value ``q - zp`` of ``x`` on its grid (int64)."""
    return torch.round(x * torch.reciprocal(s)).long()


def _exact(q: torch.Tensor, out_q: ActivationQuantizer) -> torch.Tensor:
    """The value ``(clamp(q + zp_out, -128, 127) - zp_out) * s_out`` of centered output integers ``q``."""
    s_out, zp_out = out_q.qparams()
    zp = int(zp_out)
    return q.clamp_(quant.ACT_QMIN - zp, quant.ACT_QMAX - zp).float().mul_(s_out)


class QuantPointwise(QuantOutput):
    """A pointwise function of :data:`POINTWISE` with its real constants ``params``, as its int8 table
    (module docstring)."""

    def __init__(self, function: str, params: tuple[float, ...], input_quantizer: ActivationQuantizer,
                 averaging_constant: float = 0.01, source: str = "") -> None:
        super().__init__()
        if function not in POINTWISE:
            raise ValueError(f"function must be one of {sorted(POINTWISE)}, got {function!r}")
        if len(params) != len(quant.LUT_PARAMS.get(function, ())):
            raise ValueError(f"{function} takes constants {quant.LUT_PARAMS.get(function, ())}, got {params!r}")
        self.function = function
        self.params = tuple(float(p) for p in params)
        fixed = quant.FIXED_QPARAMS.get(function)
        self.output_quantizer = FixedQuantizer(*fixed) if fixed else ActivationQuantizer(averaging_constant)
        self.input_ref = QuantizerRef(input_quantizer)
        self.source = source

    def extra_repr(self) -> str:
        """Show the function and its constants."""
        return f"function={self.function!r}, params={self.params}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The table of ``f`` on the grids, with the gradient of ``output_quantizer(f(x, *params))``."""
        y_fq = self.output_quantizer(POINTWISE[self.function](x, *self.params))
        in_q, out_q = self.input_ref.quantizer, self.output_quantizer
        if not (exact_now(self) and _ready(in_q, out_q)):
            return y_fq
        with torch.no_grad():
            (s_in, zp_in), (s_out, zp_out) = in_q.qparams(), out_q.qparams()
            table = quant.lookup_table(self.function, float(s_in), int(zp_in), float(s_out), int(zp_out),
                                       self.params)
            q_in = (_centered(x, s_in) + zp_in).clamp_(quant.ACT_QMIN, quant.ACT_QMAX)
            q = torch.from_numpy(table).to(x.device)[q_in + 128] - zp_out
            exact = _exact(q, out_q)
        return ExactForward.apply(y_fq, exact)


class QuantMul(QuantOutput):
    """Elementwise product of two quantized tensors (one may be a per-channel gate), as TFLite's int8 MUL
    (module docstring)."""

    def __init__(self, input_quantizers: tuple[ActivationQuantizer, ActivationQuantizer],
                 averaging_constant: float = 0.01, source: str = "") -> None:
        super().__init__()
        self.output_quantizer = ActivationQuantizer(averaging_constant)
        self.input_refs = tuple(QuantizerRef(q) for q in input_quantizers)
        self.source = source

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The integer product (broadcasting as PyTorch does), with the gradient of ``output_quantizer(a * b)``."""
        y_fq = self.output_quantizer(a * b)
        grids = [ref.quantizer for ref in self.input_refs] + [self.output_quantizer]
        if not (exact_now(self) and _ready(*grids)):
            return y_fq
        with torch.no_grad():
            (s1, _), (s2, _), (s_out, _) = (q.qparams() for q in grids)
            multiplier, shift = requant.quantize_multipliers(s1.double() * s2.double() / s_out.double())
            q = requant.mbqm_nonnegative(_centered(a, s1) * _centered(b, s2), multiplier, shift)
            exact = _exact(q, self.output_quantizer)
        return ExactForward.apply(y_fq, exact)


class QuantPReLU(QuantOutput):
    """``nn.PReLU`` (one alpha, or one per channel) with int8 alphas, as TFLite's int8 PRELU (module docstring)."""

    def __init__(self, prelu: nn.PReLU, input_quantizer: ActivationQuantizer, averaging_constant: float = 0.01,
                 source: str = "") -> None:
        super().__init__()
        self.prelu = prelu
        self.alpha_quantizer = WeightQuantizer(8)
        self.output_quantizer = ActivationQuantizer(averaging_constant)
        self.input_ref = QuantizerRef(input_quantizer)
        self.source = source

    def alpha(self) -> torch.Tensor:
        """The alpha vector of the surrogate: ``fq(alpha)`` (symmetric per tensor, ``[-127, 127]``)."""
        weight = self.prelu.weight
        return self.alpha_quantizer(weight.reshape(1, -1)).reshape(weight.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The integer PReLU, with the gradient of ``output_quantizer(F.prelu(x, alpha()))``."""
        y_fq = self.output_quantizer(F.prelu(x, self.alpha()))
        in_q = self.input_ref.quantizer
        if not (exact_now(self) and _ready(in_q, self.output_quantizer) and self.alpha_quantizer.fake_quant_enabled):
            return y_fq
        with torch.no_grad():
            (s_in, _), (s_out, _) = in_q.qparams(), self.output_quantizer.qparams()
            a_q, s_a = quant.quantize_weight(self.prelu.weight.reshape(1, -1))
            ratio = s_in.double() / s_out.double()
            multiplier, shift = requant.quantize_multipliers(torch.stack([ratio, ratio * s_a[0].double()]))
            c = _centered(x, s_in)
            alpha = a_q.long().reshape(1, -1, *(1,) * (x.dim() - 2))  # one alpha broadcasts over every channel
            q = torch.where(c >= 0, requant.mbqm_nonnegative(c, multiplier[0], shift[0]),
                            requant.mbqm(c * alpha, multiplier[1], shift[1]))
            exact = _exact(q, self.output_quantizer)
        return ExactForward.apply(y_fq, exact)


class QuantMulConst(QuantOutput):
    """``x * c`` with a constant ``c`` (a parameter, trained, or a buffer) of one value or one per channel, as
    TFLite's int8 MUL with a constant operand (:class:`tinyqat.ir.MulConst`): ``c`` fake-quantized to int8,
    symmetric per tensor (``s_c = max|c| / 127``, ``c_q`` its integers, as lowering does);
    ``q = clamp(mbqm(round(x / s_in) * c_q, QM(s_in * s_c / s_out)) + zp_out, -128, 127)``;
    surrogate ``fq_out(x * fq(c))``.  ``constant`` keeps the user's shape, which broadcasts per channel."""

    def __init__(self, constant: torch.Tensor, input_quantizer: ActivationQuantizer,
                 averaging_constant: float = 0.01, source: str = "") -> None:
        super().__init__()
        if isinstance(constant, nn.Parameter):
            self.constant = constant
        else:
            self.register_buffer("constant", constant.detach().clone())
        self.constant_quantizer = WeightQuantizer(8)
        self.output_quantizer = ActivationQuantizer(averaging_constant)
        self.input_ref = QuantizerRef(input_quantizer)
        self.source = source

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The integer product, with the gradient of ``output_quantizer(x * fq(constant))``."""
        c = self.constant
        y_fq = self.output_quantizer(x * self.constant_quantizer(c.reshape(1, -1)).reshape(c.shape))
        in_q = self.input_ref.quantizer
        if not (exact_now(self) and _ready(in_q, self.output_quantizer) and self.constant_quantizer.fake_quant_enabled):
            return y_fq
        with torch.no_grad():
            (s_in, _), (s_out, _) = in_q.qparams(), self.output_quantizer.qparams()
            c_q, s_c = quant.quantize_weight(c.detach().reshape(1, -1))
            multiplier, shift = requant.quantize_multipliers(s_in.double() * s_c[0].double() / s_out.double())
            q = requant.mbqm(_centered(x, s_in) * c_q.long().reshape(c.shape), multiplier, shift)
            exact = _exact(q, self.output_quantizer)
        return ExactForward.apply(y_fq, exact)
