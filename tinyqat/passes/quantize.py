"""Pass: quantize float conv/linear layers into integer ops.

For a layer with input scale ``s_in``, output quantization ``(s_out, zp_out)`` and folded
float weights ``w [out, ...]`` / bias ``b [out]`` (all float32):

* ``s_w[c] = max|w[c]| / 127``; ``w_q = clamp(round(w / s_w[c]), -127, 127)`` (int8)
* ``b_q[c] = round(b[c] / (s_in * s_w[c]))`` (int32, product in float32)
* ``M[c] = (double)s_in * (double)s_w[c] / (double)s_out``;
  ``(multiplier[c], shift[c]) = quantize_multiplier(M[c])``
* clamps from the fused activation (:func:`activation_range`).

The same :mod:`tinyqat.quant` functions run in the QAT forward, so the integers here are
the ones training saw.  Layers whose worst-case int32 accumulator could overflow are
refused (:func:`check_accumulator_range`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from tinyqat import ir, quant
from tinyqat.errors import LoweringError
from tinyqat.fixedpoint import INT32_MAX, INT32_MIN, quantize_multiplier


def activation_range(activation: str, qparams: ir.QParams) -> tuple[int, int]:
    """int8 clamp of a fused activation, as TFLite computes it (float32 arithmetic).

    none: ``[-128, 127]``; relu: ``[max(-128, zp), 127]``;
    relu6: ``[max(-128, zp), min(127, zp + roundf(6.0f / scale))]``.
    """
    zp = qparams.zero_point
    if activation == "none":
        return ir.INT8_MIN, ir.INT8_MAX
    lo = max(ir.INT8_MIN, zp)
    if activation == "relu":
        return lo, ir.INT8_MAX
    if activation == "relu6":
        six = float(np.float32(6.0) / np.float32(qparams.scale))
        return lo, max(lo, min(ir.INT8_MAX, zp + math.floor(six + 0.5)))
    raise LoweringError(f"unknown activation {activation!r}")


def check_accumulator_range(name: str, weights: np.ndarray, bias: np.ndarray, zp_in: int) -> None:
    """Refuse a layer whose accumulator ``bias + sum w * (x - zp_in)`` could leave int32.

    Bound per channel: ``|bias[c]| + sum|w[c]| * max(127 - zp_in, zp_in + 128)``.
    """
    worst_input = max(ir.INT8_MAX - zp_in, zp_in - ir.INT8_MIN)
    bound = np.abs(weights.reshape(weights.shape[0], -1).astype(np.int64)).sum(axis=1) * worst_input
    bound += np.abs(bias.astype(np.int64))
    worst = int(bound.max(initial=0))
    if worst > INT32_MAX:
        raise LoweringError(
            f"layer '{name}': worst-case accumulator {worst} exceeds int32 (fan-in or bias too large for its scales)"
        )


def _check_finite(name: str, **arrays: np.ndarray) -> None:
    for key, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            raise LoweringError(f"layer '{name}': {key} contains NaN or Inf; retrain or check the model")


def quantize_layer(op: ir.FloatConv2d | ir.FloatLinear, graph: ir.Graph) -> ir.Conv2d | ir.FullyConnected:
    """Integer op for one float layer (formulas in the module docstring)."""
    if op.bn is not None:
        raise LoweringError(f"layer '{op.name}': BatchNorm must be folded before quantization")
    _check_finite(op.name, weight=op.weight, bias=op.bias)
    x_q = graph.tensor(op.input).qparams
    y_q = graph.tensor(op.output).qparams
    w = torch.from_numpy(op.weight.copy())
    s_w = quant.weight_scales(w)
    w_q = quant.quantize(w, quant.channel_view(s_w, w.dim()), 0, quant.WEIGHT_QMIN, quant.WEIGHT_QMAX)
    b_scale = quant.bias_scale(torch.tensor(x_q.scale, dtype=torch.float32), s_w)
    b_q = quant.quantize(torch.from_numpy(op.bias.copy()), b_scale, 0, quant.INT32_QMIN, quant.INT32_QMAX)
    bias = np.clip(b_q.double().numpy(), INT32_MIN, INT32_MAX).astype(np.int64)
    pairs = [quantize_multiplier(float(x_q.scale) * float(s) / float(y_q.scale)) for s in s_w.tolist()]
    multiplier = np.array([p[0] for p in pairs], dtype=np.int64)
    shift = np.array([p[1] for p in pairs], dtype=np.int64)
    act_min, act_max = activation_range(op.activation, y_q)
    if isinstance(op, ir.FloatConv2d):
        weights = w_q.numpy().astype(np.int64).transpose(0, 2, 3, 1)  # [out][kh][kw][in]
    else:
        weights = w_q.numpy().astype(np.int64)
    check_accumulator_range(op.name, weights, bias, x_q.zero_point)
    common = dict(name=op.name, input=op.input, output=op.output, weights=weights, bias=bias,
                  multiplier=multiplier, shift=shift, act_min=act_min, act_max=act_max)
    if isinstance(op, ir.FloatConv2d):
        return ir.Conv2d(stride=op.stride, padding=op.padding, **common)
    return ir.FullyConnected(**common)


def quantize_graph(graph: ir.Graph) -> ir.Graph:
    """Replace every float conv/linear op with its integer op."""
    ops = tuple(
        quantize_layer(op, graph) if isinstance(op, (ir.FloatConv2d, ir.FloatLinear)) else op for op in graph.ops
    )
    return ir.Graph(tensors=graph.tensors, ops=ops, input=graph.input, output=graph.output,
                    source_sha256=graph.source_sha256)
