"""TFLite export (:mod:`tinyqat.export`): every export runs in TFLite Micro and in LiteRT's reference
kernels with the simulator's integers.

Oracles, per interpreter:

* TFLite Micro (``tflite-micro``, all tensors preserved): every tensor of the graph, for every
  sample, byte-equal to :func:`tinyqat.simulate`'s.  TFLite Micro is the reference for every op:
  its kernels are integer throughout, as tinyqat's.
* LiteRT (``ai-edge-litert``, ``BUILTIN_REF`` kernels): each op, run by the simulator on LiteRT's
  own input tensors, gives LiteRT's output tensor byte for byte, except FULLY_CONNECTED, whose
  reference kernel in LiteRT requantizes in floating point and may land 1 LSB away on a rounding
  tie; graphs without one must also give the simulator's final output.

Tensor ``i`` of an export is ``graph.tensors[i]`` (:mod:`tinyqat.export.tflite`), so tensors are
looked up by index.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
import torch
from conftest import require_module
from test_cli import assert_error, cli

import tinyqat
from tinyqat import ir
from tinyqat.export.scales import tflite_multiplier
from tinyqat.export.tflite import to_tflite
from tinyqat.models import REFERENCE, short_qat_artifact
from tinyqat.sim.interpreter import run_layers
from tinyqat.sim.kernels import KERNELS

ARENA_BYTES = 8 << 20
RANDOM_GRAPHS = 100
EXPORTABLE_KINDS = ("conv2d", "depthwise_conv2d", "fully_connected", "max_pool2d", "avg_pool2d", "clamp", "add",
                    "concat", "lookup", "reshape", "gather", "resize_nearest", "mul", "prelu", "log_softmax",
                    "mul_const")


def _interpreters() -> None:
    require_module("tflite_micro", "tflite-micro")
    require_module("ai_edge_litert", "ai-edge-litert")


def tflm_tensors(data: bytes, x: np.ndarray, count: int) -> list[np.ndarray]:
    """TFLite Micro's first ``count`` tensors for each sample of ``x`` (N, *input shape): ``count`` arrays (N, ...)."""
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(data, arena_size=ARENA_BYTES,
                                        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    per_sample = []
    for sample in x:
        it.set_input(sample[None], 0)
        it.invoke()
        per_sample.append([it.GetTensor(i, 0)["tensor_data"].reshape(-1) for i in range(count)])
    return [np.stack([s[i] for s in per_sample]) for i in range(count)]


def litert_tensors(data: bytes, x: np.ndarray, count: int) -> list[np.ndarray]:
    """LiteRT's (reference kernels) first ``count`` tensors for each sample of ``x``."""
    from ai_edge_litert import interpreter as litert

    it = litert.Interpreter(model_content=data, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
                            experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    per_sample = []
    for sample in x:
        it.set_tensor(it.get_input_details()[0]["index"], sample[None])
        it.invoke()
        per_sample.append([it.get_tensor(i).reshape(-1) for i in range(count)])
    return [np.stack([s[i] for s in per_sample]) for i in range(count)]


def check_tflm(graph: ir.Graph, data: bytes, x: np.ndarray) -> None:
    """Every tensor equals the simulator's; the message names the first diverging layer."""
    expected = run_layers(graph, x)
    got = tflm_tensors(data, x, len(graph.tensors))
    for op in graph.ops:
        i = graph.tensors.index(graph.tensor(op.output))
        want = expected[op.output].reshape(len(x), -1)
        assert np.array_equal(got[i], want), \
            f"TFLite Micro: first diverging layer '{op.name}' ({type(op).__name__}): " \
            f"{np.count_nonzero(got[i] != want)} of {want.size} bytes differ"


def check_litert(graph: ir.Graph, data: bytes, x: np.ndarray) -> None:
    """Each op equals the simulator on LiteRT's inputs (FULLY_CONNECTED within 1 LSB, see the module docstring)."""
    got = litert_tensors(data, x, len(graph.tensors))
    value = {t.name: got[i].reshape(len(x), *t.shape) for i, t in enumerate(graph.tensors)}
    for op in graph.ops:
        ins = [graph.tensor(n) for n in op.inputs]
        out = graph.tensor(op.output)
        want = KERNELS[type(op)](op, [value[n] for n in op.inputs], ins, out).astype(np.int64)
        diff = np.abs(value[op.output].astype(np.int64) - want)
        limit = 1 if isinstance(op, ir.FullyConnected) else 0
        assert diff.max(initial=0) <= limit, f"LiteRT: layer '{op.name}' ({type(op).__name__}) differs by {diff.max()}"
    if not any(isinstance(op, ir.FullyConnected) for op in graph.ops):
        assert np.array_equal(value[graph.output], run_layers(graph, x)[graph.output])


def edge_inputs(rng: np.random.Generator, graph: ir.Graph) -> np.ndarray:
    """Random samples starting with -128, 127, a saturating one, then all -128 and all 127."""
    x = rg.random_input(rng, graph, 3)
    return np.concatenate([x, np.full((1, *x.shape[1:]), -128, np.int8), np.full((1, *x.shape[1:]), 127, np.int8)])


# ---------------------------------------------------------------- reference networks


@pytest.fixture(scope="module")
def reference_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ir.Graph, Path]]:
    """The four MLPerf Tiny networks after a short QAT run, exported with the API (KWS with the CLI)."""
    tmp = tmp_path_factory.mktemp("tflite_ref")
    exports = {}
    for name, ref in REFERENCE.items():
        torch.manual_seed(0)
        artifact = short_qat_artifact(ref.build(), ref.input_shape, tmp / f"{name}.pt", seed=0)
        path = tmp / f"{name}.tflite"
        if name == "kws_ds_cnn":
            result = cli("export", artifact, "-o", path)
            assert result.exit_code == 0 and result.stdout.startswith(f"wrote {path} ("), result.output
        else:
            tinyqat.export_tflite(artifact, path)
        exports[name] = (tinyqat.load(artifact), path)
    return exports


