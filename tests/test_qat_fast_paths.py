"""The QAT step's fast paths equal what they replace, bit for bit.

Observers average their range on the host (:meth:`tinyqat.qat.observers.Observer.update_range`), quantizers derive
their grid from the remembered range (:func:`tinyqat.quant.activation_qparams_host`) and clamp the observed range
on the host (``fake_quant._clamp_value``); each must give the values of the float32 tensor expression.  Max pooling
runs its forward on a channels-last copy (:class:`tinyqat.qat.modules.MaxPoolChannelsLast`): the values, the
gradients and the layout must be those of ``F.max_pool2d``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tinyqat import quant
from tinyqat.qat.fake_quant import ActivationQuantizer, _clamp, _clamp_value
from tinyqat.qat.modules import QuantMaxPool2d
from tinyqat.qat.observers import MinMaxObserver


def _float32_values(rng: np.random.Generator, n: int) -> list[float]:
    """Float32 values of every magnitude and sign, with zeros, ties and the ends of the normal range."""
    mags = 10.0 ** rng.uniform(-39, 38, n)
    ends = [0.0, -0.0, 1.0, -1.0, 255.0, -128.0, 2.0**-126, -(2.0**-126), 2.0**-149, 3.4e38, -3.4e38]
    return np.concatenate([rng.choice([-1.0, 1.0], n) * mags, ends]).astype(np.float32).tolist()


def test_activation_qparams_host_equals_the_tensor_version() -> None:
    rng = np.random.default_rng(0)
    los, his = _float32_values(rng, 3000), _float32_values(rng, 3000)
    pairs = list(zip(los, his, strict=False)) + [(lo, hi) for lo in los[-11:] for hi in his[-11:]]
    pairs += [(lo, float(np.float32(lo * rng.uniform(-3, 3)))) for lo in los[:1000]]
    computed = 0
    for lo, hi in pairs:
        host = quant.activation_qparams_host(lo, hi)
        if host is None:  # only where a float32 subnormal is on the way
            continue
        computed += 1
        scale, zp = quant.activation_qparams(torch.tensor(lo), torch.tensor(hi))
        assert host == (float(scale), int(zp)), (lo, hi)
    assert computed > 0.9 * len(pairs)
    assert quant.activation_qparams_host(-(2.0**-140), 1.0) is None


@pytest.mark.parametrize("constant", [0.01, 0.1, 0.37, 1.0])
def test_observer_host_average_equals_the_tensor_expression(constant: float) -> None:
    rng = np.random.default_rng(1)
    observer = MinMaxObserver(constant)
    ref_lo, ref_hi = torch.zeros(()), torch.zeros(())
    for k in range(400):
        scale = 10.0 ** rng.uniform(-3, 3)
        lo, hi = (torch.tensor(v, dtype=torch.float32) for v in sorted(rng.normal(0, scale, 2)))
        if k % 3 == 0:
            observer.update_range(float(lo), float(hi))  # host values, as observe_clamped passes them
        else:
            observer.update_range(lo, hi)
        if k == 0:
            ref_lo.copy_(lo)
            ref_hi.copy_(hi)
        else:
            ref_lo.add_(constant * (lo - ref_lo))
            ref_hi.add_(constant * (hi - ref_hi))
        assert torch.equal(observer.min_val, ref_lo) and torch.equal(observer.max_val, ref_hi), k
        assert observer.host_range() == (float(ref_lo), float(ref_hi))


def test_observer_remembers_nothing_after_an_outside_write() -> None:
    observer = MinMaxObserver(0.5)
    observer.update_range(torch.tensor(-1.0), torch.tensor(1.0))
    assert observer.host_range() == (-1.0, 1.0) and observer.is_observed()
    observer.load_state_dict({"min_val": torch.tensor(-4.0), "max_val": torch.tensor(2.0),
                              "observed": torch.tensor(False)})
    assert observer.host_range() is None and not observer.is_observed()
    observer.max_val.fill_(3.0)
    observer.observed.fill_(True)
    assert observer.is_observed()
    observer.update_range(torch.tensor(-2.0), torch.tensor(5.0))
    assert (float(observer.min_val), float(observer.max_val)) == (-3.0, 4.0)


def test_quantizer_grid_from_the_host_equals_activation_qparams() -> None:
    torch.manual_seed(0)
    q = ActivationQuantizer(0.05)
    for _ in range(50):
        q(torch.randn(64) * 3 + 0.5)
        scale, zp = q.qparams()
        ref_scale, ref_zp = quant.activation_qparams(q.min_val, q.max_val)
        assert torch.equal(scale, ref_scale) and torch.equal(zp, ref_zp)
        assert scale.dtype == torch.float32 and zp.dtype == torch.int64
        assert q.grid().host == (float(ref_scale), int(ref_zp))


@pytest.mark.parametrize("interval", [(None, None), (0.0, None), (0.0, 6.0), (-0.3, 0.7), (None, 0.1), (1.0, -1.0)])
def test_clamp_value_equals_torch_clamp(interval: tuple[float | None, float | None]) -> None:
    rng = np.random.default_rng(2)
    values = [*_float32_values(rng, 300), math.inf, -math.inf, math.nan, *np.float32([0.1, -0.3, 0.7]).tolist()]
    for v in values:
        ref = float(_clamp(torch.tensor(v, dtype=torch.float32), interval))  # the tensor clamp observe_clamped used
        got = _clamp_value(v, interval)
        assert got == ref or (math.isnan(got) and math.isnan(ref)), (v, interval)


@pytest.mark.parametrize(("kernel", "stride", "padding", "ceil_mode"), [
    ((2, 2), (2, 2), (0, 0), False), ((3, 3), (2, 2), (1, 1), True), ((3, 2), (1, 2), (1, 0), False),
    ((2, 2), (2, 2), (0, 0), True), ((1, 4), (1, 4), (0, 0), False)])
def test_max_pool_equals_f_max_pool2d(kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
                                      ceil_mode: bool) -> None:
    """Ties (ReLU zeros and repeated grid values), NaN, -inf, overlapping windows, padding and ceil mode."""
    torch.manual_seed(0)
    pool = QuantMaxPool2d(kernel, stride, padding, ceil_mode)
    for shape in [(3, 5, 9, 11), (2, 16, 7, 6), (4, 3, 2, 13)]:
        x = torch.relu(torch.randn(shape)).mul_(3).round_()
        x.view(-1)[::37] = float("nan")
        x.view(-1)[5::41] = -float("inf")
        got_x, ref_x = x.clone().requires_grad_(), x.clone().requires_grad_()
        got = pool(got_x)
        ref = F.max_pool2d(ref_x, kernel, stride, padding, ceil_mode=ceil_mode)
        assert torch.equal(got.isnan(), ref.isnan()) and torch.equal(got.nan_to_num(), ref.nan_to_num())
        assert got.is_contiguous() and got.stride() == ref.stride()
        grad = torch.randn(ref.shape)
        got.backward(grad)
        ref.backward(grad)
        assert torch.equal(got_x.grad, ref_x.grad) and got_x.grad.stride() == ref_x.grad.stride()
    with torch.no_grad():  # the forward alone (eval), and an input of one channel (the standard kernel)
        x = torch.randn(2, 1, 8, 8)
        assert torch.equal(pool(x), F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode))
