"""QAT: fake quant with STE, observers, fusion in prepare_qat, exact eval forward, freezing, PTQ."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from devices import DEVICE
from torch import nn

from tinyqat import fixedpoint, quant
from tinyqat.errors import UnsupportedOpError
from tinyqat.fixedpoint import INT32_MAX, INT32_MIN
from tinyqat.qat import (
    ActivationQuantizer,
    QuantConv2d,
    QuantFlatten,
    QuantLinear,
    QuantMaxPool2d,
    SharedQuantClamp,
    calibrate,
    enable_fake_quant,
    freeze_bn_stats,
    freeze_observers,
    prepare_qat,
)
from tinyqat.qat.fake_quant import fake_quantize, fake_quantize_weight


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


class ConvNet(nn.Module):
    """Conv+BN+ReLU, pool, conv+BN+ReLU6, pool, flatten, dropout, Linear+BN1d+ReLU, Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding="same", bias=False), nn.BatchNorm2d(8), nn.ReLU6(), nn.MaxPool2d(2),
        )  # fmt: skip
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.2), nn.Linear(8 * 4 * 4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _modules(gm: nn.Module, cls: type) -> dict[str, nn.Module]:
    return {name: m for name, m in gm.named_modules() if isinstance(m, cls)}


def _train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float = 0.01) -> list[float]:
    """Adam steps on the device the model's parameters are on (the data moves there)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


# --- fake quant and observers -------------------------------------------------------------


def test_ste_forward_is_quant_formula_and_gradient_is_clipped() -> None:
    scale, zp = torch.tensor(0.1), torch.tensor(3)
    x = torch.linspace(-20.0, 20.0, 401, requires_grad=True)
    y = fake_quantize(x, scale, zp, -128, 127)
    expected = quant.dequantize(quant.quantize(x.detach(), scale, zp, -128, 127), scale, zp)
    assert torch.equal(y.detach(), expected)
    y.sum().backward()
    q = torch.round(x.detach() / scale) + zp
    inside = (q >= -128) & (q <= 127)
    assert torch.equal(x.grad, inside.float())
    assert inside.any() and not inside.all()  # both regions exercised: [-13.1, 12.4] is inside


def test_fake_quant_with_integer_zero_point_is_the_tensor_form() -> None:
    """The two-pass form for a host zero point (``clamp(round(x / s), qmin - zp, qmax - zp) * s``) equals the
    quantize / dequantize formula with a tensor zero point, value and gradient, beyond the int8 range and past
    ``2**24 * s`` (where ``round(x / s) + zp`` rounds in float32)."""
    scale = torch.tensor(0.0371, device=DEVICE)
    x = torch.cat([torch.linspace(-9.0, 9.0, 2001), torch.tensor([-1e9, -6.3e5, 6.3e5, 1e9, 0.0, -0.0])])
    x = x.to(DEVICE)
    for zp in (-128, -17, 0, 5, 127):
        xs = [x.clone().requires_grad_(True) for _ in range(2)]
        got = fake_quantize(xs[0], scale, zp, -128, 127)
        ref = fake_quantize(xs[1], scale, torch.tensor(zp, device=DEVICE), -128, 127)
        assert torch.equal(got, ref)
        grad = torch.randn_like(x)
        got.backward(grad)
        ref.backward(grad)
        assert torch.equal(xs[0].grad, xs[1].grad)


def test_layer_integers_are_the_integer_ste_of_each_operand() -> None:
    """:class:`LayerIntegers` (one autograd node) gives the values and gradients of :class:`IntegerSTE` on the
    weights and the bias and of ``round(x / s_in)`` (gradient ``1 / s_in``) on an on-grid input; an input
    without gradient gives an integer tensor without one."""
    from tinyqat.qat.fake_quant import IntegerSTE, LayerIntegers

    s_in, qmax = torch.tensor(0.02, device=DEVICE), 7
    w = torch.randn(4, 3, 2, 2, device=DEVICE)
    s_w = quant.channel_view(quant.weight_scales(w, 4) * 0.9, 4)  # some weights clip at +-qmax
    b = torch.randn(4, device=DEVICE) * 1e3
    s_b = torch.tensor([1e-3, 1e-6, 1e-7, 2.0], device=DEVICE)  # bias beyond INT32 in channels 1 and 2
    x_on_grid = (torch.randint(-128, 128, (2, 3, 5, 5), device=DEVICE).float() * s_in)
    for x_grad in (True, False):
        leaves = [t.clone().requires_grad_(True) for t in (w, b)]
        x0 = x_on_grid.clone().requires_grad_(x_grad)
        x_int, w_int, b_int = LayerIntegers.apply(x0, torch.reciprocal(s_in), leaves[0], s_w, qmax, leaves[1], s_b)
        refs = [t.clone().requires_grad_(True) for t in (w, b)]
        x1 = x_on_grid.clone().requires_grad_(x_grad)
        x_ref = torch.round(x1 * torch.reciprocal(s_in))
        w_ref = IntegerSTE.apply(refs[0], s_w, -qmax, qmax)
        b_ref = IntegerSTE.apply(refs[1], s_b, INT32_MIN, INT32_MAX)
        assert torch.equal(x_int, x_ref.detach()) and torch.equal(w_int, w_ref) and torch.equal(b_int, b_ref)
        assert x_int.requires_grad == x_grad
        grads = [torch.randn_like(t) for t in (x_int, w_int, b_int)]
        (sum((t * g).sum() for t, g in zip((x_int, w_int, b_int), grads, strict=True))).backward()
        (sum((t * g).sum() for t, g in zip((w_ref, b_ref), grads[1:], strict=True))).backward()
        assert torch.equal(leaves[0].grad, refs[0].grad) and torch.equal(leaves[1].grad, refs[1].grad)
        assert (leaves[0].grad == 0).any() and (leaves[1].grad == 0).any()  # the clipped parts are exercised
        if x_grad:
            assert torch.equal(x0.grad, grads[0] * torch.reciprocal(s_in))


def test_weight_fake_quant_is_per_channel_symmetric_on_grid() -> None:
    w = torch.randn(5, 3, 3, 3) * torch.arange(1, 6).reshape(5, 1, 1, 1)
    s = quant.weight_scales(w)
    q = fake_quantize_weight(w) / quant.channel_view(s, 4)
    assert torch.allclose(q, torch.round(q), atol=1e-4)
    assert q.abs().amax().item() <= 127.0 + 1e-4
    assert torch.allclose(q.reshape(5, -1).abs().amax(dim=1), torch.full((5,), 127.0))


def test_observer_moving_average_and_modes() -> None:
    obs = ActivationQuantizer(averaging_constant=0.1)
    obs.train()
    obs(torch.tensor([-1.0, 2.0]))
    assert (obs.min_val.item(), obs.max_val.item()) == (-1.0, 2.0)  # first batch initialises
    obs(torch.tensor([-3.0, 4.0]))
    assert obs.min_val.item() == pytest.approx(-1.0 + 0.1 * (-3.0 + 1.0))
    assert obs.max_val.item() == pytest.approx(2.0 + 0.1 * (4.0 - 2.0))
    before = (obs.min_val.clone(), obs.max_val.clone())
    obs.eval()
    obs(torch.tensor([-100.0, 100.0]))  # eval: no update
    assert torch.equal(obs.min_val, before[0]) and torch.equal(obs.max_val, before[1])
    scale, zp = obs.qparams()
    ref_scale, ref_zp = quant.activation_qparams(obs.min_val, obs.max_val)
    assert torch.equal(scale, ref_scale) and torch.equal(zp, ref_zp)
    restored = ActivationQuantizer()
    restored.load_state_dict(obs.state_dict())
    assert bool(restored.observed) and torch.equal(restored.max_val, obs.max_val)


def test_every_output_observer_updates_once_per_forward() -> None:
    """Live BatchNorm, BN frozen (the exact forward), calibration: one range update per layer output per batch."""
    x = torch.randn(8, 1, 16, 16)
    gm = prepare_qat(ConvNet(), (x[:1],))
    counts: dict[str, int] = {}
    for name, q in _modules(gm, ActivationQuantizer).items():
        update = q.range_observer.update

        def counted(*args: object, _name: str = name, _update=update) -> None:
            counts[_name] = counts.get(_name, 0) + 1
            _update(*args)

        q.range_observer.update = counted
    for phase in ("live", "frozen", "calibrate"):
        counts.clear()
        if phase == "calibrate":
            calibrate(gm, [x])
        else:
            gm.train()(x)
            freeze_bn_stats(gm)
        assert counts and set(counts.values()) == {1}, (phase, counts)


@pytest.mark.parametrize("activation", ["none", "relu", "relu6", (-1.5, 2.25), (0.1, 0.1), (-3.0, -2.0)])
def test_clamped_fake_quant_equals_activation_then_fake_quant(activation) -> None:
    """``ClampedFakeQuantize`` with ``clamped_grid_bounds`` is ``FastFakeQuantize(act(y))`` bit for bit, value and
    gradient, and ``ClampedExactOutput`` passes the same gradient: grids with zero points at both ends and
    in between, values on, halfway between and one ulp beside every grid step and the activation's bounds."""
    from tinyqat import requant
    from tinyqat.qat.fake_quant import (
        ClampedExactOutput,
        ClampedFakeQuantize,
        FastFakeQuantize,
        clamped_grid_bounds,
    )
    from tinyqat.qat.modules import _activate

    interval = requant.activation_interval(activation)
    for scale, zp in [(0.1, -128), (1 / 256, 0), (0.0173, 127), (2.0**-7, -5), (3.3e-4, 40)]:
        s = torch.tensor(scale, dtype=torch.float32, device=DEVICE)
        steps = torch.arange(-300, 300, dtype=torch.float32, device=DEVICE)
        anchors = torch.cat([steps * s, (steps + 0.5) * s, torch.tensor([0.0, -0.0, 1e6, -1e6, 0.1, 2.25, -1.5, 6.0],
                                                                         device=DEVICE)])
        y = torch.cat([anchors, torch.nextafter(anchors, anchors + 1), torch.nextafter(anchors, anchors - 1),
                       torch.randn(4000, device=DEVICE) * 300 * s])
        grad = torch.randn_like(y)
        y_ref = y.clone().requires_grad_()
        ref = FastFakeQuantize.apply(_activate(y_ref, activation), s, -128 - zp, 127 - zp)
        ref.backward(grad)
        bounds = clamped_grid_bounds(float(s), zp, interval, float(torch.reciprocal(s)))
        y_new = y.clone().requires_grad_()
        got = ClampedFakeQuantize.apply(y_new, s, *bounds)
        got.backward(grad)
        assert torch.equal(got, ref) and torch.equal(y_new.grad, y_ref.grad), (scale, zp)
        acc = y.clone().reshape(-1, 1).requires_grad_()  # y = (0 * 1) + acc * 1: one channel, a zero bias
        b_int = torch.zeros(1, device=DEVICE, requires_grad=True)
        one = torch.ones(1, device=DEVICE)
        ClampedExactOutput.apply(acc, b_int, one, y.reshape(-1, 1), ref.detach().reshape(-1, 1),
                                 *bounds[2:]).backward(grad.reshape(-1, 1))
        assert torch.equal(acc.grad.reshape(-1), y_ref.grad)
        assert torch.equal(b_int.grad, y_ref.grad.sum().reshape(1))


