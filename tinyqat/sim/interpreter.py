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


def to_channels_last(x: np.ndarray) -> np.ndarray:
    """NCHW -> NHWC for feature maps; vectors (N, F) are returned unchanged."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if x.ndim == 4 else x


def to_torch_layout(x: np.ndarray) -> np.ndarray:
    """NHWC -> NCHW for feature maps; vectors (N, F) are returned unchanged."""
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if x.ndim == 4 else x


def torch_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Per-sample channels-last shape ``(H, W, C)`` -> PyTorch's ``(C, H, W)``; vectors unchanged."""
    return (shape[2], shape[0], shape[1]) if len(shape) == 3 else shape


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
        values[op.output] = kernel(op, values[op.input], graph.tensor(op.input), graph.tensor(op.output))
    return values


def run(graph: ir.Graph, x: np.ndarray) -> np.ndarray:
    """Graph output for channels-last int8 batch ``x`` (channels-last)."""
    return run_layers(graph, x)[graph.output]
