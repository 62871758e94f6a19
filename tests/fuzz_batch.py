"""Fuzzing many graphs per compile: one program (host under ASan/UBSan, or a bare-metal image under
QEMU) links the packages of a whole batch of random graphs, so a CI run covers hundreds of graphs
for the price of one compiler and one emulator start per target.

A graph is an :class:`Example` (seed, input shape, op plan), replayed by
:func:`runtime_graphs.fuzz_graph`; :func:`draw_examples` draws a batch from one integer seed.
Each package ``g<k>`` gets the unmodified ``templates/harness.c.j2`` (``harness_source``; its ``main`` renamed
``g<k>_harness``) and a generated ``main`` runs them in turn on ``in_<k>.bin`` / ``out_<k>.bin``.
Odd example seeds use ``optimize="speed"`` (the DSP conv int16 weight layout on cortex-m4).
A failing example is written to ``tests/regression/<target>-<seed>-<k>.json``, which
``test_fuzz.py`` replays as a named test in every later run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import runtime_graphs as rg

from tinyqat import ir
from tinyqat.boards import Board, load_board
from tinyqat.codegen.emit import emit_package
from tinyqat.memory.planner import GreedyPlanner
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain.compiler import run_compiler
from tinyqat.toolchain.harness import SANITIZE_CFLAGS, harness_source, split_layers
from tinyqat.toolchain.manifest import read_manifest
from tinyqat.toolchain.qemu import IMAGE_FLAGS, baremetal_support, find_qemu, run_image

REGRESSIONS = Path(__file__).parent / "regression"
SAMPLES = 3  # inputs per graph: random, with -128/127 first, and one of only -128/127
TARGETS = {  # target -> board whose kernels, planner scratch and weight layouts the packages use
    "host-asan": "host",
    "qemu-cortex-m4": "cortex-m4",  # the DSP kernels (TQ_USE_DSP)
    "qemu-cortex-m0plus": "cortex-m0plus",  # the Armv6-M kernels (TQ_USE_V6M)
}


@dataclass(frozen=True)
class Example:
    """One fuzz graph: numeric seed, input (H, W, C) and plan [(op kind, earlier tensor index)]."""

    seed: int
    shape: tuple[int, int, int]
    plan: tuple[tuple[str, int], ...]

    def graph(self) -> ir.Graph:
        return rg.fuzz_graph(self.seed, self.shape, list(self.plan))


def draw_examples(seed: int | tuple[int, ...], count: int) -> list[Example]:
    """``count`` examples from ``seed``: the distribution of the hypothesis target in test_fuzz.py
    (input 1..9 x 1..9 x 1..6, 1..8 ops of every kind reading any earlier tensor)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        shape = (int(rng.integers(1, 10)), int(rng.integers(1, 10)), int(rng.integers(1, 7)))
        plan = tuple((str(rng.choice(rg.KINDS)), int(rng.integers(0, 21))) for _ in range(int(rng.integers(1, 9))))
        out.append(Example(int(rng.integers(0, 2**32)), shape, plan))
    return out


def save_regression(target: str, example: Example, tag: str) -> Path:
    """Write ``example`` as ``tests/regression/<target>-<tag>.json`` (replayed by test_fuzz.py)."""
    REGRESSIONS.mkdir(exist_ok=True)
    path = REGRESSIONS / f"{target}-{tag}.json"
    path.write_text(json.dumps({"target": target, **asdict(example)}, indent=1) + "\n", encoding="utf-8")
    return path


def load_regression(path: Path) -> tuple[str, Example]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["target"], Example(data["seed"], tuple(data["shape"]), tuple(tuple(p) for p in data["plan"]))


def optimize_of(example: Example) -> str:
    """Half the examples (odd seeds) use ``optimize="speed"`` (the DSP conv's int16 weight layout on
    boards with DSP kernels; the same package elsewhere), so both layouts are fuzzed."""
    return "speed" if example.seed % 2 else "size"


def _emit(example: Example, graph: ir.Graph, out_dir: Path, name: str, board: Board) -> Path:
    out_dir.mkdir(parents=True)
    plan = GreedyPlanner(kernels=board.kernels).plan(graph)
    emit_package(graph, plan, board, name, out_dir, b"fuzz", rg.GENERATOR, optimize_of(example))
    return out_dir


def _harness(pkg: Path, name: str) -> str:
    text = harness_source(read_manifest(pkg))
    signature = "int main(int argc, char **argv)"
    assert text.count(signature) == 1
    return text.replace(signature, f"int {name}_harness(int argc, char **argv);\n\nint {name}_harness(int argc, "
                                   "char **argv)")


def _dispatcher(names: list[str]) -> str:
    """``main``: each model's harness on its own input and output file; exit 10 + k when model k fails."""
    lines = ["#include <stdio.h>", ""]
    lines += [f"int {n}_harness(int argc, char **argv);" for n in names]
    lines += ["", "int main(void)", "{", "    static char program[] = \"harness\";"]
    for k, n in enumerate(names):
        lines += ["    {", f"        static char in[] = \"in_{k}.bin\";",
                  f"        static char out[] = \"out_{k}.bin\";", "        char *argv[] = {program, in, out, NULL};",
                  f"        if ({n}_harness(3, argv) != 0) {{", f"            return {10 + k};", "        }", "    }"]
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


