"""Sliding-window geometry: tinyqat's explicit padding expressed as TFLite's SAME / VALID, or a PAD
op followed by one of them, with exactly the same taps.

Along one axis of length ``n`` (kernel ``k``, stride ``s``), TFLite's padding modes give:

* VALID: ``out = (n - k) // s + 1``, window ``o`` starts at ``o * s``;
* SAME: ``out = ceil(n / s)``, ``total = max((out - 1) * s + k - n, 0)``, window ``o`` starts at
  ``o * s - total // 2`` (the odd pixel of padding goes to the bottom / right).

A TFLite kernel reads only the in-bounds taps of a window.  A PAD op of ``(before, after)``
pixels first makes the map ``n + before + after`` long; in input coordinates window ``o`` then
starts at ``o * s - pad - before`` and its in-bounds taps lie in ``[-before, n + after)``.

What must match tinyqat's op (:mod:`tinyqat.ir`), per axis and output position:

* conv / depthwise: the output count and every window start (taps outside the input are zero
  point in both, contributing 0, so the start alone fixes which weight meets which pixel);
* max pool: the output count and the in-bounds taps (PAD fills with -128, which never beats a
  real tap, and every window holds one);
* average pool: the output count and the *counted* taps: tinyqat counts ``[0, n)``, or
  ``[-p, n + p)`` with ``count_include_pad``; TFLite counts every tap in its (padded) map, and
  padded taps hold the zero point in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyqat import ir
from tinyqat.export import schema

MODES = (schema.VALID, schema.SAME)


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a windowed op: input length, kernel, stride, tinyqat's leading padding,
    output length, and the range ``[lo, hi)`` (input coordinates) whose taps tinyqat counts."""

    n: int
    k: int
    s: int
    pad: int
    out: int
    counted: tuple[int, int]


@dataclass(frozen=True)
class Geometry:
    """TFLite padding mode plus explicit PAD amounts ``((top, bottom), (left, right))``."""

    mode: int
    pads: tuple[tuple[int, int], tuple[int, int]]

    @property
    def needs_pad(self) -> bool:
        """Whether a PAD op must run before the windowed op."""
        return any(self.pads[0]) or any(self.pads[1])


def _tflite_axis(n: int, k: int, s: int, mode: int) -> tuple[int, int]:
    """``(out, leading pad)`` of TFLite's SAME / VALID along one axis."""
    if mode == schema.VALID:
        return (n - k) // s + 1, 0
    out = -(-n // s)
    return out, max((out - 1) * s + k - n, 0) // 2


def _clip(lo: int, hi: int, a: int, b: int) -> tuple[int, int]:
    lo, hi = max(lo, a), min(hi, b)
    return (lo, hi) if lo < hi else (0, 0)


def _axis_matches(axis: Axis, mode: int, before: int, after: int, kind: str) -> bool:
    length = axis.n + before + after
    if length < axis.k:
        return False
    out, pad = _tflite_axis(length, axis.k, axis.s, mode)
    if out != axis.out:
        return False
    for o in range(out):
        start_tfl, start_tq = o * axis.s - pad - before, o * axis.s - axis.pad
        if kind == "conv":
            ok = start_tfl == start_tq
        elif kind == "max":
            ok = _clip(start_tfl, start_tfl + axis.k, 0, axis.n) == _clip(start_tq, start_tq + axis.k, 0, axis.n)
        else:
            ok = _clip(start_tfl, start_tfl + axis.k, -before, axis.n + after) == \
                _clip(start_tq, start_tq + axis.k, *axis.counted)
        if not ok:
            return False
    return True


def _axis_pads(axis: Axis, mode: int, kind: str) -> tuple[int, int] | None:
    """The smallest ``(before, after)`` PAD that makes ``mode`` match tinyqat along ``axis``."""
    limit = axis.pad + axis.k + axis.s + abs((axis.out - 1) * axis.s + axis.k - axis.n)  # covers tinyqat's own padding
    options = sorted(((b, a) for b in range(limit + 1) for a in range(limit + 1)), key=lambda p: (p[0] + p[1], p))
    return next((p for p in options if _axis_matches(axis, mode, *p, kind)), None)


def match(axes: tuple[Axis, Axis], kind: str) -> Geometry | None:
    """A TFLite form of a windowed op (``kind``: ``"conv"``, ``"max"`` or ``"avg"``), or None.

    Prefers SAME / VALID alone, then the smallest PAD; VALID before SAME.
    """
    found = []
    for mode in MODES:
        pads = [_axis_pads(a, mode, kind) for a in axes]
        if pads[0] is not None and pads[1] is not None:
            found.append(Geometry(mode, (pads[0], pads[1])))
    found.sort(key=lambda g: (g.needs_pad, sum(map(sum, g.pads))))
    return found[0] if found else None


def axes_of(op: ir.Conv2d | ir.DepthwiseConv2d | ir.MaxPool2d | ir.AvgPool2d, x: ir.Tensor,
            y: ir.Tensor) -> tuple[Axis, Axis]:
    """The two axes (rows, columns) of ``op`` reading ``x`` and writing ``y``."""
    pt, pl, _, _ = op.padding
    include_pad = isinstance(op, ir.AvgPool2d) and op.count_include_pad
    axes = []
    for d, pad in ((0, pt), (1, pl)):
        counted = (-pad, x.shape[d] + pad) if include_pad else (0, x.shape[d])
        axes.append(Axis(x.shape[d], op.kernel[d], op.stride[d], pad, y.shape[d], counted))
    return axes[0], axes[1]
