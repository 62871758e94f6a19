"""QAT front end for the extended operator set: depthwise/1-D convs, zero padding, average and
global pooling, residual add, cat, view-flatten, Hardtanh, sigmoid/tanh/hardswish/softmax.

Every model is prepared, trained a few steps (gradients must reach the input), captured,
validated, lowered, and run in the integer simulator, which must agree with the fake-quant
eval forward within 1 LSB on >= 99% of the output elements.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import fx, nn

from tinyqat import quant
from tinyqat.api import quantize_input, simulate
from tinyqat.artifact import validate_artifact
from tinyqat.capture import to_artifact
from tinyqat.errors import UnsupportedOpError
from tinyqat.lower import lower
from tinyqat.qat import (
    ActivationQuantizer,
    FixedQuantizer,
    QuantAdd,
    QuantAvgPool2d,
    QuantConv1d,
    QuantConv2d,
    QuantNonlinear,
    SharedQuantClamp,
    calibrate,
    enable_fake_quant,
    freeze_bn_stats,
    freeze_observers,
    prepare_qat,
)


class Depthwise(nn.Module):
    """Depthwise conv, channel multiplier 2, + BN + ReLU6, then a pointwise conv."""

    def __init__(self) -> None:
        super().__init__()
        self.dw = nn.Conv2d(3, 6, 3, stride=2, padding=1, groups=3, bias=False)
        self.bn = nn.BatchNorm2d(6)
        self.pw = nn.Conv2d(6, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pw(F.relu6(self.bn(self.dw(x))))


class Conv1dNet(nn.Module):
    """Conv1d + BN1d + ReLU, MaxPool1d, AvgPool1d, depthwise Conv1d after F.pad, global mean -> (N, C)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 4, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm1d(4)
        self.pool = nn.MaxPool1d(2, ceil_mode=True)
        self.avg = nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False)
        self.dw = nn.Conv1d(4, 4, 3, groups=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.avg(self.pool(F.relu(self.bn(self.conv(x)))))
        y = self.dw(F.pad(y, (2, 0)))
        return y.mean(-1)


class ZeroPadNet(nn.Module):
    """Asymmetric ZeroPad2d before a conv, F.pad before a conv that has its own padding."""

    def __init__(self) -> None:
        super().__init__()
        self.pad = nn.ZeroPad2d((1, 2, 0, 1))
        self.conv1 = nn.Conv2d(2, 4, 3)
        self.conv2 = nn.Conv2d(4, 3, 2, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.conv1(self.pad(x)))
        return self.conv2(F.pad(y, (0, 1, 1, 0)))


class AvgPoolNet(nn.Module):
    """AvgPool2d without counting padding in ceil mode, then with the default divisor."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(self.pool(self.conv(x)), 2, 1, padding=1, ceil_mode=True)


class GlobalPoolNet(nn.Module):
    """Global pooling in every form: AdaptiveAvgPool2d(1), (1, 1), mean keepdim True and False."""

    def __init__(self, form: str) -> None:
        super().__init__()
        self.form = form
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1 if form == "adaptive" else (1, 1))
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.conv(x))
        if self.form == "mean":
            y = y.mean((2, 3))
        elif self.form == "mean_keepdim":
            y = torch.flatten(torch.mean(y, dim=[-2, -1], keepdim=True), 1)
        else:
            y = torch.flatten(self.gap(y), 1)
        return self.fc(y)


class Residual(nn.Module):
    """Two branches with different scales added, ReLU fused; then identity add via torch.add."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(3, 4, 1)
        with torch.no_grad():
            self.b.weight.mul_(8.0)
        self.c = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.a(x) + self.b(x))
        return torch.add(self.c(y), y)


