"""Cortex-M cost of the four MLPerf Tiny reference networks (and the MobileNetV3-small and
ShuffleNetV2 style networks), and where it stands against the speed targets.

Each network of :data:`NETWORKS` (:data:`tinyqat.models.REFERENCE`, then
:func:`tinyqat.models.mobilenet_v3_small` and :func:`tinyqat.models.shufflenet_v2_tiny`) goes through
``tinyqat.prepare_qat``, a short QAT run on seeded random data with BatchNorm live
(:func:`tinyqat.models.short_qat_artifact`), ``tinyqat.save`` and ``tinyqat.build`` for each board
and optimization mode below, then ``tinyqat.bench`` (QEMU with the instruction-counting plugin;
every layer counted: convs, pools, adds, copies) in these configurations:

* ``m4 portable``: cortex-m4, the size package compiled with ``-DTQ_PORTABLE`` (plain C kernels);
* ``m4 size``: cortex-m4, the default build (DSP kernels, int8 weights): what a user gets;
* ``m4 speed``: cortex-m4, ``--optimize speed`` (conv weights pre-extended to int16); a network whose speed
  package does not fit cortex-m4's 512 KiB of flash is measured on :data:`M4_LARGE_BOARD` (the same core and
  timing, 2 MiB of flash: the part of the published MLPerf Tiny Cortex-M4 results) and its rows say so;
* ``m7 speed``: cortex-m7, ``--optimize speed``;
* ``m0+``: :data:`M0_BOARD` (Cortex-M0+ sized like a 512 KiB / 144 KiB part), the default build;
* ``m55``: cortex-m55 (Helium), the default build (its ``_mve`` kernels; QEMU ``mps3-an547``).

Tables: totals per network and configuration (executed instructions, exact; estimated cycles from
``tinyqat/toolchain/timing/<core>.toml``, zero wait states; flash code = ``.text`` of the package,
flash weights = ``.rodata`` + ``.data``; arena; stack = deepest call chain), the slowest layer of
each kind on the cortex-m4 (first convs with at most 3 input channels, narrow convs with 4 to 16,
other convs, depthwise, fully connected), every cortex-m4 layer above its target, and the issue's speed
targets with the measured figure.

    python benchmarks/cortex_m.py [--markdown]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

import tinyqat
from tinyqat.bench import BenchReport, bench
from tinyqat.errors import DoesNotFitError
from tinyqat.models import REFERENCE, mobilenet_v3_small, short_qat_artifact, shufflenet_v2_tiny
from tinyqat.toolchain.manifest import read_manifest

SEED = 0
M0_BOARD = "cortex-m0plus-512k"
M4_LARGE_BOARD = "cortex-m4-2m"


@dataclass(frozen=True)
class Config:
    """One measured configuration: a board, an optimization mode and extra C flags; ``fallback``: a board of the
    same core (so the same code and cycles) with more memory, for the packages that do not fit ``board``."""

    label: str
    board: str
    optimize: str
    cflags: tuple[str, ...] = ()
    fallback: str | None = None


@dataclass(frozen=True)
class Measured:
    """A configuration's bench report and the board it was measured on (``Config.board`` or its fallback)."""

    report: BenchReport
    board: str


CONFIGS = (
    Config("m4 portable", "cortex-m4", "size", ("-DTQ_PORTABLE",)),
    Config("m4 size", "cortex-m4", "size"),
    Config("m4 speed", "cortex-m4", "speed", fallback=M4_LARGE_BOARD),
    Config("m7 speed", "cortex-m7", "speed"),
    Config("m0+", M0_BOARD, "size"),
    Config("m55", "cortex-m55", "size"),
)
# name: (constructor, per-sample input shape): the MLPerf Tiny references, then other architectures
NETWORKS: dict[str, tuple[Callable[[], torch.nn.Module], tuple[int, ...]]] = {
    **{name: (ref.build, ref.input_shape) for name, ref in REFERENCE.items()},
    "mobilenet_v3_small": (mobilenet_v3_small, (3, 96, 96)),
    "shufflenet_v2_tiny": (shufflenet_v2_tiny, (3, 32, 32)),
}
SHORT = {"kws_ds_cnn": "KWS", "vww_mobilenet_v1": "VWW", "ic_resnet8": "IC", "ad_fc_autoencoder": "AD",
         "mobilenet_v3_small": "MNv3-S", "shufflenet_v2_tiny": "ShuffleNetV2"}
