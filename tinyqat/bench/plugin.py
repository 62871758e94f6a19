"""Run the bench image under QEMU with the instruction-counting TCG plugin and read its report.

Item 2 of :mod:`tinyqat.bench`: the plugin ``toolchain/qemu_plugin/tq_insn_count.c`` is built
with the host ``gcc`` for each run, told where ``<name>_run_layer`` and the harness loop
:data:`HARNESS_LOOP` are, and reports every translation block each layer executed
(:class:`Block`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinyqat.bench.binutils import function_symbols
from tinyqat.boards import Board
from tinyqat.errors import ToolchainError
from tinyqat.toolchain.compiler import run_compiler
from tinyqat.toolchain.qemu import run_image

PLUGIN_SOURCE = Path(__file__).resolve().parents[1] / "toolchain" / "qemu_plugin" / "tq_insn_count.c"
PLUGIN_CFLAGS = ("-shared", "-fPIC", "-O2", "-std=c11", "-Wall", "-Wextra", "-Werror")
HARNESS_LOOP = "tq_bench_layers"


@dataclass(frozen=True)
class Block:
    """A translation block the plugin saw executed in one layer."""

    layer: int
    execs: int
    jumps: int
    pcs: tuple[int, ...]


def plugin_library(build_dir: Path) -> Path:
    """Compile the instruction-counting plugin with host ``gcc`` into ``build_dir`` (about 0.1 s; built
    per run in the bench's private directory, never loaded from a shared location)."""
    library = build_dir / "tq_insn_count.so"
    run_compiler("gcc", [*PLUGIN_CFLAGS, str(PLUGIN_SOURCE), "-o", str(library)], "gcc")
    return library


def parse_plugin_report(text: str, layers: int) -> list[Block]:
    """Blocks of a plugin report (format in ``tq_insn_count.c``); :class:`ToolchainError` when the
    run is unusable (plugin error, wrong number of layers)."""
    blocks = []
    layers_run = None
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "error":
            raise ToolchainError(f"instruction counting failed: {rest}")
        if kind == "layers_run":
            layers_run = int(rest)
        elif kind == "tb":
            layer, execs, jumps, *pcs = rest.split()
            blocks.append(Block(int(layer), int(execs), int(jumps), tuple(int(pc, 16) for pc in pcs)))
    if layers_run != layers:
        raise ToolchainError(f"the benchmark ran {layers_run} layers, the model has {layers}")
    return blocks


def count_blocks(qemu: str, board: Board, elf: Path, name: str, layers: int, timeout_s: float) -> list[Block]:
    """Run ``elf`` in emulator ``qemu`` with the counting plugin; the executed blocks of every layer."""
    symbols = function_symbols(board, elf)
    entry, _ = symbols[f"{name}_run_layer"]
    loop, loop_size = symbols[HARNESS_LOOP]
    report = elf.parent / "insn_count.txt"
    library = plugin_library(elf.parent)
    # "./name": relative to the emulator's working directory (elf.parent), so no path needs quoting
    plugin = (f"./{library.name},layer={entry:x},harness_lo={loop:x},harness_hi={loop + loop_size:x},"
              f"layers={layers},out={report.name}")
    run_image(qemu, elf, board, (elf.name,), ("-plugin", plugin), timeout_s=timeout_s)
    if not report.is_file():
        raise ToolchainError(f"{qemu} ran the benchmark but its plugin wrote no report: does this QEMU support "
                             f"TCG plugins (-plugin, built with --enable-plugins)?")
    return parse_plugin_report(report.read_text(encoding="utf-8"), layers)
