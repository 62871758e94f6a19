"""Integer kernels of the simulator: the specification of every op (TFLite int8 reference).

Each kernel takes ``(op, xs, ins, out)``: the IR op, its int8 input batches ``xs`` (one per
name in ``op.inputs``, each of shape ``(N, *t.shape)``, channels-last), the input
:class:`~tinyqat.ir.Tensor` descriptions ``ins`` and the output description ``out``; it
returns an int8 batch of shape ``(N, *out.shape)``.  The formulas are in the op docstrings
of :mod:`tinyqat.ir`; the C kernels in ``runtime_c/`` must equal these bit for bit.

Accumulation: products ``w * (x - zp)`` are at most ``127 * 255`` in magnitude, so sums are
formed with float64 matrix products, which are exact while ``|acc| < 2**53`` (any fan-in
below ``2**38``); lowering already refuses layers whose worst-case accumulator leaves the
int32 range the C code uses, so every value here is an exact integer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinyqat import ir
from tinyqat.fixedpoint import INT32_MAX, INT32_MIN, log_x_q12, mbqm, rdbpot
from tinyqat.sim.move_kernels import MOVE_KERNELS

Kernel = Callable[[ir.IntOp, Sequence[np.ndarray], Sequence[ir.Tensor], ir.Tensor], np.ndarray]


def requantize(acc: np.ndarray, op: ir.Conv2d | ir.DepthwiseConv2d | ir.FullyConnected, zp_out: int) -> np.ndarray:
    """``clamp(mbqm(acc, multiplier[c], shift[c]) + zp_out, act_min, act_max)``, channels last."""
    y = mbqm(acc, op.multiplier.astype(np.int64), op.shift.astype(np.int64)) + zp_out
    return np.clip(y, op.act_min, op.act_max).astype(np.int8)


def _windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """Sliding windows ``(N, OH, OW, C, kh, kw)`` of an already padded NHWC batch."""
    win = sliding_window_view(x, kernel, axis=(1, 2))
    return win[:, : out_hw[0] * stride[0] : stride[0], : out_hw[1] * stride[1] : stride[1]]


def _centered_windows(op: ir.Conv2d | ir.DepthwiseConv2d, x: np.ndarray, zp_in: int,
                      out_hw: tuple[int, int]) -> np.ndarray:
    """Windows of ``x - zp_in`` (float64) zero-padded, i.e. padded taps contribute nothing."""
    pt, pl, pb, pr = op.padding
    padded = np.pad(x.astype(np.float64) - zp_in, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    return _windows(padded, op.kernel, op.stride, out_hw)


def conv2d(op: ir.Conv2d, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """Per-channel int8 convolution (formula: :class:`tinyqat.ir.Conv2d`)."""
    (x,), (x_t,) = xs, ins
    oh, ow, oc = out.shape
    win = _centered_windows(op, x, x_t.qparams.zero_point, (oh, ow))  # (N, OH, OW, C, kh, kw)
    patches = win.transpose(0, 1, 2, 4, 5, 3).reshape(x.shape[0], oh, ow, -1)
    w = op.weights.reshape(oc, -1).astype(np.float64)
    acc = (patches @ w.T).astype(np.int64) + op.bias.astype(np.int64)
    return requantize(acc, op, out.qparams.zero_point)


def depthwise_conv2d(op: ir.DepthwiseConv2d, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor],
                     out: ir.Tensor) -> np.ndarray:
    """Per-channel int8 depthwise convolution (formula: :class:`tinyqat.ir.DepthwiseConv2d`)."""
    (x,), (x_t,) = xs, ins
    oh, ow, _ = out.shape
    win = _centered_windows(op, x, x_t.qparams.zero_point, (oh, ow))  # (N, OH, OW, C_in, kh, kw)
    win = np.repeat(win, op.depth_multiplier, axis=3)  # output channel c reads input c // m
    acc = np.einsum("nhwckl,klc->nhwc", win, op.weights.astype(np.float64)).astype(np.int64)
    return requantize(acc + op.bias.astype(np.int64), op, out.qparams.zero_point)


def fully_connected(op: ir.FullyConnected, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor],
                    out: ir.Tensor) -> np.ndarray:
    """Per-channel int8 fully connected layer (formula: :class:`tinyqat.ir.FullyConnected`).

    The input is read in its channels-last flattened order.
    """
    (x,), (x_t,) = xs, ins
    centered = x.reshape(x.shape[0], -1).astype(np.float64) - x_t.qparams.zero_point
    acc = (centered @ op.weights.astype(np.float64).T).astype(np.int64) + op.bias.astype(np.int64)
    return requantize(acc, op, out.qparams.zero_point)


def _pool_padding(op: ir.MaxPool2d | ir.AvgPool2d, x_t: ir.Tensor, out: ir.Tensor) -> tuple[int, int, int, int]:
    """Padding ``(top, bottom, left, right)`` so every (ceil-mode) window lies inside the array."""
    pt, pl, _, _ = op.padding
    (h, w, _), (oh, ow, _) = x_t.shape, out.shape
    bottom = max(0, (oh - 1) * op.stride[0] + op.kernel[0] - h - pt)
    right = max(0, (ow - 1) * op.stride[1] + op.kernel[1] - w - pl)
    return pt, bottom, pl, right


def max_pool2d(op: ir.MaxPool2d, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """Max over the in-bounds taps of each window (formula: :class:`tinyqat.ir.MaxPool2d`).

    Out-of-bounds taps are padded with -129, below every int8 value, so they never win;
    every window holds at least one in-bounds tap (guaranteed by PyTorch's size rule).
    """
    (x,), (x_t,) = xs, ins
    pt, pb, pl, pr = _pool_padding(op, x_t, out)
    padded = np.pad(x.astype(np.int16), ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=-129)
    return _windows(padded, op.kernel, op.stride, out.shape[:2]).max(axis=(4, 5)).astype(np.int8)


def round_div(acc: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``acc > 0 ? (acc + n/2) / n : (acc - n/2) / n`` with C division (half away from zero)."""
    return np.sign(acc) * ((np.abs(acc) + n // 2) // n)


def avg_pool2d(op: ir.AvgPool2d, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """Average of each window with PyTorch's divisor (formula: :class:`tinyqat.ir.AvgPool2d`)."""
    (x,), (x_t,) = xs, ins
    pt, pb, pl, pr = _pool_padding(op, x_t, out)
    h, w, _ = x_t.shape
    # Taps inside the declared padding count (as the zero point) when count_include_pad;
    # taps past it (ceil-mode overhang) never count.
    counted = np.zeros((pt + h + pb, pl + w + pr), dtype=np.int64)
    ptop, pleft, pbot, pright = op.padding
    if op.count_include_pad:
        counted[pt - ptop : pt + h + pbot, pl - pleft : pl + w + pright] = 1
    counted[pt : pt + h, pl : pl + w] = 1
    zp = x_t.qparams.zero_point
    values = np.pad(x.astype(np.int64), ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=zp)
    values = values * counted[None, :, :, None]
    oh, ow, _ = out.shape
    acc = _windows(values.astype(np.float64), op.kernel, op.stride, (oh, ow)).sum(axis=(4, 5)).astype(np.int64)
    n = _windows(counted[None, :, :, None].astype(np.float64), op.kernel, op.stride, (oh, ow)).sum(axis=(4, 5))
    y = round_div(acc, np.broadcast_to(n.astype(np.int64), acc.shape))
    return np.clip(y, ir.INT8_MIN, ir.INT8_MAX).astype(np.int8)


def clamp(op: ir.Clamp, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """``y = min(max(x, lo), hi)`` (formula: :class:`tinyqat.ir.Clamp`)."""
    return np.clip(xs[0], op.lo, op.hi).astype(np.int8)


def add(op: ir.Add, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """TFLite int8 add or sub (formula: :class:`tinyqat.ir.Add`)."""
    scaled = [
        mbqm((x.astype(np.int64) - t.qparams.zero_point) << ir.Add.LEFT_SHIFT, q, e)
        for x, t, q, e in zip(xs, ins, (op.multiplier1, op.multiplier2), (op.shift1, op.shift2))
    ]
    total = scaled[0] + scaled[1] if not op.subtract else (scaled[1] - scaled[0] if op.reverse
                                                           else scaled[0] - scaled[1])  # (1, 1, C) broadcasts
    y = mbqm(total, op.output_multiplier, op.output_shift) + out.qparams.zero_point
    return np.clip(y, op.act_min, op.act_max).astype(np.int8)


def concat(op: ir.Concat, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """Channel concatenation with integer requantization (formula: :class:`tinyqat.ir.Concat`)."""
    parts = [
        mbqm(x.astype(np.int64) - t.qparams.zero_point, q, e) + out.qparams.zero_point
        for x, t, q, e in zip(xs, ins, op.multiplier.tolist(), op.shift.tolist())
    ]
    return np.clip(np.concatenate(parts, axis=-1), ir.INT8_MIN, ir.INT8_MAX).astype(np.int8)


def lookup(op: ir.Lookup, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """``y = table[x + 128]`` (formula: :class:`tinyqat.ir.Lookup`)."""
    return op.table[xs[0].astype(np.int64) + 128]


def softmax(op: ir.Softmax, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """Integer softmax over the last axis (formula: :class:`tinyqat.ir.Softmax`)."""
    x = xs[0].astype(np.int64)
    e = op.exp_table.astype(np.int64)[x.max(axis=-1, keepdims=True) - x]
    total = e.sum(axis=-1, keepdims=True)
    y = (e * 256 + total // 2) // total - 128
    return np.clip(y, ir.INT8_MIN, ir.INT8_MAX).astype(np.int8)


def log_softmax(op: ir.LogSoftmax, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """TFLite's int8 log-softmax over the last axis (formula: :class:`tinyqat.ir.LogSoftmax`)."""
    d = xs[0].astype(np.int64) - xs[0].max(axis=-1, keepdims=True)
    log_sum = log_x_q12(op.exp_table.astype(np.int64)[-d].sum(axis=-1, keepdims=True))
    cut = np.maximum(op.diff_min - 1, mbqm(log_sum + INT32_MIN, op.reverse_multiplier, op.reverse_shift))
    scaled = np.clip(mbqm(d, op.input_multiplier, op.input_shift) - log_sum, INT32_MIN, INT32_MAX)
    y = np.clip(rdbpot(scaled, 22) + 127, ir.INT8_MIN, ir.INT8_MAX)
    return np.where(d > cut, y, ir.INT8_MIN).astype(np.int8)


# --- elementwise ops with two operands or per-channel constants (MUL, PRELU) ---------------------


def mul(op: ir.Mul, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """TFLite int8 mul, ``inputs[1]`` broadcast from ``(1, 1, C)`` by numpy (formula: :class:`tinyqat.ir.Mul`)."""
    (a, b), (a_t, b_t) = xs, ins
    product = (a.astype(np.int64) - a_t.qparams.zero_point) * (b.astype(np.int64) - b_t.qparams.zero_point)
    y = mbqm(product, op.multiplier, op.shift) + out.qparams.zero_point
    return np.clip(y, op.act_min, op.act_max).astype(np.int8)


def mul_const(op: ir.MulConst, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """TFLite int8 mul by the constant per channel of the last axis (formula: :class:`tinyqat.ir.MulConst`)."""
    product = (xs[0].astype(np.int64) - ins[0].qparams.zero_point) * op.constant.astype(np.int64)
    y = mbqm(product, op.multiplier, op.shift) + out.qparams.zero_point
    return np.clip(y, op.act_min, op.act_max).astype(np.int8)


def prelu(op: ir.PRelu, xs: Sequence[np.ndarray], ins: Sequence[ir.Tensor], out: ir.Tensor) -> np.ndarray:
    """TFLite int8 PReLU, alpha per channel of the last axis (formula: :class:`tinyqat.ir.PRelu`)."""
    x_c = xs[0].astype(np.int64) - ins[0].qparams.zero_point
    positive = mbqm(x_c, op.multiplier_pos, op.shift_pos)
    negative = mbqm(x_c * op.alpha.astype(np.int64), op.multiplier_neg, op.shift_neg)
    y = np.where(x_c >= 0, positive, negative) + out.qparams.zero_point
    return np.clip(y, ir.INT8_MIN, ir.INT8_MAX).astype(np.int8)


# --- end of the elementwise block -----------------------------------------------------------------

KERNELS: dict[type, Kernel] = {
    ir.Conv2d: conv2d,
    ir.DepthwiseConv2d: depthwise_conv2d,
    ir.FullyConnected: fully_connected,
    ir.MaxPool2d: max_pool2d,
    ir.AvgPool2d: avg_pool2d,
    ir.Clamp: clamp,
    ir.Add: add,
    ir.Concat: concat,
    ir.Lookup: lookup,
    ir.Softmax: softmax,
    ir.LogSoftmax: log_softmax,
    ir.Mul: mul,
    ir.PRelu: prelu,
    ir.MulConst: mul_const,
    **MOVE_KERNELS,
}
