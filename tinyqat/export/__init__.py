"""Export of tinyqat's integer graph to other runtimes: TFLite flatbuffers (:mod:`tinyqat.export.tflite`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tinyqat import ir
from tinyqat.api import load
from tinyqat.errors import TinyQatError
from tinyqat.export.tflite import to_tflite


def export_tflite(model: str | Path | ir.Graph, path: str | Path, *, force: bool = False) -> Path:
    """Write the TFLite model of ``model`` (an artifact path or a lowered graph) to ``path``.

    The file holds the same integers as :func:`tinyqat.simulate` (:mod:`tinyqat.export.tflite`);
    an existing ``path`` is replaced only with ``force``.  Returns ``path``.
    """
    path = Path(path)
    if path.exists() and not force:
        raise TinyQatError(f"{path} already exists; pass --force (force=True) to replace it")
    if path.is_dir():
        raise TinyQatError(f"{path} is a directory; give a file name such as model.tflite")
    if not path.parent.is_dir():
        raise TinyQatError(f"{path.parent} is not a directory; create it first")
    data = to_tflite(load(model))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
