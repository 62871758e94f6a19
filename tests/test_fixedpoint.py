"""Hand-worked and randomized checks of the TFLite fixed-point rules in tinyqat.fixedpoint."""

from __future__ import annotations

import numpy as np
import pytest

from tinyqat.fixedpoint import INT32_MAX, INT32_MIN, fused_requant_ok, mbqm, quantize_multiplier, rdbpot, srdhm


def scalar_srdhm(a: int, b: int) -> int:
    """Independent scalar SaturatingRoundingDoublingHighMul on Python integers."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    n = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    q = abs(n) // (1 << 31)
    return q if n >= 0 else -q


def scalar_rdbpot(x: int, e: int) -> int:
    """Independent scalar RoundingDivideByPOT: x / 2**e rounded half away from zero."""
    if e == 0:
        return x
    q, r = divmod(abs(x), 1 << e)
    q += r * 2 >= (1 << e)
    return q if x >= 0 else -q


@pytest.mark.parametrize(
    ("m", "expected"),
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),
        (0.75, (1610612736, 0)),
        (1.0, (1 << 30, 1)),
        (0.1, (1717986918, -3)),  # 0.8 * 2^31 = 1717986918.4 -> 1717986918
        (1.0 - 2.0**-40, (1 << 30, 1)),  # q * 2^31 rounds up to 2^31: halve, shift + 1
        (2.0**-40, (0, 0)),  # shift < -31 flushes to zero
        (2.0**40, (INT32_MAX, 30)),  # shift > 30 saturates
    ],
)
def test_quantize_multiplier_hand_worked(m: float, expected: tuple[int, int]) -> None:
    assert quantize_multiplier(m) == expected


def test_quantize_multiplier_round_half_away() -> None:
    # 0.5 + 2^-32 -> q * 2^31 = 2^30 + 0.5 exactly: rounds away from zero to 2^30 + 1
    assert quantize_multiplier(0.5 + 2.0**-32) == ((1 << 30) + 1, 0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_quantize_multiplier_rejects(bad: float) -> None:
    with pytest.raises(ValueError):
        quantize_multiplier(bad)


def test_quantize_multiplier_accuracy() -> None:
    rng = np.random.default_rng(1)
    for m in 10.0 ** rng.uniform(-8, 2, 500):
        q, shift = quantize_multiplier(float(m))
        assert (1 << 30) <= q <= INT32_MAX
        assert abs(q * 2.0 ** (shift - 31) - m) <= m * 2.0**-30


def test_guide_double_rounding_example() -> None:
    # GUIDE section 2: exact value 11.499..., double rounding gives 12 (single rounding: 11).
    x, q, shift = 7984, 1583594044, -9
    exact = x * q / 2.0 ** (31 - shift)
    assert 11.49 < exact < 11.5
    assert int(mbqm(np.array([x]), np.array([q]), np.array([shift]))[0]) == 12


def test_srdhm_int32_min_edges() -> None:
    assert int(srdhm(np.array([INT32_MIN]), np.array([INT32_MIN]))[0]) == INT32_MAX
    assert int(srdhm(np.array([INT32_MIN]), np.array([INT32_MAX]))[0]) == -2147483647  # 2^31 - 0.5 - tiny, truncated
    assert int(srdhm(np.array([INT32_MAX]), np.array([INT32_MAX]))[0]) == 2147483646
    assert int(srdhm(np.array([INT32_MIN]), np.array([1 << 30]))[0]) == -(1 << 30)


@pytest.mark.parametrize(("x", "e", "want"), [(5, 1, 3), (-5, 1, -3), (-4, 1, -2), (6, 2, 2), (-6, 2, -2), (7, 0, 7),
                                              (INT32_MIN, 31, -1), (INT32_MAX, 31, 1)])
def test_rdbpot_hand_worked(x: int, e: int, want: int) -> None:
    assert int(rdbpot(np.array([x]), np.array([e]))[0]) == want


def test_vectorized_matches_scalar_reference() -> None:
    rng = np.random.default_rng(7)
    edges = np.array([INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX], dtype=np.int64)
    a = np.concatenate([edges.repeat(7), rng.integers(INT32_MIN, INT32_MAX, 3000, endpoint=True)])
    b = np.concatenate([np.tile(edges, 7), rng.integers(INT32_MIN, INT32_MAX, 3000, endpoint=True)])
    got = srdhm(a, b)
    assert [int(v) for v in got] == [scalar_srdhm(int(x), int(y)) for x, y in zip(a, b)]
    e = rng.integers(0, 32, a.size)
    got = rdbpot(a, e)
    assert [int(v) for v in got] == [scalar_rdbpot(int(x), int(k)) for x, k in zip(a, e)]


def test_mbqm_left_shift_saturates() -> None:
    # x * 2^left beyond int32 saturates before the high multiply (TFLite leaves this undefined).
    q, shift = quantize_multiplier(0.75 * 2**3)
    assert shift == 3
    got = int(mbqm(np.array([1 << 29]), np.array([q]), np.array([shift]))[0])
    assert got == scalar_srdhm(INT32_MAX, q)


def test_fused_requant_ok_bounds() -> None:
    """The generator's rule for the fused output stage: right shifts in [1, 31] and every accumulator
    |bias| + 32385 * taps within 2^30 - 1; one channel outside either bound refuses the layer."""
    taps = 9
    limit = 2**30 - 1 - 127 * 255 * taps
    shift = np.array([-1, -31, -7])
    assert fused_requant_ok(np.array([limit, -limit, 0]), shift, taps)
    assert not fused_requant_ok(np.array([limit + 1, 0, 0]), shift, taps)
    assert not fused_requant_ok(np.array([0, -limit - 1, 0]), shift, taps)
    assert not fused_requant_ok(np.zeros(3, np.int64), np.array([-1, 0, -7]), taps)  # shift 0: no right shift
    assert not fused_requant_ok(np.zeros(3, np.int64), np.array([-1, -32, -7]), taps)
    too_many = (2**30 - 1) // (127 * 255) + 1  # even a zero bias may leave the range
    assert fused_requant_ok(np.zeros(1, np.int64), np.array([-5]), too_many - 1)
    assert not fused_requant_ok(np.zeros(1, np.int64), np.array([-5]), too_many)
