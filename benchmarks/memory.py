"""Arena RAM of the four MLPerf Tiny reference networks: floor, naive, greedy, greedy + in-place.

Each network of :data:`tinyqat.models.REFERENCE` goes through ``prepare_qat``, a short QAT
run on seeded random data (:func:`tinyqat.models.short_qat_artifact`), ``tinyqat.save`` and
lowering, so its integer graph has the real shapes; memory planning depends on nothing else.  Columns, in bytes:

* floor: the most bytes of tensors live at one step, input and output included, without
  in-place execution or scratch (``Plan.peak_live_bytes``): the least any arena that keeps
  every live tensor in its own bytes needs;
* naive: every tensor in its own bytes (:class:`~tinyqat.memory.planner.NaivePlanner`);
* greedy: greedy by size, first fit, no in-place (``GreedyPlanner(in_place=False)``);
* in-place: tinyqat's planner (``GreedyPlanner()``), the arena of the generated C;
* total RAM: what a generated model needs besides the stack: the in-place arena, which holds
  every activation, input and output included (the zero-copy API uses them in place; the
  portable kernels need no scratch memory).

    python benchmarks/memory.py
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

import tinyqat
from tinyqat import ir
from tinyqat.lower import lower_file
from tinyqat.memory.planner import GreedyPlanner, NaivePlanner, check_plan
from tinyqat.models import REFERENCE, ReferenceModel, short_qat_artifact

SEED = 0


@dataclass(frozen=True)
class Row:
    """One network's arena sizes in bytes (see the module docstring)."""

    name: str
    floor: int
    naive: int
    greedy: int
    in_place: int
    peak_layer: str

    @property
    def total_ram(self) -> int:
        """The generated model's RAM besides the stack: the in-place arena."""
        return self.in_place


def integer_graph(ref: ReferenceModel) -> ir.Graph:
    """The lowered int8 graph of ``ref`` after a short QAT run on seeded random data."""
    torch.manual_seed(SEED)
    with tempfile.TemporaryDirectory(prefix="tinyqat-memory-") as tmp:
        return lower_file(short_qat_artifact(ref.build(), ref.input_shape, Path(tmp) / "model.pt", seed=SEED))


def measure(name: str, graph: ir.Graph) -> Row:
    """Plan ``graph`` three ways, check every plan, and return the sizes."""
    naive, greedy, in_place = NaivePlanner().plan(graph), GreedyPlanner(in_place=False).plan(graph), \
        GreedyPlanner().plan(graph)
    for plan in (naive, greedy, in_place):
        check_plan(graph, plan)
    step = in_place.peak_step
    return Row(name, in_place.peak_live_bytes, naive.arena_size, greedy.arena_size, in_place.arena_size,
               f"{step} {graph.ops[step].name}")


def main() -> None:
    """Print the table (Markdown) and the networks that could not be planned."""
    rows, failed = [], []
    for name, ref in REFERENCE.items():
        try:
            rows.append(measure(name, integer_graph(ref)))
        except tinyqat.TinyQatError as exc:
            failed.append(f"{name}: {exc}")
    print("| network | floor | naive | greedy | greedy + in-place | total RAM | vs floor | peak layer |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r.name} | {r.floor:,} | {r.naive:,} | {r.greedy:,} | {r.in_place:,} | {r.total_ram:,} "
              f"| {100 * r.total_ram / r.floor:.0f} % | {r.peak_layer} |")
    for line in failed:
        print(f"not planned: {line}")


if __name__ == "__main__":
    main()
