"""Cortex-M4 cost of the four MLPerf Tiny reference networks: portable vs DSP (size) vs DSP (speed).

Each network of :data:`tinyqat.models.REFERENCE` goes through ``tinyqat.prepare_qat``, a short
QAT run on seeded random data with BatchNorm live (:func:`tinyqat.models.short_qat_artifact`),
``tinyqat.save`` and ``tinyqat.build(..., board="cortex-m4")`` twice (``optimize="size"``, the
default, and ``optimize="speed"``), then ``tinyqat.bench`` (QEMU ``mps2-an386`` with the
instruction-counting plugin) in three configurations:

* portable: the size package compiled with ``-DTQ_PORTABLE`` (the plain C kernels);
* DSP size: the size package (SXTB16 / SMLAD kernels, int8 weights);
* DSP speed: the speed package (conv weights pre-extended to int16, 4 x 2 assembly block).

Columns: executed instructions (exact), estimated cycles (``toolchain/timing/cortex-m4.toml``),
cycles per MAC, flash = code + weights/constants (+ data), RAM = arena (static) + stack
(deepest call chain, GCC's stack usage). Then the three layers with the most cycles per network
(DSP speed).

    python benchmarks/cortex_m.py [--markdown]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch

import tinyqat
from tinyqat.bench import BenchReport, bench
from tinyqat.models import REFERENCE, short_qat_artifact

SEED = 0
CONFIGS = (("portable", "size", ("-DTQ_PORTABLE",)), ("DSP size", "size", ()), ("DSP speed", "speed", ()))


def measure(tmp: Path) -> dict[str, dict[str, BenchReport]]:
    """``{network: {config: report}}`` for every reference network and configuration."""
    results: dict[str, dict[str, BenchReport]] = {}
    for name, ref in REFERENCE.items():
        torch.manual_seed(SEED)
        artifact = short_qat_artifact(ref.build(), ref.input_shape, tmp / f"{name}.pt", seed=SEED)
        results[name] = {}
        for label, optimize, cflags in CONFIGS:
            out = tmp / f"{name}_{optimize}"
            if not out.exists():
                tinyqat.build(artifact, out, board="cortex-m4", name="net", optimize=optimize)
            results[name][label] = bench(out, timeout_s=600, extra_cflags=cflags)
    return results


def table(results: dict[str, dict[str, BenchReport]], markdown: bool) -> str:
    """The totals table and the top-3 layers per network."""
    head = ["network", "kernels", "MACs", "instructions", "est. cycles", "cycles/MAC", "flash code",
            "flash weights", "arena", "stack"]
    rows = []
    for name, by_config in results.items():
        for label, r in by_config.items():
            s = r.sizes
            rows.append([name, label, f"{r.macs}", f"{r.instructions}", f"{r.cycles}",
                         f"{r.cycles_per_mac:.2f}" if r.cycles_per_mac else "-", f"{s.code_bytes}",
                         f"{s.const_bytes + s.data_bytes}", f"{s.arena_bytes}", f"{s.stack_bytes}"])
    top = []
    for name, by_config in results.items():
        r = by_config["DSP speed"]
        layers = sorted(r.layers, key=lambda layer: -layer.cycles)[:3]
        parts = [f"{layer.name} ({layer.op}, {100 * layer.cycles / r.cycles:.0f} %, "
                 + (f"{layer.cycles_per_mac:.2f} c/MAC" if layer.cycles_per_mac else "no MACs") + ")"
                 for layer in layers]
        top.append(f"{name}: " + "; ".join(parts))
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines += ["", "Top 3 layers by estimated cycles (DSP speed):", ""] + [f"- {t}" for t in top]
        return "\n".join(lines)
    widths = [max(len(head[i]), *(len(row[i]) for row in rows)) for i in range(len(head))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    lines += ["", "top 3 layers by estimated cycles (DSP speed):"] + [f"  {t}" for t in top]
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="tinyqat-cortex-m-") as tmp:
        print(table(measure(Path(tmp)), "--markdown" in sys.argv))


if __name__ == "__main__":
    main()