@pytest.mark.parametrize("shape", [(5, 6, 7, 3), (9, 4), (4, 3, 11), (1, 5, 2, 2)])
def test_clamped_exact_output_gradient_is_autograds(shape) -> None:
    """``ClampedExactOutput`` gives ``acc`` and ``b_int`` bit for bit the gradients autograd gives them through the
    real-valued accumulator ``(b_int * s_b)[c] + acc * s_b[c]`` and ``ClampedFakeQuantize`` (per channel scales,
    integer accumulators and biases, a batch of one)."""
    from tinyqat.qat.fake_quant import ClampedExactOutput, ClampedFakeQuantize, clamped_grid_bounds
    from tinyqat.qat.modules import _accumulator

    gen = torch.Generator().manual_seed(3)
    channels = shape[1]
    acc0 = torch.randint(-3000, 3000, shape, generator=gen).float().to(DEVICE)
    b0 = torch.randint(-20000, 20000, (channels,), generator=gen).float().to(DEVICE)
    s_b = (torch.rand(channels, generator=gen) * 1e-3 + 1e-5).to(DEVICE)
    s = torch.tensor(0.0137, device=DEVICE)
    grad = torch.randn(shape, generator=gen).to(DEVICE)
    for interval in [(None, None), (0.0, None), (-0.5, 0.75)]:
        bounds = clamped_grid_bounds(float(s), -3, interval, float(torch.reciprocal(s)))
        acc_ref, b_ref = acc0.clone().requires_grad_(), b0.clone().requires_grad_()
        ClampedFakeQuantize.apply(_accumulator(acc_ref, b_ref, s_b), s, *bounds).backward(grad)
        acc_new, b_new = acc0.clone().requires_grad_(), b0.clone().requires_grad_()
        with torch.no_grad():
            y = _accumulator(acc0, b0, s_b)
        ClampedExactOutput.apply(acc_new, b_new, s_b, y, torch.zeros_like(y), *bounds[2:]).backward(grad)
        assert torch.equal(acc_new.grad, acc_ref.grad) and torch.equal(b_new.grad, b_ref.grad), interval


