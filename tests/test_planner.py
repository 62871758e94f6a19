"""Memory planner: live ranges, no overlap among live tensors, greedy <= naive, check_plan rejects bad plans."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import runtime_graphs as rg

from tinyqat.memory.planner import (
    PIXEL_BLOCK,
    Allocation,
    GreedyPlanner,
    NaivePlanner,
    Plan,
    check_plan,
    in_place_rules,
    live_ranges,
    scratch_bytes,
    scratch_ranges,
    window_delta_max,
)
from tinyqat.target import ARENA_ALIGNMENT

SEEDS = range(40)


def _graphs(seed: int) -> list[rg.ir.Graph]:
    rng = np.random.default_rng(seed)
    return [rg.random_model(rng), rg.fan_out_graph(rng, 6), rg.fan_out_graph(rng, 2 * len(rg.KINDS)),
            rg.residual_model(rng), rg.separable_model(rng)]


def test_live_ranges_follow_the_definition() -> None:
    graph = rg.random_model(np.random.default_rng(0))
    ranges = {a.tensor: (a.first, a.last) for a in live_ranges(graph)}
    last = len(graph.ops) - 1
    assert ranges[graph.input] == (0, 0)
    assert ranges[graph.output] == (last, last)
    for i, op in enumerate(graph.ops[:-1]):
        assert ranges[op.output] == (i, i + 1)  # a chain: each output is read by the next op


def test_fan_out_keeps_input_alive_and_output_to_the_end() -> None:
    graph = rg.fan_out_graph(np.random.default_rng(1), 5)
    ranges = {a.tensor: (a.first, a.last) for a in live_ranges(graph)}
    assert ranges[graph.input] == (0, 4)
    assert ranges["y0"] == (0, 0)  # unread output: live at its own step only
    assert ranges[graph.output] == (4, 4)


def test_residual_reads_extend_live_ranges() -> None:
    """A tensor read by several ops lives until its last reader; every input of a multi-input op
    is live at that op's step, so greedy never places it under the op's other inputs or output."""
    graph = rg.residual_model(np.random.default_rng(2))
    step = {op.output: i for i, op in enumerate(graph.ops)}
    ranges = {a.tensor: (a.first, a.last) for a in live_ranges(graph)}
    assert ranges[graph.input] == (0, step["k1"])  # read by the first conv and by the concat
    assert ranges["c1"] == (step["c1"], step["k1"])  # read by depthwise, add and concat
    plan = GreedyPlanner().plan(graph)
    check_plan(graph, plan)
    for i, op in enumerate(graph.ops):
        live = [plan.allocation(t) for t in (*op.inputs, op.output)]
        assert all(a.first <= i <= a.last for a in live)
        sanctioned = {(r.input, r.output) for r in in_place_rules(graph) if r.step == i}
        for k, a in enumerate(live):
            for b in live[k + 1:]:
                assert (a.tensor == b.tensor or a.end <= b.offset or b.end <= a.offset
                        or (a.tensor, b.tensor) in sanctioned)


def test_check_plan_rejects_overlapping_residual_inputs() -> None:
    """Putting add's first input (long-lived) on the bytes of its second input is caught."""
    graph = rg.residual_model(np.random.default_rng(3))
    plan = NaivePlanner().plan(graph)
    add = next(op for op in graph.ops if isinstance(op, rg.ir.Add))
    index = [a.tensor for a in plan.allocations].index(add.inputs[0])
    with pytest.raises(ValueError, match="overlap"):
        check_plan(graph, _replace(plan, index, offset=plan.offset(add.inputs[1])))


def _independent_overlap_check(graph: rg.ir.Graph, plan: Plan) -> None:
    """No two tensors live at one step share a byte, except an op's output over an input that dies
    at that op, where the bytes written so far never include a byte still to be read (simulated)."""
    allocs = {a.tensor: a for a in plan.allocations}
    for a in plan.allocations:
        for b in plan.allocations:
            if a.tensor >= b.tensor or not (a.conflicts(b) and a.overlaps(b)):
                continue
            step = max(a.first, b.first)
            op = graph.ops[step]
            x, y = (a, b) if b.tensor == op.output else (b, a)
            assert y.tensor == op.output and x.tensor in op.inputs and x.last == step, (a, b)
            assert x.tensor != graph.output
            if isinstance(op, rg.ir.Conv2d | rg.ir.DepthwiseConv2d | rg.ir.MaxPool2d | rg.ir.AvgPool2d):
                assert _window_kernel_is_safe(graph, op, y.offset - x.offset)
            else:
                assert x.offset == y.offset and not isinstance(op, rg.ir.FullyConnected | rg.ir.Concat)
    assert max((a.end for a in allocs.values()), default=0) <= plan.arena_size
    _independent_scratch_check(graph, plan)


