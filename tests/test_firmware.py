"""The generated package in a firmware project: examples/firmware built with CMake and Make for
cortex-m4 (hard and soft float) and cortex-m0plus from a fresh ``tinyqat build --with-startup``, run
under QEMU and checked against the Python side; the build files' default flags (optimized, nothing
forced) and a default CMake build's instruction count against ``tinyqat bench``; placement of the
arena and weights in named sections; a caller-supplied arena shared by two models; the runtime
version and byte-order checks.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import require_tool
from torch import nn

import tinyqat
from tinyqat.bench import bench
from tinyqat.bench.binutils import function_symbols
from tinyqat.bench.plugin import count_blocks
from tinyqat.boards import load_board
from tinyqat.cli import main
from tinyqat.codegen.templates import render
from tinyqat.models import short_qat_artifact
from tinyqat.toolchain import qemu
from tinyqat.toolchain.manifest import read_manifest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "firmware"
M4_HARD = "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
M4_SOFT = "-mcpu=cortex-m4 -mthumb -mfloat-abi=soft"
M0PLUS = "-mcpu=cortex-m0plus -mthumb"


def _run(cmd: list[str], cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)
    if ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _arm_tools() -> None:
    for tool, package in (("arm-none-eabi-gcc", "gcc-arm-none-eabi"), ("qemu-system-arm", "qemu-system-arm"),
                          ("cmake", "cmake"), ("make", "make")):
        require_tool(tool, package)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Conv, depthwise, pointwise conv, max pool and linear layers on a 2-channel 8x8 input."""
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(2, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 5),
    )
    return short_qat_artifact(model, (2, 8, 8), tmp_path_factory.mktemp("fw_model") / "model.pt", seed=3)


