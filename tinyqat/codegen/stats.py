"""Per-layer counts used by reports and board fit checks, and the constant arrays they count.

* MACs (multiply-accumulates for one sample, all taps counted, padded taps included, the
  usual convention): conv ``out_h * out_w * out_c * kh * kw * in_c``; depthwise
  ``out_h * out_w * out_c * kh * kw`` (one input channel per output channel); fully connected
  ``out * in``.  Pools, clamp, add, concat, lookup and softmax count 0: they multiply
  nothing into an accumulator (their adds, compares, requantizations and table reads are
  not MACs).
* Params: weights + biases (element counts) of conv, depthwise and fully connected; 0
  otherwise (tables and requantization constants are not trained parameters).
* Weight (flash) bytes of a layer: the bytes of its constant arrays (:func:`const_arrays`):
  conv / depthwise / fully connected ``weights (int8) + 4 * (bias + multiplier + shift)``;
  concat ``4 * 4 * inputs`` (int32 channels, zero point, multiplier and shift per input);
  lookup ``256`` (int8 table); softmax ``4 * 256`` (int32 exp table); others 0.  The small
  parameter structs and offset tables of the generated C (tens of bytes per layer,
  compiler dependent) are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyqat import ir

OP_KINDS: dict[type, str] = {
    ir.Conv2d: "conv2d",
    ir.DepthwiseConv2d: "depthwise_conv2d",
    ir.FullyConnected: "fully_connected",
    ir.MaxPool2d: "max_pool2d",
    ir.AvgPool2d: "avg_pool2d",
    ir.Clamp: "clamp",
    ir.Add: "add",
    ir.Concat: "concat",
    ir.Lookup: "lookup",
    ir.Softmax: "softmax",
}


@dataclass(frozen=True, eq=False)
class ConstArray:
    """A constant array of a layer: C name suffix, values (int8 or int32) and a short description."""

    suffix: str
    values: np.ndarray
    comment: str


def op_kind(op: ir.IntOp) -> str:
    """Short op name (one of :data:`OP_KINDS`' values), also the kernel stem ``tq_<kind>_s8``."""
    try:
        return OP_KINDS[type(op)]
    except KeyError:
        raise ir.IRError(f"{op.name}: {type(op).__name__} is not an integer op; lower the graph first") from None


def macs(op: ir.IntOp, graph: ir.Graph) -> int:
    """Multiply-accumulates of ``op`` for one sample (see module docstring)."""
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d)):
        out_h, out_w, out_c = graph.tensor(op.output).shape
        kh, kw = op.kernel
        in_c = op.weights.shape[3] if isinstance(op, ir.Conv2d) else 1
        return out_h * out_w * out_c * kh * kw * in_c
    if isinstance(op, ir.FullyConnected):
        return int(op.weights.size)
    return 0


def params(op: ir.IntOp) -> int:
    """Weights + biases of ``op`` (element count); 0 for ops without trained weights."""
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected)):
        return int(op.weights.size + op.bias.size)
    return 0


def const_arrays(op: ir.IntOp, graph: ir.Graph) -> tuple[ConstArray, ...]:
    """The constant (flash) arrays the C kernel of ``op`` reads, in declaration order."""
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected)):
        return (ConstArray("weights", op.weights, f"weights {list(op.weights.shape)}"),
                ConstArray("bias", op.bias, "bias"),
                ConstArray("multiplier", op.multiplier, "requant multiplier"),
                ConstArray("shift", op.shift, "requant shift"))
    if isinstance(op, ir.Concat):
        ins = [graph.tensor(name) for name in op.inputs]
        return (ConstArray("channels", np.array([t.shape[-1] for t in ins], np.int32), "channels per input"),
                ConstArray("zero_point", np.array([t.qparams.zero_point for t in ins], np.int32),
                           "input zero points"),
                ConstArray("multiplier", op.multiplier, "requant multiplier per input"),
                ConstArray("shift", op.shift, "requant shift per input"))
    if isinstance(op, ir.Lookup):
        return (ConstArray("table", op.table, f"{op.function} table, indexed by x + 128"),)
    if isinstance(op, ir.Softmax):
        return (ConstArray("exp_table", op.exp_table, "round(2^16 * exp(-input_scale * d)), d = 0..255"),)
    return ()


def layer_weights_bytes(op: ir.IntOp, graph: ir.Graph) -> int:
    """Flash bytes of ``op``'s constant arrays (sum of their byte sizes, see module docstring)."""
    return sum(int(a.values.nbytes) for a in const_arrays(op, graph))


def weights_bytes(graph: ir.Graph) -> int:
    """Flash bytes of all constant arrays of ``graph`` (sum of :func:`layer_weights_bytes`)."""
    return sum(layer_weights_bytes(op, graph) for op in graph.ops)


def total_macs(graph: ir.Graph) -> int:
    """Sum of :func:`macs` over all ops."""
    return sum(macs(op, graph) for op in graph.ops)
