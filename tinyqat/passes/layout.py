"""Pass: remove ``Flatten`` by permuting the consuming Linear's weights to channels-last.

PyTorch flattens an NCHW map as index ``c*H*W + h*W + w``; the C arena holds it as
``h*W*C + w*C + c``.  Instead of moving data, each consumer's weight columns are permuted:
``W'[:, (h, w, c)] = W[:, (c, h, w)]``, i.e. ``W.reshape(O, C, H, W).transpose(0, 2, 3, 1)``.
"""

from __future__ import annotations

import dataclasses

from tinyqat import ir
from tinyqat.errors import LoweringError


def fold_flatten(graph: ir.Graph) -> ir.Graph:
    """Return ``graph`` without Flatten ops; every consumer must be a float Linear layer."""
    renames: dict[str, str] = {}
    ops = []
    removed = set()
    for op in graph.ops:
        if isinstance(op, ir.Flatten):
            users = graph.consumers(op.output)
            bad = [u for u in users if not isinstance(u, ir.FloatLinear)]
            if bad or op.output == graph.output:
                what = f"'{bad[0].name}'" if bad else "the model output"
                raise LoweringError(
                    f"flatten at '{op.name}' feeds {what}: a flatten is only supported in front of Linear layers"
                )
            renames[op.output] = renames.get(op.input, op.input)
            removed.add(op.output)
            continue
        source = renames.get(op.input, op.input)
        if isinstance(op, ir.FloatLinear) and source != op.input:
            shape = graph.tensor(source).shape
            if len(shape) == 3:
                h, w, c = shape
                weight = op.weight.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(op.weight.shape[0], -1)
                op = dataclasses.replace(op, weight=weight)
            op = dataclasses.replace(op, input=source)
        ops.append(op)
    tensors = tuple(t for t in graph.tensors if t.name not in removed)
    return dataclasses.replace(graph, tensors=tensors, ops=tuple(ops))
