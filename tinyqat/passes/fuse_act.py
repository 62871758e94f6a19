"""Pass: fuse a standalone clamp (ReLU / ReLU6 / Hardtanh) into the op that feeds it.

Applies when the clamp reads the output of a conv, depthwise conv, linear, add, mul or lookup
layer, that output has no other reader and is not a graph output.  The clamp keeps its input's
quantization, so fusing only narrows the producer's range:
``act_min = max(act_min, lo)``, ``act_max = min(act_max, hi)``; a lookup table's entries are
clamped instead (``table = clip(table, lo, hi)``: ``(x + 3).clamp(0, 6)`` is one table).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tinyqat import ir

FUSABLE = (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected, ir.Add, ir.Mul, ir.MulConst, ir.Lookup)


def fuse_activations(graph: ir.Graph) -> ir.Graph:
    """Return ``graph`` with fusable clamps merged into their producers."""
    producers = {op.output: i for i, op in enumerate(graph.ops)}
    ops: list[ir.Op | None] = list(graph.ops)
    dropped: set[str] = set()
    for i, op in enumerate(graph.ops):
        if not isinstance(op, ir.Clamp) or op.input in graph.outputs:
            continue
        j = producers.get(op.input)
        producer = ops[j] if j is not None else None
        if not isinstance(producer, FUSABLE) or len(graph.consumers(op.input)) != 1:
            continue
        if isinstance(producer, ir.Lookup):
            ops[j] = dataclasses.replace(producer, output=op.output, table=np.clip(producer.table, op.lo, op.hi))
        else:
            ops[j] = dataclasses.replace(
                producer,
                output=op.output,
                act_min=max(producer.act_min, op.lo),
                act_max=min(producer.act_max, op.hi),
            )
        ops[i] = None
        producers[op.output] = j
        dropped.add(op.input)
    tensors = tuple(t for t in graph.tensors if t.name not in dropped)
    return dataclasses.replace(graph, tensors=tensors, ops=tuple(op for op in ops if op is not None))