@pytest.mark.parametrize("phase", ["live BN", "BN frozen"])
def test_fused_output_quantization_trains_as_the_generic_path(phase: str, monkeypatch) -> None:
    """Layers whose output quantizer takes the fused forms (``clamp_fusable``) train bit for bit as with the generic
    ``output_quantizer(act(y))``: same weights, BatchNorm statistics and observed ranges after a few steps."""
    x, y = torch.randn(16, 1, 16, 16), torch.randint(0, 3, (16,))
    # on the CPU whatever TINYQAT_TEST_DEVICE says: two training runs are equal bit for bit only where the kernels
    # are deterministic (CUDA's convolution backward accumulates in a run-dependent order)
    base = prepare_qat(ConvNet(), (x[:1],))
    if phase == "BN frozen":
        _train(base, x, y, steps=1)
        freeze_bn_stats(base)
    fused, generic = copy.deepcopy(base), copy.deepcopy(base)
    torch.manual_seed(1)
    _train(fused, x, y, steps=3)
    monkeypatch.setattr(ActivationQuantizer, "clamp_fusable", property(lambda self: False))
    torch.manual_seed(1)
    _train(generic, x, y, steps=3)
    want = generic.state_dict()
    for key, value in fused.state_dict().items():
        assert torch.equal(value, want[key]), key