# Objects compiled in this process, by :func:`_object_key`: the per-example target (one graph per program)
# would otherwise recompile the same runtime files (and the same one-model ``main``) for every example.
_OBJECTS = tempfile.TemporaryDirectory(prefix="tinyqat-fuzz-objects-")
_INCLUDE = re.compile(rb'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def _object_key(cc: str, flags: list[str], source: Path) -> str:
    """What an object depends on: the compiler, the flags, the source and every header it includes with
    quotes, transitively (found beside the source, as the compiler finds them), as a SHA-256 hex digest."""
    digest = hashlib.sha256("\0".join([cc, *flags]).encode())
    pending, seen = [source], set()
    while pending:
        path = pending.pop()
        if path in seen or not path.exists():  # a missing header: the compiler reports it
            continue
        seen.add(path)
        text = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + text + b"\0")
        pending += [source.parent / name.decode() for name in _INCLUDE.findall(text)]
    return digest.hexdigest()


def _compile(cc: str, flags: list[str], source: str, obj: str, apt_package: str) -> None:
    """``source`` to ``obj``; a source compiled before in this process with the same inputs
    (:func:`_object_key`) is copied instead."""
    cached = Path(_OBJECTS.name) / f"{_object_key(cc, flags, Path(source))}.o"
    if not cached.exists():
        partial = cached.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        run_compiler(cc, [*flags, "-c", source, "-o", str(partial)], apt_package)
        partial.replace(cached)
    shutil.copyfile(cached, obj)


def _compile_and_link(cc: str, flags: list[str], sources: list[str], link_flags: list[str], exe: Path,
                      apt_package: str) -> None:
    """Compile each source to an object on every CPU in parallel (each source once per process:
    :func:`_compile`), then link them into ``exe``."""
    objects = [str(exe.parent / f"obj_{k}.o") for k in range(len(sources))]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda so: _compile(cc, flags, so[0], so[1], apt_package), zip(sources, objects, strict=True)))
    run_compiler(cc, [*flags, *objects, *link_flags, "-o", str(exe)], apt_package)


def run_batch(target: str, examples: list[Example], work: Path) -> list[str | None]:
    """Compile every example's package into one program for ``target``, run it once, and compare every
    layer of every example with the simulator: for each example ``None`` or the first mismatch."""
    board = load_board(TARGETS[target])
    graphs = [e.graph() for e in examples]
    names = [f"g{k}" for k in range(len(examples))]
    inputs = [rg.random_input(np.random.default_rng(e.seed), g, SAMPLES) for e, g in zip(examples, graphs, strict=True)]
    runtime: dict[str, Path] = {}
    sources = []
    for k, (graph, name) in enumerate(zip(graphs, names, strict=True)):
        pkg = _emit(examples[k], graph, work / name, name, board)
        (pkg / "harness.c").write_text(_harness(pkg, name), encoding="utf-8")
        sources += [str(pkg / f"{name}.c"), str(pkg / "harness.c")]
        for path in sorted(pkg.glob("tq_*.c")):
            runtime.setdefault(path.name, path)
        (work / f"in_{k}.bin").write_bytes(inputs[k].tobytes())
    (work / "main.c").write_text(_dispatcher(names), encoding="utf-8")
    sources += [str(p) for p in runtime.values()] + [str(work / "main.c")]
    exe = work / "fuzz.elf"
    if board.qemu_machine is None:
        _compile_and_link("gcc", [*STRICT_CFLAGS, "-O1", *SANITIZE_CFLAGS], sources, [], exe, "gcc")
        proc = subprocess.run([str(exe)], cwd=work, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, f"batch program failed with status {proc.returncode}:\n{proc.stderr[:4000]}"
    else:
        for fname, text in baremetal_support(board).items():
            (work / fname).write_text(text, encoding="utf-8")
        _compile_and_link(board.cc, [*board.cflags, *IMAGE_FLAGS, *STRICT_CFLAGS],
                          [*sources, str(work / "baremetal_startup.c")], [f"-T{work / 'baremetal.ld'}"], exe,
                          board.apt_package)
        run_image(find_qemu(), exe, board, (exe.name,), timeout_s=300)
    results: list[str | None] = []
    for k, (graph, name) in enumerate(zip(graphs, names, strict=True)):
        got = split_layers(read_manifest(work / name), (work / f"out_{k}.bin").read_bytes(), SAMPLES, name)
        expected = rg.reference_layers(graph, inputs[k])
        results.append(next((f"layer {i} '{op.name}' ({type(op).__name__}), sample {s}"
                             for i, op in enumerate(graph.ops) for s in range(SAMPLES)
                             if not np.array_equal(got[s][i], expected[i][s])), None))
    return results
