"""Static arena planning: one int8 arena, one byte offset per activation tensor.

Live ranges are in op *steps* (the index of an op in ``graph.ops``), both ends inclusive:

* the graph input is live from step 0 to its last reader;
* the output of op ``i`` is live from step ``i`` to its last reader (``i`` when unread);
* every graph output (a model may return several: ``graph.outputs``) stays live until the last step
  ``len(graph.ops) - 1``, also one a later op reads and one that another output is computed from, so
  no later tensor, scratch or in-place output ever takes its bytes.

Readers are the ops naming the tensor in ``op.inputs``, so a tensor read by several later
ops (a residual branch, a concat input) stays live until the last of them, and every input
of a multi-input op (add, concat) is live at that op's step.  The graph input and output
are arena tensors like any other (the zero-copy API of the generated C writes and reads
them in place), so the arena is all the activation RAM a model needs.

*Scratch*: an op whose kernel needs a work buffer (:func:`scratch_bytes`: the DSP and Armv6-M convs'
im2col columns, one size rule for both; the DSP depthwise row path's int16 rows and channel records;
the Armv6-M depthwise channel plane) gets a scratch allocation ``scratch:<step>`` live at its own
step only (:func:`scratch_ranges`), in the same arena and counted in ``arena_size``.  It conflicts with
every tensor live at that step (the op's inputs and output included) and never overlaps one
(no in-place exception); scratch of different steps may share bytes.  Scratch is reserved only
when the plan is for a board whose optimized kernels use it (``kernels`` ``"dsp"``, ``"v6m"`` or ``"mve"``,
the board profile's field; ``"dsp"`` is the planners' default): the portable kernels (host,
``-DTQ_PORTABLE``) never use it, and an optimized kernel handed no buffer (a package of a board with
optimized kernels planned for ``"portable"``) falls back to its portable loop, so either way the
results are the same integers.  The families' rules differ (the 8-bit depthwise: DSP rows and records,
Armv6-M plane, none on Helium), so a plan is for its board's family or for ``"portable"``
(:func:`tinyqat.codegen.emit.emit_package` checks it, and the generated C refuses to compile for another
family).  ``Plan.kernels`` records the choice and :func:`check_plan` derives the expected buffers from it.

Two tensors *conflict* when their ranges intersect (``a.first <= b.last and b.first <= a.last``).
Conflicting tensors must occupy disjoint byte ranges ``[offset, offset + size)``, with one
exception, *in-place execution* (:func:`in_place_rules`): the output of op ``k`` may overlap
an input ``x`` of op ``k`` that dies at ``k`` (``k`` is its last reader and ``x`` is not
a graph output) when the kernel's access order makes it safe:

* elementwise ops (clamp, lookup, softmax, log_softmax, prelu, add into either input, mul into an input of the
  output's size: not a broadcast gate) at the same offset
  (``d = out_off - in_off = 0``; their kernels read element ``i`` before writing it and
  allow ``input == output``, never a partial overlap);
* spatial ops (conv, including the 1x1 fast path, depthwise conv, max and average pool)
  at any ``d <= d_max`` (:func:`window_delta_max`), from the raster-order contract of
  ``runtime_c/tq_kernels.h``;
* fully connected and concat never (every output reads the whole input), nor a conv that runs the
  fully connected kernel (:func:`tinyqat.ir.kernel_op`: a 1x1 conv on a 1x1 map);
* data movement: a reshape (an elementwise copy that returns at once when ``output == input``)
  at ``d = 0``, where it moves nothing; a channel gather whose index is strictly increasing
  (a slice or a split part) at any ``d <= 0`` (output byte ``p * C_out + j`` is written after
  input byte ``p * C_in + index[j] >= p * C_out + j`` is read, and later reads lie above it);
  upsampling never.

Flatten and relabels that keep the bytes and the shape are no ops in the integer IR (the layout
pass and lowering remove them), so they cost neither code nor memory.  Offsets are multiples of
:data:`~tinyqat.target.ARENA_ALIGNMENT` bytes and ``arena_size`` is rounded up to it as well.

:class:`NaivePlanner` (every tensor gets its own bytes) is the oracle the tests compare
:class:`GreedyPlanner` against (TFLite Micro's linear vs greedy planners, plus in-place).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tinyqat import ir
from tinyqat.fixedpoint import FUSED2_OFFSET_E_MAX, fused_requant_ok
from tinyqat.target import ARENA_ALIGNMENT, CONV_DSP_COLUMN_MAX, DEPTHWISE_V6M_PLANE_MAX

PIXEL_BLOCK = 2  # output pixels a kernel may compute together (DSP kernels: 2), see window_delta_max

ELEMENTWISE_OPS = (ir.Clamp, ir.Lookup, ir.Softmax, ir.LogSoftmax, ir.Add, ir.Mul, ir.PRelu, ir.MulConst,
                   ir.Reshape)
WINDOW_OPS = (ir.Conv2d, ir.DepthwiseConv2d, ir.MaxPool2d, ir.AvgPool2d)


@dataclass(frozen=True)
class Allocation:
    """Tensor ``tensor`` occupies arena bytes ``[offset, offset + size)`` during steps ``[first, last]``."""

    tensor: str
    offset: int
    size: int
    first: int
    last: int

    @property
    def end(self) -> int:
        """One past the last byte (``offset + size``)."""
        return self.offset + self.size

    def conflicts(self, other: Allocation) -> bool:
        """True when the two live ranges share a step."""
        return self.first <= other.last and other.first <= self.last

    def overlaps(self, other: Allocation) -> bool:
        """True when the two byte ranges share a byte."""
        return self.offset < other.end and other.offset < self.end


@dataclass(frozen=True)
class InPlaceRule:
    """Op ``step`` may write ``output`` over ``input`` (which dies there) at ``d = out_off - in_off``.

    ``exact``: only ``d == 0`` is allowed (elementwise kernels); otherwise any ``d <= d_max``.
    """

    step: int
    input: str
    output: str
    d_max: int
    exact: bool

    def allows(self, d: int) -> bool:
        """True when an output at ``in_off + d`` is safe for this op's kernel."""
        return d == 0 if self.exact else d <= self.d_max

    @property
    def best_delta(self) -> int:
        """The aligned ``d`` that minimizes the bytes input and output span together.

        The pair spans ``max(d + out, in) - min(d, 0)`` bytes, smallest at ``d = min(0, d_max)``
        (rounded down to :data:`~tinyqat.target.ARENA_ALIGNMENT`, still ``<= d_max``).
        """
        return 0 if self.exact else min(0, self.d_max) // ARENA_ALIGNMENT * ARENA_ALIGNMENT


