"""Every file a command reads, malformed in every way we could think of, is refused in one line.

One table, :data:`CASES`: each row writes one malformed input (an artifact truncated at each
structural boundary of its zip archive, wrong types, out-of-range integers, sizes beyond the
documented limits, tensors that disagree with the graph, damaged ``model.json`` manifests, bad
``--inputs`` files, names and paths) and lists the commands that read that kind of file.  For
each (row, command) pair the CLI must exit with status 2, print exactly one ``error: ...`` line
(no traceback, nothing on stdout) and leave the file system exactly as it was, temporary
directories included.  :data:`COMMANDS` says how each command (``build``, ``verify``, ``bench``,
``export``) is given each kind of file; a new command is one entry there.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from test_cli import INPUT_SHAPE, Evil, _calibrated_qat, _small_net, assert_error, cli, snapshot

import tinyqat
from tinyqat.artifact import load_artifact
from tinyqat.resources import resource_dir


@dataclass(frozen=True)
class Case:
    """One malformed input.  ``kind`` is what ``make`` writes into the work directory:
    ``"artifact"`` (bytes of a model.pt), ``"manifest"`` (bytes of a package's model.json),
    ``"inputs"`` (bytes of a --inputs file) or ``"args"`` (``make`` returns the argv itself).
    ``limits`` are module attributes patched for the row (to test a size limit with small files)."""

    id: str
    kind: str
    make: Callable[[Any], Any]
    needle: str
    commands: tuple[str, ...] = ()
    limits: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# how each command reads each kind of file (argv builders: work dir, path of the file)

def _pkg_with(work: Path, good_pkg: Path, **files: bytes) -> Path:
    pkg = work / "pkg"
    shutil.copytree(good_pkg, pkg)
    for name, data in files.items():
        (pkg / name.replace("_json", ".json").replace("_pt", ".pt")).write_bytes(data)
    return pkg


COMMANDS: dict[str, dict[str, Callable[..., list[str | Path]]]] = {
    # kind -> argv(work, good package, bytes)
    "build": {"artifact": lambda w, pkg, data: ["build", _write(w / "bad.pt", data), "-o", w / "out"]},
    "verify": {
        "artifact": lambda w, pkg, data: ["verify", _pkg_with(w, pkg, model_pt=data)],
        "manifest": lambda w, pkg, data: ["verify", _pkg_with(w, pkg, model_json=data)],
        "inputs": lambda w, pkg, data: ["verify", _pkg_with(w, pkg), "--inputs", _write(w / "x.npy", data)],
    },
    "bench": {"manifest": lambda w, pkg, data: ["bench", _pkg_with(w, pkg, model_json=data)]},
    "export": {"artifact": lambda w, pkg, data: ["export", _write(w / "bad.pt", data), "-o", w / "model.tflite"]},
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _commands(kind: str) -> tuple[str, ...]:
    return tuple(c for c, kinds in COMMANDS.items() if kind in kinds)


# ---------------------------------------------------------------------------------------------
# the good inputs every row starts from


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The good artifact (bytes and dict), a cortex-m4 package built from it, its manifest."""
    root = tmp_path_factory.mktemp("malformed")
    path = root / "model.pt"
    tinyqat.save(_calibrated_qat(_small_net(), INPUT_SHAPE), path)
    tinyqat.build(path, root / "pkg", board="cortex-m4")
    return {"bytes": path.read_bytes(), "artifact": load_artifact(path), "pkg": root / "pkg",
            "manifest": json.loads((root / "pkg" / "model.json").read_text())}


def _encode(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def art(edit: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], bytes]:
    """A row maker: the good artifact dict edited in place by ``edit``, serialized without validation."""
    def make(g: dict[str, Any]) -> bytes:
        a = copy.deepcopy(g["artifact"])
        edit(a)
        return _encode(a)
    return make


def man(edit: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], bytes]:
    """A row maker: the good manifest edited in place by ``edit``."""
    def make(g: dict[str, Any]) -> bytes:
        m = copy.deepcopy(g["manifest"])
        edit(m)
        return json.dumps(m).encode()
    return make


def node(a: dict[str, Any], op: str) -> dict[str, Any]:
    return next(n for n in a["nodes"] if n["op"] == op)


