"""Report lines of the MLPerf Tiny reference networks (and the demo CNN, and the MobileNetV3-small
style network) built by tinyqat.

Each network goes through ``prepare_qat``, a short QAT run on seeded random data
(:func:`tinyqat.models.short_qat_artifact`), ``tinyqat.save`` and ``tinyqat.build`` for
cortex-m4; the table gives what the build reports: parameters (weights + one bias per
output channel), MACs per inference, flash for weights (int8 weights, int32 bias,
multipliers, shifts, tables), the arena (all activations, input and output included), and
the published parameter and MAC counts for comparison.

    python benchmarks/models.py
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import tinyqat
from tinyqat.codegen.stats import params, total_macs
from tinyqat.demo import mnist_cnn
from tinyqat.models import REFERENCE, mobilenet_v3_small, short_qat_artifact, shufflenet_v2_tiny


def main() -> None:
    argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split())).parse_args()
    rows = [(ref.name, ref.build(), ref.input_shape, ref.params, ref.macs) for ref in REFERENCE.values()]
    rows.append(("mnist_cnn (demo)", mnist_cnn(), (1, 28, 28), None, None))
    rows.append(("mobilenet_v3_small", mobilenet_v3_small(), (3, 96, 96), None, None))
    rows.append(("shufflenet_v2_tiny (3x32x32 -> 10)", shufflenet_v2_tiny(), (3, 32, 32), None, None))
    print("| network | params | published | MACs | published | weights flash (B) | arena (B) | layers |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="tinyqat-models-") as tmp:
        for name, model, shape, pub_params, pub_macs in rows:
            path = short_qat_artifact(model, shape, Path(tmp) / f"{name.split()[0]}.pt")
            result = tinyqat.build(path, Path(tmp) / f"{name.split()[0]}_out", board="cortex-m4")
            graph = result.graph
            n_params = sum(params(op) for op in graph.ops)
            published = (f"{pub_params / 1e3:.1f}k", f"{pub_macs / 1e6:.3g}M") if pub_params else ("-", "-")
            print(f"| {name} | {n_params:,} | {published[0]} | {total_macs(graph):,} | {published[1]} | "
                  f"{result.weights_bytes:,} | {result.arena_bytes:,} | {len(graph.ops)} |")


if __name__ == "__main__":
    main()
