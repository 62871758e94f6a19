"""A final (or any over-channels) ``log_softmax`` computed in int8: TFLite's int8 LOG_SOFTMAX (issue 12).

* The fixed-point exp and log (:mod:`tinyqat.fixedpoint`) are close to the real functions, and the
  simulator kernel equals a literal per-element transcription of TFLite's reference loop (exp computed per
  element, not through the build-time table), on rows with -128 / 127 extremes and scales from 2**-20 to 15.9.
* The simulator equals TFLite Micro and LiteRT (``tests/test_export_tflite.py`` runs LOG_SOFTMAX in random
  exported graphs; here a whole model ending in ``F.log_softmax``, exported as LOG_SOFTMAX).
* The torch twin (QAT forward, :mod:`tinyqat.sim.torch_model`) equals the simulator.
* ``tq_log_softmax_s8`` equals the simulator on the host (strict flags, cffi; also in place) and under QEMU
  on Cortex-M4, M0+, M7 and M33, on random rows (1 to 4095 elements, zero points at the ends).
* The PyTorch MNIST example's network, ending in ``F.log_softmax(x, dim=1)``, prepares without
  ``deploy_logits``, trains, saves, builds and verifies bit-exact (host, ASan/UBSan, Cortex-M4 and
  Cortex-M0+ under QEMU); its QAT forward is the integer model.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
import torch
import torch.nn.functional as F
from conftest import require_tool
from devices import DEVICE
from test_export_tflite import _interpreters, check_litert, check_tflm, edge_inputs
from torch import nn

import tinyqat
from tinyqat import fixedpoint, ir, quant, requant
from tinyqat.codegen import emit
from tinyqat.codegen.arrays import const_arrays
from tinyqat.errors import LoweringError
from tinyqat.export.tflite import to_tflite
from tinyqat.models import M5, short_qat_artifact
from tinyqat.passes import quantize
from tinyqat.sim.kernels import log_softmax as sim_log_softmax

SCALES = (2.0**-20, 1e-3, 0.02, 0.1, 0.37, 1.0, 4.0, 15.9)


def _graph(rng: np.random.Generator, shape: tuple[int, ...], scale: float | None = None) -> ir.Graph:
    """One log_softmax over the last axis of ``shape``; random scale (or ``scale``), zero point often at an end."""
    s = float(np.float32(scale if scale is not None else 10 ** rng.uniform(-4, 1.2)))
    zp = int(rng.choice([-128, 127])) if rng.random() < 0.5 else int(rng.integers(-128, 128))
    x = ir.Tensor("x", shape, ir.QParams(s, zp))
    return rg.chain(x, [rg.log_softmax(rng, "y", x)])


def _rows(rng: np.random.Generator, count: int, size: int) -> np.ndarray:
    """Random int8 rows, with all -128 / all 127 / one 127 among -128 / narrow-range rows mixed in."""
    x = rng.integers(-128, 128, (count, size))
    x[0], x[1 % count] = -128, 127
    x[2 % count] = -128
    x[2 % count, rng.integers(size)] = 127
    x[3 % count] = rng.integers(120, 128, size)
    return x.astype(np.int8)


def _tflite_loop(row: np.ndarray, op: ir.LogSoftmax) -> np.ndarray:
    """TFLite's reference int8 LogSoftmax for one row, element by element, the exp computed per element."""
    q_in, left, q_rev, e_rev, diff_min = (op.input_multiplier, op.input_shift, op.reverse_multiplier,
                                          op.reverse_shift, op.diff_min)
    m = int(row.max())
    total = 0
    for v in row.tolist():
        diff = v - m
        if diff >= diff_min:
            total += int(fixedpoint.rdbpot(fixedpoint.exp_on_negative_values(fixedpoint.mbqm(diff, q_in, left)), 12))
    log_sum = int(fixedpoint.log_x_q12(total))
    cut = max(diff_min - 1, int(fixedpoint.mbqm(log_sum + fixedpoint.INT32_MIN, q_rev, e_rev)))
    out = []
    for v in row.tolist():
        diff = v - m
        if diff > cut:
            scaled = int(fixedpoint.mbqm(diff, q_in, left)) - log_sum
            out.append(min(127, max(-128, int(fixedpoint.rdbpot(scaled, 22)) + 127)))
        else:
            out.append(-128)
    return np.array(out)


# --- the simulator is TFLite's algorithm -----------------------------------------------------------------------