@pytest.mark.parametrize("name", list(REFERENCE))
def test_reference_network_bit_exact_in_tflm_and_litert(name: str, reference_exports) -> None:
    _interpreters()
    graph, path = reference_exports[name]
    data = path.read_bytes()
    assert data == to_tflite(graph)  # deterministic bytes
    x = edge_inputs(np.random.default_rng(0), graph)
    check_tflm(graph, data, x)
    check_litert(graph, data, x)


def test_quantization_written_as_tflite_expects(reference_exports) -> None:
    """Weights per channel along TFLite's axis (conv 0, depthwise 3, fully connected 0), a one-output
    fully connected layer per tensor, int32 biases, and the graph's input / output qparams."""
    _interpreters()
    from ai_edge_litert import interpreter as litert

    graph, path = reference_exports["kws_ds_cnn"]
    it = litert.Interpreter(model_path=str(path), experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    details = {d["name"]: d for d in it.get_tensor_details()}
    for op in graph.ops:
        if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected)):
            w, b = details[f"{op.name}/weights"], details[f"{op.name}/bias"]
            axis = 3 if isinstance(op, ir.DepthwiseConv2d) else 0
            assert w["dtype"] == np.int8 and b["dtype"] == np.int32
            assert w["quantization_parameters"]["quantized_dimension"] == axis
            assert len(w["quantization_parameters"]["scales"]) == op.bias.size == w["shape"][axis]
            assert not w["quantization_parameters"]["zero_points"].any()
    for tensor, detail in ((graph.tensor(graph.input), it.get_input_details()[0]),
                           (graph.tensor(graph.output), it.get_output_details()[0])):
        assert detail["dtype"] == np.int8
        assert detail["quantization"] == (pytest.approx(tensor.qparams.scale, rel=1e-7), tensor.qparams.zero_point)

    one = dataclasses.replace(graph.ops[-1], weights=graph.ops[-1].weights[:1], bias=graph.ops[-1].bias[:1],
                              multiplier=graph.ops[-1].multiplier[:1], shift=graph.ops[-1].shift[:1])
    y = ir.Tensor(graph.output, (1,), graph.tensor(graph.output).qparams)
    tensors = tuple(y if t.name == graph.output else t for t in graph.tensors)
    single = tflite_multipliers(dataclasses.replace(graph, tensors=tensors, ops=(*graph.ops[:-1], one),
                                                    torch_output_shape=(1,)), np.random.default_rng(0))
    it = litert.Interpreter(model_content=to_tflite(single))
    scales = {d["name"]: d["quantization_parameters"]["scales"] for d in it.get_tensor_details()}
    assert len(scales[f"{one.name}/weights"]) == 1  # per tensor, as TFLite treats a single weight scale