@pytest.fixture(scope="module")
def packages(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``tinyqat build --with-startup`` for cortex-m4 and cortex-m0plus (through the command line)."""
    root = tmp_path_factory.mktemp("fw_packages")
    out = {}
    for board in ("cortex-m4", "cortex-m0plus"):
        result = CliRunner().invoke(main, ["build", str(model_path), "--board", board, "-o", str(root / board),
                                           "--with-startup"])
        assert result.exit_code == 0, result.output
        out[board] = root / board
    return out


def _project(tmp_path: Path, package: Path) -> Path:
    """A copy of examples/firmware with the package in its ``model`` folder."""
    project = tmp_path / "firmware"
    shutil.copytree(EXAMPLE, project)
    shutil.copytree(package, project / "model")
    return project


def _build_cmake(project: Path, cpu_flags: str, *defines: str) -> Path:
    _run(["cmake", "-S", ".", "-B", "build", "-DCMAKE_TOOLCHAIN_FILE=arm-none-eabi.cmake",
          f"-DCPU_FLAGS={cpu_flags}", *defines], project)
    _run(["cmake", "--build", "build"], project)
    return project / "build" / "firmware.elf"


def _build_make(project: Path, cpu_flags: str, cflags: str = "-g") -> Path:
    _run(["make", "-s", f"CPU_FLAGS={cpu_flags}", f"CFLAGS={cflags}"], project)
    return project / "build" / "firmware.elf"


def _check_output(stdout: str, model_path: Path, package: Path) -> None:
    """The firmware's three lines equal quantize_input, simulate and dequantize_output in Python."""
    lines = dict(line.split(":", 1) for line in stdout.strip().splitlines())
    manifest = read_manifest(package)
    h, w, c = manifest["input_shape"]
    i = np.arange(h * w * c)
    x = ((i * 37) % 256 - 128).astype(np.float32) * np.float32(0.01)  # main.c's input, NHWC order
    q = tinyqat.quantize_input(model_path, x)
    assert np.array_equal(np.array(lines["input"].split(), np.int64), q)
    y = tinyqat.simulate(model_path, q.reshape(1, h, w, c).transpose(0, 3, 1, 2)).reshape(-1)
    got = np.array(lines["output"].split(), np.int8)
    assert np.array_equal(got, y)
    bits = tinyqat.dequantize_output(model_path, got).view(np.uint32)
    assert lines["values"].split() == [f"{b:08x}" for b in bits]


def _emulate(elf: Path, board: str) -> str:
    return qemu.run_image(qemu.find_qemu(), elf, load_board(board), (elf.name,))


def _symbol_sections(elf: Path) -> dict[str, tuple[str, int]]:
    """name -> (section, address) of every symbol of ``elf`` (objdump -t)."""
    table = _run(["arm-none-eabi-objdump", "-t", str(elf)], elf.parent).stdout
    symbols = {}
    for line in table.splitlines():
        parts = line.split()
        if len(parts) >= 5 and re.fullmatch(r"[0-9a-f]{8}", parts[0]):
            symbols[parts[-1]] = (parts[-3], int(parts[0], 16))
    return symbols


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus"])
def test_example_firmware_with_cmake(board: str, packages: dict[str, Path], model_path: Path,
                                     tmp_path: Path) -> None:
    """The example built with CMake (default settings, the board's flags from the toolchain file) runs
    bit-exact under QEMU; the generated CMakeLists compiled the package at -O2 without -Werror or -mcpu."""
    _arm_tools()
    project = _project(tmp_path, packages[board])
    elf = _build_cmake(project, M4_HARD if board == "cortex-m4" else M0PLUS, "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON")
    commands = (project / "build" / "compile_commands.json").read_text()
    package_command = next(line for line in commands.splitlines() if '"command"' in line and "tinyqat_model.c" in line)
    assert "-O2" in package_command and "-std=c99" in package_command
    assert "-Werror" not in commands and "-pedantic" not in commands
    assert package_command.count("-mcpu=") == 1  # the toolchain file's, not the board profile's again
    _check_output(_emulate(elf, board), model_path, packages[board])


def test_soft_float_firmware_links_and_runs(packages: dict[str, Path], model_path: Path, tmp_path: Path) -> None:
    """A soft-float cortex-m4 firmware links (the package forces no float ABI) and, with the opt-in strict
    warnings and -Werror on, compiles clean; the float helpers give the same bits in soft float."""
    _arm_tools()
    project = _project(tmp_path, packages["cortex-m4"])
    elf = _build_cmake(project, M4_SOFT, "-DTINYQAT_WARNINGS_AS_ERRORS=ON")
    attributes = _run(["arm-none-eabi-readelf", "-A", str(elf)], tmp_path).stdout
    assert "Tag_ABI_VFP_args" not in attributes  # base (soft-float) calling convention
    _check_output(_emulate(elf, "cortex-m4"), model_path, packages["cortex-m4"])


def test_example_firmware_with_make_places_arena_and_weights(packages: dict[str, Path], model_path: Path,
                                                             tmp_path: Path) -> None:
    """Make build of the cortex-m4 firmware with the placement macros: the static arena and every weight
    array land in the linker script's .tinyqat_arena / .tinyqat_weights sections at the chosen
    alignments, and the firmware still runs bit-exact."""
    _arm_tools()
    project = _project(tmp_path, packages["cortex-m4"])
    placement = ("-DTINYQAT_MODEL_ARENA_SECTION='\".tinyqat_arena\"' -DTINYQAT_MODEL_ARENA_ALIGN=64 "
                 "-DTINYQAT_MODEL_WEIGHTS_SECTION='\".tinyqat_weights\"' -DTINYQAT_MODEL_WEIGHTS_ALIGN=16")
    elf = _build_make(project, M4_HARD, f"-g {placement}")
    symbols = _symbol_sections(elf)
    section, address = symbols["static_arena"]
    assert section == ".tinyqat_arena" and address % 64 == 0
    weights = {name: s for name, s in symbols.items() if re.fullmatch(r"l\d+_\w+_(weights|bias)\w*", name)}
    assert weights and all(s == (".tinyqat_weights", s[1]) and s[1] % 16 == 0 for s in weights.values()), weights
    _check_output(_emulate(elf, "cortex-m4"), model_path, packages["cortex-m4"])


def test_example_firmware_with_make_on_a_caller_arena(packages: dict[str, Path], model_path: Path,
                                                      tmp_path: Path) -> None:
    """Make build for cortex-m0plus with no static arena in the package: main.c's own buffer in
    .tinyqat_arena is the arena (tinyqat_model_set_arena), bit-exact under QEMU."""
    _arm_tools()
    project = _project(tmp_path, packages["cortex-m0plus"])
    elf = _build_make(project, M0PLUS, "-g -DTINYQAT_MODEL_NO_STATIC_ARENA -DEXAMPLE_CALLER_ARENA")
    symbols = _symbol_sections(elf)
    assert "static_arena" not in symbols and symbols["firmware_arena"][0] == ".tinyqat_arena"
    _check_output(_emulate(elf, "cortex-m0plus"), model_path, packages["cortex-m0plus"])


def test_default_cmake_build_executes_what_bench_measures(packages: dict[str, Path], tmp_path: Path) -> None:
    """A default-configured CMake build (no build type, no flags but the CPU's) of the bench harness runs
    within 10 % of `tinyqat bench`'s instruction count (it was 8.4x at -O0 before the build files
    optimized by default)."""
    _arm_tools()
    package = packages["cortex-m4"]
    board = load_board("cortex-m4")
    project = tmp_path / "bench"
    project.mkdir()
    (project / "bench_harness.c").write_text(render("bench_harness.c.j2", name="tinyqat_model", NAME="TINYQAT_MODEL"))
    (project / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(bench C)\n"
        f"add_subdirectory({package} tinyqat_model)\n"
        f"add_executable(bench.elf bench_harness.c {package}/baremetal/baremetal_startup.c)\n"
        "target_link_libraries(bench.elf PRIVATE tinyqat_model)\n"
        f"target_link_options(bench.elf PRIVATE -T{package}/baremetal/baremetal.ld)\n")
    shutil.copy(EXAMPLE / "arm-none-eabi.cmake", project)
    _run(["cmake", "-S", ".", "-B", "build", "-DCMAKE_TOOLCHAIN_FILE=arm-none-eabi.cmake",
          f"-DCPU_FLAGS={' '.join(board.cflags)}"], project)
    _run(["cmake", "--build", "build"], project)
    elf = project / "build" / "bench.elf"
    layers = len(read_manifest(package)["layers"])
    assert "tq_bench_layers" in function_symbols(board, elf)
    blocks = count_blocks(qemu.find_qemu(), board, elf, "tinyqat_model", layers, 120.0)
    cmake_instructions = sum(b.execs * len(b.pcs) for b in blocks)
    bench_instructions = sum(layer.instructions for layer in bench(package).layers)
    assert abs(cmake_instructions - bench_instructions) <= 0.10 * bench_instructions, \
        (cmake_instructions, bench_instructions)
