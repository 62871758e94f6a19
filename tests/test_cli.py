"""The ``tinyqat`` command line: every user error is exit status 2 (1 for a verification
mismatch), one ``error: ...`` line on stderr naming the problem, no traceback, and no change
to the file system; successful builds are byte-identical and verify bit-exact.

Most cases run in process with :class:`click.testing.CliRunner`; a few run ``python -m tinyqat``
in a subprocess to check the real exit status and stderr.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner, Result
from conftest import require_tool
from torch import nn

import tinyqat
from tinyqat.cli import main

BOARDS = ("host", "cortex-m0plus", "cortex-m0plus-512k", "cortex-m4", "cortex-m4-2m", "cortex-m7", "cortex-m33",
          "cortex-m55")
INPUT_SHAPE = (1, 8, 8)
M0PLUS_FLASH = 131072


# ---------------------------------------------------------------------------------------------
# helpers


def _calibrated_qat(model: nn.Module, input_shape: tuple[int, ...], seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    qat = tinyqat.prepare_qat(model, example_inputs=(torch.randn(1, *input_shape, generator=g),))
    tinyqat.calibrate(qat, [torch.randn(8, *input_shape, generator=g) for _ in range(3)])
    return qat


def _small_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 8), nn.ReLU(), nn.Linear(8, 5),
    )


def snapshot(root: Path) -> dict[str, tuple[str, int, bytes]]:
    """Every entry under ``root`` (itself included): kind, permission bits and file bytes."""
    entries = {}
    for p in [root, *sorted(root.rglob("*"))]:
        st = p.lstat()
        rel = str(p.relative_to(root))
        if p.is_dir():
            entries[rel] = ("dir", st.st_mode & 0o7777, b"")
        elif p.is_file():
            entries[rel] = ("file", st.st_mode & 0o7777, p.read_bytes())
        else:  # a named pipe or device: its identity, never its content (reading could block)
            entries[rel] = ("other", st.st_mode, str(st.st_ino).encode())
    return entries


def cli(*args: str | Path) -> Result:
    """Run the CLI in process (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_error(result: Result, status: int, *needles: str) -> str:
    """Exit ``status``, nothing on stdout, exactly one ``error: ...`` line on stderr containing
    every needle (case-insensitive), no traceback; returns the message."""
    assert result.exit_code == status, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    message = lines[0]
    assert message.startswith("error: "), message
    for needle in needles:
        assert needle.lower() in message.lower(), (needle, message)
    return message


def run_module(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m tinyqat ARGS`` in a subprocess that imports the same tinyqat as the tests."""
    env = dict(os.environ)
    package_parent = str(Path(tinyqat.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    env.pop("TINYQAT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "tinyqat", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def assert_subprocess_error(proc: subprocess.CompletedProcess[str], status: int, *needles: str) -> None:
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), (needle, lines[0])


class Evil:
    """Unpickling this object creates the file ``path`` (through builtins.open)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.path, "w"))


# ---------------------------------------------------------------------------------------------
# fixtures (built once per module)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli_store")


@pytest.fixture(scope="module")
def model_path(store: Path) -> Path:
    """A calibrated conv+bn+relu+pool+flatten+linear+relu+linear model on 1x8x8 inputs."""
    path = store / "model.pt"
    tinyqat.save(_calibrated_qat(_small_net(), INPUT_SHAPE), path)
    return path


@pytest.fixture(scope="module")
def big_model_path(store: Path) -> Path:
    """About 140 KB of weights: fits cortex-m4, not cortex-m0plus's 128 KiB of flash."""
    torch.manual_seed(1)
    net = nn.Sequential(nn.Flatten(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 10))
    path = store / "big.pt"
    tinyqat.save(_calibrated_qat(net, (1, 16, 16), seed=1), path)
    return path


