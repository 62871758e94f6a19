"""Tensor plumbing: shape queries as constants, data movement (relabels and channel gathers),
nearest-neighbour upsampling, a final (log-)softmax deployed as logits, BatchNorm+activation modules
from model libraries, and the error messages of what stays unsupported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
import torch
import torch.nn.functional as F
from conftest import require_tool
from torch import nn

import tinyqat
from tinyqat import ir
from tinyqat.errors import UnsupportedOpError
from tinyqat.memory.planner import GreedyPlanner, in_place_rules
from tinyqat.models import short_qat_artifact, shufflenet_v2_tiny
from tinyqat.movement import Move, classify
from tinyqat.sim import kernels
from tinyqat.toolchain.cffi_model import load_model
from tinyqat.toolchain.compiler import compile_shared


def _index(shape: tuple[int, ...]) -> torch.Tensor:
    return torch.arange(int(np.prod(shape))).reshape(shape)


# ---------------------------------------------------------------- what a move is on channels-last bytes


@pytest.mark.parametrize(("shape", "fn", "want"), [
    ((8, 1, 1), lambda t: t.squeeze(-1).squeeze(-1), Move("alias")),
    ((8,), lambda t: t.unsqueeze(-1).unsqueeze(-1), Move("alias")),
    ((6,), lambda t: t.unsqueeze(0).permute(1, 0), Move("alias")),  # (6,) -> (6, 1): a relabel of a vector
    ((4, 1, 5), lambda t: t.squeeze(1), Move("alias")),  # (C, 1, L) -> (C, L): the same (1, L, C) bytes
    ((8, 3, 2), lambda t: t[2:5], Move("gather", (2, 3, 4))),
    ((6, 2, 2), lambda t: t.view(2, 3, 2, 2).transpose(0, 1).reshape(6, 2, 2), Move("gather", (0, 3, 1, 4, 2, 5))),
    ((5,), lambda t: t[[4, 0, 0]], Move("gather", (4, 0, 0))),
])
def test_classify_moves(shape: tuple[int, ...], fn, want: Move) -> None:
    index = fn(_index(shape))
    assert classify(shape, tuple(index.shape), index.numpy()) == want


@pytest.mark.parametrize(("shape", "fn", "why"), [
    ((2, 3, 4), lambda t: t.transpose(1, 2), "between pixels"),
    ((2, 3, 4), lambda t: t.reshape(6, 4), "between pixels"),
    ((2, 3, 4), lambda t: t.reshape(2, 3, 2, 2), "4-D"),
])
def test_classify_refuses_spatial_moves(shape: tuple[int, ...], fn, why: str) -> None:
    index = fn(_index(shape))
    reason = classify(shape, tuple(index.shape), index.numpy())
    assert isinstance(reason, str) and why in reason


# ---------------------------------------------------------------- simulator kernels against naive loops


@pytest.mark.parametrize("seed", range(4))
def test_move_kernels_equal_naive_loops(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = ir.Tensor("x", tuple(int(v) for v in rng.integers(1, 6, 3)), rg.random_qparams(rng))
    batch = rg.random_input(rng, rg.chain(x, [rg.reshape("r", x, (x.size,))]), 3)
    g, gy = rg.gather(rng, "g", x)
    u, uy = rg.resize_nearest("u", x, (int(rng.integers(1, 4)), int(rng.integers(1, 4))))
    got_g = kernels.KERNELS[ir.Gather](g, [batch], [x], gy)
    got_u = kernels.KERNELS[ir.ResizeNearest](u, [batch], [x], uy)
    h, w, c = x.shape
    for n in range(3):
        for p in range(h * w):
            for j, k in enumerate(g.index):
                assert got_g[n].reshape(-1)[p * len(g.index) + j] == batch[n].reshape(-1)[p * c + k]
        for oy in range(uy.shape[0]):
            for ox in range(uy.shape[1]):
                assert np.array_equal(got_u[n, oy, ox], batch[n, oy // u.scale[0], ox // u.scale[1]])


# ---------------------------------------------------------------- C kernels, in place


def test_in_place_gather_and_reshape_bit_exact(tmp_path: Path, gcc: str) -> None:
    """A channel slice over the conv output it reads (d <= 0) and a reshape at d = 0 (moves nothing),
    extreme inputs; the shuffle (not increasing) gets no in-place rule."""
    rng = np.random.default_rng(7)
    x = ir.Tensor("x", (5, 3, 2), ir.QParams(0.05, -128))
    steps = [rg.conv(rng, "c", x, 6, (1, 1), (1, 1), (0, 0, 0, 0))]
    steps.append(rg.gather(rng, "s", steps[-1][1], (1, 2, 4, 5)))
    steps.append(rg.gather(rng, "h", steps[-1][1], (0, 2, 1, 3)))
    steps.append(rg.reshape("v", steps[-1][1], (steps[-1][1].size,)))
    steps.append(rg.lookup(rng, "l", steps[-1][1]))
    graph = rg.chain(x, steps)
    rules = {r.output: r for r in in_place_rules(graph)}
    assert rules["s"].d_max == 0 and not rules["s"].exact and "h" not in rules and rules["v"].exact
    planner = GreedyPlanner(kernels="portable")
    plan = planner.plan(graph)
    assert plan.offset("s") <= plan.offset("c") < plan.offset("s") + 5 * 3 * 4  # over its input
    assert plan.offset("v") == plan.offset("h")
    out = rg.emit(graph, tmp_path / "pkg", planner=planner)
    lib = load_model(compile_shared(out, tmp_path / "build"), "net")
    inputs = np.stack([rg.random_input(rng, graph, 2)[0], np.full(x.shape, 127, np.int8),
                       np.full(x.shape, -128, np.int8)])
    rg.assert_bit_exact(lib, graph, inputs)


def _plumbing_chain(rng: np.random.Generator) -> ir.Graph:
    """conv -> gather -> resize -> gather -> reshape to a vector -> lookup -> gather of the vector,
    random shapes, factors and indices (slices, shuffles, repeats); each op reads the previous output."""
    x = ir.Tensor("x", tuple(int(v) for v in rng.integers(1, 7, 3)), rg.random_qparams(rng))
    steps = [rg.conv(rng, "c", x, int(rng.integers(1, 9)), (1, 1), (1, 1), (0, 0, 0, 0))]
    steps.append(rg.gather(rng, "g1", steps[-1][1]))
    steps.append(rg.resize_nearest("u", steps[-1][1], (int(rng.integers(1, 4)), int(rng.integers(1, 4)))))
    steps.append(rg.gather(rng, "g2", steps[-1][1]))
    steps.append(rg.reshape("v", steps[-1][1], (steps[-1][1].size,)))
    steps.append(rg.lookup(rng, "l", steps[-1][1]))
    steps.append(rg.gather(rng, "g3", steps[-1][1]))
    return rg.chain(x, steps)


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus"])
def test_emulated_plumbing_kernels_are_bit_exact(board: str, tmp_path: Path) -> None:
    """Randomized gather / resize / reshape layers under QEMU, planned for the board (in place where
    the planner chose), every layer equal to the simulator on random and extreme inputs."""
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    rng = np.random.default_rng(23)
    rg.assert_emulated_bit_exact((_plumbing_chain(rng) for _ in range(3)), board, tmp_path,
                                 lambda g: rg.random_input(rng, g, 3))


# ---------------------------------------------------------------- whole models through prepare_qat


class BatchNormAct2d(nn.BatchNorm2d):
    """A faithful stand-in for timm's ``BatchNormAct2d`` (timm/layers/norm_act.py): a BatchNorm2d
    subclass with ``drop`` and ``act`` sub-modules whose forward asserts on ``x.ndim`` with a plain
    Python ``assert`` (timm's ``_assert``), which torch.fx cannot trace, then runs ``F.batch_norm``."""

    def __init__(self, num_features: int, act_layer: type[nn.Module] = nn.ReLU) -> None:
        super().__init__(num_features)
        self.drop = nn.Identity()
        self.act = act_layer()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.ndim == 4, f"expected 4D input (got {x.ndim}D input)"
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        x = F.batch_norm(x, self.running_mean if not self.training or self.track_running_stats else None,
                         self.running_var if not self.training or self.track_running_stats else None,
                         self.weight, self.bias, bn_training, momentum, self.eps)
        return self.act(self.drop(x))


class PlumbingNet(nn.Module):
    """Every construct: timm-style BN+act, chunk, split, channel slice, channel shuffle, nearest upsampling,
    a pool sized by ``x.shape[-1]``, squeeze / unsqueeze / permute of a vector, a final log_softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = BatchNormAct2d(8)
        self.conv2 = nn.Conv2d(4, 4, 1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv3 = nn.Conv2d(6, 12, 3, stride=2, padding=1)
        self.se = nn.Conv2d(12, 12, 1)
        self.fc = nn.Linear(12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn1(self.conv1(x))
        a, b = x.chunk(2, dim=1)
        x = torch.cat([a, F.relu(self.conv2(b))], 1)
        n, c, h, w = x.size()
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, -1, h, w)
        x = self.up(self.dw(x))
        left, right = torch.split(x, [2, 6], dim=1)
        x = F.relu(self.conv3(right[:, :6] + F.interpolate(left, scale_factor=1)[:, [0, 1, 1, 0, 0, 1]]))
        x = F.relu6(F.avg_pool2d(x, x.shape[-1]).squeeze(-1).squeeze(-1))  # a clamp on the (N, 12) vector
        x = self.se(x[:, :, None, None]).flatten(1)  # back to a 1 x 1 map for a conv
        x = x.unsqueeze(1).permute(0, 2, 1).flatten(1)
        return F.log_softmax(self.fc(x), dim=1)


class KwsTutorial(nn.Module):
    """The torchaudio speech-command tutorial's M5 ending: ``F.avg_pool1d(x, x.shape[-1])``,
    ``x.permute(0, 2, 1)``, a Linear on ``(N, 1, C)`` and ``F.log_softmax(x, dim=2)``; with a 1-D
    nearest upsampling and a channel slice of the 1-D map before it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 8, 9, stride=4)
        self.bn = nn.BatchNorm1d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(F.relu(self.bn(self.conv(x))), scale_factor=3)
        x = torch.cat([x[:, 4:], x[:, :4]], dim=1)
        x = F.avg_pool1d(x, x.shape[-1])
        x = x.permute(0, 2, 1)
        return F.log_softmax(self.fc(x), dim=2)


