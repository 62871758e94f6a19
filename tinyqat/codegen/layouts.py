"""Weight layouts of the optimized kernels (the Python twins): DSP speed and fully connected layouts, Armv6-M conv.

``--optimize size`` (the default) ships the IR's int8 weights only.  ``--optimize speed`` ships,
for the conv layers the DSP kernel can run from them, the weights pre-extended to
int16 in the order the kernel's inner loop reads them, instead of the int8 weights on cores with
the DSP extension (the generated ``*_weights.h`` selects with ``TQ_USE_DSP``, so the same package
still builds with the portable kernels, which read the int8 weights).  Those layers' weight
bytes double (int8 -> int16, plus padding); the inner loop loses its sign extensions.

* Conv (:func:`conv_weights_s16`), ``runtime_c/tq_conv2d_s8_dsp.c``: K = kh * kw * in_c values
  per output channel padded with 0 to K4 (K rounded up to a multiple of 4), in the column order
  ``perm`` (:func:`conv_column_order`), output channels padded to a multiple of 4 with 0;
  ``out[((g * K4 / 2 + j) * 4 + i) * 2 + h] = w[4 g + i][perm[2 j + h]]``.  Only when
  ``K <= CONV_DSP_COLUMN_MAX`` (the kernel's column bound, ``TQ_CONV_DSP_COLUMN_MAX``).  Layers whose every
  channel group runs the output stage in the block ship ``2 * out`` (:func:`speed_doubled`).  Stride-1 pointwise
  layers on the pws paths (:func:`pws_path`) ship :func:`pws_records` instead: per channel group its doubled biases,
  doubled weights and output-stage constants, read by ``runtime_c/tq_conv2d_s8_pws*.c`` (their biases,
  multipliers and shifts then only for the portable kernel, under ``!TQ_USE_DSP``).
* Depthwise layers on the DSP row path ship channel records instead (:func:`dw_records`); the rest keep
  their int8 weights in both modes.

Both modes, on a core with the DSP extension (the layer has DSP scratch): the conv's int8 weights
are shipped in the DSP kernel's int8 order (:func:`conv_weights_dsp`) under ``TQ_USE_DSP`` and in
the IR order otherwise (same bytes, up to the padding below), so the default build's inner block
reads one word per two channels and two column values:
``out[((g * K4 / 2 + j) * 2 + s) * 4 + b] = w[4 g + 2 s + (b & 1)][perm[2 j + (b >> 1)]]``
(channel group ``g``, pair ``j``, channel pair ``s``, byte ``b``; ``SXTB16`` of the word is the
pair of channel ``4 g + 2 s``, ``SXTB16 ROR #8`` that of channel ``4 g + 2 s + 1``), padded with 0
as the speed layout.  In speed mode the int16 layout replaces it where both apply (its blocks are in
``runtime_c/tq_conv2d_s8_speed.c``, shipped only then).

Armv6-M layout (:func:`conv_weights_v6m`, ``runtime_c/tq_conv2d_s8_v6m.c``), independent of
``optimize``: packages for a board whose ``kernels`` is ``"v6m"`` ship it instead of the int8 conv
weights where ``TQ_USE_V6M`` is 1 (same guard scheme), for convs with ``K <= CONV_DSP_COLUMN_MAX``
(:func:`v6m_weights`): ``out[(g * K + k) * 4 + i] = w[4 g + i][k] + 128`` as uint8, channel groups
of four padded with 128 (a zero weight).  Flash: ``ceil(out_c / 4) * 4 * K`` bytes instead of
``out_c * K``.  Fully connected layers get the same layout (``K = in_features``,
``runtime_c/tq_fully_connected_s8_v6m.c``) with ``bias_v6m`` (:func:`fc_bias_dsp`) instead of ``bias``.

Fully connected layers (8-bit) have a DSP layout in both modes (:func:`fc_dsp_arrays`), the
int8 weights reordered (the same number of bytes): ``runtime_c/tq_fully_connected_s8_general.c`` reads
``weights_dsp`` (:func:`fc_weights_dsp`), ``bias_dsp`` (the input zero point folded into the
bias) and ``requant_dsp`` (:func:`fc_requant_dsp`) instead of ``weights``, ``bias``, ``multiplier`` and ``shift``
under ``TQ_USE_DSP``.  Short ones that :func:`fc_dsp_path` picks ship one record stream instead
(:func:`fc_rows8_records`, :func:`fc_k8_records`, :func:`fc_pairs_records`, :func:`fc_rows8p_records`,
:func:`fc_rows8q_records`, read by ``runtime_c/tq_fully_connected_s8_rows8.c``, ``_k8.c``, ``_pairs.c``, ``_rows8p.c``,
``_rows8q.c``); the others name the general
path, ``runtime_c/tq_fully_connected_s8_general.c``: each path's file ships only with a layer running it.

Adds on boards with DSP or Armv6-M kernels (:func:`add_table`): a 256-entry int32 table of one input's
rescaled value, so an element costs two loads and a table read instead of two requantizations
(``runtime_c/tq_add_s8_dsp.c``, ``tq_add_s8_v6m.c``). 1 KiB of flash per add; the default build ships it
for adds of at least :data:`ADD_TABLE_MIN_SIZE` elements (at most one table byte per element), the speed
build for every add.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeGuard

import numpy as np

from tinyqat import ir
from tinyqat.errors import TinyQatError
from tinyqat.fixedpoint import FUSED2_OFFSET_E_MAX, mbqm
from tinyqat.memory.planner import dw_padded_width
from tinyqat.target import CONV_DSP_COLUMN_MAX

OPTIMIZE_CHOICES = ("size", "speed")


def conv_column_order(k: int) -> np.ndarray:
    """The DSP conv column's order of the K = kh * kw * in_c window values padded to K4 (K rounded up
    to a multiple of 4; indices >= K are padding, weight 0): each group of four ``(v0, v1, v2, v3)``
    as ``(v0, v2, v1, v3)``."""
    return np.arange(-(-k // 4) * 4).reshape(-1, 4)[:, [0, 2, 1, 3]].reshape(-1)


def _padded_columns(weights: np.ndarray, dtype: type) -> np.ndarray:
    """``[out_c rounded up to 4][K4]``: the weights in column order, zero padded."""
    out_c = weights.shape[0]
    flat = weights.reshape(out_c, -1)
    k = flat.shape[1]
    k4, groups = -(-k // 4) * 4, -(-out_c // 4)
    padded = np.zeros((groups * 4, k4), dtype)
    padded[:out_c, :k] = flat
    return padded[:, conv_column_order(k)]


def conv_weights_s16(weights: np.ndarray) -> np.ndarray:
    """Conv weights ``[out_c][kh][kw][in_c]`` (int8) in the speed layout (module docstring), int16."""
    cols = _padded_columns(weights, np.int16)
    groups, k4 = cols.shape[0] // 4, cols.shape[1]
    # [g][i][j][h] -> [g][j][i][h]
    return cols.reshape(groups, 4, k4 // 2, 2).transpose(0, 2, 1, 3).reshape(-1).copy()


def conv_weights_dsp(weights: np.ndarray) -> np.ndarray:
    """Conv weights ``[out_c][kh][kw][in_c]`` (int8) in the DSP kernel's int8 layout (module docstring)."""
    cols = _padded_columns(weights, np.int8)
    groups, k4 = cols.shape[0] // 4, cols.shape[1]
    # [g][s][c][j][h] -> [g][j][s][h][c]  (byte b = 2 h + c)
    return cols.reshape(groups, 2, 2, k4 // 2, 2).transpose(0, 3, 1, 4, 2).reshape(-1).copy()


def dsp_weights(op: ir.IntOp) -> np.ndarray | None:
    """The int8 DSP-layout weights of ``op`` (both modes, on a DSP core with the layer's scratch),
    or None when its DSP kernel reads the IR order."""
    if getattr(op, "weight_bits", 8) != 8 or not isinstance(op, ir.Conv2d):
        return None
    if int(np.prod(op.weights.shape[1:])) <= CONV_DSP_COLUMN_MAX:
        return conv_weights_dsp(op.weights)
    return None


FC_DSP_GROUP_ROWS = 8  # rows per group of the DSP FC kernel's assembly block (tq_fully_connected_s8_general.c)


def fc_dsp_groups(out_features: int, in_features: int) -> int:
    """Row groups of the DSP FC kernel's pair layout: ``out // 8`` when ``in`` is a multiple of 4, else 0."""
    return out_features // FC_DSP_GROUP_ROWS if in_features % 4 == 0 else 0


def fc_dsp_tail_pairs(out_features: int, in_features: int) -> int:
    """Row pairs of the DSP FC kernel after its groups of 8 rows, each a block of one pair: ``(out mod 8) // 2``
    when ``in`` is a multiple of 4, else 0 (the last row of an odd count stays in natural order)."""
    return out_features % FC_DSP_GROUP_ROWS // 2 if in_features % 4 == 0 else 0


def _paired_rows(rows: np.ndarray, pairs: int) -> np.ndarray:
    """Rows ``[2 * pairs * G][in]`` as blocks of ``pairs`` row pairs: block ``g``, step ``s < in / 4``, pair
    ``p``, half ``h``, lane ``l`` (fastest) hold the little-endian int16 ``w[2p][i] + 256 * w[2p + 1][i]``
    of the block's rows, ``i = 4s + 2l + h``."""
    blocks, steps = rows.shape[0] // (2 * pairs), rows.shape[1] // 4
    body = rows.astype(np.int32).reshape(blocks, pairs, 2, steps, 2, 2)  # [g][p][row in pair][s][l][h]
    lanes = (body[:, :, 0] + 256 * body[:, :, 1]).transpose(0, 2, 1, 4, 3)  # [g][s][p][h][l]
    return lanes.astype("<i2").reshape(-1).view(np.int8)


def fc_weights_dsp(weights: np.ndarray) -> np.ndarray:
    """FC weights ``[out][in]`` (int8) in the DSP kernel's layout (int8, the same bytes reordered).

    ``G = fc_dsp_groups(out, in)`` groups of 8 rows (4 pairs), then :func:`fc_dsp_tail_pairs` blocks of one pair,
    then the last row (odd counts) in natural order. A block of ``P``
    pairs, for step ``s < in / 4``, pair ``p < P``, half ``h < 2`` and lane ``l < 2`` (``l`` fastest), holds
    the little-endian int16 ``w[r + 2p][i] + 256 * w[r + 2p + 1][i]`` with ``i = 4s + 2l + h`` (``r``: the
    block's first row).
    """
    out_f, in_f = weights.shape
    rows = FC_DSP_GROUP_ROWS * fc_dsp_groups(out_f, in_f)
    pairs = fc_dsp_tail_pairs(out_f, in_f)
    parts = [_paired_rows(weights[:rows], FC_DSP_GROUP_ROWS // 2), _paired_rows(weights[rows:rows + 2 * pairs], 1)]
    return np.concatenate([*parts, weights[rows + 2 * pairs:].reshape(-1)]).astype(np.int8)


def fc_bias_dsp(weights: np.ndarray, bias: np.ndarray, input_zero_point: int) -> np.ndarray:
    """``bias[c] - input_zero_point * sum_i weights[c][i]`` (int32): the DSP FC kernel's bias, the input
    zero point folded in (exact; within int32 whenever the layer keeps tq_kernels.h's accumulator
    bound ``|bias| + 255 * 127 * in < 2**31``)."""
    folded = bias.astype(np.int64) - int(input_zero_point) * weights.astype(np.int64).sum(axis=1)
    if np.any(np.abs(folded) > 2**31 - 1):
        raise ValueError("fully connected bias with the input zero point folded in does not fit int32")
    return folded.astype(np.int32)


def fc_requant_dsp(multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The DSP FC kernel's output-stage pairs (int32): ``multiplier[c], -shift[c] - 1`` for every channel ``c``
    (``e - 1`` for a right shift ``e``, what its assembly output stage shifts by; one LDRD per channel), the
    same bytes as the multiplier and shift arrays it replaces."""
    return np.stack([multiplier.astype(np.int32), (-shift.astype(np.int64) - 1).astype(np.int32)], axis=1).reshape(-1)


def fc_dsp_arrays(op: ir.IntOp, input_zero_point: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(weights_dsp, bias_dsp, requant_dsp)`` of an 8-bit fully connected ``op`` (both modes, DSP builds), else
    None."""
    if not isinstance(op, ir.FullyConnected) or op.weight_bits != 8:
        return None
    weights = op.weights.reshape(op.weights.shape[0], -1)
    return (fc_weights_dsp(weights), fc_bias_dsp(weights, op.bias, input_zero_point),
            fc_requant_dsp(op.multiplier, op.shift))


FC_ROWS8_IN_MAX = 512  # the most inputs of the short FC paths: no chunks (tq_fully_connected_s8_rows8.c, ...)
FC_K8_IN = 8  # the inputs of the k8 path (tq_fully_connected_s8_k8.c)
# The DSP FC's path in a runtime file of its own (tq_fully_connected_s8_params.dsp_path): C symbol -> file.
FC_DSP_PATH_FILES = {"tq_fully_connected_s8_general": "tq_fully_connected_s8_general.c",
                     "tq_fully_connected_s8_rows8": "tq_fully_connected_s8_rows8.c",
                     "tq_fully_connected_s8_k8": "tq_fully_connected_s8_k8.c",
                     "tq_fully_connected_s8_pairs": "tq_fully_connected_s8_pairs.c",
                     "tq_fully_connected_s8_rows8p": "tq_fully_connected_s8_rows8p.c",
                     "tq_fully_connected_s8_rows8q": "tq_fully_connected_s8_rows8q.c"}
FC_GENERAL_PATH = "tq_fully_connected_s8_general"  # the path of any layer, reading fc_dsp_arrays (no records)


def fc_dsp_path(op: ir.IntOp, fields: Mapping[str, int]) -> str | None:
    """The DSP FC path (a key of :data:`FC_DSP_PATH_FILES`) of an 8-bit fully connected ``op`` from its struct's
    scalar ``fields`` (``tq_fully_connected_s8_params``), None for other ops (4-bit weights included). Each path is in
    a runtime file of its own that a package ships only with a layer running it, in both modes (the row-pair layouts
    take the int8 weights' bytes), so a build links only the paths its layers run.

    The short paths need ``requant_fused = 1`` and the full int8 output range (their output stage's SSAT is the whole
    clamp) and at most :data:`FC_ROWS8_IN_MAX` inputs (the bound below which no row needs chunks):

    * ``tq_fully_connected_s8_pairs``: ``out_features`` 2, 4 or 6 (no group of 8 rows) and ``in_features`` a
      multiple of 8;
    * ``tq_fully_connected_s8_k8``: ``out_features`` a multiple of 8 and ``in_features = 8`` (the input held in
      registers);
    * ``tq_fully_connected_s8_rows8``: ``out_features`` a multiple of 8 and ``in_features`` a multiple of 4; its
      per-group work is smaller than the general kernel's, what short rows need;
    * ``tq_fully_connected_s8_rows8p``: ``out_features = 8G + 2`` with ``G >= 1`` and ``in_features`` a multiple of
      8 (the rows8 groups, then the pairs path's pair, in one routine);
    * ``tq_fully_connected_s8_rows8q``: ``out_features = 8G + 4`` or ``8G + 6`` with ``G >= 1`` and ``in_features`` a
      multiple of 8 (the rows8 groups, a quad of 4 rows, then for ``8G + 6`` the pairs path's pair).

    Every other 8-bit layer runs :data:`FC_GENERAL_PATH` (``tq_fully_connected_s8_general.c``, any shape)."""
    if not isinstance(op, ir.FullyConnected) or op.weight_bits != 8:
        return None
    f = fields
    if f["requant_fused"] != 1 or (f["act_min"], f["act_max"]) != (-128, 127) or f["in_features"] > FC_ROWS8_IN_MAX:
        return FC_GENERAL_PATH
    if f["out_features"] in (2, 4, 6) and f["in_features"] % 8 == 0:
        return "tq_fully_connected_s8_pairs"
    if f["out_features"] % FC_DSP_GROUP_ROWS:
        ok = f["out_features"] % 2 == 0 and f["out_features"] > FC_DSP_GROUP_ROWS and f["in_features"] % 8 == 0
        if not ok:
            return FC_GENERAL_PATH
        return "tq_fully_connected_s8_rows8p" if f["out_features"] % FC_DSP_GROUP_ROWS == 2 else \
            "tq_fully_connected_s8_rows8q"
    if f["in_features"] == FC_K8_IN:
        return "tq_fully_connected_s8_k8"
    if f["in_features"] % 4 == 0:
        return "tq_fully_connected_s8_rows8"
    return FC_GENERAL_PATH


# The short paths' assembly loops (runtime_c/tq_dsp.h), whose entry the generator computes: the rows8 groups' loop
# of FC_ROWS8_UNROLL steps of FC_STEP_BYTES bytes (TQ_FC_ROWS8_UNROLL, TQ_FC_STEP_BYTES), the pairs' loop of
# FC_PAIRS_UNROLL blocks of FC_PAIRS_BLOCK_BYTES bytes (TQ_FC_PAIRS_BLOCK_BYTES; two steps a block).
FC_ROWS8_UNROLL = 8
FC_STEP_BYTES = 140
FC_PAIRS_UNROLL = 8
FC_PAIRS_BLOCK_BYTES = 88
FC_QUAD_UNROLL = 8  # the quad's loop of FC_QUAD_UNROLL steps of FC_QUAD_STEP_BYTES (TQ_FC_QUAD_UNROLL, ...)
FC_QUAD_STEP_BYTES = 76


def fc_rows8_header(in_features: int, out_features: int) -> list[int]:
    """The rows8 groups' header (``runtime_c/tq_dsp.h``, TQ_FC_ROWS8_SETUP): the loop's entry offset
    ``skip * FC_STEP_BYTES``, ``32 * skip`` (the weight bytes of ``skip`` steps) and the groups ``out_features // 8``,
    where ``skip = (-in_features / 4) mod FC_ROWS8_UNROLL`` steps of the first iteration are skipped so that the rest
    are whole iterations."""
    skip = -(in_features // 4) % FC_ROWS8_UNROLL
    return [skip * FC_STEP_BYTES, 32 * skip, out_features // FC_DSP_GROUP_ROWS]


def fc_pairs_header(in_features: int, pairs: int) -> list[int]:
    """The pairs loop's header (``runtime_c/tq_dsp.h``, TQ_FC_PAIRS_LOOP): the entry offset
    ``skip * FC_PAIRS_BLOCK_BYTES``, ``16 * skip`` (the weight bytes of ``skip`` blocks) and the ``pairs``, where
    ``skip = (-in_features / 8) mod FC_PAIRS_UNROLL`` blocks of the first iteration are skipped."""
    skip = -(in_features // 8) % FC_PAIRS_UNROLL
    return [skip * FC_PAIRS_BLOCK_BYTES, 16 * skip, pairs]


def fc_quad_header(in_features: int) -> list[int]:
    """The quad loop's entry (``runtime_c/tq_dsp.h``, TQ_FC_QUAD): the offset ``skip * FC_QUAD_STEP_BYTES`` and
    ``16 * skip`` (the weight bytes of ``skip`` steps), where ``skip = (-in_features / 4) mod FC_QUAD_UNROLL`` steps of
    the first iteration are skipped."""
    skip = -(in_features // 4) % FC_QUAD_UNROLL
    return [skip * FC_QUAD_STEP_BYTES, 16 * skip]


def fc_requant_ez(requant_dsp: np.ndarray, output_zero_point: int) -> np.ndarray:
    """The short paths' output-stage words (int32, ``tq_requant.h``'s ``tq_requantize_s8_fused_ssat2_ez``):
    :func:`fc_requant_dsp`'s pairs with ``e - 1`` replaced by ``ez = (e - 1) + 256 * (2 * output_zero_point + 1)``
    (``e - 1`` in ``[0, 30]`` for the ``requant_fused`` layers the paths take)."""
    words = requant_dsp.astype(np.int64).reshape(-1, 2)
    if np.any((words[:, 1] < 0) | (words[:, 1] > 30)):
        raise ValueError("the short FC paths need right shifts of 1 to 31 (a layer without requant_fused)")
    words[:, 1] += 256 * (2 * output_zero_point + 1)
    return words.reshape(-1).astype(np.int32)


def _doubled(bias: np.ndarray) -> np.ndarray:
    """``2 * bias`` (int64), which fits int32 for the ``requant_fused`` layers the short paths take."""
    bias2 = 2 * bias.astype(np.int64)
    if np.any((bias2 < -(2**31)) | (bias2 > 2**31 - 1)):
        raise ValueError("a short FC path's doubled bias does not fit int32 (a layer without requant_fused)")
    return bias2


def _rows8_groups(weights: np.ndarray, bias_dsp: np.ndarray, rq_ez: np.ndarray) -> np.ndarray:
    """The rows8 path's group records (:func:`fc_rows8_records` after its header), ``rq_ez`` from
    :func:`fc_requant_ez`."""
    out_f, in_f = weights.shape
    groups = out_f // FC_DSP_GROUP_ROWS
    body = fc_weights_dsp(weights).view("<i4").reshape(groups, in_f * 2)  # 8 rows * in bytes / 4 per group
    bias = bias_dsp.astype(np.int64).reshape(groups, 4, 2)
    rq = rq_ez.astype(np.int64).reshape(groups, 16)
    return np.concatenate([bias[:, :, 0], body, _doubled(bias[:, :, 1]), rq], axis=1).reshape(-1)


def _pair_records(weights: np.ndarray, bias_dsp: np.ndarray, rq_ez: np.ndarray) -> np.ndarray:
    """The pairs path's pair records (:func:`fc_pairs_records` after its header), ``rq_ez`` from
    :func:`fc_requant_ez`."""
    pairs, in_f = weights.shape[0] // 2, weights.shape[1]
    body = _paired_rows(weights, 1).view("<i4").reshape(pairs, in_f // 2)
    bias = bias_dsp.astype(np.int64).reshape(pairs, 2)
    rq = rq_ez.astype(np.int64).reshape(pairs, 4)
    return np.concatenate([bias[:, :1], _doubled(bias[:, 1:]), body, rq], axis=1).reshape(-1)


def fc_rows8_records(weights: np.ndarray, bias_dsp: np.ndarray, requant_dsp: np.ndarray,
                     output_zero_point: int) -> np.ndarray:
    """The rows8 path's records (int32; ``runtime_c/tq_fully_connected_s8_rows8.c``): :func:`fc_rows8_header`, then
    per group ``g`` of 8 rows, ``bias_dsp`` of rows ``8g, 8g + 2, 8g + 4, 8g + 6``, the group's :func:`fc_weights_dsp`
    words, ``2 * bias_dsp`` of rows ``8g + 1, 8g + 3, 8g + 5, 8g + 7``, then :func:`fc_requant_ez`'s 16 words of rows
    ``8g .. 8g + 7`` (``weights`` ``[out][in]`` int8 with ``out`` a multiple of 8 and ``in`` of 4,
    :func:`fc_dsp_arrays`' folded bias and pairs)."""
    head = fc_rows8_header(weights.shape[1], weights.shape[0])
    rq = fc_requant_ez(requant_dsp, output_zero_point)
    return np.concatenate([np.array(head, np.int64), _rows8_groups(weights, bias_dsp, rq)]).astype(np.int32)


def fc_k8_records(weights: np.ndarray, bias_dsp: np.ndarray, requant_dsp: np.ndarray) -> np.ndarray:
    """The k8 path's records (int32; ``runtime_c/tq_fully_connected_s8_k8.c``): per group ``g`` of 4 rows,
    ``2 * bias_dsp`` of rows ``4g, 4g + 2``, the group's weight words (2 pairs in the pair layout of
    :func:`fc_weights_dsp`, 8 words), ``2 * bias_dsp`` of rows ``4g + 1, 4g + 3``, then ``requant_dsp``'s 8 words of
    rows ``4g .. 4g + 3`` (``weights`` ``[out][8]`` int8, ``out`` a multiple of 4; ``2 * bias_dsp`` fits int32 for
    the ``requant_fused`` layers the path takes)."""
    groups = weights.shape[0] // 4
    body = _paired_rows(weights, 2).view("<i4").reshape(groups, 8)
    bias2 = (2 * bias_dsp.astype(np.int64)).reshape(groups, 2, 2)
    if np.any(np.abs(bias2) > 2**31 - 1):
        raise ValueError("the k8 path's doubled bias does not fit int32 (a layer without requant_fused)")
    rq = requant_dsp.astype(np.int32).reshape(groups, 8)
    return np.concatenate([bias2[:, :, 0], body, bias2[:, :, 1], rq], axis=1).reshape(-1).astype(np.int32)


def fc_pairs_records(weights: np.ndarray, bias_dsp: np.ndarray, requant_dsp: np.ndarray,
                     output_zero_point: int) -> np.ndarray:
    """The pairs path's records (int32; ``runtime_c/tq_fully_connected_s8_pairs.c``): :func:`fc_pairs_header`, then per
    row pair ``t``, ``bias_dsp`` of row ``2t`` and ``2 * bias_dsp`` of row ``2t + 1``, the pair's weight words (the
    one-pair blocks of :func:`fc_weights_dsp`), then :func:`fc_requant_ez`'s 4 words of rows ``2t, 2t + 1``
    (``weights`` ``[out][in]`` int8, ``out`` even, ``in`` a multiple of 8)."""
    head = fc_pairs_header(weights.shape[1], weights.shape[0] // 2)
    rq = fc_requant_ez(requant_dsp, output_zero_point)
    return np.concatenate([np.array(head, np.int64), _pair_records(weights, bias_dsp, rq)]).astype(np.int32)


def fc_rows8p_records(weights: np.ndarray, bias_dsp: np.ndarray, requant_dsp: np.ndarray,
                      output_zero_point: int) -> np.ndarray:
    """The rows8p path's records (int32; ``runtime_c/tq_fully_connected_s8_rows8p.c``): :func:`fc_rows8_header` of
    rows ``0 .. 8G - 1`` (``G = out // 8``) and :func:`fc_pairs_header` of the ``P`` pairs after them, then the rows8
    path's group records of rows ``0 .. 8G - 1`` and the pairs path's pair records of the rows after them
    (``weights`` ``[out][in]`` int8 with ``out mod 8`` even and ``in`` a multiple of 8)."""
    out_f, in_f = weights.shape
    rows = FC_DSP_GROUP_ROWS * (out_f // FC_DSP_GROUP_ROWS)
    head = fc_rows8_header(in_f, out_f) + fc_pairs_header(in_f, (out_f - rows) // 2)
    rq = fc_requant_ez(requant_dsp, output_zero_point)
    return np.concatenate([np.array(head, np.int64), _rows8_groups(weights[:rows], bias_dsp[:rows], rq[:2 * rows]),
                           _pair_records(weights[rows:], bias_dsp[rows:], rq[2 * rows:])]).astype(np.int32)


def fc_rows8q_records(weights: np.ndarray, bias_dsp: np.ndarray, requant_dsp: np.ndarray,
                      output_zero_point: int) -> np.ndarray:
    """The rows8q path's records (int32; ``runtime_c/tq_fully_connected_s8_rows8q.c``): :func:`fc_rows8_header` of
    rows ``0 .. 8G - 1`` (``G = out // 8``), :func:`fc_quad_header` and :func:`fc_pairs_header` of the 0 or 1 pair
    after the quad; the rows8 path's group records of rows ``0 .. 8G - 1``; the quad's record (``bias_dsp`` of rows
    ``8G``, ``8G + 2``, the two pairs' weight words in the pair layout, ``2 * bias_dsp`` of rows ``8G + 1``, ``8G +
    3``, :func:`fc_requant_ez`'s 8 words of rows ``8G .. 8G + 3``); then the pairs path's pair record of the last two
    rows for ``out = 8G + 6`` (``weights`` ``[out][in]`` int8 with ``out mod 8`` 4 or 6 and ``in`` a multiple of
    8)."""
    out_f, in_f = weights.shape
    rows = FC_DSP_GROUP_ROWS * (out_f // FC_DSP_GROUP_ROWS)
    head = fc_rows8_header(in_f, out_f) + fc_quad_header(in_f) + fc_pairs_header(in_f, (out_f - rows - 4) // 2)
    rq = fc_requant_ez(requant_dsp, output_zero_point)
    quad_w = _paired_rows(weights[rows:rows + 4], 2).view("<i4").astype(np.int64)
    quad_b = bias_dsp[rows:rows + 4].astype(np.int64)
    quad = np.concatenate([quad_b[0::2], quad_w, _doubled(quad_b[1::2]), rq[2 * rows:2 * rows + 8]])
    return np.concatenate([np.array(head, np.int64), _rows8_groups(weights[:rows], bias_dsp[:rows], rq[:2 * rows]),
                           quad, _pair_records(weights[rows + 4:], bias_dsp[rows + 4:], rq[2 * rows + 8:])
                           ]).astype(np.int32)


def fc_path_records(path: str, weights: np.ndarray, bias_dsp: np.ndarray, requant_dsp: np.ndarray,
                    output_zero_point: int) -> np.ndarray:
    """The records of DSP FC path ``path`` (:func:`fc_dsp_path`, not :data:`FC_GENERAL_PATH`) from the layer's
    ``[out][in]`` int8 weights, :func:`fc_dsp_arrays`' folded bias and pairs and its output zero point."""
    if path == "tq_fully_connected_s8_k8":
        return fc_k8_records(weights, bias_dsp, requant_dsp)
    build = {"tq_fully_connected_s8_rows8": fc_rows8_records, "tq_fully_connected_s8_pairs": fc_pairs_records,
             "tq_fully_connected_s8_rows8p": fc_rows8p_records, "tq_fully_connected_s8_rows8q": fc_rows8q_records}[path]
    return build(weights, bias_dsp, requant_dsp, output_zero_point)


CONV_TABLE_GROUP_BYTES = 64  # the DSP conv's output-stage table per channel group (TQ_CONV_TABLE_GROUP_WORDS words)
SPEED_DOUBLED_K4_MAX = 128  # block_4x2_x2's one pass: 64 column pairs


def speed_doubled(op: ir.IntOp, fields: Mapping[str, int]) -> bool:
    """Whether the speed layout of conv ``op`` (struct scalar ``fields``) ships doubled, ``2 * w`` (int16 holds it),
    with ``speed_blocks = &tq_conv2d_s8_speed_x2`` (``runtime_c/tq_conv2d_s8_speed.c``, block_4x2_x2: table biases
    ``2 * bias``, sums ``2 * acc``, the folded output stage's input with no doubling shift).  True when every channel
    group runs through the output-stage table (``tq_conv2d_s8``'s ``4 * q_groups == out_c``): ``requant_fused = 2``
    (so ``|2 * acc| < 2**31``), ``out_c`` a multiple of 4 and ``out_c / 4 <= (2 * CONV_DSP_COLUMN_MAX - 2 * K4) / 64``
    groups fit the table, ``K4 <= 128`` (block_4x2_x2 runs its 64 column pairs once, no loop back), and no DSP path
    of its own in a speed build (:func:`conv_dsp_path` with ``optimize = "speed"``; the pw8 and first-layer paths read
    the int16 weights undoubled)."""
    if not isinstance(op, ir.Conv2d) or fields["requant_fused"] != 2 or fields["out_c"] % 4:
        return False
    k4 = -(-int(np.prod(op.weights.shape[1:])) // 4) * 4
    return (k4 <= SPEED_DOUBLED_K4_MAX
            and fields["out_c"] // 4 <= (2 * CONV_DSP_COLUMN_MAX - 2 * k4) // CONV_TABLE_GROUP_BYTES
            and conv_dsp_path(op, fields, True, "speed") is None)


def speed_weights(op: ir.IntOp, fields: Mapping[str, int] | None = None) -> np.ndarray | None:
    """The speed-layout int16 weights of ``op``, or None when its DSP kernel does not use one; doubled when
    ``fields`` (its struct's scalars) are given and :func:`speed_doubled` holds (the byte count is the same); the pws
    paths' records (:func:`pws_records`) when ``fields`` are given and :func:`conv_dsp_path` names a pws path (more
    bytes: :func:`pws_records_bytes`)."""
    if not has_speed_layout(op):
        return None
    if fields is not None and (conv_dsp_path(op, fields, True, "speed") or "").startswith(PWS_PREFIX):
        return pws_records(op, fields["output_zero_point"])
    w = conv_weights_s16(op.weights)
    return 2 * w if fields is not None and speed_doubled(op, fields) else w


def has_speed_layout(op: ir.IntOp) -> TypeGuard[ir.Conv2d]:
    """Whether the DSP kernel of ``op`` reads a speed layout (:func:`speed_weights`) in speed builds: an 8-bit conv
    (4-bit layers always run the portable packed ``tq_*_s4_s8`` kernels) of at most ``CONV_DSP_COLUMN_MAX`` values
    per window."""
    return (isinstance(op, ir.Conv2d) and op.weight_bits == 8
            and int(np.prod(op.weights.shape[1:])) <= CONV_DSP_COLUMN_MAX)


PWS_PREFIX = "tq_conv2d_s8_pws"  # the pws paths' symbols (runtime_c/tq_conv_dsp.h, "The pws paths")
PWS_LOOP_K = 128  # tq_conv2d_s8_pws128's K: multiples of it (64 column pairs per iteration)


def _pointwise_fused2(kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
                      in_hw: tuple[int, ...], out_hw: tuple[int, ...], fused: int, out_c: int) -> bool:
    """The layers every pointwise assembly path (pw8, pw16/32/64, pws) takes: a 1 x 1 window, strides 1, no padding
    (``padding``: top, left), output ``(h, w)`` = input ``(h, w)``, ``requant_fused`` (``fused``) 2 and ``out_c`` a
    multiple of 4."""
    return ((tuple(kernel), tuple(stride), tuple(padding)) == ((1, 1), (1, 1), (0, 0))
            and tuple(in_hw) == tuple(out_hw) and fused == 2 and out_c % 4 == 0)


def _pws_name(in_c: int) -> str | None:
    """The pws path of a pointwise layer of ``in_c`` input channels: 16, 32, 64 (fully unrolled) or a multiple of
    :data:`PWS_LOOP_K`."""
    if in_c in (16, 32, 64):
        return f"{PWS_PREFIX}{in_c}"
    return f"{PWS_PREFIX}{PWS_LOOP_K}" if in_c % PWS_LOOP_K == 0 else None


def pws_path(kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
             in_shape: tuple[int, ...], out_shape: tuple[int, ...], fused: int) -> str | None:
    """The pws path (speed builds, ``runtime_c/tq_conv_dsp.h``, "The pws paths") of an 8-bit conv with DSP scratch,
    or None: :func:`_pointwise_fused2` and ``in_c`` 16, 32, 64 (``tq_conv2d_s8_pws16`` ..., fully unrolled) or a
    multiple of :data:`PWS_LOOP_K` (``tq_conv2d_s8_pws128``)."""
    if not _pointwise_fused2(kernel, stride, padding, in_shape[:2], out_shape[:2], fused, out_shape[2]):
        return None
    return _pws_name(in_shape[2])


def pws_records_bytes(op: ir.Conv2d) -> int:
    """Bytes of :func:`pws_records` of ``op``: per channel group ``2 * TQ_PWS_GROUP_HALVES(K)``."""
    return op.weights.shape[0] // 4 * 2 * (32 + 4 * int(np.prod(op.weights.shape[1:])))


def pws_records(op: ir.Conv2d, output_zero_point: int) -> np.ndarray:
    """The pws paths' ``weights_s16`` (``runtime_c/tq_conv_dsp.h``, "The pws paths"), int16: per channel group ``g``
    of 4 (``out_c`` a multiple of 4; ``K = in_c`` a multiple of 16, no padding), ``32 + 4 K`` values: the int32
    words ``2 * bias[4 g + i]`` (``i < 4``), then :func:`conv_weights_s16` of the group doubled (``2 w``, 8 values per
    column pair), then the output stage's int32 words in three rows of the group's 4 channels: ``q = multiplier[c]``,
    ``K = 2**(e - 1) + output_zero_point * 2**e`` and ``e = -shift[c]`` (``tq_conv_table_fill``; ``requant_fused`` 2:
    ``e`` in ``[1, 22]``), channels 1 and 3's ``e`` words plus the quad blocks' record step times ``2**9`` (channel 1:
    8 bytes, channel 3: ``R - 8`` with ``R = 64 + 8 K`` the group's bytes) and channel 3's plus ``2**8`` in the last
    group; every int32 word as two int16 values, the low half first (the little-endian word the kernel's LDR reads)."""
    groups = op.weights.shape[0] // 4
    w = (2 * conv_weights_s16(op.weights).astype(np.int32)).astype(np.int16).reshape(groups, -1)
    e = (-op.shift.astype(np.int64)).reshape(groups, 4)
    k = (1 << (e - 1)) + int(output_zero_point) * (1 << e)
    step = np.array([0, 8, 0, 64 + 8 * int(np.prod(op.weights.shape[1:])) - 8], np.int64)
    last = np.zeros((groups, 4), np.int64)
    last[-1, 3] = 1
    flagged = e + (step << 9) + (last << 8)
    table = np.concatenate([op.multiplier.astype(np.int64).reshape(groups, 4), k, flagged], axis=1)

    def halves(words: np.ndarray) -> np.ndarray:
        return words.astype("<i4").view("<i2").reshape(groups, -1)

    bias2 = halves((2 * op.bias.astype(np.int64)).reshape(groups, 4))
    return np.concatenate([bias2, w, halves(table)], axis=1).reshape(-1).astype(np.int16)


# The DSP conv's paths in runtime files of their own (runtime_c/tq_conv_dsp.h, params->dsp_path): C symbol -> file.
CONV_DSP_PATH_FILES = {"tq_conv2d_s8_window": "tq_conv2d_s8_window.c", "tq_conv2d_s8_pw8": "tq_conv2d_s8_pw8.c",
                       "tq_conv2d_s8_fused1": "tq_conv2d_s8_stages.c", "tq_conv2d_s8_fast": "tq_conv2d_s8_stages.c",
                       "tq_conv2d_s8_first": "tq_conv2d_s8_first.c", "tq_conv2d_s8_first16": "tq_conv2d_s8_first16.c",
                       "tq_conv2d_s8_pw16": "tq_conv2d_s8_pw16.c", "tq_conv2d_s8_pw32": "tq_conv2d_s8_pw32.c",
                       "tq_conv2d_s8_pw64": "tq_conv2d_s8_pw64.c",
                       **{f"{PWS_PREFIX}{k}": f"{PWS_PREFIX}{k}.c" for k in (16, 32, 64, PWS_LOOP_K)}}
CONV_TABLE_GROUP_BYTES = 64  # output-stage table bytes per channel group of 4 (TQ_CONV_TABLE_GROUP_WORDS words)
CONV_FIRST_SIZE_MAX_OUT_C = 8  # the most output channels of a first-layer path layer in a default (size) build
CONV_FIRST_WIDE_BYTES = 2 * 28  # scratch bytes per output channel of a default build's first-layer weights as int16


def conv_dsp_path(op: ir.IntOp, fields: Mapping[str, int], scratch: bool, optimize: str = "size") -> str | None:
    """The DSP conv path (a key of :data:`CONV_DSP_PATH_FILES`) an 8-bit conv ``op`` needs on a DSP core, from its
    struct's scalar ``fields`` (``tq_conv2d_s8_params``), whether its scratch is planned and the build's ``optimize``;
    None for none.

    * ``tq_conv2d_s8_window`` without scratch (K above ``CONV_DSP_COLUMN_MAX``, or a package planned without
      DSP scratch run on a DSP core): the portable window loop.
    * ``tq_conv2d_s8_pw8``: a 1 x 1 window, strides 1, no padding, output size = input size, ``in_c = 8``,
      ``requant_fused = 2``, ``out_c`` a multiple of 4 (any ``out_c``: the planned scratch holds its records and a
      chunk of pixels, :func:`tinyqat.memory.planner.pw8_scratch_bytes`).
    * ``tq_conv2d_s8_pw16`` / ``pw32`` / ``pw64`` (``optimize = "size"``, int8 layout): the same window, strides
      and sizes with ``in_c`` = 16 / 32 / 64, ``requant_fused = 2``, ``out_c`` a multiple of 4 whose output-stage
      table fits the scratch (``CONV_TABLE_GROUP_BYTES * out_c / 4 <= 2 * (CONV_DSP_COLUMN_MAX + in_c)`` bytes):
      a block unrolled for the whole K with doubled columns on the stack (``runtime_c/tq_conv_dsp.h``, "The pwk
      paths"; one file per ``in_c``). Strides 1 only, so ResNet-8's strided 1 x 1 shortcuts keep the general loop
      (and its default build no extra file).
    * ``tq_conv2d_s8_pws16`` / ``pws32`` / ``pws64`` / ``pws128`` (``optimize = "speed"``): :func:`pws_path`, the
      pointwise layers above with ``in_c`` 16, 32, 64 or a multiple of 128 and any ``out_c`` multiple of 4 (the
      output-stage table in the weights' records, :func:`pws_records`; no table in the scratch).
    * ``tq_conv2d_s8_first`` (``optimize = "size"``, int8 layout) / ``tq_conv2d_s8_first16`` (``"speed"``, the int16
      speed layout): a 3 x 3 window on 3 input channels (first layers, K = 27, K4 = 28), any strides and
      padding, ``requant_fused = 2``, ``out_c`` a multiple of 4 whose output-stage table fits the scratch between
      the two columns (``2 * 28 + CONV_TABLE_GROUP_BYTES * out_c / 4 <= 2 * CONV_DSP_COLUMN_MAX`` bytes; with
      ``optimize = "size"`` also the int8 weights widened there, ``CONV_FIRST_WIDE_BYTES * out_c`` more); with
      ``optimize = "size"`` only up to :data:`CONV_FIRST_SIZE_MAX_OUT_C` channels (the path's file costs about 2.7 KB
      of code; what it saves, the per-pixel column and loop work, is spread over fewer MACs per pixel the narrower
      the layer: a default build takes it where it saves the most, and ResNet-8's 3 -> 16 stem keeps the default
      build's code within its budget).
    * ``tq_conv2d_s8_fused1`` / ``tq_conv2d_s8_fast``: ``requant_fused`` 1 / 0 (the output stages outside the
      blocks).
    """
    if not isinstance(op, ir.Conv2d) or op.weight_bits != 8:
        return None
    if not scratch:
        return "tq_conv2d_s8_window"
    f = fields
    pointwise = _pointwise_fused2((f["kernel_h"], f["kernel_w"]), (f["stride_h"], f["stride_w"]),
                                  (f["pad_top"], f["pad_left"]), (f["in_h"], f["in_w"]), (f["out_h"], f["out_w"]),
                                  f["requant_fused"], f["out_c"])
    if pointwise and f["in_c"] == 8:
        return "tq_conv2d_s8_pw8"
    if pointwise and optimize == "speed" and (pws := _pws_name(f["in_c"])) is not None:
        return pws
    if (pointwise and optimize == "size" and f["in_c"] in (16, 32, 64)
            and CONV_TABLE_GROUP_BYTES * f["out_c"] // 4 <= 2 * (CONV_DSP_COLUMN_MAX + f["in_c"])):
        return f"tq_conv2d_s8_pw{f['in_c']}"
    if ((f["kernel_h"], f["kernel_w"], f["in_c"]) == (3, 3, 3) and f["requant_fused"] == 2 and f["out_c"] % 4 == 0
            and 2 * 28 + (CONV_TABLE_GROUP_BYTES // 4 + (optimize == "size") * CONV_FIRST_WIDE_BYTES) * f["out_c"]
            <= 2 * CONV_DSP_COLUMN_MAX
            and (optimize == "speed" or f["out_c"] <= CONV_FIRST_SIZE_MAX_OUT_C)):
        return "tq_conv2d_s8_first16" if optimize == "speed" else "tq_conv2d_s8_first"
    return {0: "tq_conv2d_s8_fast", 1: "tq_conv2d_s8_fused1"}.get(f["requant_fused"])


# The DSP conv's paths that only change its output stage (their struct's run is NULL, runtime_c/tq_conv_dsp.h): every
# other path runs the whole call, reading the layer's weights itself.
CONV_DSP_STAGE_PATHS = frozenset({"tq_conv2d_s8_fused1", "tq_conv2d_s8_fast"})


def conv_path_runs_call(path: str | None) -> bool:
    """Whether the DSP conv path ``path`` (:func:`conv_dsp_path`'s result) runs the whole call
    (``tq_conv2d_s8_dsp_path.run`` set), so the kernel's own blocks never run for the layer."""
    return path in CONV_DSP_PATH_FILES and path not in CONV_DSP_STAGE_PATHS


# The DSP add's path without a table (runtime_c/tq_kernels.h, tq_add_s8_params.dsp_path): C symbol -> file.
ADD_DSP_PATH_FILES = {"tq_add_s8_general": "tq_add_s8_general.c"}
# The DSP depthwise's path (runtime_c/tq_kernels.h, tq_depthwise_conv2d_s8_params.dsp_path): C symbol -> file.
# Input widths with a row copy of their own (scripts/gen_dw_copy_asm.py WIDTHS, S1_WIDTHS): stride 2,
# tq_depthwise_conv2d_s8_copy<n>.c; stride 1, tq_depthwise_conv2d_s8_copy<n>s1.c.
DW_COPY_WIDTHS = (6, 8, 12, 16, 24, 48)
DW_COPY_S1_WIDTHS = (3, 4, 5, 6, 8, 12, 24)
DW_COPY_PATHS = (*(f"tq_depthwise_conv2d_s8_copy{n}" for n in DW_COPY_WIDTHS),
                 *(f"tq_depthwise_conv2d_s8_copy{n}s1" for n in DW_COPY_S1_WIDTHS))
DW_DSP_PATH_FILES = {"tq_depthwise_conv2d_s8_rows5": "tq_depthwise_conv2d_s8_rows5.c",
                     **{path: f"{path}.c" for path in DW_COPY_PATHS}}
# Every DSP path of a runtime file of its own (params->dsp_path): C symbol -> file.
DSP_PATH_FILES = {**CONV_DSP_PATH_FILES, **ADD_DSP_PATH_FILES, **FC_DSP_PATH_FILES, **DW_DSP_PATH_FILES}


def dw_dsp_path(op: ir.IntOp, graph: ir.Graph, kernels: str, scratch: bool) -> str | None:
    """The DSP depthwise path (a key of :data:`DW_DSP_PATH_FILES`) of ``op`` in ``graph`` on a board of ``kernels``
    with its scratch planned or not, for an 8-bit layer on the row path (DSP scratch planned: the layers that ship
    :func:`dw_records`): ``tq_depthwise_conv2d_s8_rows5`` for a 5 x 5 layer; ``tq_depthwise_conv2d_s8_copy<n>``
    for a 3 x 3 layer with horizontal stride 2, left padding 1, at least 4 channels and input rows of n pixels,
    n in :data:`DW_COPY_WIDTHS`, n / 2 outputs wide (ring rows of n + 2 values, the copy's fixed layout);
    ``tq_depthwise_conv2d_s8_copy<n>s1`` for one with horizontal stride 1, left padding 1, at least 4 channels,
    n in :data:`DW_COPY_S1_WIDTHS` and n outputs (ring rows of n + 3 values rounded up to even); else None (the
    kernel's own copy and assembly)."""
    if not (isinstance(op, ir.DepthwiseConv2d) and op.weight_bits == 8 and kernels == "dsp" and scratch):
        return None
    if tuple(op.kernel) == (5, 5):
        return "tq_depthwise_conv2d_s8_rows5"
    _, in_w, in_c = graph.tensor(op.input).shape
    out_w = graph.tensor(op.output).shape[1]
    if not (tuple(op.kernel) == (3, 3) and op.padding[1] == 1 and in_c >= 4):
        return None
    if op.stride[1] == 2 and in_w in DW_COPY_WIDTHS and 2 * out_w == in_w:
        return f"tq_depthwise_conv2d_s8_copy{in_w}"
    if op.stride[1] == 1 and in_w in DW_COPY_S1_WIDTHS and out_w == in_w:
        return f"tq_depthwise_conv2d_s8_copy{in_w}s1"
    return None


def add_dsp_path(op: ir.IntOp, has_table: bool) -> str | None:
    """The DSP add path (a key of :data:`ADD_DSP_PATH_FILES`) an add ``op`` needs on a DSP core: the general one
    when it ships without a table (:func:`add_table`: subtraction, a broadcast operand, a small add in the default
    build, a board without DSP / Armv6-M kernels), else None (the table path in ``tq_add_s8_dsp.c``)."""
    return "tq_add_s8_general" if isinstance(op, ir.Add) and not has_table else None


def conv_weights_v6m(weights: np.ndarray) -> np.ndarray:
    """Conv weights ``[out_c][kh][kw][in_c]`` (int8) in the Armv6-M layout (module docstring), uint8."""
    out_c = weights.shape[0]
    flat = weights.reshape(out_c, -1).astype(np.int16) + 128
    groups = -(-out_c // 4)
    rows = np.full((groups * 4, flat.shape[1]), 128, np.int16)
    rows[:out_c] = flat
    # [g][i][k] -> [g][k][i]
    return rows.reshape(groups, 4, -1).transpose(0, 2, 1).reshape(-1).astype(np.uint8)


def v6m_weights(op: ir.IntOp) -> np.ndarray | None:
    """The Armv6-M layout of ``op``'s weights, or None when its Armv6-M kernel does not use one: convs with
    ``K <= CONV_DSP_COLUMN_MAX`` and 8-bit fully connected layers with at least 4 outputs (``K = in_features``;
    its kernel also reads :func:`fc_bias_dsp`'s folded bias as ``bias_v6m``; with fewer outputs the padded
    rows of its group of four would cost more than the layout saves, and its natural-row loop runs)."""
    if isinstance(op, ir.Conv2d) and op.weight_bits == 8 and int(np.prod(op.weights.shape[1:])) <= CONV_DSP_COLUMN_MAX:
        return conv_weights_v6m(op.weights)
    if isinstance(op, ir.FullyConnected) and op.weight_bits == 8 and op.weights.shape[0] >= 4:
        return conv_weights_v6m(op.weights)
    return None


DW_RECORD_WORDS = 10  # words per channel record of the DSP depthwise row path (TQ_DW_DSP_CHANNEL_WORDS)
DW5_RECORD_WORDS = 24  # the same for a 5x5 window (TQ_DW_DSP5_CHANNEL_WORDS)
DW_LAST = 256  # the last channel's bit in a 3x3 record's e word (TQ_DW_LAST)


def _pair16(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """int32 words with int16 ``lo`` in bits 0-15 and ``hi`` in bits 16-31 (PKHBT's result)."""
    return ((lo.astype(np.int64) & 0xFFFF) | (hi.astype(np.int64) << 16)).astype(np.int32)


def dw_records(op: ir.DepthwiseConv2d, output_zero_point: int, out_w: int) -> np.ndarray:
    """The DSP depthwise row path's channel records (``runtime_c/tq_depthwise_conv2d_s8_dsp.c``), int32,
    ``DW_RECORD_WORDS`` words per channel ``c`` at ``10 c`` (weights ``w[ky][kx][c]``, 3x3, multiplier 1):

    * words ``2 r`` and ``2 r + 1`` (row ``r < 3``): the int16 pairs ``(2 w[r][0][c], 2 w[r][1][c])`` and
      ``(2 w[r][1][c], 2 w[r][2][c])``, first value in the low half (doubled weights: ``|2 w| <= 254``);
    * word 6: ``2 bias[c]``, the doubled accumulator's start;
    * words 7 to 9: ``q = multiplier[c]``, ``K = 2**(e - 1) + output_zero_point * 2**e`` (0 when
      ``e > FUSED2_OFFSET_E_MAX``: only the C loop runs such layers) and the e word
      ``e + 256 * last + 65536 * W``: ``e = -shift[c]`` (bits 0-7, the output stage of ``tq_requant.h``,
      ``tq_fused2_offset``), ``last`` = 1 on the last channel (``TQ_DW_LAST``), ``W = 2 * wp`` the bytes
      between two channels' rows in a ring slot (``wp =`` :func:`tinyqat.memory.planner.dw_padded_width` of
      ``out_w``, the layer's output width): the assembly's channel loop advances its rows by W and ends
      after the last channel.

    A 5x5 window has ``DW5_RECORD_WORDS`` words per channel at ``24 c``: words ``4 r`` to ``4 r + 3`` (row
    ``r < 5``) the doubled pairs ``(w0, w1)``, ``(w2, w3)``, ``(w1, w2)``, ``(w3, w4)`` of ``w[r][.][c]``,
    word 20 ``2 bias[c]``, words 21 to 23 ``q``, ``K``, ``e`` (plain e; ``tq_depthwise_conv2d_s8_rows5.c``: its C loops
    and its assembly blocks, which walk a record front to back and take the unfolded output stage where K is 0).

    Built at build time (flash) so the kernel builds nothing per call; only layers with a fused output
    stage (every ``e >= 1``) run the row path."""
    w = op.weights.astype(np.int32) * 2  # [k][k][c]
    e = -op.shift.astype(np.int64)
    k = np.where(e <= FUSED2_OFFSET_E_MAX, (1 << np.maximum(e - 1, 0)) + int(output_zero_point) * (1 << e), 0)
    if op.kernel == (5, 5):
        pairs = [_pair16(w[r, a], w[r, a + 1]) for r in range(5) for a in (0, 2, 1, 3)]
    else:
        pairs = [_pair16(w[r, a], w[r, a + 1]) for r in range(3) for a in (0, 1)]
    rec = np.zeros((w.shape[2], DW5_RECORD_WORDS if op.kernel == (5, 5) else DW_RECORD_WORDS), np.int32)
    rec[:, :-4] = np.stack(pairs, axis=1)
    rec[:, -4] = 2 * op.bias.astype(np.int64)
    rec[:, -3] = op.multiplier
    rec[:, -2] = k.astype(np.int32)
    rec[:, -1] = e.astype(np.int32)
    if op.kernel == (3, 3):
        w_bytes = 2 * dw_padded_width(out_w, op.stride[1], 3)
        if w_bytes >= 1 << 15:
            raise TinyQatError(f"{op.name}: depthwise output rows of {out_w} columns are too wide for the DSP row "
                               f"path's channel records (2 * wp = {w_bytes} bytes, at most 32767); split the layer")
        rec[-1, -1] += DW_LAST
        rec[:, -1] += w_bytes << 16
    return rec.reshape(-1)


DW_MVE_GROUP = 16  # channels per group of the Helium depthwise's records (TQ_DW_MVE_GROUP)
DW_MVE_TAIL_WORDS = 16  # zero words after the last group (the next group's biases, loaded early by the kernel)
DW_MVE_PAIR_CHANNELS = 8  # a layer of 8 channels gets them twice in its one group (TQ_DW_MVE_PAIR): pixel pairs


def dw_records_mve(op: ir.DepthwiseConv2d, input_zero_point: int, output_zero_point: int,
                   assembly: bool = False) -> np.ndarray:
    """The Helium depthwise kernel's channel-group records (``runtime_c/tq_depthwise_conv2d_s8_mve.c``), int32,
    for a layer with depth multiplier 1 and 8-bit weights ``w[ky][kx][c]`` (``T = kh * kw`` taps): channels in
    groups of ``DW_MVE_GROUP`` (16; the last group padded with zero bias, weights and multipliers and shift -1),
    ``52 + 4 T`` words per group ``g``, read front to back by one pointer.  Lane ``i`` of accumulator ``k``
    (0 to 3) holds channel ``16 g + 4 i + k`` (the kernel's widening multiplies leave the channels so):

    * words 0-15: ``bias[c] - input_zero_point * sum_t w[t][c]`` (the kernel sums ``w * x`` over every tap, ``x``
      the input value or, outside the input, the zero point) of accumulators 0, 1, 2, 3 in turn (4 words each);
    * per tap ``t``, 4 words (16 bytes, little-endian): the weights of the even channels ``16 g + 2 h`` at byte
      ``h`` (0 to 7), then of the odd channels ``16 g + 2 h + 1`` at byte ``8 + h``;
    * 16 words ``multiplier`` and 16 words ``shift``, in the bias order (with ``assembly``, for the kernel's
      assembly path, a 3x3 layer with ``requant_fused = 2``: ``2**(31 + shift)`` instead of ``shift``, every shift
      in ``[-22, -1]``, the multiplier of its rounding shift, ``TQ_MBQM_RIGHT_MUL_X2_MVE_ASM``);
    * 4 words: ``output_zero_point`` in 8 int16 halves;

    then ``DW_MVE_TAIL_WORDS`` zero words after the last group, then ``16 * ceil(C / 16)`` bytes of
    ``input_zero_point``: the padding row that window taps outside the input read.  Flash:
    ``ceil(C / 16) * (224 + 16 T) + 64`` bytes instead of ``C * (12 + T)``.  Built at build time so the kernel
    de-interleaves and sums nothing per call.
    A layer of ``DW_MVE_PAIR_CHANNELS`` (8) channels is laid out as 16 channels, channel ``8 + j`` a copy of channel
    ``j``, so the kernel computes two adjacent output pixels (16 contiguous input bytes at stride 1) per group.
    The folded bias fits int32 (``|bias| + 128 * 127 * T``, within tq_kernels.h's accumulator bound)."""
    c = op.weights.shape[2]
    taps = op.weights.shape[0] * op.weights.shape[1]
    flat = op.weights.reshape(taps, c).astype(np.int64)
    bias = op.bias.astype(np.int64) - int(input_zero_point) * flat.sum(axis=0)
    mult, shift = op.multiplier, op.shift
    if c == DW_MVE_PAIR_CHANNELS:  # channels 8-15 repeat 0-7: two pixels' channels in one group
        flat, bias, mult, shift = (np.concatenate([v, v], axis=-1) for v in (flat, bias, mult, shift))
        c = 2 * c
    groups = -(-c // DW_MVE_GROUP)
    pad = groups * DW_MVE_GROUP - c

    def lanes(v: np.ndarray, fill: int) -> np.ndarray:
        """[groups][16] in accumulator order: word 4 k + i = channel 4 i + k."""
        g = np.concatenate([v.astype(np.int32), np.full(pad, fill, np.int32)]).reshape(groups, 4, 4)
        return g.transpose(0, 2, 1).reshape(groups, 16)

    w = np.concatenate([flat.astype(np.int8), np.zeros((taps, pad), np.int8)], axis=1)
    w = w.reshape(taps, groups, 8, 2).transpose(1, 0, 3, 2).reshape(groups, taps * DW_MVE_GROUP)  # [g][t][parity][h]
    words = w.copy().view("<i4").astype(np.int32)
    zp = np.full((groups, 8), output_zero_point, np.int16).view("<i4").astype(np.int32)
    last = lanes(1 << (31 + shift.astype(np.int64)), 1 << 30) if assembly else lanes(shift, -1)
    parts = [lanes(bias, 0), words, lanes(mult, 0), last, zp]
    padding = np.full(groups * DW_MVE_GROUP, input_zero_point, np.int8).view("<i4").astype(np.int32)
    return np.concatenate([np.concatenate(parts, axis=1).reshape(-1), np.zeros(DW_MVE_TAIL_WORDS, np.int32), padding])


def mve_dw_records(op: ir.IntOp, input_zero_point: int, output_zero_point: int,
                   requant_fused: int) -> np.ndarray | None:
    """:func:`dw_records_mve` for a depthwise layer the Helium kernel reads them for (8-bit weights, depth
    multiplier 1; ``assembly`` for a 3x3 window with ``requant_fused`` 2), else None (the layer keeps its four
    arrays: the portable loop)."""
    if isinstance(op, ir.DepthwiseConv2d) and op.weight_bits == 8 and op.depth_multiplier == 1:
        assembly = requant_fused == 2 and op.weights.shape[:2] == (3, 3)
        return dw_records_mve(op, input_zero_point, output_zero_point, assembly)
    return None


ADD_TABLE_MIN_SIZE = 1024  # default build: an add gets its 1 KiB table from this many elements on
ADD_EXACT = (2**30, 0)  # (multiplier, shift) of QM(1 / 2): the larger-scale input of every TFLite add


def swap_add_inputs(op: ir.Add) -> ir.Add:
    """``op`` with its two inputs (and their multipliers) exchanged: the same sums (``a + b = b + a``)."""
    return ir.Add(name=op.name, inputs=op.inputs[::-1], output=op.output, multiplier1=op.multiplier2,
                  shift1=op.shift2, multiplier2=op.multiplier1, shift2=op.shift1,
                  output_multiplier=op.output_multiplier, output_shift=op.output_shift, act_min=op.act_min,
                  act_max=op.act_max)


def add_table(op: ir.IntOp, graph: ir.Graph, kernels: str, optimize: str) -> tuple[ir.Add, np.ndarray] | None:
    """``(op', table)`` for an add the DSP / Armv6-M table path runs (``tq_kernels.h``, ``tq_add_s8_params.table``),
    else None; ``op'`` is ``op`` or :func:`swap_add_inputs` of it, so that input 1 is the exact one.

    The table path needs ``left_shift = 20``, input 1 with ``(multiplier1, shift1) = (2**30, 0)`` (then
    ``a = mbqm((x1 - zp1) * 2**20, 2**30, 0) = (x1 - zp1) * 2**19`` exactly; TFLite's rule gives that to the
    input with the larger scale, :func:`swap_add_inputs` puts it first) and ``output_shift`` in ``[-31, -1]``
    (the output stage ``tq_requantize_s8_fused_ssat2`` / ``tq_requantize_s8_v6m_fused``: ``|a + b| <= 2**29``
    lies in its range). ``table[k] = 2 * mbqm(((int8) k - zp2) * 2**20, multiplier2, shift2) - zp1 * 2**20``,
    ``k`` the byte's unsigned value (0..255): twice input 2's rescaled value less input 1's zero-point term, so
    ``2 * (a + b) = x1 * 2**20 + table[x2]``; int32 (``|table| <= 255 * 2**20 + 128 * 2**20``).
    Shipped for ``kernels`` ``"dsp"`` and ``"v6m"``; with ``optimize="size"`` only for adds of at least
    :data:`ADD_TABLE_MIN_SIZE` elements."""
    if not isinstance(op, ir.Add) or kernels not in ("dsp", "v6m") or ir.Add.LEFT_SHIFT != 20 or op.subtract:
        return None
    if graph.tensor(op.inputs[1]).size != graph.tensor(op.inputs[0]).size:  # a broadcast operand
        return None
    if optimize != "speed" and graph.tensor(op.output).size < ADD_TABLE_MIN_SIZE:
        return None
    if (op.multiplier1, op.shift1) != ADD_EXACT:
        if (op.multiplier2, op.shift2) != ADD_EXACT:
            return None
        op = swap_add_inputs(op)
    if not -31 <= op.output_shift <= -1:
        return None
    x = np.arange(256, dtype=np.int64)
    x = np.where(x >= 128, x - 256, x) - graph.tensor(op.inputs[1]).qparams.zero_point
    zp1 = graph.tensor(op.inputs[0]).qparams.zero_point
    return op, (2 * mbqm(x * 2**20, op.multiplier2, op.shift2) - zp1 * 2**20).astype(np.int32)


def add_exact1(op: ir.Add) -> int:
    """``tq_add_s8_params.exact1``: 1 when the Helium add's fast path computes ``op`` (``runtime_c/tq_add_s8_mve.c``):
    an add (not a subtraction) with ``left_shift = 20``, input 1 exact (``(multiplier1, shift1) = (2**30, 0)``:
    ``a = (x1 - zp1) * 2**19``, :func:`add_table`'s argument) and ``shift2``, ``output_shift`` in ``[-31, -1]``
    (right shifts only); else 0 (the general path, always correct)."""
    return int(ir.Add.LEFT_SHIFT == 20 and not op.subtract and not op.reverse
               and (op.multiplier1, op.shift1) == ADD_EXACT and -31 <= op.shift2 <= -1 and -31 <= op.output_shift <= -1)


def mve_add(op: ir.IntOp, graph: ir.Graph, kernels: str) -> ir.Add | None:
    """On a Helium board (``kernels="mve"``): an add whose input 2 only is exact, with no broadcast operand, as
    :func:`swap_add_inputs` of it (input 1 exact: :func:`add_exact1`); else None (``op`` as it is)."""
    if kernels != "mve" or not isinstance(op, ir.Add) or op.subtract or op.reverse:
        return None
    if graph.tensor(op.inputs[1]).size != graph.tensor(op.inputs[0]).size:
        return None
    swapped = swap_add_inputs(op)
    return swapped if add_exact1(swapped) and not add_exact1(op) else None


def check_optimize(optimize: str) -> str:
    """``optimize`` when it is one of :data:`OPTIMIZE_CHOICES`, else ``ValueError``."""
    if optimize not in OPTIMIZE_CHOICES:
        raise ValueError(f"optimize must be one of {', '.join(OPTIMIZE_CHOICES)}, not {optimize!r}")
    return optimize