@pytest.fixture(scope="module")
def built(store: Path, model_path: Path) -> Path:
    """``tinyqat build model.pt --board cortex-m4`` output (do not modify; copy it first)."""
    out = store / "built"
    result = cli("build", model_path, "--board", "cortex-m4", "-o", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture()
def work(tmp_path: Path, model_path: Path) -> Path:
    """A scratch directory holding a copy of the model and an unrelated file."""
    shutil.copy(model_path, tmp_path / "model.pt")
    (tmp_path / "notes.txt").write_text("keep me\n")
    return tmp_path


# ---------------------------------------------------------------------------------------------
# build: bad models


def _truncated(work: Path) -> Path:
    data = (work / "model.pt").read_bytes()
    path = work / "truncated.pt"
    path.write_bytes(data[: len(data) // 2])
    return path


def _random_bytes(work: Path) -> Path:
    path = work / "random.pt"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    return path


def _state_dict(work: Path) -> Path:
    path = work / "state_dict.pt"
    torch.save(_small_net().state_dict(), path)
    return path


def _pickled_module(work: Path) -> Path:
    path = work / "module.pt"
    torch.save(_small_net(), path)
    return path


def _version_99(work: Path) -> Path:
    artifact = torch.load(work / "model.pt", weights_only=True)
    artifact["version"] = 99
    path = work / "v99.pt"
    torch.save(artifact, path)
    return path


@pytest.mark.parametrize(
    ("make", "needles"),
    [
        (lambda w: w / "missing.pt", ("missing.pt", "no such file")),
        (_truncated, ("truncated.pt", "truncated")),
        (_random_bytes, ("random.pt", "not a tinyqat artifact")),
        (_state_dict, ("state_dict.pt", "plain state_dict", "tinyqat.save")),
        (_pickled_module, ("module.pt", "pickled module", "torch.nn.modules.container.Sequential")),
        (_version_99, ("v99.pt", "version 99", "upgrade tinyqat")),
    ],
    ids=["missing", "truncated", "random-bytes", "state-dict", "pickled-module", "version-99"],
)
def test_build_rejects_bad_model(work: Path, make, needles: tuple[str, ...]) -> None:
    model = make(work)
    before = snapshot(work)
    assert_error(cli("build", model, "-o", work / "out"), 2, *needles)
    assert snapshot(work) == before


@pytest.mark.parametrize("container", ["torch-zip", "raw-pickle"])
def test_build_never_unpickles_code(tmp_path: Path, container: str) -> None:
    marker, control = tmp_path / "PWNED", tmp_path / "control-ran"
    payload = {"format": "tinyqat.artifact", "version": 1, "nodes": [], "x": Evil(marker)}
    evil, control_file = tmp_path / "evil.pt", tmp_path / "control.pt"
    for path, obj in ((evil, payload), (control_file, {**payload, "x": Evil(control)})):
        if container == "torch-zip":
            torch.save(obj, path)
        else:
            path.write_bytes(pickle.dumps(obj))
    # control: an unsafe load of the same kind of file does run the payload
    if container == "torch-zip":
        torch.load(control_file, weights_only=False)
    else:
        pickle.loads(control_file.read_bytes())  # deliberate: proves the payload is live
    assert control.exists()
    before = snapshot(tmp_path)
    needles = ("refused to load", "references") if container == "torch-zip" else ("not a tinyqat artifact",)
    message = assert_error(cli("build", evil, "-o", tmp_path / "out"), 2, "evil.pt", *needles)
    if container == "torch-zip":
        assert re.search(r"references \S*open\)", message), message  # names the offending global
    assert not marker.exists()
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------------------------------
# build: options and destinations


def test_build_unknown_board_lists_known_boards(work: Path) -> None:
    before = snapshot(work)
    message = assert_error(cli("build", work / "model.pt", "--board", "cortex-m99", "-o", work / "out"), 2,
                           "unknown board", "cortex-m99")
    for board in BOARDS:
        assert board in message
    assert snapshot(work) == before


def test_build_board_name_is_not_a_path(work: Path) -> None:
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "--board", "../boards/cortex-m4", "-o", work / "out"), 2,
                 "unknown board")
    assert snapshot(work) == before


@pytest.mark.parametrize(
    ("name", "needle"),
    [("1model", "not a C identifier"), ("my-model", "not a C identifier"), ("model name", "not a C identifier"),
     ("", "not a C identifier"), ("int", "reserved"), ("tq_model", "reserved")],
)
def test_build_invalid_name(work: Path, name: str, needle: str) -> None:
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "--name", name, "-o", work / "new" / "out"), 2, needle)
    assert snapshot(work) == before  # not even the missing parent directory is created


