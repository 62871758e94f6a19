"""User-facing helpers around the integer simulator (PyTorch layouts at the boundary)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tinyqat import ir, quant
from tinyqat.capture import to_artifact
from tinyqat.lower import lower, lower_file
from tinyqat.sim.interpreter import input_from_torch, outputs_to_torch, run_layers
from tinyqat.sim.torch_model import IntegerModel


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


def dequantize_output(model: str | Path | ir.Graph, y: np.ndarray | tuple[np.ndarray, ...]
                      ) -> np.ndarray | tuple[np.ndarray, ...]:
    """int8 output -> float32 ``scale * (y - zero_point)``; for a model with several outputs, the tuple
    :func:`simulate` returns -> the tuple of each output dequantized with its own quantization."""
    graph = load(model)
    ys = y if isinstance(y, tuple) else (y,)
    if len(ys) != len(graph.outputs):
        raise ValueError(f"the model has {len(graph.outputs)} outputs, got {len(ys)} arrays")
    out = []
    for name, yi in zip(graph.outputs, ys):
        q = graph.tensor(name).qparams
        out.append((np.float32(q.scale) * (yi.astype(np.float32) - np.float32(q.zero_point))).astype(np.float32))
    return tuple(out) if isinstance(y, tuple) else out[0]


def simulate(
    model: str | Path | ir.Graph, x: np.ndarray, *, layers: bool = False
) -> np.ndarray | tuple[np.ndarray, ...] | dict[str, np.ndarray]:
    """Run the integer simulator on an int8 batch in PyTorch layout ((N, C, H, W) or (N, F)).

    Returns the int8 output in PyTorch layout (for a model that returns a tuple of several tensors,
    the tuple of them in that order), or with ``layers=True`` every tensor of the lowered graph by
    name (channels-last, as the C arena holds them) for debugging.
    """
    graph = load(model)
    values = run_layers(graph, input_from_torch(graph, x))
    return values if layers else outputs_to_torch(graph, values)


def integer_model(model: str | Path | ir.Graph | nn.Module) -> IntegerModel:
    """The integer model as a torch module (:class:`tinyqat.sim.torch_model.IntegerModel`): int8 in, int8
    out, the simulator's integers, on the device of a QAT model (a trained, prepared model is captured
    and lowered in memory, as ``save`` then ``load`` would) or on the CPU for an artifact path or graph.

    For the device's accuracy during training, e.g. in ``qat_finetune(..., on_epoch=...)``:
    ``im = integer_model(qat); y = im(quantize_input_torch(im, x))``, or :func:`integer_accuracy`.
    """
    if isinstance(model, nn.Module):
        device = next((t.device for t in model.state_dict().values()), torch.device("cpu"))
        return IntegerModel(lower(to_artifact(model))).to(device)
    return IntegerModel(load(model))


def integer_accuracy(model: nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Top-1 accuracy of the integer model (what the device computes) of a prepared, trained QAT model on
    ``(x, y)`` batches of float inputs and class labels: ``mean(argmax(im(quantize_input_torch(im, x))) == y)``,
    on the model's device, the model left as it was (the first output of a model that returns a tuple).
    For ``qat_finetune(..., on_epoch=...)``."""
    im = integer_model(model)
    correct = total = 0
    with torch.no_grad():
        for x, y in batches:
            out = im(quantize_input_torch(im, x.to(im.device)))
            out = out[0] if isinstance(out, tuple) else out
            correct += int((out.reshape(out.shape[0], -1).argmax(1) == y.to(out.device)).sum())
            total += int(y.numel())
    if total == 0:
        raise ValueError("integer_accuracy needs at least one non-empty batch")
    return correct / total


def quantize_input_torch(model: IntegerModel, x: torch.Tensor) -> torch.Tensor:
    """:func:`quantize_input` on a float tensor, on its device: int8 ``clamp(round(x / s) + zp)``."""
    q = model.graph.tensor(model.graph.input).qparams
    scale = torch.tensor(q.scale, dtype=torch.float32, device=x.device)
    return quant.quantize(x.float(), scale, q.zero_point, quant.ACT_QMIN, quant.ACT_QMAX).to(torch.int8)
