"""QAT modules of the ops that move int8 values without computing: shape plumbing (see
:mod:`tinyqat.movement`), nearest-neighbour upsampling, and a final (log-)softmax deployed as logits.

Each keeps its input's quantization grid (the values it outputs are values it read), so none
holds a quantizer: the fake-quant values flow through unchanged, exactly as the int8 bytes do.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tinyqat.movement import Move


class QuantMove(nn.Module):
    """Shape plumbing: output element ``i`` (PyTorch order, per sample) is input element ``index[i]``.

    ``move`` is what that is on the channels-last bytes (:func:`tinyqat.movement.classify`):
    an alias (nothing moves) or a per-pixel channel gather.  ``shape`` is the per-sample output shape.
    """

    def __init__(self, index: torch.Tensor, shape: tuple[int, ...], move: Move, source: str = "") -> None:
        super().__init__()
        self.register_buffer("index", index.to(torch.int64).reshape(-1), persistent=False)
        self.shape = tuple(int(d) for d in shape)
        self.move = move
        self.source = source

    def extra_repr(self) -> str:
        """Show the kind and the output shape."""
        return f"{self.move.kind}, shape={self.shape}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x.reshape(N, -1)[:, index].reshape(N, *shape)``; a plain reshape for an alias."""
        n = x.shape[0]
        flat = x.reshape(n, -1)
        if self.move.kind != "alias":
            flat = flat[:, self.index]
        return flat.reshape(n, *self.shape)


class QuantResizeNearest(nn.Module):
    """Nearest-neighbour upsampling by integer factors ``scale = (sh, sw)`` (``sh = 1`` for ``(N, C, L)``):
    ``y[.., oy, ox] = x[.., oy // sh, ox // sw]`` (TFLite ``RESIZE_NEAREST_NEIGHBOR`` without
    ``align_corners`` / ``half_pixel_centers``, and PyTorch's ``nearest`` / ``nearest-exact`` at integer factors)."""

    def __init__(self, scale: tuple[int, int], source: str = "") -> None:
        super().__init__()
        self.scale = (int(scale[0]), int(scale[1]))
        self.source = source

    def extra_repr(self) -> str:
        """Show the factors."""
        return f"scale={self.scale}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Each value repeated ``sh`` times along H and ``sw`` times along W (L for 1-D maps)."""
        if x.dim() == 4:
            x = x.repeat_interleave(self.scale[0], dim=2)
        return x.repeat_interleave(self.scale[1], dim=-1)


class DeployedAsLogits(nn.Module):
    """A final ``log_softmax`` / ``softmax`` over channels, computed in float for training (after the
    last quantizer) and left out of the deployed int8 graph, whose output is then the logits.

    Both functions are monotonic per sample, so the arg max is unchanged (``prepare_qat(...,
    deploy_logits=True)``)."""

    def __init__(self, function: str, dim: int = 1, source: str = "") -> None:
        super().__init__()
        if function not in ("log_softmax", "softmax"):
            raise ValueError(f"unknown function {function!r}")
        self.function = function
        self.dim = dim
        self.source = source

    def extra_repr(self) -> str:
        """Show the function and its dim."""
        return f"{self.function}, dim={self.dim}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``log_softmax(x, dim)`` or ``softmax(x, dim)`` in float."""
        return F.log_softmax(x, dim=self.dim) if self.function == "log_softmax" else F.softmax(x, dim=self.dim)
