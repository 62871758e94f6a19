"""Weight layouts of ``tinyqat build --optimize speed`` for the DSP kernels (the Python twins).

``--optimize size`` (the default) ships the IR's int8 weights only.  ``--optimize speed`` ships,
for the conv layers the DSP kernel can run from them, the weights pre-extended to
int16 in the order the kernel's inner loop reads them, instead of the int8 weights on cores with
the DSP extension (the generated ``*_weights.h`` selects with ``TQ_USE_DSP``, so the same package
still builds with the portable kernels, which read the int8 weights).  Those layers' weight
bytes double (int8 -> int16, plus padding); the inner loop loses its sign extensions.

* Conv (:func:`conv_weights_s16`), ``runtime_c/tq_conv2d_s8_dsp.c``: K = kh * kw * in_c values
  per output channel in the column order ``perm`` (:func:`conv_column_order`), padded to an even
  K2 with 0, output channels padded to a multiple of 4 with 0;
  ``out[((g * K2 / 2 + j) * 4 + i) * 2 + h] = w[4 g + i][perm[2 j + h]]``.  Only when
  ``K <= CONV_DSP_COLUMN_MAX`` (the kernel's column bound, ``TQ_CONV_DSP_COLUMN_MAX``).
* Depthwise and the rest keep their int8 weights in both modes.

Fully connected layers (8-bit) have a DSP layout in both modes (:func:`fc_dsp_arrays`), the same
number of bytes as their int8 weights: ``runtime_c/tq_fully_connected_s8_dsp.c`` reads
``weights_dsp`` (:func:`fc_weights_dsp`) and ``bias_dsp`` (the input zero point folded into the
bias) instead of ``weights`` and ``bias`` under ``TQ_USE_DSP``.
"""

from __future__ import annotations

import numpy as np

from tinyqat import ir
from tinyqat.target import CONV_DSP_COLUMN_MAX

OPTIMIZE_CHOICES = ("size", "speed")


def conv_column_order(k: int) -> np.ndarray:
    """The DSP conv column's order of the K = kh * kw * in_c window values: each group of four
    ``(v0, v1, v2, v3)`` as ``(v0, v2, v1, v3)``, the ``K mod 4`` last ones in natural order."""
    order = np.arange(k)
    full = k // 4 * 4
    order[:full] = order[:full].reshape(-1, 4)[:, [0, 2, 1, 3]].reshape(-1)
    return order


def conv_weights_s16(weights: np.ndarray) -> np.ndarray:
    """Conv weights ``[out_c][kh][kw][in_c]`` (int8) in the speed layout (module docstring), int16."""
    out_c = weights.shape[0]
    flat = weights.reshape(out_c, -1).astype(np.int16)
    k = flat.shape[1]
    k2, groups = k + (k & 1), -(-out_c // 4)
    cols = np.zeros((groups * 4, k2), np.int16)
    cols[:out_c, :k] = flat[:, conv_column_order(k)]
    # [g][i][j][h] -> [g][j][i][h]
    return cols.reshape(groups, 4, k2 // 2, 2).transpose(0, 2, 1, 3).reshape(-1).copy()


def fc_weights_dsp(weights: np.ndarray) -> np.ndarray:
    """FC weights ``[out][in]`` (int8) in the DSP kernel's row-pair layout (int8, same size).

    With ``N = in``, ``S = N // 4``, ``T = N % 4``, ``G = out // 4``: for each group ``g < G``, ``16 S``
    bytes, for step ``s < S``, pair ``p < 2``, half ``h < 2``, lane ``l < 2``, the little-endian
    int16 ``w[4g + 2p][i] + 256 * w[4g + 2p + 1][i]`` with ``i = 4s + 2l + h``; then ``w[4g + r][4S + t]``
    for ``r < 4``, ``t < T``; after the groups, the ``out % 4`` last rows in natural order.
    """
    out_f, in_f = weights.shape
    groups, steps, tail = out_f // 4, in_f // 4, in_f % 4
    w = weights.astype(np.int32)
    body = w[:4 * groups, :4 * steps].reshape(groups, 2, 2, steps, 2, 2)  # [g][p][row in pair][s][l][h]
    lanes = body[:, :, 0] + 256 * body[:, :, 1]  # [g][p][s][l][h]
    lanes = lanes.transpose(0, 2, 1, 4, 3).reshape(groups, 16 * steps // 2)  # [g][s][p][h][l]
    stream = lanes.astype("<i2").view(np.int8).reshape(groups, 16 * steps)
    tails = weights[:4 * groups, 4 * steps:].reshape(groups, 4 * tail)
    parts = np.concatenate([stream, tails], axis=1).reshape(-1)
    return np.concatenate([parts, weights[4 * groups:].reshape(-1)]).astype(np.int8)


def fc_bias_dsp(weights: np.ndarray, bias: np.ndarray, input_zero_point: int) -> np.ndarray:
    """``bias[c] - input_zero_point * sum_i weights[c][i]`` (int32): the DSP FC kernel's bias, the
    input zero point folded in (exact; within int32 whenever the layer keeps tq_kernels.h's
    accumulator bound ``|bias| + 255 * 127 * in < 2**31``)."""
    folded = bias.astype(np.int64) - int(input_zero_point) * weights.astype(np.int64).sum(axis=1)
    if np.any(np.abs(folded) > 2**31 - 1):
        raise ValueError("fully connected bias with the input zero point folded in does not fit int32")
    return folded.astype(np.int32)


def fc_dsp_arrays(op: ir.IntOp, input_zero_point: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(weights_dsp, bias_dsp)`` of an 8-bit fully connected ``op`` (both modes, DSP builds), else None."""
    if not isinstance(op, ir.FullyConnected) or op.weight_bits != 8:
        return None
    weights = op.weights.reshape(op.weights.shape[0], -1)
    return fc_weights_dsp(weights), fc_bias_dsp(weights, op.bias, input_zero_point)


def speed_weights(op: ir.IntOp) -> np.ndarray | None:
    """The speed-layout int16 weights of ``op``, or None when its DSP kernel does not use one."""
    if getattr(op, "weight_bits", 8) != 8:  # 4-bit layers always run the portable packed tq_*_s4_s8 kernels
        return None
    if isinstance(op, ir.Conv2d):
        if int(np.prod(op.weights.shape[1:])) <= CONV_DSP_COLUMN_MAX:
            return conv_weights_s16(op.weights)
        return None
    return None


def check_optimize(optimize: str) -> str:
    """``optimize`` when it is one of :data:`OPTIMIZE_CHOICES`, else ``ValueError``."""
    if optimize not in OPTIMIZE_CHOICES:
        raise ValueError(f"optimize must be one of {', '.join(OPTIMIZE_CHOICES)}, not {optimize!r}")
    return optimize
