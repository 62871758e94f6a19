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

A second table puts the same graph, exported with ``tinyqat.export_tflite``, into TFLite Micro's
Python interpreter (``tflite-micro``, reference kernels) in the same run and prints the arena it
reports after one inference (its RecordingMicroAllocator): total bytes used, split into head
(activations and kernel scratch, planned by TFLite Micro's greedy planner) and tail (persistent
interpreter records: tensors, nodes, per-channel multipliers).  The interpreter runs on the host
(x86-64), so the tail's records hold 64-bit pointers; on a 32-bit Cortex-M they are smaller.

    python benchmarks/memory.py
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import tinyqat
from tinyqat import ir
from tinyqat.export.tflite import to_tflite
from tinyqat.lower import lower_file
from tinyqat.memory.planner import GreedyPlanner, NaivePlanner, check_plan
from tinyqat.models import REFERENCE, ReferenceModel, short_qat_artifact

SEED = 0
TFLM_ARENA_LIMIT = 8 << 20  # bytes offered to TFLite Micro; it reports what it used


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


def _c_stderr(call: Callable[[], object]) -> str:
    """What ``call`` writes to file descriptor 2 (C++ code printing to stderr)."""
    with tempfile.TemporaryFile() as f:
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            call()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        return f.read().decode(errors="replace")


def tflm_arena(graph: ir.Graph) -> tuple[int, int, int]:
    """``(total, head, tail)`` arena bytes TFLite Micro reports for ``graph``'s export after one inference."""
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(to_tflite(graph), arena_size=TFLM_ARENA_LIMIT)
    it.set_input(np.zeros((1, *graph.tensor(graph.input).shape), np.int8), 0)
    it.invoke()
    text = _c_stderr(it.print_allocations)
    sizes = {key: int(m.group(1)) for key in ("total", "head", "tail")
             if (m := re.search(rf"Arena allocation {key} (\d+) bytes", text))}
    if len(sizes) != 3:
        raise RuntimeError(f"unexpected TFLite Micro allocation report: {text[:200]!r}")
    return sizes["total"], sizes["head"], sizes["tail"]


def main() -> None:
    """Print the tables (Markdown) and the networks that could not be planned or measured."""
    argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split())).parse_args()
    rows, failed, graphs = [], [], {}
    for name, ref in REFERENCE.items():
        try:
            graphs[name] = integer_graph(ref)
            rows.append(measure(name, graphs[name]))
        except tinyqat.TinyQatError as exc:
            failed.append(f"{name}: {exc}")
    print("| network | floor | naive | greedy | greedy + in-place | total RAM | vs floor | peak layer |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r.name} | {r.floor:,} | {r.naive:,} | {r.greedy:,} | {r.in_place:,} | {r.total_ram:,} "
              f"| {100 * r.total_ram / r.floor:.0f} % | {r.peak_layer} |")
    for line in failed:
        print(f"not planned: {line}")
    print_tflm(rows, graphs)


def print_tflm(rows: list[Row], graphs: dict[str, ir.Graph]) -> None:
    """The second table: tinyqat's arena beside TFLite Micro's for the same graphs."""
    try:
        import tflite_micro  # noqa: F401
    except ImportError:
        print("\nTFLite Micro not measured: pip install tflite-micro")
        return
    print("\n| network | tinyqat arena | TFLite Micro arena (total) | head: activations + scratch "
          "| tail: persistent (x86-64) | tinyqat vs TFLM total |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        try:
            total, head, tail = tflm_arena(graphs[r.name])
        except tinyqat.TinyQatError as exc:
            print(f"| {r.name} | {r.total_ram:,} | not exported: {exc} | | | |")
            continue
        print(f"| {r.name} | {r.total_ram:,} | {total:,} | {head:,} | {tail:,} | {100 * r.total_ram / total:.0f} % |")


if __name__ == "__main__":
    main()
