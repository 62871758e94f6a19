"""Whole models: prepare_qat -> train/calibrate -> save -> build -> verify (gcc + cffi), bit-exact.

Randomized (seeded) conv nets cover channel counts 1..33, kernels 1..5, strides 1..3,
paddings up to kernel - 1, pools with padding and ceil mode, fused and standalone
activations, and both single-sample and multi-sample verification batches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import require_tool
from torch import nn

import tinyqat
from tinyqat.demo import load_mnist_split, mnist_cnn, train_epoch


def _activation(rng: np.random.Generator) -> list[nn.Module]:
    return [[], [nn.ReLU()], [nn.ReLU6()]][int(rng.integers(3))]


def random_convnet(seed: int) -> tuple[nn.Module, tuple[int, int, int]]:
    """A random conv net and its per-sample input shape (C, H, W)."""
    rng = np.random.default_rng(seed)
    c, h, w = int(rng.integers(1, 5)), int(rng.integers(5, 19)), int(rng.integers(5, 19))
    shape = (c, h, w)
    layers: list[nn.Module] = []
    for _ in range(int(rng.integers(1, 4))):
        k = rng.integers(1, 6, 2) if rng.random() < 0.3 else rng.integers(1, 6).repeat(2)
        s = rng.integers(1, 4, 2) if rng.random() < 0.3 else rng.integers(1, 4).repeat(2)
        p = rng.integers(0, k)  # up to kernel - 1 on each axis
        (kh, kw), (sh, sw), (ph, pw) = (tuple(int(v) for v in a) for a in (k, s, p))
        if h + 2 * ph < kh or w + 2 * pw < kw:
            continue
        out_c = int(rng.choice([1, 2, 3, 8, 16, 33])) if rng.random() < 0.5 else int(rng.integers(1, 34))
        use_bn = bool(rng.random() < 0.6)
        layers.append(nn.Conv2d(c, out_c, (kh, kw), stride=(sh, sw), padding=(ph, pw),
                                bias=bool(rng.random() < 0.5) or not use_bn))
        if use_bn:
            layers.append(nn.BatchNorm2d(out_c))
        layers += _activation(rng)
        c, h, w = out_c, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        if rng.random() < 0.5 and min(h, w) >= 2:
            pk = min(int(rng.integers(2, 4)), h, w)
            pool = nn.MaxPool2d(pk, stride=int(rng.integers(1, 4)), padding=int(rng.integers(0, pk // 2 + 1)),
                                ceil_mode=bool(rng.random() < 0.5))
            layers.append(pool)
            if rng.random() < 0.3:
                layers.append(nn.ReLU())  # standalone clamp after a pool
            h, w = pool(torch.zeros(1, c, h, w)).shape[2:]
    features = int(rng.integers(1, 34))
    layers += [nn.Flatten(), nn.Linear(c * h * w, features), *_activation(rng)]
    if rng.random() < 0.5:
        layers += [nn.Dropout(0.2), nn.Linear(features, int(rng.integers(2, 11)))]
    return nn.Sequential(*layers), shape


def train_and_save(model: nn.Module, shape: tuple[int, ...], path: Path, seed: int) -> None:
    """A few QAT steps on random data (BN live), freeze, calibrate, save."""
    gen = torch.Generator().manual_seed(seed)
    qat = tinyqat.prepare_qat(model, example_inputs=(torch.randn(1, *shape, generator=gen),))
    opt = torch.optim.SGD(qat.parameters(), lr=0.01)
    qat.train()
    for _ in range(3):
        out = qat(torch.randn(8, *shape, generator=gen))
        opt.zero_grad()
        out.square().mean().backward()
        opt.step()
    tinyqat.freeze_bn_stats(qat)
    tinyqat.calibrate(qat, [torch.randn(16, *shape, generator=gen) * 2 for _ in range(2)])
    tinyqat.save(qat, path)


def build_and_verify(model_path: Path, out: Path, samples: np.ndarray | None = None, n_random: int = 6) -> None:
    tinyqat.build(model_path, out, board="cortex-m4")
    report = tinyqat.verify(out, samples=samples, n_random=n_random)
    assert report.ok, report.mismatch
    assert report.layers >= 2
    assert report.compared_bytes > 0


@pytest.mark.parametrize("seed", range(16))
def test_random_convnets_bit_exact(seed: int, tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    model, shape = random_convnet(seed)
    train_and_save(model, shape, tmp_path / "model.pt", seed)
    build_and_verify(tmp_path / "model.pt", tmp_path / "out", n_random=2 + seed % 5)


def test_mlp_and_single_sample_batch(tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    model = nn.Sequential(nn.Linear(20, 33), nn.BatchNorm1d(33), nn.ReLU6(), nn.Linear(33, 1), nn.ReLU())
    train_and_save(model, (20,), tmp_path / "model.pt", 3)
    one = np.random.default_rng(0).integers(-128, 128, (1, 20)).astype(np.int8)
    build_and_verify(tmp_path / "model.pt", tmp_path / "out", samples=one)


@pytest.fixture(scope="module")
def trained_mnist(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Path, torch.Tensor]:
    """The demo CNN after one FP32 epoch and one QAT epoch on the bundled MNIST split."""
    torch.manual_seed(0)
    x_train, y_train, x_test, _ = load_mnist_split()
    model = mnist_cnn()
    train_epoch(model, x_train, y_train, torch.optim.Adam(model.parameters(), 2e-3), 0, "fp32")
    qat = tinyqat.prepare_qat(model, example_inputs=(x_train[:1],))
    train_epoch(qat, x_train, y_train, torch.optim.Adam(qat.parameters(), 2e-4), 1, "qat")
    path = tmp_path_factory.mktemp("mnist") / "model.pt"
    tinyqat.save(qat.eval(), path)
    return qat, path, x_test


def test_simulator_agrees_with_fake_quant(trained_mnist: tuple[nn.Module, Path, torch.Tensor]) -> None:
    """Integer simulator vs the fake-quant PyTorch forward: >= 99.9% of outputs within 1 LSB."""
    qat, path, x_test = trained_mnist
    graph = tinyqat.load(path)
    y_int = tinyqat.simulate(graph, tinyqat.quantize_input(graph, x_test))
    with torch.no_grad():
        y_fq = qat.eval()(x_test).numpy()
    q = graph.tensor(graph.output).qparams
    y_fq_int = np.round(y_fq / np.float32(q.scale)) + q.zero_point
    diff = np.abs(y_fq_int - y_int.astype(np.float64))
    assert diff.size == 10 * len(x_test)
    assert (diff <= 1).mean() >= 0.999
    assert (y_fq.argmax(1) == y_int.argmax(1)).mean() >= 0.99


def test_trained_mnist_c_bit_exact_with_sanitizers(trained_mnist: tuple[nn.Module, Path, torch.Tensor],
                                                   tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    _, path, x_test = trained_mnist
    tinyqat.build(path, tmp_path / "out", board="cortex-m4")
    samples = tinyqat.quantize_input(path, x_test[:8])
    report = tinyqat.verify(tmp_path / "out", samples=samples, sanitize=True)
    assert report.ok, report.mismatch
    assert report.samples == 8