def test_fixed_point_exp_and_log_are_close_to_real() -> None:
    a = -np.arange(0, 32 << 26, 1 << 18, dtype=np.int64)  # Q5 in [-32, 0]
    assert np.abs(fixedpoint.exp_on_negative_values(a) / 2**31 - np.exp(a / 2**26)).max() < 1e-6
    x = np.concatenate([np.arange(1 << 19, 1 << 21, 997), np.array([4095 << 19, 2**31 - 1])])  # Q12 in [1, 4096)
    assert np.abs(fixedpoint.log_x_q12(x) / 2**26 - np.log(x / 2**19)).max() < 1e-6
    assert int(fixedpoint.log_x_q12(1 << 19)) == 0
    a0 = np.arange(0, 2**31 - 1, 2**21, dtype=np.int64)  # Q0 in [0, 1)
    assert np.abs(fixedpoint.one_over_one_plus_x(a0) / 2**31 - 1 / (1 + a0 / 2**31)).max() < 1e-8


@pytest.mark.parametrize("scale", SCALES)
def test_simulator_is_tflite_reference_loop(scale: float) -> None:
    rng = np.random.default_rng(int(scale * 1000) + 1)
    for size in (1, 2, 10, 37):
        graph = _graph(rng, (size,), scale)
        op = graph.ops[0]
        x = _rows(rng, 12, size)
        got = sim_log_softmax(op, [x], [graph.tensor("x")], graph.tensor("y"))
        want = np.stack([_tflite_loop(row, op) for row in x])
        np.testing.assert_array_equal(got, want, err_msg=f"scale {scale}, size {size}")


def test_params_follow_tflite_prepare_and_refuse_out_of_range_scales() -> None:
    q_in, left, q_rev, e_rev, diff_min = quant.log_softmax_params(0.1)
    assert (q_in, left) == fixedpoint.quantize_multiplier(0.1 * 2**26)
    assert (q_rev, e_rev) == fixedpoint.quantize_multiplier(2 ** (31 - left) / q_in) and e_rev <= 0
    assert diff_min == -math.floor(31 * 2**26 / 2**left)
    table = quant.log_softmax_exp_table(0.1)
    assert table[0] == 2**19 and np.all(np.diff(table) <= 0)
    with pytest.raises(ValueError, match="outside"):
        quant.log_softmax_params(16.0)
    x = ir.Tensor("x", (4,), ir.QParams(20.0, 0))
    y = ir.Tensor("y", (4,), ir.LOG_SOFTMAX_QPARAMS)
    with pytest.raises(LoweringError, match=r"^log_softmax_y: .*finer than 16$"):
        quantize.quantize_log_softmax(ir.FloatLogSoftmax("log_softmax_y", "x", "y"),
                                      ir.Graph((x, y), (), "x", "y", (4,), (4,)))


def test_qat_forward_with_an_out_of_range_input_scale_does_not_fail() -> None:
    """Logits on a grid of 16 or more have no TFLite constants: training goes on (fake quant), lowering refuses."""
    gm = tinyqat.prepare_qat(nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1)), (torch.randn(2, 4),))
    gm.train()
    gm(torch.randn(8, 4) * 5000)
    gm.eval()
    assert torch.isfinite(gm(torch.randn(8, 4) * 5000)).all()
    from tinyqat.capture import to_artifact
    from tinyqat.lower import lower
    with pytest.raises(LoweringError, match=r"finer than 16$"):
        lower(to_artifact(gm))


def test_close_to_float_log_softmax() -> None:
    """Dequantized outputs within 1/16 + 1/32 of the float log_softmax of the dequantized input (above the grid's
    floor of -255/16), for scales where the input grid is fine enough to matter (TFLite's own accuracy)."""
    rng = np.random.default_rng(5)
    for scale in (0.01, 0.05, 0.2):
        graph = _graph(rng, (10,), scale)
        x = rng.integers(-128, 128, (200, 10)).astype(np.int8)
        q = graph.tensor("x").qparams
        y = sim_log_softmax(graph.ops[0], [x], [graph.tensor("x")], graph.tensor("y")).astype(np.float64)
        want = F.log_softmax(torch.from_numpy((x.astype(np.float64) - q.zero_point) * q.scale), dim=1).numpy()
        got = (y - 127) / 16
        keep = want > -255 / 16 + 0.1
        assert np.abs(got - want)[keep].max() <= 1 / 16 + 1 / 32


def test_torch_twin_equals_simulator() -> None:
    rng = np.random.default_rng(9)
    for scale in SCALES:
        graph = _graph(rng, (2, 3, 17), scale)
        op = graph.ops[0]
        x = np.stack([_rows(rng, 6, 17).reshape(2, 3, 17) for _ in range(3)])
        want = sim_log_softmax(op, [x], [graph.tensor("x")], graph.tensor("y"))
        params = (op.input_multiplier, op.input_shift, op.reverse_multiplier, op.reverse_shift, op.diff_min)
        got = requant.log_softmax_int8(torch.from_numpy(x.astype(np.int64)), torch.from_numpy(
            op.exp_table.astype(np.int64)), params)
        np.testing.assert_array_equal(got.numpy(), want, err_msg=f"scale {scale}")


