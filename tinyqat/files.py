"""Writing a user's output file without a race: the one way ``save`` and ``export`` install a file.

:func:`write_new_file` writes the bytes to a new temporary file beside ``path`` (mode ``0o666`` less
the umask, which is never changed), then gives it its name in one step: ``os.replace`` when
replacing is allowed; otherwise ``os.link``, which fails when ``path`` exists at that moment (no
window between a check and a replace), and the temporary name is removed.  On a file system without
hard links the file is created with ``O_EXCL`` and written in place (still never replacing a file;
removed again if writing fails).
"""

from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path


def write_new_file(path: Path, data: bytes, *, replace: bool) -> bool:
    """Install ``data`` as ``path`` (module docstring).  Returns ``False``, writing nothing, when ``path``
    exists and ``replace`` is false; ``True`` once the file is in place."""
    tmp = _create(path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp"), data)
    try:
        if replace:
            os.replace(tmp, path)
            return True
        try:
            try:
                os.link(tmp, path)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                _create(path, data)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _create(path: Path, data: bytes) -> Path:
    """Create ``path`` (which must not exist; mode 0o666 less the umask) holding ``data``; removed on failure."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
