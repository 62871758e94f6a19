"""The product with a constant (``x * self.scale``, a parameter or buffer of one value or one per channel):
TFLite int8 MUL with a constant int8 operand, per-tensor symmetric (``ir.MulConst``, issue 12).

* The simulator kernel is its formula element by element, on maps and vectors with -128 / 127 inputs, zero
  points at the ends and constants at +-127 and 0.
* ``tq_mul_const_s8`` (``tq_mul_s8`` with the constant as its broadcast second input) equals the simulator on the
  host (also in place) and under QEMU on Cortex-M4, M0+, M7, M33 and M55.
* TFLite Micro and LiteRT compute the same integers for the exported MUL with a constant operand.
* A QAT model with ``x * param`` ((C, 1, 1) parameter, trained), ``x * buffer`` ((1, C, 1, 1)), a scalar-shaped
  parameter and a ``(C,)`` constant on a vector prepares, trains, saves, builds and verifies bit-exact (host,
  ASan/UBSan, QEMU M4 and M0+); its QAT forward is the integer model; the parameter trains.
* A constant of another shape is refused in one line with what to do; a parameter used otherwise keeps its hint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
import torch
from conftest import require_tool
from test_export_tflite import _interpreters, check_litert, check_tflm, edge_inputs
from torch import nn

import tinyqat
from tinyqat import fixedpoint, ir
from tinyqat.codegen import emit
from tinyqat.codegen.arrays import const_arrays
from tinyqat.errors import UnsupportedOpError
from tinyqat.export.tflite import to_tflite
from tinyqat.models import short_qat_artifact
from tinyqat.qat import prepare_qat
from tinyqat.sim.kernels import mul_const as sim_mul_const


def _tensor(rng: np.random.Generator, name: str, shape: tuple[int, ...]) -> ir.Tensor:
    q = rg.random_qparams(rng)
    if rng.random() < 0.4:
        q = ir.QParams(q.scale, int(rng.choice([-128, 127])))
    return ir.Tensor(name, shape, q)


def _graph(rng: np.random.Generator) -> ir.Graph:
    """x (H, W, C) times a per-channel constant, times one value; then a vector times its constant."""
    h, w, c = (int(v) for v in rng.integers(1, 7, 3))
    x = _tensor(rng, "x", (h, w, c))
    a = rg.mul_const(rng, "a", x)
    b = rg.mul_const(rng, "b", a[1], per_channel=False)
    v = rg.reshape("v", b[1], (b[1].size,))
    return rg.chain(x, [a, b, v, rg.mul_const(rng, "c", v[1])])


def test_kernel_is_its_formula() -> None:
    for seed in range(6):
        rng = np.random.default_rng(seed)
        graph = _graph(rng)
        x = rg.random_input(rng, graph, 2)
        x[0] = -128
        x[1].reshape(-1)[::2] = 127
        layers = rg.reference_layers(graph, x)
        values = {"x": x, **{op.output: layers[k] for k, op in enumerate(graph.ops)}}
        for op in (o for o in graph.ops if isinstance(o, ir.MulConst)):
            a, t, y_t = values[op.input], graph.tensor(op.input), graph.tensor(op.output)
            assert int(np.abs(op.constant).max()) in (0, 127) and op.constant_scale > 0
            for i in np.ndindex(a.shape):
                product = (int(a[i]) - t.qparams.zero_point) * int(op.constant[i[-1]])
                want = int(fixedpoint.mbqm(product, op.multiplier, op.shift)) + y_t.qparams.zero_point
                assert values[op.output][i] == min(op.act_max, max(op.act_min, want)), (op.name, i)
            assert np.array_equal(sim_mul_const(op, [a], [t], y_t), values[op.output])


@pytest.mark.parametrize("seed", range(3))
def test_graphs_on_the_host(seed: int, tmp_path: Path, gcc: str) -> None:
    rng = np.random.default_rng(300 + seed)
    graph = _graph(rng)
    lib = rg.build(graph, tmp_path)
    rg.assert_bit_exact(lib, graph, rg.random_input(rng, graph, 4))


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus", "cortex-m7", "cortex-m33", "cortex-m55"])
def test_graphs_under_qemu(board: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    rng = np.random.default_rng(23)
    rg.assert_emulated_bit_exact((_graph(rng), _graph(rng)), board, tmp_path, lambda g: rg.random_input(rng, g, 3))


def test_kernel_in_place(tmp_path: Path, gcc: str) -> None:
    ffi, lib = rg.runtime_library(tmp_path, ["tq_mul_s8.c"])
    rng = np.random.default_rng(8)
    for per_channel in (True, False):
        x = _tensor(rng, "x", (3, 4, 5))
        graph = rg.chain(x, [rg.mul_const(rng, "y", x, per_channel)])
        op = graph.ops[0]
        data = rg.random_input(rng, graph, 1)
        arrays = {a.suffix: ffi.from_buffer(f"{a.values.dtype}_t[]", np.ascontiguousarray(a.values))
                  for a in const_arrays(op, graph)}
        params = ffi.new("tq_mul_const_s8_params *", {**dict(emit.scalar_fields(op, graph)), **arrays})
        buf = data[0].reshape(-1).copy()
        ptr = ffi.from_buffer("int8_t[]", buf)
        lib.tq_mul_const_s8(params, ptr, ptr)
        np.testing.assert_array_equal(buf, rg.reference_layers(graph, data)[0][0].reshape(-1))


def test_exported_mul_const_bit_exact_in_tflm_and_litert() -> None:
    _interpreters()
    for seed in range(4):
        rng = np.random.default_rng(seed)
        graph = _graph(rng)
        data = to_tflite(graph)
        x = edge_inputs(rng, graph)
        check_tflm(graph, data, x)
        check_litert(graph, data, x)


# --- a whole model ---------------------------------------------------------------------------------------------


class ScaleNet(nn.Module):
    """Learned per-channel scales (parameter (C, 1, 1)), a fixed buffer (1, C, 1, 1), a scalar-shaped parameter
    and a (C,) constant on the pooled vector."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=1)
        self.c2 = nn.Conv2d(6, 6, 1)
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, 6).reshape(6, 1, 1))
        self.register_buffer("mask", torch.tensor([1.0, -0.5, 0.0, 2.0, 0.25, -1.0]).reshape(1, 6, 1, 1))
        self.gain = nn.Parameter(torch.tensor(0.8))
        self.register_buffer("weights", torch.linspace(-1.0, 1.0, 6))
        self.fc = nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.c1(x)) * self.scale
        x = torch.relu(self.c2(self.mask * x))
        x = torch.mul(x, self.gain)
        v = x.mean((2, 3)).mul(self.weights)
        return self.fc(v)