def test_build_refuses_non_empty_output_without_force(work: Path) -> None:
    out = work / "out"
    out.mkdir()
    (out / "something.c").write_text("int x;\n")
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "-o", out), 2, str(out), "not empty", "--force")
    assert snapshot(work) == before


def test_build_force_refuses_foreign_files(work: Path, built: Path) -> None:
    out = work / "out"
    shutil.copytree(built, out)
    (out / "mine.txt").write_text("not tinyqat's\n")
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "-o", out, "--force"), 2, "mine.txt", "did not create")
    assert snapshot(work) == before


def test_build_force_replaces_previous_output(work: Path) -> None:
    out = work / "out"
    first = cli("build", work / "model.pt", "-o", out, "--name", "first_model")
    assert first.exit_code == 0, first.output
    assert (out / "first_model.c").is_file()
    result = cli("build", work / "model.pt", "-o", out, "--name", "second_model", "--force")
    assert result.exit_code == 0, result.output
    assert "built" in result.stdout
    names = {p.name for p in out.iterdir()}
    assert "second_model.c" in names and "second_model_weights.h" in names
    assert not any(n.startswith("first_model") for n in names)
    # nothing else appeared or disappeared next to the output (no temp or backup directories)
    assert sorted(p.name for p in work.iterdir()) == ["model.pt", "notes.txt", "out"]


def test_build_into_existing_empty_directory(work: Path) -> None:
    out = work / "out"
    out.mkdir()
    result = cli("build", work / "model.pt", "-o", out)
    assert result.exit_code == 0, result.output
    assert (out / "tinyqat_model.c").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["model.pt", "notes.txt", "out"]


@pytest.mark.parametrize("where", ["file", "under-file", "deep-under-file"])
def test_build_output_path_blocked_by_a_file(work: Path, where: str) -> None:
    out = {"file": work / "notes.txt", "under-file": work / "notes.txt" / "out",
           "deep-under-file": work / "notes.txt" / "a" / "out"}[where]
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "-o", out), 2, "notes.txt", "not a directory")
    assert snapshot(work) == before


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permissions")
def test_build_output_in_read_only_directory(work: Path) -> None:
    locked = work / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        before = snapshot(work)
        assert_error(cli("build", work / "model.pt", "-o", locked / "out"), 2, "cannot write", "locked")
        assert snapshot(work) == before
    finally:
        locked.chmod(0o700)


def test_build_unwritable_parent_simulated(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root the chmod test above is skipped; simulate the refusal to create the temp directory."""
    build_module = importlib.import_module("tinyqat.build")  # the attribute tinyqat.build is the function

    def refuse(*args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(build_module.tempfile, "mkdtemp", refuse)
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "-o", work / "out"), 2, "cannot write", str(work),
                 "permission denied")
    assert snapshot(work) == before


def test_build_write_failure_leaves_nothing(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write error half way through (disk full) is one line and leaves no partial output or temp dir."""
    build_module = importlib.import_module("tinyqat.build")  # the attribute tinyqat.build is the function

    def emit_then_fail(graph: object, plan: object, board: object, name: str, out_dir: Path, *rest: object) -> None:
        (out_dir / f"{name}.c").write_text("/* partial */\n")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_module, "emit_package", emit_then_fail)
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "-o", work / "out"), 2, "cannot write", "no space left")
    assert snapshot(work) == before


