"""What you train is what ships: the QAT forward computes the integer model's numbers, layer by layer.

Each QAT layer's output, turned into integers on its output grid, is compared with the same tensor of
the integer model (``tinyqat.integer_model``, equal to ``tinyqat.simulate`` and the C).  The tests run on
``TINYQAT_TEST_DEVICE`` (``cuda`` on a GPU machine; the CPU otherwise).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from devices import DEVICE
from torch import nn

import tinyqat
from tinyqat import capture
from tinyqat.demo import load_mnist_split
from tinyqat.models import micro_cnn, mnist_ds_cnn
from tinyqat.qat import freeze_bn_stats
from tinyqat.qat.modules import QuantAvgPool2d, QuantOutput

EXACT_MIN = 0.999  # share of a layer's integers that must be exactly equal
BIAS_MAX = 1e-3  # largest |mean signed difference| per layer, in LSB


class ResidualNet(nn.Module):
    """Conv+BN+ReLU, a residual block (add + ReLU), ReLU6 conv, global pool, Linear+BN1d+ReLU, Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.branch = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
        self.tail = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU6())
        self.head = nn.Sequential(nn.Linear(16, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        h = F.relu(h + self.branch(h))
        h = F.adaptive_avg_pool2d(self.tail(h), 1).flatten(1)
        return self.head(h)


def nonlinear_net() -> nn.Module:
    """Hardswish, tanh and sigmoid (lookup tables) and a final softmax (integer softmax)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.Hardswish(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.Tanh(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(8, 16), nn.Sigmoid(), nn.Linear(16, 10), nn.Softmax(dim=1),
    )


class SqueezeExcite(nn.Module):
    """MobileNetV3-style: conv + hardswish, a squeeze-excitation gate (pool, 1x1 convs, hardsigmoid, mul),
    PReLU, SiLU, scalar arithmetic, LeakyReLU and a clamp, global pool, Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.Hardswish())
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(8, 4, 1), nn.ReLU(), nn.Conv2d(4, 8, 1),
                                  nn.Hardsigmoid())
        self.body = nn.Sequential(nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.PReLU(8), nn.SiLU())
        self.head = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        h = self.body(h * self.gate(h))
        h = F.leaky_relu(h * 0.5 + 1.0, 0.1).clamp(-2.0, 4.0)
        return self.head(F.adaptive_avg_pool2d(h, 1).flatten(1))


def _qat(make, weight_bits: int, seed: int) -> nn.Module:
    """A short QAT run on MNIST (live BatchNorm, then frozen): a model with realistic ranges, on DEVICE."""
    torch.manual_seed(seed)
    x_train, y_train, _, _ = load_mnist_split()
    qat = tinyqat.prepare_qat(make(), (x_train[:1],), weight_bits=weight_bits).to(DEVICE)
    opt = torch.optim.Adam(qat.parameters(), lr=3e-3)
    qat.train()
    for step in range(24):
        if step == 16:
            freeze_bn_stats(qat)
        batch = slice(64 * step, 64 * step + 64)
        loss = F.cross_entropy(qat(x_train[batch].to(DEVICE)), y_train[batch].to(DEVICE))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return qat.eval()


