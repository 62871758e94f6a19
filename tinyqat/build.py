"""``tinyqat build``: artifact -> lowered graph -> arena plan -> C package in ``out_dir``.

The artifact is read once (its bytes are hashed, lowered and copied into the package).  The
package is rendered into a temporary sibling directory and installed with one atomic rename
(see :func:`_install`), so a failure never leaves a half-written output, nor any temporary
directory, nor parent directories it created.  An existing output directory is replaced only
with ``force=True`` and only when every file in it was written by tinyqat (listed in its
:data:`MANIFEST`); files tinyqat did not create are never deleted.

``out_dir`` is resolved first: a symbolic link is followed (the package goes to the directory it
points to, the link stays), ``..`` is collapsed.  The current directory, or one of its parents,
is refused (``-o .``): it cannot be renamed into place; name a subdirectory.

The flash check uses the code bytes of the runtime files measured with the board's cross compiler
when it is installed (:mod:`tinyqat.bench.codesize`), the measured table otherwise; the RAM check
counts what the chosen API needs (``api="invoke"``: the caller's input and output buffers too).
``with_startup`` also writes ``baremetal/baremetal_startup.c`` and ``baremetal/baremetal.ld``
(:func:`tinyqat.toolchain.qemu.baremetal_support`: vector table, reset handler, the memory map of
the board's QEMU machine), a bare-metal project to start from.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tinyqat import ir
from tinyqat.artifact import read_artifact
from tinyqat.bench.codesize import CODE_CFLAGS, kernel_code_bytes
from tinyqat.boards import PACKAGE_PROFILE, Board, is_profile_path, load_board, profile_text
from tinyqat.codegen.clit import check_identifier
from tinyqat.codegen.emit import emit_package, package_runtime_files
from tinyqat.codegen.layouts import check_optimize
from tinyqat.codegen.stats import API_CHOICES, MemorySummary, layer_flash_bytes, memory_summary
from tinyqat.errors import DoesNotFitError, TinyQatError, ToolchainError
from tinyqat.lower import lower
from tinyqat.memory.planner import GreedyPlanner, Plan, check_plan
from tinyqat.toolchain.qemu import baremetal_support
from tinyqat.version import __version__

MANIFEST = ".tinyqat-files"
GENERATOR = f"tinyqat {__version__}"


@dataclass(frozen=True)
class BuildResult:
    """What a build produced: the graph, its arena plan, the board and its RAM / flash budget."""

    out_dir: Path
    graph: ir.Graph
    plan: Plan
    board: Board
    memory: MemorySummary

    @property
    def weights_bytes(self) -> int:
        """Flash bytes of the constant arrays."""
        return self.memory.weights_bytes

    @property
    def arena_bytes(self) -> int:
        """RAM bytes of the arena (all activations, input and output included)."""
        return self.memory.arena_bytes


def board_memory(graph: ir.Graph, plan: Plan, board: Board, optimize: str = "size",
                 api: str = "invoke") -> MemorySummary:
    """The :class:`MemorySummary` of ``graph`` on ``board`` for ``api``, with the runtime files' code bytes
    measured with the board's compiler when it is installed (boards with a flash size), else from the table."""
    files = package_runtime_files(graph, plan, board, optimize)
    try:
        measured = kernel_code_bytes(board, files) if board.flash_bytes is not None else None
    except ToolchainError as exc:
        first = " ".join(line.strip() for line in str(exc).splitlines()[:2])
        raise TinyQatError(f"board {board.name!r}: its compiler cannot build the runtime with the profile's cflags "
                           f"{' '.join(board.cflags)!r} ({first}); fix cc / cflags in the profile") from None
    source = f"measured with {board.cc} {' '.join(CODE_CFLAGS)}" if measured is not None else ""
    return memory_summary(graph, plan, board, files, optimize, api, measured, source)


