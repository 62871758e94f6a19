"""Cortex-M0+ (Armv6-M) cost of the four MLPerf Tiny reference networks.

Each network of :data:`tinyqat.models.REFERENCE` goes through a short seeded QAT run
(:func:`tinyqat.models.short_qat_artifact`, ``torch.manual_seed(0)``), ``tinyqat.build(...,
board="cortex-m0plus-512k")`` (an STM32G0B1-sized part: 512 KiB flash, 144 KiB SRAM; the four
networks do not all fit the 128 KiB / 36 KiB ``cortex-m0plus`` profile, which runs the same core
and flags) and ``tinyqat.bench`` (QEMU ``mps2-an385`` with the instruction-counting plugin, every
layer counted).

Columns: MACs, executed instructions (exact), instructions per MAC, estimated cycles
(``toolchain/timing/cortex-m0plus.toml``) and cycles per MAC, flash (code + constants), arena and
stack. Then the layers with the most instructions per network.

    python benchmarks/cortex_m0.py [--board cortex-m0plus-512k] [--top 4] [--networks kws_ds_cnn,...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

import tinyqat
from tinyqat.bench import BenchReport, bench
from tinyqat.models import REFERENCE, short_qat_artifact

SEED = 0


def measure(tmp: Path, board: str, networks: list[str]) -> dict[str, BenchReport]:
    """``{network: report}`` for each named reference network built for ``board``."""
    results: dict[str, BenchReport] = {}
    for name in networks:
        ref = REFERENCE[name]
        torch.manual_seed(SEED)
        artifact = short_qat_artifact(ref.build(), ref.input_shape, tmp / f"{name}.pt", seed=SEED)
        out = tmp / name
        tinyqat.build(artifact, out, board=board, name="net")
        results[name] = bench(out, timeout_s=900)
    return results


def table(results: dict[str, BenchReport], top: int) -> str:
    """Totals per network and the ``top`` layers by instructions."""
    head = ["network", "MACs", "instructions", "insn/MAC", "est. cycles", "cycles/MAC", "flash code",
            "flash const", "arena", "stack"]
    rows = []
    for name, r in results.items():
        s = r.sizes
        rows.append([name, f"{r.macs}", f"{r.instructions}", f"{r.instructions / r.macs:.2f}", f"{r.cycles}",
                     f"{r.cycles / r.macs:.2f}", f"{s.code_bytes}", f"{s.const_bytes + s.data_bytes}",
                     f"{s.arena_bytes}", f"{s.stack_bytes}"])
    widths = [max(len(head[i]), *(len(row[i]) for row in rows)) for i in range(len(head))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    for name, r in results.items():
        lines += ["", f"{name}: top {top} layers by instructions"]
        for layer in sorted(r.layers, key=lambda layer: -layer.instructions)[:top]:
            per = (f"{layer.instructions / layer.macs:6.2f} insn/MAC {layer.cycles / layer.macs:6.2f} cycles/MAC"
                   if layer.macs else "no MACs")
            lines.append(f"  {layer.index:3d} {layer.name:28.28} {layer.op:18} {layer.macs:9d} MACs "
                         f"{100 * layer.instructions / r.instructions:5.1f} % of insns  {per}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="cortex-m0plus-512k")
    parser.add_argument("--top", type=int, default=4)
    parser.add_argument("--networks", default=",".join(REFERENCE))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(Path(tmp), args.board, args.networks.split(","))
    print(f"board {args.board}")
    print(table(results, args.top))


if __name__ == "__main__":
    main()
