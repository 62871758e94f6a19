"""Per-layer counts used by reports and board fit checks.

* MACs (multiply-accumulates, all taps counted, the usual convention, padded taps included):
  conv ``out_h * out_w * out_c * kh * kw * in_c``; fully connected ``out * in``; pool and clamp 0.
* Params: weights + biases (element counts).
* Weight (flash) bytes of a layer: its constant arrays, ``weights (int8) + 4 * (bias + multiplier
  + shift)`` (int32 each).  The small parameter structs and offset tables of the generated C
  (tens of bytes per layer, compiler dependent) are not counted.
"""

from __future__ import annotations

from tinyqat import ir

OP_KINDS: dict[type, str] = {
    ir.Conv2d: "conv2d",
    ir.FullyConnected: "fully_connected",
    ir.MaxPool2d: "max_pool2d",
    ir.Clamp: "clamp",
}


def op_kind(op: ir.IntOp) -> str:
    """Short op name (``conv2d``, ``fully_connected``, ``max_pool2d``, ``clamp``), also the kernel stem."""
    try:
        return OP_KINDS[type(op)]
    except KeyError:
        raise ir.IRError(f"{op.name}: {type(op).__name__} is not an integer op; lower the graph first") from None


def macs(op: ir.IntOp, graph: ir.Graph) -> int:
    """Multiply-accumulates of ``op`` for one sample (see module docstring)."""
    if isinstance(op, ir.Conv2d):
        out_h, out_w, out_c = graph.tensor(op.output).shape
        _, kh, kw, in_c = op.weights.shape
        return out_h * out_w * out_c * kh * kw * in_c
    if isinstance(op, ir.FullyConnected):
        return int(op.weights.size)
    return 0


def params(op: ir.IntOp) -> int:
    """Weights + biases of ``op`` (element count); 0 for pool and clamp."""
    if isinstance(op, (ir.Conv2d, ir.FullyConnected)):
        return int(op.weights.size + op.bias.size)
    return 0


def layer_weights_bytes(op: ir.IntOp) -> int:
    """Flash bytes of ``op``'s constant arrays: ``weights + 4 * (bias + multiplier + shift)``."""
    if isinstance(op, (ir.Conv2d, ir.FullyConnected)):
        return int(op.weights.size + 4 * (op.bias.size + op.multiplier.size + op.shift.size))
    return 0


def weights_bytes(graph: ir.Graph) -> int:
    """Flash bytes of all constant arrays of ``graph`` (sum of :func:`layer_weights_bytes`)."""
    return sum(layer_weights_bytes(op) for op in graph.ops)


def total_macs(graph: ir.Graph) -> int:
    """Sum of :func:`macs` over all ops."""
    return sum(macs(op, graph) for op in graph.ops)