class EveryOp(torch.nn.Module):
    """A QAT model with every exportable layer: stride-2 conv with PyTorch padding (PAD), ReLU6, depthwise,
    the three lookup tables, concat of different scales, max pool over padding (PADV2), average pool
    counting its padding (PAD), residual add, and a fully connected layer with one output (per tensor)."""

    def __init__(self) -> None:
        super().__init__()
        nn = torch.nn
        self.conv, self.relu6 = nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU6()
        self.dw, self.sigmoid, self.hardswish = nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Sigmoid(), nn.Hardswish()
        self.max_pool, self.avg_pool = nn.MaxPool2d(3, stride=2, padding=1), nn.AvgPool2d(3, stride=1, padding=1)
        self.fc, self.tanh, self.out = nn.Linear(16 * 4 * 4, 5), nn.Tanh(), nn.Linear(5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.relu6(self.conv(x))
        c = self.max_pool(torch.cat([a, self.hardswish(self.sigmoid(self.dw(a)))], 1))
        c = self.avg_pool(c) + c
        return self.out(self.tanh(self.fc(torch.flatten(c, 1))))


def test_qat_model_of_every_exportable_layer_bit_exact(tmp_path: Path) -> None:
    _interpreters()
    torch.manual_seed(0)
    graph = tinyqat.load(short_qat_artifact(EveryOp(), (3, 16, 16), tmp_path / "m.pt", seed=1))
    kinds = {type(op) for op in graph.ops}
    assert kinds == {ir.Conv2d, ir.DepthwiseConv2d, ir.Lookup, ir.Concat, ir.MaxPool2d, ir.AvgPool2d, ir.Add,
                     ir.FullyConnected}
    assert graph.ops[-1].bias.size == 1
    data = to_tflite(graph)
    x = edge_inputs(np.random.default_rng(0), graph)
    check_tflm(graph, data, x)
    check_litert(graph, data, x)


# ---------------------------------------------------------------- random graphs of every exportable op


def tflite_multipliers(graph: ir.Graph, rng: np.random.Generator) -> ir.Graph:
    """``graph`` with each weighted layer's multipliers derived, as TFLite derives them, from random
    float32 weight scales (real ratios in [1e-4, 2), left shifts included; one layer in ten with a channel
    whose ratio flushes to a zero multiplier); a lowered model has such multipliers by construction."""
    ops = []
    for op in graph.ops:
        if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected)):
            s_in, s_out = graph.tensor(op.input).qparams.scale, graph.tensor(op.output).qparams.scale
            per_tensor = isinstance(op, ir.FullyConnected) and op.bias.size == 1
            ratios = 10 ** rng.uniform(-4, 0.3, op.bias.size)
            if rng.random() < 0.1:
                ratios[0] = 1e-11
            pairs = [tflite_multiplier(s_in, float(np.float32(m * s_out / s_in)), s_out, per_tensor_product=per_tensor)
                     for m in ratios]
            op = dataclasses.replace(op, multiplier=np.array([p[0] for p in pairs]),
                                     shift=np.array([p[1] for p in pairs]))
        ops.append(op)
    return ir.validate(dataclasses.replace(graph, ops=tuple(ops)))


def random_graph(seed: int) -> ir.Graph:
    """1-6 random exportable ops (:data:`EXPORTABLE_KINDS`, builders of ``runtime_graphs``) reading earlier
    tensors; every other seed's weighted layers are 4-bit."""
    rng = np.random.default_rng(seed)
    x = ir.Tensor("x", tuple(int(v) for v in rng.integers(1, 9, 3)), rg.random_qparams(rng))
    tensors, steps = [x], []
    for k in range(int(rng.integers(1, 7))):
        kind = str(rng.choice(EXPORTABLE_KINDS))
        src = tensors[int(rng.integers(len(tensors)))]
        if len(src.shape) == 1:
            step = rg.fully_connected(rng, f"t{k}", src, int(rng.integers(1, 12))) if kind == "fully_connected" \
                else rg.lookup(rng, f"t{k}", src) if kind == "lookup" \
                else rg.log_softmax(rng, f"t{k}", src) if kind == "log_softmax" else rg.clamp(rng, f"t{k}", src)
        else:
            same = [t for t in tensors if t is not src and len(t.shape) == 3 and t.shape[:-1] == src.shape[:-1]]
            step = rg.random_op(rng, kind, f"t{k}", [src, *same])
        steps.append(step)
        tensors.append(step[1])
    graph = tflite_multipliers(rg.chain(x, steps), rng)
    return rg.to_int4(graph, rng, every=2) if seed % 2 else graph


def test_squeeze_excitation_gate_and_prelu_bit_exact_in_tflm_and_litert() -> None:
    """A map times its per-channel gate (global average pool -> (1, 1, C)), then PReLU with per-channel
    alphas: MUL broadcasts the gate, PRELU gets int8 alphas with the scale that gives the graph's pair."""
    _interpreters()
    for seed in range(6):
        rng = np.random.default_rng(seed)
        x = ir.Tensor("x", (int(rng.integers(2, 7)), int(rng.integers(2, 7)), int(rng.integers(1, 9))),
                      rg.random_qparams(rng))
        gate = rg.avg_pool("g", x, x.shape[:2], x.shape[:2], (0, 0), False, True)
        mul = rg.mul(rng, "m", x, gate[1])
        graph = rg.chain(x, [gate, mul, rg.prelu(rng, "p", mul[1], per_channel=bool(seed % 2))])
        data = to_tflite(graph)
        inputs = edge_inputs(rng, graph)
        check_tflm(graph, data, inputs)
        check_litert(graph, data, inputs)


