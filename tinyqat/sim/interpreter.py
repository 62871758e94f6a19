"""Run an integer :class:`~tinyqat.ir.Graph` on int8 batches, keeping every layer's output.

Internally everything is channels-last (the C arena layout); :func:`to_channels_last` and
:func:`to_torch_layout` convert from and to PyTorch's NCHW / NC at the user boundary.
"""

from __future__ import annotations

import numpy as np

from tinyqat import ir
from tinyqat.errors import TinyQatError
from tinyqat.sim.kernels import KERNELS

BATCH_CHUNK = 256


def to_channels_last(x: np.ndarray, torch_shape: tuple[int, ...], ir_shape: tuple[int, ...]) -> np.ndarray:
    """``(N, *torch_shape)`` in PyTorch layout -> ``(N, *ir_shape)`` channels-last.

    Channels (axis 1) move last when the PyTorch sample has 2 or 3 dims ((C, L), (C, H, W)).
    """
    if len(torch_shape) >= 2:
        x = np.moveaxis(x, 1, -1)
    return np.ascontiguousarray(x.reshape(x.shape[0], *ir_shape))


def to_torch_layout(y: np.ndarray, ir_shape: tuple[int, ...], torch_shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`to_channels_last`: ``(N, *ir_shape)`` -> ``(N, *torch_shape)``."""
    del ir_shape
    n = y.shape[0]
    if len(torch_shape) >= 2:
        return np.ascontiguousarray(np.moveaxis(y.reshape(n, *torch_shape[1:], torch_shape[0]), -1, 1))
    return np.ascontiguousarray(y.reshape(n, *torch_shape))


def input_from_torch(graph: ir.Graph, x: np.ndarray) -> np.ndarray:
    """Check an int8 batch in the model's PyTorch input layout and return it channels-last."""
    x = np.asarray(x)
    want = graph.torch_input_shape
    if x.dtype != np.int8 or x.shape[1:] != want:
        raise TinyQatError(f"input must be int8 of shape (N, {', '.join(map(str, want))}); got {x.dtype} {x.shape}")
    return to_channels_last(x, want, graph.tensor(graph.input).shape)


def output_to_torch(graph: ir.Graph, y: np.ndarray, index: int = 0) -> np.ndarray:
    """Output ``index``'s batch (channels-last) in the model's PyTorch layout of that output."""
    return to_torch_layout(y, graph.tensor(graph.outputs[index]).shape, graph.torch_output_shapes[index])


def outputs_to_torch(graph: ir.Graph, values: dict[str, np.ndarray]) -> np.ndarray | tuple[np.ndarray, ...]:
    """The model's result from :func:`run_layers`'s ``values``: the output batch in PyTorch layout, or
    for a model with several outputs the tuple of them, in the order the model returns them."""
    ys = tuple(output_to_torch(graph, values[name], i) for i, name in enumerate(graph.outputs))
    return ys if len(ys) > 1 else ys[0]


def run_layers(graph: ir.Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    """Execute ``graph`` on channels-last int8 batch ``x``; return every tensor by name.

    ``x`` must have shape ``(N, *input.shape)`` and dtype int8.  Large batches are processed
    in chunks of :data:`BATCH_CHUNK` samples to bound memory.
    """
    if not graph.is_integer:
        raise TinyQatError("graph is not lowered to integer ops yet")
    inp = graph.tensor(graph.input)
    if x.dtype != np.int8 or x.shape[1:] != inp.shape:
        raise TinyQatError(
            f"simulator input must be int8 of shape (N, {', '.join(map(str, inp.shape))}) channels-last; "
            f"got {x.dtype} {tuple(x.shape)}"
        )
    chunks = [_run_chunk(graph, x[i : i + BATCH_CHUNK]) for i in range(0, max(len(x), 1), BATCH_CHUNK)]
    return {name: np.concatenate([c[name] for c in chunks]) for name in chunks[0]}


def _run_chunk(graph: ir.Graph, x: np.ndarray) -> dict[str, np.ndarray]:
    values = {graph.input: x}
    for op in graph.ops:
        kernel = KERNELS[type(op)]
        ins = [graph.tensor(name) for name in op.inputs]
        values[op.output] = kernel(op, [values[name] for name in op.inputs], ins, graph.tensor(op.output))
    return values
