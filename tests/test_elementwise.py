"""Elementwise ops and pointwise functions (issue 12): MUL with per-channel broadcast, PRELU, the new
table functions (hardsigmoid, silu, gelu, elu, leaky_relu, affine scalar arithmetic) and clamp forms.

* The simulator kernels equal their docstring formulas, element by element (:mod:`tinyqat.fixedpoint`).
* Randomized graphs (squeeze-excitation gates ``x * g`` with ``g`` of shape ``(1, 1, C)``, same-shape
  products, per-channel and single-alpha PReLU, every table function with random constants, zero
  points at -128 / 127, saturating scales, -128 / 127 inputs) equal the simulator layer by layer on
  the host (strict flags, cffi) and under QEMU on a Cortex-M4 and a Cortex-M0+.
* ``tq_mul_s8`` / ``tq_prelu_s8`` run in place as their contract says; the planner never puts a product
  over its broadcast gate.
* A whole QAT model using every construct prepares, trains, saves, builds and verifies bit-exact
  (host, also under ASan/UBSan, Cortex-M4 and Cortex-M0+ under QEMU); its QAT forward computes the
  integer model (>= 99.9 % of outputs exactly equal), and without fake quant it is the float model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
import torch
import torch.nn.functional as F
from conftest import require_tool
from torch import nn

import tinyqat
from tinyqat import fixedpoint, ir, quant
from tinyqat.codegen import emit
from tinyqat.codegen.arrays import const_arrays
from tinyqat.errors import UnsupportedOpError
from tinyqat.lower import lower_file
from tinyqat.memory.planner import GreedyPlanner, in_place_rules
from tinyqat.models import short_qat_artifact
from tinyqat.qat import enable_fake_quant, prepare_qat

NEW_FUNCTIONS = ("hardsigmoid", "silu", "gelu", "gelu_tanh", "elu", "leaky_relu", "affine")


def _tensor(rng: np.random.Generator, name: str, shape: tuple[int, ...]) -> ir.Tensor:
    """A tensor with random quantization; zero points at the int8 ends one time in three."""
    q = rg.random_qparams(rng)
    if rng.random() < 0.35:
        q = ir.QParams(q.scale, int(rng.choice([-128, 127])))
    return ir.Tensor(name, shape, q)


def _gate_graph(rng: np.random.Generator) -> ir.Graph:
    """x (H, W, C) -> global average g (1, 1, C) -> hardsigmoid gate -> x * gate (broadcast), gate * x-shaped
    products, PReLU (per channel, single alpha), every new table function with random constants."""
    h, w, c = (int(v) for v in rng.integers(1, 7, 3))
    x = _tensor(rng, "x", (h, w, c))
    pool = rg.avg_pool("g", x, (h, w), (h, w), (0, 0), False, True)
    gate = rg.lookup(rng, "gate", pool[1], "hardsigmoid")
    se = rg.mul(rng, "se", x, gate[1])
    steps = [pool, gate, se, rg.mul(rng, "sq", x, x), rg.mul(rng, "raw_gate", x, pool[1]),
             rg.prelu(rng, "pc", se[1]), rg.prelu(rng, "p1", x, per_channel=False)]
    steps += [rg.lookup(rng, f"f_{f}", x, f) for f in NEW_FUNCTIONS]
    steps.append(rg.mul(rng, "last", steps[-1][1], x))  # in place over a dying same-shape operand
    return rg.chain(x, steps)


def _vector_graph(rng: np.random.Generator) -> ir.Graph:
    x = _tensor(rng, "v", (int(rng.integers(1, 40)),))
    p = rg.prelu(rng, "pv", x)
    return rg.chain(x, [p, rg.mul(rng, "mv", p[1], x), rg.lookup(rng, "lv", x, "leaky_relu")])


# --- the simulator is its formula ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_mul_and_prelu_kernels_are_their_formulas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    graph = _gate_graph(rng)
    x = rg.random_input(rng, graph, 2)
    values = dict(zip([op.output for op in graph.ops], rg.reference_layers(graph, x), strict=True)) | {"x": x}
    for op in graph.ops:
        if not isinstance(op, (ir.Mul, ir.PRelu)):
            continue
        ins = [graph.tensor(t) for t in op.inputs]
        zp_out = graph.tensor(op.output).qparams.zero_point
        a = values[op.inputs[0]].astype(np.int64)
        want = np.empty(a.shape, np.int64)
        for idx in np.ndindex(a.shape):
            xc = int(a[idx]) - ins[0].qparams.zero_point
            if isinstance(op, ir.Mul):
                b = values[op.inputs[1]]
                bv = int(b[idx] if b.shape == a.shape else b[(idx[0], 0, 0, idx[-1])]) - ins[1].qparams.zero_point
                y = int(fixedpoint.mbqm(np.int64(xc * bv), op.multiplier, op.shift)) + zp_out
                want[idx] = min(max(y, op.act_min), op.act_max)
            else:
                pos, neg = (op.multiplier_pos, op.shift_pos), (op.multiplier_neg, op.shift_neg)
                v = xc if xc >= 0 else xc * int(op.alpha[idx[-1]])
                y = int(fixedpoint.mbqm(np.int64(v), *(pos if xc >= 0 else neg))) + zp_out
                want[idx] = min(max(y, -128), 127)
        np.testing.assert_array_equal(values[op.output], want, err_msg=op.name)


def test_leaky_relu_table_is_tflite_rule_and_close_to_float() -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        slope = float(rng.choice([0.0, 0.01, 0.2, 1.0, 1.5, -0.3]))
        x_q, y_q = rg.random_qparams(rng), rg.random_qparams(rng)
        table = quant.leaky_relu_table(slope, x_q.scale, x_q.zero_point, y_q.scale, y_q.zero_point)
        real = quant.LUT_FUNCTIONS["leaky_relu"](x_q.scale * (np.arange(-128, 128) - x_q.zero_point), slope)
        exact = np.clip(np.round(real / y_q.scale) + y_q.zero_point, -128, 127)
        assert np.abs(table - exact).max() <= 1, (slope, x_q, y_q)


def test_lookup_functions_match_torch() -> None:
    """The float64 table functions are PyTorch's functions (the QAT forward uses those)."""
    v = np.linspace(-8, 8, 401)
    t = torch.from_numpy(v)
    torch_fns = {"hardsigmoid": F.hardsigmoid(t), "silu": F.silu(t), "gelu": F.gelu(t),
                 "gelu_tanh": F.gelu(t, approximate="tanh"), "elu": F.elu(t, 0.7),
                 "leaky_relu": F.leaky_relu(t, 0.2), "affine": t * -1.5 + 0.25}
    params = {"elu": (0.7,), "leaky_relu": (0.2,), "affine": (-1.5, 0.25)}
    for name, want in torch_fns.items():
        np.testing.assert_allclose(quant.LUT_FUNCTIONS[name](v, *params.get(name, ())), want.numpy(), atol=1e-12,
                                   err_msg=name)