def check_fit(graph: ir.Graph, plan: Plan, board: Board, optimize: str = "size", api: str = "invoke",
              memory: MemorySummary | None = None) -> None:
    """Raise :class:`DoesNotFitError` when weights + code exceed flash or what ``api`` needs exceeds RAM.

    ``memory`` defaults to :func:`board_memory`.  The message gives the overshoot in bytes and the
    largest contributors: the three layers with the most flash bytes as shipped for ``optimize`` and
    the code (flash); the three largest tensors live at the peak layer, with the layer, and the
    caller's buffers of the invoke API (RAM).
    """
    memory = memory or board_memory(graph, plan, board, optimize, api)
    problems = []
    if memory.flash_headroom is not None and memory.flash_headroom < 0:
        per_layer = sorted(((layer_flash_bytes(op, graph, board, optimize), op.name) for op in graph.ops),
                           reverse=True)[:3]
        top = ", ".join(f"{name} {size} B" for size, name in per_layer)
        problems.append(
            f"weights {memory.weights_bytes} B + code {memory.code_bytes} B need {memory.flash_needed} B of "
            f"flash, {board.name} has {memory.flash_bytes} B (over by {-memory.flash_headroom} B; "
            f"largest: {top}, code {memory.code_bytes} B)"
        )
    if memory.ram_headroom is not None and memory.ram_headroom < 0:
        biggest = sorted(((size, name) for name, _, size in memory.peak_tensors), reverse=True)[:3]
        top = ", ".join(f"{name} {size} B" for size, name in biggest)
        buffers = (f" + the invoke API's input and output buffers {memory.io_buffer_bytes} B (--api zero-copy "
                   "keeps them in the arena)" if memory.io_buffer_bytes else "")
        problems.append(
            f"the arena needs {memory.arena_bytes} B of RAM{buffers}, {board.name} has {memory.ram_bytes} B "
            f"(over by {-memory.ram_headroom} B; peak at layer {memory.peak_step} ({memory.peak_layer}), "
            f"largest live tensors there: {top})"
        )
    if problems:
        raise DoesNotFitError("model does not fit: " + "; ".join(problems))


def check_destination(out_dir: Path, force: bool) -> None:
    """Refuse to touch ``out_dir`` unless it is absent, empty, or a tinyqat output and ``force``."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise TinyQatError(f"{out_dir} exists and is not a directory")
    entries = sorted(p.name for p in out_dir.iterdir())
    if not entries:
        return
    if not force:
        raise TinyQatError(f"{out_dir} already exists and is not empty; pass --force to replace a tinyqat output")
    try:
        owned = set((out_dir / MANIFEST).read_text(encoding="utf-8").split()) | {MANIFEST}
    except (OSError, UnicodeDecodeError):  # no readable list: nothing in it is known to be tinyqat's
        owned = set()
    foreign = [e for e in entries if e not in owned]
    if foreign:
        raise TinyQatError(
            f"{out_dir} contains files tinyqat did not create ({', '.join(foreign[:3])}); "
            "refusing to replace it, choose another output directory"
        )


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap the directories ``a`` and ``b`` (Linux ``renameat2(RENAME_EXCHANGE)``);
    False where the system or file system cannot."""
    libc = ctypes.util.find_library("c")
    renameat2 = getattr(ctypes.CDLL(libc, use_errno=True), "renameat2", None) if libc else None
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _install(tmp: Path, out_dir: Path) -> None:
    """Put the finished package ``tmp`` at ``out_dir`` in one atomic step.

    ``out_dir`` absent or empty: one ``rename`` (it replaces an empty directory).  A tinyqat
    output to replace: one ``renameat2(RENAME_EXCHANGE)`` swaps the two directories, then the
    old package (now at ``tmp``) is deleted; at every instant ``out_dir`` holds a complete
    package.  Where the exchange is unavailable (not Linux, or a file system without it) the old
    package is renamed aside and the new one renamed in, the old one put back if that fails:
    for that instant ``out_dir`` does not exist, but never holds a partial package.
    """
    if not out_dir.exists() or not any(out_dir.iterdir()):
        os.replace(tmp, out_dir)
        return
    if _exchange(tmp, out_dir):
        shutil.rmtree(tmp)
        return
    old = tmp.with_name(tmp.name + ".old")
    os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except OSError:
        os.replace(old, out_dir)
        raise
    shutil.rmtree(old)


