"""4-bit weights: packing (Python vs C), IR/artifact validation, codegen, and bit-exact C for
4-bit conv, depthwise and fully connected layers (gcc + cffi, ASan/UBSan, one QEMU board)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import cffi
import numpy as np
import pytest
import runtime_graphs as rg
import torch
from conftest import require_tool
from torch import nn

import tinyqat
from tinyqat import ir, quant
from tinyqat.artifact import ArtifactError, validate_artifact
from tinyqat.capture import to_artifact
from tinyqat.codegen import stats
from tinyqat.codegen.pack import pack_s4, unpack_s4
from tinyqat.qat.modules import QuantWeighted
from tinyqat.qat.prepare import PrepareError
from tinyqat.resources import resource_dir
from tinyqat.target import STRICT_CFLAGS
from tinyqat.verify import check, verify

# --- packing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 7, 8, 33])
def test_pack_round_trip(n: int) -> None:
    values = np.random.default_rng(n).integers(-8, 8, n)
    packed = pack_s4(values)
    assert packed.dtype == np.uint8 and packed.size == (n + 1) // 2
    np.testing.assert_array_equal(unpack_s4(packed, n), values)
    if n >= 2:  # element 2i in the low nibble, 2i+1 in the high nibble
        assert packed[0] == (values[0] & 0xF) | ((values[1] & 0xF) << 4)
    if n % 2:
        assert packed[-1] >> 4 == 0
    with pytest.raises(ValueError):
        pack_s4(np.array([8]))


def test_c_unpack_matches_python_pack(tmp_path: Path, gcc: str) -> None:
    """``TQ_S4_WEIGHT`` (runtime_c/tq_kernels.h) reads back every value ``pack_s4`` stored."""
    src = tmp_path / "unpack.c"
    src.write_text('#include "tq_kernels.h"\n'
                   "int32_t unpack(const uint8_t *packed, int32_t k);\n"
                   "int32_t unpack(const uint8_t *packed, int32_t k) { return TQ_S4_WEIGHT(packed, k); }\n")
    lib = tmp_path / "libunpack.so"
    subprocess.run([gcc, *STRICT_CFLAGS, "-O2", "-fPIC", "-shared", f"-I{resource_dir('runtime_c')}", str(src),
                    "-o", str(lib)], check=True)
    ffi = cffi.FFI()
    ffi.cdef("int32_t unpack(const uint8_t *packed, int32_t k);")
    c = ffi.dlopen(str(lib))
    values = np.concatenate([np.arange(-8, 8), np.random.default_rng(0).integers(-8, 8, 101)])
    packed = pack_s4(values)
    buf = ffi.new("uint8_t[]", packed.tolist())
    assert [c.unpack(buf, k) for k in range(values.size)] == values.tolist()


# --- validation ----------------------------------------------------------------------------------


def test_ir_checks_the_4bit_range() -> None:
    rng = np.random.default_rng(0)
    x = ir.Tensor("x", (5, 5, 3), rg.random_qparams(rng))
    graph = rg.to_int4(rg.chain(x, [rg.conv(rng, "y", x, 4, (3, 3), (1, 1), (1, 1, 1, 1))]), rng)
    conv = graph.ops[0]
    bad = np.array(conv.weights)
    bad[0, 0, 0, 0] = 8
    with pytest.raises(ir.IRError, match=r"\[-7, 7\]"):
        ir.validate(dataclasses.replace(graph, ops=(dataclasses.replace(conv, weights=bad),)))
    with pytest.raises(ir.IRError, match="weight_bits"):
        ir.validate(dataclasses.replace(graph, ops=(dataclasses.replace(conv, weight_bits=2),)))


def _small_qat(bits: int = 4, layer_bits: dict[str, int] | None = None) -> tuple[torch.nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
        nn.Conv2d(6, 6, 3, stride=2, padding=1, groups=6), nn.ReLU6(),
        nn.Conv2d(6, 5, 1), nn.ReLU(), nn.Flatten(), nn.Linear(5 * 4 * 4, 7),
    )
    x = torch.randn(32, 3, 7, 7)
    qat = tinyqat.prepare_qat(model, (x[:1],), weight_bits=bits, layer_bits=layer_bits)
    for _ in range(3):  # a few steps: BN statistics and observers move
        qat.train()
        qat(x).square().mean().backward()
    tinyqat.calibrate(qat, [x])
    return qat, x


def test_artifact_weight_bits_attr() -> None:
    qat, _ = _small_qat(8, {"0": 4, "8": 4})
    art = to_artifact(qat)
    bits = {n["name"]: n["attrs"].get("weight_bits") for n in art["nodes"] if n["op"] in ("conv2d", "linear")}
    assert list(bits.values()) == [4, None, None, 4]  # absent = 8
    for bad in (3, 16, True, "4", 4.0):
        node = next(n for n in art["nodes"] if n["op"] == "conv2d")
        node["attrs"]["weight_bits"] = bad
        with pytest.raises(ArtifactError, match="weight_bits"):
            validate_artifact(art)
    node["attrs"]["weight_bits"] = 4
    pool = dict(art["nodes"][0], op="relu", attrs={"weight_bits": 4}, params={}, qparams=None, name="extra",
                inputs=[art["nodes"][0]["name"]])
    art["nodes"].append(pool)
    with pytest.raises(ArtifactError, match="conv2d and linear only"):
        validate_artifact(art)


def test_prepare_refuses_bad_bits() -> None:
    model = nn.Sequential(nn.Linear(4, 3))
    x = torch.randn(2, 4)
    with pytest.raises(PrepareError, match="weight_bits"):
        tinyqat.prepare_qat(model, (x,), weight_bits=6)
    with pytest.raises(PrepareError, match="not a Conv/Linear"):
        tinyqat.prepare_qat(model, (x,), layer_bits={"1": 4})
    with pytest.raises(PrepareError, match=r"layer_bits\['0'\]"):
        tinyqat.prepare_qat(model, (x,), layer_bits={"0": 2})


# --- QAT forward == lowering ------------------------------------------------------------------------


def test_4bit_fake_quant_weights_are_what_lowering_stores(tmp_path: Path) -> None:
    qat, x = _small_qat(4, {"5": 8})
    path = tmp_path / "m.pt"
    tinyqat.save(qat, path)
    graph = tinyqat.load(path)
    weighted = [op for op in graph.ops if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected))]
    assert [op.weight_bits for op in weighted] == [4, 4, 8, 4]
    assert [stats.op_kind(op) for op in weighted] == ["conv2d_s4", "depthwise_conv2d_s4", "conv2d",
                                                      "fully_connected_s4"]
    for op in weighted:
        limit = 7 if op.weight_bits == 4 else 127
        assert int(np.abs(op.weights).max()) == limit  # the largest weight of some channel hits qmax
    modules = [m for m in qat.modules() if isinstance(m, QuantWeighted)]
    w, _ = modules[0].folded_params()
    w_q, _ = quant.quantize_weight(w, 4)
    np.testing.assert_array_equal(weighted[0].weights, w_q.detach().numpy().astype(np.int8).transpose(0, 2, 3, 1))
    # fake quant vs simulator within 1 LSB
    qat.eval()
    out_q = graph.tensor(graph.output).qparams
    with torch.no_grad():
        fq = qat(x).numpy()
    fq_int = np.clip(np.round(fq / np.float32(out_q.scale)) + out_q.zero_point, -128, 127)
    sim = tinyqat.simulate(graph, tinyqat.quantize_input(graph, x.numpy())).astype(np.float64)
    assert np.abs(fq_int - sim).max() <= 1


# --- C: gcc + cffi, sanitizers, QEMU --------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_4bit_kernels_bit_exact(seed: int, tmp_path: Path, gcc: str) -> None:
    """Random conv / depthwise (multipliers 1, 2) / fc configurations, all 4-bit, and a mixed model."""
    rng = np.random.default_rng(seed)
    x = ir.Tensor("x", (int(rng.integers(3, 9)), int(rng.integers(3, 9)), int(rng.integers(1, 5))),
                  rg.random_qparams(rng))
    steps = [rg.conv(rng, "c", x, int(rng.integers(1, 6)), (3, 3), (1, 2), (1, 1, 2, 0)),
             rg.conv(rng, "p", x, 3, (1, 1), (1, 1), (0, 0, 0, 0)),
             rg.depthwise(rng, "d", x, 1, (3, 2), (2, 1), (1, 0, 1, 1)),
             rg.depthwise(rng, "m", x, 2, (3, 3), (1, 1), (2, 2, 2, 2)),
             rg.fully_connected(rng, "f", x, int(rng.integers(1, 9)))]
    graph = rg.to_int4(rg.chain(x, steps), rng)
    lib = rg.build(graph, tmp_path)
    assert rg.first_mismatch(lib, graph, rg.random_input(rng, graph, 3)) is None
    mixed = rg.to_int4(rg.separable_model(rng), rng, every=2)
    assert {op.weight_bits for op in mixed.ops if hasattr(op, "weight_bits")} == {4, 8}
    lib = rg.build(mixed, tmp_path, "mixed")
    assert rg.first_mismatch(lib, mixed, rg.random_input(rng, mixed, 3)) is None


def test_4bit_package_flash_and_manifest(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    graph8 = rg.separable_model(rng)
    graph4 = rg.to_int4(graph8, rng, every=2)
    out = rg.emit(graph4, tmp_path / "pkg")
    manifest = json.loads((out / "model.json").read_text())
    saved = sum(op.weights.size - (op.weights.size + 1) // 2 for op in graph4.ops if getattr(op, "weight_bits", 8) == 4)
    assert saved > 0 and manifest["int4_saved_bytes"] == saved == stats.int4_saved_bytes(graph4)
    assert manifest["weights_bytes"] == stats.weights_bytes(graph8) - saved
    bits = [layer.get("weight_bits") for layer in manifest["layers"]]
    assert 4 in bits and 8 in bits
    assert f"| {saved} |" in (out / "report.md").read_text()
    kernels = {p.name for p in out.glob("tq_*_s4_s8*.c")}
    assert kernels <= {"tq_conv2d_s4_s8.c", "tq_depthwise_conv2d_s4_s8.c", "tq_fully_connected_s4_s8.c"}
    assert kernels and not any("dsp" in k for k in kernels)
    first4 = next(i for i, op in enumerate(graph4.ops) if getattr(op, "weight_bits", 8) == 4)
    op = graph4.ops[first4]
    weights_h = (out / "net_weights.h").read_text()
    size = (op.weights.size + 1) // 2
    assert f"static const uint8_t l{first4}_{op.name}_weights[{size}] NET_WEIGHTS_PLACE = {{" in weights_h
    assert f"static const tq_{stats.op_kind(op)}_s8_params l{first4}_{op.name}_params" in (out / "net.c").read_text()


def test_4bit_qat_model_verifies_with_sanitizers(tmp_path: Path, gcc: str) -> None:
    qat, _ = _small_qat(4, {"5": 8})
    tinyqat.save(qat, tmp_path / "m.pt")
    tinyqat.build(tmp_path / "m.pt", tmp_path / "out", board="cortex-m4")
    check(verify(tmp_path / "out", n_random=8))
    check(verify(tmp_path / "out", n_random=4, sanitize=True))


def test_4bit_qat_model_bit_exact_under_qemu(tmp_path: Path) -> None:
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")
    qat, _ = _small_qat(4)
    tinyqat.save(qat, tmp_path / "m.pt")
    for board in ("cortex-m4", "cortex-m0plus"):
        out = tmp_path / board
        tinyqat.build(tmp_path / "m.pt", out, board=board)
        check(verify(out, n_random=4, emulate=True))
