"""A board profile is data read from a file: every malformed one is refused with one line
(:class:`BoardError`), never a traceback nor a compiler invocation with odd arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyqat.boards import BoardError, _parse
from tinyqat.resources import resource_dir

GOOD = (resource_dir("boards") / "cortex-m4.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("text", "needle"), [
    (GOOD[: len(GOOD) // 2] + '"', "cannot read board profile"),
    (b"\xff\xfe".decode("latin-1") + GOOD, "cannot read board profile"),
    ("", "missing key"),
    (GOOD + 'speed = "fast"\n', "unknown key 'speed'"),
    (GOOD.replace('name = "cortex-m4"', 'name = "cortex-m7"'), "differs from the file name"),
    (GOOD.replace("dsp = true", 'dsp = "yes"'), "'dsp' must be a bool"),
    (GOOD.replace('kernels = "dsp"', 'kernels = "neon"'), "must be one of"),
    (GOOD.replace("flash_bytes = ", "flash_bytes = -"), "must be positive"),
    (GOOD.replace("flash_bytes = ", "flash_bytes = 0 * "), "cannot read board profile"),
    (GOOD.replace('cflags = [', 'cflags = ["main.c", '), "'cflags' must be options"),
    (GOOD.replace('cflags = [', 'cflags = ["-O2 -o /tmp/x", '), "'cflags' must be options"),
    (GOOD.replace('cflags = [', 'cflags = [3, '), "'cflags' must be a list of strings"),
    (GOOD.replace('cc = "arm-none-eabi-gcc"', 'cc = "gcc; rm -rf x"'), "must be one word"),
    (GOOD.replace('qemu_machine = "mps2-an386"', 'qemu_machine = "mps2-an386 -d"'), "must be one word"),
], ids=["truncated", "not-utf8", "empty", "unknown-key", "name", "dsp-type", "kernels", "flash-negative",
        "not-toml", "cflag-file", "cflag-space", "cflag-int", "cc-shell", "qemu-space"])
def test_malformed_board_file_is_one_line(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "cortex-m4.toml"
    path.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode())
    with pytest.raises(BoardError) as info:
        _parse(path)
    assert needle in str(info.value) and "\n" not in str(info.value), str(info.value)


def test_shipped_board_files_parse() -> None:
    for path in sorted(resource_dir("boards").glob("*.toml")):
        assert _parse(path).name == path.stem
