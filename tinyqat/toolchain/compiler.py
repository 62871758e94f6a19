"""Run C compilers on generated packages.

* :func:`run_compiler` runs any compiler (host ``gcc`` or a board's cross compiler) and turns
  a missing program or a failed compilation into a :class:`ToolchainError`.
* :func:`compile_shared` builds every ``*.c`` of a package into ``lib<name>.so`` with
  ``gcc -O2 -fPIC -shared`` and :data:`~tinyqat.target.STRICT_CFLAGS`; the package name comes
  from its ``model.json`` manifest.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tinyqat.errors import ToolchainError
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain.manifest import read_manifest

ERROR_LINES = 20
"""How many lines of a failing tool's output an error message quotes."""


def run_compiler(cc: str, args: Sequence[str], apt_package: str = "gcc") -> None:
    """Run ``cc args``; :class:`ToolchainError` when the compiler is missing (naming the Debian
    package that installs it) or fails (with its first error lines)."""
    if shutil.which(cc) is None:
        raise ToolchainError(f"C compiler {cc!r} not found; install it with: apt-get install {apt_package}")
    proc = subprocess.run([cc, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        head = "\n".join((proc.stderr or proc.stdout).splitlines()[:ERROR_LINES])
        raise ToolchainError(f"{cc} failed with status {proc.returncode}:\n{head}")


def package_sources(out_dir: Path) -> list[str]:
    """Paths of the package's ``*.c`` files, sorted."""
    return [str(p) for p in sorted(out_dir.glob("*.c"))]


def compile_shared(out_dir: Path, build_dir: Path, cc: str = "gcc", extra_flags: Sequence[str] = ()) -> Path:
    """Compile all ``*.c`` in package ``out_dir`` into ``build_dir/lib<name>.so`` and return its path."""
    name = read_manifest(out_dir)["name"]
    build_dir.mkdir(parents=True, exist_ok=True)
    so_path = build_dir / f"lib{name}.so"
    run_compiler(cc, [*STRICT_CFLAGS, "-O2", "-fPIC", "-shared", *extra_flags, *package_sources(out_dir),
                      "-o", str(so_path)])
    return so_path
