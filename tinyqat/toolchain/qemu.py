"""Build generated packages for a Cortex-M board and run them bare metal under QEMU.

* :func:`build_image` links ``templates/harness.c.j2`` (the same plain C99 stdio harness
  :func:`tinyqat.toolchain.harness.run_harness` uses), the package's ``*.c``,
  ``templates/baremetal_startup.c.j2`` and ``templates/baremetal.ld.j2`` into an ELF with the
  board's compiler and flags, newlib-nano and rdimon (semihosting: ``fopen``/``fread``/
  ``fwrite`` reach host files, ``exit(n)`` becomes the emulator's exit status).
* :func:`run_emulated` runs that image in ``qemu-system-arm -M <board.qemu_machine>`` and
  returns every layer's output for every sample, like ``run_harness``.
* :func:`run_image` runs any such image (also with extra QEMU arguments, as
  :mod:`tinyqat.bench` does with its instruction-counting TCG plugin).

Which machine runs which board is data (``qemu_machine`` in ``boards/*.toml``); the memory
map of each machine is in :data:`MACHINES`.  QEMU's mps2 and mps3 machines accept only their
own CPU, so no ``-cpu`` is passed: Cortex-M0+ code (Armv6-M, a subset of Armv7-M Thumb-2) runs on
the AN385's Cortex-M3, which unlike an M0+ tolerates unaligned word accesses; the MPS3 AN547 is a
Cortex-M55 with Helium (MVE).  The AN505's Cortex-M33 and the AN547's Cortex-M55 boot in Secure
state with their vector table at 0x10000000 (``INITSVTOR``), so their images are linked at the
Secure aliases of their code and data SRAM.

Every file name given to the emulator is relative to ``build_dir``, its working directory, so
host paths with spaces or commas need no quoting.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyqat.boards import Board
from tinyqat.codegen.templates import render
from tinyqat.errors import ToolchainError
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain.compiler import ERROR_LINES, package_sources, run_compiler
from tinyqat.toolchain.harness import harness_inputs, harness_source, split_layers
from tinyqat.toolchain.manifest import read_manifest

QEMU = "qemu-system-arm"
QEMU_APT_PACKAGE = "qemu-system-arm"
EMULATION_TIMEOUT_S = 120.0
IMAGE_FLAGS = ("-O2", "-ffp-contract=off", "--specs=nano.specs", "--specs=rdimon.specs")


@dataclass(frozen=True)
class Machine:
    """Memory map of a QEMU machine: code SRAM ("flash") and data SRAM, addresses and bytes; and, where
    the vector table must sit outside the code SRAM, the region it is read from at reset."""

    flash_origin: int
    flash_bytes: int
    ram_origin: int
    ram_bytes: int
    vectors_origin: int | None = None
    vectors_bytes: int | None = None


MACHINES: dict[str, Machine] = {
    # MPS2 AN385 (Cortex-M3), AN386 (Cortex-M4), AN500 (Cortex-M7): ZBT SSRAM1 4 MiB at 0x0,
    # ZBT SSRAM2/3 4 MiB at 0x20000000.
    "mps2-an385": Machine(0x00000000, 0x400000, 0x20000000, 0x400000),
    "mps2-an386": Machine(0x00000000, 0x400000, 0x20000000, 0x400000),
    "mps2-an500": Machine(0x00000000, 0x400000, 0x20000000, 0x400000),
    # MPS2 AN505 (Cortex-M33, TrustZone): Secure aliases of SSRAM1 (4 MiB at 0x10000000) and
    # SSRAM2/3 (4 MiB at 0x38000000).
    "mps2-an505": Machine(0x10000000, 0x400000, 0x38000000, 0x400000),
    # MPS3 AN547 (Cortex-M55, TrustZone): boots Secure and reads its vector table at 0x10000000, the
    # Secure alias of the ITCM (512 KiB, also at 0x0). Semihosting's SYS_HEAPINFO reports the largest
    # plain RAM, the ITCM at 0x0, and newlib's rdimon _start moves the stack to its top (0x80000),
    # where newlib's sbrk needs the heap (from `end`) below it: so data lives in the ITCM at
    # 0x400-0x80000 (after the vector table), code and constants in the Secure alias of the SRAM
    # (2 MiB at 0x11000000).
    "mps3-an547": Machine(0x11000000, 0x200000, 0x00000400, 0x7FC00, vectors_origin=0x10000000, vectors_bytes=0x400),
}


def machine_of(board: Board) -> Machine:
    """The memory map of ``board``'s QEMU machine; :class:`ToolchainError` when it has none."""
    if board.qemu_machine is None:
        raise ToolchainError(f"board {board.name!r} cannot be emulated (no qemu_machine in its profile)")
    if board.qemu_machine not in MACHINES:
        raise ToolchainError(f"board {board.name!r}: QEMU machine {board.qemu_machine!r} is not supported "
                             f"(supported: {', '.join(sorted(MACHINES))})")
    return MACHINES[board.qemu_machine]


