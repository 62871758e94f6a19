"""User-facing helpers around the integer simulator (PyTorch layouts at the boundary)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tinyqat import ir, quant
from tinyqat.lower import lower_file
from tinyqat.sim.interpreter import input_from_torch, output_to_torch, run_layers


def load(model: str | Path | ir.Graph) -> ir.Graph:
    """The lowered integer graph of an artifact path (a graph is returned as is)."""
    return model if isinstance(model, ir.Graph) else lower_file(model)


def quantize_input(model: str | Path | ir.Graph, x: np.ndarray | torch.Tensor) -> np.ndarray:
    """Float input batch (PyTorch layout) -> int8 with the model's input quantization.

    ``q = clamp(round(x / scale) + zero_point, -128, 127)`` (:func:`tinyqat.quant.quantize`),
    exactly what the QAT input fake-quant computes.
    """
    graph = load(model)
    q = graph.tensor(graph.input).qparams
    t = torch.as_tensor(np.asarray(x, dtype=np.float32))
    out = quant.quantize(t, torch.tensor(q.scale, dtype=torch.float32), q.zero_point, quant.ACT_QMIN, quant.ACT_QMAX)
    return out.numpy().astype(np.int8)


def dequantize_output(model: str | Path | ir.Graph, y: np.ndarray) -> np.ndarray:
    """int8 output -> float32 ``scale * (y - zero_point)``."""
    graph = load(model)
    q = graph.tensor(graph.output).qparams
    return (np.float32(q.scale) * (y.astype(np.float32) - np.float32(q.zero_point))).astype(np.float32)


def simulate(
    model: str | Path | ir.Graph, x: np.ndarray, *, layers: bool = False
) -> np.ndarray | dict[str, np.ndarray]:
    """Run the integer simulator on an int8 batch in PyTorch layout ((N, C, H, W) or (N, F)).

    Returns the int8 output in PyTorch layout, or with ``layers=True`` every tensor of the
    lowered graph by name (channels-last, as the C arena holds them) for debugging.
    """
    graph = load(model)
    values = run_layers(graph, input_from_torch(graph, x))
    return values if layers else output_to_torch(graph, values[graph.output])
