"""Fuzzing: random supported graphs (ops, shapes, scales); every layer of the C equals the simulator.

Each run draws new graphs from :data:`conftest.FUZZ_SEED` (printed in the session header;
``TINYQAT_FUZZ_SEED=<seed>`` replays a run).  Targets:

* ``test_fuzz_simulator_equals_c_under_sanitizers``: hypothesis draws the op sequence, which
  earlier tensor each op reads, the input shape and a seed for all numeric parameters (weights,
  zero points at the ends, saturating multipliers, paddings up to kernel - 1, strides above the
  kernel); each example is compiled alone with ``-fsanitize=address,undefined`` and a failure is
  shrunk.  ``TINYQAT_FUZZ_EXAMPLES`` sets the example count (default 200).
* ``test_fuzz_batch``: :data:`BATCH` graphs per target compiled into one program
  (:mod:`fuzz_batch`): the host under ASan/UBSan, the Cortex-M4 DSP kernels and the Cortex-M0+
  Armv6-M kernels bare metal under QEMU.  ``TINYQAT_FUZZ_BATCH`` sets the count per target.

A failing example is saved as ``tests/regression/<target>-<seed>[-<k>].json`` (commit it):
``test_fuzz_regression`` replays every saved file as a named test, in every run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import fuzz_batch as fb
import pytest
import runtime_graphs as rg
from conftest import FUZZ_SEED, require_tool
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("TINYQAT_FUZZ_EXAMPLES", "200"))
BATCH = int(os.environ.get("TINYQAT_FUZZ_BATCH", "100"))


def _require_tools(target: str) -> None:
    require_tool("gcc", "gcc")
    if target.startswith("qemu-"):
        require_tool("arm-none-eabi-gcc", "gcc-arm-none-eabi")
        require_tool("qemu-system-arm", "qemu-system-arm")


@seed(FUZZ_SEED)
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 9), st.integers(1, 9), st.integers(1, 6)),
    plan=st.lists(st.tuples(st.sampled_from(rg.KINDS), st.integers(0, 20)), min_size=1, max_size=8),
)
def test_fuzz_simulator_equals_c_under_sanitizers(seed: int, shape: tuple[int, int, int],
                                                  plan: list[tuple[str, int]]) -> None:
    _require_tools("host-asan")
    example = fb.Example(seed, shape, tuple(plan))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            mismatch = fb.run_batch("host-asan", [example], Path(tmp))[0]
        except Exception:  # a compiler, sanitizer or harness failure
            fb.save_regression("host-asan", example, str(FUZZ_SEED))  # the last write is the shrunk example
            raise
    if mismatch is not None:
        path = fb.save_regression("host-asan", example, str(FUZZ_SEED))
        pytest.fail(f"{mismatch} (saved as {path.name})")


@pytest.mark.parametrize("target", list(fb.TARGETS))
def test_fuzz_batch(target: str, tmp_path: Path) -> None:
    _require_tools(target)
    examples = fb.draw_examples((FUZZ_SEED, list(fb.TARGETS).index(target)), BATCH)
    results = fb.run_batch(target, examples, tmp_path)
    failures = [(k, r) for k, r in enumerate(results) if r is not None]
    saved = [fb.save_regression(target, examples[k], f"{FUZZ_SEED}-{k}").name for k, _ in failures]
    assert not failures, f"{len(failures)} of {len(examples)} graphs differ, first: graph {failures[0][0]}: " \
                         f"{failures[0][1]} (saved as {', '.join(saved)}; seed {FUZZ_SEED})"


@pytest.mark.parametrize("path", sorted(fb.REGRESSIONS.glob("*.json")), ids=lambda p: p.stem)
def test_fuzz_regression(path: Path, tmp_path: Path) -> None:
    """A graph a fuzz target once failed on, replayed alone on the same target."""
    target, example = fb.load_regression(path)
    _require_tools(target)
    assert fb.run_batch(target, [example], tmp_path) == [None]


def test_saved_regression_replays_the_same_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a failing target saves is what test_fuzz_regression replays: same target, same graph."""
    monkeypatch.setattr(fb, "REGRESSIONS", tmp_path / "regression")
    example = fb.draw_examples(FUZZ_SEED, 1)[0]
    path = fb.save_regression("qemu-cortex-m0plus", example, "probe")
    assert path.name == "qemu-cortex-m0plus-probe.json" and path.parent == tmp_path / "regression"
    target, loaded = fb.load_regression(path)
    assert (target, loaded) == ("qemu-cortex-m0plus", example)
    assert [op.name for op in loaded.graph().ops] == [op.name for op in example.graph().ops]
