"""Read a generated package's ``model.json`` manifest (its name, board, tensors and layers)."""

from __future__ import annotations

import json
from pathlib import Path

from tinyqat.errors import ToolchainError


def read_manifest(out_dir: Path) -> dict:
    """The package's ``model.json``; :class:`ToolchainError` when it is missing or malformed."""
    path = out_dir / "model.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ToolchainError(f"{path}: not a tinyqat package ({exc})") from None