def test_torch_fixed_point_log_equals_numpy() -> None:
    """The QAT forward's per-row logarithm (requant.log_x_q12, on the tensor's device) equals the simulator's
    on the ends of its domain (Q12 1.0 to INT32_MAX), every power of two and its neighbours, and random raws."""
    rng = np.random.default_rng(3)
    powers = np.array([1 << k for k in range(12, 31)], np.int64)
    x = np.concatenate([powers - 1, powers, powers + 1, [1 << 12, 2**31 - 1, 4095 * 4096],
                        rng.integers(1 << 12, 2**31 - 1, 5000)])
    x = x[x >= 1 << 12]
    got = requant.log_x_q12(torch.from_numpy(x).to(DEVICE))
    np.testing.assert_array_equal(got.cpu().numpy(), fixedpoint.log_x_q12(x))
    assert int(requant.clz32(torch.tensor([0, 1, 2**31 - 1])).sum()) == 32 + 31 + 1


# --- the C kernel: host and QEMU ----------------------------------------------------------------------------------


def _kernel_graphs(rng: np.random.Generator) -> list[ir.Graph]:
    """Vectors and maps, rows of 1 to 4095 elements, scales across the valid range."""
    shapes = [(1,), (int(rng.integers(2, 40)),), (4095,), (1, 1, 1), (int(rng.integers(1, 4)), 3, 10),
              (2, 2, int(rng.integers(40, 300)))]
    return [_graph(rng, s, SCALES[k % len(SCALES)] if k % 2 else None) for k, s in enumerate(shapes)]


