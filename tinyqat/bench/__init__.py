"""``tinyqat bench``: exact executed instructions, estimated cycles and memory of a package on its board.

How it measures (Cortex-M boards with a ``qemu_machine`` only):

1. The package's ``*.c``, ``templates/bench_harness.c.j2`` and the bare-metal startup are
   compiled one by one for the board (``-O2``, the flags of :func:`tinyqat.toolchain.qemu.build_image`,
   plus ``-fstack-usage -fcallgraph-info=su``) and linked into ``bench.elf``.  The harness
   fills the input with a fixed pseudo-random pattern and calls ``<name>_run_layer(i)`` for
   every layer from a function ``tq_bench_layers`` that does nothing else.
2. ``qemu-system-arm`` runs it with the TCG plugin ``toolchain/qemu_plugin/tq_insn_count.c``
   (built with the host ``gcc`` for each run).  Layer
   ``i`` is everything executed from the ``i``-th entry of ``<name>_run_layer`` up to the next
   instruction of ``tq_bench_layers``: the layer's dispatch, kernel and library helpers, none
   of the harness, startup or C library.  The plugin reports, per layer, every executed
   translation block (straight-line run of instructions), how often it ran and how often it
   was left by a jump.  QEMU executes the image deterministically, so the counts are exact
   and identical on every run of the same package.
3. Instructions of a layer = ``sum over its blocks of executions * instructions in the block``.
4. Cycles (an estimate; QEMU is not cycle accurate) from the core's timing table
   ``toolchain/timing/<cpu>.toml`` (:class:`~tinyqat.bench.cost.TimingTable`; sources and
   assumptions are in each file): every instruction is classified from the ELF's disassembly
   (``objdump``) and

   ``cycles = sum_blocks execs * sum_insns cost(insn) + jumps * refill``

   where ``cost`` is the class's cycles (``load_pipelined`` instead of ``load`` for a load
   right after a load in the same block; ``ldm_base + N * ldm_per_register`` for a load
   multiple of N registers, likewise stores) and every jump (taken branch, call, return, PC
   write) adds the pipeline refill.  Cycles per MAC = cycles / MACs (:mod:`tinyqat.codegen.stats`).
5. Sizes come from the package's object files (section sizes, so the harness, startup and C
   library are excluded): flash = code (``.text``) + constants (``.rodata``: weights, biases,
   requantization tables and layer parameters) + ``.data``; static RAM = ``.data`` + ``.bss``
   (the arena).  Library helpers the compiler calls (``memcpy``, ``__aeabi_idiv`` on Armv6-M)
   are not counted in flash.  Stack = the deepest call chain from ``<name>_invoke`` in GCC's
   call graph (``-fcallgraph-info=su``), summing each function's frame (``-fstack-usage``; a naked
   assembly function's from its instructions), a call through a pointer taken as a call of the deepest
   function reached only by its address (:mod:`~tinyqat.bench.stack`); functions without stack
   information (library helpers) count 0 and are listed.

Modules: :mod:`~tinyqat.bench.image` builds the image (1), :mod:`~tinyqat.bench.plugin` runs it
with the plugin (2), :func:`bench` sums the instructions (3), :mod:`~tinyqat.bench.cost` is the
cost model (4) applied to the disassembly from :mod:`~tinyqat.bench.binutils`, which also reads
the section sizes (5), :mod:`~tinyqat.bench.stack` is the stack analysis (5) and
:mod:`~tinyqat.bench.report` holds the result and its table.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tinyqat.bench.binutils import disassembly, function_symbols, section_sizes
from tinyqat.bench.cost import block_cycles, load_timing
from tinyqat.bench.image import build_bench_image
from tinyqat.bench.plugin import count_blocks
from tinyqat.bench.report import BenchReport, LayerBench, Sizes, format_report
from tinyqat.bench.stack import asm_frames, stack_usage
from tinyqat.boards import load_board, package_board
from tinyqat.errors import TinyQatError, ToolchainError
from tinyqat.toolchain.manifest import read_manifest
from tinyqat.toolchain.qemu import find_qemu

__all__ = ["BenchReport", "LayerBench", "Sizes", "bench", "format_report"]


def bench(out_dir: str | Path, board: str | None = None, timeout_s: float = 120.0,
          extra_cflags: Sequence[str] = ()) -> BenchReport:
    """Benchmark package ``out_dir`` under QEMU on ``board`` (default: ``board`` of its ``model.json``).

    ``extra_cflags`` are appended to the board's flags (``("-DTQ_PORTABLE",)`` measures the
    portable kernels on a core with the DSP extension).

    See the package docstring for the method and formulas.  Raises :class:`TinyQatError` for a
    board without an emulated machine (``host``) or without a timing table, and
    :class:`ToolchainError` for missing tools (cross compiler, host ``gcc``, QEMU), QEMU
    without plugin support, a run longer than ``timeout_s`` seconds or a failing image.
    """
    out_dir = Path(out_dir).resolve()
    manifest = read_manifest(out_dir)
    target = load_board(board) if board else package_board(out_dir, manifest["board"])
    if extra_cflags:
        target = dataclasses.replace(target, cflags=(*target.cflags, *extra_cflags))
    if target.qemu_machine is None:
        raise TinyQatError(f"board {target.name!r} runs on the build machine, not in an emulator: benchmark a "
                           f"Cortex-M build (tinyqat build --board cortex-m4, or tinyqat bench --board cortex-m4)")
    timing = load_timing(target.cpu)
    qemu = find_qemu()
    name = manifest["name"]
    meta = manifest["layers"]
    with tempfile.TemporaryDirectory(prefix="tinyqat-bench-") as tmp:
        build_dir = Path(tmp)
        elf, package_objects = build_bench_image(target, out_dir, build_dir)
        blocks = count_blocks(qemu, target, elf, name, len(meta), timeout_s)
        insns = disassembly(target, elf)
        sections = section_sizes(target, package_objects)
        stack, chain, unknown, bounded = stack_usage(
            [obj.with_suffix(".ci") for obj in package_objects], f"{name}_invoke",
            asm_frames(insns, function_symbols(target, elf)))
    instructions = [0] * len(meta)
    cycles = [0] * len(meta)
    for block in blocks:
        missing = [pc for pc in block.pcs if pc not in insns]
        if missing:
            raise ToolchainError(f"executed address {missing[0]:#x} is not in the disassembly of {elf.name}")
        instructions[block.layer] += block.execs * len(block.pcs)
        cycles[block.layer] += (block.execs * block_cycles([insns[pc] for pc in block.pcs], timing)
                                + block.jumps * timing.refill)
    layers = tuple(LayerBench(i, m["name"], m["op"], int(m.get("macs", 0)), instructions[i], cycles[i])
                   for i, m in enumerate(meta))
    sizes = Sizes(code_bytes=sections["text"], const_bytes=sections["rodata"], data_bytes=sections["data"],
                  bss_bytes=sections["bss"], arena_bytes=int(manifest["arena_bytes"]), stack_bytes=stack,
                  stack_path=chain, stack_unknown=unknown, stack_bounded=bounded)
    return BenchReport(name, target.name, str(target.qemu_machine), timing, layers, sizes)
