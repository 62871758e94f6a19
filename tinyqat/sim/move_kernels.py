"""Simulator kernels of the data-movement ops (:data:`tinyqat.ir.MOVE_OPS`): bytes are copied or
kept, never requantized.  Same ``(op, xs, ins, out)`` convention as :mod:`tinyqat.sim.kernels`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinyqat import ir


def reshape(op: ir.Reshape, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """``y[i] = x[i]`` under the output's shape (formula: :class:`tinyqat.ir.Reshape`)."""
    return np.ascontiguousarray(xs[0]).reshape(xs[0].shape[0], *out.shape)


def gather(op: ir.Gather, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """``y[p * C_out + j] = x[p * C_in + index[j]]`` (formula: :class:`tinyqat.ir.Gather`)."""
    x = xs[0]
    n, c_in = x.shape[0], ins[0].shape[-1]
    pixels = x.reshape(n, -1, c_in)[:, :, np.asarray(op.index, dtype=np.int64)]
    return np.ascontiguousarray(pixels).reshape(n, *out.shape)


def resize_nearest(op: ir.ResizeNearest, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor],
                   out: ir.Tensor) -> np.ndarray:
    """``y[oy, ox, c] = x[oy // sh, ox // sw, c]`` (formula: :class:`tinyqat.ir.ResizeNearest`)."""
    oy = np.arange(out.shape[0]) // op.scale[0]
    ox = np.arange(out.shape[1]) // op.scale[1]
    return np.ascontiguousarray(xs[0][:, oy][:, :, ox])


MOVE_KERNELS = {ir.Reshape: reshape, ir.Gather: gather, ir.ResizeNearest: resize_nearest}