def test_unobserved_quantizer_passes_through() -> None:
    obs = ActivationQuantizer().eval()
    x = torch.randn(10)
    assert torch.equal(obs(x), x)


# --- prepare_qat: fusion --------------------------------------------------------------------


def test_prepare_fuses_module_forms() -> None:
    model = ConvNet()
    gm = prepare_qat(model, (torch.randn(2, 1, 16, 16),))
    convs, linears = _modules(gm, QuantConv2d), _modules(gm, QuantLinear)
    assert [(m.source, m.activation, m.bn is not None) for m in convs.values()] == [
        ("features.0", "relu", True),
        ("features.4", "relu6", True),
    ]
    assert [(m.source, m.activation, m.bn is not None) for m in linears.values()] == [
        ("head.2", "relu", True),
        ("head.5", "none", False),
    ]
    assert list(convs.values())[1].padding == (1, 1, 1, 1)
    assert len(_modules(gm, QuantMaxPool2d)) == 2 and len(_modules(gm, QuantFlatten)) == 1
    assert not _modules(gm, nn.Dropout) and not _modules(gm, SharedQuantClamp)
    # each layer reads its input scale from the upstream quantizer (through pool/flatten)
    first, second = convs.values()
    assert first.input_ref.quantizer is gm.input_quantizer
    assert second.input_ref.quantizer is first.output_quantizer
    assert linears["head_2"].input_ref.quantizer is second.output_quantizer
    # the original model is untouched, and the quantizer references are not duplicated in state_dict
    assert isinstance(model.features[0], nn.Conv2d)
    assert sum(k.endswith("min_val") for k in gm.state_dict()) == 5


class _Functional(nn.Module):
    def __init__(self, act: str) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 3 * 3, 5)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        if self.act == "F.relu":
            y = F.relu(y)
        elif self.act == "torch.relu":
            y = torch.relu(y)
        elif self.act == "method":
            y = y.relu()
        elif self.act == "F.relu6":
            y = F.relu6(y)
        elif self.act == "F.hardtanh":
            y = F.hardtanh(y, 0.0, 6.0)
        elif self.act == "F.hardtanh_kw":
            y = nn.functional.hardtanh(y, min_val=0, max_val=6)
        y = F.max_pool2d(y, 2, ceil_mode=True)
        y = torch.flatten(y, 1) if self.act.startswith("F.") else y.flatten(1)
        return F.relu(self.fc(F.dropout(y, 0.5, self.training)))