# (network, config, metric, target): metric "cycles" = est. cycles/MAC, "instructions" = instructions/MAC.
NETWORK_TARGETS = (
    *((net, "m4 size", "cycles", t) for net, t in (("ic_resnet8", 1.45), ("kws_ds_cnn", 1.6),
                                                   ("vww_mobilenet_v1", 1.6), ("ad_fc_autoencoder", 1.5))),
    *((net, "m4 speed", "cycles", t) for net, t in (("ic_resnet8", 1.25), ("kws_ds_cnn", 1.4),
                                                    ("vww_mobilenet_v1", 1.4))),
    ("ic_resnet8", "m7 speed", "cycles", 1.1), ("kws_ds_cnn", "m7 speed", "cycles", 1.3),
    ("ic_resnet8", "m0+", "instructions", 6.0), ("kws_ds_cnn", "m0+", "instructions", 8.0),
    *((net, "m55", "cycles", t) for net, t in (("ic_resnet8", 0.35), ("kws_ds_cnn", 0.6), ("vww_mobilenet_v1", 0.8),
                                                ("ad_fc_autoencoder", 0.9))),
)
# Per-layer targets on the cortex-m4, both modes: (layer kind, est. cycles/MAC at most).
LAYER_TARGETS = (("first conv (<= 3 in)", 2.5), ("narrow conv (4-16 in)", 2.5), ("other conv", 2.5),
                 ("depthwise 3x3", 2.6), ("fully connected", 1.5))


def measure(tmp: Path) -> dict[str, dict[str, Measured | None]]:
    """``{network: {config label: measured}}`` for every network of :data:`NETWORKS` and configuration;
    ``None`` where the build fits neither the board nor its fallback (the table says so)."""
    results: dict[str, dict[str, Measured | None]] = {}
    for name, (build, input_shape) in NETWORKS.items():
        torch.manual_seed(SEED)
        artifact = short_qat_artifact(build(), input_shape, tmp / f"{name}.pt", seed=SEED)
        results[name] = {}
        for config in CONFIGS:
            results[name][config.label] = None
            for board in (config.board, *((config.fallback,) if config.fallback else ())):
                out = tmp / f"{name}_{board}_{config.optimize}"
                try:
                    if not out.exists():
                        tinyqat.build(artifact, out, board=board, name="net", optimize=config.optimize)
                except DoesNotFitError:
                    continue
                results[name][config.label] = Measured(bench(out, timeout_s=900, extra_cflags=config.cflags), board)
                break
    return results


def layer_kind(manifest: dict, index: int) -> str | None:
    """The kind of a layer for :data:`LAYER_TARGETS` from the package manifest (``model.json``), None
    for other ops.  A conv's input channels: MACs / (output elements * kernel taps)."""
    layer = manifest["layers"][index]
    op = layer["op"]
    if op == "fully_connected":
        return "fully connected"
    if op == "depthwise_conv2d":
        return "depthwise 3x3" if layer.get("kernel") == [3, 3] else None
    if op == "conv2d":
        in_c = layer["macs"] // (layer["output_size"] * layer["kernel"][0] * layer["kernel"][1])
        return "first conv (<= 3 in)" if in_c <= 3 else "narrow conv (4-16 in)" if in_c <= 16 else "other conv"
    return None