def _independent_scratch_check(graph: rg.ir.Graph, plan: Plan) -> None:
    """Every op with scratch has one buffer of its rule's size, inside the arena, aligned, sharing no
    byte with any tensor live at its step (the op's inputs and output included) or other scratch."""
    assert [(s.first, s.size) for s in plan.scratch] == [
        (i, scratch_bytes(op, graph)) for i, op in enumerate(graph.ops) if scratch_bytes(op, graph)]
    for s in plan.scratch:
        assert s.first == s.last and s.offset % ARENA_ALIGNMENT == 0 and s.end <= plan.arena_size
        step = s.first
        live = [a for a in plan.allocations if a.first <= step <= a.last]
        op = graph.ops[step]
        assert {*op.inputs, op.output} <= {a.tensor for a in live}
        scratch_bytes_set = set(range(s.offset, s.end))
        for a in live + [t for t in plan.scratch if t is not s and t.first == step]:
            assert not scratch_bytes_set & set(range(a.offset, a.end)), (s, a)


def _window_kernel_is_safe(graph: rg.ir.Graph, op: rg.ir.IntOp, d: int, block: int = PIXEL_BLOCK) -> bool:
    """Simulate the raster-order contract in blocks of ``block`` pixels: no byte any block reads may have
    been written by that block or an earlier one (output at input offset + ``d``)."""
    h, w, c_in = graph.tensor(op.input).shape
    out_h, out_w, c_out = graph.tensor(op.output).shape
    kh, kw = op.kernel
    written_end = None  # output bytes are written in increasing order: [d, written_end) so far
    pixels = out_h * out_w
    for s in range(0, pixels, block):
        e = min(s + block, pixels)
        written_end = d + e * c_out
        for p in range(s, e):
            oy, ox = divmod(p, out_w)
            y0, x0 = oy * op.stride[0] - op.padding[0], ox * op.stride[1] - op.padding[1]
            for iy in range(max(0, y0), min(h, y0 + kh)):
                for ix in range(max(0, x0), min(w, x0 + kw)):
                    first = (iy * w + ix) * c_in
                    if first < written_end and d < first + c_in:
                        return False
    return True