@pytest.mark.parametrize(
    ("act", "fused"),
    [
        ("F.relu", "relu"),
        ("torch.relu", "relu"),
        ("method", "relu"),
        ("F.relu6", "relu6"),
        ("F.hardtanh", "relu6"),
        ("F.hardtanh_kw", "relu6"),
    ],
)
def test_prepare_fuses_functional_forms(act: str, fused: str) -> None:
    gm = prepare_qat(_Functional(act), (torch.randn(1, 2, 5, 5),))
    (conv,) = _modules(gm, QuantConv2d).values()
    (fc,) = _modules(gm, QuantLinear).values()
    (pool,) = _modules(gm, QuantMaxPool2d).values()
    assert (conv.activation, fc.activation) == (fused, "relu")
    assert (pool.kernel_size, pool.stride, pool.ceil_mode) == ((2, 2), (2, 2), True)
    assert len(_modules(gm, QuantFlatten)) == 1
    assert gm(torch.randn(3, 2, 5, 5)).shape == (3, 5)


def test_hardtanh_module_is_relu6() -> None:
    gm = prepare_qat(nn.Sequential(nn.Linear(3, 4), nn.Hardtanh(0.0, 6.0)), (torch.randn(2, 3),))
    assert _modules(gm, QuantLinear)["_0"].activation == "relu6"


class _StandaloneRelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.pool = nn.MaxPool2d(2)
        self.act = nn.ReLU6()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.pool(self.conv(x)))


def test_standalone_relu_after_pool_stays_on_upstream_grid() -> None:
    gm = prepare_qat(_StandaloneRelu(), (torch.randn(1, 1, 8, 8),))
    (clamp,) = _modules(gm, SharedQuantClamp).values()
    (conv,) = _modules(gm, QuantConv2d).values()
    assert clamp.activation == "relu6" and conv.activation == "none"
    assert clamp.input_ref.quantizer is conv.output_quantizer
    gm.train()
    gm(torch.randn(4, 1, 8, 8) * 20)
    before = conv.output_quantizer.max_val.clone()
    y = gm(torch.randn(4, 1, 8, 8) * 20).detach()
    assert conv.output_quantizer.max_val != before  # only the conv's quantizer observes
    scale, zp = conv.output_quantizer.qparams()
    q = y / scale + zp
    assert torch.allclose(q, torch.round(q), atol=1e-3)
    assert y.min().item() >= 0.0 and y.max().item() <= 6.0 + scale.item() / 2


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
def test_same_padding_even_kernel_matches_torch() -> None:
    conv = nn.Conv2d(2, 3, 4, padding="same")
    gm = prepare_qat(nn.Sequential(conv), (torch.randn(1, 2, 7, 7),))
    assert _modules(gm, QuantConv2d)["_0"].padding == (1, 1, 2, 2)
    enable_fake_quant(gm, False)
    x = torch.randn(2, 2, 7, 7)
    assert torch.allclose(gm(x), conv(x), atol=1e-6)


# --- exact eval forward ---------------------------------------------------------------------


def _expected_weighted(m: QuantConv2d | QuantLinear, x: torch.Tensor, in_scale: torch.Tensor) -> torch.Tensor:
    """The documented eval formula (the kernel's integers), written out with quant.*, the numpy fixed-point
    reference (tinyqat.fixedpoint) and torch.nn.functional only."""
    layer, bn = m.layer, m.bn
    w = layer.weight.detach()
    b = layer.bias.detach() if layer.bias is not None else torch.zeros(w.shape[0])
    if bn is not None:
        w, b = quant.fold_bn(w, b, bn.weight.detach(), bn.bias.detach(), bn.running_mean, bn.running_var, bn.eps)
    s_w = quant.weight_scales(w)
    w_q = quant.quantize(w, quant.channel_view(s_w, w.dim()), 0, -127, 127)
    b_q = quant.quantize(b, quant.bias_scale(in_scale, s_w), 0, INT32_MIN, INT32_MAX)
    x_c = torch.round(x / in_scale)
    if isinstance(m, QuantConv2d):
        top, left, bottom, right = m.padding
        acc = F.conv2d(F.pad(x_c, (left, right, top, bottom)), w_q, None, m.stride)
    else:
        acc = F.linear(x_c, w_q)
    s_out, zp_out = quant.activation_qparams(m.output_quantizer.min_val, m.output_quantizer.max_val)
    pairs = [fixedpoint.quantize_multiplier(float(in_scale) * float(s) / float(s_out)) for s in s_w.tolist()]
    view = (1, -1) + (1,) * (acc.dim() - 2)
    total = acc.double().numpy().astype(np.int64) + b_q.double().numpy().astype(np.int64).reshape(view)
    multiplier, shift = (np.array(v).reshape(view) for v in zip(*pairs, strict=True))
    q = fixedpoint.mbqm(total, multiplier, shift)
    six = math.floor(float(np.float32(6.0) / np.float32(s_out)) + 0.5)  # C roundf(6.0f / s_out)
    lo, hi = {"none": (-128, 127), "relu": (int(zp_out), 127),
              "relu6": (int(zp_out), min(127, int(zp_out) + six))}[m.activation]
    q = np.clip(q + int(zp_out), lo, hi)
    return torch.from_numpy(q - int(zp_out)).float() * s_out


