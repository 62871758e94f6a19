"""QAT modules of the elementwise ops: pointwise table functions, two-tensor multiply and PReLU.

``prepare_qat`` puts them in place of (``fq_out`` = the module's own output quantizer, observing in
training; the fixed grid ``(1/256, -128)`` for hardsigmoid, :data:`tinyqat.quant.FIXED_QPARAMS`):

* :class:`QuantPointwise`: ``fq_out(f(x, *params))`` for ``nn.Hardsigmoid`` / ``F.hardsigmoid``,
  ``nn.SiLU`` / ``F.silu``, ``nn.GELU`` / ``F.gelu`` (``approximate`` ``"none"`` or ``"tanh"``),
  ``nn.ELU`` / ``F.elu``, ``nn.LeakyReLU`` / ``F.leaky_relu`` and scalar arithmetic (``affine``:
  ``x * c``, ``x + c``, ``x - c``, ``c - x``, ``x / c``, ``-x`` as ``a * x + b``).  Lowering tabulates
  ``f`` over the 256 int8 inputs (:func:`tinyqat.passes.quantize.quantize_lookup`).
* :class:`QuantMul`: ``fq_out(a * b)``, ``b`` the same shape as ``a`` or a per-channel gate
  ``(N, C, 1, 1)`` / ``(N, C, 1)`` (either operand may be the gate); lowered to TFLite int8 MUL.
* :class:`QuantPReLU`: ``fq_out(F.prelu(x, fq_a(alpha)))`` where ``fq_a`` fake-quantizes the alpha
  vector symmetrically per tensor to int8 (``s_a = max|alpha| / 127``, as lowering does); lowered to
  TFLite int8 PRELU.

The integer ops round once or twice where the float forward rounds at the end, so the
simulator agrees with these forwards to within one LSB (exactly on the table functions, whose
tables round the real function of each grid value).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from tinyqat import quant
from tinyqat.qat.fake_quant import ActivationQuantizer, FixedQuantizer, WeightQuantizer
from tinyqat.qat.modules import QuantOutput

POINTWISE: dict[str, Callable[..., torch.Tensor]] = {
    "hardsigmoid": F.hardsigmoid,
    "silu": F.silu,
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "elu": lambda x, alpha=1.0: F.elu(x, alpha),
    "leaky_relu": lambda x, slope=0.01: F.leaky_relu(x, slope),
    "affine": lambda x, a=1.0, b=0.0: x * a + b,
}


class QuantPointwise(QuantOutput):
    """A pointwise function of :data:`POINTWISE` with its real constants ``params``: ``fq_out(f(x, *params))``."""

    def __init__(self, function: str, params: tuple[float, ...] = (), averaging_constant: float = 0.01,
                 source: str = "") -> None:
        super().__init__()
        if function not in POINTWISE:
            raise ValueError(f"function must be one of {sorted(POINTWISE)}, got {function!r}")
        if len(params) != len(quant.LUT_PARAMS.get(function, ())):
            raise ValueError(f"{function} takes constants {quant.LUT_PARAMS.get(function, ())}, got {params!r}")
        self.function = function
        self.params = tuple(float(p) for p in params)
        fixed = quant.FIXED_QPARAMS.get(function)
        self.output_quantizer = FixedQuantizer(*fixed) if fixed else ActivationQuantizer(averaging_constant)
        self.source = source

    def extra_repr(self) -> str:
        """Show the function and its constants."""
        return f"function={self.function!r}, params={self.params}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``output_quantizer(f(x, *params))``."""
        return self.output_quantizer(POINTWISE[self.function](x, *self.params))


class QuantMul(QuantOutput):
    """Elementwise product of two quantized tensors (one may be a per-channel gate): ``fq_out(a * b)``."""

    def __init__(self, averaging_constant: float = 0.01, source: str = "") -> None:
        super().__init__()
        self.output_quantizer = ActivationQuantizer(averaging_constant)
        self.source = source

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``output_quantizer(a * b)`` (broadcasting as PyTorch does)."""
        return self.output_quantizer(a * b)


class QuantPReLU(QuantOutput):
    """``nn.PReLU`` (one alpha, or one per channel) with its alpha fake-quantized to int8 per tensor."""

    def __init__(self, prelu: nn.PReLU, averaging_constant: float = 0.01, source: str = "") -> None:
        super().__init__()
        self.prelu = prelu
        self.alpha_quantizer = WeightQuantizer(8)
        self.output_quantizer = ActivationQuantizer(averaging_constant)
        self.source = source

    def alpha(self) -> torch.Tensor:
        """The alpha vector the forward uses: ``fq_a(alpha)`` (symmetric per tensor, ``[-127, 127]``)."""
        weight = self.prelu.weight
        return self.alpha_quantizer(weight.reshape(1, -1)).reshape(weight.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``output_quantizer(F.prelu(x, alpha()))``."""
        return self.output_quantizer(F.prelu(x, self.alpha()))