def _destination(out_dir: Path) -> Path:
    """The absolute directory a package for ``-o out_dir`` is installed at (module docstring)."""
    target = out_dir.resolve()
    cwd = Path.cwd().resolve()
    if target == cwd or target in cwd.parents:
        raise TinyQatError(f"-o {out_dir} is the current directory or one of its parents; the package is installed by "
                           "renaming a directory into place, so name a subdirectory (e.g. -o out)")
    return target


def build(
    model_path: str | Path,
    out_dir: str | Path,
    *,
    board: str = "cortex-m4",
    name: str = "tinyqat_model",
    force: bool = False,
    optimize: str = "size",
    api: str = "invoke",
    with_startup: bool = False,
) -> BuildResult:
    """Lower ``model_path`` and write the C package for ``board`` into ``out_dir``.

    ``optimize``: ``"size"`` (default) ships int8 weights only; ``"speed"`` ships, for the DSP
    conv kernel, conv weights pre-extended to int16 (about twice their flash, faster inner
    loops; :mod:`tinyqat.codegen.layouts`).  ``api``: what the RAM check counts (``"invoke"``,
    default: the arena and the caller's input and output buffers; ``"zero-copy"``: the arena).
    ``with_startup``: also write ``baremetal/`` (startup file and linker script, see module docstring)."""
    check_optimize(optimize)
    if api not in API_CHOICES:
        raise TinyQatError(f"api must be one of {', '.join(API_CHOICES)}, not {api!r}")
    out_dir = Path(out_dir)
    target = load_board(board)
    check_identifier(name)
    if with_startup and target.qemu_machine is None:
        raise TinyQatError(f"--with-startup needs a board with a bare-metal memory map (qemu_machine in its "
                           f"profile); {target.name!r} has none")
    support = baremetal_support(target) if with_startup else {}
    dest = _destination(out_dir)
    check_destination(dest, force)
    artifact, source = read_artifact(model_path)
    graph = lower(artifact, hashlib.sha256(source).hexdigest())
    plan = GreedyPlanner(kernels=target.kernels).plan(graph)
    check_plan(graph, plan)
    memory = board_memory(graph, plan, target, optimize, api)
    check_fit(graph, plan, target, optimize, api, memory)
    missing = [p for p in (dest.parent, *dest.parent.parents) if not p.exists()]  # created here, removed on failure
    blocker = next((p for p in (dest.parent, *dest.parent.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise TinyQatError(f"cannot write to {dest.parent}: {blocker} is a file, not a directory")
    tmp = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
        tmp.chmod(0o755)
        emit_package(graph, plan, target, name, tmp, source, GENERATOR, optimize, memory)
        if is_profile_path(board):  # the package carries a user's profile (verify --emulate, bench read it)
            (tmp / PACKAGE_PROFILE).write_text(profile_text(board), encoding="utf-8")
        if support:
            (tmp / "baremetal").mkdir()
            for fname, text in support.items():
                (tmp / "baremetal" / fname).write_text(text, encoding="utf-8")
        files = sorted(p.name for p in tmp.iterdir())
        (tmp / MANIFEST).write_text("\n".join(files) + "\n", encoding="utf-8")
        _install(tmp, dest)
    except OSError as exc:
        raise TinyQatError(f"cannot write {out_dir}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp)
        if not dest.exists():
            for p in missing:  # innermost first
                with contextlib.suppress(OSError):
                    p.rmdir()
    return BuildResult(out_dir, graph, plan, target, memory)