@pytest.fixture(scope="module")
def scale_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    return short_qat_artifact(ScaleNet(), (3, 5, 5), tmp_path_factory.mktemp("scale") / "model.pt", steps=4)


def test_model_builds_and_verifies(scale_artifact: Path, tmp_path: Path, gcc: str) -> None:
    graph = tinyqat.build(scale_artifact, tmp_path / "host").graph
    consts = [op for op in graph.ops if isinstance(op, ir.MulConst)]
    assert len(consts) == 4 and {op.constant.size for op in consts} == {6}
    assert consts[1].constant[2] == 0 and len(set(consts[2].constant.tolist())) == 1
    report = tinyqat.verify(tmp_path / "host", n_random=8)
    assert report.mismatch is None and report.layers == len(graph.ops)
    assert tinyqat.verify(tmp_path / "host", n_random=2, sanitize=True).mismatch is None


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus"])
def test_model_under_qemu(board: str, scale_artifact: Path, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    tinyqat.build(scale_artifact, tmp_path / board, board=board)
    assert tinyqat.verify(tmp_path / board, n_random=3, emulate=True).mismatch is None


def test_model_qat_forward_is_the_integer_model_and_the_parameter_trains() -> None:
    y_fq, y_int = rg.qat_vs_integer(ScaleNet, (3, 5, 5))
    np.testing.assert_array_equal(y_fq, y_int)
    torch.manual_seed(0)
    gm = prepare_qat(ScaleNet(), (torch.randn(2, 3, 5, 5),))
    scale = next(p for n, p in gm.named_parameters() if p.shape == (6, 1, 1))
    before = scale.detach().clone()
    opt = torch.optim.SGD(gm.parameters(), lr=0.1)
    gm.train()
    for _ in range(2):
        opt.zero_grad()
        gm(torch.randn(8, 3, 5, 5)).square().mean().backward()
        opt.step()
    assert not torch.equal(before, scale.detach())


@pytest.mark.parametrize(("forward", "needle"), [
    (lambda m, x: m.c1(x) * m.row, "only a single value or one per channel"),
    (lambda m, x: m.c1(x) + m.scale, "wrap it in a layer"),
], ids=["spatial-constant", "added-parameter"])
def test_unsupported_forms_one_line(forward, needle: str) -> None:
    class Net(ScaleNet):
        def __init__(self) -> None:
            super().__init__()
            self.row = nn.Parameter(torch.ones(5))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return forward(self, x)

    with pytest.raises(UnsupportedOpError) as info:
        prepare_qat(Net(), (torch.randn(2, 3, 5, 5),))
    message = str(info.value)
    assert "\n" not in message and needle in message and "test_mul_const.py" in message, message