def baremetal_support(board: Board) -> dict[str, str]:
    """``baremetal_startup.c`` and ``baremetal.ld`` for ``board``'s QEMU machine: file name -> text."""
    machine = machine_of(board)
    vectors = None if machine.vectors_origin is None else (f"{machine.vectors_origin:#010x}",
                                                           f"{machine.vectors_bytes:#x}")
    return {
        "baremetal_startup.c": render("baremetal_startup.c.j2"),
        "baremetal.ld": render("baremetal.ld.j2", machine=board.qemu_machine,
                               flash_origin=f"{machine.flash_origin:#010x}", flash_bytes=f"{machine.flash_bytes:#x}",
                               ram_origin=f"{machine.ram_origin:#010x}", ram_bytes=f"{machine.ram_bytes:#x}",
                               vectors=vectors),
    }


def build_image(out_dir: Path, build_dir: Path, board: Board) -> Path:
    """Link package ``out_dir`` with the harness into ``build_dir/harness.elf`` for ``board``.

    Flags: ``board.cflags``, :data:`IMAGE_FLAGS` (``-O2 -ffp-contract=off``, newlib-nano,
    rdimon semihosting) and :data:`~tinyqat.target.STRICT_CFLAGS` for every source,
    startup included.  A missing compiler raises :class:`ToolchainError` naming
    ``board.apt_package``.
    """
    manifest = read_manifest(out_dir)
    build_dir.mkdir(parents=True, exist_ok=True)
    generated = {"harness.c": harness_source(manifest), **baremetal_support(board)}
    for fname, text in generated.items():
        (build_dir / fname).write_text(text, encoding="utf-8")
    elf = build_dir / "harness.elf"
    run_compiler(board.cc, [*board.cflags, *IMAGE_FLAGS, *STRICT_CFLAGS, f"-I{out_dir}", *package_sources(out_dir),
                            str(build_dir / "harness.c"), str(build_dir / "baremetal_startup.c"),
                            f"-T{build_dir / 'baremetal.ld'}", "-o", str(elf)], board.apt_package)
    return elf


def find_qemu() -> str:
    """Absolute path of :data:`QEMU`; :class:`ToolchainError` naming its Debian package when missing."""
    qemu = shutil.which(QEMU)
    if qemu is None:
        raise ToolchainError(f"emulator {QEMU!r} not found; install it with: apt-get install {QEMU_APT_PACKAGE}")
    return qemu


def run_image(qemu: str, elf: Path, board: Board, argv: Sequence[str], extra_args: Sequence[str] = (),
              timeout_s: float = EMULATION_TIMEOUT_S) -> str:
    """Run image ``elf`` in emulator ``qemu -M <board.qemu_machine>`` with semihosting arguments ``argv``;
    returns what the image wrote to its standard output (semihosting).

    The working directory is ``elf``'s folder (``argv`` and file names in ``extra_args``, such
    as ``-plugin`` arguments, are relative to it).  A run longer than ``timeout_s`` seconds or
    a non-zero exit status raises :class:`ToolchainError` with the emulator's first lines.
    """
    args = ",".join(f"arg={a}" for a in argv)
    command = [qemu, "-M", str(board.qemu_machine), "-nographic", "-monitor", "none",
               "-semihosting-config", f"enable=on,target=native,{args}", *extra_args, "-kernel", elf.name]
    try:
        proc = subprocess.run(command, cwd=elf.parent, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"{QEMU} -M {board.qemu_machine} timed out after {timeout_s:g} s") from None
    if proc.returncode != 0:
        head = "\n".join((proc.stderr + proc.stdout).splitlines()[:ERROR_LINES])
        raise ToolchainError(f"{QEMU} -M {board.qemu_machine}: the image exited with status {proc.returncode}"
                             + (f":\n{head}" if head else ""))
    return proc.stdout


def run_emulated(out_dir: Path, build_dir: Path, inputs: np.ndarray, board: Board,
                 timeout_s: float = EMULATION_TIMEOUT_S) -> list[list[np.ndarray]]:
    """Run every layer of package ``out_dir`` on each sample of ``inputs`` under QEMU.

    Same contract as :func:`tinyqat.toolchain.harness.run_harness`: ``inputs`` is int8 of shape
    ``(N, *input_shape)``; the result is ``[sample][layer]`` arrays shaped like the layers'
    output tensors.  The image is built with :func:`build_image`.  A missing emulator, a run
    longer than ``timeout_s`` seconds (wall clock, boot included) or a non-zero exit status
    (harness errors 1-4, CPU faults 100 + exception number) raise :class:`ToolchainError`.
    """
    qemu = find_qemu()
    manifest = read_manifest(out_dir)
    x = harness_inputs(manifest, inputs)
    elf = build_image(out_dir, build_dir, board)
    in_name, out_name = "emulated_in.bin", "emulated_out.bin"
    (build_dir / in_name).write_bytes(x.tobytes())
    (build_dir / out_name).unlink(missing_ok=True)
    run_image(qemu, elf, board, (elf.name, in_name, out_name), timeout_s=timeout_s)
    return split_layers(manifest, (build_dir / out_name).read_bytes(), x.shape[0], "emulated harness")
