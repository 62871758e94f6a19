"""The deepest stack of a call graph from GCC's ``-fcallgraph-info=su`` files (item 5 of :mod:`tinyqat.bench`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from tinyqat.errors import ToolchainError


def stack_usage(callgraph_files: Iterable[Path], root: str) -> tuple[int, tuple[str, ...], tuple[str, ...], bool]:
    """Deepest stack from ``root`` over GCC ``-fcallgraph-info=su`` graphs (``*.ci``).

    Returns (bytes, the deepest call chain, callees without stack information, whether every
    reachable frame is static or bounded).  Recursion raises :class:`ToolchainError`.
    """
    frames: dict[str, int] = {}
    qualifiers: dict[str, str] = {}
    calls: dict[str, list[str]] = {}
    for path in callgraph_files:
        text = path.read_text(encoding="utf-8")
        for title, label in re.findall(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
            match = re.search(r"(\d+) bytes \(([^)]*)\)", label)
            if match:  # static functions of the same name in two files: keep the larger frame
                if int(match[1]) >= frames.get(title, 0):
                    qualifiers[title] = match[2]
                frames[title] = max(frames.get(title, 0), int(match[1]))
        for source, target in re.findall(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            calls.setdefault(source, []).append(target)

    def deepest(function: str, chain: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
        if function in chain:
            raise ToolchainError(f"recursive call {' -> '.join((*chain, function))}: the stack is unbounded")
        below = [deepest(callee, (*chain, function)) for callee in sorted(set(calls.get(function, ())))]
        depth, path = max(below, default=(0, ()))
        return frames.get(function, 0) + depth, (function, *path)

    if root not in frames:
        raise ToolchainError(f"no stack usage for {root} in the call graph")
    total, chain = deepest(root, ())
    reachable, todo = set(), [root]
    while todo:
        function = todo.pop()
        if function not in reachable:
            reachable.add(function)
            todo.extend(calls.get(function, ()))
    unknown = tuple(sorted(f for f in reachable if f not in frames))
    bounded = all(q == "static" or "bounded" in q for f, q in qualifiers.items() if f in reachable)
    return total, chain, unknown, bounded
