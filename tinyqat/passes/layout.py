"""Passes: remove ``Flatten`` ops, and ``Reshape`` ops whose new shape no reader needs; the data never moves.

PyTorch flattens an NCHW map as index ``c*H*W + h*W + w``; the C arena holds it as
``h*W*C + w*C + c``.  (Flattens of vectors and 1 x 1 maps, where the two orders agree, are
already aliases after :func:`tinyqat.lower.import_artifact`.)  Every consumer of a remaining
flatten must be a Linear layer, whose weight columns are permuted instead:
``W'[:, (h, w, c)] = W[:, (c, h, w)]``, i.e. ``W.reshape(O, C, H, W).transpose(0, 2, 3, 1)``.

A :class:`~tinyqat.ir.Reshape` keeps the bytes and only changes the IR shape; Linear layers read
any shape of the right size and the graph output's shape is the PyTorch one, so a reshape read
only by Linear layers or by other reshapes, or that is a graph output, is removed, and so is a
reshape to its input's own shape (:func:`fold_reshape`), unless it is an output copying the input or
another output (outputs are distinct tensors).
"""

from __future__ import annotations

import dataclasses

from tinyqat import ir
from tinyqat.errors import LoweringError


def fold_flatten(graph: ir.Graph) -> ir.Graph:
    """Return ``graph`` without Flatten ops (see module docstring)."""
    sources: dict[str, str] = {}  # flatten output -> the (H, W, C) map it flattens
    ops = []
    for op in graph.ops:
        if isinstance(op, ir.Flatten):
            bad = [u for u in graph.consumers(op.output) if not isinstance(u, ir.FloatLinear)]
            if bad or op.output in graph.outputs:
                what = f"'{bad[0].name}'" if bad else "the model output"
                raise LoweringError(
                    f"flatten at '{op.name}' feeds {what}: a flatten of an H x W map (H*W > 1) is only "
                    "supported in front of Linear layers"
                )
            sources[op.output] = op.input
            continue
        if isinstance(op, ir.FloatLinear) and op.input in sources:
            h, w, c = graph.tensor(sources[op.input]).shape
            weight = op.weight.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(op.weight.shape[0], -1)
            op = dataclasses.replace(op, input=sources[op.input], weight=weight)
        ops.append(op)
    tensors = tuple(t for t in graph.tensors if t.name not in sources)
    return dataclasses.replace(graph, tensors=tensors, ops=tuple(ops))


def fold_reshape(graph: ir.Graph) -> ir.Graph:
    """Return ``graph`` without the Reshape ops only Linear layers read, or that are its output
    (module docstring); their readers read the reshape's input.  Repeated until none is left, so a
    chain of reshapes in front of a Linear goes entirely."""
    while True:
        folded = _fold_reshape_once(graph)
        if len(folded.ops) == len(graph.ops):
            return folded
        graph = folded


def _fold_reshape_once(graph: ir.Graph) -> ir.Graph:
    renamed: dict[str, str] = {}
    ops = []
    for op in graph.ops:
        op = dataclasses.replace(op, input=renamed[op.input]) if getattr(op, "input", None) in renamed else op
        if set(getattr(op, "inputs", ())) & renamed.keys():
            op = dataclasses.replace(op, inputs=tuple(renamed.get(n, n) for n in op.inputs))
        readers = graph.consumers(op.output)
        if isinstance(op, ir.Reshape) and (
                graph.tensor(op.input).shape == graph.tensor(op.output).shape
                or all(isinstance(u, (ir.FloatLinear, ir.FullyConnected, ir.Reshape)) for u in readers)) and not (
                op.output in graph.outputs and op.input in (graph.input, *graph.outputs)):  # the copy
            renamed[op.output] = op.input
            continue
        ops.append(op)
    tensors = tuple(t for t in graph.tensors if t.name not in renamed)
    return dataclasses.replace(graph, tensors=tensors, ops=tuple(ops), output=renamed.get(graph.output, graph.output),
                               extra_outputs=tuple(renamed.get(n, n) for n in graph.extra_outputs))