class Concat(nn.Module):
    """cat of three branches (a conv, a pool of the input, a hardswish) along channels."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(2, 3, 3, padding=1)
        self.b = nn.Conv2d(2, 4, 1)
        self.act = nn.Hardswish()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.a(x), F.max_pool2d(x, 3, 1, 1), self.act(self.b(x))], dim=1)


class ViewFlatten(nn.Module):
    """Flatten written as view / reshape / view(-1, N)."""

    def __init__(self, form: str) -> None:
        super().__init__()
        self.form = form
        self.conv = nn.Conv2d(2, 3, 3)
        self.fc = nn.Linear(3 * 4 * 4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        if self.form == "view":
            y = y.view(y.size(0), -1)
        elif self.form == "reshape":
            y = y.reshape(y.shape[0], -1)
        else:
            y = y.view(-1, 3 * 4 * 4)
        return self.fc(y)


class Heads(nn.Module):
    """Pointwise nonlinearities and softmax; ``kind`` picks the module or functional form."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 7)
        self.tanh = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc1(x)
        if self.kind == "sigmoid":
            return torch.sigmoid(y)
        if self.kind == "tanh":
            return self.tanh(y)
        if self.kind == "hardswish":
            return self.fc2(F.hardswish(y))
        return F.softmax(self.fc2(y.sigmoid()), dim=-1)


class Hardtanh(nn.Module):
    """Hardtanh(-1, 2) fused into a conv; F.hardtanh after a pool stays a standalone clamp."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.act = nn.Hardtanh(-1.0, 2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.hardtanh(F.max_pool2d(self.act(self.conv(x)), 2), -0.5, 1.5)


class SoftmaxMap(nn.Module):
    """Softmax over the channels of a feature map (``Tensor.softmax(1)``)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).softmax(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def _run(make: Callable[[], nn.Module], shape: tuple[int, ...]) -> tuple[fx.GraphModule, dict, np.ndarray]:
    """Seed, build the model, prepare, train 3 steps (checking gradients reach the input), freeze BN,
    calibrate, capture, lower and simulate; return the QAT model, the artifact and the sim/fake-quant
    differences in output LSBs."""
    torch.manual_seed(0)
    x = torch.randn(32, *shape)
    gm = prepare_qat(make(), (x[:1],))
    opt = torch.optim.SGD(gm.parameters(), lr=0.01)
    gm.train()
    for _ in range(3):
        xin = x.clone().requires_grad_(True)
        loss = gm(xin).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert xin.grad is not None and xin.grad.abs().sum() > 0
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in gm.parameters())
    freeze_bn_stats(gm)
    calibrate(gm, [x])
    art = to_artifact(gm)
    validate_artifact(art)
    graph = lower(art)
    x_test = torch.randn(256, *shape)
    y_int = simulate(graph, quantize_input(graph, x_test))
    with torch.no_grad():
        y_fq = gm.eval()(x_test).numpy()
    q = graph.tensor(graph.output).qparams
    y_fq_int = np.round(y_fq / np.float32(q.scale)) + q.zero_point
    return gm, art, np.abs(y_fq_int - y_int.astype(np.float64))


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        pytest.param(Depthwise, (3, 9, 9), id="depthwise-multiplier2"),
        pytest.param(Conv1dNet, (2, 21), id="conv1d-pools1d"),
        pytest.param(ZeroPadNet, (2, 7, 8), id="zeropad-asymmetric"),
        pytest.param(AvgPoolNet, (2, 10, 9), id="avgpool-ceil-no-pad-count"),
        pytest.param(partial(GlobalPoolNet, "adaptive"), (3, 5, 6), id="adaptive-1"),
        pytest.param(partial(GlobalPoolNet, "adaptive_pair"), (3, 5, 6), id="adaptive-1x1"),
        pytest.param(partial(GlobalPoolNet, "mean"), (3, 5, 6), id="mean"),
        pytest.param(partial(GlobalPoolNet, "mean_keepdim"), (3, 5, 6), id="mean-keepdim"),
        pytest.param(Residual, (3, 6, 6), id="add-relu"),
        pytest.param(Concat, (2, 6, 5), id="cat3"),
        pytest.param(partial(ViewFlatten, "view"), (2, 6, 6), id="view"),
        pytest.param(partial(ViewFlatten, "reshape"), (2, 6, 6), id="reshape"),
        pytest.param(partial(ViewFlatten, "minus_one"), (2, 6, 6), id="view-minus-one"),
        pytest.param(partial(Heads, "sigmoid"), (6,), id="sigmoid"),
        pytest.param(partial(Heads, "tanh"), (6,), id="tanh"),
        pytest.param(partial(Heads, "hardswish"), (6,), id="hardswish"),
        pytest.param(partial(Heads, "softmax"), (6,), id="softmax"),
        pytest.param(Hardtanh, (2, 8, 8), id="hardtanh"),
        pytest.param(SoftmaxMap, (2, 5, 5), id="softmax-map"),
    ],
)
def test_simulator_agrees_with_fake_quant(make: Callable[[], nn.Module], shape: tuple[int, ...]) -> None:
    """The eval forward computes the integer model: >= 99.9 % of outputs exactly equal to the simulator."""
    _, _, diff = _run(make, shape)
    assert diff.size >= 256 * 3
    assert (diff == 0).mean() >= 0.999, f"max diff {diff.max()}, exactly equal {(diff == 0).mean():.4f}"


