"""PTQ calibration, percentile / MSE observers, observer and BatchNorm freezing, learned scales (LSQ)
and the ``qat_finetune`` recipe."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import tinyqat
from tinyqat import quant
from tinyqat.qat.fake_quant import ActivationQuantizer, FastFakeQuantize, FixedQuantizer, fake_quantize
from tinyqat.qat.modules import QuantWeighted
from tinyqat.qat.observers import (
    MSE_GRID,
    OBSERVER_CLASSES,
    OBSERVERS,
    MinMaxObserver,
    MSEObserver,
    PercentileObserver,
    mse_range,
    percentile_range,
)


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 5 * 5, 3))


def _quantizers(model: nn.Module) -> list[ActivationQuantizer]:
    return [m for m in model.modules() if isinstance(m, ActivationQuantizer)]


def test_calibrate_is_post_training_quantization(tmp_path: Path) -> None:
    model = _net()
    model.train()
    x = torch.randn(16, 2, 5, 5)
    qat = tinyqat.prepare_qat(model, (x[:1],))
    state = {k: v.clone() for k, v in qat.state_dict().items() if "quantizer" not in k}
    tinyqat.calibrate(qat, [x[:8], x[8:]])
    assert qat.training  # mode restored
    after = qat.state_dict()
    for k, v in state.items():  # weights and BatchNorm statistics untouched
        assert torch.equal(after[k], v), k
    inp = _quantizers(qat)[0]
    lo, hi = x[:8].min(), x[:8].max()
    c = inp.averaging_constant
    assert torch.allclose(inp.min_val, lo + c * (x[8:].min() - lo))
    assert torch.allclose(inp.max_val, hi + c * (x[8:].max() - hi))
    assert all(p.grad is None for p in qat.parameters())
    tinyqat.save(qat, tmp_path / "ptq.pt")  # every quantizer observed: a valid artifact
    graph = tinyqat.load(tmp_path / "ptq.pt")
    qat.eval()
    with torch.no_grad():
        fq = qat(x).numpy()
    q = graph.tensor(graph.output).qparams
    sim = tinyqat.simulate(graph, tinyqat.quantize_input(graph, x.numpy()))
    assert np.abs(np.round(fq / np.float32(q.scale)) + q.zero_point - sim).max() <= 1


def test_percentile_observer_clips_outliers() -> None:
    x = torch.randn(60_000)  # below OBSERVER_SAMPLE: every value counts
    x[0], x[1] = 1000.0, -1000.0
    lo, hi = percentile_range(x, 0.9999)
    k = math.ceil(1e-4 * x.numel())
    assert lo == x.kthvalue(k).values and hi == x.kthvalue(x.numel() - k + 1).values
    assert 3.0 < hi < 6.0 and -6.0 < lo < -3.0
    q = ActivationQuantizer(observer="percentile")
    q.train()
    q(x.reshape(10, -1))
    big = torch.randn(1 << 20)
    assert -6.0 < float(percentile_range(big)[0]) < -3.0  # larger batches: a strided sample
    assert float(q.max_val) < 10.0


def test_mse_observer_minimises_error() -> None:
    torch.manual_seed(0)
    x = torch.randn(50_000) ** 3  # heavy tails: the best range is narrower than min/max
    lo, hi = mse_range(x)
    full_lo, full_hi = x.min(), x.max()
    fractions = [float(lo / full_lo), float(hi / full_hi)]
    assert fractions[0] == pytest.approx(fractions[1]) and min(MSE_GRID) <= fractions[0] < 1.0

    def mse(a: float) -> float:
        s, zp = quant.activation_qparams(a * full_lo, a * full_hi)
        return float((fake_quantize(x, s, zp, -128, 127) - x).square().mean())

    best = min(MSE_GRID, key=mse)
    assert fractions[0] == pytest.approx(best) and mse(fractions[0]) < mse(1.0)
    uniform = torch.linspace(-1, 3, 10_001)  # no tails: the full range is best
    assert mse_range(uniform)[1] == pytest.approx(3.0)


@pytest.mark.parametrize("observer", ["percentile", "mse"])
def test_observer_option_reaches_every_quantizer(observer: str, tmp_path: Path) -> None:
    x = torch.randn(16, 2, 5, 5)
    qat = tinyqat.prepare_qat(_net(), (x[:1],), observer=observer)
    assert {q.observer for q in _quantizers(qat)} == {observer}
    tinyqat.calibrate(qat, [x])
    tinyqat.save(qat, tmp_path / "m.pt")
    with pytest.raises(tinyqat.TinyQatError, match="observer"):
        tinyqat.prepare_qat(_net(), (x[:1],), observer="histogram")


def test_fast_fake_quant_equals_exact_one() -> None:
    """Inner activations use x * (1/s) rounding; away from rounding ties it equals quant.quantize's x / s."""
    torch.manual_seed(1)
    x = (torch.randn(10_000) * 3).requires_grad_()
    s, zp = torch.tensor(0.023), -17
    fast = FastFakeQuantize.apply(x, s, -128 - zp, 127 - zp)
    exact = quant.dequantize(quant.quantize(x.detach(), s, zp, -128, 127), s, zp)
    assert (fast.detach() != exact).float().mean() < 1e-3
    fast.sum().backward()
    inside = (torch.round(x.detach() / s) + zp).clamp(-1e9, 1e9)
    np.testing.assert_array_equal(x.grad.numpy(), ((inside >= -128) & (inside <= 127)).float().numpy())


