"""The constant (flash) arrays of each layer: what C arrays the generated code declares for it.

:func:`const_arrays` lists them in declaration order; :mod:`tinyqat.codegen.emit` writes them
into the weights header and :mod:`tinyqat.codegen.stats` sums their bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinyqat import ir
from tinyqat.codegen.pack import pack_s4


@dataclass(frozen=True, eq=False)
class ConstArray:
    """A constant array of a layer: C name suffix, values (int8 or int32) and a short description."""

    suffix: str
    values: np.ndarray
    comment: str


def const_arrays(op: ir.IntOp, graph: ir.Graph) -> tuple[ConstArray, ...]:
    """The constant (flash) arrays the C kernel of ``op`` reads, in declaration order."""
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected)):
        weights = ConstArray("weights", op.weights, f"weights {list(op.weights.shape)}")
        if op.weight_bits == 4:
            weights = ConstArray("weights", pack_s4(op.weights), f"weights {list(op.weights.shape)}, 4-bit, packed "
                                 "two per byte (element 2i in the low nibble, 2i+1 in the high nibble)")
        return (weights,
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
    if isinstance(op, ir.PRelu):
        return (ConstArray("alpha", op.alpha, "alpha per channel, int8, zero point 0"),)
    if isinstance(op, ir.MulConst):
        return (ConstArray("constant", op.constant, "constant factor per channel, int8, zero point 0"),)
    if isinstance(op, ir.Softmax):
        return (ConstArray("exp_table", op.exp_table, "round(2^16 * exp(-input_scale * d)), d = 0..255"),)
    if isinstance(op, ir.LogSoftmax):
        return (ConstArray("exp_table", op.exp_table, "Q12 exp of each difference max - x = 0..255 (TFLite's)"),)
    if isinstance(op, ir.Gather):
        return (ConstArray("index", np.array(op.index, np.int32), "input channel of each output channel"),)
    return ()
