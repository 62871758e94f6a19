"""The built-in demo, shortened: trains, builds, verifies; C accuracy equals the simulator's."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import require_tool

from tinyqat.demo import run_demo
from tinyqat.errors import TinyQatError


def test_short_demo_end_to_end(tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    lines: list[str] = []
    result = run_demo(tmp_path / "out", fp32_epochs=1, qat_epochs=1, echo=lines.append)
    assert result.int8_c == result.int8_sim
    assert result.fp32 > 0.8 and result.int8_sim > 0.8
    assert abs(result.int8_sim - result.fake_quant) <= 0.01
    assert (tmp_path / "out" / "model.pt").is_file() and (tmp_path / "out" / "report.md").is_file()
    assert any("int8 C (gcc)" in line for line in lines)
    with pytest.raises(TinyQatError, match="already exists"):
        run_demo(tmp_path / "out", fp32_epochs=1, qat_epochs=1, echo=lines.append)
    require_tool("qemu-system-arm", "qemu-system-arm")
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    assert any(line.startswith("per-layer verification on cortex-m4 (arm-none-eabi-gcc, QEMU mps2-an386, DSP kernels)")
               for line in lines), lines
