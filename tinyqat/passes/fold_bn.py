"""Pass: fold BatchNorm statistics into the preceding convolution / linear layer.

``f = gamma / sqrt(var + eps)``, ``w' = w * f`` per output channel, ``b' = beta + (b - mean) * f``
(:func:`tinyqat.quant.fold_bn`, the same function the QAT forward uses in eval mode).
"""

from __future__ import annotations

import dataclasses

import torch

from tinyqat import ir, quant


def fold_bn(graph: ir.Graph) -> ir.Graph:
    """Return ``graph`` with every ``bn`` of float conv/linear ops folded away."""
    ops = []
    for op in graph.ops:
        if isinstance(op, (ir.FloatConv2d, ir.FloatLinear)) and op.bn is not None:
            bn = op.bn
            w, b = quant.fold_bn(
                torch.from_numpy(op.weight.copy()),
                torch.from_numpy(op.bias.copy()),
                torch.from_numpy(bn.gamma.copy()),
                torch.from_numpy(bn.beta.copy()),
                torch.from_numpy(bn.mean.copy()),
                torch.from_numpy(bn.var.copy()),
                bn.eps,
            )
            op = dataclasses.replace(op, weight=w.numpy(), bias=b.numpy(), bn=None)
        ops.append(op)
    return dataclasses.replace(graph, ops=tuple(ops))
