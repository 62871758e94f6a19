"""Ethos-U55 (128 MACs/cycle) compilation of the four MLPerf Tiny reference networks with Arm's Vela.

Each network of :data:`tinyqat.models.REFERENCE` goes through the same short QAT run as
``benchmarks/memory.py`` (:func:`memory.integer_graph`), is exported with
:func:`tinyqat.export.tflite.to_tflite` and compiled by ``vela`` (``ethos-u-vela``) for
``ethos-u55-128`` with Vela's bundled Arm configuration file, system configuration
``Ethos_U55_High_End_Embedded`` (NPU at 500 MHz, SRAM 32-byte bursts, off-chip flash at 1/8 clock)
and memory mode ``Shared_Sram`` (weights in flash, tensor arena in SRAM).  Columns:

* TFLite ops: operators in the export (PAD ops included); ops on NPU / on CPU: Vela's count after
  its own graph rewriting (it folds a PAD into the convolution after it, and may split an op); an op left
  on the CPU runs in TFLite Micro beside the NPU's custom operator;
* NPU cycles and total cycles: Vela's static performance estimate (``cycles_npu``, ``cycles_total``
  of its summary: the NPU's compute plus memory access), not an emulation; MACs per total cycle;
* SRAM: the arena Vela plans in SRAM, in KiB.

    python benchmarks/vela.py
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from memory import integer_graph

from tinyqat.export import schema
from tinyqat.export.tflite import tflite_model
from tinyqat.models import REFERENCE

ACCELERATOR = "ethos-u55-128"
SYSTEM_CONFIG = "Ethos_U55_High_End_Embedded"
MEMORY_MODE = "Shared_Sram"


@dataclass(frozen=True)
class Row:
    """One network as Vela compiled it (see the module docstring)."""

    name: str
    ops: int
    npu_ops: int
    cpu_ops: int
    npu_cycles: int
    total_cycles: int
    macs: int
    sram_kib: float


def vela_config() -> Path:
    """Vela's bundled Arm configuration file (``ethosu/config_files/Arm/vela.ini``)."""
    import ethosu.vela

    return Path(ethosu.vela.__file__).resolve().parents[1] / "config_files" / "Arm" / "vela.ini"


def compile_network(name: str, ops: int, model: Path, out_dir: Path) -> Row:
    """Run Vela on ``model``; read the operator placement from its report and the estimate from its CSV."""
    done = subprocess.run([sys.executable, "-m", "ethosu.vela", str(model), "--accelerator-config", ACCELERATOR,
                           "--config", str(vela_config()), "--system-config", SYSTEM_CONFIG,
                           "--memory-mode", MEMORY_MODE, "--output-dir", str(out_dir)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"vela failed on {name}: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
    counts = {kind: int(m.group(1)) for kind in ("NPU", "CPU")
              if (m := re.search(rf"^{kind} operators = (\d+)", done.stdout, re.MULTILINE))}
    with (out_dir / f"{model.stem}_summary_{SYSTEM_CONFIG}.csv").open(newline="") as f:
        summary = next(csv.DictReader(f))
    return Row(name, ops, counts["NPU"], counts["CPU"], int(summary["cycles_npu"]), int(summary["cycles_total"]),
               int(summary["nn_macs"]), float(summary["sram_memory_used"]))


def main() -> None:
    """Print the table (Markdown)."""
    argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split())).parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="tinyqat-vela-") as tmp:
        for name, ref in REFERENCE.items():
            model, path = tflite_model(integer_graph(ref)), Path(tmp) / f"{name}.tflite"
            path.write_bytes(schema.serialize(model))
            rows.append(compile_network(name, len(model.operators), path, Path(tmp) / name))
    print(f"Vela on {ACCELERATOR}, {SYSTEM_CONFIG}, {MEMORY_MODE}")
    print("| network | TFLite ops | Vela: ops on NPU | on CPU | NPU cycles | total cycles (est.) | MACs / cycle "
          "| SRAM (KiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r.name} | {r.ops} | {r.npu_ops} | {r.cpu_ops} | {r.npu_cycles:,} | "
              f"{r.total_cycles:,} | {r.macs / r.total_cycles:.1f} | {r.sram_kib:.1f} |")


if __name__ == "__main__":
    main()
