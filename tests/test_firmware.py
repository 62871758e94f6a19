"""The generated package in a firmware project: examples/firmware built with CMake and Make for
cortex-m4 (hard and soft float) and cortex-m0plus from a fresh ``tinyqat build --with-startup``, run
under QEMU and checked against the Python side; the build files' default flags (optimized, nothing
forced) and a default CMake build's instruction count against ``tinyqat bench``; placement of the
arena and weights in named sections; a caller-supplied arena shared by two models; the runtime
version and byte-order checks.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import cffi
import numpy as np
import pytest
import runtime_graphs as rg
import torch
from click.testing import CliRunner
from conftest import require_tool
from test_codegen import _expected_two_models, _two_models
from torch import nn

import tinyqat
from tinyqat import fixedpoint, ir
from tinyqat.bench import bench
from tinyqat.bench.binutils import function_symbols
from tinyqat.bench.codesize import kernel_code_bytes
from tinyqat.bench.plugin import count_blocks
from tinyqat.boards import load_board, package_board
from tinyqat.cli import main
from tinyqat.codegen import stats
from tinyqat.codegen.emit import emit_package, package_kernels_h, package_runtime_files, runtime_id
from tinyqat.codegen.templates import render
from tinyqat.models import short_qat_artifact
from tinyqat.resources import resource_dir
from tinyqat.target import RUNTIME_VERSION, STRICT_CFLAGS
from tinyqat.toolchain import qemu
from tinyqat.toolchain.compiler import compile_shared
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


# ------------------------------------------------------------------ host: helpers, arena, checks


def _io_graph(scale: float) -> ir.Graph:
    """A 16x16x1 input (256 values) with ``scale`` and zero point -3, through a lookup table."""
    x = ir.Tensor("x", (16, 16, 1), ir.QParams(scale, -3))
    return rg.chain(x, [rg.lookup(np.random.default_rng(4), "l", x)])


@pytest.mark.parametrize("scale", [0.25, 0.0123])
def test_quantize_helpers_equal_python(scale: float, tmp_path: Path, gcc: str) -> None:
    """<name>_quantize_input equals tinyqat.quantize_input on ties (x / scale = k + 1/2, both ways),
    saturation, infinities, signed zeros, denormals and random values; <name>_dequantize_output equals
    tinyqat.dequantize_output on every int8 value."""
    graph = _io_graph(scale)
    out = rg.emit(graph, tmp_path / "pkg")
    ffi = cffi.FFI()
    ffi.cdef("void net_quantize_input(const float *input, int8_t *output);"
             "void net_dequantize_output(const int8_t *output, float *values);")
    lib = ffi.dlopen(str(compile_shared(out, tmp_path / "build")))
    rng = np.random.default_rng(0)
    halves = (np.arange(-600, 600, dtype=np.float32) + np.float32(0.5)) * np.float32(scale)
    special = np.array([np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 3e38, -3e38, 383.9 * scale, 384 * scale,
                        -384 * scale, 126.5 * scale, 127.5 * scale, 130.5 * scale, -124.5 * scale, -125.5 * scale],
                       np.float32)
    values = np.concatenate([halves, special, rng.normal(0, 60 * scale, 2000).astype(np.float32)])
    values = np.concatenate([values, np.zeros(-values.size % 256, np.float32)]).reshape(-1, 256)
    for chunk in values:
        got = np.empty(256, np.int8)
        lib.net_quantize_input(ffi.from_buffer("float[]", chunk), ffi.from_buffer("int8_t[]", got))
        np.testing.assert_array_equal(got, tinyqat.quantize_input(graph, chunk))
    y = np.arange(-128, 128, dtype=np.int8)  # 256 = the output's size
    got = np.empty(256, np.float32)
    lib.net_dequantize_output(ffi.from_buffer("int8_t[]", y), ffi.from_buffer("float[]", got))
    assert got.tobytes() == tinyqat.dequantize_output(graph, y).tobytes()


SHARED_ARENA_MAIN = """
#include <stdio.h>
#include "alpha.h"
#include "beta.h"

#define MAX(a, b) ((a) > (b) ? (a) : (b))
static int32_t shared[MAX(ALPHA_ARENA_SIZE, BETA_ARENA_SIZE) / 4 + 1];

