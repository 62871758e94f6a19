"""Static arena planning: one int8 arena, one byte offset per activation tensor.

Live ranges are in op *steps* (the index of an op in ``graph.ops``), both ends inclusive:

* the graph input is live from step 0 to its last reader;
* the output of op ``i`` is live from step ``i`` to its last reader (``i`` when unread);
* the graph output stays live until the last step ``len(graph.ops) - 1``.

Readers are the ops naming the tensor in ``op.inputs``, so a tensor read by several later
ops (a residual branch, a concat input) stays live until the last of them, and every input
of a multi-input op (add, concat) is live at that op's step.

Two tensors *conflict* when their ranges intersect (``a.first <= b.last and b.first <= a.last``);
conflicting tensors must occupy disjoint byte ranges ``[offset, offset + size)``.  An op's
input and output are both live at its step, so no op runs in place yet.  Offsets are
multiples of :data:`ALIGNMENT` bytes and ``arena_size`` is rounded up to it as well.

:class:`NaivePlanner` (every tensor gets its own bytes) is the oracle the tests compare
:class:`GreedyPlanner` against (TFLite Micro's linear vs greedy planners).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tinyqat import ir

ALIGNMENT = 4  # bytes; lets kernels read int32 words from any tensor start


@dataclass(frozen=True)
class Allocation:
    """Tensor ``tensor`` occupies arena bytes ``[offset, offset + size)`` during steps ``[first, last]``."""

    tensor: str
    offset: int
    size: int
    first: int
    last: int

    @property
    def end(self) -> int:
        """One past the last byte (``offset + size``)."""
        return self.offset + self.size

    def conflicts(self, other: Allocation) -> bool:
        """True when the two live ranges share a step."""
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class Plan:
    """A memory plan: ``arena_size`` bytes and the allocations in planning-input order."""

    arena_size: int
    allocations: tuple[Allocation, ...]

    def allocation(self, name: str) -> Allocation:
        """The allocation of tensor ``name`` (``KeyError`` when it has none)."""
        for a in self.allocations:
            if a.tensor == name:
                return a
        raise KeyError(f"tensor {name!r} is not in the memory plan")

    def offset(self, name: str) -> int:
        """Arena byte offset of tensor ``name``."""
        return self.allocation(name).offset

    @property
    def peak_live_bytes(self) -> int:
        """``max over steps s of sum(size of tensors live at s)``: the lower bound of any arena."""
        steps = {s for a in self.allocations for s in (a.first, a.last)}
        return max((sum(a.size for a in self.allocations if a.first <= s <= a.last) for s in steps), default=0)


class Planner(Protocol):
    """Anything that turns a graph into a :class:`Plan` satisfying :func:`check_plan`."""

    def plan(self, graph: ir.Graph) -> Plan:
        """Plan the arena of ``graph``."""
        ...


def _align(n: int) -> int:
    return -(-n // ALIGNMENT) * ALIGNMENT


def live_ranges(graph: ir.Graph) -> list[Allocation]:
    """Allocations with ``offset = 0`` giving each planned tensor's size and live range.

    Order: the graph input, then op outputs in execution order.
    """
    last_step = max(len(graph.ops) - 1, 0)
    defined = [(graph.input, 0)] + [(op.output, i) for i, op in enumerate(graph.ops)]
    ranges = []
    for name, first in defined:
        readers = [i for i, op in enumerate(graph.ops) if name in op.inputs]
        last = last_step if name == graph.output else max([first, *readers])
        ranges.append(Allocation(name, 0, graph.tensor(name).size, first, last))
    return ranges


def _finish(placed: list[Allocation]) -> Plan:
    return Plan(_align(max((a.end for a in placed), default=0)), tuple(placed))


class NaivePlanner:
    """No reuse: tensors laid out back to back (each offset aligned), in definition order."""

    def plan(self, graph: ir.Graph) -> Plan:
        """``offset[k] = align(offset[k-1] + size[k-1])``; arena = aligned sum of sizes."""
        placed: list[Allocation] = []
        offset = 0
        for a in live_ranges(graph):
            placed.append(Allocation(a.tensor, offset, a.size, a.first, a.last))
            offset = _align(offset + a.size)
        return _finish(placed)


class GreedyPlanner:
    """Greedy by size: largest tensors first, each at the lowest aligned offset that fits.

    Order: size descending, then first step, then definition order (deterministic).  For
    each tensor, the already placed conflicting tensors are scanned by increasing offset;
    the candidate offset starts at 0 and jumps to ``align(end)`` of every conflicting
    tensor it would overlap, stopping at the first gap large enough.
    """

    def plan(self, graph: ir.Graph) -> Plan:
        """Plan ``graph``; allocations come back in definition order."""
        ranges = live_ranges(graph)
        order = sorted(range(len(ranges)), key=lambda k: (-ranges[k].size, ranges[k].first, k))
        placed: dict[int, Allocation] = {}
        for k in order:
            a = ranges[k]
            offset = 0
            for other in sorted((p for p in placed.values() if p.conflicts(a)), key=lambda p: (p.offset, p.end)):
                if offset + a.size <= other.offset:
                    break
                offset = max(offset, _align(other.end))
            placed[k] = Allocation(a.tensor, offset, a.size, a.first, a.last)
        return _finish([placed[k] for k in range(len(ranges))])


def check_plan(graph: ir.Graph, plan: Plan) -> None:
    """Raise ``ValueError`` unless ``plan`` is a valid arena layout for ``graph``.

    Checks, against the live ranges recomputed from the graph: every planned tensor has
    exactly one allocation with the right size and range; offsets are non-negative and
    aligned; every buffer ends within ``arena_size``; no two conflicting tensors share a byte.
    """
    expected = {a.tensor: a for a in live_ranges(graph)}
    got: dict[str, Allocation] = {}
    for a in plan.allocations:
        if a.tensor in got:
            raise ValueError(f"tensor {a.tensor!r} is allocated twice")
        if a.tensor not in expected:
            raise ValueError(f"allocation for unknown tensor {a.tensor!r}")
        got[a.tensor] = a
    missing = sorted(expected.keys() - got.keys())
    if missing:
        raise ValueError(f"tensors missing from the plan: {missing}")
    for name, a in got.items():
        want = expected[name]
        got_key, want_key = (a.size, a.first, a.last), (want.size, want.first, want.last)
        if got_key != want_key:
            raise ValueError(f"{name}: (size, first, last) {got_key} != {want_key} derived from the graph")
        if a.offset < 0 or a.offset % ALIGNMENT:
            raise ValueError(f"{name}: offset {a.offset} is negative or not a multiple of {ALIGNMENT}")
        if a.end > plan.arena_size:
            raise ValueError(f"{name}: bytes [{a.offset}, {a.end}) run past the arena ({plan.arena_size} bytes)")
    allocs = list(got.values())
    for i, a in enumerate(allocs):
        for b in allocs[i + 1:]:
            if a.conflicts(b) and a.offset < b.end and b.offset < a.end:
                raise ValueError(f"live tensors {a.tensor!r} [{a.offset}, {a.end}) and {b.tensor!r} "
                                 f"[{b.offset}, {b.end}) overlap")
