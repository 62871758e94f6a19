"""Flash bytes of the ``tq_*`` runtime files compiled for a board (the code part of ``tinyqat build``'s
flash check and report).

Each file is compiled on its own with the board's compiler and flags plus :data:`CODE_CFLAGS` (``-O2``,
the level the generated CMake / Make files use by default, and C99) and measured as
``.text + .rodata + .data`` of its object file (``size -A``).  A file guarded out on that core (a
``_dsp`` companion on an Armv6-M core, the portable file on a DSP core) measures 0.  Results are cached
per process by compiler, flags and the contents of the file and the runtime headers.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from tinyqat.bench.binutils import section_sizes
from tinyqat.boards import Board
from tinyqat.resources import resource_dir
from tinyqat.toolchain.compiler import run_compiler

CODE_CFLAGS = ("-O2", "-std=c99")


@functools.cache
def _file_bytes(board: Board, fname: str, digest: str) -> int:
    """Bytes of runtime file ``fname`` (contents ``digest``) compiled for ``board``."""
    del digest  # part of the cache key only
    runtime = resource_dir("runtime_c")
    with tempfile.TemporaryDirectory(prefix="tinyqat-codesize-") as tmp:
        obj = Path(tmp) / "kernel.o"
        run_compiler(board.cc, [*board.cflags, *CODE_CFLAGS, f"-I{runtime}", "-c", str(runtime / fname),
                                "-o", str(obj)], board.apt_package)
        sizes = section_sizes(board, [obj])
    return sizes["text"] + sizes["rodata"] + sizes["data"]


def kernel_code_bytes(board: Board, files: Iterable[str], extra_cflags: Sequence[str] = ()) -> dict[str, int] | None:
    """``{file: bytes}`` of runtime ``files`` compiled for ``board`` (its flags plus ``extra_cflags``);
    ``None`` when the board's compiler is not installed."""
    if shutil.which(board.cc) is None:
        return None
    if extra_cflags:
        board = dataclasses.replace(board, cflags=(*board.cflags, *extra_cflags))
    runtime = resource_dir("runtime_c")
    headers = b"".join(p.read_bytes() for p in sorted(runtime.glob("*.h")))
    return {f: _file_bytes(board, f, hashlib.sha256(headers + (runtime / f).read_bytes()).hexdigest())
            for f in files}
