"""Models that return a tuple of outputs: prepare_qat keeps the tuple, the artifact records the outputs in
order, the simulator and the integer model return tuples, the planner keeps every output alive to the end,
the C package has the N-output API, and verify (host, QEMU) compares every output after the last layer."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
import torch
import torch.nn.functional as F
from conftest import require_module, require_tool
from test_cli import cli
from test_export_tflite import tflite_multipliers
from torch import nn

import tinyqat
from tinyqat import ir
from tinyqat.artifact import ArtifactError, output_names, read_artifact, validate_artifact
from tinyqat.errors import UnsupportedOpError
from tinyqat.export.tflite import to_tflite
from tinyqat.memory.planner import GreedyPlanner, check_plan, in_place_rules, live_ranges
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain.cffi_model import load_model
from tinyqat.toolchain.compiler import compile_shared, package_sources, run_compiler
from tinyqat.toolchain.harness import SANITIZE_CFLAGS
from tinyqat.verify import compare_layers

SHAPE = (3, 8, 8)


class LogitsAndFeatures(nn.Module):
    """A small CNN returning (logits, pooled features): the features are also the classifier's input."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.relu(self.b1(self.c1(x)))
        features = self.pool(F.relu(self.c2(x))).flatten(1)
        return self.fc(features), features