def test_eval_forward_is_exact_documented_formula() -> None:
    model = ConvNet()
    x, y = torch.randn(16, 1, 16, 16), torch.randint(0, 3, (16,))
    gm = prepare_qat(model, (x[:1],))
    _train(gm, x, y, steps=5)
    gm.eval()
    with torch.no_grad():
        s_in, zp_in = quant.activation_qparams(gm.input_quantizer.min_val, gm.input_quantizer.max_val)
        h = quant.dequantize(quant.quantize(x, s_in, zp_in, -128, 127), s_in, zp_in)
        c0, c1 = _modules(gm, QuantConv2d).values()
        l0, l1 = _modules(gm, QuantLinear).values()
        h = _expected_weighted(c0, h, s_in)
        h = F.max_pool2d(h, 2)
        h = _expected_weighted(c1, h, c0.output_quantizer.qparams()[0])
        h = torch.flatten(F.max_pool2d(h, 2), 1)
        h = _expected_weighted(l0, h, c1.output_quantizer.qparams()[0])
        h = _expected_weighted(l1, h, l0.output_quantizer.qparams()[0])
        assert torch.equal(gm(x), h)


def test_bn_freeze_and_observer_freeze() -> None:
    gm = prepare_qat(ConvNet(), (torch.randn(1, 1, 16, 16),))
    x, y = torch.randn(8, 1, 16, 16), torch.randint(0, 3, (8,))
    _train(gm, x, y, steps=2)
    conv = _modules(gm, QuantConv2d)["features_0"]
    mean = conv.bn.running_mean.clone()
    gm.train()
    gm(x)
    assert not torch.equal(conv.bn.running_mean, mean)  # live BN updates its running statistics
    freeze_bn_stats(gm)
    freeze_observers(gm)
    mean = conv.bn.running_mean.clone()
    ranges = [(q.min_val.clone(), q.max_val.clone()) for q in _modules(gm, ActivationQuantizer).values()]
    _train(gm, x, y, steps=2)
    assert torch.equal(conv.bn.running_mean, mean)
    for (lo, hi), q in zip(ranges, _modules(gm, ActivationQuantizer).values(), strict=True):
        assert torch.equal(q.min_val, lo) and torch.equal(q.max_val, hi)
    # with BN and observers frozen, training mode computes exactly the eval forward (dropout aside)
    gm.train()
    for m in gm.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    with torch.no_grad():
        out_train = gm(x)
        assert torch.equal(out_train, gm.eval()(x))


def test_training_reduces_loss() -> None:
    x = torch.randn(32, 1, 16, 16)
    y = (x.mean(dim=(1, 2, 3)) > 0).long() + (x[:, 0, :8].mean(dim=(1, 2)) > 0).long()
    gm = prepare_qat(ConvNet(), (x[:1],)).to(DEVICE)
    losses = _train(gm, x, y, steps=30, lr=0.02)
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5