def test_kernel_on_the_host(tmp_path: Path, gcc: str) -> None:
    rng = np.random.default_rng(21)
    for k, graph in enumerate(_kernel_graphs(rng) + _kernel_graphs(rng)):
        lib = rg.build(graph, tmp_path / str(k))
        size = graph.tensor("x").shape[-1]
        x = _rows(rng, 8 * graph.tensor("x").size // size, size).reshape(8, *graph.tensor("x").shape)
        assert rg.first_mismatch(lib, graph, x) is None, f"graph {k}: {rg.first_mismatch(lib, graph, x)}"


def test_kernel_in_place(tmp_path: Path, gcc: str) -> None:
    ffi, lib = rg.runtime_library(tmp_path, ["tq_log_softmax_s8.c"])
    rng = np.random.default_rng(4)
    for scale in SCALES:
        graph = _graph(rng, (3, 2, 9), scale)
        op = graph.ops[0]
        data = _rows(rng, 6, 9).reshape(1, 3, 2, 9)
        arrays = {a.suffix: ffi.from_buffer(f"{a.values.dtype}_t[]", np.ascontiguousarray(a.values))
                  for a in const_arrays(op, graph)}
        params = ffi.new("tq_log_softmax_s8_params *", {**dict(emit.scalar_fields(op, graph)), **arrays})
        buf = data[0].reshape(-1).copy()
        ptr = ffi.from_buffer("int8_t[]", buf)
        lib.tq_log_softmax_s8(params, ptr, ptr)
        np.testing.assert_array_equal(buf, rg.reference_layers(graph, data)[0][0].reshape(-1))


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus", "cortex-m7", "cortex-m33"])
def test_kernel_under_qemu(board: str, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    rng = np.random.default_rng(31)
    graphs = [*(_graph(rng, (int(rng.integers(1, 3)), 2, int(rng.integers(1, 70))), s) for s in SCALES[::2]),
              _graph(rng, (300,), None), _graph(rng, (1,), 15.9)]
    def rows(g: ir.Graph) -> np.ndarray:
        size = g.tensor("x").shape[-1]
        return _rows(rng, 3 * g.tensor("x").size // size, size).reshape(3, *g.tensor("x").shape)

    rg.assert_emulated_bit_exact(graphs, board, tmp_path, rows)


# --- a whole model: the PyTorch MNIST example ending in log_softmax ---------------------------------------------


class MnistExample(nn.Module):
    """The official PyTorch MNIST example's network (narrower, 14x14 input), ending in ``F.log_softmax``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(8 * 5 * 5, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.dropout1(F.max_pool2d(x, 2))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return F.log_softmax(self.fc2(x), dim=1)


@pytest.fixture(scope="module")
def mnist_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    return short_qat_artifact(MnistExample(), (1, 14, 14), tmp_path_factory.mktemp("mnist") / "model.pt", steps=4)


def test_mnist_example_builds_and_verifies(mnist_artifact: Path, tmp_path: Path, gcc: str) -> None:
    out = tmp_path / "host"
    graph = tinyqat.build(mnist_artifact, out).graph
    assert isinstance(graph.ops[-1], ir.LogSoftmax) and graph.tensor(graph.output).qparams == ir.LOG_SOFTMAX_QPARAMS
    report = tinyqat.verify(out, n_random=8)
    assert report.mismatch is None and report.layers == len(graph.ops)
    assert tinyqat.verify(out, n_random=2, sanitize=True).mismatch is None


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus"])
def test_mnist_example_under_qemu(board: str, mnist_artifact: Path, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    out = tmp_path / board
    tinyqat.build(mnist_artifact, out, board=board)
    assert tinyqat.verify(out, n_random=3, emulate=True).mismatch is None


def test_mnist_example_qat_forward_is_the_integer_model() -> None:
    y_fq, y_int = rg.qat_vs_integer(MnistExample, (1, 14, 14))
    np.testing.assert_array_equal(y_fq, y_int)


def test_mnist_example_exports_log_softmax_bit_exact_in_tflm_and_litert(mnist_artifact: Path) -> None:
    """The exported model ends in LOG_SOFTMAX; TFLite Micro's and LiteRT's tensors are the simulator's."""
    _interpreters()
    graph = tinyqat.load(mnist_artifact)
    data = to_tflite(graph)
    x = edge_inputs(np.random.default_rng(2), graph)
    check_tflm(graph, data, x)
    check_litert(graph, data, x)


# --- over the last dim of (N, 1, F): the torchaudio speech-command tutorial's M5 (tinyqat.models.M5) -------


@pytest.fixture(scope="module")
def m5_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    return short_qat_artifact(M5(), (1, 800), tmp_path_factory.mktemp("m5") / "model.pt", steps=4)


def test_m5_log_softmax_over_last_dim_builds_and_verifies(m5_artifact: Path, tmp_path: Path, gcc: str) -> None:
    """The log_softmax over (N, 1, 5)'s last dim is one LogSoftmax over the Linear's 5 outputs: no reshape left."""
    out = tmp_path / "host"
    graph = tinyqat.build(m5_artifact, out).graph
    assert [type(op).__name__ for op in graph.ops[-2:]] == ["FullyConnected", "LogSoftmax"]
    assert graph.tensor(graph.output).shape == (5,) and graph.torch_output_shape == (1, 5)
    assert not any(isinstance(op, ir.Reshape) for op in graph.ops)
    report = tinyqat.verify(out, n_random=8)
    assert report.mismatch is None and report.layers == len(graph.ops)
    assert tinyqat.verify(out, n_random=2, sanitize=True).mismatch is None


@pytest.mark.parametrize("board", ["cortex-m4", "cortex-m0plus"])
def test_m5_under_qemu(board: str, m5_artifact: Path, tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    out = tmp_path / board
    tinyqat.build(m5_artifact, out, board=board)
    assert tinyqat.verify(out, n_random=3, emulate=True).mismatch is None


def test_m5_qat_forward_is_the_integer_model() -> None:
    y_fq, y_int = rg.qat_vs_integer(M5, (1, 800))
    np.testing.assert_array_equal(y_fq.reshape(y_int.shape), y_int)


def test_m5_exports_log_softmax_bit_exact_in_tflm_and_litert(m5_artifact: Path) -> None:
    _interpreters()
    graph = tinyqat.load(m5_artifact)
    data = to_tflite(graph)
    x = edge_inputs(np.random.default_rng(3), graph)
    check_tflm(graph, data, x)
    check_litert(graph, data, x)


class OneChannelMap(nn.Module):
    """log_softmax over the length of a one-channel 1-D map (N, 1, L): the channels-last (1, L, 1) bytes are the
    row, relabelled to a vector for the kernel."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 1, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.log_softmax(self.conv(x), dim=-1)


def test_log_softmax_over_the_length_of_a_one_channel_map(tmp_path: Path, gcc: str) -> None:
    y_fq, y_int = rg.qat_vs_integer(OneChannelMap, (2, 12))
    np.testing.assert_array_equal(y_fq.reshape(y_int.shape), y_int)
    artifact = short_qat_artifact(OneChannelMap(), (2, 12), tmp_path / "model.pt")
    graph = tinyqat.build(artifact, tmp_path / "out").graph
    assert isinstance(graph.ops[-1], ir.LogSoftmax) and graph.tensor(graph.output).shape == (12,)
    assert tinyqat.verify(tmp_path / "out", n_random=4).mismatch is None
