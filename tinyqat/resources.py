"""Locate the data directories shipped with tinyqat (``templates/``, ``runtime_c/``, ``boards/``).

In a source checkout they sit at the repository's top level (the design card); in an
installed wheel they are copied to ``tinyqat/_resources/<name>`` (see ``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
RESOURCE_NAMES = ("templates", "runtime_c", "boards")


def resource_dir(name: str) -> Path:
    """Directory of shipped resource ``name`` (one of :data:`RESOURCE_NAMES`)."""
    if name not in RESOURCE_NAMES:
        raise ValueError(f"unknown resource {name!r}")
    for candidate in (_PACKAGE / "_resources" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"tinyqat resource directory {name!r} not found; the installation is incomplete")


def data_file(name: str) -> Path:
    """A file from ``tinyqat/data`` (bundled datasets)."""
    return _PACKAGE / "data" / name