@dataclass(frozen=True)
class Plan:
    """A memory plan: ``arena_size`` bytes, the tensor allocations in planning-input order and the
    scratch allocations (:func:`scratch_ranges`, tensor ``scratch:<step>``, ``first == last == step``)
    in step order.  :meth:`live_at`, :meth:`bytes_in_use` and the peaks are about tensors only."""

    arena_size: int
    allocations: tuple[Allocation, ...]
    scratch: tuple[Allocation, ...] = ()
    kernels: str = "dsp"

    def scratch_at(self, step: int) -> Allocation | None:
        """The scratch allocation of op ``step``, or None when its kernel needs none."""
        return next((a for a in self.scratch if a.first == step), None)

    def allocation(self, name: str) -> Allocation:
        """The allocation of tensor ``name`` (``KeyError`` when it has none)."""
        for a in self.allocations:
            if a.tensor == name:
                return a
        raise KeyError(f"tensor {name!r} is not in the memory plan")

    def offset(self, name: str) -> int:
        """Arena byte offset of tensor ``name``."""
        return self.allocation(name).offset

    def live_at(self, step: int) -> tuple[Allocation, ...]:
        """Allocations live at ``step``, by offset."""
        return tuple(sorted((a for a in self.allocations if a.first <= step <= a.last), key=lambda a: a.offset))

    def bytes_in_use(self, step: int) -> int:
        """Distinct arena bytes held by the tensors live at ``step`` (in-place overlaps count once)."""
        used, reach = 0, 0
        for a in self.live_at(step):
            used += max(0, a.end - max(a.offset, reach))
            reach = max(reach, a.end)
        return used

    @property
    def peak_step(self) -> int:
        """The first step with the most :meth:`bytes_in_use` (the peak layer)."""
        steps = range(max((a.last for a in self.allocations), default=0) + 1)
        return max(steps, key=lambda s: (self.bytes_in_use(s), -s))

    @property
    def peak_live_bytes(self) -> int:
        """``max over steps s of sum(size of tensors live at s)``: the floor of any arena without
        in-place execution (input and output included, no scratch)."""
        steps = {s for a in self.allocations for s in (a.first, a.last)}
        return max((sum(a.size for a in self.allocations if a.first <= s <= a.last) for s in steps), default=0)