""" + rg.TWO_MODEL_MAIN_PROLOGUE + """\
    if (alpha_input() != NULL || alpha_run() != -1 || alpha_invoke(a_in, a_out) != -1 || alpha_run_layer(0) != -1) {
        return 1; /* no arena yet */
    }
    if (alpha_set_arena((char *)shared + 1, sizeof shared - 4) != -1
        || alpha_set_arena(shared, ALPHA_ARENA_SIZE - 1) != -1) {
        return 2; /* misaligned, too small */
    }
    if (alpha_set_arena(shared, sizeof shared) != 0 || beta_set_arena(shared, sizeof shared) != 0) {
        return 3;
    }
    if (alpha_invoke(a_in, a_out) != 0 || beta_invoke(b_in, b_out) != 0) {
        return 4;
    }
    dump(a_out, ALPHA_OUTPUT_SIZE);
    dump(b_out, BETA_OUTPUT_SIZE);
    if (alpha_invoke(a_in, a_out) != 0) {
        return 5;
    }
    dump(a_out, ALPHA_OUTPUT_SIZE);
    return 0;
}
"""


def test_two_models_share_a_caller_arena(tmp_path: Path, gcc: str) -> None:
    """Two packages without static arenas run, one after the other, on one caller buffer of the larger
    ARENA_SIZE; set_arena refuses misaligned or small memory, and nothing runs before it is set."""
    alpha, beta = _two_models(tmp_path)
    (tmp_path / "main.c").write_text(SHARED_ARENA_MAIN)
    sources = [str(p) for d in ("pkg_alpha", "pkg_beta") for p in sorted((tmp_path / d).glob("*.c"))
               if d == "pkg_alpha" or not p.name.startswith("tq_")]
    _run([gcc, *STRICT_CFLAGS, "-O2", "-DALPHA_NO_STATIC_ARENA", "-DBETA_NO_STATIC_ARENA", "-Ipkg_alpha",
          "-Ipkg_beta", "main.c", *sources, "-o", "prog"], tmp_path)
    proc = _run([str(tmp_path / "prog")], tmp_path)
    expected = _expected_two_models(alpha, beta)
    assert proc.stdout == expected + expected.splitlines()[0] + "\n"


def test_make_fragment_flags_are_the_users(tmp_path: Path) -> None:
    """The Make fragment adds C99, -O2 and its include directory by default; TINYQAT_OPTIMIZE replaces
    -O2, the strict warnings with -Werror and the board's CPU flags are opt-in."""
    require_tool("make", "make")
    rg.emit(rg.random_model(np.random.default_rng(1)), tmp_path / "pkg", board="cortex-m4")
    (tmp_path / "Makefile").write_text("include pkg/net.mk\nprint:\n\t@echo $(NET_CFLAGS)\n")

    def flags(*settings: str) -> list[str]:
        return _run(["make", "-s", "print", *settings], tmp_path).stdout.split()

    default = flags()
    assert default == ["-std=c99", "-O2", "-Ipkg"]
    assert flags("TINYQAT_OPTIMIZE=-Os -g") == ["-std=c99", "-Os", "-g", "-Ipkg"]
    assert flags("TINYQAT_WARNINGS_AS_ERRORS=1") == ["-std=c99", "-O2", *STRICT_CFLAGS, "-Ipkg"]
    assert flags("TINYQAT_BOARD_FLAGS=1") == ["-std=c99", "-O2", *load_board("cortex-m4").cflags, "-Ipkg"]


def _assert_make_and_cmake_refuse_both(tmp_path: Path, make_says: str) -> None:
    """A Makefile including pkg_alpha's and pkg_beta's fragments, and a CMake project adding both
    directories, stop with an error (Make's containing ``make_says``)."""
    (tmp_path / "Makefile").write_text("include pkg_alpha/alpha.mk\ninclude pkg_beta/beta.mk\nall:\n\t@true\n")
    proc = _run(["make", "-s"], tmp_path, ok=False)
    assert proc.returncode != 0 and make_says in proc.stderr
    (tmp_path / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.13)\nproject(two C)\n"
                                             "add_subdirectory(pkg_alpha)\nadd_subdirectory(pkg_beta)\n")
    proc = _run(["cmake", "-S", ".", "-B", "build", "-DCMAKE_C_COMPILER=gcc"], tmp_path, ok=False)
    assert proc.returncode != 0 and "rebuild every model with one tinyqat version" in proc.stderr


