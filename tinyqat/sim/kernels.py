"""Integer kernels of the simulator: the specification of every op (TFLite int8 reference).

Each kernel takes ``(op, x, in_t, out_t)``: the IR op, an int8 batch ``x`` of shape
``(N, *in_t.shape)`` (channels-last), and the input/output :class:`~tinyqat.ir.Tensor`
descriptions; it returns an int8 batch of shape ``(N, *out_t.shape)``.  The formulas are
in the op docstrings of :mod:`tinyqat.ir`; the C kernels in ``runtime_c/`` must equal these
bit for bit.

Accumulation: products ``w * (x - zp)`` are at most ``127 * 255`` in magnitude, so sums are
formed with float64 matrix products, which are exact while ``|acc| < 2**53`` (any fan-in
below ``2**38``); lowering already refuses layers whose worst-case accumulator leaves the
int32 range the C code uses, so every value here is an exact integer.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinyqat import ir
from tinyqat.fixedpoint import mbqm


def requantize(acc: np.ndarray, op: ir.Conv2d | ir.FullyConnected, zp_out: int) -> np.ndarray:
    """``clamp(mbqm(acc, multiplier[c], shift[c]) + zp_out, act_min, act_max)``, channels last."""
    y = mbqm(acc, op.multiplier.astype(np.int64), op.shift.astype(np.int64)) + zp_out
    return np.clip(y, op.act_min, op.act_max).astype(np.int8)


def _windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """Sliding windows ``(N, OH, OW, C, kh, kw)`` of an already padded NHWC batch."""
    win = sliding_window_view(x, kernel, axis=(1, 2))
    return win[:, : out_hw[0] * stride[0] : stride[0], : out_hw[1] * stride[1] : stride[1]]


def conv2d(op: ir.Conv2d, x: np.ndarray, in_t: ir.Tensor, out_t: ir.Tensor) -> np.ndarray:
    """Per-channel int8 convolution (formula: :class:`tinyqat.ir.Conv2d`).

    Padded taps contribute ``x - zp_in = 0``, i.e. only in-bounds taps are summed.
    """
    pt, pl, pb, pr = op.padding
    centered = x.astype(np.float64) - in_t.qparams.zero_point
    padded = np.pad(centered, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh, ow, oc = out_t.shape
    win = _windows(padded, op.kernel, op.stride, (oh, ow))  # (N, OH, OW, C, kh, kw)
    patches = win.transpose(0, 1, 2, 4, 5, 3).reshape(x.shape[0], oh, ow, -1)
    w = op.weights.reshape(oc, -1).astype(np.float64)
    acc = (patches @ w.T).astype(np.int64) + op.bias.astype(np.int64)
    return requantize(acc, op, out_t.qparams.zero_point)


def fully_connected(op: ir.FullyConnected, x: np.ndarray, in_t: ir.Tensor, out_t: ir.Tensor) -> np.ndarray:
    """Per-channel int8 fully connected layer (formula: :class:`tinyqat.ir.FullyConnected`).

    The input is read in its channels-last flattened order.
    """
    centered = x.reshape(x.shape[0], -1).astype(np.float64) - in_t.qparams.zero_point
    acc = (centered @ op.weights.astype(np.float64).T).astype(np.int64) + op.bias.astype(np.int64)
    return requantize(acc, op, out_t.qparams.zero_point)


def max_pool2d(op: ir.MaxPool2d, x: np.ndarray, in_t: ir.Tensor, out_t: ir.Tensor) -> np.ndarray:
    """Max over the in-bounds taps of each window (formula: :class:`tinyqat.ir.MaxPool2d`).

    Out-of-bounds taps are padded with -129, below every int8 value, so they never win;
    every window holds at least one in-bounds tap (guaranteed by PyTorch's size rule).
    """
    pt, pl, _, _ = op.padding
    h, w, _ = in_t.shape
    oh, ow, _ = out_t.shape
    (kh, kw), (sh, sw) = op.kernel, op.stride
    bottom = max(0, (oh - 1) * sh + kh - h - pt)
    right = max(0, (ow - 1) * sw + kw - w - pl)
    padded = np.pad(x.astype(np.int16), ((0, 0), (pt, bottom), (pl, right), (0, 0)), constant_values=-129)
    return _windows(padded, op.kernel, op.stride, (oh, ow)).max(axis=(4, 5)).astype(np.int8)


def clamp(op: ir.Clamp, x: np.ndarray, in_t: ir.Tensor, out_t: ir.Tensor) -> np.ndarray:
    """``y = min(max(x, lo), hi)`` (formula: :class:`tinyqat.ir.Clamp`)."""
    del in_t, out_t
    return np.clip(x, op.lo, op.hi).astype(np.int8)


KERNELS = {
    ir.Conv2d: conv2d,
    ir.FullyConnected: fully_connected,
    ir.MaxPool2d: max_pool2d,
    ir.Clamp: clamp,
}
