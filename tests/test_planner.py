"""Memory planner: live ranges, no overlap among live tensors, greedy <= naive, check_plan rejects bad plans."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import runtime_graphs as rg

from tinyqat.memory.planner import (
    ALIGNMENT,
    Allocation,
    GreedyPlanner,
    NaivePlanner,
    Plan,
    check_plan,
    live_ranges,
)

SEEDS = range(40)


def _graphs(seed: int) -> list[rg.ir.Graph]:
    rng = np.random.default_rng(seed)
    return [rg.random_model(rng), rg.fan_out_graph(rng, 6), rg.fan_out_graph(rng, 2 * len(rg.KINDS)),
            rg.residual_model(rng)]


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
        for k, a in enumerate(live):
            for b in live[k + 1:]:
                assert a.tensor == b.tensor or a.end <= b.offset or b.end <= a.offset


def test_check_plan_rejects_overlapping_residual_inputs() -> None:
    """Putting add's first input (long-lived) on the bytes of its second input is caught."""
    graph = rg.residual_model(np.random.default_rng(3))
    plan = NaivePlanner().plan(graph)
    add = next(op for op in graph.ops if isinstance(op, rg.ir.Add))
    index = [a.tensor for a in plan.allocations].index(add.inputs[0])
    with pytest.raises(ValueError, match="overlap"):
        check_plan(graph, _replace(plan, index, offset=plan.offset(add.inputs[1])))


@pytest.mark.parametrize("seed", SEEDS)
def test_plans_are_valid_and_greedy_beats_naive(seed: int) -> None:
    for graph in _graphs(seed):
        naive, greedy = NaivePlanner().plan(graph), GreedyPlanner().plan(graph)
        check_plan(graph, naive)
        check_plan(graph, greedy)
        assert greedy.peak_live_bytes <= greedy.arena_size <= naive.arena_size
        assert naive.arena_size == sum(-(-a.size // ALIGNMENT) * ALIGNMENT for a in naive.allocations)
        assert all(a.offset % ALIGNMENT == 0 for a in greedy.allocations)
        assert greedy == GreedyPlanner().plan(graph)  # deterministic


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
    return Plan(plan.arena_size, tuple(allocs))


def _corrupt(plan: Plan, how: str) -> Plan:
    first, second = plan.allocations[0], plan.allocations[1]  # graph input and first output: both live at step 0
    if how == "overlap":
        return _replace(plan, 1, offset=first.offset)
    if how == "missing":
        return Plan(plan.arena_size, plan.allocations[1:])
    if how == "past the arena":
        return Plan(max(a.end for a in plan.allocations) - 1, plan.allocations)
    if how == "wrong live range":
        return _replace(plan, 1, last=second.last + 1)
    if how == "wrong size":
        return _replace(plan, 1, size=second.size + 1)
    if how == "unaligned":
        return _replace(plan, 1, offset=second.offset + 1)
    if how == "duplicate":
        return Plan(plan.arena_size, (*plan.allocations, second))
    return Plan(plan.arena_size, (*plan.allocations, Allocation("ghost", 0, 1, 0, 0)))


@pytest.mark.parametrize("how", ["overlap", "missing", "past the arena", "wrong live range", "wrong size",
                                 "unaligned", "duplicate", "unknown"])
def test_check_plan_rejects_corruptions(how: str) -> None:
    graph = rg.random_model(np.random.default_rng(7))
    with pytest.raises(ValueError):
        check_plan(graph, _corrupt(GreedyPlanner().plan(graph), how))
