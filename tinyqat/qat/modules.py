"""QAT modules that :func:`tinyqat.qat.prepare_qat` puts in place of float layers.

Weighted layers (:class:`QuantConv2d`, :class:`QuantLinear`) own the float layer, the
optional BatchNorm, a :class:`WeightQuantizer` and their output :class:`ActivationQuantizer`.
They read their input's scale from the upstream quantizer through a :class:`QuantizerRef`
(a plain attribute, so the upstream quantizer is registered, and saved, only once).

Exact forward in eval mode, or in training with BatchNorm frozen (lowering reproduces it)::

    w, b = layer.weight, layer.bias (zeros if None)
    if bn: w, b = quant.fold_bn(w, b, bn.weight (ones if None), bn.bias (zeros if None),
                                bn.running_mean, bn.running_var, bn.eps)
    s_w = quant.weight_scales(w)
    w_q = dequantize(quantize(w, channel_view(s_w), 0, -127, 127), channel_view(s_w), 0)
    s_in, _ = input_quantizer.qparams()
    s_b = quant.bias_scale(s_in, s_w)
    b_q = dequantize(quantize(b, s_b, 0, INT32_QMIN, INT32_QMAX), s_b, 0)
    y = F.conv2d(pad(x), w_q, b_q, stride)   |   F.linear(x, w_q, b_q)
    y = relu(y) | relu6(y) | y
    y = output_quantizer(y)                    # observes in training, then fake-quantizes

(``b_q = b`` while the input quantizer has not observed data; ``w_q = w``, ``b_q = b`` when
fake quant is disabled.)

Training with live BatchNorm (as torch.ao's ConvBn): ``f = gamma / sqrt(running_var + eps)``;
``y = op(x, fq(w * f)) / f (+ layer.bias)``, then ``bn(y)`` with batch statistics (updating the
running ones), then the activation and output fake quant.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tinyqat import quant
from tinyqat.qat.fake_quant import ActivationQuantizer, WeightQuantizer, fake_quantize_bias

ACTIVATIONS = ("none", "relu", "relu6")


class QuantizerRef:
    """A non-module holder of the upstream :class:`ActivationQuantizer` (not registered as a submodule)."""

    def __init__(self, quantizer: ActivationQuantizer) -> None:
        self.quantizer = quantizer

    def __repr__(self) -> str:
        return "QuantizerRef()"


def _activate(y: torch.Tensor, activation: str) -> torch.Tensor:
    if activation == "relu":
        return F.relu(y)
    if activation == "relu6":
        return F.relu6(y)
    return y


class QuantWeighted(nn.Module):
    """Shared forward of :class:`QuantConv2d` and :class:`QuantLinear` (see the module docstring)."""

    def __init__(
        self,
        layer: nn.Conv2d | nn.Linear,
        bn: nn.BatchNorm2d | nn.BatchNorm1d | None,
        activation: str,
        input_quantizer: ActivationQuantizer,
        averaging_constant: float,
        source: str,
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.layer = layer
        self.bn = bn
        self.activation = activation
        self.weight_quantizer = WeightQuantizer()
        self.output_quantizer = ActivationQuantizer(averaging_constant)
        self.input_ref = QuantizerRef(input_quantizer)
        self.bn_frozen = False
        self.source = source

    def _op(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def bn_affine(self) -> tuple[torch.Tensor, torch.Tensor]:
        """BatchNorm ``(gamma, beta)``; ones/zeros for a BatchNorm without affine parameters."""
        assert self.bn is not None
        mean = self.bn.running_mean
        gamma = self.bn.weight if self.bn.weight is not None else torch.ones_like(mean)
        beta = self.bn.bias if self.bn.bias is not None else torch.zeros_like(mean)
        return gamma, beta

    def float_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The layer's ``(weight, bias)``; a zero bias when the layer has none."""
        w = self.layer.weight
        b = self.layer.bias if self.layer.bias is not None else torch.zeros(w.shape[0], dtype=w.dtype, device=w.device)
        return w, b

    def folded_params(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``quant.fold_bn`` of :meth:`float_params` with the running statistics (unchanged without BN)."""
        w, b = self.float_params()
        if self.bn is None:
            return w, b
        gamma, beta = self.bn_affine()
        return quant.fold_bn(w, b, gamma, beta, self.bn.running_mean, self.bn.running_var, self.bn.eps)

    def _forward_folded(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.folded_params()
        if self.weight_quantizer.fake_quant_enabled:
            in_q = self.input_ref.quantizer
            if bool(in_q.observed):
                b = fake_quantize_bias(b, in_q.qparams()[0], quant.weight_scales(w))
            w = self.weight_quantizer(w)
        return self._op(x, w, b)

    def _forward_bn_train(self, x: torch.Tensor) -> torch.Tensor:
        assert self.bn is not None
        gamma, _ = self.bn_affine()
        factor = gamma / torch.sqrt(self.bn.running_var + self.bn.eps)
        w = self.layer.weight
        y = self._op(x, self.weight_quantizer(w * quant.channel_view(factor, w.dim())), None)
        y = y / factor.reshape((1, -1) + (1,) * (y.dim() - 2))
        if self.layer.bias is not None:
            y = y + self.layer.bias.reshape((1, -1) + (1,) * (y.dim() - 2))
        return self.bn(y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """See the module docstring: folded exact forward, or live BatchNorm in training."""
        if self.bn is not None and self.training and not self.bn_frozen:
            y = self._forward_bn_train(x)
        else:
            y = self._forward_folded(x)
        return self.output_quantizer(_activate(y, self.activation))


class QuantConv2d(QuantWeighted):
    """Conv2d (groups 1, dilation 1, zero padding) + optional folded BatchNorm2d + none/relu/relu6.

    ``padding`` is explicit ``(top, left, bottom, right)``; asymmetric padding pads the input
    with zeros (the input zero point once quantized) before an unpadded convolution.
    """

    def __init__(
        self,
        conv: nn.Conv2d,
        bn: nn.BatchNorm2d | None,
        activation: str,
        padding: tuple[int, int, int, int],
        input_quantizer: ActivationQuantizer,
        averaging_constant: float = 0.01,
        source: str = "",
    ) -> None:
        super().__init__(conv, bn, activation, input_quantizer, averaging_constant, source)
        self.stride = (int(conv.stride[0]), int(conv.stride[1]))
        self.padding = tuple(int(p) for p in padding)

    def extra_repr(self) -> str:
        """Show stride, padding and the fused activation."""
        return f"stride={self.stride}, padding={self.padding}, activation={self.activation!r}"

    def _op(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        top, left, bottom, right = self.padding
        if top == bottom and left == right:
            return F.conv2d(x, weight, bias, self.stride, (top, left))
        return F.conv2d(F.pad(x, (left, right, top, bottom)), weight, bias, self.stride)


class QuantLinear(QuantWeighted):
    """Linear on ``(N, F)`` + optional folded BatchNorm1d + none/relu/relu6."""

    def __init__(
        self,
        linear: nn.Linear,
        bn: nn.BatchNorm1d | None,
        activation: str,
        input_quantizer: ActivationQuantizer,
        averaging_constant: float = 0.01,
        source: str = "",
    ) -> None:
        super().__init__(linear, bn, activation, input_quantizer, averaging_constant, source)

    def extra_repr(self) -> str:
        """Show the fused activation."""
        return f"activation={self.activation!r}"

    def _op(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        return F.linear(x, weight, bias)


class SharedQuantClamp(nn.Module):
    """Standalone ReLU/ReLU6: ``q.fake_quantize(clamp(x, 0, 6 or inf))`` on the upstream quantizer's grid.

    It never observes: the lowered op is an int8 clamp that keeps its input's quantization.
    """

    def __init__(self, activation: str, input_quantizer: ActivationQuantizer, source: str = "") -> None:
        super().__init__()
        if activation not in ("relu", "relu6"):
            raise ValueError(f"activation must be 'relu' or 'relu6', got {activation!r}")
        self.activation = activation
        self.input_ref = QuantizerRef(input_quantizer)
        self.source = source

    def extra_repr(self) -> str:
        """Show the activation."""
        return f"activation={self.activation!r}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Clamp, then fake-quantize with the upstream quantizer's current ``(scale, zero_point)``."""
        return self.input_ref.quantizer.fake_quantize(_activate(x, self.activation))


class QuantMaxPool2d(nn.MaxPool2d):
    """MaxPool2d (dilation 1, no indices); the max of int8 values keeps its input's quantization."""

    def __init__(
        self,
        kernel_size: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
        ceil_mode: bool,
        source: str = "",
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode)
        self.source = source


class QuantFlatten(nn.Flatten):
    """``flatten(start_dim=1)``; keeps its input's quantization."""

    def __init__(self, source: str = "") -> None:
        super().__init__(1, -1)
        self.source = source