def test_packages_of_two_runtime_versions_are_refused(tmp_path: Path, gcc: str) -> None:
    """A model compiled against another version's tq_kernels.h stops with #error; CMake and Make refuse
    to put models of two runtime versions in one program."""
    require_tool("make", "make")
    require_tool("cmake", "cmake")
    _two_models(tmp_path)
    version = str(RUNTIME_VERSION)
    beta = tmp_path / "pkg_beta"
    kernels_h = (beta / "tq_kernels.h").read_text()
    (beta / "tq_kernels.h").write_text(kernels_h.replace(f"#define TQ_RUNTIME_VERSION {version}",
                                                         "#define TQ_RUNTIME_VERSION 99"))
    proc = _run([gcc, *STRICT_CFLAGS, "-c", str(beta / "beta.c"), "-o", str(tmp_path / "beta.o")], tmp_path, ok=False)
    assert proc.returncode != 0 and "needs the tq_* runtime files of its own package" in proc.stderr
    for fname in ("beta.mk", "CMakeLists.txt"):  # as another version writes them
        text = (beta / fname).read_text()
        assert len(re.findall(rf"\b{version}\b", text)) >= 3
        (beta / fname).write_text(re.sub(rf"\b{version}\b", "99", text))
    _assert_make_and_cmake_refuse_both(tmp_path, f"another included model has {version}")


def test_runtime_fingerprint_names_the_runtime_files(tmp_path: Path) -> None:
    """runtime_id changes with any runtime file's bytes or name and with nothing else; the package's
    tq_kernels.h is the runtime's with TQ_RUNTIME_ID added after TQ_RUNTIME_VERSION."""
    runtime = resource_dir("runtime_c")
    copy = tmp_path / "copy"
    shutil.copytree(runtime, copy)
    assert runtime_id(copy) == runtime_id(runtime)
    changed = tmp_path / "changed"
    shutil.copytree(runtime, changed)
    source = changed / "tq_add_s8.c"
    source.write_bytes(source.read_bytes() + b"\n")
    renamed = tmp_path / "renamed"
    shutil.copytree(runtime, renamed)
    (renamed / "tq_add_s8.c").rename(renamed / "tq_add_s8_x.c")
    assert len({runtime_id(runtime), runtime_id(changed), runtime_id(renamed)}) == 3
    original = (runtime / "tq_kernels.h").read_text()
    shipped = package_kernels_h(runtime)
    assert "#define TQ_RUNTIME_ID" not in original
    lines = shipped.splitlines()
    at = lines.index(f"#define TQ_RUNTIME_ID 0x{runtime_id(runtime)}u")  # after a comment line, after the version
    assert lines[at - 2] == f"#define TQ_RUNTIME_VERSION {RUNTIME_VERSION}" and lines[at - 1].startswith("/*")
    assert lines[:at - 1] + lines[at + 1:] == original.splitlines()
    broken = tmp_path / "broken"
    shutil.copytree(runtime, broken)
    (broken / "tq_kernels.h").write_text(original.replace("#define TQ_RUNTIME_VERSION", "#define TQ_OTHER"))
    with pytest.raises(ValueError, match="does not define TQ_RUNTIME_VERSION"):
        package_kernels_h(broken)


def test_packages_of_two_builds_of_one_version_are_refused(tmp_path: Path, gcc: str) -> None:
    """Two packages of one runtime version whose runtime files differ (two development builds): the
    model stops with #error against the other's tq_kernels.h; CMake and Make refuse to mix them."""
    require_tool("make", "make")
    require_tool("cmake", "cmake")
    _two_models(tmp_path)
    beta = tmp_path / "pkg_beta"
    fingerprint = runtime_id(resource_dir("runtime_c"))
    other = f"{(int(fingerprint, 16) + 1) % (1 << 32):08x}"
    for fname in ("beta.c", "beta.h", "beta.mk", "CMakeLists.txt"):  # as the other build writes them
        text = (beta / fname).read_text()
        assert fingerprint in text
        (beta / fname).write_text(text.replace(fingerprint, other))
    proc = _run([gcc, *STRICT_CFLAGS, "-c", str(beta / "beta.c"), "-o", str(tmp_path / "beta.o")], tmp_path, ok=False)
    assert proc.returncode != 0 and "comes from another tinyqat build of this version" in proc.stderr
    _assert_make_and_cmake_refuse_both(tmp_path, f"another included model has {RUNTIME_VERSION}-{fingerprint}")