def _set(d: dict[str, Any], key: str, value: object) -> None:
    d[key] = value


ARCHIVE_ENTRIES = ("data.pkl", ".format_version", ".storage_alignment", "byteorder", "data/0", "data/6", "data/9",
                   "version", ".data/serialization_id")  # entries of a torch.save archive of the good artifact


def truncated(where: str) -> Callable[[dict[str, Any]], bytes]:
    """A row maker: the good artifact cut at a structural boundary of its zip archive: ``at:``/``in:``
    an entry's local header (its start, 20 bytes in), ``data:`` the start of its data, or the central
    directory / end record."""
    def make(g: dict[str, Any]) -> bytes:
        data = g["bytes"]
        kind, _, entry = where.partition(":")
        if entry:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                info = next(i for i in z.infolist() if i.filename.split("/", 1)[1] == entry)
            header = info.header_offset
            name_len, extra_len = (int.from_bytes(data[header + k:header + k + 2], "little") for k in (26, 28))
            cut = {"at": header, "in": header + 20, "data": header + 30 + name_len + extra_len}[kind]
        else:
            central, end = data.find(b"PK\x01\x02"), data.rfind(b"PK\x05\x06")
            cut = {"central": central, "central-middle": (central + end) // 2, "end": end, "end-middle": end + 10,
                   "last-byte": len(data) - 1}[kind]
        return data[:cut]
    return make


TRUNCATION_ROWS = [Case(f"artifact-truncated-{kind}-{entry}", "artifact", truncated(f"{kind}:{entry}"),
                        "not a tinyqat artifact|corrupt or truncated")
                   for entry in ARCHIVE_ENTRIES for kind in ("at", "in", "data")]
TRUNCATION_ROWS += [Case(f"artifact-truncated-{kind}", "artifact", truncated(kind),
                         "not a tinyqat artifact|corrupt or truncated")
                    for kind in ("central", "central-middle", "end", "end-middle", "last-byte")]


