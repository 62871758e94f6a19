"""Pass: remove ``Flatten`` ops; the data never moves.

PyTorch flattens an NCHW map as index ``c*H*W + h*W + w``; the C arena holds it as
``h*W*C + w*C + c``.  When ``H*W == 1`` the two orders agree and the flatten is a pure
rename.  Otherwise every consumer must be a Linear layer, whose weight columns are permuted
instead: ``W'[:, (h, w, c)] = W[:, (c, h, w)]``, i.e. ``W.reshape(O, C, H, W).transpose(0, 2, 3, 1)``.
"""

from __future__ import annotations

import dataclasses

from tinyqat import ir
from tinyqat.errors import LoweringError


def _permute_columns(op: ir.FloatLinear, shape: tuple[int, ...]) -> ir.FloatLinear:
    h, w, c = shape
    weight = op.weight.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(op.weight.shape[0], -1)
    return dataclasses.replace(op, weight=weight)


def _rename_inputs(op: ir.Op, renames: dict[str, str]) -> ir.Op:
    if isinstance(op, ir.SingleInput):
        return dataclasses.replace(op, input=renames.get(op.input, op.input))
    return dataclasses.replace(op, inputs=tuple(renames.get(n, n) for n in op.inputs))


def fold_flatten(graph: ir.Graph) -> ir.Graph:
    """Return ``graph`` without Flatten ops (see module docstring for when this is possible)."""
    renames: dict[str, str] = {}
    permute: set[str] = set()  # flattened tensors whose Linear consumers need permuted weights
    ops = []
    for op in graph.ops:
        if isinstance(op, ir.Flatten):
            source = renames.get(op.input, op.input)
            shape = graph.tensor(source).shape
            if len(shape) == 3 and shape[0] * shape[1] > 1:
                bad = [u for u in graph.consumers(op.output) if not isinstance(u, ir.FloatLinear)]
                if bad or op.output == graph.output:
                    what = f"'{bad[0].name}'" if bad else "the model output"
                    raise LoweringError(
                        f"flatten at '{op.name}' feeds {what}: a flatten of an H x W map (H*W > 1) is only "
                        "supported in front of Linear layers"
                    )
                permute.add(op.output)
            renames[op.output] = source
            continue
        if isinstance(op, ir.FloatLinear) and op.input in permute:
            op = _permute_columns(op, graph.tensor(renames[op.input]).shape)
        ops.append(_rename_inputs(op, renames))
    output = renames.get(graph.output, graph.output)
    tensors = tuple(t for t in graph.tensors if t.name not in renames)
    return dataclasses.replace(graph, tensors=tensors, ops=tuple(ops), output=output)