# --- artifact nodes -------------------------------------------------------------------------


def _nodes(art: dict) -> dict[str, dict]:
    return {n["name"]: n for n in art["nodes"]}


def test_depthwise_and_conv1d_nodes() -> None:
    _, art, _ = _run(Depthwise, (3, 9, 9))
    dw = _nodes(art)["dw"]
    assert dw["attrs"]["groups"] == 3 and tuple(dw["params"]["weight"].shape) == (6, 1, 3, 3)
    assert "groups" not in _nodes(art)["pw"]["attrs"]
    gm, art, _ = _run(Conv1dNet, (2, 21))
    assert art["input"]["shape"] == [2, 21]
    nodes = _nodes(art)
    conv = nodes["conv"]
    assert tuple(conv["params"]["weight"].shape) == (4, 2, 1, 3)
    assert conv["attrs"] | {"bn_eps": 0} == {"activation": "relu", "bn_eps": 0, "stride": [1, 2],
                                             "padding": [0, 1, 0, 1]}
    assert nodes["pool"]["attrs"] == {"kernel": [1, 2], "stride": [1, 2], "padding": [0, 0], "ceil_mode": True}
    assert nodes["avg"]["attrs"]["count_include_pad"] is False and nodes["avg"]["attrs"]["padding"] == [0, 1]
    assert nodes["dw"]["attrs"]["padding"] == [0, 2, 0, 0] and nodes["dw"]["attrs"]["groups"] == 4
    assert [nodes["mean"]["op"], nodes["mean_flatten"]["op"]] == ["avg_pool2d", "flatten"]
    assert art["output"] == "mean_flatten"
    assert nodes["mean"]["attrs"]["kernel"] == nodes["mean"]["attrs"]["stride"] == [1, 6]
    assert isinstance(gm.conv, QuantConv1d) and gm.conv.bn is not None


def test_zero_pad_folds_into_conv_padding() -> None:
    gm, art, _ = _run(ZeroPadNet, (2, 7, 8))
    assert [n["op"] for n in art["nodes"]] == ["conv2d", "conv2d"]
    conv1, conv2 = art["nodes"]
    assert conv1["attrs"]["padding"] == [0, 1, 1, 2] and conv1["attrs"]["activation"] == "relu"
    assert conv2["attrs"]["padding"] == [2, 1, 1, 2]  # own padding 1 + F.pad (left 0, right 1, top 1, bottom 0)
    model = ZeroPadNet()
    gm = prepare_qat(model, (torch.randn(1, 2, 7, 8),))
    calibrate(gm, [torch.randn(4, 2, 7, 8)])
    enable_fake_quant(gm, False)
    x = torch.randn(3, 2, 7, 8)
    with torch.no_grad():
        assert torch.allclose(gm.eval()(x), model.eval()(x), atol=1e-5)


def test_add_cat_and_nonlinear_nodes() -> None:
    _, art, _ = _run(Residual, (3, 6, 6))
    nodes = _nodes(art)
    assert nodes["add"]["inputs"] == ["a", "b"] and nodes["add"]["attrs"] == {"activation": "relu"}
    assert nodes["add_1"]["inputs"] == ["c", "add"] and nodes["add_1"]["attrs"] == {"activation": "none"}
    s_a, s_b = (nodes[k]["qparams"]["scale"] for k in ("a", "b"))
    assert s_b > 2 * s_a  # the branches really are on different grids
    _, art, _ = _run(Concat, (2, 6, 5))
    nodes = _nodes(art)
    assert nodes["cat"]["inputs"] == ["a", "max_pool2d", "act"] and nodes["cat"]["qparams"] is not None
    assert nodes["act"]["op"] == "hardswish"
    for kind, fixed in (("sigmoid", (1 / 256, -128)), ("tanh", (1 / 128, 0)), ("softmax", (1 / 256, -128))):
        _, art, _ = _run(partial(Heads, kind), (6,))
        last = art["nodes"][-1]
        assert last["op"] == kind and (last["qparams"]["scale"], last["qparams"]["zero_point"]) == fixed