# --- C kernels: host and QEMU -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_elementwise_graphs_on_the_host(seed: int, tmp_path: Path, gcc: str) -> None:
    rng = np.random.default_rng(100 + seed)
    for k, graph in enumerate((_gate_graph(rng), _vector_graph(rng))):
        lib = rg.build(graph, tmp_path / str(k))
        rg.assert_bit_exact(lib, graph, rg.random_input(rng, graph, 4))


def test_host_graphs_cover_both_output_stages() -> None:
    """The host graphs hold mul and prelu multipliers with a right shift (the kernels' fused stage) and
    without one (the general stage)."""
    right_shift = {"mul": set(), "prelu": set()}
    for seed in range(4):
        rng = np.random.default_rng(100 + seed)
        for graph in (_gate_graph(rng), _vector_graph(rng)):
            for op in graph.ops:
                if isinstance(op, ir.Mul):
                    right_shift["mul"].add(op.shift <= -1)
                if isinstance(op, ir.PRelu):
                    right_shift["prelu"] |= {op.shift_pos <= -1, op.shift_neg <= -1}
    assert right_shift == {"mul": {True, False}, "prelu": {True, False}}


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m0plus"])
def test_elementwise_graphs_under_qemu(board: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    rng = np.random.default_rng(7)
    rg.assert_emulated_bit_exact((_gate_graph(rng), _gate_graph(rng), _vector_graph(rng)), board, tmp_path,
                                 lambda g: rg.random_input(rng, g, 3))


def test_mul_and_prelu_in_place(tmp_path: Path, gcc: str) -> None:
    """output == input1 with a broadcast gate, output == input1 == input2, and prelu's output == input."""
    ffi, lib = rg.runtime_library(tmp_path, ["tq_mul_s8.c", "tq_prelu_s8.c"])
    rng = np.random.default_rng(3)
    x = _tensor(rng, "x", (3, 4, 5))
    pool = rg.avg_pool("g", x, (3, 4), (3, 4), (0, 0), False, True)
    graph = rg.chain(x, [pool, rg.mul(rng, "m", x, pool[1]), rg.mul(rng, "s", x, x), rg.prelu(rng, "p", x)])
    data = rg.random_input(rng, graph, 1)
    values = dict(zip([op.output for op in graph.ops], rg.reference_layers(graph, data), strict=True)) | {"x": data}
    for op in graph.ops[1:]:
        kind = "mul" if isinstance(op, ir.Mul) else "prelu"
        arrays = {a.suffix: ffi.from_buffer("int8_t[]", np.ascontiguousarray(a.values))
                  for a in const_arrays(op, graph)}
        params = ffi.new(f"tq_{kind}_s8_params *", {**dict(emit.scalar_fields(op, graph)), **arrays})
        buf = data[0].reshape(-1).copy()
        ptr = ffi.from_buffer("int8_t[]", buf)
        gate = values[op.inputs[-1]][0].reshape(-1).copy()
        second = [] if kind == "prelu" else [ptr if op.inputs[1] == "x" else ffi.from_buffer("int8_t[]", gate)]
        getattr(lib, f"tq_{kind}_s8")(params, ptr, *second, ptr)
        np.testing.assert_array_equal(buf, values[op.output][0].reshape(-1), err_msg=op.name)


def test_planner_never_writes_a_product_over_its_gate() -> None:
    """x -> l (table) -> g = pool(l) -> m = l * g: m may take l's bytes, never g's (smaller, broadcast)."""
    rng = np.random.default_rng(4)
    x = _tensor(rng, "x", (4, 4, 6))
    lut = rg.lookup(rng, "l", x, "silu")
    pool = rg.avg_pool("g", lut[1], (4, 4), (4, 4), (0, 0), False, True)
    graph = rg.chain(x, [lut, pool, rg.mul(rng, "m", lut[1], pool[1])])
    assert {(r.input, r.output) for r in in_place_rules(graph) if r.step == 2} == {("l", "m")}
    plan = GreedyPlanner().plan(graph)
    assert not plan.allocation("m").overlaps(plan.allocation("g"))


# --- the QAT front end: every construct, one whole model ------------------------------------------------


class SqueezeExcite(nn.Module):
    """torchvision-style squeeze-excitation: pool, 1x1 reduce + ReLU, 1x1 expand + Hardsigmoid, gate * x."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, 4, 1)
        self.fc2 = nn.Conv2d(4, c, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gate(self.fc2(F.relu(self.fc1(self.pool(x))))) * x


class Everything(nn.Module):
    """Every elementwise construct of issue 12 (first half) in one network."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.se = SqueezeExcite(8)
        self.prelu = nn.PReLU(8)
        self.prelu1 = nn.PReLU()
        self.c2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.SiLU()
        self.gelu = nn.GELU(approximate="tanh")
        self.elu = nn.ELU(0.5)
        self.leaky = nn.LeakyReLU(0.1)
        self.hsig = nn.Hardsigmoid()
        self.fc = nn.Linear(8 * 6 * 6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.c1(x).clamp(-1.0, 3.0)  # fused into the conv's range
        x = self.se(x)
        x = self.prelu(x) * 0.5 + 1
        x = self.prelu1(x - 0.5)
        x = self.act(self.bn(self.c2(x)))
        x = 2 - F.gelu(x) / 3
        x = self.gelu(torch.clip(x, min=-2.0))
        x = F.elu(-x, 0.5) + self.elu(x)
        x = F.leaky_relu(self.leaky(x), 0.05)
        x = F.hardsigmoid(x) * x.mul(self.hsig(x))
        x = F.hardtanh(x.clamp_max(2.0), -1.0, 1.0) * F.silu(x)
        x = torch.clamp(x, min=0) + F.relu6(x)
        x = torch.div(torch.sub(F.hardswish(x), 0.1), 2.0).clamp_min(-0.5) * torch.sigmoid(x)
        return self.fc(torch.flatten(x, 1))


@pytest.fixture(scope="module")
def everything_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("elementwise") / "model.pt"
    torch.manual_seed(0)
    return short_qat_artifact(Everything(), (3, 6, 6), path, steps=4)


def test_every_construct_prepares_into_elementwise_ops(everything_artifact: Path) -> None:
    art = torch.load(everything_artifact, weights_only=True)
    ops = [n["op"] for n in art["nodes"]]
    for op in ("mul", "prelu", "hardsigmoid", "silu", "gelu", "gelu_tanh", "elu", "leaky_relu", "affine", "hardtanh"):
        assert op in ops, op
    graph = lower_file(everything_artifact)
    kinds = {type(op).__name__ for op in graph.ops}
    assert {"Mul", "PRelu", "Lookup"} <= kinds
    se = next(op for op in graph.ops if isinstance(op, ir.Mul) and graph.tensor(op.inputs[1]).shape == (1, 1, 8))
    assert graph.tensor(se.inputs[0]).shape == (6, 6, 8)  # the gate broadcasts over the map
    constants = {(n["op"], tuple(sorted(n["attrs"].items()))) for n in art["nodes"] if n["op"] in ("elu", "leaky_relu")}
    assert constants == {("elu", (("alpha", 0.5),)), ("leaky_relu", (("negative_slope", 0.1),)),
                         ("leaky_relu", (("negative_slope", 0.05),))}  # module attributes and positional args
    assert art["nodes"][0]["attrs"]["activation"] == [-1.0, 3.0]  # clamp(-1, 3) fused into the conv
    assert isinstance(graph.ops[0], ir.Conv2d) and not isinstance(graph.ops[1], ir.Clamp)


def test_prepared_model_without_fake_quant_is_the_float_model() -> None:
    """Every construct keeps its constants and operand order: with fake quant off, the QAT model
    computes what the float model computes."""
    torch.manual_seed(2)
    model = Everything().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.PReLU):
                m.weight.uniform_(-0.5, 0.9)
    gm = prepare_qat(model, (torch.randn(1, 3, 6, 6),)).eval()
    enable_fake_quant(gm, False)
    x = torch.randn(32, 3, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(gm(x), model(x), rtol=1e-4, atol=1e-5)


def test_everything_model_qat_forward_is_the_integer_model(everything_artifact: Path) -> None:
    y_fq, y_int = rg.qat_vs_integer(Everything, (3, 6, 6))
    diff = np.abs(y_fq - y_int)
    assert (diff == 0).mean() >= 0.999, f"max {diff.max()}, exactly equal {(diff == 0).mean():.4f}"


def test_everything_model_builds_and_verifies(everything_artifact: Path, tmp_path: Path, gcc: str) -> None:
    out = tmp_path / "host"
    tinyqat.build(everything_artifact, out)
    report = tinyqat.verify(out, n_random=8)
    assert report.mismatch is None and report.layers == len(lower_file(everything_artifact).ops)
    assert tinyqat.verify(out, n_random=2, sanitize=True).mismatch is None  # ASan / UBSan harness


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus"])
def test_everything_model_under_qemu(board: str, everything_artifact: Path, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    out = tmp_path / board
    tinyqat.build(everything_artifact, out, board=board)
    assert tinyqat.verify(out, n_random=3, emulate=True).mismatch is None


@pytest.mark.parametrize(("forward", "needle"), [
    (lambda x: x / x.relu(), "div of two tensors"),
    (lambda x: 1 / x, "division of a tensor by a nonzero constant"),
    (lambda x: x / 0, "division of a tensor by a nonzero constant"),
    (lambda x: x.clamp(2.0, 1.0), "min <= max"),
    (lambda x: x * x.mean(dim=1, keepdim=True), "per-channel gate"),
    (lambda x: torch.div(x, 2, rounding_mode="floor"), "rounding_mode"),
], ids=["tensor-div", "scalar-over-tensor", "div-zero", "clamp-reversed", "spatial-broadcast", "floor-div"])
def test_unsupported_forms_one_line(forward, needle: str) -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return forward(self.conv(x))

    with pytest.raises(UnsupportedOpError) as info:
        prepare_qat(Net(), (torch.randn(1, 2, 4, 4),))
    message = str(info.value)
    assert needle in message and "\n" not in message


class HandwrittenHardswish(nn.Module):
    """``y * F.relu6(y + 3) / 6`` and ``(y + 3).clamp(0, 6) / 6`` written out, as older code bases do."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return y * F.relu6(y + 3) / 6 + (y + 3).clamp(0, 6) / 6


def test_clamp_after_a_table_folds_into_it(tmp_path: Path, gcc: str) -> None:
    path = short_qat_artifact(HandwrittenHardswish(), (2, 5, 5), tmp_path / "m.pt", steps=3)
    graph = lower_file(path)
    kinds = [type(op).__name__ for op in graph.ops]
    assert "Clamp" not in kinds and kinds.count("Lookup") == 4 and kinds.count("Mul") == 1, kinds
    tinyqat.build(path, tmp_path / "out")
    assert tinyqat.verify(tmp_path / "out", n_random=4).mismatch is None
