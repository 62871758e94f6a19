"""Per-layer counts used by reports and board fit checks.

* MACs (multiply-accumulates for one sample, all taps counted, padded taps included, the
  usual convention): conv ``out_h * out_w * out_c * kh * kw * in_c``; depthwise
  ``out_h * out_w * out_c * kh * kw`` (one input channel per output channel); fully connected
  ``out * in``.  Pools, clamp, add, concat, lookup and softmax count 0: they multiply
  nothing into an accumulator (their adds, compares, requantizations and table reads are
  not MACs); mul and prelu count 0 too (one product per element, no accumulation).
* Params: weights + biases (element counts) of conv, depthwise and fully connected; 0
  otherwise (tables and requantization constants are not trained parameters).
* Weight (flash) bytes of a layer: the bytes of its constant arrays
  (:func:`tinyqat.codegen.arrays.const_arrays`): conv / depthwise / fully connected
  ``weights (int8) + 4 * (bias + multiplier + shift)``, with ``ceil(weights / 2)`` bytes for
  4-bit layers (two per byte, :func:`int4_saved_bytes` saved);
  concat ``4 * 4 * inputs`` (int32 channels, zero point, multiplier and shift per input);
  lookup ``256`` (int8 table); softmax ``4 * 256`` (int32 exp table); prelu ``C`` (int8 alpha); others 0.  The small
  parameter structs and offset tables of the generated C (tens of bytes per layer,
  compiler dependent) are not counted.
* Estimated code bytes (:func:`code_bytes`, flash besides the weights): the ``.text`` of each
  kernel file the model uses (:data:`KERNEL_CODE_BYTES`, measured with arm-none-eabi-gcc 12.2
  ``-O2 -mthumb -mcpu=cortex-m4`` and rounded up to 64 bytes; Cortex-M0+ code is up to 40 %
  larger, DSP variants differ), plus :data:`LAYER_CODE_BYTES` per layer (its ``static const``
  parameter struct, up to 19 words, and its dispatch case), plus :data:`MODEL_CODE_BYTES` for
  the model's API functions.  An estimate: the linker map of the final program is the truth.
* :func:`memory_summary`: the RAM / flash budget of a planned model on a board.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinyqat import ir
from tinyqat.boards import Board
from tinyqat.codegen.arrays import const_arrays
from tinyqat.memory.planner import Plan

OP_KINDS: dict[type, str] = {
    ir.Conv2d: "conv2d",
    ir.DepthwiseConv2d: "depthwise_conv2d",
    ir.FullyConnected: "fully_connected",
    ir.MaxPool2d: "max_pool2d",
    ir.AvgPool2d: "avg_pool2d",
    ir.Clamp: "clamp",
    ir.Add: "add",
    ir.Concat: "concat",
    ir.Lookup: "lookup",
    ir.Softmax: "softmax",
    ir.Mul: "mul",
    ir.PRelu: "prelu",
}


KERNEL_CODE_BYTES: dict[str, int] = {
    "conv2d": 1536, "depthwise_conv2d": 896, "fully_connected": 576, "max_pool2d": 256, "avg_pool2d": 448,
    "clamp": 64, "add": 1280, "concat": 768, "lookup": 64, "softmax": 256, "mul": 576, "prelu": 960,
    "conv2d_s4": 896, "depthwise_conv2d_s4": 960, "fully_connected_s4": 576,
}
LAYER_CODE_BYTES = 112
MODEL_CODE_BYTES = 512


def op_kind(op: ir.IntOp) -> str:
    """Short op name (one of :data:`OP_KINDS`' values), also the kernel stem ``tq_<kind>_s8``.

    A 4-bit conv / depthwise / fully connected layer is ``<kind>_s4`` (kernel ``tq_<kind>_s4_s8``,
    parameter struct ``tq_<kind>_s4_s8_params``: packed weights, :mod:`tinyqat.codegen.pack`).
    """
    try:
        kind = OP_KINDS[type(op)]
    except KeyError:
        raise ir.IRError(f"{op.name}: {type(op).__name__} is not an integer op; lower the graph first") from None
    return f"{kind}_s4" if getattr(op, "weight_bits", 8) == 4 else kind


def macs(op: ir.IntOp, graph: ir.Graph) -> int:
    """Multiply-accumulates of ``op`` for one sample (see module docstring)."""
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d)):
        out_h, out_w, out_c = graph.tensor(op.output).shape
        kh, kw = op.kernel
        in_c = op.weights.shape[3] if isinstance(op, ir.Conv2d) else 1
        return out_h * out_w * out_c * kh * kw * in_c
    if isinstance(op, ir.FullyConnected):
        return int(op.weights.size)
    return 0


def params(op: ir.IntOp) -> int:
    """Weights + biases of ``op`` (element count); 0 for ops without trained weights."""
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected)):
        return int(op.weights.size + op.bias.size)
    return 0


def layer_weights_bytes(op: ir.IntOp, graph: ir.Graph) -> int:
    """Flash bytes of ``op``'s constant arrays (sum of their byte sizes, see module docstring)."""
    return sum(int(a.values.nbytes) for a in const_arrays(op, graph))


def int4_saved_bytes(graph: ir.Graph) -> int:
    """Flash bytes the 4-bit layers save against 8-bit weights: ``size - ceil(size / 2)`` per layer."""
    return sum(int(op.weights.size) - (int(op.weights.size) + 1) // 2 for op in graph.ops
               if getattr(op, "weight_bits", 8) == 4)


def weights_bytes(graph: ir.Graph) -> int:
    """Flash bytes of all constant arrays of ``graph`` (sum of :func:`layer_weights_bytes`)."""
    return sum(layer_weights_bytes(op, graph) for op in graph.ops)


def total_macs(graph: ir.Graph) -> int:
    """Sum of :func:`macs` over all ops."""
    return sum(macs(op, graph) for op in graph.ops)


def code_bytes(graph: ir.Graph) -> int:
    """Estimated flash bytes of code and parameter structs (see module docstring)."""
    kernels = sum(KERNEL_CODE_BYTES[kind] for kind in {op_kind(op) for op in graph.ops})
    return kernels + LAYER_CODE_BYTES * len(graph.ops) + MODEL_CODE_BYTES


@dataclass(frozen=True)
class MemorySummary:
    """RAM and flash of a planned model on a board, in bytes.

    ``floor_bytes``: the most bytes of tensors live at one step (input and output included,
    no in-place, no scratch), the least any arena without in-place execution needs.
    ``peak_step``: the layer where the live tensors hold the most distinct bytes
    (``peak_bytes``); ``peak_tensors`` are those tensors as ``(name, offset, size)``.
    Headroom is capacity minus need (negative: over), ``None`` for an unbounded board.
    """

    arena_bytes: int
    floor_bytes: int
    peak_step: int
    peak_layer: str
    peak_bytes: int
    peak_tensors: tuple[tuple[str, int, int], ...]
    weights_bytes: int
    code_bytes: int
    ram_bytes: int | None
    flash_bytes: int | None

    @property
    def flash_needed(self) -> int:
        """Weights plus estimated code."""
        return self.weights_bytes + self.code_bytes

    @property
    def ram_headroom(self) -> int | None:
        """``ram_bytes - arena_bytes``."""
        return None if self.ram_bytes is None else self.ram_bytes - self.arena_bytes

    @property
    def flash_headroom(self) -> int | None:
        """``flash_bytes - flash_needed``."""
        return None if self.flash_bytes is None else self.flash_bytes - self.flash_needed


def speed_weights_extra_bytes(graph: ir.Graph, board: Board, optimize: str = "size") -> int:
    """Flash bytes the optimized weight layouts add on ``board`` (:mod:`tinyqat.codegen.layouts`): on a
    board with DSP kernels, each int16 speed-layout array (``optimize="speed"``) replaces its layer's int8
    weights and (both modes) each int8 DSP-layout array adds its padding; on an Armv6-M board
    (``kernels = "v6m"``), each Armv6-M array (channels padded to a multiple of 4) does; 0 otherwise."""
    from tinyqat.codegen import layouts

    extra = 0
    for op in graph.ops:
        shipped = None
        if board.kernels == "dsp":
            shipped = layouts.speed_weights(op) if optimize == "speed" else None
            shipped = layouts.dsp_weights(op) if shipped is None else shipped
        elif board.kernels == "v6m":
            shipped = layouts.v6m_weights(op)
        if shipped is not None:
            extra += int(shipped.nbytes) - int(op.weights.nbytes)  # type: ignore[attr-defined]
    return extra


def memory_summary(graph: ir.Graph, plan: Plan, board: Board, optimize: str = "size") -> MemorySummary:
    """The :class:`MemorySummary` of ``graph`` laid out by ``plan`` on ``board`` (weights as shipped
    for ``optimize``, see :func:`speed_weights_extra_bytes`)."""
    step = plan.peak_step
    return MemorySummary(
        arena_bytes=plan.arena_size, floor_bytes=plan.peak_live_bytes, peak_step=step,
        peak_layer=graph.ops[step].name, peak_bytes=plan.bytes_in_use(step),
        peak_tensors=tuple((a.tensor, a.offset, a.size) for a in plan.live_at(step)),
        weights_bytes=weights_bytes(graph) + speed_weights_extra_bytes(graph, board, optimize),
        code_bytes=code_bytes(graph),
        ram_bytes=board.ram_bytes, flash_bytes=board.flash_bytes,
    )