def _short_qat(model: nn.Module, shape: tuple[int, ...], path: Path) -> tuple[nn.Module, Path]:
    """prepare_qat(deploy_logits=True), three SGD steps on an NLL loss, save; returns (QAT model, path)."""
    gen = torch.Generator().manual_seed(0)
    qat = tinyqat.prepare_qat(model, (torch.randn(2, *shape, generator=gen),), deploy_logits=True)
    opt = torch.optim.SGD(qat.parameters(), lr=1e-3)
    for _ in range(3):
        loss = F.nll_loss(qat(torch.randn(8, *shape, generator=gen)).reshape(8, -1), torch.zeros(8, dtype=torch.long))
        opt.zero_grad()
        loss.backward()
        opt.step()
    tinyqat.save(qat.eval(), path)
    return qat, path


@pytest.fixture(scope="module")
def plumbing_qat(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Path]:
    torch.manual_seed(0)
    return _short_qat(PlumbingNet(), (3, 12, 12), tmp_path_factory.mktemp("plumbing") / "model.pt")


@pytest.fixture(scope="module")
def plumbing_artifact(plumbing_qat: tuple[nn.Module, Path]) -> Path:
    return plumbing_qat[1]


def test_plumbing_net_prepares_into_moves(plumbing_artifact: Path) -> None:
    graph = tinyqat.build(plumbing_artifact, plumbing_artifact.parent / "out", board="cortex-m4").graph
    kinds = [type(op).__name__ for op in graph.ops]
    assert {"Gather", "ResizeNearest"} <= set(kinds) and kinds.count("Reshape") == 2  # to the vector and back
    layers = json.loads((plumbing_artifact.parent / "out" / "model.json").read_text())["layers"]
    assert all(layer["in_place"].endswith("d = 0") for layer in layers if layer["op"] == "reshape")  # no move
    assert graph.torch_output_shape == (5,) and graph.tensor(graph.output).shape == (5,)  # the logits
    report = tinyqat.verify(plumbing_artifact.parent / "out", n_random=3)
    assert report.ok, report.mismatch


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus"])
def test_plumbing_net_bit_exact_under_qemu(plumbing_artifact: Path, board: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    tinyqat.build(plumbing_artifact, tmp_path / "out", board=board)
    report = tinyqat.verify(tmp_path / "out", n_random=2, emulate=True)
    assert report.ok, report.mismatch


def test_simulator_agrees_with_fake_quant(plumbing_qat: tuple[nn.Module, Path]) -> None:
    """The QAT forward's plumbing is the lowered graph's: the logits the fake-quant model feeds its final
    log_softmax, on the output grid, are the simulator's int8 outputs exactly (the QAT forward is exact)."""
    qat, path = plumbing_qat
    logits = []
    final = next(m for m in qat.modules() if type(m).__name__ == "DeployedAsLogits")
    hook = final.register_forward_hook(lambda m, args, out: logits.append(args[0]))
    x = torch.randn(64, 3, 12, 12, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        qat.eval()(x)
    hook.remove()
    graph = tinyqat.load(path)
    y_int = tinyqat.simulate(graph, tinyqat.quantize_input(graph, x))
    q = graph.tensor(graph.output).qparams
    y_fq = np.round(logits[0].numpy() / np.float32(q.scale)) + q.zero_point
    assert y_int.shape == (64, 5)
    np.testing.assert_array_equal(y_fq, y_int)


def test_kws_tutorial_ending(tmp_path: Path) -> None:
    torch.manual_seed(0)
    _, path = _short_qat(KwsTutorial(), (1, 64), tmp_path / "model.pt")
    graph = tinyqat.build(path, tmp_path / "out", board="cortex-m0plus").graph
    assert graph.torch_output_shape == (1, 4) and not any(isinstance(op, ir.Reshape) for op in graph.ops)
    assert [type(op).__name__ for op in graph.ops].count("Gather") == 2
    assert next(op for op in graph.ops if isinstance(op, ir.ResizeNearest)).scale == (1, 3)
    report = tinyqat.verify(tmp_path / "out", n_random=2)
    assert report.ok, report.mismatch


def test_shufflenet_v2_tiny_bit_exact_under_qemu(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    torch.manual_seed(0)
    short_qat_artifact(shufflenet_v2_tiny(), (3, 32, 32), tmp_path / "model.pt", seed=0, steps=2)
    result = tinyqat.build(tmp_path / "model.pt", tmp_path / "out", board="cortex-m4")
    assert sum(isinstance(op, ir.Gather) for op in result.graph.ops) == 6  # 2 chunks x 2 halves + 2 shuffles
    report = tinyqat.verify(tmp_path / "out", n_random=1, emulate=True)
    assert report.ok, report.mismatch


def test_final_softmax_deployed_as_logits(tmp_path: Path) -> None:
    """With deploy_logits a final softmax is trained as written and left out of the int8 graph."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(16, 3), nn.Softmax(dim=1))
    qat = tinyqat.prepare_qat(model, (torch.randn(2, 3, 4, 4),), deploy_logits=True)
    x = torch.randn(8, 3, 4, 4)
    assert torch.allclose(qat(x).sum(1), torch.ones(8))  # still a softmax in training
    tinyqat.save(qat.eval(), tmp_path / "m.pt")
    graph = tinyqat.load(tmp_path / "m.pt")
    assert type(graph.ops[-1]).__name__ == "FullyConnected" and graph.tensor(graph.output).shape == (3,)


# ---------------------------------------------------------------- what is refused, and how


def _prepare_error(model: nn.Module, shape: tuple[int, ...], **kwargs) -> str:
    with pytest.raises(UnsupportedOpError) as info:
        tinyqat.prepare_qat(model, (torch.randn(2, *shape),), **kwargs)
    message = str(info.value)
    assert "\n" not in message and "README section 'Supported layers'" in message
    assert "tinyqat supports" not in message and len(message) < 450, message
    return message


class _Lambda(nn.Module):
    def __init__(self, fn) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self, x)


def test_log_softmax_not_over_channels_says_what_to_do() -> None:
    """Over channels log_softmax is computed in int8 (tests/test_log_softmax.py); over pixels it is refused
    with the deploy_logits hint."""
    msg = _prepare_error(_Lambda(lambda m, x: F.log_softmax(m.conv(x), dim=2)), (3, 4, 4))
    assert "deploy_logits=True" in msg and "test_plumbing.py" in msg and "log_softmax" in msg


def test_spatial_transpose_is_refused_with_the_reason() -> None:
    msg = _prepare_error(_Lambda(lambda m, x: m.conv(m.conv(x).transpose(2, 3)[:, :3])), (3, 4, 5))
    assert "between pixels" in msg and "Tensor.__getitem__" in msg


def test_batch_dependent_argument_is_refused() -> None:
    msg = _prepare_error(_Lambda(lambda m, x: F.max_pool2d(m.conv(x), x.size(0))), (3, 4, 4))
    assert "batch size" in msg


def test_recurrent_layer_is_out_of_scope() -> None:
    class Rnn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.rnn(x)[0]

    assert "recurrent layers are out of scope" in _prepare_error(Rnn(), (3, 4))


def test_data_dependent_control_flow_is_out_of_scope() -> None:
    msg = _prepare_error(_Lambda(lambda m, x: m.conv(x) if x.sum() > 0 else x), (3, 4, 4))
    assert "data-dependent control flow" in msg


class _BnNet(nn.Module):
    def __init__(self, bn: nn.Module) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.bn = bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def test_unknown_batchnorm_subclass_gets_a_hint() -> None:
    class MyBN(nn.BatchNorm2d):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.1, self.eps)

    msg = _prepare_error(_BnNet(MyBN(4)), (3, 4, 4))
    assert "MyBN is a BatchNorm subclass" in msg and "nn.BatchNorm2d followed by" in msg


def test_source_line_inside_a_third_party_package() -> None:
    """Frames of a package whose path starts like torch's (torchvision) are not torch's own."""
    import os

    from tinyqat.qat import prepare

    node = next(iter(torch.fx.symbolic_trace(nn.ReLU()).graph.nodes))
    vision = os.path.dirname(torch.__file__) + "vision"
    node.stack_trace = (f'  File "{os.path.dirname(torch.__file__)}/nn/modules/module.py", line 9, in _call\n'
                        f'    return forward(x)\n'
                        f'  File "{vision}/models/shufflenetv2.py", line 42, in forward\n'
                        f'    x = torch.sort(x)\n')
    assert prepare._source_line(node) == "shufflenetv2.py:42 `x = torch.sort(x)`"


