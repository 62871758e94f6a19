"""Read and validate a generated package's ``model.json`` manifest (its name, board, tensors and layers).

Everything a command takes from the manifest is checked before use, with one line naming the
first problem: a JSON object of at most :data:`MAX_MANIFEST_BYTES`; ``name`` a C identifier
whose ``<name>.h`` and ``<name>.c`` are files of the package (so it can name neither a path nor
C code); ``board`` a string (resolved by :func:`tinyqat.boards.load_board`); ``source_sha256``
64 hex digits; ``input_shape`` 1 or 3 positive integers; ``arena_bytes`` a non-negative integer;
``tensors`` objects with a unique ``name`` and a ``shape`` (1 or 3 positive integers, at most
:data:`~tinyqat.target.MAX_TENSOR_BYTES` bytes); ``layers`` a non-empty list of objects with
``name`` and ``op`` strings, an ``output`` among the tensors and ``macs`` a non-negative integer;
``outputs`` (the model's outputs in order; absent before multi-output models, then the last layer's
output) a non-empty list of distinct tensor names.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from tinyqat.codegen.clit import C_IDENTIFIER
from tinyqat.errors import TinyQatError
from tinyqat.target import MAX_TENSOR_BYTES

MAX_MANIFEST_BYTES = 1 << 26


class ManifestError(TinyQatError):
    """A package's ``model.json`` is missing, unreadable or malformed."""


def _shape(value: Any) -> bool:
    return (isinstance(value, list) and len(value) in (1, 3)
            and all(type(d) is int and d >= 1 for d in value) and math.prod(value) <= MAX_TENSOR_BYTES)


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _problem(m: Any, out_dir: Path) -> str | None:
    """The first problem of manifest ``m`` (module docstring), or None."""
    if not isinstance(m, dict):
        return "not a JSON object"
    name = m.get("name")
    if not (isinstance(name, str) and C_IDENTIFIER.fullmatch(name)):
        return f"name {name!r} is not a C identifier"
    missing = [f for f in (f"{name}.h", f"{name}.c") if not (out_dir / f).is_file()]
    if missing:
        return f"name {name!r} does not match the package files ({missing[0]} is missing)"
    if not isinstance(m.get("board"), str):
        return f"board {m.get('board')!r} is not a string"
    if not (isinstance(m.get("source_sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", m["source_sha256"])):
        return "source_sha256 is not 64 hex digits"
    if not _shape(m.get("input_shape")):
        return f"input_shape {m.get('input_shape')!r} is not 1 or 3 positive integers"
    if not _count(m.get("arena_bytes")):
        return f"arena_bytes {m.get('arena_bytes')!r} is not a non-negative integer"
    tensors = m.get("tensors")
    if not (isinstance(tensors, list) and all(isinstance(t, dict) and isinstance(t.get("name"), str)
                                              and _shape(t.get("shape")) for t in tensors)):
        return "tensors must be a list of objects with a name and a shape"
    names = {t["name"] for t in tensors}
    if len(names) != len(tensors):
        return "tensors has duplicate names"
    layers = m.get("layers")
    if not (isinstance(layers, list) and layers):
        return "layers must be a non-empty list"
    for k, layer in enumerate(layers):
        if not (isinstance(layer, dict) and isinstance(layer.get("name"), str) and isinstance(layer.get("op"), str)
                and layer.get("output") in names and _count(layer.get("macs", 0))):
            return f"layer {k} is malformed (name, op, an output among the tensors, macs)"
    outputs = m.get("outputs", [layers[-1]["output"]])
    if not (isinstance(outputs, list) and outputs and all(isinstance(o, str) and o in names for o in outputs)
            and len(set(outputs)) == len(outputs)):
        return f"outputs {outputs!r} is not a non-empty list of distinct tensor names"
    return None


def model_outputs(manifest: dict) -> list[str]:
    """The output tensor names of a validated manifest, in the model's order (module docstring)."""
    return list(manifest.get("outputs", [manifest["layers"][-1]["output"]]))


def read_manifest(out_dir: Path) -> dict:
    """The validated ``model.json`` of package ``out_dir``; :class:`ManifestError` when it is missing or malformed."""
    path = out_dir / "model.json"
    if not path.is_file():  # not a FIFO or device either: reading those could block or never end
        raise ManifestError(f"{path}: no such file; is {out_dir} a tinyqat build output?")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read ({exc.strerror}); is {out_dir} a tinyqat build output?") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{path}: larger than {MAX_MANIFEST_BYTES} bytes; not a tinyqat manifest")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ManifestError(f"{path}: not valid JSON ({reason}); rebuild the package with tinyqat build") from None
    problem = _problem(manifest, out_dir)
    if problem is not None:
        raise ManifestError(f"{path}: {problem}; rebuild the package with tinyqat build")
    return manifest