class MapThenHead(nn.Module):
    """Returns (head, map): the map, returned second, also feeds an elementwise op that could otherwise run
    in place over it, and a conv that could otherwise reuse its bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.c2 = nn.Conv2d(6, 6, 3, padding=1)
        self.fc = nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.c1(x)
        h = F.relu(self.c2(torch.sigmoid(m)))
        return self.fc(h.mean((2, 3))), m


def _train_save(model: nn.Module, path: Path) -> tuple[nn.Module, Path]:
    """prepare_qat, three SGD steps on the sum of the outputs' mean squares, save."""
    gen = torch.Generator().manual_seed(0)
    qat = tinyqat.prepare_qat(model, (torch.randn(2, *SHAPE, generator=gen),))
    opt = torch.optim.SGD(qat.parameters(), lr=1e-3)
    for _ in range(3):
        loss = sum(y.square().mean() for y in qat(torch.randn(8, *SHAPE, generator=gen)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    tinyqat.save(qat.eval(), path)
    return qat, path


@pytest.fixture(scope="module", params=[LogitsAndFeatures, MapThenHead])
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Path]:
    torch.manual_seed(0)
    return _train_save(request.param(), tmp_path_factory.mktemp(request.param.__name__) / "model.pt")


@pytest.fixture(scope="module")
def package(trained: tuple[nn.Module, Path]) -> Path:
    out = trained[1].parent / "out"
    tinyqat.build(trained[1], out, board="cortex-m4")
    return out


# ---------------------------------------------------------------- Python side


def test_qat_forward_artifact_simulator_and_integer_model_keep_the_tuple(trained: tuple[nn.Module, Path]) -> None:
    """The QAT forward returns the tuple; the artifact (version 2) lists the outputs in order; the simulator
    and the integer model return tuples of the same shapes, equal to each other and to the QAT forward's
    fake-quantized outputs on their grids (the QAT forward is the integer model)."""
    qat, path = trained
    x = torch.randn(16, *SHAPE, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ys = qat(x)
    assert isinstance(ys, tuple) and len(ys) == 2
    artifact, _ = read_artifact(path)
    assert artifact["version"] == 2 and isinstance(artifact["output"], list) and len(artifact["output"]) == 2
    graph = tinyqat.load(path)
    assert len(graph.outputs) == 2 and graph.torch_output_shapes == tuple(tuple(y.shape[1:]) for y in ys)
    xq = tinyqat.quantize_input(graph, x)
    sim = tinyqat.simulate(graph, xq)
    im = tinyqat.integer_model(qat)
    ints = im(torch.from_numpy(xq))
    assert isinstance(sim, tuple) and isinstance(ints, tuple) and len(sim) == len(ints) == 2
    for name, y, s, i in zip(graph.outputs, ys, sim, ints, strict=True):
        np.testing.assert_array_equal(s, i.numpy())
        q = graph.tensor(name).qparams
        np.testing.assert_array_equal(np.round(y.numpy() / np.float32(q.scale)) + q.zero_point, s)
    floats = tinyqat.dequantize_output(graph, sim)
    assert isinstance(floats, tuple) and [f.shape for f in floats] == [s.shape for s in sim]
    assert 0.0 <= tinyqat.integer_accuracy(qat, [(x, torch.zeros(16, dtype=torch.long))]) <= 1.0  # first output


def test_single_output_model_keeps_version_1_and_plain_arrays(tmp_path: Path) -> None:
    """One returned tensor: version-1 artifact with a string output, simulate returns an array; a model
    returning a 1-tuple keeps its tuple in the QAT forward and deploys as a single output."""
    for model, want_list in ((nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU()), False),
                             (_Lambda(lambda m, x: (m.conv(x),)), True)):
        path = tmp_path / f"{want_list}.pt"
        qat = tinyqat.prepare_qat(model, (torch.randn(2, *SHAPE),))
        with torch.no_grad():
            y = qat(torch.randn(4, *SHAPE))
        assert isinstance(y, tuple) == want_list
        tinyqat.save(qat.eval(), path)
        artifact, _ = read_artifact(path)
        assert artifact["version"] == (2 if want_list else 1) and isinstance(artifact["output"], list) == want_list
        out = tinyqat.simulate(path, np.zeros((2, *SHAPE), np.int8))
        assert isinstance(out, np.ndarray) and out.shape == (2, 4, 8, 8)


class _Lambda(nn.Module):
    def __init__(self, fn) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.fn = fn

    def forward(self, x: torch.Tensor):
        return self.fn(self, x)


@pytest.mark.parametrize(("fn", "needle"), [
    (lambda m, x: (lambda y: (y, (y.relu(), y.sigmoid())))(m.conv(x)), "flat tuple of tensors"),
    (lambda m, x: (lambda y: {"a": y, "b": y.relu()})(m.conv(x)), "flat tuple of tensors"),
    (lambda m, x: (m.conv(x).relu(),) * 2, "the same tensor twice"),
    (lambda m, x: (m.conv(x), x), "an output is the model input"),
])
def test_refused_output_structures_say_what_to_do(fn, needle: str) -> None:
    """Nested tuples, dicts, a tensor returned twice and the input returned: one line with the way round."""
    with pytest.raises(UnsupportedOpError) as info:
        tinyqat.prepare_qat(_Lambda(fn), (torch.randn(2, *SHAPE),))
    message = str(info.value)
    assert "\n" not in message and needle in message and "README section 'Supported layers'" in message, message


def test_artifact_outputs_are_checked(trained: tuple[nn.Module, Path]) -> None:
    """A list of outputs needs version 2; every entry must name a distinct computed node; the version-1
    form (a string) is read by this version too."""
    artifact, _ = read_artifact(trained[1])
    first, second = artifact["output"]
    validate_artifact({**artifact, "version": 1, "output": first})
    assert output_names({**artifact, "output": first}) == (first,)
    for version, output, needle in ((1, [first, second], "is not a node"), (2, [first, "nope"], "is not a node"),
                                    (2, [], "is not a node"), (2, [first, first], "distinct"),
                                    (2, [first, artifact["input"]["name"]], "distinct")):
        with pytest.raises(ArtifactError, match=needle):
            validate_artifact({**artifact, "version": version, "output": output})


def test_deploy_logits_inside_a_tuple(tmp_path: Path) -> None:
    """A final log_softmax returned in a tuple is deployed as its logits with deploy_logits=True; returning
    the logits too would return one tensor twice: refused."""
    model = _Lambda(lambda m, x: (lambda y: (F.log_softmax(y, 1), y.relu()))(m.conv(x)))
    qat = tinyqat.prepare_qat(model, (torch.randn(2, *SHAPE),), deploy_logits=True)
    with torch.no_grad():
        probs, _ = qat(torch.randn(4, *SHAPE))
    assert torch.allclose(probs.exp().sum(1), torch.ones(4, 8, 8), atol=1e-4)  # trained as written
    tinyqat.save(qat.eval(), tmp_path / "m.pt")
    graph = tinyqat.load(tmp_path / "m.pt")
    assert len(graph.outputs) == 2 and not any(isinstance(op, ir.LogSoftmax) for op in graph.ops)
    with pytest.raises(UnsupportedOpError, match="a \\(log-\\)softmax deployed as logits is its logits"):
        tinyqat.prepare_qat(_Lambda(lambda m, x: (lambda y: (F.log_softmax(y, 1), y))(m.conv(x))),
                            (torch.randn(2, *SHAPE),), deploy_logits=True)


class MapAndItsRelabel(nn.Module):
    """Returns (y, y.flatten(1)) of a 1 x 1 map: the same bytes under two PyTorch shapes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.pool(self.conv(x))
        return y, y.flatten(1)


def test_outputs_that_alias_get_a_copy(tmp_path: Path) -> None:
    """Lowering gives an output aliasing an earlier one its own tensor (a Reshape copy at the end), so the
    outputs stay distinct; the package verifies and both outputs hold the same values."""
    torch.manual_seed(0)
    _, path = _train_save(MapAndItsRelabel(), tmp_path / "model.pt")
    graph = tinyqat.build(path, tmp_path / "out", board="host").graph
    assert len(set(graph.outputs)) == 2 and isinstance(graph.ops[-1], ir.Reshape)
    assert graph.torch_output_shapes == ((4, 1, 1), (4,))
    y, flat = tinyqat.simulate(graph, tinyqat.quantize_input(graph, torch.randn(3, *SHAPE)))
    np.testing.assert_array_equal(y.reshape(3, -1), flat)
    report = tinyqat.verify(tmp_path / "out", n_random=2)
    assert report.ok, report.mismatch


# ---------------------------------------------------------------- planner liveness


def _graph_with_outputs(rng: np.random.Generator) -> ir.Graph:
    """conv a -> lookup b (elementwise: in place over a were a not an output) -> conv c -> fc d; outputs
    (d, a, c): a is read by b, c is read by d and both are intermediates of d."""
    x = ir.Tensor("x", (4, 4, 3), rg.random_qparams(rng))
    steps = [rg.conv(rng, "a", x, 4, (1, 1), (1, 1), (0, 0, 0, 0))]
    steps.append(rg.lookup(rng, "b", steps[-1][1]))
    steps.append(rg.conv(rng, "c", steps[-1][1], 4, (3, 3), (1, 1), (1, 1, 1, 1)))
    steps.append(rg.fully_connected(rng, "d", steps[-1][1], 5))
    graph = rg.chain(x, steps)
    return ir.validate(dataclasses.replace(graph, extra_outputs=("a", "c"),
                                           extra_torch_output_shapes=((4, 4, 4), (4, 4, 4))))


def test_planner_keeps_every_output_alive_to_the_end() -> None:
    graph = _graph_with_outputs(np.random.default_rng(0))
    last = len(graph.ops) - 1
    ranges = {a.tensor: a for a in live_ranges(graph)}
    assert all(ranges[t].last == last for t in graph.outputs) and ranges["b"].last == 2
    assert not [r for r in in_place_rules(graph) if r.input in graph.outputs]  # no in-place over an output
    for kernels in ("portable", "dsp", "v6m"):
        plan = GreedyPlanner(kernels=kernels).plan(graph)
        check_plan(graph, plan)
        for t in graph.outputs:  # nothing written after the output is computed shares a byte with it
            mine = plan.allocation(t)
            assert mine.last == last
            assert not [a.tensor for a in (*plan.allocations, *plan.scratch)
                        if a.tensor != t and a.overlaps(mine) and a.last > mine.first]


def test_planner_would_reuse_the_bytes_were_they_not_outputs() -> None:
    """The same graph with one output: the lookup runs in place over a (so the test above can fail)."""
    graph = _graph_with_outputs(np.random.default_rng(0))
    single = dataclasses.replace(graph, extra_outputs=(), extra_torch_output_shapes=())
    assert any(r.input == "a" for r in in_place_rules(single))
    assert live_ranges(single)[1].last == 1


def _with_random_outputs(graph: ir.Graph, rng: np.random.Generator) -> ir.Graph:
    """``graph`` with a random half of its intermediate tensors (in random order) as extra outputs."""
    inner = [op.output for op in graph.ops if op.output != graph.output]
    extra = [str(t) for t in rng.permutation(inner)[: max(1, len(inner) // 2)]]
    return ir.validate(dataclasses.replace(graph, extra_outputs=tuple(extra), extra_torch_output_shapes=tuple(
        ir.torch_shape(graph.tensor(t).shape) for t in extra)))


@pytest.mark.parametrize("seed", range(12))
def test_random_outputs_are_never_overwritten(seed: int) -> None:
    """Random models with random intermediates returned too: every plan (each kernel set) is valid, and
    no tensor or scratch buffer live after an output is computed shares a byte with it."""
    rng = np.random.default_rng(seed)
    for make in (rg.residual_model, rg.separable_model, rg.random_model):
        graph = _with_random_outputs(make(rng), rng)
        for kernels in ("portable", "dsp", "v6m"):
            plan = GreedyPlanner(kernels=kernels).plan(graph)
            check_plan(graph, plan)
            for t in graph.outputs:
                mine = plan.allocation(t)
                assert mine.last == len(graph.ops) - 1
                assert not [a.tensor for a in (*plan.allocations, *plan.scratch)
                            if a.tensor != t and a.overlaps(mine) and a.last > mine.first], (make.__name__, t)


def test_residual_model_with_random_outputs_bit_exact(tmp_path: Path, gcc: str) -> None:
    """Every kernel of the residual model, a random half of its tensors returned: each output equals the
    simulator after the run (layer-by-layer API, then output_ptr) and through invoke."""
    del gcc
    rng = np.random.default_rng(11)
    graph = _with_random_outputs(rg.residual_model(rng), rng)
    lib = load_model(compile_shared(rg.emit(graph, tmp_path / "pkg"), tmp_path / "build"), "net",
                     len(graph.outputs))
    x = np.concatenate([rg.random_input(rng, graph, 2), np.full((1, *graph.tensor(graph.input).shape), -128, np.int8)])
    values = tinyqat.simulate(graph, np.moveaxis(x, -1, 1).copy(), layers=True)
    assert rg.first_mismatch(lib, graph, x) is None
    for n in range(len(x)):
        for i, (name, y) in enumerate(zip(graph.outputs, lib.invoke(x[n]), strict=True)):
            np.testing.assert_array_equal(y, values[name][n].reshape(-1))
            np.testing.assert_array_equal(lib.output(i), y)


def test_validate_refuses_bad_outputs() -> None:
    graph = _graph_with_outputs(np.random.default_rng(0))
    for extra, shapes, needle in ((("d",), ((5,),), "distinct"), (("x",), ((3, 4, 4),), "distinct"),
                                  (("a",), (), "same length"), (("zz",), ((1,),), "unknown tensor")):
        with pytest.raises(ir.IRError, match=needle):
            ir.validate(dataclasses.replace(graph, extra_outputs=extra, extra_torch_output_shapes=shapes))


def test_emitted_graph_bit_exact_with_invoke(tmp_path: Path, gcc: str) -> None:
    """The random three-output graph through cffi: layer by layer, each output after the run, and invoke."""
    del gcc
    rng = np.random.default_rng(1)
    graph = _graph_with_outputs(rng)
    out = rg.emit(graph, tmp_path / "pkg")
    lib = load_model(compile_shared(out, tmp_path / "build"), "net", 3)
    x = np.stack([rg.random_input(rng, graph, 1)[0], np.full((4, 4, 3), 127, np.int8),
                  np.full((4, 4, 3), -128, np.int8)])
    values = tinyqat.simulate(graph, np.moveaxis(x, -1, 1).copy(), layers=True)
    for sample in range(len(x)):
        got = lib.invoke(x[sample])
        assert isinstance(got, tuple) and len(got) == 3
        for name, y in zip(graph.outputs, got, strict=True):
            np.testing.assert_array_equal(y, values[name][sample].reshape(-1))
            np.testing.assert_array_equal(lib.output(graph.outputs.index(name)), y)


# ---------------------------------------------------------------- verify names the output


def test_compare_layers_names_a_clobbered_output() -> None:
    """Every layer right after it ran is fine but output 1 differs after the last layer: the mismatch names
    the output and the layer that computed it."""
    graph = _graph_with_outputs(np.random.default_rng(0))
    x = rg.random_input(np.random.default_rng(2), graph, 2)
    values = tinyqat.simulate(graph, np.moveaxis(x, -1, 1).copy(), layers=True)
    got = [[values[op.output][n] for op in graph.ops] + [values[t][n].copy() for t in graph.outputs]
           for n in range(2)]
    assert compare_layers(graph, values, got)[1] is None
    got[1][len(graph.ops) + 1][0, 0, 0] ^= 1
    mismatch = compare_layers(graph, values, got)[1]
    assert mismatch is not None and mismatch.output == 1 and mismatch.sample == 1
    assert str(mismatch).startswith("model output 1 'a' (computed by layer 0 'conv_a' (Conv2d)) read after the "
                                    "last layer diverges on sample 1: 1 bytes differ")
    got[0][0] = got[0][0] + 1
    assert "layer 0 'conv_a' (Conv2d), which is model output 1 'a', diverges on sample 0" in \
        str(compare_layers(graph, values, got)[1])


# ---------------------------------------------------------------- the C package, host and QEMU


def test_package_api_and_host_verify(trained: tuple[nn.Module, Path], package: Path, tmp_path: Path) -> None:
    """model.json lists the outputs; the header has the N-output API and not the single-output one;
    verify compares every output; invoke through cffi equals simulate."""
    meta = json.loads((package / "model.json").read_text())
    graph = tinyqat.load(trained[1])
    assert meta["outputs"] == list(graph.outputs)
    header = (package / "tinyqat_model.h").read_text()
    for needle in ("#define TINYQAT_MODEL_NUM_OUTPUTS 2", "#define TINYQAT_MODEL_OUTPUT1_SIZE",
                   "#define TINYQAT_MODEL_OUTPUT0_ZERO_POINT", "const int8_t *tinyqat_model_output_ptr(int index);",
                   "int tinyqat_model_invoke(const int8_t *input, int8_t *const outputs[TINYQAT_MODEL_NUM_OUTPUTS]);",
                   "int tinyqat_model_dequantize_output_at(int index, const int8_t *output, float *values);"):
        assert needle in header, needle
    assert not re.search(r"TINYQAT_MODEL_OUTPUT_SIZE |tinyqat_model_output\(void\)", header)
    for sanitize in (False, True):
        report = tinyqat.verify(package, n_random=3, sanitize=sanitize)
        assert report.ok and report.outputs == 2, report.mismatch
    lib = load_model(compile_shared(package, tmp_path / "build"), "tinyqat_model", 2)
    x = tinyqat.quantize_input(graph, torch.randn(2, *SHAPE))
    sim = tinyqat.simulate(graph, x, layers=True)
    for n in range(2):
        got = lib.invoke(np.moveaxis(x[n], 0, -1).copy())
        for name, y in zip(graph.outputs, got, strict=True):
            np.testing.assert_array_equal(y, sim[name][n].reshape(-1))


_FIRMWARE = """#include <stdio.h>
#include "tinyqat_model.h"

static int8_t input[TINYQAT_MODEL_INPUT_SIZE];
static int8_t out0[TINYQAT_MODEL_OUTPUT0_SIZE];
static int8_t out1[TINYQAT_MODEL_OUTPUT1_SIZE];
static float values[TINYQAT_MODEL_OUTPUT1_SIZE];

int main(void)
{
    int8_t *outputs[TINYQAT_MODEL_NUM_OUTPUTS] = {out0, out1};
    int32_t i;
    int k;
    if (fread(input, 1, sizeof input, stdin) != sizeof input || tinyqat_model_invoke(input, outputs) != 0) {
        return 1;
    }
    if (tinyqat_model_num_outputs() != 2 || tinyqat_model_output_ptr(2) != NULL
            || tinyqat_model_output_ptr(-1) != NULL || tinyqat_model_output_size_at(2) != -1
            || tinyqat_model_dequantize_output_at(2, out0, values) != -1) {
        return 2;
    }
    for (k = 0; k < TINYQAT_MODEL_NUM_OUTPUTS; ++k) {
        const int8_t *copy = k == 0 ? out0 : out1;
        if (tinyqat_model_dequantize_output_at(k, copy, values) != 0) {
            return 3;
        }
        for (i = 0; i < tinyqat_model_output_size_at(k); ++i) {
            if (tinyqat_model_output_ptr(k)[i] != copy[i]) {
                return 4;
            }
            printf("%d %.9g\\n", copy[i], (double)values[i]);
        }
    }
    return 0;
}
"""


def test_firmware_uses_the_c_api(trained: tuple[nn.Module, Path], package: Path, tmp_path: Path, gcc: str) -> None:
    """A C program on the N-output API (strict flags, ASan/UBSan): invoke into an array of buffers, output_ptr,
    the sizes, dequantize_output_at (equal to tinyqat.dequantize_output), and -1 / NULL out of range."""
    del gcc
    (tmp_path / "main.c").write_text(_FIRMWARE, encoding="utf-8")
    exe = tmp_path / "firmware"
    run_compiler("gcc", [*STRICT_CFLAGS, "-O1", *SANITIZE_CFLAGS, f"-I{package}", *package_sources(package),
                         str(tmp_path / "main.c"), "-o", str(exe)])
    graph = tinyqat.load(trained[1])
    x = tinyqat.quantize_input(graph, torch.randn(1, *SHAPE))
    proc = subprocess.run([str(exe)], input=np.moveaxis(x, 1, -1).tobytes(), capture_output=True, check=False)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    rows = [line.split() for line in proc.stdout.decode().splitlines()]
    ys = tinyqat.simulate(graph, x, layers=True)
    want_q = np.concatenate([ys[t].reshape(-1) for t in graph.outputs])
    want_f = np.concatenate([_dequantize(graph, t, ys[t]) for t in graph.outputs])
    np.testing.assert_array_equal(np.array([int(r[0]) for r in rows]), want_q)
    np.testing.assert_array_equal(np.array([float(r[1]) for r in rows], dtype=np.float32), want_f)


def _dequantize(graph: ir.Graph, name: str, y: np.ndarray) -> np.ndarray:
    """Output ``name`` (channels-last, as the arena holds it) dequantized with tinyqat.dequantize_output."""
    ys = tuple(y if t == name else np.zeros((1, 1), np.int8) for t in graph.outputs)
    return tinyqat.dequantize_output(graph, ys)[graph.outputs.index(name)].reshape(-1)


def test_single_output_header_is_unchanged_api(tmp_path: Path) -> None:
    path = tmp_path / "m.pt"
    qat = tinyqat.prepare_qat(nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU()), (torch.randn(2, *SHAPE),))
    with torch.no_grad():
        qat(torch.randn(4, *SHAPE))
    tinyqat.save(qat.eval(), path)
    tinyqat.build(path, tmp_path / "out", board="host")
    header = (tmp_path / "out" / "tinyqat_model.h").read_text()
    assert "int tinyqat_model_invoke(const int8_t *input, int8_t *output);" in header
    assert "const int8_t *tinyqat_model_output(void);" in header and "#define TINYQAT_MODEL_OUTPUT_SIZE 256" in header
    assert "#define TINYQAT_MODEL_NUM_OUTPUTS 1" in header and "output_ptr" not in header


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus"])
def test_multi_output_bit_exact_under_qemu(trained: tuple[nn.Module, Path], board: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    tinyqat.build(trained[1], tmp_path / "out", board=board)
    report = tinyqat.verify(tmp_path / "out", n_random=2, emulate=True)
    assert report.ok, report.mismatch


def test_cli_build_verify_bench(trained: tuple[nn.Module, Path], package: Path, tmp_path: Path) -> None:
    """The CLI names the outputs after a build and counts them in verify's OK line; bench runs."""
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    graph = tinyqat.load(trained[1])
    built = cli("build", trained[1], "--board", "host", "-o", tmp_path / "out", "--name", "net")
    assert built.exit_code == 0, built.output
    assert f"  outputs 2 (net_output_ptr(i)): 0 {graph.outputs[0]} " in built.stdout, built.stdout
    verified = cli("verify", tmp_path / "out", "-n", "2")
    want = f"OK: 5 inputs x {len(graph.ops)} layers and 2 outputs bit-exact"
    assert verified.stdout.startswith(want), verified.output
    benched = cli("bench", package)
    assert benched.exit_code == 0 and "total" in benched.stdout, benched.output


# ---------------------------------------------------------------- .tflite


def test_tflite_export_has_every_output(trained: tuple[nn.Module, Path]) -> None:
    """The subgraph's outputs are the model's, in order; TFLite Micro and LiteRT give the simulator's."""
    require_module("tflite_micro", "tflite-micro")
    require_module("ai_edge_litert", "ai-edge-litert")
    from ai_edge_litert import interpreter as litert
    from tflite_micro.python.tflite_micro import runtime

    graph = tinyqat.load(trained[1])
    data = to_tflite(graph)
    x = np.moveaxis(tinyqat.quantize_input(graph, torch.randn(3, *SHAPE)), 1, -1).copy()
    values = tinyqat.simulate(graph, np.moveaxis(x, -1, 1).copy(), layers=True)
    micro = runtime.Interpreter.from_bytes(data, arena_size=8 << 20)
    lite = litert.Interpreter(model_content=data, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    lite.allocate_tensors()
    details = lite.get_output_details()
    assert [d["name"] for d in details] == list(graph.outputs)
    for n, sample in enumerate(x):
        micro.set_input(sample[None], 0)
        micro.invoke()
        lite.set_tensor(lite.get_input_details()[0]["index"], sample[None])
        lite.invoke()
        for i, name in enumerate(graph.outputs):
            want = values[name][n].reshape(-1)
            np.testing.assert_array_equal(micro.get_output(i).reshape(-1), want)
            if not any(isinstance(op, ir.FullyConnected) for op in graph.ops):  # LiteRT's FC: see test_export
                np.testing.assert_array_equal(lite.get_tensor(details[i]["index"]).reshape(-1), want)


def test_tflite_conv_graph_with_outputs_in_litert(gcc: str) -> None:
    """Without a FULLY_CONNECTED (LiteRT's float requantization), LiteRT's reference kernels give every
    output of a three-output graph exactly, as TFLite Micro does."""
    del gcc
    require_module("tflite_micro", "tflite-micro")
    require_module("ai_edge_litert", "ai-edge-litert")
    from ai_edge_litert import interpreter as litert
    from tflite_micro.python.tflite_micro import runtime

    rng = np.random.default_rng(3)
    x = ir.Tensor("x", (5, 5, 3), rg.random_qparams(rng))
    steps = [rg.conv(rng, "a", x, 4, (1, 1), (1, 1), (0, 0, 0, 0))]
    steps.append(rg.lookup(rng, "b", steps[-1][1]))
    steps.append(rg.conv(rng, "c", steps[-1][1], 3, (3, 3), (1, 1), (1, 1, 1, 1)))
    graph = ir.validate(dataclasses.replace(tflite_multipliers(rg.chain(x, steps), rng), extra_outputs=("a", "b"),
                                            extra_torch_output_shapes=((4, 5, 5), (4, 5, 5))))
    data = to_tflite(graph)
    batch = np.concatenate([rg.random_input(rng, graph, 3), np.full((1, 5, 5, 3), 127, np.int8),
                            np.full((1, 5, 5, 3), -128, np.int8)])
    values = tinyqat.simulate(graph, np.moveaxis(batch, -1, 1).copy(), layers=True)
    micro = runtime.Interpreter.from_bytes(data, arena_size=8 << 20)
    lite = litert.Interpreter(model_content=data, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    lite.allocate_tensors()
    details = lite.get_output_details()
    assert [d["name"] for d in details] == ["c", "a", "b"]
    for n, sample in enumerate(batch):
        micro.set_input(sample[None], 0)
        micro.invoke()
        lite.set_tensor(lite.get_input_details()[0]["index"], sample[None])
        lite.invoke()
        for i, name in enumerate(graph.outputs):
            np.testing.assert_array_equal(micro.get_output(i).reshape(-1), values[name][n].reshape(-1))
            np.testing.assert_array_equal(lite.get_tensor(details[i]["index"]).reshape(-1), values[name][n].reshape(-1))