def test_hardtanh_fused_and_standalone() -> None:
    gm, art, _ = _run(Hardtanh, (2, 8, 8))
    conv, pool, clamp = art["nodes"]
    assert conv["attrs"]["activation"] == [-1.0, 2.0]
    assert (pool["op"], clamp["op"], clamp["attrs"]) == ("max_pool2d", "hardtanh", {"min_val": -0.5, "max_val": 1.5})
    (shared,) = (m for m in gm.modules() if isinstance(m, SharedQuantClamp))
    assert shared.input_ref.quantizer is gm.conv.output_quantizer


# --- exact eval forward of the new modules ----------------------------------------------------


def _fq(x: torch.Tensor, q: ActivationQuantizer) -> torch.Tensor:
    s, zp = quant.activation_qparams(q.min_val, q.max_val)
    return quant.dequantize(quant.quantize(x, s, zp, -128, 127), s, zp)


def test_eval_forward_formulas() -> None:
    torch.manual_seed(0)
    gm, _, _ = _run(Residual, (3, 6, 6))
    x = torch.randn(4, 3, 6, 6)
    with torch.no_grad():
        values: dict[str, torch.Tensor] = {}
        h = gm.input_quantizer(x)
        values["a"], values["b"] = gm.a(h), gm.b(h)
        add = gm.add
        assert isinstance(add, QuantAdd)
        assert torch.equal(add(values["a"], values["b"]), _fq(F.relu(values["a"] + values["b"]), add.output_quantizer))
    gm, _, _ = _run(partial(Heads, "sigmoid"), (6,))
    (sig,) = (m for m in gm.modules() if isinstance(m, QuantNonlinear))
    s_in, zp_in = sig.input_ref.quantizer.qparams()
    q_in = torch.arange(-128, 128, dtype=torch.float32)
    with torch.no_grad():
        y = sig((q_in - zp_in) * s_in)  # every int8 input, on the input grid
    real = 1.0 / (1.0 + np.exp(-float(s_in) * (q_in.double().numpy() - int(zp_in))))
    expected = np.clip(np.round(real * 256.0) - 128, -128, 127)  # the lowered table, float64
    np.testing.assert_array_equal(torch.round(y * 256).numpy() - 128, expected)


@pytest.mark.parametrize(
    ("pool", "shape"),
    [
        (nn.AvgPool2d(2), (3, 6, 7)),
        (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (3, 6, 7)),
        (nn.AvgPool2d((2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True, count_include_pad=False), (3, 6, 7)),
        (nn.AvgPool1d(2, padding=1, count_include_pad=False), (3, 9)),
        (nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True), (3, 10)),
        (nn.AdaptiveAvgPool2d(1), (4, 5, 5)),
        (nn.AdaptiveAvgPool1d(1), (4, 6)),
    ],
)
def test_avg_pool_fake_quant_is_bit_exact(pool: nn.Module, shape: tuple[int, ...]) -> None:
    """The pool's forward rounds as the integer kernel: on its own it equals the simulator exactly."""
    gm = calibrate(prepare_qat(nn.Sequential(pool), (torch.randn(1, *shape),)), [torch.randn(16, *shape)])
    (qpool,) = (m for m in gm.modules() if isinstance(m, QuantAvgPool2d))
    assert qpool.input_ref.quantizer is gm.input_quantizer
    graph = lower(to_artifact(gm))
    x = torch.randn(64, *shape)
    y_int = simulate(graph, quantize_input(graph, x))
    s, zp = gm.input_quantizer.qparams()
    with torch.no_grad():
        y_fq = torch.round(gm.eval()(x) / s) + zp
    assert np.array_equal(y_fq.numpy(), y_int.astype(np.float32))
    xg = x.clone().requires_grad_(True)
    gm(xg).sum().backward()
    assert xg.grad is not None and xg.grad.abs().sum() > 0