def test_random_graphs_bit_exact_in_tflm_and_litert() -> None:
    """Random graphs of every exportable op (odd shapes, strides above the kernel, asymmetric and
    all-padding windows, zero points at the ends, clamps that TFLite cannot fuse).  A graph may be
    refused only for an average pool whose counted taps no TFLite form reproduces."""
    _interpreters()
    compared, refused = 0, []
    for seed in range(RANDOM_GRAPHS):
        graph = random_graph(seed)
        try:
            data = to_tflite(graph)
        except tinyqat.ExportError as exc:
            assert str(exc).startswith("layer 'avgpool_") and "no TFLite form" in str(exc), str(exc)
            refused.append(seed)
            continue
        x = edge_inputs(np.random.default_rng(seed), graph)
        check_tflm(graph, data, x)
        check_litert(graph, data, x)
        compared += 1
    assert compared >= 0.7 * RANDOM_GRAPHS, f"only {compared} graphs compared; refused: {refused}"


# ---------------------------------------------------------------- refusals and the command line


def test_ops_without_exact_tflite_form_are_refused() -> None:
    rng = np.random.default_rng(3)
    x = ir.Tensor("x", (4, 4, 3), rg.random_qparams(rng))
    fc = rg.fully_connected(rng, "f", x, 5)
    graph = tflite_multipliers(rg.chain(x, [fc, rg.softmax(rng, "s", fc[1])]), rng)
    with pytest.raises(tinyqat.ExportError, match=r"^layer 'softmax_s' \(Softmax\): no exact TFLite form"):
        to_tflite(graph)
    # average pool over padding, not counted, stride 2: TFLite counts differently in every form
    square = ir.Tensor("x", (6, 6, 2), x.qparams)
    pool = rg.avg_pool("p", square, (3, 3), (2, 2), (1, 1), False, False)
    with pytest.raises(tinyqat.ExportError, match=r"^layer 'avgpool_p' \(AvgPool2d\): padding"):
        to_tflite(rg.chain(square, [pool]))
    # a multiplier no float32 weight scale gives (hand-made graphs)
    conv = rg.conv(rng, "c", x, 2, (1, 1), (1, 1), (0, 0, 0, 0))
    bad = dataclasses.replace(conv[0], multiplier=np.array([1 << 30, (1 << 30) + 1]), shift=np.array([-1, -1]))
    with pytest.raises(tinyqat.ExportError, match=r"^layer 'conv_c' \(Conv2d\): channel 0's requantization"):
        to_tflite(rg.chain(x, [(bad, conv[1])]))
    # a left shift TFLite would overflow (undefined there; tinyqat saturates)
    s_in, s_out = x.qparams.scale, conv[1].qparams.scale
    q, e = tflite_multiplier(s_in, float(np.float32(1000 * s_out / s_in)), s_out, per_tensor_product=False)
    big = dataclasses.replace(conv[0], multiplier=np.array([q, q]), shift=np.array([e, e]), bias=np.array([2**22, 0]))
    with pytest.raises(tinyqat.ExportError, match=r"^layer 'conv_c' \(Conv2d\): a left shift .* overflow int32"):
        to_tflite(rg.chain(x, [(big, conv[1])]))


def test_cli_export_refuses_overwrite_and_unexportable(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.Softmax(dim=1))
    artifact = short_qat_artifact(model, (6,), tmp_path / "m.pt", seed=0)
    out = tmp_path / "m.tflite"
    out.write_bytes(b"mine")
    assert_error(cli("export", artifact, "-o", out), 2, "already exists", "--force")
    assert_error(cli("export", artifact, "-o", out, "--force"), 2, "layer '", "(Softmax)", "no exact TFLite form")
    assert out.read_bytes() == b"mine"
    assert_error(cli("export", artifact, "-o", tmp_path / "missing" / "m.tflite"), 2, "not a directory")


def test_vela_places_every_reference_network_on_the_ethos_u55(reference_exports, tmp_path: Path) -> None:
    """Vela compiles each export for an Ethos-U55 with 128 MACs/cycle and leaves no operator on the CPU
    (``benchmarks/vela.py`` prints its cycle estimates)."""
    require_module("ethosu.vela", "ethos-u-vela")
    for name, (_, path) in reference_exports.items():
        done = subprocess.run([sys.executable, "-m", "ethosu.vela", str(path), "--accelerator-config", "ethos-u55-128",
                               "--output-dir", str(tmp_path / name)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert re.search(r"^CPU operators = 0 ", done.stdout, re.MULTILINE), (name, done.stdout)
        assert (tmp_path / name / f"{name}_vela.tflite").is_file()


def test_help_lists_export() -> None:
    result = cli("export", "--help")
    assert result.exit_code == 0 and "TFLite" in result.stdout and "--force" in result.stdout
