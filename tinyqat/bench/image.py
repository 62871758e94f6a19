"""Compile and link the bench image: the package, ``templates/bench_harness.c.j2`` and the bare-metal startup.

Item 1 of :mod:`tinyqat.bench`: every source is compiled on its own with the board's flags,
:data:`~tinyqat.toolchain.qemu.IMAGE_FLAGS`, :data:`~tinyqat.target.STRICT_CFLAGS` and
``-fstack-usage -fcallgraph-info=su`` (the ``*.su`` / ``*.ci`` files the stack analysis reads),
then linked into ``bench.elf`` with the machine's linker script.
"""

from __future__ import annotations

from pathlib import Path

from tinyqat.boards import Board
from tinyqat.codegen.templates import render
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain.compiler import package_sources, run_compiler
from tinyqat.toolchain.manifest import read_manifest
from tinyqat.toolchain.qemu import IMAGE_FLAGS, baremetal_support


def build_bench_image(board: Board, out_dir: Path, build_dir: Path) -> tuple[Path, list[Path]]:
    """Compile the package (into ``build_dir/package``) and the harness, link ``bench.elf``;
    returns the ELF and the package's object files."""
    name = read_manifest(out_dir)["name"]
    support = {"bench_harness.c": render("bench_harness.c.j2", name=name, NAME=name.upper()),
               **baremetal_support(board)}
    for fname, text in support.items():
        (build_dir / fname).write_text(text, encoding="utf-8")
    (build_dir / "package").mkdir(exist_ok=True)
    flags = [*board.cflags, *IMAGE_FLAGS, *STRICT_CFLAGS, "-fstack-usage", "-fcallgraph-info=su", f"-I{out_dir}", "-c"]
    package_objects = []
    objects = []
    for source in [*map(Path, package_sources(out_dir)), build_dir / "bench_harness.c",
                   build_dir / "baremetal_startup.c"]:
        obj = (build_dir / "package" if source.parent == out_dir else build_dir) / f"{source.stem}.o"
        run_compiler(board.cc, [*flags, str(source), "-o", str(obj)], board.apt_package)
        objects.append(obj)
        if source.parent == out_dir:
            package_objects.append(obj)
    elf = build_dir / "bench.elf"
    run_compiler(board.cc, [*board.cflags, *IMAGE_FLAGS, *map(str, objects), f"-T{build_dir / 'baremetal.ld'}",
                            "-o", str(elf)], board.apt_package)
    return elf, package_objects