def _deflated_padding(g: dict[str, Any]) -> bytes:
    """The good archive plus a deflated entry of 4 MiB of zeros: small file, large declared content."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(g["bytes"])) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("archive/data/padding", b"\0" * (4 << 20), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str = "|i1", version: int = 1) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - len(header) % 64) + b"\n"
    size = len(header).to_bytes(2 if version == 1 else 4, "little")
    return b"\x93NUMPY" + bytes([version, 0]) + size + header


def _nested_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


CASES: list[Case] = [
    *TRUNCATION_ROWS,
    Case("artifact-empty", "artifact", lambda g: b"", "not a tinyqat artifact"),
    Case("artifact-text", "artifact", lambda g: b"conv2d 3x3\n", "not a tinyqat artifact"),
    Case("artifact-pickled-code", "artifact", lambda g: _encode({"x": Evil(Path("PWNED"))}), "refused to load"),
    Case("artifact-state-dict", "artifact", lambda g: _encode({"w": torch.zeros(2)}), "plain state_dict"),
    Case("artifact-over-size-limit", "artifact", lambda g: g["bytes"], "artifact limit",
         limits={"tinyqat.artifact.MAX_ARTIFACT_BYTES": 1000}),
    Case("artifact-declares-too-much", "artifact", _deflated_padding, "declares",
         limits={"tinyqat.artifact.MAX_ARTIFACT_BYTES": 1 << 20}),
    Case("artifact-format", "artifact", art(lambda a: _set(a, "format", "onnx")), "not a tinyqat artifact"),
    Case("artifact-version-newer", "artifact", art(lambda a: _set(a, "version", 99)), "upgrade tinyqat"),
    Case("artifact-version-bool", "artifact", art(lambda a: _set(a, "version", True)), "not an integer"),
    Case("artifact-version-str", "artifact", art(lambda a: _set(a, "version", "1")), "not an integer"),
    Case("artifact-no-nodes", "artifact", art(lambda a: _set(a, "nodes", [])), "no nodes"),
    Case("artifact-nodes-not-list", "artifact", art(lambda a: _set(a, "nodes", {"a": 1})), "no nodes"),
    Case("artifact-input-missing", "artifact", art(lambda a: a.pop("input")), "input description"),
    Case("artifact-input-shape-zero", "artifact", art(lambda a: _set(a["input"], "shape", [0, 8, 8])), "input shape"),
    Case("artifact-input-shape-str", "artifact", art(lambda a: _set(a["input"], "shape", ["1", 8, 8])),
         "input shape"),
    Case("artifact-input-shape-huge", "artifact", art(lambda a: _set(a["input"], "shape", [1 << 20, 1 << 20, 1])),
         "tensor limit"),
    Case("artifact-input-zero-point-200", "artifact", art(lambda a: _set(a["input"], "zero_point", 200)),
         "input description"),
    Case("artifact-input-zero-point-bool", "artifact", art(lambda a: _set(a["input"], "zero_point", True)),
         "input description"),
    Case("artifact-input-scale-str", "artifact", art(lambda a: _set(a["input"], "scale", "0.1")),
         "input description"),
    Case("artifact-input-scale-nan", "artifact", art(lambda a: _set(a["input"], "scale", float("nan"))),
         "scale"),
    Case("artifact-output-unknown", "artifact", art(lambda a: _set(a, "output", "nowhere")), "is not a node"),
    Case("artifact-op-unknown", "artifact", art(lambda a: _set(a["nodes"][0], "op", "lstm")), "unknown op"),
    Case("artifact-input-undefined", "artifact", art(lambda a: _set(a["nodes"][1], "inputs", ["later"])),
         "earlier nodes"),
    Case("artifact-duplicate-name", "artifact", art(lambda a: _set(a["nodes"][1], "name", a["nodes"][0]["name"])),
         "duplicate"),
    Case("artifact-node-name-int", "artifact", art(lambda a: _set(a["nodes"][0], "name", 7)), "malformed node"),
    Case("artifact-conv-stride-zero", "artifact", art(lambda a: _set(node(a, "conv2d")["attrs"], "stride", [0, 1])),
         "stride"),
    Case("artifact-conv-stride-str", "artifact",
         art(lambda a: _set(node(a, "conv2d")["attrs"], "stride", ["2", 1])), "stride"),
    Case("artifact-conv-padding-2", "artifact",
         art(lambda a: _set(node(a, "conv2d")["attrs"], "padding", [1, 1])), "padding"),
    Case("artifact-conv-padding-negative", "artifact",
         art(lambda a: _set(node(a, "conv2d")["attrs"], "padding", [1, -1, 1, 1])), "padding"),
    Case("artifact-conv-padding-huge", "artifact",
         art(lambda a: _set(node(a, "conv2d")["attrs"], "padding", [1 << 30, 1, 1, 1])), "padding"),
    Case("artifact-conv-groups-str", "artifact", art(lambda a: _set(node(a, "conv2d")["attrs"], "groups", "1")),
         "groups"),
    Case("artifact-pool-kernel-zero", "artifact",
         art(lambda a: _set(node(a, "max_pool2d")["attrs"], "kernel", [0, 2])), "kernel"),
    Case("artifact-pool-stride-zero", "artifact",
         art(lambda a: _set(node(a, "max_pool2d")["attrs"], "stride", [2, 0])), "stride"),
    Case("artifact-pool-padding-4", "artifact",
         art(lambda a: _set(node(a, "max_pool2d")["attrs"], "padding", [0, 0, 0, 0])), "padding"),
    Case("artifact-pool-ceil-mode-int", "artifact",
         art(lambda a: _set(node(a, "max_pool2d")["attrs"], "ceil_mode", 1)), "ceil_mode"),
    Case("artifact-activation-unknown", "artifact",
         art(lambda a: _set(node(a, "linear")["attrs"], "activation", "gelu")), "activation"),
    Case("artifact-weight-bits-3", "artifact", art(lambda a: _set(node(a, "linear")["attrs"], "weight_bits", 3)),
         "weight_bits"),
    Case("artifact-missing-stride", "artifact", art(lambda a: node(a, "conv2d")["attrs"].pop("stride")), "missing"),
    Case("artifact-param-int-tensor", "artifact",
         art(lambda a: _set(node(a, "linear")["params"], "bias", torch.zeros(8, dtype=torch.int32))), "float tensor"),
    Case("artifact-param-not-tensor", "artifact", art(lambda a: _set(node(a, "linear")["params"], "bias", [0.0] * 8)),
         "float tensor"),
    Case("artifact-weight-rank", "artifact",
         art(lambda a: _set(node(a, "conv2d")["params"], "weight", torch.zeros(4, 9))), "weight shape"),
    Case("artifact-weight-empty", "artifact",
         art(lambda a: _set(node(a, "conv2d")["params"], "weight", torch.zeros(4, 1, 0, 3))), "weight shape"),
    Case("artifact-bias-disagrees", "artifact",
         art(lambda a: _set(node(a, "linear")["params"], "bias", torch.zeros(7))), "bias shape"),
    Case("artifact-bn-disagrees", "artifact",
         art(lambda a: _set(node(a, "conv2d")["params"], "bn_var", torch.ones(3))), "bn_var shape"),
    Case("artifact-bn-incomplete", "artifact", art(lambda a: node(a, "conv2d")["params"].pop("bn_mean")),
         "incomplete BatchNorm"),
    Case("artifact-weight-disagrees-with-input", "artifact",
         art(lambda a: _set(node(a, "linear")["params"], "weight", torch.zeros(8, 63))), "features"),
    Case("artifact-conv-channels-disagree", "artifact",
         art(lambda a: _set(node(a, "conv2d")["params"], "weight", torch.zeros(4, 2, 3, 3))), "does not fit input"),
    Case("artifact-tensor-over-limit", "artifact", lambda g: g["bytes"], "tensor limit",
         limits={"tinyqat.artifact.MAX_TENSOR_BYTES": 100}),
    Case("artifact-qparams-missing", "artifact", art(lambda a: _set(node(a, "linear"), "qparams", None)),
         "qparams missing"),
    Case("artifact-qparams-zero-point-str", "artifact",
         art(lambda a: _set(node(a, "linear"), "qparams", {"scale": 0.1, "zero_point": "0"})), "malformed qparams"),
    # model.json of a package (verify, bench)
    Case("manifest-missing", "manifest", lambda g: None, "model.json"),
    Case("manifest-empty", "manifest", lambda g: b"", "not valid JSON"),
    Case("manifest-truncated-open", "manifest", lambda g: json.dumps(g["manifest"]).encode()[:1], "not valid JSON"),
    Case("manifest-truncated-mid-key", "manifest", lambda g: json.dumps(g["manifest"]).encode()[:20],
         "not valid JSON"),
    Case("manifest-truncated-last-byte", "manifest", lambda g: json.dumps(g["manifest"]).encode()[:-1],
         "not valid JSON"),
    Case("manifest-not-utf8", "manifest", lambda g: b"\xff\xfe{}", "not valid JSON"),
    Case("manifest-too-deep", "manifest", lambda g: _nested_json(100_000), "not valid JSON"),
    Case("manifest-list", "manifest", lambda g: b"[]", "not a JSON object"),
    Case("manifest-no-name", "manifest", man(lambda m: m.pop("name")), "name None"),
    Case("manifest-name-path", "manifest", man(lambda m: _set(m, "name", "../../tmp/evil")), "not a C identifier"),
    Case("manifest-name-c-code", "manifest", man(lambda m: _set(m, "name", "x(void); int y")), "not a C identifier"),
    Case("manifest-name-int", "manifest", man(lambda m: _set(m, "name", 3)), "not a C identifier"),
    Case("manifest-name-other", "manifest", man(lambda m: _set(m, "name", "other")), "other.h is missing"),
    Case("manifest-board-int", "manifest", man(lambda m: _set(m, "board", 4)), "board 4"),
    Case("manifest-sha-bad", "manifest", man(lambda m: _set(m, "source_sha256", "xyz")), "source_sha256"),
    Case("manifest-input-shape-negative", "manifest", man(lambda m: _set(m, "input_shape", [-1])), "input_shape"),
    Case("manifest-arena-negative", "manifest", man(lambda m: _set(m, "arena_bytes", -1)), "arena_bytes"),
    Case("manifest-tensors-str", "manifest", man(lambda m: _set(m, "tensors", "x")), "tensors"),
    Case("manifest-tensor-shape-huge", "manifest", man(lambda m: _set(m["tensors"][0], "shape", [1 << 30, 1 << 30, 1])),
         "tensors"),
    Case("manifest-layers-empty", "manifest", man(lambda m: _set(m, "layers", [])), "layers"),
    Case("manifest-layer-output-unknown", "manifest", man(lambda m: _set(m["layers"][0], "output", "nowhere")),
         "layer 0"),
    Case("manifest-disagrees-with-model", "manifest", man(lambda m: _set(m, "input_shape", [64])),
         "does not match model.json", commands=("verify",)),
    Case("manifest-layer-macs-negative", "manifest", man(lambda m: _set(m["layers"][-1], "macs", -5)), "layer"),
    # --inputs of verify
    Case("inputs-empty", "inputs", lambda g: b"", "not a .npy"),
    Case("inputs-text", "inputs", lambda g: b"1, 2, 3\n", "not a .npy"),
    Case("inputs-header-only", "inputs", lambda g: _npy(np.zeros((2, *INPUT_SHAPE), np.int8))[:60], ".npy"),
    Case("inputs-truncated-data", "inputs", lambda g: _npy(np.zeros((2, *INPUT_SHAPE), np.int8))[:-10], ".npy"),
    Case("inputs-objects", "inputs", lambda g: _npy(np.array([{"a": 1}], dtype=object)), "Python objects"),
    Case("inputs-float", "inputs", lambda g: _npy(np.zeros((2, *INPUT_SHAPE), np.float32)), "int8 of shape"),
    Case("inputs-shape", "inputs", lambda g: _npy(np.zeros((2, 1, 8, 7), np.int8)), "int8 of shape"),
    Case("inputs-declares-huge", "inputs", lambda g: _npy_header((1 << 40, 1, 8, 8)), "more than"),
    Case("inputs-version-3", "inputs", lambda g: _npy_header((1, 1, 8, 8), version=3), "not supported"),
    Case("inputs-bad-header", "inputs", lambda g: b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}     \n", ".npy"),
]


def _args_rows() -> list[tuple[str, Callable[[Path, dict[str, Any]], list[str | Path]], str]]:
    """Rows that are whole command lines: names, paths, option values."""
    def pkg(w: Path, g: dict[str, Any]) -> Path:
        return _pkg_with(w, g["pkg"])

    def model(w: Path, g: dict[str, Any]) -> Path:
        return _write(w / "model.pt", g["bytes"])

    return [
        ("build-model-missing", lambda w, g: ["build", w / "missing.pt", "-o", w / "out"], "no such file"),
        ("build-model-is-directory", lambda w, g: ["build", w, "-o", w / "out"], "directory"),
        ("build-name-path", lambda w, g: ["build", model(w, g), "-o", w / "out", "--name", "../x"], "C identifier"),
        ("build-name-capitals", lambda w, g: ["build", model(w, g), "-o", w / "out", "--name", "Net"], "capital"),
        ("build-name-collides", lambda w, g: ["build", model(w, g), "-o", w / "out", "--name", "net_layer"],
         "collide"),
        ("build-name-collides-guard", lambda w, g: ["build", model(w, g), "-o", w / "out", "--name", "net_weights"],
         "collide"),
        ("build-output-is-file", lambda w, g: ["build", model(w, g), "-o", model(w, g)], "not a directory"),
        ("build-output-dot", lambda w, g: ["build", model(w, g), "-o", "."], "current directory"),
        ("build-board-path", lambda w, g: ["build", model(w, g), "-o", w / "out", "--board", "../boards/host"],
         "unknown board"),
        ("build-optimize-unknown", lambda w, g: ["build", model(w, g), "-o", w / "out", "--optimize", "fast"],
         "--optimize"),
        ("verify-samples-negative", lambda w, g: ["verify", pkg(w, g), "-n", "-1"], "-n"),
        ("verify-seed-negative", lambda w, g: ["verify", pkg(w, g), "--seed", "-1"], "--seed"),
        ("verify-not-a-package", lambda w, g: ["verify", w], "not a tinyqat build output"),
        ("verify-inputs-missing", lambda w, g: ["verify", pkg(w, g), "--inputs", w / "none.npy"], "none.npy"),
        ("verify-emulate-and-sanitize", lambda w, g: ["verify", pkg(w, g), "--emulate", "--sanitize"], "combined"),
        ("bench-board-path", lambda w, g: ["bench", pkg(w, g), "--board", "../../etc/passwd"], "unknown board"),
        ("bench-host-board", lambda w, g: ["bench", pkg(w, g), "--board", "host"], "runs on the build machine"),
        ("bench-not-a-package", lambda w, g: ["bench", w], "model.json"),
        ("bench-manifest-fifo", lambda w, g: ["bench", _fifo(pkg(w, g) / "model.json")], "model.json: no such file"),
        ("verify-inputs-fifo", lambda w, g: ["verify", pkg(w, g), "--inputs", _fifo(w / "x.npy")], "no such file"),
        ("build-model-fifo", lambda w, g: ["build", _fifo(w / "fifo.pt"), "-o", w / "out"], "no such file"),
        ("build-board-file-truncated", lambda w, g: ["build", model(w, g), "-o", w / "out", "--board",
                                                     _board(w, lambda t: t[: len(t) // 2] + '"')], "cannot read"),
        ("build-board-file-cflag-injection", lambda w, g: ["build", model(w, g), "-o", w / "out", "--board",
                                                           _board(w, lambda t: t.replace("cflags = [",
                                                                                         'cflags = ["x.c", '))],
         "cflags"),
        ("build-board-file-fifo", lambda w, g: ["build", model(w, g), "-o", w / "out", "--board",
                                                _fifo(w / "b.toml")], "b.toml"),
        ("bench-board-file-unknown-key", lambda w, g: ["bench", pkg(w, g), "--board",
                                                       _board(w, lambda t: t + 'speed = "fast"\n')], "unknown key"),
        ("export-model-missing", lambda w, g: ["export", w / "missing.pt", "-o", w / "m.tflite"], "no such file"),
        ("export-output-exists", lambda w, g: ["export", model(w, g), "-o", model(w, g)], "already exists"),
    ]


def _board(work: Path, edit: Callable[[str], str]) -> Path:
    """A user board profile: the shipped cortex-m4 profile edited by ``edit``."""
    path = work / "my-board.toml"
    path.write_text(edit((resource_dir("boards") / "cortex-m4.toml").read_text(encoding="utf-8")), encoding="utf-8")
    return path


def _fifo(path: Path) -> Path:
    """Replace ``path`` by a named pipe (reading it would block forever); returns the path to pass on
    (the package directory for a manifest)."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    return path.parent if path.name == "model.json" else path