@pytest.mark.parametrize("seed", SEEDS)
def test_plans_are_valid_and_in_place_beats_greedy_beats_naive(seed: int) -> None:
    for graph in _graphs(seed):
        naive, greedy, in_place = (NaivePlanner().plan(graph), GreedyPlanner(in_place=False).plan(graph),
                                   GreedyPlanner().plan(graph))
        for plan in (naive, greedy, in_place):
            check_plan(graph, plan)
            _independent_overlap_check(graph, plan)
        assert greedy.peak_live_bytes <= greedy.arena_size <= naive.arena_size
        assert in_place.arena_size <= greedy.arena_size
        assert max(in_place.bytes_in_use(s) for s in range(len(graph.ops))) <= in_place.arena_size
        assert naive.arena_size == sum(-(-a.size // ARENA_ALIGNMENT) * ARENA_ALIGNMENT
                                       for a in (*naive.allocations, *naive.scratch))
        assert all(a.offset % ARENA_ALIGNMENT == 0 for a in in_place.allocations)
        assert in_place == GreedyPlanner().plan(graph)  # deterministic


@pytest.mark.parametrize("seed", range(60))
def test_window_delta_max_is_safe_and_tight(seed: int) -> None:
    """Independent check of the formula: simulating the kernel contract, d_max is safe and, when every
    window holds an input pixel, d_max + 1 is not; per-pixel kernels are safe too."""
    rng = np.random.default_rng(seed)
    x = rg.ir.Tensor("x", tuple(int(v) for v in rng.integers(1, 8, 3)), rg.random_qparams(rng))
    kind = ("conv2d", "depthwise_conv2d", "max_pool2d", "avg_pool2d")[seed % 4]
    op, y = rg.random_op(rng, kind, "y", [x])
    graph = rg.chain(x, [(op, y)])
    d_max = window_delta_max(x.shape, y.shape, op.stride, op.padding)
    assert _window_kernel_is_safe(graph, op, d_max)
    assert _window_kernel_is_safe(graph, op, d_max, block=1)
    assert _window_kernel_is_safe(graph, op, d_max - 7)
    h, w, _ = x.shape
    all_read = all(0 <= oy * op.stride[0] - op.padding[0] < h and 0 <= ox * op.stride[1] - op.padding[1] < w
                   for oy in range(y.shape[0]) for ox in range(y.shape[1]))
    if all_read:
        assert not _window_kernel_is_safe(graph, op, d_max + 1)


def test_in_place_rules_follow_the_kernels() -> None:
    """Window ops and elementwise ops whose input dies there qualify; FC, concat, long-lived inputs do not."""
    graph = rg.residual_model(np.random.default_rng(4))
    kinds = {r.output: type(graph.ops[r.step]).__name__ for r in in_place_rules(graph)}
    assert "FullyConnected" not in kinds.values() and "Concat" not in kinds.values()
    c1 = graph.ops[0].output  # read by depthwise, add and concat: dies at the concat
    assert all(r.input != c1 for r in in_place_rules(graph))
    assert {r.exact for r in in_place_rules(graph) if isinstance(graph.ops[r.step], rg.ir.Add)} <= {True}


def test_in_place_goes_below_the_floor_on_separable_convs() -> None:
    """Depthwise 3x3 / pointwise chains (DS-CNN, MobileNet) need less than the no-in-place floor."""
    graph = rg.separable_model(np.random.default_rng(0))
    plan = GreedyPlanner().plan(graph)
    floor = max(sum(a.size for a in plan.live_at(s)) + sum(a.size for a in plan.scratch if a.first == s)
                for s in range(len(graph.ops)))  # the no-in-place floor, scratch included
    assert plan.arena_size < floor
    assert any(plan.allocation(op.output).overlaps(plan.allocation(op.inputs[0])) for op in graph.ops)


def test_check_plan_rejects_unsafe_in_place_offsets() -> None:
    """Moving an in-place output up by one aligned step past d_max, or an elementwise output off d = 0,
    is caught even though the plan was produced by the planner."""
    graph = rg.separable_model(np.random.default_rng(1))
    plan = GreedyPlanner().plan(graph)
    names = [a.tensor for a in plan.allocations]
    checked = 0
    for rule in in_place_rules(graph):
        x, y = plan.allocation(rule.input), plan.allocation(rule.output)
        if not x.overlaps(y):
            continue
        bad = y.offset + ARENA_ALIGNMENT
        moved = _replace(plan, names.index(y.tensor), offset=bad)
        moved = dataclasses.replace(moved, arena_size=max(moved.arena_size, bad + y.size + ARENA_ALIGNMENT))
        d = bad - x.offset
        if (rule.exact or d > rule.d_max) and bad < x.end:
            with pytest.raises(ValueError, match="in-place"):
                check_plan(graph, moved)
            checked += 1
    assert checked > 0


def test_greedy_reuses_memory_on_a_chain() -> None:
    graph = rg.random_model(np.random.default_rng(5))
    assert GreedyPlanner().plan(graph).arena_size < NaivePlanner().plan(graph).arena_size


def test_plan_lookup() -> None:
    graph = rg.random_model(np.random.default_rng(6))
    plan = NaivePlanner().plan(graph)
    assert plan.offset(graph.input) == 0
    with pytest.raises(KeyError):
        plan.offset("nope")


def _replace(plan: Plan, index: int, **changes: int) -> Plan:
    allocs = list(plan.allocations)
    allocs[index] = dataclasses.replace(allocs[index], **changes)
    return dataclasses.replace(plan, allocations=tuple(allocs))


def _corrupt(plan: Plan, how: str) -> Plan:
    first, second = plan.allocations[0], plan.allocations[1]  # graph input and first output: both live at step 0
    if how == "overlap":
        return _replace(plan, 1, offset=first.offset)
    if how == "missing":
        return dataclasses.replace(plan, allocations=plan.allocations[1:])
    if how == "past the arena":
        return dataclasses.replace(plan, arena_size=max(a.end for a in plan.allocations) - 1)
    if how == "wrong live range":
        return _replace(plan, 1, last=second.last + 1)
    if how == "wrong size":
        return _replace(plan, 1, size=second.size + 1)
    if how == "unaligned":
        return _replace(plan, 1, offset=second.offset + 1)
    if how == "duplicate":
        return dataclasses.replace(plan, allocations=(*plan.allocations, second))
    return dataclasses.replace(plan, allocations=(*plan.allocations, Allocation("ghost", 0, 1, 0, 0)))


@pytest.mark.parametrize("how", ["overlap", "missing", "past the arena", "wrong live range", "wrong size",
                                 "unaligned", "duplicate", "unknown"])
def test_check_plan_rejects_corruptions(how: str) -> None:
    graph = rg.random_model(np.random.default_rng(7))
    with pytest.raises(ValueError):
        check_plan(graph, _corrupt(GreedyPlanner().plan(graph), how))


def _conv_graph(seed: int = 8) -> rg.ir.Graph:
    """A chain whose 3x3 convs fit the DSP fast path (scratch) next to pools and an FC (none)."""
    rng = np.random.default_rng(seed)
    x = rg.ir.Tensor("x", (8, 8, 3), rg.random_qparams(rng))
    c1 = rg.conv(rng, "c1", x, 8, (3, 3), (1, 1), (1, 1, 1, 1))
    c2 = rg.conv(rng, "c2", c1[1], 8, (3, 3), (2, 2), (1, 1, 0, 0))
    return rg.chain(x, [c1, c2, rg.fully_connected(rng, "fc", c2[1], 5)])


def test_scratch_is_planned_per_op_and_never_overlaps_live_tensors() -> None:
    """Each conv of the DSP path gets K-sized scratch live at its step only, in the arena, disjoint from
    its input, output and every other live tensor; naive and greedy both; check_plan verifies it."""
    graph = _conv_graph()
    assert [a.first for a in scratch_ranges(graph)] == [0, 1]
    assert [a.size for a in scratch_ranges(graph)] == [2 * (576 + 28), 2 * (576 + 72)]  # K = 27 -> 28, 72
    for plan in (NaivePlanner().plan(graph), GreedyPlanner().plan(graph), GreedyPlanner(in_place=False).plan(graph)):
        check_plan(graph, plan)
        _independent_scratch_check(graph, plan)
        assert plan.scratch_at(2) is None and plan.scratch_at(0) is not None
    for seed in SEEDS:
        for g in _graphs(seed):
            _independent_scratch_check(g, GreedyPlanner().plan(g))


@pytest.mark.parametrize("how", ["missing", "wrong size", "on the input", "on the output", "past the arena",
                                 "unaligned"])
def test_check_plan_rejects_bad_scratch(how: str) -> None:
    graph = _conv_graph()
    plan = GreedyPlanner().plan(graph)
    s = plan.scratch[1]  # conv c2 at step 1: reads c1, writes c2
    bad = {"missing": (), "wrong size": (dataclasses.replace(s, size=s.size - 4),),
           "on the input": (dataclasses.replace(s, offset=plan.offset(graph.ops[1].inputs[0])),),
           "on the output": (dataclasses.replace(s, offset=plan.offset(graph.ops[1].output)),),
           "past the arena": (dataclasses.replace(s, offset=plan.arena_size),),
           "unaligned": (dataclasses.replace(s, offset=s.offset + 2),)}[how]
    with pytest.raises(ValueError, match="scratch"):
        check_plan(graph, dataclasses.replace(plan, scratch=(plan.scratch[0], *bad)))


def test_scratch_rule_edges() -> None:
    """K above the DSP column bound, 4-bit convs and non-conv ops need none."""
    rng = np.random.default_rng(9)
    x = rg.ir.Tensor("x", (5, 4, 68), rg.random_qparams(rng))  # K = 612 > 576
    wide = rg.conv(rng, "wide", x, 4, (3, 3), (1, 1), (1, 1, 1, 1))
    fits = rg.conv(rng, "fits", x, 4, (1, 1), (1, 1), (0, 0, 0, 0))
    graph = rg.chain(x, [wide, fits])
    assert [scratch_bytes(op, graph) for op in graph.ops] == [0, 2 * (576 + 68)]
    s4 = dataclasses.replace(graph.ops[1], weight_bits=4)
    assert scratch_bytes(s4, graph) == 0


def test_no_scratch_without_the_dsp_extension() -> None:
    """Planned for portable kernels (the host) no conv gets a column buffer."""
    graph = rg.residual_model(np.random.default_rng(3))
    with_dsp, without = GreedyPlanner().plan(graph), GreedyPlanner(kernels="portable").plan(graph)
    assert with_dsp.scratch and not without.scratch and not NaivePlanner(kernels="portable").plan(graph).scratch
    check_plan(graph, without)
    assert without.arena_size <= with_dsp.arena_size
    with pytest.raises(ValueError, match="scratch"):
        check_plan(graph, dataclasses.replace(without, kernels="dsp"))  # a DSP plan must hold the buffers