def _fmt(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def _table(head: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(len(head))]
    return ["  ".join(h.rjust(w) for h, w in zip(head, widths)),
            *("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows)]


Results = dict[str, dict[str, Measured | None]]


M4_LABELS = ("m4 size", "m4 speed")  # the configurations of the per-layer targets


def m4_layers(results: Results, manifests: dict[str, dict]) -> dict[tuple[str, str, str], dict[str, float]]:
    """``{(network, layer name, kind): {config: cycles/MAC}}`` for every layer of a kind of :data:`LAYER_TARGETS`
    in the cortex-m4 configurations (a network whose package did not fit has no figure there)."""
    layers: dict[tuple[str, str, str], dict[str, float]] = {}
    for name, by_config in results.items():
        for label in M4_LABELS:
            measured = by_config[label]
            for layer in measured.report.layers if measured is not None else ():
                kind = layer_kind(manifests[name], layer.index)
                if kind is not None and layer.cycles_per_mac:
                    layers.setdefault((SHORT[name], layer.name, kind), {})[label] = layer.cycles_per_mac
    return layers


def worst_layers(layers: dict[tuple[str, str, str], dict[str, float]]) -> dict[tuple[str, str], tuple]:
    """``{(config, kind): (cycles/MAC, network, layer name)}``: the slowest layer of each kind (:func:`m4_layers`)."""
    worst: dict[tuple[str, str], tuple] = {}
    for (network, layer, kind), by_label in layers.items():
        for label, value in by_label.items():
            if (label, kind) not in worst or value > worst[(label, kind)][0]:
                worst[(label, kind)] = (value, network, layer)
    return worst


def _config_text(config: Config, m: Measured) -> str:
    """A configuration's label, naming the fallback board when the package did not fit its own."""
    return config.label if m.board == config.board else f"{config.label} on {m.board} (does not fit {config.board})"


def render(results: Results, manifests: dict[str, dict], markdown: bool) -> str:
    """The three tables (module docstring)."""
    head = ["network", "config", "MACs", "instructions", "instr/MAC", "est. cycles", "cycles/MAC", "flash code",
            "flash weights", "arena", "stack"]
    rows = []
    for name, by_config in results.items():
        for config in CONFIGS:
            m = by_config[config.label]
            if m is None:
                rows.append([SHORT[name], config.label, "does not fit the board's flash / RAM",
                             *(["-"] * (len(head) - 3))])
                continue
            r, s = m.report, m.report.sizes
            rows.append([SHORT[name], _config_text(config, m), f"{r.macs}", f"{r.instructions}",
                         _fmt(r.instructions / r.macs), f"{r.cycles}", _fmt(r.cycles_per_mac), f"{s.code_bytes}",
                         f"{s.const_bytes + s.data_bytes}", f"{s.arena_bytes}", f"{s.stack_bytes}"])
    lines = _table(head, rows, markdown)
    layers = m4_layers(results, manifests)
    worst = worst_layers(layers)
    lines += ["", "Slowest layer of each kind on the cortex-m4 (est. cycles/MAC; target in brackets):", ""]
    rows = [[kind, f"<= {target}", *(f"{worst[(label, kind)][0]:.2f} ({worst[(label, kind)][1]} "
                                        f"{worst[(label, kind)][2]})" if (label, kind) in worst else "-"
                                        for label in M4_LABELS)]
            for kind, target in LAYER_TARGETS]
    lines += _table(["layer kind", "target", "m4 size", "m4 speed"], rows, markdown)
    targets = dict(LAYER_TARGETS)
    lines += ["", "Every cortex-m4 layer above its target in either configuration (est. cycles/MAC):", ""]
    rows = [[network, layer, kind, f"<= {targets[kind]}", *(_fmt(by_label.get(label)) for label in M4_LABELS)]
            for (network, layer, kind), by_label in layers.items() if max(by_label.values()) > targets[kind]]
    lines += _table(["network", "layer", "kind", "target", "m4 size", "m4 speed"], rows, markdown)
    lines += ["", "Network targets:", ""]
    rows = []
    for name, label, metric, target in NETWORK_TARGETS:
        config = next(c for c in CONFIGS if c.label == label)
        m = results[name][label]
        if m is None:
            rows.append([SHORT[name], label, f"{metric}/MAC <= {target}", "-", "not met: does not fit"])
            continue
        r = m.report
        value = r.cycles_per_mac if metric == "cycles" else r.instructions / r.macs
        verdict = "met" if value <= target else "not met"
        rows.append([SHORT[name], _config_text(config, m), f"{metric}/MAC <= {target}", f"{value:.2f}",
                     verdict if m.board == config.board else f"{verdict} on {m.board} only"])
    lines += _table(["network", "config", "target", "measured", ""], rows, markdown)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables (as in the README)")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent, check=False).stdout.strip() or "unknown"
    print(f"commit {commit}; {platform.machine()} host, {platform.python_implementation()} "
          f"{platform.python_version()}, torch {torch.__version__}; QEMU TCG plugin counts, zero-wait timing tables")
    with tempfile.TemporaryDirectory(prefix="tinyqat-cortex-m-") as tmp:
        results = measure(Path(tmp))
        manifests = {name: read_manifest(Path(tmp) / f"{name}_cortex-m4_size")
                     for name in results}
        print(render(results, manifests, args.markdown))


if __name__ == "__main__":
    main()