class Planner(Protocol):
    """Anything that turns a graph into a :class:`Plan` satisfying :func:`check_plan`."""

    def plan(self, graph: ir.Graph) -> Plan:
        """Plan the arena of ``graph``."""
        ...


def _align(n: int) -> int:
    return -(-n // ARENA_ALIGNMENT) * ARENA_ALIGNMENT


def scratch_bytes(op: ir.IntOp, graph: ir.Graph, kernels: str = "dsp") -> int:
    """Scratch bytes the kernel of ``op`` needs in the arena on a board with ``kernels`` (``"dsp"``,
    ``"v6m"``, ``"mve"`` or ``"portable"``): the Python twin of ``TQ_CONV2D_S8_BUFFER_SIZE`` /
    ``tq_conv2d_s8_get_buffer_size`` and of ``tq_depthwise_conv2d_s8_get_buffer_size``
    (``runtime_c/tq_kernels.h``).

    An 8-bit conv with ``K = kh * kw * in_c <= CONV_DSP_COLUMN_MAX`` (the fast paths of the DSP,
    Armv6-M and Helium convs) gets ``2 * (CONV_DSP_COLUMN_MAX + K rounded up to a multiple of 4)``
    (the DSP conv's two int16 columns, the second at a fixed ``CONV_DSP_COLUMN_MAX`` values; the
    Armv6-M conv's int32 column, ``4 * K`` bytes, and the Helium conv's two int8 columns and
    per-channel sums fit in it).  With ``kernels == "v6m"`` an 8-bit depthwise conv gets the Armv6-M
    kernel's channel plane, ``plane_h * plane_w`` bytes rounded up to a multiple of 4
    (``plane_h = (out_h - 1) * stride_h + kernel_h``, likewise the width), 0 above
    ``DEPTHWISE_V6M_PLANE_MAX`` (``TQ_DEPTHWISE_CONV2D_S8_V6M_BUFFER_SIZE``); with ``kernels == "dsp"``
    the DSP depthwise row path's buffer (:func:`depthwise_scratch_bytes`); the Helium depthwise uses none.
    Every other op, and every op when ``kernels == "portable"``, 0.  ``op`` is taken as its kernel runs it
    (:func:`tinyqat.ir.kernel_op`: a 1x1 conv on a 1x1 map runs the fully connected kernel, which needs none).
    With ``kernels == "dsp"`` a conv with ``K = 8`` and :func:`requant_fused` 2 gets at least
    :func:`pw8_scratch_bytes` (``TQ_CONV2D_S8_DSP_BUFFER_SIZE``: the DSP conv's pw8 path, 1 x 1 windows on 8 channels
    with strides 1, keeps its channel records and a chunk of pixels there; a rule of two fields, cheap in C, so the
    other ``K = 8`` layers with ``requant_fused`` 2, strided or padded ones and 2 x 2 x 2 windows, get the same bytes
    unused).
    """
    op = ir.kernel_op(op, graph)
    if isinstance(op, ir.DepthwiseConv2d) and op.weight_bits == 8 and kernels == "dsp":
        return depthwise_scratch_bytes(op, graph)
    if kernels == "v6m" and isinstance(op, ir.DepthwiseConv2d) and op.weight_bits == 8:
        out_h, out_w = graph.tensor(op.output).shape[:2]
        plane = ((out_h - 1) * op.stride[0] + op.kernel[0]) * ((out_w - 1) * op.stride[1] + op.kernel[1])
        return 0 if plane > DEPTHWISE_V6M_PLANE_MAX else -(-plane // 4) * 4
    if kernels == "portable" or not isinstance(op, ir.Conv2d) or op.weight_bits != 8:  # 4-bit: tq_conv2d_s4_s8
        return 0
    kh, kw = op.kernel
    k = kh * kw * graph.tensor(op.inputs[0]).shape[2]
    columns = 0 if k > CONV_DSP_COLUMN_MAX else 2 * (CONV_DSP_COLUMN_MAX + -(-k // 4) * 4)
    if kernels == "dsp" and k == 8 and requant_fused(op) == 2:
        return max(columns, pw8_scratch_bytes(graph.tensor(op.output).shape[2]))
    return columns


CONV_PW8_WORDS = 8  # int32 words per output channel of the pw8 path's records (TQ_CONV_PW8_WORDS)
CONV_PW8_CHUNK = 32  # pixels per chunk of the pw8 path (TQ_CONV_PW8_CHUNK)


def requant_fused(op: ir.IntOp) -> int:
    """The ``requant_fused`` field of an 8-bit conv, depthwise or fully connected layer (``runtime_c/tq_kernels.h``):
    1 when :func:`tinyqat.fixedpoint.fused_requant_ok` holds for its biases, shifts and taps (products per output;
    FC: ``in_features``), 2 when also its clamp is the full int8 range, it is a conv or depthwise and every right
    shift is at most ``FUSED2_OFFSET_E_MAX`` (the DSP conv's and depthwise's folded output stages), else 0."""
    taps = int(np.prod(op.weights.shape[:2] if isinstance(op, ir.DepthwiseConv2d) else op.weights.shape[1:]))
    fused = int(fused_requant_ok(op.bias, op.shift, taps))
    if (fused and (op.act_min, op.act_max) == (-128, 127) and isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d))
            and int(-op.shift.min()) <= FUSED2_OFFSET_E_MAX):
        fused = 2
    return fused


def pw8_scratch_bytes(out_c: int) -> int:
    """The least scratch of a pw8 layer (``TQ_CONV_PW8_BUFFER_SIZE``): its ``out_c`` records of
    ``CONV_PW8_WORDS`` int32 words, then one chunk of ``CONV_PW8_CHUNK`` pixels as SXTB16 pairs (16 bytes each):
    ``32 * out_c + 512`` bytes (more than the columns' ``2 * (CONV_DSP_COLUMN_MAX + 8)`` from 21 channels on)."""
    return 4 * CONV_PW8_WORDS * out_c + 16 * CONV_PW8_CHUNK


DW5_MIN_OUT_W = 6  # TQ_DW_DSP5_MIN_OUT_W: 5x5 depthwise layers take the DSP row path from this output width


def dw_padded_width(out_w: int, stride_w: int, k: int) -> int:
    """int16 values per channel row of the DSP depthwise row path's ring, the twin of ``TQ_DW_DSP_WP``
    (``runtime_c/tq_kernels.h``): the last window's columns plus one, ``(out_w - 1) * stride_w + k + 1``,
    rounded up to even."""
    return ((out_w - 1) * stride_w + k + 1 + 1) & ~1


def depthwise_scratch_bytes(op: ir.DepthwiseConv2d, graph: ir.Graph) -> int:
    """Scratch of the DSP depthwise row path, the twin of ``TQ_DEPTHWISE_CONV2D_S8_DSP_BUFFER_SIZE``
    (``runtime_c/tq_kernels.h``): for a ``k x k`` window with ``k`` 3 or 5 (5: ``out_w >= DW5_MIN_OUT_W``,
    narrower rows run the pixel loop, whose int8 weights take less flash than the row path's records), depth
    multiplier 1, strides in
    {1, 2}, top and left padding < ``k`` and a fused output stage (:func:`tinyqat.fixedpoint.fused_requant_ok`
    over ``k * k`` taps), ``2 * k * wp * in_c`` bytes (a ring of ``k`` int16 rows per channel) with
    ``wp =`` :func:`dw_padded_width`; else 0.  Its channel records are flash
    (``tinyqat.codegen.layouts.dw_records``)."""
    (sh, sw), (pt, pl), (k, kw) = op.stride, op.padding[:2], op.kernel
    out_w = graph.tensor(op.output).shape[1]
    if (k != kw or k not in (3, 5) or (k == 5 and out_w < DW5_MIN_OUT_W) or op.depth_multiplier != 1
            or sh not in (1, 2) or sw not in (1, 2) or pt >= k or pl >= k
            or not fused_requant_ok(op.bias, op.shift, k * k)):
        return 0
    return 2 * k * dw_padded_width(out_w, sw, k) * graph.tensor(op.inputs[0]).shape[2]


def scratch_ranges(graph: ir.Graph, kernels: str = "dsp") -> list[Allocation]:
    """Allocations with ``offset = 0``, one per op with :func:`scratch_bytes` > 0, named
    ``scratch:<step>`` and live at that step only, in step order."""
    return [Allocation(f"scratch:{i}", 0, size, i, i)
            for i, op in enumerate(graph.ops) if (size := scratch_bytes(op, graph, kernels)) > 0]


def live_ranges(graph: ir.Graph) -> list[Allocation]:
    """Allocations with ``offset = 0`` giving each planned tensor's size and live range.

    Order: the graph input, then op outputs in execution order.
    """
    last_step = max(len(graph.ops) - 1, 0)
    defined = [(graph.input, 0)] + [(op.output, i) for i, op in enumerate(graph.ops)]
    ranges = []
    for name, first in defined:
        readers = [i for i, op in enumerate(graph.ops) if name in op.inputs]
        last = last_step if name in graph.outputs else max([first, *readers])
        ranges.append(Allocation(name, 0, graph.tensor(name).size, first, last))
    return ranges


def window_delta_max(in_shape: tuple[int, ...], out_shape: tuple[int, ...], stride: tuple[int, int],
                     padding: tuple[int, int, int, int], block: int = PIXEL_BLOCK) -> int:
    """Largest ``d = out_off - in_off`` at which a raster-order window kernel may run in place.

    Kernel contract (``runtime_c/tq_kernels.h``): output pixels ``p = oy * out_w + ox`` are
    computed in raster order, in blocks of at most ``block`` consecutive pixels; while
    computing a block the kernel reads only the input windows of that block's pixels and
    writes only that block's ``C_out`` bytes per pixel.  The first input byte pixel ``q``
    reads is that of its clipped window,
    ``minread(q) = (max(0, oy*sh - pt) * in_w + max(0, ox*sw - pl)) * C_in``
    (a window without input pixels reads nothing; the formula then only over-approximates).
    Writing block ``[s, e)`` must not touch a byte that block or a later one still reads:
    ``d + e * C_out <= min(minread(q) for q >= s)``, so
    ``d_max = min over blocks [s, e) of (min_{q >= s} minread(q) - e * C_out)``.
    The per-pixel condition (``block = 1``) follows from the block one.
    """
    _, in_w, in_c = in_shape
    out_h, out_w, out_c = out_shape
    oy, ox = np.divmod(np.arange(out_h * out_w, dtype=np.int64), out_w)
    rows = np.maximum(0, oy * stride[0] - padding[0])
    cols = np.maximum(0, ox * stride[1] - padding[1])
    minread = (rows * in_w + cols) * in_c
    suffix_min = np.minimum.accumulate(minread[::-1])[::-1]
    starts = np.arange(0, out_h * out_w, block)
    ends = np.minimum(starts + block, out_h * out_w)
    return int(np.min(suffix_min[starts] - ends * out_c))


def _in_order_gather(op: ir.IntOp) -> bool:
    """A channel gather that may run in place at ``d <= 0``: strictly increasing index (module docstring)."""
    return isinstance(op, ir.Gather) and all(a < b for a, b in zip(op.index, op.index[1:]))


def in_place_rules(graph: ir.Graph) -> list[InPlaceRule]:
    """Every sanctioned (input, output) overlap of ``graph``, derived from the graph alone.

    One rule per op and dying input (an input whose last reader is that op and that is not
    a graph output); see the module docstring for which ops qualify and how.
    """
    last = {a.tensor: a.last for a in live_ranges(graph)}
    rules = []
    for step, op in enumerate(graph.ops):
        op = ir.kernel_op(op, graph)  # a 1x1 conv on a 1x1 map runs the fully connected kernel: never in place
        if not (isinstance(op, ELEMENTWISE_OPS + WINDOW_OPS) or _in_order_gather(op)):
            continue
        for name in dict.fromkeys(op.inputs):
            if last[name] != step or name in graph.outputs:
                continue
            if isinstance(op, ir.Gather):
                rules.append(InPlaceRule(step, name, op.output, 0, exact=False))
            elif isinstance(op, WINDOW_OPS):
                d_max = window_delta_max(graph.tensor(name).shape, graph.tensor(op.output).shape, op.stride,
                                         op.padding)
                rules.append(InPlaceRule(step, name, op.output, d_max, exact=False))
            elif graph.tensor(name).size == graph.tensor(op.output).size:  # not a broadcast mul operand
                rules.append(InPlaceRule(step, name, op.output, 0, exact=True))
    return rules


def _finish(placed: list[Allocation], tensors: int | None = None) -> Plan:
    """The plan of ``placed``: its first ``tensors`` entries (all by default) are tensors, the rest scratch."""
    n = len(placed) if tensors is None else tensors
    return Plan(_align(max((a.end for a in placed), default=0)), tuple(placed[:n]), tuple(placed[n:]))


@dataclass(frozen=True)
class NaivePlanner:
    """No reuse: tensors, then scratch buffers (``kernels``: module docstring), laid out back to back
    (each offset aligned), in definition order."""

    kernels: str = "dsp"

    def plan(self, graph: ir.Graph) -> Plan:
        """``offset[k] = align(offset[k-1] + size[k-1])``; arena = aligned sum of sizes."""
        placed: list[Allocation] = []
        offset = 0
        ranges = live_ranges(graph)
        for a in ranges + scratch_ranges(graph, self.kernels):
            placed.append(Allocation(a.tensor, offset, a.size, a.first, a.last))
            offset = _align(offset + a.size)
        return dataclasses.replace(_finish(placed, len(ranges)), kernels=self.kernels)


@dataclass(frozen=True)
class GreedyPlanner:
    """Greedy by size with first fit, optionally merging in-place chains into blocks.

    With ``in_place``, an op with a rule (:func:`in_place_rules`; an add has one per dying
    input) may tie its output to that input at ``rel(out) = rel(in) + rule.best_delta``.  A
    tensor dies at one op, so the ties form chains; each chain is one *block* of tensors at
    fixed relative offsets (normalized so the lowest is 0).  Without ``in_place`` every
    tensor is its own block.  Scratch buffers (:func:`scratch_ranges`) are blocks of their own,
    placed like tensors live at one step.

    Blocks are placed largest member first (then by first step, then definition order).  A
    block's base offset is the lowest aligned ``B >= 0`` at which no member overlaps an
    already placed tensor it conflicts with; the candidates are 0 and
    ``align(end(t)) - rel(m)`` for every member ``m`` and placed conflicting ``t`` (the lowest
    feasible base always is one of them), tried in increasing order.

    Which ties to keep is searched: starting from all of them, and again from none, each
    output's choice (no tie, or a tie to one of its dying inputs) is changed one at a time,
    keeping a change when it lowers the arena, or keeps it and lowers the per-step high-water
    marks (:func:`_score`), until no single change helps (a rigid chain drifts down by ``|d|``
    per op, so long chains must be cut where the drift costs more than the overlap saves).
    A reshape's tie to its dying input (d = 0: its kernel then moves nothing) is kept in both
    searches.  The smallest arena of the two searches and of the plan without ties is returned (ties:
    the plain plan), so it never does worse than plain greedy, which never does worse than
    :class:`NaivePlanner` (each first-fit offset is at most the sum of the aligned sizes of
    the tensors placed before it).  Deterministic: the same graph gives the same plan.
    """

    in_place: bool = True
    kernels: str = "dsp"

    def plan(self, graph: ir.Graph) -> Plan:
        """Plan ``graph`` (scratch only for ``kernels`` that use it: module docstring); allocations come back in
        definition order."""
        return dataclasses.replace(self._plan(graph), kernels=self.kernels)

    def _plan(self, graph: ir.Graph) -> Plan:
        ranges = live_ranges(graph) + scratch_ranges(graph, self.kernels)
        plain = _place(ranges, {})
        if not self.in_place:
            return plain
        options: dict[str, list[tuple[str, int]]] = {}
        forced: dict[str, tuple[str, int]] = {}  # a reshape over its input moves nothing: always tied
        for rule in in_place_rules(graph):
            if isinstance(graph.ops[rule.step], ir.Reshape):
                forced[rule.output] = (rule.input, 0)
            else:
                options.setdefault(rule.output, []).append((rule.input, rule.best_delta))
        best = plain
        for start in ({out: choices[0] for out, choices in options.items()}, {}):
            plan = _improve(ranges, options, start | forced)
            if plan.arena_size < best.arena_size:
                best = plan
        return best


def _improve(ranges: list[Allocation], options: dict[str, list[tuple[str, int]]],
             ties: dict[str, tuple[str, int]]) -> Plan:
    """First-improvement local search over the tie choices of ``options``, starting from ``ties``."""
    best = _place(ranges, ties)
    score = _score(best)
    improved = True
    while improved:
        improved = False
        for out, choices in options.items():
            for choice in [None, *choices]:
                if choice == ties.get(out):
                    continue
                trial = {k: v for k, v in ties.items() if k != out} | ({out: choice} if choice else {})
                plan = _place(ranges, trial)
                if _score(plan) < score:
                    best, ties, score, improved = plan, trial, _score(plan), True
    return best


def _score(plan: Plan) -> tuple[int, int]:
    """``(arena_size, sum over steps of the highest live byte)``: the second term rewards lowering
    a local peak that does not set the arena yet, so ties that only pay off together get kept."""
    steps = range(max((a.last for a in plan.allocations), default=0) + 1)
    return plan.arena_size, sum(max((a.end for a in (*plan.live_at(s), *plan.scratch) if a.first <= s <= a.last),
                                    default=0) for s in steps)


def _blocks(ranges: list[Allocation], ties: dict[str, tuple[str, int]]) -> list[list[tuple[int, int]]]:
    """Chains of ``ties`` as lists of ``(index in ranges, relative offset)``, lowest offset 0."""
    index = {a.tensor: k for k, a in enumerate(ranges)}
    root: dict[int, tuple[int, int]] = {}  # tensor index -> (chain head index, offset from the head)
    for k, a in enumerate(ranges):  # definition order: a tensor's input comes before it
        if a.tensor in ties:
            parent, d = ties[a.tensor]
            head, rel = root[index[parent]]
            root[k] = (head, rel + d)
        else:
            root[k] = (k, 0)
    chains: dict[int, list[tuple[int, int]]] = {}
    for k, (head, rel) in root.items():
        chains.setdefault(head, []).append((k, rel))
    blocks = []
    for members in chains.values():
        low = min(rel for _, rel in members)
        blocks.append([(k, rel - low) for k, rel in members])
    return blocks


def _fits(base: int, rivals: list[tuple[int, Allocation, list[Allocation]]]) -> bool:
    """True when no member (relative offset, range, placed conflicting tensors) overlaps at ``base``."""
    return all(p.end <= base + rel or base + rel + a.size <= p.offset for rel, a, ps in rivals for p in ps)


def _place(ranges: list[Allocation], ties: dict[str, tuple[str, int]]) -> Plan:
    """First-fit placement of the blocks of ``ties`` (see :class:`GreedyPlanner`)."""
    blocks = _blocks(ranges, ties)
    blocks.sort(key=lambda b: (-max(ranges[k].size for k, _ in b), min(ranges[k].first for k, _ in b), b[0][0]))
    placed: dict[int, Allocation] = {}
    for block in blocks:
        rivals = [(rel, ranges[k], [p for p in placed.values() if p.conflicts(ranges[k])]) for k, rel in block]
        candidates = sorted({0} | {_align(p.end) - rel for rel, _, ps in rivals for p in ps if _align(p.end) >= rel})
        base = next(b for b in candidates if _fits(b, rivals))
        for k, rel in block:
            a = ranges[k]
            placed[k] = Allocation(a.tensor, base + rel, a.size, a.first, a.last)
    return _finish([placed[k] for k in range(len(ranges))], sum(not _is_scratch(a) for a in ranges))


def _is_scratch(a: Allocation) -> bool:
    return a.tensor.startswith("scratch:")


def check_plan(graph: ir.Graph, plan: Plan) -> None:
    """Raise ``ValueError`` unless ``plan`` is a valid arena layout for ``graph``.

    Checks, against the live ranges recomputed from the graph: every planned tensor has
    exactly one allocation with the right size and range; offsets are non-negative and
    aligned; every buffer ends within ``arena_size``; no two conflicting tensors share a
    byte, except an op's output over an input that dies there at a ``d = out_off - in_off``
    its rule allows (:func:`in_place_rules`, recomputed from the graph, never read from the plan).
    The scratch allocations must be exactly those of :func:`scratch_ranges` (size, step), aligned,
    within the arena and disjoint from every tensor live at their step and from each other.
    """
    expected = {a.tensor: a for a in live_ranges(graph)}
    got: dict[str, Allocation] = {}
    for a in plan.allocations:
        if a.tensor in got:
            raise ValueError(f"tensor {a.tensor!r} is allocated twice")
        if a.tensor not in expected:
            raise ValueError(f"allocation for unknown tensor {a.tensor!r}")
        got[a.tensor] = a
    missing = sorted(expected.keys() - got.keys())
    if missing:
        raise ValueError(f"tensors missing from the plan: {missing}")
    for name, a in got.items():
        want = expected[name]
        got_key, want_key = (a.size, a.first, a.last), (want.size, want.first, want.last)
        if got_key != want_key:
            raise ValueError(f"{name}: (size, first, last) {got_key} != {want_key} derived from the graph")
        if a.offset < 0 or a.offset % ARENA_ALIGNMENT:
            raise ValueError(f"{name}: offset {a.offset} is negative or not a multiple of {ARENA_ALIGNMENT}")
        if a.end > plan.arena_size:
            raise ValueError(f"{name}: bytes [{a.offset}, {a.end}) run past the arena ({plan.arena_size} bytes)")
    _check_scratch(graph, plan, list(got.values()))
    rules = {(r.input, r.output): r for r in in_place_rules(graph)}
    allocs = list(got.values())
    for i, a in enumerate(allocs):
        for b in allocs[i + 1:]:
            if not (a.conflicts(b) and a.overlaps(b)):
                continue
            rule = rules.get((a.tensor, b.tensor)) or rules.get((b.tensor, a.tensor))
            if rule is None:
                raise ValueError(f"live tensors {a.tensor!r} [{a.offset}, {a.end}) and {b.tensor!r} "
                                 f"[{b.offset}, {b.end}) overlap")
            d = got[rule.output].offset - got[rule.input].offset
            if not rule.allows(d):
                allowed = "0" if rule.exact else f"<= {rule.d_max}"
                raise ValueError(f"in-place {rule.output!r} over {rule.input!r} at d = {d} overlaps bytes its "
                                 f"kernel still reads (allowed d: {allowed}, or no overlap)")


def _check_scratch(graph: ir.Graph, plan: Plan, tensors: list[Allocation]) -> None:
    """The scratch part of :func:`check_plan`."""
    want = [(a.tensor, a.size, a.first, a.last) for a in scratch_ranges(graph, plan.kernels)]
    got = [(a.tensor, a.size, a.first, a.last) for a in plan.scratch]
    if got != want:
        raise ValueError(f"scratch (name, size, first, last) {got} != {want} derived from the graph")
    for i, s in enumerate(plan.scratch):
        if s.offset < 0 or s.offset % ARENA_ALIGNMENT:
            raise ValueError(f"{s.tensor}: offset {s.offset} is negative or not a multiple of {ARENA_ALIGNMENT}")
        if s.end > plan.arena_size:
            raise ValueError(f"{s.tensor}: bytes [{s.offset}, {s.end}) run past the arena ({plan.arena_size} bytes)")
        for t in (*tensors, *plan.scratch[i + 1:]):
            if s.conflicts(t) and s.overlaps(t):
                raise ValueError(f"{s.tensor} [{s.offset}, {s.end}) overlaps {t.tensor!r} [{t.offset}, {t.end}), "
                                 f"live at step {s.first}")