def test_freeze_observers_and_bn_stats() -> None:
    x = torch.randn(16, 2, 5, 5)
    qat = tinyqat.prepare_qat(_net(), (x[:1],))
    qat.train()
    qat(x)
    ranges = [(q.min_val.clone(), q.max_val.clone()) for q in _quantizers(qat)]
    bn = next(m for m in qat.modules() if isinstance(m, QuantWeighted) and m.bn is not None).bn
    stats = (bn.running_mean.clone(), bn.running_var.clone())
    qat(x * 3)  # observers and BN statistics move in training
    assert not torch.equal(bn.running_mean, stats[0])
    assert any(not torch.equal(q.max_val, r[1]) for q, r in zip(_quantizers(qat), ranges))
    tinyqat.freeze_observers(qat)
    tinyqat.freeze_bn_stats(qat)
    ranges = [(q.min_val.clone(), q.max_val.clone()) for q in _quantizers(qat)]
    stats = (bn.running_mean.clone(), bn.running_var.clone())
    y_train = qat(x * 5)
    for q, (lo, hi) in zip(_quantizers(qat), ranges):
        assert torch.equal(q.min_val, lo) and torch.equal(q.max_val, hi)
    assert torch.equal(bn.running_mean, stats[0]) and torch.equal(bn.running_var, stats[1])
    qat.eval()
    with torch.no_grad():
        assert torch.equal(y_train.detach(), qat(x * 5))  # frozen training forward = exact eval forward


def test_learned_scales_get_the_lsq_gradient(tmp_path: Path) -> None:
    x = torch.randn(16, 2, 5, 5)
    qat = tinyqat.prepare_qat(_net(), (x[:1],), learn_scales=True)
    quantizers = _quantizers(qat)
    assert all(isinstance(q.scale, nn.Parameter) for q in quantizers)
    assert {id(q.scale) for q in quantizers} <= {id(p) for p in qat.parameters()}
    tinyqat.calibrate(qat, [x])
    qat.train()
    qat(x).square().sum().backward()
    for q in quantizers:
        assert bool(q.scale_initialized) and q.scale.grad is not None and float(q.scale.grad) != 0.0
    # the LSQ formula on one quantizer
    q = ActivationQuantizer(learn_scale=True)
    q.train()
    v = torch.tensor([-1.0, -0.26, 0.1, 0.37, 2.0, 9.0])
    q.observe(torch.tensor([-1.0, 2.0]))
    y = q(v)
    s = float(q.scale.detach())
    zp = int(quant.activation_zero_point(q.min_val, q.scale))
    y.sum().backward()
    scaled = v / s
    qv = torch.round(scaled) + zp
    expected = torch.where(qv > 127, torch.tensor(127.0 - zp), torch.where(qv < -128, torch.tensor(-128.0 - zp),
                                                                            torch.round(scaled) - scaled))
    g = 1.0 / math.sqrt(v.numel() * 127)
    assert float(q.scale.grad) == pytest.approx(float(expected.sum()) * g, rel=1e-5)
    # the saved qparams are the learned ones
    with torch.no_grad():
        quantizers[-1].scale.mul_(1.5)
    tinyqat.save(qat, tmp_path / "m.pt")
    graph = tinyqat.load(tmp_path / "m.pt")
    assert graph.tensor(graph.output).qparams.scale == pytest.approx(float(quantizers[-1].scale.detach()))


def test_qat_finetune_recipe() -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 2, 5, 5)
    y = (x.mean(dim=(1, 2, 3)) > 0).long() + (x[:, 0, 0, 0] > 1).long()
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    epochs_seen: list[tuple[int, float]] = []
    model = _net()
    qat = tinyqat.qat_finetune(model, batches, epochs=2, lr=1e-3, weight_bits=4, learn_scales=True,
                               on_epoch=lambda e, loss, _qat: epochs_seen.append((e, loss)))
    assert [e for e, _ in epochs_seen] == [0, 1] and all(math.isfinite(loss) for _, loss in epochs_seen)
    weighted = [m for m in qat.modules() if isinstance(m, QuantWeighted)]
    assert {m.weight_bits for m in weighted} == {4} and all(m.bn_frozen for m in weighted if m.bn is not None)
    assert not any(q.observer_enabled for q in _quantizers(qat))
    assert not torch.equal(weighted[0].layer.weight, model[0].weight)  # it trained; the float model is untouched