def test_fixed_quantizer_and_freezing() -> None:
    gm, _, _ = _run(partial(Heads, "tanh"), (6,))
    (tanh,) = (m for m in gm.modules() if isinstance(m, QuantNonlinear))
    assert isinstance(tanh.output_quantizer, FixedQuantizer)
    s, zp = tanh.output_quantizer.qparams()
    assert (s.item(), zp.item()) == (1 / 128, 0)
    calibrate(gm, [torch.randn(8, 6) * 100])
    assert tanh.output_quantizer.qparams()[0].item() == 1 / 128
    gm, _, _ = _run(Residual, (3, 6, 6))
    freeze_observers(gm)
    before = gm.add.output_quantizer.max_val.clone()
    gm.train()
    gm(torch.randn(4, 3, 6, 6) * 10)
    assert torch.equal(gm.add.output_quantizer.max_val, before)
    calibrate(gm, [torch.randn(4, 3, 6, 6) * 10])
    assert not torch.equal(gm.add.output_quantizer.max_val, before)  # calibrate overrides frozen observers
    gm, _, _ = _run(Conv1dNet, (2, 21))
    freeze_bn_stats(gm)
    assert all(m.bn_frozen for m in gm.modules() if isinstance(m, QuantConv2d))


# --- refused models -------------------------------------------------------------------------


class _View(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.size(0), 2, -1)


class _Grouped(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(4, 4, 3, groups=2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class _Forward(nn.Module):
    """A tiny conv, then ``fn`` of its output."""

    def __init__(self, fn: str) -> None:
        super().__init__()
        self.fn = fn
        self.conv = nn.Conv2d(2, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        if self.fn == "pad_pool":
            return F.max_pool2d(F.pad(y, (1, 1, 1, 1)), 2)
        if self.fn == "add_alpha":
            return y.add(1.0, alpha=2)
        if self.fn == "cat_w":
            return torch.cat([y, y], dim=3)
        if self.fn == "softmax_w":
            return F.softmax(y, dim=-1)
        if self.fn == "mean_c":
            return y.mean(1)
        if self.fn == "sort":
            return torch.sort(y, 1)[0]
        return F.avg_pool2d(y, 2, divisor_override=3)


@pytest.mark.parametrize(
    ("model", "shape", "needles"),
    [
        (nn.Sequential(nn.Linear(4, 4), nn.LSTM(4, 4)), (2, 4), ("'1'", "nn.LSTM", "cannot be quantized")),
        (_Forward("sort"), (1, 2, 4, 4), ("torch.sort", "test_qat_ops.py:", "torch.sort(y, 1)")),
        (_Grouped(), (1, 4, 6, 6), ("'body.0'", "nn.Conv2d", "groups=2 of 4")),
        (_View(), (2, 4, 3, 3), ("Tensor.view", "test_qat_ops.py:", "x.view(x.size(0), 2, -1)")),
        (nn.Sequential(nn.Conv2d(3, 3, 1), nn.ReLU(), nn.BatchNorm2d(3)), (1, 3, 4, 4), ("'2'", "nn.BatchNorm2d")),
        (nn.Sequential(nn.Conv2d(3, 2, 3, dilation=2)), (1, 3, 8, 8), ("'0'", "nn.Conv2d", "dilation (2, 2)")),
        (_Forward("pad_pool"), (1, 2, 4, 4), ("F.pad", "directly before a Conv2d")),
        (_Forward("add_alpha"), (1, 2, 4, 4), ("Tensor.add", "alpha=2")),
        (_Forward("cat_w"), (1, 2, 4, 4), ("torch.cat", "dim=3")),
        (_Forward("softmax_w"), (1, 2, 4, 4), ("F.softmax", "over channels")),
        (_Forward("mean_c"), (1, 2, 4, 4), ("Tensor.mean", "spatial dims")),
        (_Forward("divisor"), (1, 2, 4, 4), ("avg_pool2d", "divisor_override")),
        (nn.Sequential(nn.Linear(4, 4), nn.Mish()), (2, 4), ("'1'", "nn.Mish")),
    ],
)
def test_unsupported_ops_one_line(model: nn.Module, shape: tuple[int, ...], needles: tuple[str, ...]) -> None:
    with pytest.raises(UnsupportedOpError) as info:
        prepare_qat(model, (torch.randn(*shape),))
    message = str(info.value)
    assert "\n" not in message and "README section 'Supported layers'" in message and "tinyqat supports" not in message
    for needle in needles:
        assert needle in message, message
