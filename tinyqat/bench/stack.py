"""The deepest stack of a call graph from GCC's ``-fcallgraph-info=su`` files (item 5 of :mod:`tinyqat.bench`).

Two things GCC's graph leaves out are filled in:

* **Frames of naked functions** (the kernels' assembly blocks): GCC reports 0 bytes for them; their frame is
  read from their instructions (:func:`asm_frames`: the deepest running sum of ``push`` / ``vpush`` / ``sub sp``
  less ``pop`` / ``vpop`` / ``add sp`` in address order).
* **Calls through a pointer** (``__indirect_call``: a kernel's ``dsp_path``, a block chosen per layer): each
  is taken as a call of the deepest file-local (``static``) function nothing in the graph calls directly (the
  functions reached only by their address), of the caller's own file when the caller is file-local, of the
  caller's kernel's files (``tq_<kind>_s8*.c``, :func:`kernel_family`) when it is a global kernel entry point
  (:func:`_pointer_targets`), other than those on the chain. An upper bound for code whose pointer targets
  are such functions, called from their own file or from their kernel's entry point, as the runtime's are
  (``tq_conv2d_s8`` reaches ``tq_conv2d_s8_pw8.c``'s path, never ``tq_depthwise_conv2d_s8_rows5.c``'s), with
  one exception the rule does not see: the DSP conv's file-local walks call the speed build's blocks of
  ``tq_conv2d_s8_speed.c`` by pointer, bounded only because those blocks' frames are no deeper than the
  int8 block's of the walks' own file that the rule takes instead (both naked 4 x 2 blocks).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from tinyqat.errors import ToolchainError

INDIRECT = "__indirect_call"


def _registers(operands: str) -> int:
    """Registers in a register list such as ``{r4-r11, lr}`` or ``{d8-d15}``."""
    count = 0
    for item in operands.strip("{} ").split(","):
        bounds = re.findall(r"\d+", item)
        count += int(bounds[1]) - int(bounds[0]) + 1 if "-" in item and len(bounds) == 2 else 1
    return count


def _sp_change(mnemonic: str, operands: str) -> int:
    """Bytes one instruction moves sp down (negative: up); 0 for any other instruction."""
    op = mnemonic.split(".")[0]
    if op in ("push", "pop", "vpush", "vpop") or (op in ("stmdb", "ldmia", "ldm") and operands.startswith("sp!")):
        registers = _registers(operands[operands.index("{"):]) if "{" in operands else 0
        size = 8 if op.startswith("v") and "d" in operands else 4
        return registers * size * (1 if op in ("push", "vpush", "stmdb") else -1)
    match = re.fullmatch(r"sp,\s*(?:sp,\s*)?#(\d+)", operands)
    if match and op in ("sub", "subw", "add", "addw"):
        return int(match[1]) * (1 if op.startswith("sub") else -1)
    return 0


def asm_frames(insns: Mapping[int, tuple[str, str]], symbols: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    """Each function's frame in bytes from its instructions (``insns``: address -> (mnemonic, operands);
    ``symbols``: name -> (address, size)): the deepest running sum of its stack pointer moves in address order."""
    addresses = sorted(insns)
    frames = {}
    for name, (start, size) in symbols.items():
        depth = deepest = 0
        for address in addresses[bisect.bisect_left(addresses, start):bisect.bisect_left(addresses, start + size)]:
            depth += _sp_change(*insns[address])
            deepest = max(deepest, depth)
        frames[name] = deepest
    return frames


def kernel_family(source: str) -> str | None:
    """The runtime kernel a source file belongs to, ``tq_<kind>_s8`` (``tq_conv2d_s8`` for ``tq_conv2d_s8_dsp.c``
    and ``.../tq_conv2d_s8_pw8.c``; ``tq_conv2d_s4_s8`` for the 4-bit conv's), None for other files."""
    match = re.match(r"(tq_[a-z0-9_]+?_s8)(?:_|$)", Path(source).stem)
    return match[1] if match else None


def _pointer_targets(caller: str, by_address: Iterable[str], files: Mapping[str, str]) -> list[str]:
    """What a call through a pointer in ``caller`` may reach: the file-local functions reached only by their
    address (``by_address``) of the caller's own file when it is file-local (a kernel's blocks); when it is
    global (a kernel's entry point, which calls its ``dsp_path``), those of its kernel's files
    (:func:`kernel_family` of its file, ``files``: function -> source file), or of any file when its file is of
    no kernel."""
    if ":" in caller:
        prefix = caller.rsplit(":", 1)[0] + ":"
        return [f for f in by_address if f.startswith(prefix)]
    family = kernel_family(files.get(caller, ""))
    if family is None:
        return list(by_address)
    return [f for f in by_address if kernel_family(files.get(f, "")) == family]


def stack_usage(callgraph_files: Iterable[Path], root: str, asm: Mapping[str, int] | None = None,
                ) -> tuple[int, tuple[str, ...], tuple[str, ...], bool]:
    """Deepest stack from ``root`` over GCC ``-fcallgraph-info=su`` graphs (``*.ci``).

    ``asm``: frames from the instructions by plain function name (:func:`asm_frames`), used for the
    functions GCC reports with 0 bytes (naked functions). Returns (bytes, the deepest call chain,
    callees without stack information, whether every reachable frame is static or bounded).  Recursion
    through direct calls raises :class:`ToolchainError`.
    """
    asm = asm or {}
    frames: dict[str, int] = {}
    files: dict[str, str] = {}  # function -> its source file (the label's location)
    qualifiers: dict[str, str] = {}
    calls: dict[str, list[str]] = {}
    for path in callgraph_files:
        text = path.read_text(encoding="utf-8")
        for title, label in re.findall(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
            match = re.search(r"(\d+) bytes \(([^)]*)\)", label)
            lines = label.split("\\n")
            if len(lines) > 1:
                files[title] = lines[1].rsplit(":", 2)[0]
            if match:  # static functions of the same name in two files: keep the larger frame
                frame = int(match[1]) or asm.get(label.split("\\n")[0], 0)
                if frame >= frames.get(title, 0):
                    qualifiers[title] = match[2]
                frames[title] = max(frames.get(title, 0), frame)
        for source, target in re.findall(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            calls.setdefault(source, []).append(target)
    called = {target for targets in calls.values() for target in targets}
    by_address = sorted(f for f in frames if f not in called and ":" in f)  # file-local, reached by address
    memo: dict[tuple[str, tuple[str, ...]], tuple[int, tuple[str, ...]]] = {}

    def deepest(function: str, chain: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        if function in chain:
            raise ToolchainError(f"recursive call {' -> '.join((*chain, function))}: the stack is unbounded")
        key = (function, tuple(sorted(set(chain) & set(by_address))))  # what the chain excludes below
        if key not in memo:
            callees = set(calls.get(function, ()))
            if INDIRECT in callees:
                callees = (callees - {INDIRECT}) | {f for f in _pointer_targets(function, by_address, files)
                                                    if f not in (*chain, function)}
            below = [deepest(callee, (*chain, function)) for callee in sorted(callees)]
            depth, path = max(below, default=(0, ()))
            memo[key] = (frames.get(function, 0) + depth, (function, *path))
        return memo[key]

    if root not in frames:
        raise ToolchainError(f"no stack usage for {root} in the call graph")
    total, chain = deepest(root, ())
    reachable, todo = set(), [root]
    while todo:
        function = todo.pop()
        if function not in reachable:
            reachable.add(function)
            todo.extend(by_address if function == INDIRECT else calls.get(function, ()))
    unknown = tuple(sorted(f for f in reachable if f not in frames and f != INDIRECT))
    bounded = all(q == "static" or "bounded" in q for f, q in qualifiers.items() if f in reachable)
    return total, chain, unknown, bounded