def test_calibrate_ptq_without_training() -> None:
    model = ConvNet()
    _train(model, torch.randn(16, 1, 16, 16), torch.randint(0, 3, (16,)), steps=3)  # non-trivial BN stats
    model.eval()
    gm = prepare_qat(model, (torch.randn(1, 1, 16, 16),))
    gm.train()
    bn_state = {k: v.clone() for k, v in gm.state_dict().items() if ".bn." in k}
    batches = [torch.randn(8, 1, 16, 16) for _ in range(4)]
    assert calibrate(gm, batches) is gm
    assert gm.training  # mode restored
    assert all(bool(q.observed) for q in _modules(gm, ActivationQuantizer).values())
    assert all(torch.equal(gm.state_dict()[k], v) for k, v in bn_state.items())
    gm.eval()
    with torch.no_grad():
        x = batches[0]
        s_out = _modules(gm, QuantLinear)["head_5"].output_quantizer.qparams()[0]
        assert (gm(x) - model(x)).abs().max().item() < 10 * s_out.item()


def test_calibrate_overrides_frozen_observers_and_eval_mode() -> None:
    gm = prepare_qat(nn.Sequential(nn.Linear(4, 2)), (torch.randn(1, 4),)).eval()
    freeze_observers(gm)
    calibrate(gm, [torch.randn(5, 4)])
    assert bool(gm.input_quantizer.observed)
    assert not gm.input_quantizer.observer_enabled


def test_enable_fake_quant_off_gives_float_model() -> None:
    model = ConvNet()
    _train(model, torch.randn(16, 1, 16, 16), torch.randint(0, 3, (16,)), steps=2)
    model.eval()
    gm = prepare_qat(model, (torch.randn(1, 1, 16, 16),))
    calibrate(gm, [torch.randn(8, 1, 16, 16)])
    enable_fake_quant(gm, False)
    x = torch.randn(4, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(gm.eval()(x), model(x), atol=1e-5)
        enable_fake_quant(gm, True)
        assert not torch.allclose(gm(x), model(x), atol=1e-5)


def test_deepcopy_and_state_dict_keep_quantizer_links() -> None:
    gm = prepare_qat(ConvNet(), (torch.randn(1, 1, 16, 16),))
    calibrate(gm, [torch.randn(4, 1, 16, 16)])
    clone = copy.deepcopy(gm)
    assert clone.features_4.input_ref.quantizer is clone.features_0.output_quantizer
    fresh = prepare_qat(ConvNet(), (torch.randn(1, 1, 16, 16),))
    fresh.load_state_dict(gm.state_dict())
    x = torch.randn(2, 1, 16, 16)
    assert torch.equal(fresh.eval()(x), gm.eval()(x))


# --- unsupported models ---------------------------------------------------------------------


class _Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lstm(x)[0]


class _WithLstm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = _Encoder()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)


class _Sorter(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sort(x, dim=1)[0]


class _Gate(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x
        return -x


@pytest.mark.parametrize(
    ("model", "shape", "needles"),
    [
        (_WithLstm(), (2, 4), ("'encoder.lstm'", "nn.LSTM")),
        (nn.Sequential(nn.Linear(4, 4), _Sorter()), (2, 4), ("'1'", "torch.sort")),
        (nn.Sequential(nn.Conv2d(4, 4, 3, groups=2)), (1, 4, 6, 6), ("'0'", "nn.Conv2d", "groups=2")),
        (nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 2, 1)), (1, 3, 4, 4), ("'0'", "nn.BatchNorm2d")),
        (nn.Sequential(nn.Linear(4, 4), _Gate()), (2, 4), ("'1'", "control flow")),
        (nn.Sequential(nn.Conv2d(3, 2, 3, dilation=2)), (1, 3, 8, 8), ("'0'", "dilation")),
        (nn.Sequential(nn.Linear(4, 4), nn.Mish()), (2, 4), ("'1'", "nn.Mish")),
    ],
)
def test_unsupported_ops_raise_one_line_naming_module(
    model: nn.Module, shape: tuple[int, ...], needles: tuple[str, ...]
) -> None:
    with pytest.raises(UnsupportedOpError) as info:
        prepare_qat(model, (torch.randn(*shape),))
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message


