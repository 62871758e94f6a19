"""Read the bench image and object files with the cross binutils (``nm``, ``objdump``, ``size``).

Function symbols locate the layer entry and the harness loop for the counting plugin; the
disassembly gives every executed instruction's mnemonic for the cost model; section sizes
of the package's objects give flash and static RAM (item 5 of :mod:`tinyqat.bench`).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from tinyqat.boards import Board
from tinyqat.errors import ToolchainError


def _tool(board: Board, name: str) -> str:
    """The binutils program ``name`` (objdump, size) next to ``board.cc`` (``arm-none-eabi-gcc``)."""
    return board.cc.removesuffix("gcc") + name


def _output(command: Sequence[str], apt_package: str) -> str:
    """Stdout of ``command``; :class:`ToolchainError` when it is missing or fails."""
    try:
        proc = subprocess.run(list(command), capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ToolchainError(f"{command[0]!r} not found; install it with: apt-get install {apt_package}") from None
    if proc.returncode != 0:
        raise ToolchainError(f"{command[0]} failed with status {proc.returncode}: {proc.stderr.strip()[:500]}")
    return proc.stdout


def function_symbols(board: Board, elf: Path) -> dict[str, tuple[int, int]]:
    """Defined function symbols of ``elf``: name -> (address without the Thumb bit, size in bytes)."""
    symbols = {}
    for line in _output([_tool(board, "nm"), "-S", "--defined-only", str(elf)], board.apt_package).splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "Tt":
            symbols[parts[3]] = (int(parts[0], 16) & ~1, int(parts[1], 16))
    return symbols


# objdump decodes Helium (MVE) instructions only when told the architecture: by default it prints
# their encodings as coprocessor instructions (LDC, CDP). Other cores keep objdump's default.
OBJDUMP_ARCH = {"cortex-m55": "armv8.1-m.main", "cortex-m85": "armv8.1-m.main"}


def disassembly(board: Board, elf: Path) -> dict[int, tuple[str, str]]:
    """Every instruction of ``elf``'s code: address -> (mnemonic, operands) (:data:`OBJDUMP_ARCH`)."""
    arch = [f"-m{OBJDUMP_ARCH[board.cpu]}"] if board.cpu in OBJDUMP_ARCH else []
    listing = _output([_tool(board, "objdump"), "-d", *arch, "--no-show-raw-insn", str(elf)], board.apt_package)
    insns = {}
    for match in re.finditer(r"^\s*([0-9a-f]+):\t(\S+)[ \t]*([^\n@;]*)", listing, re.MULTILINE):
        insns[int(match[1], 16)] = (match[2].lower(), match[3].strip())
    return insns


def section_sizes(board: Board, objects: Iterable[Path]) -> dict[str, int]:
    """Summed section sizes of ``objects`` by kind: ``text``, ``rodata``, ``data``, ``bss``."""
    sizes = dict.fromkeys(("text", "rodata", "data", "bss"), 0)
    for obj in objects:
        for line in _output([_tool(board, "size"), "-A", str(obj)], board.apt_package).splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0].startswith("."):
                kind = parts[0][1:].split(".")[0]
                if kind in sizes:
                    sizes[kind] += int(parts[1])
    return sizes