def test_build_model_too_big_for_board(tmp_path: Path, big_model_path: Path) -> None:
    from tinyqat.bench.codesize import kernel_code_bytes
    from tinyqat.boards import load_board
    from tinyqat.codegen import stats
    from tinyqat.codegen.emit import package_runtime_files
    from tinyqat.memory.planner import GreedyPlanner

    host = tinyqat.build(big_model_path, tmp_path / "host_build", board="host")
    memory = host.memory
    weights = memory.weights_bytes
    assert weights > M0PLUS_FLASH  # the fixture is big enough for this test to mean something
    shutil.rmtree(tmp_path / "host_build")
    work = tmp_path / "w"
    work.mkdir()
    before = snapshot(work)
    message = assert_error(cli("build", big_model_path, "--board", "cortex-m0plus", "-o", work / "out"), 2,
                           "does not fit", "cortex-m0plus", "flash")
    # weights as shipped for the board (the Armv6-M FC layout pads the 10 outputs to 12 rows) + the runtime's
    # code measured with the board's compiler (the table without it)
    m0plus = load_board("cortex-m0plus")
    weights += stats.speed_weights_extra_bytes(host.graph, m0plus)
    files = package_runtime_files(host.graph, GreedyPlanner(kernels=m0plus.kernels).plan(host.graph), m0plus)
    code = stats.code_bytes(host.graph, files, "v6m", kernel_code_bytes(m0plus, files))
    assert f"weights {weights} B + code {code} B" in message
    assert f"over by {weights + code - M0PLUS_FLASH} B" in message
    assert snapshot(work) == before
    # the same model fits the larger board
    ok = cli("build", big_model_path, "--board", "cortex-m4", "-o", work / "out")
    assert ok.exit_code == 0, ok.output


def test_build_is_byte_identical(tmp_path: Path, model_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "nested" / "b"
    for out in (a, b):
        result = cli("build", model_path, "--board", "cortex-m4", "-o", out)
        assert result.exit_code == 0, result.output
    files_a = sorted(p.relative_to(a) for p in a.rglob("*"))
    files_b = sorted(p.relative_to(b) for p in b.rglob("*"))
    assert files_a == files_b
    assert {str(f) for f in files_a} >= {"tinyqat_model.c", "tinyqat_model.h", "tinyqat_model_weights.h",
                                         "model.json", "model.pt", "report.md", ".tinyqat-files"}
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


# ---------------------------------------------------------------------------------------------
# verify


def test_verify_ok(tmp_path: Path, built: Path, gcc: str) -> None:
    pkg = tmp_path / "pkg"
    shutil.copytree(built, pkg)
    before = snapshot(pkg)
    result = cli("verify", pkg)
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout.startswith("OK: 35 inputs x 4 layers bit-exact"), result.stdout
    assert "Traceback" not in result.output
    assert snapshot(pkg) == before  # verify compiles elsewhere


def test_verify_sanitize(tmp_path: Path, built: Path, gcc: str) -> None:
    pkg = tmp_path / "pkg"
    shutil.copytree(built, pkg)
    before = snapshot(pkg)
    result = cli("verify", pkg, "--sanitize", "-n", "4")
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout.startswith("OK: 7 inputs x 4 layers bit-exact"), result.stdout
    assert "ASan" in result.stdout
    assert snapshot(pkg) == before


def test_verify_user_inputs(tmp_path: Path, built: Path, gcc: str) -> None:
    x = np.random.default_rng(1).integers(-128, 128, (5, *INPUT_SHAPE)).astype(np.int8)
    np.save(tmp_path / "x.npy", x)
    result = cli("verify", built, "--inputs", tmp_path / "x.npy")
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stdout.startswith("OK: 5 inputs x 4 layers"), result.stdout


@pytest.mark.parametrize("content", ["empty", "other-files", "missing"])
def test_verify_not_a_build_output(tmp_path: Path, content: str) -> None:
    target = tmp_path / "pkg"
    if content != "missing":
        target.mkdir()
    if content == "other-files":
        (target / "main.c").write_text("int main(void) { return 0; }\n")
        (target / "model.json").write_text("{}\n")
    before = snapshot(tmp_path)
    assert_error(cli("verify", target), 2, str(target), "not a tinyqat build output")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("array", "needles"),
    [
        (np.zeros((2, 1, 8, 7), np.int8), ("int8 of shape (N, 1, 8, 8)", "(2, 1, 8, 7)")),
        (np.zeros((2, 64), np.int8), ("int8 of shape (N, 1, 8, 8)", "(2, 64)")),
        (np.zeros((2, 1, 8, 8), np.float32), ("int8 of shape (N, 1, 8, 8)", "float32")),
        (np.zeros((2, 1, 8, 8), np.uint8), ("int8 of shape (N, 1, 8, 8)", "uint8")),
    ],
    ids=["wrong-shape", "flat", "float32", "uint8"],
)
def test_verify_rejects_bad_inputs(tmp_path: Path, built: Path, array: np.ndarray, needles: tuple[str, ...]) -> None:
    np.save(tmp_path / "x.npy", array)
    before = snapshot(tmp_path)
    built_before = snapshot(built)
    assert_error(cli("verify", built, "--inputs", tmp_path / "x.npy"), 2, *needles)
    assert snapshot(tmp_path) == before
    assert snapshot(built) == built_before


