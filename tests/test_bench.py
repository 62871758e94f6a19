"""``tinyqat bench``: exact, repeatable instruction counts per layer under QEMU, cycle estimates
from the timing tables, and sizes from the ELF; unusable boards and tools are clear errors.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch.nn as nn
from click.testing import CliRunner
from conftest import require_tool

import tinyqat
from tinyqat.bench import BenchReport, bench
from tinyqat.bench.cost import block_cycles, classify, load_timing
from tinyqat.bench.stack import asm_frames, kernel_family, stack_usage
from tinyqat.boards import board_names, load_board
from tinyqat.cli import main
from tinyqat.errors import TinyQatError, ToolchainError
from tinyqat.models import short_qat_artifact
from tinyqat.toolchain import qemu
from tinyqat.toolchain.manifest import read_manifest


def _require_arm_tools() -> None:
    require_tool("gcc", "gcc")
    require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
    require_tool("qemu-system-arm", "qemu-system-arm")


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Conv (1 -> 8 channels, 12x12), max pool, conv (8 -> 16), linear (256 -> 10): 10368, 0, 18432, 2560 MACs."""
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                          nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
    path = tmp_path_factory.mktemp("bench_model") / "model.pt"
    short_qat_artifact(model, (1, 12, 12), path, seed=0)
    return path