def _matrix() -> list[Any]:
    params = [pytest.param(case, command, id=f"{command}-{case.id}") for case in CASES
              for command in (case.commands or _commands(case.kind))]
    params += [pytest.param(Case(row_id, "args", argv, needle), row_id.split("-")[0], id=row_id)
               for row_id, argv, needle in _args_rows()]
    return params


def test_table_is_large_enough() -> None:
    rows = len(CASES) + len(_args_rows())
    assert rows >= 40 and len(TRUNCATION_ROWS) >= 10, rows
    assert {command for p in _matrix() for command in p.values[1:]} == set(COMMANDS)


@pytest.mark.parametrize(("case", "command"), _matrix())
def test_malformed_input_is_one_line_exit_2_and_touches_nothing(case: Case, command: str, good: dict[str, Any],
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    (work / "tmp").mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(work / "tmp"))  # commands' temporary directories land in `work`
    monkeypatch.chdir(work)
    if case.kind == "args":
        argv = case.make(work, good)
    else:
        data = case.make(good)
        argv = COMMANDS[command][case.kind](work, good["pkg"], b"" if data is None else data)
        if data is None:
            (work / "pkg" / "model.json").unlink()
    for target, value in case.limits.items():
        module, attr = target.rsplit(".", 1)
        monkeypatch.setattr(f"{module}.{attr}", value)
    before = snapshot(work)
    result = cli(*argv)
    message = assert_error(result, 2)
    assert any(n.lower() in message.lower() for n in case.needle.split("|")), (case.needle, message)
    assert snapshot(work) == before
    assert not (work / "PWNED").exists()