@pytest.mark.parametrize("kind", ["text", "pickle-npy", "missing"])
def test_verify_inputs_not_npy(tmp_path: Path, built: Path, kind: str) -> None:
    path = tmp_path / "x.npy"
    if kind == "text":
        path.write_text("1, 2, 3\n")
    elif kind == "pickle-npy":
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    before = snapshot(tmp_path)
    message = assert_error(cli("verify", built, "--inputs", path), 2, "x.npy")
    assert re.search(r"not a (readable )?\.npy", message), message
    assert snapshot(tmp_path) == before


def _tamper_weight(pkg: Path, layer: int) -> str:
    """Negate every weight of ``layer`` in the generated weights header; returns the layer's name."""
    header = pkg / "tinyqat_model_weights.h"
    text = header.read_text()
    pattern = re.compile(rf"(static const int8_t l{layer}_\w+_weights\[\d+\] \w+_WEIGHTS_PLACE = \{{)([^}}]*)(\}};)")
    match = pattern.search(text)
    assert match is not None, f"no weights for layer {layer}"
    negated = re.sub(r"-?\d+", lambda m: str(-int(m.group())), match.group(2))
    assert negated != match.group(2)
    header.write_text(text[: match.start(2)] + negated + text[match.end(2) :])
    return json.loads((pkg / "model.json").read_text())["layers"][layer]["name"]


@pytest.mark.parametrize("layer", [0, 3])
def test_verify_tampered_package_names_first_diverging_layer(tmp_path: Path, built: Path, gcc: str,
                                                              layer: int) -> None:
    pkg = tmp_path / "pkg"
    shutil.copytree(built, pkg)
    name = _tamper_weight(pkg, layer)
    before = snapshot(tmp_path)
    message = assert_error(cli("verify", pkg), 1, "differs from the simulator", f"layer {layer} '{name}'")
    assert "diverges" in message
    assert snapshot(tmp_path) == before


def test_verify_tampered_c_source(tmp_path: Path, built: Path, gcc: str) -> None:
    """Editing a layer's output zero point in ``<name>.c`` is caught at that layer, not later."""
    pkg = tmp_path / "pkg"
    shutil.copytree(built, pkg)
    source = pkg / "tinyqat_model.c"
    text = source.read_text()
    block = re.compile(r"(/\* layer 2: .*?\.output_zero_point = )(-?\d+)", re.DOTALL)
    match = block.search(text)
    assert match is not None
    zp = int(match.group(2))
    source.write_text(text[: match.start(2)] + str(zp + 1 if zp < 0 else zp - 1) + text[match.end(2) :])
    name = json.loads((pkg / "model.json").read_text())["layers"][2]["name"]
    before = snapshot(tmp_path)
    assert_error(cli("verify", pkg), 1, f"layer 2 '{name}'", "diverges")
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------------------------------
# other commands and global options


def test_boards_lists_every_board() -> None:
    result = cli("boards")
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert sorted(listed) == sorted(BOARDS)
    assert "KiB" in result.stdout


def test_help() -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("build", "verify", "boards", "demo", "--debug", "--version"):
        assert command in result.stdout
    for command in ("build", "verify"):
        sub = cli(command, "--help")
        assert sub.exit_code == 0 and "Usage:" in sub.stdout


