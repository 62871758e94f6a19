"""Bare metal under QEMU: every Cortex-M board's build equals the simulator bit for bit, and a
crashing, hanging or unrunnable image is a :class:`ToolchainError`, never a hang.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import require_tool
from test_models import random_convnet

import tinyqat
from tinyqat.boards import board_names, load_board
from tinyqat.cli import main
from tinyqat.errors import TinyQatError, ToolchainError
from tinyqat.models import short_qat_artifact
from tinyqat.toolchain import qemu
from tinyqat.toolchain.manifest import read_manifest

CORTEX_M = [b for b in board_names() if b != "host"]


def _require_arm_tools() -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A QAT conv net with conv, max pool, standalone ReLU and linear layers (random_convnet seed 6)."""
    model, shape = random_convnet(6)
    path = tmp_path_factory.mktemp("qemu_model") / "model.pt"
    short_qat_artifact(model, shape, path, seed=6)
    return path


@pytest.fixture(scope="module")
def m4_package(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qemu_m4") / "out"
    tinyqat.build(model_path, out, board="cortex-m4")
    return out


def _one_sample(package: Path) -> np.ndarray:
    """One all-zero int8 input for ``package`` (channels last, batch of 1)."""
    return np.zeros((1, *read_manifest(package)["input_shape"]), np.int8)


def test_every_cortex_m_board_has_an_emulated_machine() -> None:
    assert {"cortex-m0plus", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"} <= set(CORTEX_M)
    for name in CORTEX_M:
        assert load_board(name).qemu_machine in qemu.MACHINES, name


@pytest.mark.parametrize("board", CORTEX_M)
def test_emulated_build_is_bit_exact(board: str, model_path: Path, tmp_path: Path) -> None:
    _require_arm_tools()
    tinyqat.build(model_path, tmp_path / "out", board=board)
    report = tinyqat.verify(tmp_path / "out", emulate=True, n_random=3)
    assert report.ok, report.mismatch
    assert report.samples == 6 and report.layers >= 4


def test_cli_verify_emulate(m4_package: Path) -> None:
    _require_arm_tools()
    result = CliRunner().invoke(main, ["verify", str(m4_package), "--emulate", "-n", "2"])
    assert result.exit_code == 0, result.output
    assert "bit-exact" in result.output and "QEMU" in result.output


@pytest.mark.parametrize(("body", "error"), [
    ("for (;;) {\n    }", "timed out after 2 s"),  # hangs before main()
    ("*(volatile unsigned *)0xFFFFFFF0u = 0u;", "exited with status 103"),  # bus fault -> HardFault (100 + 3)
], ids=["hang", "fault"])
def test_broken_image_is_a_toolchain_error(body: str, error: str, m4_package: Path, tmp_path: Path) -> None:
    """An image that hangs or faults (here in a constructor, before main()) ends as ToolchainError."""
    _require_arm_tools()
    package = shutil.copytree(m4_package, tmp_path / "pkg")
    (package / "broken.c").write_text(
        "static void broken(void) __attribute__((constructor));\n"
        f"static void broken(void)\n{{\n    {body}\n}}\n", encoding="utf-8")
    with pytest.raises(ToolchainError, match=error):
        qemu.run_emulated(package, tmp_path / "build", _one_sample(package), load_board("cortex-m4"), timeout_s=2)


def test_host_board_is_refused(model_path: Path, tmp_path: Path) -> None:
    tinyqat.build(model_path, tmp_path / "out", board="host")
    with pytest.raises(TinyQatError, match="'host', which runs on the build machine"):
        tinyqat.verify(tmp_path / "out", emulate=True, n_random=1)


def test_missing_tools_name_their_package(m4_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    board = dataclasses.replace(load_board("cortex-m4"), cc="arm-none-eabi-gcc-absent")
    with pytest.raises(ToolchainError, match="apt-get install gcc-arm-none-eabi"):
        qemu.build_image(m4_package, tmp_path, board)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match="apt-get install qemu-system-arm"):
        qemu.run_emulated(m4_package, tmp_path, _one_sample(m4_package), load_board("cortex-m4"))
