"""Code generation: reproducible output, strict compiles, parity, linking two models, sanitizers."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import runtime_graphs as rg
from conftest import require_tool

from tinyqat import ir
from tinyqat.boards import board_names, load_board
from tinyqat.codegen import clit, stats
from tinyqat.codegen.emit import SPEED_FILE, emit_package
from tinyqat.codegen.layouts import DSP_PATH_FILES
from tinyqat.errors import TinyQatError
from tinyqat.memory.planner import GreedyPlanner, NaivePlanner, Plan, in_place_rules
from tinyqat.resources import resource_dir
from tinyqat.target import ARENA_ALIGNMENT, STRICT_CFLAGS
from tinyqat.toolchain.cffi_model import load_model
from tinyqat.toolchain.compiler import compile_shared, run_compiler
from tinyqat.toolchain.harness import run_harness

MAIN_TWO_MODELS = """
#include <stdio.h>
#include "alpha.h"
#include "beta.h"

""" + rg.TWO_MODEL_MAIN_PROLOGUE + """\
    if (alpha_invoke(a_in, a_out) != 0 || beta_invoke(b_in, b_out) != 0) {
        return 1;
    }
    dump(a_out, ALPHA_OUTPUT_SIZE);
    dump(b_out, BETA_OUTPUT_SIZE);
    return 0;
}
"""


def _pattern(graph: ir.Graph) -> np.ndarray:
    """The input ``fill()`` of MAIN_TWO_MODELS writes."""
    t = graph.tensor(graph.input)
    return (((np.arange(t.size) * 37) % 256) - 128).astype(np.int8).reshape(1, *t.shape)


def _two_models(tmp_path: Path) -> tuple[ir.Graph, ir.Graph]:
    alpha = rg.random_model(np.random.default_rng(11))
    beta = rg.fan_out_graph(np.random.default_rng(12), 3)  # a different kernel subset
    rg.emit(alpha, tmp_path / "pkg_alpha", "alpha")
    rg.emit(beta, tmp_path / "pkg_beta", "beta")
    (tmp_path / "main.c").write_text(MAIN_TWO_MODELS)
    return alpha, beta


def _expected_two_models(alpha: ir.Graph, beta: ir.Graph) -> str:
    lines = [" ".join(str(v) for v in rg.reference_layers(g, _pattern(g))[-1].reshape(-1)) + " " for g in (alpha, beta)]
    return "\n".join(lines) + "\n"


def _run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


# ------------------------------------------------------------------ pure Python


@pytest.mark.parametrize("builder", [rg.random_model, rg.residual_model])
def test_output_is_byte_identical_and_path_free(builder: Callable[[np.random.Generator], ir.Graph],
                                                 tmp_path: Path) -> None:
    graph = builder(np.random.default_rng(0))
    a, b = rg.emit(graph, tmp_path / "a"), rg.emit(graph, tmp_path / "b")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        data = (a / name).read_bytes()
        assert data == (b / name).read_bytes(), name
        assert str(tmp_path).encode() not in data, name


def test_package_contents(tmp_path: Path) -> None:
    graph = rg.random_model(np.random.default_rng(1))
    plan = GreedyPlanner().plan(graph)
    out = tmp_path / "pkg"
    out.mkdir()
    emit_package(graph, plan, load_board("cortex-m4"), "kws", out, b"artifact bytes", "tinyqat 9.9")
    companions = {"_dsp": ("conv2d", "depthwise_conv2d", "fully_connected"),
                  "_v6m": ("add", "conv2d", "fully_connected"),
                  "_mve": ("add", "conv2d", "depthwise_conv2d", "fully_connected")}
    kernels = sorted({f"tq_{stats.op_kind(op)}_s8{suffix}.c" for op in graph.ops for suffix in ("", *companions)
                      if suffix == "" or stats.op_kind(op) in companions[suffix]})
    # the DSP conv paths of their own files ship with the layers that name them (layouts.conv_dsp_path)
    paths = {f for sym, f in DSP_PATH_FILES.items() if f"&{sym}," in (out / "kws.c").read_text()}
    expected = {"kws.h", "kws.c", "kws_weights.h", "kws.mk", "CMakeLists.txt", "model.json", "report.md",
                "model.pt", "tq_requant.h", "tq_kernels.h", "tq_dsp.h", "tq_portable.h", "tq_conv_dsp.h",
                "tq_conv_first.h", *kernels, *paths}
    assert {p.name for p in out.iterdir()} == expected
    assert (out / "model.pt").read_bytes() == b"artifact bytes"
    for name in expected - {"model.pt", "model.json"}:
        if not name.startswith("tq_"):
            assert "tinyqat 9.9" in (out / name).read_text(), name
    manifest = json.loads((out / "model.json").read_text())
    assert (out / "model.json").read_text() == json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    assert manifest["source_sha256"] == hashlib.sha256(b"artifact bytes").hexdigest()
    assert manifest["board"] == "cortex-m4" and manifest["name"] == "kws"
    assert manifest["arena_bytes"] == plan.arena_size
    assert manifest["weights_bytes"] == stats.weights_bytes(graph)
    assert [t["offset"] for t in manifest["tensors"]] == [plan.offset(t["name"]) for t in manifest["tensors"]]
    assert [layer["macs"] for layer in manifest["layers"]] == [stats.macs(op, graph) for op in graph.ops]
    assert manifest["input_shape"] == list(graph.tensor(graph.input).shape)
    header = (out / "kws.h").read_text()
    macros = dict(re.findall(r"#define (KWS_\w+) (\S+)", header))
    x, y = graph.tensor(graph.input), graph.tensor(graph.output)
    assert macros["KWS_INPUT_SIZE"] == str(x.size) and macros["KWS_OUTPUT_SIZE"] == str(y.size)
    assert (macros["KWS_INPUT_H"], macros["KWS_INPUT_W"], macros["KWS_INPUT_C"]) == tuple(map(str, x.shape))
    assert (macros["KWS_OUTPUT_DIMS"], macros["KWS_OUTPUT_H"], macros["KWS_OUTPUT_C"]) == ("1", "1", str(y.size))
    assert np.float32(macros["KWS_INPUT_SCALE"].rstrip("f")) == np.float32(x.qparams.scale)
    assert macros["KWS_NUM_LAYERS"] == str(len(graph.ops)) and macros["KWS_ARENA_SIZE"] == str(plan.arena_size)
    assert "-mcpu=cortex-m4" in (out / "kws.mk").read_text()


def test_macs_params_and_flash_bytes() -> None:
    rng = np.random.default_rng(2)
    x = ir.Tensor("x", (9, 7, 3), rg.random_qparams(rng))
    conv, y = rg.conv(rng, "y", x, 4, (3, 2), (2, 1), (1, 0, 1, 1))
    dw, d = rg.depthwise(rng, "d", x, 2, (3, 3), (2, 2), (1, 1, 1, 1))
    steps = [(conv, y), (dw, d), rg.add(rng, "a", x, x), rg.concat(rng, "k", [x, x, x]), rg.lookup(rng, "l", x),
             rg.softmax(rng, "s", x), rg.avg_pool("p", x, (2, 2), (2, 2), (1, 1), True, True)]
    graph = rg.chain(x, steps)
    assert stats.macs(conv, graph) == y.shape[0] * y.shape[1] * 4 * 3 * 2 * 3
    assert stats.params(conv) == 4 * 3 * 2 * 3 + 4
    assert stats.layer_weights_bytes(conv, graph) == 4 * 3 * 2 * 3 + 3 * 4 * 4
    assert stats.macs(dw, graph) == d.shape[0] * d.shape[1] * 6 * 3 * 3
    assert stats.params(dw) == 3 * 3 * 6 + 6
    assert stats.layer_weights_bytes(dw, graph) == 3 * 3 * 6 + 3 * 4 * 6
    flash = {stats.op_kind(op): stats.layer_weights_bytes(op, graph) for op in graph.ops[2:]}
    assert flash == {"add": 0, "concat": 4 * 4 * 3, "lookup": 256, "softmax": 4 * 256, "avg_pool2d": 0}
    assert all(stats.macs(op, graph) == stats.params(op) == 0 for op in graph.ops[2:])
    assert stats.weights_bytes(graph) == sum(stats.layer_weights_bytes(op, graph) for op in graph.ops)
    assert stats.total_macs(graph) == stats.macs(conv, graph) + stats.macs(dw, graph)


def test_multi_input_layers_in_package(tmp_path: Path) -> None:
    """Add and concat read several arena tensors; tables land in the weights header and the manifest."""
    graph = rg.residual_model(np.random.default_rng(4))
    out = rg.emit(graph, tmp_path / "pkg")
    kernels = {p.name for p in out.glob("tq_*.c")}
    paths = {f for sym, f in DSP_PATH_FILES.items() if f"&{sym}," in (out / "net.c").read_text()}
    assert kernels == ({f"tq_{stats.KERNEL_FILE_KIND.get(k, k)}_s8.c" for k in stats.OP_KINDS.values()} | paths
                       | {f"tq_{kind}_s8_dsp.c" for kind in ("conv2d", "depthwise_conv2d", "fully_connected", "add",
                                                            "mul", "concat", "lookup")}
                       | {"tq_conv2d_s8_v6m.c", "tq_depthwise_conv2d_s8_v6m.c", "tq_fully_connected_s8_v6m.c",
                          "tq_add_s8_v6m.c"}
                       | {f"tq_{kind}_s8_mve.c" for kind in ("add", "conv2d", "depthwise_conv2d", "fully_connected",
                                                             "max_pool2d", "avg_pool2d")})
    manifest = json.loads((out / "model.json").read_text())
    layers = {layer["op"]: layer for layer in manifest["layers"]}
    ops = {stats.op_kind(op): op for op in graph.ops}
    assert [layer["inputs"] for layer in manifest["layers"]] == [list(op.inputs) for op in graph.ops]
    add, cat = ops["add"], ops["concat"]
    assert layers["add"]["multiplier"] == [add.multiplier1, add.multiplier2]
    assert layers["add"]["output_shift"] == add.output_shift and layers["add"]["left_shift"] == 20
    assert layers["concat"]["multiplier"] == cat.multiplier.tolist() and len(cat.inputs) == 3
    assert layers["lookup"]["table_size"] == 256 and layers["lookup"]["weights_bytes"] == 256
    assert layers["softmax"]["table_size"] == 256 and layers["softmax"]["weights_bytes"] == 1024
    assert layers["depthwise_conv2d"]["depth_multiplier"] == 2
    assert "count_include_pad" in layers["avg_pool2d"]
    assert sum(layer["weights_bytes"] for layer in manifest["layers"]) == manifest["weights_bytes"]
    source = (out / "net.c").read_text()
    offset = {t["name"]: k for k, t in enumerate(manifest["tensors"])}
    k = graph.ops.index(add)
    assert (f"tq_add_s8(&l{k}_add_a1_params,\n            base + OFFSET_T{offset[add.inputs[0]]},\n"
            f"            base + OFFSET_T{offset[add.inputs[1]]},") in source
    k = graph.ops.index(cat)
    table = "".join(f"            base + OFFSET_T{offset[t]},\n" for t in cat.inputs)
    assert f"        const int8_t *const l{k}_concat_k1_inputs[3] = {{\n{table}        }};" in source
    assert f"tq_concat_s8(&l{k}_concat_k1_params,\n            l{k}_concat_k1_inputs," in source
    weights = (out / "net_weights.h").read_text()
    k = graph.ops.index(ops["lookup"])
    assert f"static const int8_t l{k}_lut_l1_table[256] NET_WEIGHTS_PLACE = {{" in weights
    k = graph.ops.index(ops["softmax"])
    assert f"static const int32_t l{k}_softmax_s1_exp_table[256] NET_WEIGHTS_PLACE = {{" in weights
    report = (out / "report.md").read_text()
    assert f"| {graph.ops.index(cat)} | concat_k1 | concat | {', '.join(cat.inputs)} |" in report


@pytest.mark.parametrize("name", ["1net", "my-net", "int", "tq_model", "__x", "_Net", ""])
def test_bad_model_names_are_rejected(name: str, tmp_path: Path) -> None:
    graph = rg.random_model(np.random.default_rng(3))
    with pytest.raises(TinyQatError):
        emit_package(graph, NaivePlanner().plan(graph), load_board("host"), name, tmp_path, b"", "g")


def test_emit_refuses_non_empty_dir_and_bad_plan(tmp_path: Path) -> None:
    graph = rg.random_model(np.random.default_rng(4))
    plan = GreedyPlanner().plan(graph)
    (tmp_path / "junk").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        emit_package(graph, plan, load_board("host"), "net", tmp_path, b"", "g")
    with pytest.raises(ValueError, match="overlap"):
        bad = dataclasses.replace(plan.allocations[1], offset=plan.allocations[0].offset)
        emit_package(graph, dataclasses.replace(plan, allocations=(plan.allocations[0], bad, *plan.allocations[2:])),
                     load_board("host"), "net", tmp_path, b"", "g")


def test_literals() -> None:
    assert clit.c_float(1.0) == "1.0f"
    assert clit.c_float(0.1) == "0.1f"
    assert clit.c_float(3e-10) == "3e-10f"
    rng = np.random.default_rng(5)
    for v in np.float32(10 ** rng.uniform(-8, 8, 200)):
        assert np.float32(clit.c_float(float(v))[:-1]) == v
    assert clit.c_int(-(2**31)) == "(-2147483647 - 1)"
    assert clit.c_macro_int(-5) == "(-5)" and clit.c_macro_int(5) == "5"
    body = clit.int8_array_body(np.arange(-128, -108, dtype=np.int8))
    assert body.splitlines()[0] == "    " + " ".join(f"{v},".rjust(5) for v in range(-128, -112))
    assert len(body.splitlines()) == 2
    assert clit.sanitize("layer1.conv-2") == "layer1_conv_2" and clit.sanitize("0x") == "_0x"
    assert "*/" not in clit.c_comment("a */ b /* c\n") and "\n" not in clit.c_comment("a\nb")
    with pytest.raises(ValueError):
        clit.c_float(float("inf"))


# ------------------------------------------------------------------ with a compiler


@pytest.mark.parametrize("seed", range(6))
def test_model_parity_layer_by_layer(seed: int, tmp_path: Path, gcc: str) -> None:
    rng = np.random.default_rng(seed)
    graph = rg.random_model(rng)
    lib = rg.build(graph, tmp_path)
    x = rg.random_input(rng, graph, 4)
    rg.assert_bit_exact(lib, graph, x)
    with pytest.raises(IndexError):
        lib.run_layer(len(graph.ops))
    with pytest.raises(IndexError):
        lib.layer_output(-1)


def _in_place_layers(graph: ir.Graph, plan: Plan) -> list[int]:
    """Steps whose output overlaps one of their inputs in ``plan``."""
    return [i for i, op in enumerate(graph.ops)
            if any(plan.allocation(op.output).overlaps(plan.allocation(t)) for t in op.inputs)]


@pytest.mark.parametrize("seed", range(4))
def test_in_place_plans_are_bit_exact(seed: int, tmp_path: Path, gcc: str) -> None:
    """Greedy plans with in-place layers (window ops at d <= d_max, elementwise at d = 0) stay bit-exact,
    layer by layer and through the zero-copy API; the arena is exactly the planned size."""
    rng = np.random.default_rng(100 + seed)
    for k, graph in enumerate((rg.separable_model(rng), rg.residual_model(rng), rg.random_model(rng))):
        plan = GreedyPlanner().plan(graph)
        if k == 0:
            floor = max(sum(a.size for a in plan.live_at(s)) + sum(a.size for a in plan.scratch if a.first == s)
                        for s in range(len(graph.ops)))  # no-in-place floor, scratch included
            assert _in_place_layers(graph, plan) and plan.arena_size < floor
        out = rg.emit(graph, tmp_path / f"pkg{k}")
        assert re.search(rf"#define NET_ARENA_SIZE {plan.arena_size}\n", (out / "net.h").read_text())
        assert "int8_t bytes[NET_ARENA_SIZE];" in (out / "net.c").read_text()
        lib = load_model(compile_shared(out, tmp_path / f"build{k}"), "net")
        x = rg.random_input(rng, graph, 3)
        assert rg.first_mismatch(lib, graph, x) is None
        final = rg.reference_layers(graph, x)[-1]
        for n in range(x.shape[0]):
            np.testing.assert_array_equal(lib.invoke(x[n]), final[n].reshape(-1))
            lib.write_input(x[n])
            assert lib.run() == 0
            np.testing.assert_array_equal(lib.output(), final[n].reshape(-1))


def test_in_place_plan_runs_bit_exact_under_qemu(tmp_path: Path) -> None:
    """The same in-place layout, bare metal on an emulated Cortex-M4."""
    board = load_board("cortex-m4")
    require_tool(board.cc, board.apt_package)
    require_tool("qemu-system-arm", "qemu-system-arm")
    from tinyqat.toolchain.qemu import run_emulated

    rng = np.random.default_rng(7)
    graph = rg.separable_model(rng)
    assert _in_place_layers(graph, GreedyPlanner().plan(graph))
    out = rg.emit(graph, tmp_path / "pkg", board="cortex-m4")
    x = rg.random_input(rng, graph, 2)
    got = run_emulated(out, tmp_path / "build", x, board)
    expected = rg.reference_layers(graph, x)
    for n in range(x.shape[0]):
        for i in range(len(graph.ops)):
            np.testing.assert_array_equal(got[n][i], expected[i][n])


def test_wrong_in_place_offset_fails_parity(tmp_path: Path, gcc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proof that the checks can fail: a depthwise 3x3 (padding 1) output moved from its safe in-place
    offset to d = 0, on its own input (pixel 0 is overwritten before pixel 1 reads it), is rejected by
    check_plan, and, emitted anyway, the C output differs from the simulator at that layer."""
    rng = np.random.default_rng(3)
    graph = rg.separable_model(rng)
    plan = GreedyPlanner().plan(graph)
    step = next(i for i in _in_place_layers(graph, plan)  # stride 1: pixel 1 reads pixel 0's input
                if isinstance(graph.ops[i], ir.DepthwiseConv2d) and graph.ops[i].stride == (1, 1))
    op = graph.ops[step]
    rule = next(r for r in in_place_rules(graph) if r.step == step)
    x = plan.allocation(op.inputs[0])
    bad = x.offset
    assert rule.d_max < 0
    allocs = tuple(dataclasses.replace(a, offset=bad) if a.tensor == op.output else a for a in plan.allocations)
    end = -(-(bad + graph.tensor(op.output).size) // ARENA_ALIGNMENT) * ARENA_ALIGNMENT
    wrong = Plan(max(plan.arena_size, end), allocs, plan.scratch)
    with pytest.raises(ValueError, match="in-place"):
        emit_package(graph, wrong, load_board("host"), "net", tmp_path, b"", "g")
    monkeypatch.setattr("tinyqat.codegen.emit.check_plan", lambda graph, plan: None)
    out = tmp_path / "pkg"
    out.mkdir()
    emit_package(graph, wrong, load_board("host"), "net", out, b"", "g")
    lib = load_model(compile_shared(out, tmp_path / "build"), "net")
    mismatch = rg.first_mismatch(lib, graph, rg.random_input(rng, graph, 2))
    assert mismatch is not None and f"layer {step} " in mismatch


def test_corrupted_arena_offset_fails_parity(tmp_path: Path, gcc: str) -> None:
    """Move layer 0's output onto its own input in the generated C: the parity check must catch it."""
    rng = np.random.default_rng(0)
    graph = rg.random_model(rng)
    out = rg.emit(graph, tmp_path / "pkg")
    source = out / "net.c"
    text = source.read_text()
    in_offset = re.search(r"#define OFFSET_T0 (\d+)", text).group(1)
    text, count = re.subn(r"#define OFFSET_T1 \d+", f"#define OFFSET_T1 {in_offset}", text)
    assert count == 1
    source.write_text(text)
    lib = load_model(compile_shared(out, tmp_path / "build"), "net")
    mismatch = rg.first_mismatch(lib, graph, rg.random_input(rng, graph, 2))
    assert mismatch is not None and "layer 0" in mismatch


def test_sanitizer_harness_runs_clean(tmp_path: Path, gcc: str) -> None:
    rng = np.random.default_rng(21)
    graphs = (rg.random_model(rng), rg.fan_out_graph(rng, 2 * len(rg.KINDS)), rg.residual_model(rng),
              rg.fan_out_graph(rng, 2 * len(rg.KINDS)))
    for k, graph in enumerate(graphs):
        out = rg.emit(graph, tmp_path / f"pkg{k}")
        x = rg.random_input(rng, graph, 3)
        got = run_harness(out, tmp_path / f"build{k}", x, sanitize=True)
        expected = rg.reference_layers(graph, x)
        for n in range(x.shape[0]):
            for i in range(len(graph.ops)):
                np.testing.assert_array_equal(got[n][i], expected[i][n])


def test_two_models_link_with_make(tmp_path: Path, gcc: str) -> None:
    require_tool("make", "make")
    alpha, beta = _two_models(tmp_path)
    (tmp_path / "Makefile").write_text(
        "include pkg_alpha/alpha.mk\ninclude pkg_beta/beta.mk\n"
        "prog: main.c $(ALPHA_SRCS) $(BETA_SRCS) $(TQ_RUNTIME_SRCS)\n"
        "\tgcc $(ALPHA_CFLAGS) $(BETA_CFLAGS) -o $@ $^\n"
        "print:\n\t@echo $(TQ_RUNTIME_SRCS)\n"
    )
    runtime = _run(["make", "-s", "print"], tmp_path).split()
    assert len({Path(p).name for p in runtime}) == len(runtime)
    _run(["make", "-s", "prog"], tmp_path)
    assert _run([str(tmp_path / "prog")], tmp_path) == _expected_two_models(alpha, beta)


def test_two_models_link_with_cmake(tmp_path: Path, gcc: str) -> None:
    require_tool("cmake", "cmake")
    alpha, beta = _two_models(tmp_path)
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(two C)\n"
        "add_subdirectory(pkg_alpha)\nadd_subdirectory(pkg_beta)\n"
        "add_executable(prog main.c)\ntarget_link_libraries(prog alpha beta)\n"
    )
    _run(["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "build"), "-DCMAKE_C_COMPILER=gcc"], tmp_path)
    _run(["cmake", "--build", str(tmp_path / "build")], tmp_path)
    assert _run([str(tmp_path / "build" / "prog")], tmp_path) == _expected_two_models(alpha, beta)


@pytest.mark.parametrize("board", [b for b in board_names() if b != "host"])
def test_package_and_runtime_compile_for_cortex_m(board: str, tmp_path: Path) -> None:
    """Every runtime kernel and a generated package using every kernel compile warning-free with the
    board's flags."""
    target = load_board(board)
    cc = require_tool(target.cc, target.apt_package)
    graph = rg.residual_model(np.random.default_rng(8))
    out = rg.emit(graph, tmp_path / "pkg", board=board)
    out4 = rg.emit(rg.to_int4(graph, np.random.default_rng(8)), tmp_path / "pkg4", board=board)  # 4-bit kernels
    runtime = sorted(resource_dir("runtime_c").glob("*.c"))
    # every runtime file but the speed-only blocks, which ship with --optimize speed (test_dsp_kernels.py), and
    # the DSP conv paths of their own files, which ship with the layers that name them
    paths = {f for d in (out, out4) for sym, f in DSP_PATH_FILES.items()
             if f"&{sym}," in (d / "net.c").read_text()}
    assert {p.name for d in (out, out4) for p in d.glob("tq_*.c")} == (
        {p.name for p in runtime} - {SPEED_FILE} - set(DSP_PATH_FILES.values())) | paths
    for src in [out / "net.c", out4 / "net.c", *runtime]:
        run_compiler(cc, [*STRICT_CFLAGS, "-O2", *target.cflags, f"-I{out}", "-c", str(src),
                          "-o", str(tmp_path / f"{src.stem}.o")], target.apt_package)


def test_report_and_fit_check_state_the_memory_budget(tmp_path: Path) -> None:
    """report.md states the arena, the peak layer and its live tensors, weights, code, the invoke API's
    caller buffers and headroom; a board too small fails with the overshoot and the largest live tensors
    at the peak; the RAM check counts the invoke API's input and output buffers, not the zero-copy API."""
    from tinyqat.build import check_fit
    from tinyqat.errors import DoesNotFitError

    graph = rg.separable_model(np.random.default_rng(5))
    plan = GreedyPlanner().plan(graph)
    board = load_board("cortex-m4")
    out = rg.emit(graph, tmp_path / "pkg", board="cortex-m4")
    shipped = sorted(path.name for path in out.glob("tq_*.c"))
    memory = stats.memory_summary(graph, plan, board, shipped)
    report = (out / "report.md").read_text()
    assert f"| arena (RAM) bytes, input and output included | {plan.arena_size} |" in report
    assert f"| peak layer | {plan.peak_step} ({graph.ops[plan.peak_step].name}): " in report
    io = graph.tensor(graph.input).size + graph.tensor(graph.output).size
    assert memory.io_buffer_bytes == io and memory.ram_needed == plan.arena_size + io
    assert f"| caller's input + output buffers (`net_invoke`; 0 with the zero-copy API, `--api zero-copy`) | {io} |" \
        in report
    assert (f"| RAM headroom on cortex-m4 (invoke API) | {board.ram_bytes - plan.arena_size - io} of "
            f"{board.ram_bytes} |") in report
    assert (f"| code (flash) bytes: runtime files from the table of the dsp kernels (arm-none-eabi-gcc 12.2 -O2), "
            f"model code estimated | {stats.code_bytes(graph, shipped, 'dsp')} |") in report
    for name, offset, size in memory.peak_tensors:
        assert f"| {name} | {offset} | {size} |" in report
    assert memory.peak_bytes <= plan.arena_size
    tiny = dataclasses.replace(board, ram_bytes=plan.arena_size - 100)
    with pytest.raises(DoesNotFitError, match="over by 100 B; peak at layer") as info:
        check_fit(graph, plan, tiny, api="zero-copy")
    largest = max(memory.peak_tensors, key=lambda t: t[2])
    assert f"{largest[0]} {largest[2]} B" in str(info.value)
    fits_zero_copy = dataclasses.replace(board, ram_bytes=plan.arena_size + io - 1)
    check_fit(graph, plan, fits_zero_copy, api="zero-copy")
    with pytest.raises(DoesNotFitError, match=f"input and output buffers {io} B .*over by 1 B"):
        check_fit(graph, plan, fits_zero_copy)


def test_requant_fused_is_decided_at_build_time() -> None:
    """The DSP kernels' fused output stage is a build-time flag in the layer's params, the generator's
    fixedpoint.fused_requant_ok answer (right shifts in [1, 31], accumulators within 2^30; a conv with
    the full int8 output range and right shifts <= 22 gets 2, the depthwise here 1); 4-bit
    layers, whose kernels have no fused stage and no such field, get none."""
    from tinyqat.codegen.emit import scalar_fields

    rng = np.random.default_rng(5)
    x = ir.Tensor("x", (6, 6, 8), ir.QParams(0.02, 3))
    conv, y = rg.conv(rng, "y", x, 4, (3, 3), (1, 1), (1, 1, 1, 1))
    graph = ir.Graph((x, y), (conv,), "x", "y", (8, 6, 6), (4, 6, 6))
    small = dataclasses.replace(conv, bias=np.array([5, -5, 0, 2**30 - 1 - 32385 * 72], np.int32),
                                shift=np.array([-1, -9, -22, -4], np.int32))
    full = (small.act_min, small.act_max) == (-128, 127)
    assert dict(scalar_fields(small, graph))["requant_fused"] == (2 if full else 1)
    # a conv with the full int8 output range gets 2 (the DSP conv's SSAT loop), a narrower range 1
    assert dict(scalar_fields(dataclasses.replace(small, act_min=-128, act_max=127), graph))["requant_fused"] == 2
    assert dict(scalar_fields(dataclasses.replace(small, act_min=-128, act_max=126), graph))["requant_fused"] == 1
    # a right shift above 22 (TQ_FUSED2_OFFSET_E_MAX): the folded output stage does not apply, 1
    e23 = dataclasses.replace(small, act_min=-128, act_max=127, shift=np.array([-1, -9, -23, -4], np.int32))
    assert dict(scalar_fields(e23, graph))["requant_fused"] == 1
    assert dict(scalar_fields(dataclasses.replace(e23, shift=np.array([-1, -9, -31, -4], np.int32)),
                              graph))["requant_fused"] == 1
    for bad in (dataclasses.replace(small, shift=np.array([-1, 0, -31, -4], np.int32)),
                dataclasses.replace(small, bias=np.array([5, -5, 0, 2**30 - 32385 * 72], np.int32))):
        assert dict(scalar_fields(bad, graph))["requant_fused"] == 0
    dw, z = rg.depthwise(rng, "z", x, 1, (3, 3), (1, 1), (1, 1, 1, 1))
    dw = dataclasses.replace(dw, bias=np.full(8, 2**30 - 1 - 32385 * 9, np.int32), shift=np.full(8, -3, np.int32))
    assert dict(scalar_fields(dw, ir.Graph((x, z), (dw,), "x", "z", (8, 6, 6), (8, 6, 6))))["requant_fused"] == 1
    four_bit = dataclasses.replace(small, weights=np.clip(small.weights, -7, 7), weight_bits=4)
    assert "requant_fused" not in dict(scalar_fields(four_bit, graph))
    fc, f = rg.fully_connected(rng, "f", x, 3)  # taps = in_features = 288
    fc_graph = ir.Graph((x, f), (fc,), "x", "f", (8, 6, 6), (3,))
    edge = 2**30 - 1 - 32385 * 288
    fc = dataclasses.replace(fc, bias=np.array([edge, -edge, 0], np.int32), shift=np.array([-1, -7, -31], np.int32))
    assert dict(scalar_fields(fc, fc_graph))["requant_fused"] == 1
    assert dict(scalar_fields(dataclasses.replace(fc, bias=np.array([edge + 1, 0, 0], np.int32)),
                              fc_graph))["requant_fused"] == 0
    fc4 = dataclasses.replace(fc, weights=np.clip(fc.weights, -7, 7), weight_bits=4)
    assert "requant_fused" not in dict(scalar_fields(fc4, fc_graph))