def test_cortex_m_kernels_refuse_big_endian(tmp_path: Path) -> None:
    """The DSP kernels stop with #error on a big-endian target; the portable build compiles there."""
    cc = require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    runtime = resource_dir("runtime_c")
    source = str(runtime / "tq_conv2d_s8_dsp.c")
    flags = [*load_board("cortex-m4").cflags, "-mbig-endian", "-std=c99", f"-I{runtime}", "-c", "-o",
             str(tmp_path / "k.o")]
    proc = _run([cc, *flags, source], tmp_path, ok=False)
    assert proc.returncode != 0 and "need a little-endian target" in proc.stderr
    _run([cc, *flags, "-DTQ_PORTABLE", str(runtime / "tq_conv2d_s8.c")], tmp_path)


# ------------------------------------------------------------------ boards and --with-startup


def test_user_board_profile(model_path: Path, tmp_path: Path) -> None:
    """`boards --show` prints a profile; edited and passed as --board my.toml it builds (the package keeps a
    copy for verify and bench); a profile with several bad fields is one line naming each, exit 2."""
    runner = CliRunner()
    shown = runner.invoke(main, ["boards", "--show", "cortex-m4"])
    assert shown.exit_code == 0 and shown.output == (resource_dir("boards") / "cortex-m4.toml").read_text()
    mine = tmp_path / "my-m4.toml"
    mine.write_text(shown.output.replace('name = "cortex-m4"', 'name = "my-m4"')
                    .replace("ram_bytes = 131072", "ram_bytes = 65536"))
    result = runner.invoke(main, ["build", str(model_path), "--board", str(mine), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "RAM headroom on my-m4 (invoke API) |" in (tmp_path / "out" / "report.md").read_text()
    assert (tmp_path / "out" / "board.toml").read_text() == mine.read_text()
    assert package_board(tmp_path / "out", "my-m4").ram_bytes == 65536
    _arm_tools()
    report = tinyqat.verify(tmp_path / "out", emulate=True, n_random=1)  # reads the package's board.toml
    assert report.ok, report.mismatch
    bad = tmp_path / "bad.toml"
    bad.write_text(shown.output.replace("ram_bytes = 131072", "ram_bytes = -1").replace('kernels = "dsp"',
                   'kernels = "fast"').replace("dsp = true", 'dsp = "yes"') + "clock_hz = 1\n")
    result = runner.invoke(main, ["build", str(model_path), "--board", str(bad), "-o", str(tmp_path / "bad_out")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    for problem in ("unknown key 'clock_hz'", "'dsp' must be a bool", "'ram_bytes' must be positive",
                    "'kernels' must be one of"):
        assert problem in result.output
    broken = tmp_path / "broken.toml"  # valid fields, but flags the compiler refuses
    broken.write_text(shown.output.replace("-mfpu=fpv4-sp-d16", "-mfpu=nonsense"))
    result = runner.invoke(main, ["build", str(model_path), "--board", str(broken), "-o", str(tmp_path / "o3")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "cannot build the runtime with the profile's cflags" in result.output and "nonsense" in result.output
    missing = runner.invoke(main, ["build", str(model_path), "--board", str(tmp_path / "nope.toml"), "-o",
                                   str(tmp_path / "o2")])
    assert missing.exit_code == 2 and "not found" in missing.output
    assert not any((tmp_path / d).exists() for d in ("bad_out", "o2", "o3"))


def test_with_startup_needs_a_memory_map(model_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(model_path), "--board", "host", "-o", str(tmp_path / "out"),
                                       "--with-startup"])
    assert result.exit_code == 2 and "--with-startup needs a board with a bare-metal memory map" in result.output
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ code and weight bytes of the fit check


def test_kernel_code_table_is_measured() -> None:
    """stats.KERNEL_CODE_BYTES (the fallback without a cross compiler) lists every runtime file and stays
    within 10 % of a fresh measurement per kernel family (scripts/measure_kernel_code.py regenerates it)."""
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    files = sorted(p.name for p in resource_dir("runtime_c").glob("tq_*.c"))
    families = {"dsp": ("cortex-m4", ()), "v6m": ("cortex-m0plus", ()), "mve": ("cortex-m55", ()),
                "portable": ("cortex-m4", ("-DTQ_PORTABLE",))}
    for family, (board, extra) in families.items():
        table = stats.KERNEL_CODE_BYTES[family]
        assert sorted(table) == files, family
        measured = kernel_code_bytes(load_board(board), files, extra)
        assert measured is not None
        assert abs(sum(measured.values()) - sum(table.values())) <= 0.10 * sum(measured.values()), family


def _row_path_depthwise_model(rng: np.random.Generator) -> ir.Graph:
    """3x3 (strides 1 and 2) and 5x5 depthwise layers with fused output stages (the DSP row path ships their
    channel records), and a 5x5 one too narrow for it (its four arrays)."""
    x = ir.Tensor("input", (9, 14, 6), rg.random_qparams(rng))
    steps: list[tuple[ir.IntOp, ir.Tensor]] = []
    for k, (kernel, stride, pad) in enumerate([(3, 1, 1), (3, 2, 1), (5, 1, 2), (5, 2, 2)]):
        op, y = rg.depthwise(rng, f"d{k}", steps[-1][1] if steps else x, 1, (kernel, kernel), (stride, stride),
                             (pad, pad, pad, pad))
        pairs = [fixedpoint.quantize_multiplier(float(r)) for r in 10 ** rng.uniform(-4, -1, y.shape[2])]
        op = dataclasses.replace(op, bias=rng.integers(-(2**12), 2**12, y.shape[2]).astype(np.int32),
                                 multiplier=np.array([q for q, _ in pairs], np.int32),
                                 shift=np.array([s for _, s in pairs], np.int32))
        steps.append((op, y))
    return rg.chain(x, steps)


@pytest.mark.parametrize("optimize", ["size", "speed"])
@pytest.mark.parametrize("model", ["residual", "depthwise"])
def test_flash_bytes_are_the_compiled_ones(optimize: str, model: str, tmp_path: Path) -> None:
    """report.md's per-layer flash for cortex-m4 and the mode equals the bytes of the layer's arrays in
    the compiled object (depthwise layers on the DSP row path: their channel records), and the code line is
    measured with the board's compiler."""
    cc = require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    from tinyqat.build import board_memory
    from tinyqat.memory import planner
    from tinyqat.memory.planner import GreedyPlanner

    board = load_board("cortex-m4")
    graph = (rg.residual_model if model == "residual" else _row_path_depthwise_model)(np.random.default_rng(8))
    if model == "depthwise":  # three row-path layers (records), one pixel-loop layer (5x5, out_w 4 < 6)
        assert [planner.scratch_bytes(op, graph) > 0 for op in graph.ops] == [True, True, True, False]
    plan = GreedyPlanner(kernels=board.kernels).plan(graph)
    memory = board_memory(graph, plan, board, optimize)
    out = tmp_path / "pkg"
    out.mkdir()
    emit_package(graph, plan, board, "net", out, b"artifact", "g", optimize, memory)
    obj = tmp_path / "net.o"
    _run([cc, *board.cflags, "-O2", "-std=c99", f"-I{out}", "-c", str(out / "net.c"), "-o", str(obj)], tmp_path)
    arrays: dict[int, int] = {}
    for line in _run(["arm-none-eabi-objdump", "-t", str(obj)], tmp_path).stdout.splitlines():
        match = re.search(r"\s([0-9a-f]{8})\s+l(\d+)_\w+$", line)
        if match and ".rodata" in line and not line.endswith("_params"):
            arrays[int(match[2])] = arrays.get(int(match[2]), 0) + int(match[1], 16)
    report = (out / "report.md").read_text()
    for i, op in enumerate(graph.ops):
        shipped = stats.layer_flash_bytes(op, graph, board, optimize)
        assert arrays.get(i, 0) == shipped, (i, op.name)
        assert re.search(rf"^\| {i} \| {re.escape(op.name)} \|.*\| {shipped} \|", report, re.MULTILINE), op.name
    # the code of every runtime file the package ships, its DSP paths and speed blocks included (the fit check
    # once counted only the ops' kernel files: VWW's speed package ran 52 KB over its estimate)
    shipped = sorted(path.name for path in out.glob("tq_*.c"))
    assert shipped == package_runtime_files(graph, plan, board, optimize)
    if (optimize, model) == ("speed", "residual"):  # the speed blocks' file besides the ops' kernels
        assert set(shipped) - set(stats.model_kernel_files(graph))
    measured = kernel_code_bytes(board, shipped)
    assert memory.code_bytes == stats.code_bytes(graph, shipped, "dsp", measured)
    assert f"runtime files measured with arm-none-eabi-gcc -O2 -std=c99, model code estimated | {memory.code_bytes} |" \
        in report