def test_debug_shows_traceback_in_process(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--debug", "build", str(tmp_path / "missing.pt"), "-o", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert isinstance(result.exception, tinyqat.TinyQatError)
    assert "no such file" in str(result.exception)


def test_subprocess_version(tmp_path: Path) -> None:
    proc = run_module("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert tinyqat.__version__ in proc.stdout


def test_subprocess_debug_traceback(tmp_path: Path) -> None:
    proc = run_module("--debug", "build", "missing.pt", "-o", "out", cwd=tmp_path)
    assert proc.returncode not in (0, 2), proc.stderr
    assert "Traceback" in proc.stderr
    assert "ArtifactError" in proc.stderr and "missing.pt: no such file" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_subprocess_errors_are_one_line(tmp_path: Path, model_path: Path, built: Path) -> None:
    require_tool("gcc", "gcc")
    evil = tmp_path / "evil.pt"
    torch.save({"x": Evil(tmp_path / "PWNED")}, evil)
    pkg = tmp_path / "pkg"
    shutil.copytree(built, pkg)
    _tamper_weight(pkg, 3)
    before = snapshot(tmp_path)

    assert_subprocess_error(run_module("build", "missing.pt", "-o", "out", cwd=tmp_path), 2, "no such file")
    assert_subprocess_error(run_module("build", "evil.pt", "-o", "out", cwd=tmp_path), 2, "refused to load")
    assert not (tmp_path / "PWNED").exists()
    assert_subprocess_error(run_module("verify", "pkg", cwd=tmp_path), 1, "layer 3")
    assert snapshot(tmp_path) == before


def test_saved_artifact_has_default_permissions(model_path: Path, built: Path) -> None:
    """``tinyqat.save`` writes through a temp file but the result gets the usual umask permissions."""
    umask = os.umask(0o022)
    os.umask(umask)
    assert model_path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert (built / "model.pt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_build_optimize_speed_ships_int16_conv_weights(work: Path, built: Path) -> None:
    """--optimize speed adds the int16 conv layout under TQ_USE_DSP and counts its flash; size is the default."""
    out = work / "fast"
    result = cli("build", work / "model.pt", "--board", "cortex-m4", "-o", out, "--optimize", "speed")
    assert result.exit_code == 0, result.output
    fast = (out / "tinyqat_model_weights.h").read_text()
    assert "weights_s16" in fast and "#if TQ_USE_DSP" in fast
    assert "weights_s16" not in (built / "tinyqat_model_weights.h").read_text()
    default = cli("build", work / "model.pt", "--board", "cortex-m4", "-o", work / "small")
    flash = [int(re.search(r"flash\s+weights (\d+) B", r.output)[1]) for r in (result, default)]  # type: ignore[index]
    assert flash[0] > flash[1]
    assert cli("build", work / "model.pt", "-o", work / "x", "--optimize", "fast").exit_code == 2


# ---------------------------------------------------------------------------------------------
# exit status 3, atomic installation, -o . and symlinks, name collisions


def test_internal_error_is_exit_3_and_asks_for_a_report(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug (any exception that is not a TinyQatError) is one line, exit 3; --debug adds the traceback."""
    build_module = importlib.import_module("tinyqat.build")

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("planner state")

    monkeypatch.setattr(build_module, "lower", broken)
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "-o", work / "out"), 3, "internal error, please report", "KeyError")
    debug = CliRunner().invoke(main, ["--debug", "build", str(work / "model.pt"), "-o", str(work / "out")])
    assert debug.exit_code == 3
    assert "Traceback" in debug.stderr and "planner state" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1].startswith("error: internal error, please report")
    assert snapshot(work) == before


def test_force_replacement_is_one_atomic_exchange(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replacing an output swaps two complete directories; at no call does `out` hold a partial package,
    and nothing is left beside it."""
    build_module = importlib.import_module("tinyqat.build")
    out = work / "out"
    assert cli("build", work / "model.pt", "-o", out, "--name", "first").exit_code == 0
    seen = []
    real_exchange = build_module._exchange

    def watch(a: Path, b: Path) -> bool:
        seen.append(sorted(p.name for p in b.iterdir()))
        return real_exchange(a, b)

    monkeypatch.setattr(build_module, "_exchange", watch)
    assert cli("build", work / "model.pt", "-o", out, "--name", "second", "--force").exit_code == 0
    assert len(seen) == 1 and "first.c" in seen[0]
    assert "second.c" in {p.name for p in out.iterdir()}
    assert sorted(p.name for p in work.iterdir()) == ["model.pt", "notes.txt", "out"]


def test_force_replacement_without_exchange_restores_on_failure(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where renameat2 is unavailable the fallback renames aside; a failing second rename puts the old
    package back and leaves nothing else."""
    build_module = importlib.import_module("tinyqat.build")
    out = work / "out"
    assert cli("build", work / "model.pt", "-o", out).exit_code == 0
    before = snapshot(work)
    monkeypatch.setattr(build_module, "_exchange", lambda a, b: False)
    real_replace = os.replace

    def fail_second(src: Path, dst: Path) -> None:
        if Path(dst) == out and ".tmp-" in str(src) and not str(src).endswith(".old"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(build_module.os, "replace", fail_second)
    assert_error(cli("build", work / "model.pt", "-o", out, "--force"), 2, "no space left")
    assert snapshot(work) == before


def test_output_dot_is_refused_and_symlinks_are_followed(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """-o . (or a parent of the current directory) is refused in one line; -o LINK builds where LINK points."""
    monkeypatch.chdir(work)
    before = snapshot(work)
    assert_error(cli("build", "model.pt", "-o", "."), 2, "current directory")
    assert_error(cli("build", "model.pt", "-o", ".."), 2, "current directory")
    assert snapshot(work) == before
    (work / "real").mkdir()
    (work / "link").symlink_to(work / "real", target_is_directory=True)
    assert cli("build", "model.pt", "-o", "link").exit_code == 0
    assert (work / "link").is_symlink() and (work / "real" / "tinyqat_model.c").is_file()
    assert cli("build", "model.pt", "-o", "link", "--force", "--name", "other").exit_code == 0
    assert (work / "link").is_symlink() and (work / "real" / "other.c").is_file()


def test_failed_build_removes_the_parents_it_created(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_module = importlib.import_module("tinyqat.build")

    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_module, "emit_package", fail)
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "-o", work / "a" / "b" / "out"), 2, "no space left")
    assert snapshot(work) == before


@pytest.mark.parametrize(("name", "other", "clash"), [
    ("Net", "net", "capital"), ("NET", "net", "capital"),
    ("net_layer", "net", "net_layer_output"), ("net_weights", "net", "net_weights.h"),
])
def test_colliding_model_names_are_refused(work: Path, name: str, other: str, clash: str) -> None:
    """Two models linked into one program must not share a symbol, macro, include guard or file: the
    second spelling (capitals) or the longer name (``<name>_layer`` against ``<name>``) is refused."""
    assert cli("build", work / "model.pt", "-o", work / other, "--name", other).exit_code == 0
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "-o", work / "second", "--name", name), 2, name, clash)
    assert snapshot(work) == before


def test_accepted_names_define_disjoint_symbols(work: Path, gcc: str) -> None:
    """Accepted names that share a prefix (`net`, `net_run`, `net_input`, `net_output`) compile and link
    into one program with every header in one file: no symbol, macro, include guard or file in common."""
    names = ("net", "net_run", "net_input", "net_output")
    for name in names:
        assert cli("build", work / "model.pt", "-o", work / name, "--name", name, "--board", "host").exit_code == 0
    main_c = work / "main.c"
    total = " + ".join(f"{n}_run() + {n.upper()}_NUM_LAYERS" for n in names)
    main_c.write_text("".join(f'#include "{n}.h"\n' for n in names)
                      + f"int main(void)\n{{\n    return {total} - 4 * NET_NUM_LAYERS;\n}}\n")
    runtime = sorted(str(p) for p in (work / "net").glob("tq_*.c"))
    cmd = [gcc, "-std=c99", "-Wall", "-Werror", *(f"-I{work / n}" for n in names), str(main_c),
           *(str(work / n / f"{n}.c") for n in names), *runtime, "-o", str(work / "both")]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([str(work / "both")], check=False).returncode == 0


def test_interrupt_is_exit_130_not_1(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C is neither a mismatch (1) nor a traceback: one line, exit 130, nothing left behind."""
    build_module = importlib.import_module("tinyqat.build")

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "emit_package", interrupted)
    before = snapshot(work)
    assert_error(cli("build", work / "model.pt", "-o", work / "out"), 130, "interrupted")
    assert snapshot(work) == before