def _layer_outputs(qat: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every output-grid tensor of the QAT forward as integers ``round(y / s) + zp``, by artifact node name."""
    names = {node["module"]: node["name"] for node in capture.to_artifact(qat)["nodes"] if node.get("module")}
    grids = {}
    for m in qat.modules():
        if isinstance(m, QuantOutput):
            grids[m] = m.output_quantizer
        elif isinstance(m, QuantAvgPool2d):  # keeps its input's grid
            grids[m] = m.input_ref.quantizer
    seen: dict[str, torch.Tensor] = {}

    def hook(m: nn.Module, _inputs: tuple, out: torch.Tensor) -> None:
        s, zp = grids[m].qparams()
        seen[names[m.source]] = (torch.round(out / s) + zp).long()

    handles = [m.register_forward_hook(hook) for m in grids]
    try:
        with torch.no_grad():
            qat(x)
    finally:
        for h in handles:
            h.remove()
    return seen


def _agreement(fq: torch.Tensor, integer: torch.Tensor) -> tuple[float, float]:
    """(share exactly equal, mean signed difference in LSB)."""
    diff = (fq - integer).double()
    return float((diff == 0).double().mean()), float(diff.mean())


def _assert_layers_exact(fq: dict[str, torch.Tensor], ints: dict[str, torch.Tensor]) -> None:
    """Every layer of the QAT model that is a tensor of the integer graph (a clamp fused into the table before
    it leaves no tensor of its own): >= 99.9 % of integers exactly equal and no systematic bias
    (|mean| <= 1e-3 LSB)."""
    compared = [name for name in fq if name in ints]
    assert len(compared) >= max(1, len(fq) - 2), f"layers missing from the integer graph: {sorted(set(fq) - set(ints))}"
    for name in compared:
        got, want = fq[name], ints[name]
        got = torch.movedim(got, 1, -1).reshape(want.shape) if got.dim() > 2 else got.reshape(want.shape)
        exact, bias = _agreement(got, want)
        assert exact >= EXACT_MIN and abs(bias) <= BIAS_MAX, (
            f"layer {name}: {100 * exact:.3f} % exactly equal, mean signed difference {bias:+.4f} LSB")


def _check_model(qat: nn.Module, x: torch.Tensor) -> None:
    integer = tinyqat.integer_model(qat)
    x_q = tinyqat.quantize_input_torch(integer, x.to(DEVICE))
    ints = {k: v.long() for k, v in integer.run_layers(
        torch.movedim(x_q, 1, -1).reshape(x_q.shape[0], *integer.graph.tensor(integer.graph.input).shape)).items()}
    _assert_layers_exact(_layer_outputs(qat, x.to(DEVICE)), ints)


@pytest.mark.parametrize(("make", "bits"), [(micro_cnn, 8), (micro_cnn, 4), (mnist_ds_cnn, 8), (mnist_ds_cnn, 4),
                                            (ResidualNet, 8), (nonlinear_net, 8), (SqueezeExcite, 8),
                                            (SqueezeExcite, 4)])
def test_every_layer_of_the_qat_forward_is_the_integer_model(make, bits: int) -> None:
    """The tiny MNIST CNNs of ``benchmarks/accuracy.py`` (int8 and 4-bit weights) and a residual model:
    each layer's fake-quant integers equal the integer model's (>= 99.9 %, no bias), on held-out digits."""
    qat = _qat(make, bits, seed=1)
    _, _, x_test, _ = load_mnist_split()
    _check_model(qat, x_test[:256])


def test_the_layer_check_fails_on_a_one_lsb_bias() -> None:
    """The per-layer criterion catches a systematic 1-LSB bias (on 1 % of a layer's outputs) and rare noise is
    tolerated: the check above can fail."""
    g = torch.Generator().manual_seed(0)
    ints = {"layer": torch.randint(-128, 128, (4000, 8), generator=g)}
    biased = ints["layer"].clone()
    biased.view(-1)[::100] += 1
    with pytest.raises(AssertionError, match="mean signed difference"):
        _assert_layers_exact({"layer": biased}, ints)
    noisy = ints["layer"].clone()
    noisy.view(-1)[0] += 1
    noisy.view(-1)[1] -= 1
    _assert_layers_exact({"layer": noisy}, ints)


def test_final_output_equals_the_simulator_on_the_cpu_artifact(tmp_path) -> None:
    """The eval forward's outputs, on the output grid, are the saved package's simulator outputs exactly."""
    qat = _qat(mnist_ds_cnn, 4, seed=2)
    _, _, x_test, _ = load_mnist_split()
    x = x_test[:200]
    with torch.no_grad():
        y = qat(x.to(DEVICE)).cpu()
    tinyqat.save(qat.cpu(), tmp_path / "m.pt")
    graph = tinyqat.load(tmp_path / "m.pt")
    out = graph.tensor(graph.output).qparams
    sim = tinyqat.simulate(graph, tinyqat.quantize_input(graph, x.numpy()))
    fq = np.round(y.numpy() / np.float32(out.scale)).astype(np.int64) + out.zero_point
    np.testing.assert_array_equal(fq, sim)


@pytest.mark.parametrize(("observer", "learn_scales", "bits"), [("minmax", False, 8), ("percentile", True, 4),
                                                                ("mse", False, 4)])
def test_qat_finetune_reports_the_integer_accuracy_on_the_device(observer: str, learn_scales: bool,
                                                                  bits: int) -> None:
    """``qat_finetune`` on DEVICE with each observer, learned scales and 4-bit weights: ``on_epoch`` gets the
    model, ``integer_accuracy`` measures the integer model where the model is, and once BatchNorm is frozen
    the eval forward's argmax accuracy is that same number (the forward computes the device's integers)."""
    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = load_mnist_split()
    batches = [(x_train[i:i + 64].to(DEVICE), y_train[i:i + 64].to(DEVICE)) for i in range(0, 640, 64)]
    test = [(x_test[:256].to(DEVICE), y_test[:256].to(DEVICE))]
    seen: list[tuple[int, float]] = []
    qat = tinyqat.qat_finetune(micro_cnn().to(DEVICE), batches, epochs=2, lr=3e-3, weight_bits=bits,
                               observer=observer, learn_scales=learn_scales, freeze_bn_epoch=0,
                               on_epoch=lambda e, _loss, m: seen.append((e, tinyqat.integer_accuracy(m, test))))
    assert [e for e, _ in seen] == [0, 1]
    assert all(p.device.type == DEVICE.type for p in qat.parameters())
    qat.eval()
    with torch.no_grad():
        fq_acc = float((qat(test[0][0]).argmax(1) == test[0][1]).double().mean())
    assert tinyqat.integer_accuracy(qat, test) == fq_acc
    assert 0.0 <= seen[-1][1] <= 1.0


def test_training_forward_is_exact_once_no_batchnorm_is_live() -> None:
    """Without BatchNorm the training forward is the integer model from the start; with BatchNorm it is the
    float surrogate until ``freeze_bn_stats``, then the integer model (observers frozen: no range moves)."""
    torch.manual_seed(0)
    x = torch.randn(32, 1, 28, 28, device=DEVICE)
    plain = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 13 * 13, 10))
    for make, has_bn in ((lambda: plain, False), (micro_cnn, True)):
        qat = tinyqat.prepare_qat(make().to(DEVICE), (x[:1],))
        tinyqat.calibrate(qat, [x])
        tinyqat.freeze_observers(qat)
        with torch.no_grad():
            eval_out = qat.eval()(x)
            assert torch.equal(qat.train()(x), eval_out) != has_bn  # live BatchNorm also moved its statistics
            tinyqat.freeze_bn_stats(qat)
            assert torch.equal(qat.train()(x), qat.eval()(x))
