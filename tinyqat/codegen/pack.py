"""4-bit weight packing for the C arrays (the Python twin of ``TQ_S4_WEIGHT`` in ``runtime_c/tq_kernels.h``).

A 4-bit layer's weights (int8 values in ``[-7, 7]``, IR layout, flattened in C order) are stored
two per byte: element ``2 i`` in the low nibble of byte ``i``, element ``2 i + 1`` in the high
nibble, each as its 4-bit two's complement (``v & 0xF``); an odd count leaves the last high
nibble 0.  Unpacking sign-extends a nibble ``n``: ``((n ^ 8) - 8)``.
"""

from __future__ import annotations

import numpy as np


def pack_s4(values: np.ndarray) -> np.ndarray:
    """Pack int values in ``[-8, 7]`` (any shape, C order) into ``ceil(n / 2)`` uint8 bytes."""
    flat = np.asarray(values).reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < -8 or flat.max() > 7):
        raise ValueError("4-bit values must lie in [-8, 7]")
    nibbles = np.zeros(flat.size + (flat.size & 1), dtype=np.uint8)
    nibbles[: flat.size] = (flat & 0xF).astype(np.uint8)
    return (nibbles[0::2] | (nibbles[1::2] << 4)).astype(np.uint8)


def unpack_s4(packed: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` int8 values of bytes packed by :func:`pack_s4`."""
    data = np.asarray(packed, dtype=np.uint8).reshape(-1)
    if not 0 <= count <= 2 * data.size:
        raise ValueError(f"{count} values do not fit {data.size} packed bytes")
    nibbles = np.stack([data & 0xF, data >> 4], axis=1).reshape(-1)[:count].astype(np.int16)
    return ((nibbles ^ 8) - 8).astype(np.int8)
