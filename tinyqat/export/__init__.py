"""Export of tinyqat's integer graph to other runtimes: TFLite flatbuffers (:mod:`tinyqat.export.tflite`)."""

from __future__ import annotations

from pathlib import Path

from tinyqat import ir
from tinyqat.api import load
from tinyqat.errors import TinyQatError
from tinyqat.export.tflite import to_tflite
from tinyqat.files import write_new_file


def export_tflite(model: str | Path | ir.Graph, path: str | Path, *, force: bool = False) -> Path:
    """Write the TFLite model of ``model`` (an artifact path or a lowered graph) to ``path``.

    The file holds the same integers as :func:`tinyqat.simulate` (:mod:`tinyqat.export.tflite`);
    an existing ``path`` is replaced only with ``force``, never by a race (:func:`tinyqat.files.write_new_file`).
    Returns ``path``.
    """
    path = Path(path)
    if path.exists() and not force:  # early, friendly; write_new_file is what guarantees it
        raise TinyQatError(f"{path} already exists; pass --force (force=True) to replace it")
    if path.is_dir():
        raise TinyQatError(f"{path} is a directory; give a file name such as model.tflite")
    if not path.parent.is_dir():
        raise TinyQatError(f"{path.parent} is not a directory; create it first")
    if not write_new_file(path, to_tflite(load(model)), replace=force):
        raise TinyQatError(f"{path} already exists; pass --force (force=True) to replace it")
    return path