class ZeroInitResidual(nn.Module):
    """A ResNet basic block whose last BatchNorm starts at gamma = 0 (``zero_init_residual=True`` in
    torchvision), and one channel of the first BatchNorm with a negative and one with a tiny gamma."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU())
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.head = nn.Sequential(nn.AvgPool2d(8), nn.Flatten(), nn.Linear(4, 3))
        nn.init.zeros_(self.bn2.weight)
        with torch.no_grad():
            self.bn1.weight[1] = -0.5
            self.bn1.weight[2] = 1e-30

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        return self.head(F.relu(h + self.bn2(self.conv2(F.relu(self.bn1(self.conv1(h)))))))


def test_zero_negative_and_tiny_batchnorm_gamma_train_and_ship(tmp_path) -> None:
    """No NaN with zero / negative / tiny BatchNorm scales; the zero gamma learns (float gradient of
    the normalised conv output); the model saves, builds and lowers to finite integers."""
    import tinyqat

    x = torch.randn(32, 1, 8, 8)
    y = (x.mean(dim=(1, 2, 3)) > 0).long() + (x[:, 0, :4].mean(dim=(1, 2)) > 0).long()
    gm = prepare_qat(ZeroInitResidual(), (x[:1],)).to(DEVICE)
    losses = _train(gm, x, y, steps=12, lr=0.01)
    assert all(torch.isfinite(torch.tensor(losses))), losses
    gammas = [m.bn.weight for m in _modules(gm, QuantConv2d).values() if m.bn is not None]
    assert any(bool((g.abs() > 0).all()) and bool((g.abs() < 0.1).all()) for g in gammas), "bn2's gamma moved off 0"
    gm.eval()
    tinyqat.save(gm.cpu(), tmp_path / "model.pt")
    x_q = tinyqat.quantize_input(tmp_path / "model.pt", x[:4].numpy())
    out = tinyqat.simulate(tmp_path / "model.pt", x_q)
    assert out.shape == (4, 3)


def test_nan_in_the_qat_forward_names_the_layer() -> None:
    """NaN or Inf reaching an observed activation raises one clear error naming the layer (the first
    one that sees it), and the observer's statistics stay as they were."""
    from tinyqat.qat.observers import NonFiniteError

    gm = prepare_qat(ConvNet(), (torch.randn(1, 1, 16, 16),)).to(DEVICE)
    gm.train()
    gm(torch.randn(4, 1, 16, 16, device=DEVICE))
    bad = torch.randn(4, 1, 16, 16, device=DEVICE)
    bad[0, 0, 3, 3] = float("nan")
    with pytest.raises(NonFiniteError, match=r"^layer 'input': NaN or Inf in the QAT forward"):
        gm(bad)
    with torch.no_grad():
        gm.head_2.layer.weight[0, 0] = float("inf")  # the Linear(128, 16) of the user's head.2
    before = gm.head_2.output_quantizer.min_val.clone()
    with pytest.raises(NonFiniteError, match=r"^layer 'head\.2': NaN or Inf"):
        gm(torch.randn(4, 1, 16, 16, device=DEVICE))
    assert torch.equal(gm.head_2.output_quantizer.min_val, before)


def test_sync_batchnorm_folds_like_batchnorm(tmp_path) -> None:
    """``nn.SyncBatchNorm`` (DDP on CUDA) is recognised and folded, converted before or after ``prepare_qat``;
    without a process group it normalises with the batch statistics, so both train and save the same model."""
    import tinyqat

    torch.manual_seed(0)
    x, y = torch.randn(16, 1, 16, 16), torch.randint(0, 3, (16,))
    model = ConvNet()
    # on the CPU whatever TINYQAT_TEST_DEVICE says: the two conversions train equal bit for bit only where the
    # kernels are deterministic (CUDA's convolution backward accumulates in a run-dependent order)
    before = prepare_qat(nn.SyncBatchNorm.convert_sync_batchnorm(copy.deepcopy(model)), (x[:1],))
    after = nn.SyncBatchNorm.convert_sync_batchnorm(prepare_qat(model, (x[:1],)))
    for gm in (before, after):
        assert any(isinstance(m.bn, nn.SyncBatchNorm) for m in _modules(gm, QuantConv2d).values())
        torch.manual_seed(1)  # the same dropout masks for both
        losses = _train(gm, x, y, steps=4)
        assert all(math.isfinite(v) for v in losses)
    assert torch.equal(before.eval()(x), after.eval()(x))
    tinyqat.save(before, tmp_path / "m.pt")
    x_q = tinyqat.quantize_input(tmp_path / "m.pt", x.numpy())
    out = tinyqat.simulate(tmp_path / "m.pt", x_q)
    s, zp = before.head_5.output_quantizer.qparams()
    with torch.no_grad():
        fq = torch.round(before(x) / s) + zp
    np.testing.assert_array_equal(fq.numpy(), out.astype(np.float32))