@pytest.fixture(scope="module")
def m4_package(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench_m4") / "out"
    tinyqat.build(model_path, out, board="cortex-m4")
    return out


@pytest.fixture(scope="module")
def m4_report(m4_package: Path) -> BenchReport:
    _require_arm_tools()
    return bench(m4_package)


def test_counts_are_deterministic(m4_package: Path, m4_report: BenchReport) -> None:
    again = bench(m4_package)
    assert again == m4_report
    assert all(layer.instructions > 0 and layer.cycles >= layer.instructions for layer in m4_report.layers)


def test_layers_sum_to_totals_and_follow_macs(m4_package: Path, m4_report: BenchReport) -> None:
    manifest = read_manifest(m4_package)
    assert [layer.op for layer in m4_report.layers] == [m["op"] for m in manifest["layers"]]
    assert [layer.macs for layer in m4_report.layers] == [m.get("macs", 0) for m in manifest["layers"]]
    assert m4_report.instructions == sum(layer.instructions for layer in m4_report.layers)
    assert m4_report.cycles == sum(layer.cycles for layer in m4_report.layers)
    weighted = [layer for layer in m4_report.layers if layer.macs]
    biggest, smallest = max(weighted, key=lambda x: x.macs), min(weighted, key=lambda x: x.macs)
    assert biggest.macs > 4 * smallest.macs
    assert biggest.instructions > 4 * smallest.instructions and biggest.cycles > 4 * smallest.cycles
    assert m4_report.cycles_per_mac == pytest.approx(m4_report.cycles / m4_report.macs)
    assert m4_report.layers[1].cycles_per_mac is None  # max pool: no MACs


def test_sizes_are_plausible(m4_package: Path, m4_report: BenchReport) -> None:
    manifest = read_manifest(m4_package)
    sizes = m4_report.sizes
    assert sizes.const_bytes >= manifest["weights_bytes"]
    assert sizes.bss_bytes >= manifest["arena_bytes"] == sizes.arena_bytes
    assert 200 < sizes.code_bytes < 20000
    # the M4's DSP conv keeps its int16 im2col columns in the arena (planned scratch), not on the stack
    assert any(layer["scratch_bytes"] > 0 for layer in manifest["layers"])
    assert 0 < sizes.stack_bytes < 1024 and sizes.stack_bounded
    assert sizes.stack_path[:2] == ("tinyqat_model_invoke", "tinyqat_model_run_layer")
    assert sizes.flash_bytes == sizes.code_bytes + sizes.const_bytes + sizes.data_bytes
    assert sizes.ram_bytes == sizes.data_bytes + sizes.bss_bytes + sizes.stack_bytes


def test_cortex_m0plus_runs_and_costs_more(m4_package: Path, m4_report: BenchReport, model_path: Path,
                                           tmp_path: Path) -> None:
    """The same model built for the M0+ (no DSP, 2-cycle stores, library multiply) runs and costs more."""
    tinyqat.build(model_path, tmp_path / "out", board="cortex-m0plus")
    report = bench(tmp_path / "out")
    assert report.board == "cortex-m0plus" and report.timing.core == "cortex-m0plus"
    assert [layer.macs for layer in report.layers] == [layer.macs for layer in m4_report.layers]
    assert report.instructions > m4_report.instructions and report.cycles > m4_report.cycles


def test_cortex_m55_runs_on_its_timing_table(m4_report: BenchReport, model_path: Path, tmp_path: Path) -> None:
    """The same model built for the M55 (mps3-an547, Helium) runs every layer under the counting plugin."""
    tinyqat.build(model_path, tmp_path / "out", board="cortex-m55")
    report = bench(tmp_path / "out")
    assert report.board == "cortex-m55" and report.qemu_machine == "mps3-an547"
    assert report.timing.core == "cortex-m55" and report.timing.mve_overlapped == 1
    assert [layer.macs for layer in report.layers] == [layer.macs for layer in m4_report.layers]
    assert all(layer.instructions > 0 and layer.cycles > 0 for layer in report.layers)


def test_cli_bench_table_and_json(m4_package: Path, m4_report: BenchReport) -> None:
    result = CliRunner().invoke(main, ["bench", str(m4_package)])
    assert result.exit_code == 0, result.output
    assert "cycles/MAC" in result.output and "conv2d" in result.output and "flash:" in result.output
    assert str(m4_report.instructions) in result.output
    result = CliRunner().invoke(main, ["bench", str(m4_package), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["instructions"] == m4_report.instructions
    assert [layer["instructions"] for layer in data["layers"]] == [layer.instructions for layer in m4_report.layers]
    assert data["sizes"]["flash_bytes"] == m4_report.sizes.flash_bytes


def test_host_board_is_refused(m4_package: Path) -> None:
    with pytest.raises(TinyQatError, match="'host' runs on the build machine"):
        bench(m4_package, board="host")
    result = CliRunner().invoke(main, ["bench", str(m4_package), "--board", "host"])
    assert result.exit_code == 2 and "error: board 'host'" in result.output


def test_missing_qemu_is_a_toolchain_error(m4_package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qemu, "QEMU", "qemu-system-arm-absent")
    with pytest.raises(ToolchainError, match="apt-get install qemu-system-arm"):
        bench(m4_package)


@pytest.mark.parametrize(("script", "error"), [
    ("echo 'qemu-system-arm: -plugin: invalid option' >&2; exit 1", "-plugin: invalid option"),
    ("exit 0", "plugin wrote no report"),
], ids=["option-rejected", "plugin-ignored"])
def test_qemu_without_plugins_is_a_toolchain_error(script: str, error: str, m4_package: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A QEMU built without TCG plugin support either rejects -plugin or (here faked) ignores it."""
    _require_arm_tools()
    fake = tmp_path / "qemu-system-arm"
    fake.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(qemu, "QEMU", str(fake))
    with pytest.raises(ToolchainError, match=error):
        bench(m4_package)


def test_every_emulated_board_has_a_timing_table() -> None:
    for name in board_names():
        board = load_board(name)
        if board.qemu_machine is not None:
            assert load_timing(board.cpu).core == board.cpu


def test_classify_thumb_mnemonics() -> None:
    assert classify("ldr.w", "r3, [r3]") == ("load", 0)
    assert classify("ldrsbne", "r0, [r1]") == ("load", 0)
    assert classify("strb.w", "r0, [r1], #1") == ("store", 0)
    assert classify("pop", "{r4, r5, r6, pc}") == ("ldm", 4)
    assert classify("stmdb", "sp!, {r4, r5, r6, r7, r8, r9, sl, fp, lr}") == ("stm", 9)
    assert classify("vpush", "{d8-d9}") == ("stm", 4)
    assert classify("ldrd", "r3, r0, [r0, #24]") == ("ldm", 2)
    assert classify("smlad", "r0, r1, r2, r0") == ("mac", 0)
    assert classify("muls", "r0, r1") == ("mul", 0)
    assert classify("mla", "r2, r0, r3, r6") == ("mul", 0)
    assert classify("bl", "1c8 <f>") == ("call", 0)
    assert classify("bls.n", "10 <f+0x10>") == ("branch", 0)
    assert classify("ble.w", "24c <f+0x24c>") == ("branch", 0)
    assert classify("bics", "r0, r1") == ("alu", 0)
    assert classify("ittet", "ge") == ("it", 0)
    assert classify("sxtb16", "r0, r1") == ("alu", 0)
    assert classify("sdiv", "r0, r1, r2") == ("div", 0)


def test_classify_helium_mnemonics() -> None:
    """MVE (objdump -marmv8.1-m.main spelling): by pipeline; FP on s/d registers and LOB stay as they were."""
    assert classify("vldrb.u8", "q3, [r3], #16") == ("mve_load", 0)
    assert classify("vldrbt.s16", "q0, [r1]") == ("mve_load", 0)
    assert classify("vstrw.32", "q3, [r0], #16") == ("mve_store", 0)
    assert classify("vmlava.s8", "r0, q3, q2") == ("mve_mul", 0)
    assert classify("vmladava.s8", "r0, q3, q2") == ("mve_mul", 0)
    assert classify("vqrdmulh.s32", "q3, q3, r2") == ("mve_mul", 0)
    assert classify("vadd.i32", "q3, q3, r3") == ("mve_alu", 0)
    # Arm's ARMScheduleM55.td: add reductions, compares, VPT, VMOV from a lane and VMOV immediate on the
    # multiply pipeline; VMOV between q registers (VORR), into a lane, VMOVL/VMOVN on the integer one
    for mnemonic, operands in (("vaddva.s8", "r0, q1"), ("vaddv.s32", "r2, q0"), ("vaddlva.s32", "r0, r1, q2"),
                               ("vcmp.s32", "gt, q0, q1"), ("vpt.s32", "ge, q0, r2"), ("vptete.i8", "eq, q1, q2"),
                               ("vmov", "r0, r1, q0[2], q0[0]"), ("vmov.32", "r3, q1[1]"), ("vmov.i32", "q0, #0")):
        assert classify(mnemonic, operands) == ("mve_mul", 0), mnemonic
    for mnemonic, operands in (("vmov", "q0, q1"), ("vmov.32", "q0[1], r2"), ("vmovlb.s8", "q0, q1"),
                               ("vmovnt.i32", "q0, q1"), ("vadd.i32", "q0, q1, q2"), ("vpsel", "q0, q1, q2")):
        assert classify(mnemonic, operands) == ("mve_alu", 0), mnemonic
    assert classify("vadd.f32", "q0, q1, q2") == ("mve_mul", 0)
    assert classify("vadd.f32", "s0, s1, s2") == ("fpu", 0)
    assert classify("vldr", "s0, [r0]") == ("load", 0)
    assert classify("le", "lr, 18 <dot+0x18>") == ("branch", 0)
    assert classify("dls", "lr, lr") == ("alu", 0)


def test_helium_beats_overlap_across_pipelines() -> None:
    """Cortex-M55: a vector instruction takes 2 cycles (dual beat); right after one of another pipeline it
    overlaps (1); two in the same pipeline do not; a table without Helium entries refuses them."""
    m55 = load_timing("cortex-m55")
    load, mac = ("vldrb.u8", "q3, [r3], #16"), ("vmlava.s8", "r0, q3, q2")
    assert block_cycles([load, load, mac, load, mac], m55) == 2 + 2 + 1 + 1 + 1
    assert block_cycles([mac, mac, ("vstrw.32", "q3, [r0]"), load], m55) == 2 + 2 + 1 + 2
    assert block_cycles([load, ("adds", "r0, #1"), mac], m55) == 2 + 1 + 2
    with pytest.raises(TinyQatError, match="no Helium"):
        block_cycles([load], load_timing("cortex-m4"))
    assert all(load_timing(core).mve_load is None for core in ("cortex-m0plus", "cortex-m4", "cortex-m7", "cortex-m33"))


def test_block_cycles_follow_the_table() -> None:
    """Cortex-M4: a load after a load is pipelined (1), LDM 1 + N, MLA 1, store 1."""
    m4 = load_timing("cortex-m4")
    block = [("ldr", "r0, [r1]"), ("ldr", "r2, [r1, #4]"), ("mla", "r0, r0, r2, r3"), ("str", "r0, [r4]"),
             ("ldr", "r0, [r5]"), ("pop", "{r4, pc}")]
    assert block_cycles(block, m4) == 2 + 1 + 1 + 1 + 2 + 3
    assert block_cycles(block, load_timing("cortex-m0plus")) == 2 + 2 + 1 + 2 + 2 + 3


def test_block_cycles_apply_the_load_store_rules() -> None:
    """Cortex-M4 TRM 3.3.2: no pipelining behind a load that wrote the next load's address register
    or updated its base; +1 for an address written by the data-processing instruction right before;
    a store with a register offset costs 2.  The Cortex-M0+ has none of these rules."""
    m4, m0 = load_timing("cortex-m4"), load_timing("cortex-m0plus")
    assert block_cycles([("ldr", "r0, [r1]"), ("ldr", "r2, [r0, #4]")], m4) == 2 + 2  # r0 feeds the address
    assert block_cycles([("ldr", "r0, [r1], #4"), ("ldr", "r2, [r3]")], m4) == 2 + 2  # base write-back
    assert block_cycles([("ldr.w", "r0, [r1, #4]!"), ("ldr", "r2, [r3]")], m4) == 2 + 2
    assert block_cycles([("adds", "r1, #4"), ("ldr", "r2, [r1]")], m4) == 1 + 2 + 1  # address dependency
    assert block_cycles([("add.w", "r3, r3, r4"), ("ldrsb", "r2, [r1, r3]")], m4) == 1 + 2 + 1
    assert block_cycles([("smlal", "r4, r5, r0, r1"), ("str", "r2, [r5]")], m4) == 1 + 1 + 1
    assert block_cycles([("cmp", "r1, #4"), ("ldr", "r2, [r1]")], m4) == 1 + 2  # compares write no register
    assert block_cycles([("adds", "r0, #4"), ("ldr", "r2, [r1]")], m4) == 1 + 2
    assert block_cycles([("adds", "r0, #4"), ("push", "{r4, lr}")], m4) == 1 + 3
    assert block_cycles([("mov", "r0, sp"), ("stmia", "r0!, {r1, r2}")], m4) == 1 + 3 + 1
    assert block_cycles([("str", "r0, [r1, r2]"), ("strb.w", "r0, [r1, #1]")], m4) == 2 + 1
    assert block_cycles([("adds", "r1, #4"), ("ldr", "r2, [r1]"), ("ldr", "r0, [r1, r2]")], m0) == 1 + 2 + 2
    assert block_cycles([("str", "r0, [r1, r2]")], m0) == 2


def test_stack_usage_follows_the_deepest_chain(tmp_path: Path) -> None:
    (tmp_path / "a.ci").write_text(
        'graph: { title: "a.c"\n'
        'node: { title: "top" label: "top\\na.c:1:5\\n16 bytes (static)" }\n'
        'node: { title: "small" label: "small\\na.c:2:5\\n8 bytes (static)" }\n'
        'node: { title: "big" label: "big\\na.c:3:5\\n40 bytes (static)" }\n'
        'node: { title: "memcpy" label: "memcpy\\n<built-in>" shape : ellipse }\n'
        'edge: { sourcename: "top" targetname: "small" }\n'
        'edge: { sourcename: "top" targetname: "big" }\n'
        'edge: { sourcename: "small" targetname: "memcpy" }\n}\n', encoding="utf-8")
    assert stack_usage([tmp_path / "a.ci"], "top") == (56, ("top", "big"), ("memcpy",), True)
    (tmp_path / "b.ci").write_text('edge: { sourcename: "big" targetname: "top" }\n', encoding="utf-8")
    with pytest.raises(ToolchainError, match="recursive call top -> big -> top"):
        stack_usage([tmp_path / "a.ci", tmp_path / "b.ci"], "top")


def test_stack_counts_naked_frames_and_calls_through_pointers(tmp_path: Path) -> None:
    """A naked function's 0-byte frame is replaced by its instructions' (push, vpush, sub sp, in address order,
    less pop / add sp); a call through a pointer reaches the deepest file-local function nothing calls
    directly: those of its own file from a file-local caller, those of its kernel's files from a kernel's global
    entry point, any such function from another global caller."""
    insns = {0x100: ("push", "{r4-r11, lr}"), 0x104: ("sub", "sp, sp, #36"), 0x108: ("vpush", "{d8-d9}"),
             0x10c: ("vpop", "{d8-d9}"), 0x110: ("add", "sp, #36"), 0x112: ("pop", "{r4-r11, pc}"),
             0x200: ("push", "{r4, lr}"), 0x202: ("pop", "{r4, pc}"), 0x204: ("push.w", "{r4-r7}"),
             0x300: ("stmdb", "sp!, {r4, r5}"), 0x304: ("sub.w", "sp, sp, #400"), 0x308: ("ldmia.w", "sp!, {r4, r5}")}
    frames = asm_frames(insns, {"block": (0x100, 0x14), "twice": (0x200, 0x8), "other": (0x300, 0xc)})
    assert frames == {"block": 36 + 36 + 16, "twice": 16, "other": 408}
    (tmp_path / "k.ci").write_text(
        'node: { title: "top" label: "top\\nk.c:1:5\\n16 bytes (static)" }\n'
        'node: { title: "k.c:walk" label: "walk\\nk.c:2:5\\n8 bytes (static)" }\n'
        'node: { title: "k.c:block" label: "block\\nk.c:3:5\\n0 bytes (static)" }\n'
        'node: { title: "k.c:small" label: "small\\nk.c:4:5\\n4 bytes (static)" }\n'
        'node: { title: "p.c:path" label: "path\\np.c:1:5\\n24 bytes (static)" }\n'
        'node: { title: "api" label: "api\\nk.c:5:5\\n500 bytes (static)" }\n'
        'node: { title: "__indirect_call" label: "Indirect Call Placeholder" shape : ellipse }\n'
        'edge: { sourcename: "top" targetname: "__indirect_call" }\n'
        'edge: { sourcename: "k.c:walk" targetname: "__indirect_call" }\n'
        'edge: { sourcename: "api" targetname: "top" }\n', encoding="utf-8")
    # top -> walk (8) -> block (88 from its instructions); p.c:path (24) is out of walk's reach; api is global
    assert stack_usage([tmp_path / "k.ci"], "top", {"block": 88}) == (
        16 + 8 + 88, ("top", "k.c:walk", "k.c:block"), (), True)
    assert stack_usage([tmp_path / "k.ci"], "top")[0] == 16 + 24  # without the instructions: path is deepest
    # a kernel's global entry reaches its own kernel's files only: the depthwise entry's dsp_path (rows5, 40 B),
    # not the conv's pixel walk (300 B), which the conv entry reaches
    d, c = "tq_depthwise_conv2d_s8", "tq_conv2d_s8"
    (tmp_path / "m.ci").write_text(
        f'node: {{ title: "net_run" label: "net_run\\nnet.c:1:5\\n8 bytes (static)" }}\n'
        f'node: {{ title: "{d}" label: "{d}\\n/p/{d}_dsp.c:9:6\\n100 bytes (static)" }}\n'
        f'node: {{ title: "{c}" label: "{c}\\n/p/{c}_dsp.c:9:6\\n60 bytes (static)" }}\n'
        f'node: {{ title: "/p/{d}_rows5.c:rows5" label: "rows5\\n/p/{d}_rows5.c:3:5\\n40 bytes (static)" }}\n'
        f'node: {{ title: "/p/{c}_dsp.c:pixel_run" label: "pixel_run\\n/p/{c}_dsp.c:3:5\\n300 bytes (static)" }}\n'
        f'edge: {{ sourcename: "net_run" targetname: "{d}" }}\n'
        f'edge: {{ sourcename: "net_run" targetname: "{c}" }}\n'
        f'edge: {{ sourcename: "{d}" targetname: "__indirect_call" }}\n'
        f'edge: {{ sourcename: "{c}" targetname: "__indirect_call" }}\n', encoding="utf-8")
    assert kernel_family(f"/p/{d}_rows5.c") == d and kernel_family("tq_conv2d_s4_s8.c") == "tq_conv2d_s4_s8"
    assert kernel_family("net.c") is None
    assert stack_usage([tmp_path / "m.ci"], d)[:2] == (100 + 40, (d, f"/p/{d}_rows5.c:rows5"))
    assert stack_usage([tmp_path / "m.ci"], "net_run")[:2] == (8 + 60 + 300, ("net_run", c, f"/p/{c}_dsp.c:pixel_run"))


@pytest.mark.parametrize("script", sorted(p.name for p in (Path(__file__).parents[1] / "benchmarks").glob("*.py")))
def test_benchmark_scripts_answer_help_without_measuring(script: str) -> None:
    """Every script in ``benchmarks/`` parses its arguments before it measures anything: ``--help`` prints
    its usage and exits 0 (``cortex_m.py --help`` used to run the whole benchmark)."""
    path = Path(__file__).parents[1] / "benchmarks" / script
    shown = subprocess.run([sys.executable, str(path), "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and shown.stdout.startswith("usage:"), shown.stdout + shown.stderr


# Parses the arguments a benchmark script is given and stops there: exit 0 when its parser takes them all, 3 when
# it leaves some unrecognized (argparse's parse_args patched before the script runs, so nothing is measured).
_PARSE_ONLY = """
import argparse, runpy, sys
def _parse_only(self, args=None, namespace=None):
    _, extra = self.parse_known_args(args, namespace)
    print("unrecognized:", extra) if extra else None
    sys.exit(3 if extra else 0)
argparse.ArgumentParser.parse_args = _parse_only
sys.argv = sys.argv[1:]
sys.path.insert(0, sys.argv[0].rsplit("/", 1)[0])  # as `python script.py` puts the script's folder first
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_readme_benchmark_commands_are_accepted_by_their_scripts() -> None:
    """Every ``python benchmarks/<script>.py <arguments>`` the README shows is a command its script takes (the
    README once said ``memory.py --markdown``, which the script refuses)."""
    root = Path(__file__).parents[1]
    commands = set(re.findall(r"python (benchmarks/[a-z_0-9]+\.py)((?: --?[a-z][a-z-]*(?: [0-9]+)?)*)",
                              (root / "README.md").read_text(encoding="utf-8")))
    assert any(script.endswith("cortex_m.py") for script, _ in commands)
    for script, args in sorted(commands):
        ran = subprocess.run([sys.executable, "-c", _PARSE_ONLY, str(root / script), *args.split()],
                             capture_output=True, text=True, check=False)
        assert ran.returncode == 0, f"README: python {script}{args}: {ran.stdout}{ran.stderr}"
