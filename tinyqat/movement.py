"""How a PyTorch data-movement op maps onto the channels-last bytes of the C arena.

Shape plumbing (``view``/``reshape``, ``squeeze``/``unsqueeze``, ``permute``/``transpose``,
``flatten``, channel slices ``x[:, a:b]``, ``chunk``/``split``, channel shuffle) never computes:
output element ``i`` (PyTorch order, per sample) is input element ``index[i]``.  ``prepare_qat``
obtains ``index`` by running the user's own ops on an index tensor; :func:`classify` then says
what the move is on the channels-last bytes the C code stores (:func:`channels_last_order`):

* ``"alias"``: the same bytes in the same order (a relabel: squeeze/unsqueeze of size-1 dims,
  permute of a vector, a view that keeps channels last).  Nothing moves.
* ``"gather"``: every pixel ``p`` (of ``P = input_size / C_in`` pixels) selects the same
  channels: ``out[p * C_out + j] = in[p * C_in + channels[j]]`` (a channel slice, a split part,
  a channel shuffle; TFLite ``GATHER`` along the last axis).  Bytes are copied, never requantized.
* anything else (a spatial transpose, a reshape that mixes pixels and channels) is refused.

A vector ``(F,)`` is one pixel of ``F`` channels.  A per-sample PyTorch shape ``(C,)``, ``(C, L)``
or ``(C, H, W)`` is stored channels-last (``(L, C)``, ``(H, W, C)``); higher ranks cannot be stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STORABLE_RANKS = (1, 2, 3)  # per-sample PyTorch ranks a tensor of the int8 graph may have
_BETWEEN_PIXELS = ("it moves values between pixels (a spatial transpose or reshape): only relabels and per-pixel "
                   "channel selections move data; keep the spatial dims in place")


def channels_last_order(shape: tuple[int, ...]) -> np.ndarray:
    """PyTorch-order flat index of each channels-last byte of a per-sample ``shape``.

    ``(C, H, W)``: byte ``(h * W + w) * C + c`` holds element ``c * H * W + h * W + w``;
    vectors are stored as they are.
    """
    idx = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)
    if len(shape) >= 2:
        idx = np.moveaxis(idx, 0, -1)
    return idx.reshape(-1)


def channels(shape: tuple[int, ...]) -> int:
    """Bytes per pixel of a stored per-sample PyTorch ``shape``: ``C`` (a vector: ``F``)."""
    return int(shape[0])


@dataclass(frozen=True)
class Move:
    """A data-movement op on channels-last bytes (module docstring): ``kind`` ``"alias"`` or
    ``"gather"``; ``index`` the input channel of each output channel (gather only)."""

    kind: str
    index: tuple[int, ...] = ()


def classify(in_shape: tuple[int, ...], out_shape: tuple[int, ...], index: np.ndarray) -> Move | str:
    """The :class:`Move` taking a stored ``in_shape`` tensor to ``out_shape`` (per-sample PyTorch
    shapes), where output element ``i`` (PyTorch order) is input element ``index.flat[i]``; or the
    reason (one phrase) it is not a move the int8 graph can make."""
    if len(out_shape) not in STORABLE_RANKS:
        return (f"the result is a {len(out_shape)}-D tensor per sample {tuple(out_shape)}; the int8 graph stores "
                "(F), (C, L) or (C, H, W) tensors (reshape back before the next layer)")
    size_in = int(np.prod(in_shape, dtype=np.int64))
    src = np.asarray(index, dtype=np.int64).reshape(out_shape)
    inverse = np.empty(size_in, dtype=np.int64)
    inverse[channels_last_order(in_shape)] = np.arange(size_in, dtype=np.int64)
    if len(out_shape) >= 2:
        src = np.moveaxis(src, 0, -1)
    pos = inverse[src.reshape(-1)]  # channels-last input byte of each channels-last output byte
    if pos.size == size_in and np.array_equal(pos, np.arange(size_in)):
        return Move("alias")
    c_in = channels(in_shape)
    pixels = size_in // c_in
    if pos.size % pixels:
        return _BETWEEN_PIXELS
    c_out = pos.size // pixels
    rows = pos.reshape(pixels, c_out) - (np.arange(pixels, dtype=np.int64) * c_in)[:, None]
    if not (np.all(rows == rows[0]) and rows.min() >= 0 and rows.max() < c_in):
        return _BETWEEN_PIXELS
    return Move("gather", tuple(int(c) for c in rows[0]))