def test_observer_classes_registry_and_quantizers() -> None:
    assert OBSERVERS == ("minmax", "percentile", "mse") and tuple(OBSERVER_CLASSES) == OBSERVERS
    for name, cls in OBSERVER_CLASSES.items():
        q = ActivationQuantizer(observer=name)
        assert cls.name == name and type(q.range_observer) is cls and q.observer == name
    with pytest.raises(ValueError, match="observer must be one of"):
        ActivationQuantizer(observer="histogram")
    # an observer on its own: the batch range of its kind, then the moving average
    x = torch.randn(4000) ** 3
    for obs, (lo, hi) in [(MinMaxObserver(0.5), torch.aminmax(x)), (PercentileObserver(0.5), percentile_range(x)),
                          (MSEObserver(0.5), mse_range(x))]:
        assert obs(x) is x and bool(obs.observed)
        assert torch.equal(obs.range()[0], lo) and torch.equal(obs.range()[1], hi)
        obs.update(x * 3)
        assert torch.equal(obs.min_val, lo + 0.5 * (obs.batch_range(x * 3)[0] - lo))
    # the statistics are the observer's buffers; a new kind takes them over
    q = ActivationQuantizer(averaging_constant=0.25)
    q.observe(torch.tensor([-1.0, 2.0]))
    q.configure("mse")
    assert type(q.range_observer) is MSEObserver and q.averaging_constant == 0.25
    q.observer = "percentile"
    assert type(q.range_observer) is PercentileObserver
    q.configure("mse")
    assert (q.min_val.item(), q.max_val.item(), bool(q.observed)) == (-1.0, 2.0, True)
    assert set(q.state_dict()) == {"range_observer.min_val", "range_observer.max_val", "range_observer.observed"}
    fixed = FixedQuantizer(1 / 256, -128)
    fixed.train()
    fixed(torch.tensor([-50.0, 50.0]))  # never observes
    assert (fixed.min_val.item(), fixed.max_val.item(), fixed.observer) == (0.0, 255 / 256, "fixed")


def test_state_dict_with_statistics_on_the_quantizer_still_loads() -> None:
    """The layout before observers were modules: ``...quantizer.min_val`` instead of ``...range_observer.min_val``."""
    x = torch.randn(16, 2, 5, 5)
    qat = tinyqat.prepare_qat(_net(), (x[:1],))
    tinyqat.calibrate(qat, [x])
    legacy = {k.replace("range_observer.", ""): v for k, v in qat.state_dict().items()}
    assert sum(k.endswith("quantizer.min_val") for k in legacy) == 3
    fresh = tinyqat.prepare_qat(_net(), (x[:1],))
    fresh.load_state_dict(legacy)  # strict
    assert all(bool(q.observed) for q in _quantizers(fresh))
    assert torch.equal(fresh.eval()(x), qat.eval()(x))


def _finetune_batches() -> list[tuple[torch.Tensor, torch.Tensor]]:
    torch.manual_seed(0)
    x = torch.randn(64, 2, 5, 5)
    y = (x.mean(dim=(1, 2, 3)) > 0).long() + (x[:, 0, 0, 0] > 1).long()
    return [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]


def test_qat_finetune_learning_rates_follow_the_cosine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Step k of total = epochs * len(batches) runs at base * 0.5 * (1 + cos(pi k / total)) in every group."""
    seen: list[list[float]] = []

    class RecordingAdam(torch.optim.Adam):
        def step(self, closure: Any = None) -> Any:
            seen.append([group["lr"] for group in self.param_groups])
            return super().step(closure)

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    batches = _finetune_batches()
    tinyqat.qat_finetune(_net(), batches, epochs=3, lr=1e-3, learn_scales=True, scale_lr=5e-3)
    total = 3 * len(batches)
    assert seen == [[base * 0.5 * (1.0 + math.cos(math.pi * k / total)) for base in (1e-3, 5e-3)]
                    for k in range(total)]
    seen.clear()  # without a len, the rates stay constant; scale_lr=None is lr
    tinyqat.qat_finetune(_net(), lambda epoch: iter(batches), epochs=2, lr=1e-3, learn_scales=True)
    assert seen == [[1e-3, 1e-3]] * 8


def test_qat_finetune_scale_lr_zero_freezes_learned_scales() -> None:
    batches = _finetune_batches()
    start = tinyqat.qat_finetune(_net(), batches, epochs=0, learn_scales=True)  # calibrated, scales initialised
    tuned = tinyqat.qat_finetune(_net(), batches, epochs=2, lr=1e-2, learn_scales=True, scale_lr=0.0)
    scales = [(q.scale.detach(), p.scale.detach()) for q, p in zip(_quantizers(start), _quantizers(tuned))]
    assert len(scales) == 3 and all(torch.equal(a, b) for a, b in scales)
    weighted = [(m.layer.weight, n.layer.weight) for m, n in zip(start.modules(), tuned.modules())
                if isinstance(m, QuantWeighted)]
    assert weighted and all(not torch.equal(a, b) for a, b in weighted)  # the other parameters trained
