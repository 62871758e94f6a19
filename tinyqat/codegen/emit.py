"""Emit a standalone C99 package for an integer graph.

Files written into ``out_dir`` (which must exist and be empty), for model ``name``:

* ``<name>.h``: public API and ``<NAME>_*`` macros (sizes, shapes, quantization, arena).
  Shapes: ``<NAME>_INPUT_DIMS`` is the IR rank (3 for ``(H, W, C)``, 1 for a vector of F
  features); ``<NAME>_INPUT_H/_W/_C`` are always defined, a vector being ``1 x 1 x F``
  (its NHWC layout).  The same holds for the output.
* ``<name>.c``: the arena (one static buffer), ``static const`` kernel parameter structs and
  the layer dispatch; ``<name>_weights.h``: the ``static const`` arrays (flash: weights,
  requantization constants, lookup and exp tables; :func:`tinyqat.codegen.arrays.const_arrays`),
  included only by ``<name>.c``.  Every non-static symbol starts with ``<name>_``, so several
  models link into one program.
* Calling conventions of the dispatch (``runtime_c/tq_kernels.h``): single-input ops
  ``tq_<kind>_s8(&params, input, output)``, add ``tq_add_s8(&params, input1, input2,
  output)``, concat ``tq_concat_s8(&params, inputs, output)`` with ``inputs`` a
  ``static const`` table of arena pointers (one per input, in ``op.inputs`` order).
* Runtime: ``tq_requant.h``, ``tq_kernels.h``, ``tq_dsp.h``, ``tq_portable.h``, ``tq_conv_dsp.h``, ``tq_conv_first.h``
  (:data:`RUNTIME_HEADERS`) and the ``tq_<op>_s8.c`` kernels the model uses, with their ``tq_<op>_s8_dsp.c`` and
  ``tq_<op>_s8_v6m.c`` companions (:func:`tinyqat.codegen.stats.model_kernel_files`), copied from
  ``resource_dir("runtime_c")``; the package's ``tq_kernels.h`` adds ``TQ_RUNTIME_ID`` (:func:`runtime_id`).
  They are identical for a given runtime fingerprint: a program with several models compiles each
  ``tq_*.c`` once (the ``.mk`` and ``CMakeLists.txt`` fragments do that, and refuse two fingerprints).
* Scratch (:func:`tinyqat.memory.planner.scratch_bytes`): a layer with a planned scratch buffer
  gets an ``OFFSET_S<step>`` macro; its dispatch copies the ``static const`` parameter struct to the
  stack and sets ``.scratch = arena + OFFSET_S<step>`` (the arena may be the caller's,
  ``<name>_set_arena``), so the struct stays in flash; the kernel
  signature is the same for portable and DSP kernels (portable ones ignore the field).
  ``model.json`` gives each layer ``scratch_offset`` / ``scratch_bytes`` (``null`` / 0 without).
* Weight layouts (:mod:`tinyqat.codegen.layouts`), for conv layers the DSP kernel runs (DSP scratch
  planned, K within its column bound): ``optimize="speed"`` gives them pre-extended int16 weights, a
  ``<ident>_weights_s16`` array and struct field under ``#if TQ_USE_DSP``, keeping their int8
  ``weights`` under ``#else``; ``"size"`` (default) gives them their int8 ``weights`` in the DSP
  kernel's int8 order under ``#if TQ_USE_DSP`` and in the IR order under ``#else`` (same struct field).
  Layers with ``weights_s16`` and no path that runs the whole call (:func:`layouts.conv_path_runs_call`) also get
  ``speed_blocks = &tq_conv2d_s8_speed`` (``&tq_conv2d_s8_speed_x2`` for the doubled layout,
  :func:`layouts.speed_doubled`) under ``TQ_USE_DSP``, and only packages with such a layer ship
  ``tq_conv2d_s8_speed.c`` (:data:`SPEED_FILE`, the int16-layout blocks), so a default build neither compiles
  nor links them, nor a speed build whose speed-layout layers all run paths of their own.
  8-bit conv layers that need a DSP conv path in a runtime file of its own (:func:`layouts.conv_dsp_path`: no
  scratch, 8-channel pointwise, output stages of ``requant_fused`` 0 / 1) get ``dsp_path = &<path>`` under
  ``TQ_USE_DSP``, and only then does the package ship its file (:data:`layouts.CONV_DSP_PATH_FILES`); likewise
  an add without a table gets ``dsp_path = &tq_add_s8_general`` (:func:`layouts.add_dsp_path`, the file
  ``tq_add_s8_general.c``).
  Boards with ``kernels = "v6m"`` (Armv6-M) get, whatever ``optimize``, a
  ``<ident>_weights_v6m`` array (uint8, the Armv6-M conv's layout) under ``#if TQ_USE_V6M`` for the
  convs that kernel runs from it and every 8-bit fully connected layer (with ``<ident>_bias_v6m``, the input
  zero point folded in), the int8 weights (and bias) under the negation of the guards used.
* Fully connected layers with 8-bit weights on boards with DSP kernels, in both modes
  (:func:`layouts.fc_dsp_arrays`): under ``#if TQ_USE_DSP`` the DSP kernel's ``<ident>_weights_dsp``
  (the same bytes reordered into row pairs), ``<ident>_bias_dsp`` (the input zero point folded into
  the bias) and ``<ident>_requant_dsp`` (multiplier and shift as pairs) and struct fields; under ``#else`` the
  int8 ``weights``, ``bias``, ``multiplier`` and ``shift``.  Their
  ``requant_fused`` uses taps = in_features, and ``dsp_path = &<path>`` (:func:`layouts.fc_dsp_path`): the general
  path reads the three arrays, a short layer's path ``<ident>_records`` (:func:`layouts.fc_path_records`) instead
  of them; a package ships a path's file only with a layer running it (:data:`layouts.FC_DSP_PATH_FILES`).
* Adds on boards with DSP or Armv6-M kernels (:func:`layouts.add_table`; the default build from
  ``ADD_TABLE_MIN_SIZE`` elements): under ``#if TQ_USE_DSP || TQ_USE_V6M`` ``<ident>_table`` (input 2's
  rescaled values) and its struct field, the inputs in the order that puts the exact one first.
* 8-bit depthwise layers with DSP scratch planned (the DSP row path), in both modes: under ``#if TQ_USE_DSP``
  ``<ident>_records`` (:func:`layouts.dw_records`: paired doubled weights and output-stage constants per
  channel) and its struct field; under ``#else`` the int8 ``weights``, ``bias``, ``multiplier``, ``shift``. The
  5 x 5 ones also get ``dsp_path = &tq_depthwise_conv2d_s8_rows5`` under ``TQ_USE_DSP`` (:func:`layouts.dw_dsp_path`),
  and only then does the package ship ``tq_depthwise_conv2d_s8_rows5.c``; likewise 3 x 3 stride-2 ones of the
  input widths n of :data:`layouts.DW_COPY_WIDTHS` ``&tq_depthwise_conv2d_s8_copy<n>`` (a row copy of their own),
  and 3 x 3 stride-1 ones of :data:`layouts.DW_COPY_S1_WIDTHS` ``&tq_depthwise_conv2d_s8_copy<n>s1``.
* 8-bit depthwise layers with depth multiplier 1 on Helium boards (``kernels="mve"``), both modes: under
  ``#if TQ_USE_MVE`` ``<ident>_records`` (:func:`layouts.dw_records_mve`: folded biases, int8 weights,
  multipliers, shifts and the output zero point per group of 16 channels, then a row of input zero points)
  and its struct field; under ``#else`` the four arrays.  Adds on Helium boards get the exact input first
  (:func:`layouts.mve_add`) and every add the ``exact1`` field (:func:`layouts.add_exact1`).
* Kernel family: on a board with optimized kernels the plan must be for them or for ``portable``.  A
  package also runs on cores of another family where that is safe (the DSP depthwise and fully connected
  and the Armv6-M conv and fully connected fall back to their portable loops without their layouts; every
  package names the DSP conv's and add's paths, ``dsp_path``, whatever its board), except where the plan
  gives a depthwise layer less scratch than the Armv6-M kernel's channel plane, which it takes without a
  layout field to tell it otherwise: then ``<name>.c`` stops with an ``#error`` under ``TQ_USE_V6M``
  (:func:`_misread_by`), naming the board and the fix (build for that core, or ``-DTQ_PORTABLE``).
* ``<name>.mk`` (Make fragment) and ``CMakeLists.txt`` (static library ``<name>``): C99 and
  ``TINYQAT_OPTIMIZE`` (default ``-O2``) after the user's flags, nothing else by default; the strict
  warnings with ``-Werror`` and the board's CPU flags are opt-in settings (the CPU and float ABI
  normally come from the user's toolchain).
* ``model.json`` (manifest, sorted keys; each layer's ``op`` is the IR op, ``kernel_op`` the kind of the kernel
  called, :func:`tinyqat.ir.kernel_op`), ``report.md`` (per-layer table and totals) and
  ``model.pt`` (the source artifact, byte for byte, for re-lowering during verification).

Output is a pure function of the arguments: no timestamps, no absolute paths.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyqat import ir
from tinyqat.boards import Board
from tinyqat.codegen import clit, layouts, stats
from tinyqat.codegen.arrays import ConstArray, const_arrays
from tinyqat.codegen.templates import render
from tinyqat.memory.planner import Plan, check_plan, live_ranges, requant_fused, scratch_bytes
from tinyqat.resources import resource_dir
from tinyqat.target import ARENA_ALIGNMENT, RUNTIME_VERSION, STRICT_CFLAGS

KERNEL_NAMES = {"dsp": "DSP", "v6m": "Armv6-M", "mve": "Helium", "portable": "portable"}
RUNTIME_HEADERS = ("tq_requant.h", "tq_kernels.h", "tq_dsp.h", "tq_portable.h", "tq_conv_dsp.h", "tq_conv_first.h")
SPEED_FILE = "tq_conv2d_s8_speed.c"  # the DSP conv's int16-layout blocks: shipped only with a layer running them
RUNTIME_VERSION_LINE = f"#define TQ_RUNTIME_VERSION {RUNTIME_VERSION}\n"  # in runtime_c/tq_kernels.h


@functools.lru_cache(maxsize=4)
def runtime_id(runtime: Path) -> str:
    """The fingerprint of the runtime sources in directory ``runtime``: the first 8 hex digits of the
    SHA-256 of every file's name and bytes, in name order.

    ``TQ_RUNTIME_VERSION`` follows the package version, so two development commits of one version share
    it while their parameter structs may differ; the fingerprint tells them apart. A package's copy of
    ``tq_kernels.h`` defines it as ``TQ_RUNTIME_ID``, ``<name>.c`` checks it with ``#error``, and the Make
    and CMake fragments refuse to mix two fingerprints in one program.
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in runtime.iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:8]


def package_kernels_h(runtime: Path) -> str:
    """``tq_kernels.h`` as a package ships it: the runtime's file with ``TQ_RUNTIME_ID`` (:func:`runtime_id`)
    defined after ``TQ_RUNTIME_VERSION``."""
    text = (runtime / "tq_kernels.h").read_text(encoding="utf-8")
    if text.count(RUNTIME_VERSION_LINE) != 1:
        raise ValueError(f"{runtime / 'tq_kernels.h'} does not define TQ_RUNTIME_VERSION {RUNTIME_VERSION} once")
    return text.replace(RUNTIME_VERSION_LINE, RUNTIME_VERSION_LINE + "/* Fingerprint of the runtime files this "
                        "package was generated with (tinyqat.codegen.emit.runtime_id). */\n"
                        f"#define TQ_RUNTIME_ID 0x{runtime_id(runtime)}u\n")


@dataclass(frozen=True)
class CArray:
    """A ``static const`` array for ``<name>_weights.h``."""

    ctype: str
    ident: str
    length: int
    body: str
    comment: str
    guard: str = ""  # a preprocessor condition the array is emitted under ("" = always)


@dataclass(frozen=True)
class Layer:
    """Everything the templates need about one op, already formatted.

    ``input_macros`` are the arena offset macros of ``op.inputs`` in order; ``input_table`` is
    the identifier of the ``static const`` pointer table passed instead of them to a
    variadic kernel (concat), or ``""`` when the inputs are passed one by one.
    """

    index: int
    name: str
    ident: str
    kind: str
    input_macros: tuple[str, ...]
    input_table: str
    output_macro: str
    output_size: str
    fields: tuple[tuple[str, str], ...]
    arrays: tuple[CArray, ...]
    variant_fields: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (condition, fields) after fields
    scratch_macro: str = ""  # arena offset macro of the layer's scratch buffer ("" = none)


VARIADIC_OPS = (ir.Concat,)


def _c_array(a: ConstArray, ident: str) -> CArray:
    """``a`` as ``<ident>_<suffix>``: int8 or int32 elements, as stored in the IR (uint8: packed 4-bit weights)."""
    ctype, body = ("int8_t", clit.int8_array_body) if a.values.dtype == np.int8 else ("int32_t", clit.int32_array_body)
    if a.values.dtype == np.uint8:
        ctype, body = "uint8_t", clit.uint8_array_body
    return CArray(ctype, f"{ident}_{a.suffix}", int(a.values.size), body(a.values), a.comment)


def _window_fields(op: ir.Conv2d | ir.DepthwiseConv2d | ir.MaxPool2d | ir.AvgPool2d) -> list[tuple[str, int]]:
    kh, kw = op.kernel
    return [("kernel_h", kh), ("kernel_w", kw), ("stride_h", op.stride[0]), ("stride_w", op.stride[1]),
            ("pad_top", op.padding[0]), ("pad_left", op.padding[1])]


def scalar_fields(op: ir.IntOp, graph: ir.Graph) -> list[tuple[str, int]]:
    """Scalar fields of the kernel parameter struct, in struct order (see runtime_c/tq_kernels.h)."""
    xs = [graph.tensor(name) for name in op.inputs]
    x, y = xs[0], graph.tensor(op.output)
    if isinstance(op, ir.Clamp):
        return [("size", x.size), ("lo", op.lo), ("hi", op.hi)]
    if isinstance(op, (ir.Lookup, ir.Reshape)):
        return [("size", x.size)]
    if isinstance(op, ir.Gather):
        return [("positions", x.size // x.shape[-1]), ("in_c", x.shape[-1]), ("out_c", len(op.index))]
    if isinstance(op, ir.ResizeNearest):
        return [("in_h", x.shape[0]), ("in_w", x.shape[1]), ("channels", x.shape[2]),
                ("scale_h", op.scale[0]), ("scale_w", op.scale[1])]
    if isinstance(op, ir.Softmax):
        return [("rows", x.size // x.shape[-1]), ("row_size", x.shape[-1])]
    if isinstance(op, ir.LogSoftmax):
        return [("rows", x.size // x.shape[-1]), ("row_size", x.shape[-1]), ("input_multiplier", op.input_multiplier),
                ("input_shift", op.input_shift), ("reverse_multiplier", op.reverse_multiplier),
                ("reverse_shift", op.reverse_shift), ("diff_min", op.diff_min)]
    if isinstance(op, ir.Add):
        return [("size", y.size), ("left_shift", ir.Add.LEFT_SHIFT),
                ("input1_zero_point", xs[0].qparams.zero_point), ("input2_zero_point", xs[1].qparams.zero_point),
                ("output_zero_point", y.qparams.zero_point), ("multiplier1", op.multiplier1), ("shift1", op.shift1),
                ("multiplier2", op.multiplier2), ("shift2", op.shift2),
                ("output_multiplier", op.output_multiplier), ("output_shift", op.output_shift),
                ("act_min", op.act_min), ("act_max", op.act_max), ("channels", y.shape[-1]),
                ("broadcast", int(xs[1].size != y.size)), ("subtract", 2 if op.reverse else int(op.subtract)),
                ("exact1", layouts.add_exact1(op))]
    if isinstance(op, (ir.Mul, ir.PRelu, ir.MulConst)):
        return _elementwise_fields(op, xs, y)
    if isinstance(op, ir.Concat):
        return [("num_inputs", len(xs)), ("positions", y.size // y.shape[-1]), ("out_c", y.shape[-1]),
                ("output_zero_point", y.qparams.zero_point)]
    if isinstance(op, (ir.MaxPool2d, ir.AvgPool2d)):
        pool = [("in_h", x.shape[0]), ("in_w", x.shape[1]), ("channels", x.shape[2]),
                ("out_h", y.shape[0]), ("out_w", y.shape[1]), *_window_fields(op)]
        if isinstance(op, ir.AvgPool2d):
            pool += [("count_include_pad", int(op.count_include_pad)), ("zero_point", x.qparams.zero_point)]
        return pool
    quant = [("input_zero_point", x.qparams.zero_point), ("output_zero_point", y.qparams.zero_point),
             ("act_min", op.act_min), ("act_max", op.act_max)]
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected)) and op.weight_bits == 8:
        # s4 kernels have no fused stage; taps = products per output (FC: in_features)
        quant.append(("requant_fused", requant_fused(op)))
    if isinstance(op, ir.FullyConnected):
        return [("in_features", x.size), ("out_features", y.size), *quant]
    if isinstance(op, ir.DepthwiseConv2d):
        return [("in_h", x.shape[0]), ("in_w", x.shape[1]), ("in_c", x.shape[2]),
                ("out_h", y.shape[0]), ("out_w", y.shape[1]), ("depth_multiplier", op.depth_multiplier),
                *_window_fields(op), *quant]
    return [("in_h", x.shape[0]), ("in_w", x.shape[1]), ("in_c", x.shape[2]),
            ("out_h", y.shape[0]), ("out_w", y.shape[1]), ("out_c", y.shape[2]), *_window_fields(op), *quant]


def _elementwise_fields(op: ir.Mul | ir.PRelu | ir.MulConst, xs: list[ir.Tensor],
                        y: ir.Tensor) -> list[tuple[str, int]]:
    """Scalar fields of ``tq_mul_s8_params`` (also MulConst's: the constant is the broadcast input 2, zero
    point 0) / ``tq_prelu_s8_params`` (positions x channels, channels last)."""
    shape = [("positions", y.size // y.shape[-1]), ("channels", y.shape[-1])]
    if isinstance(op, ir.MulConst):
        return [*shape, ("broadcast", 1), ("input1_zero_point", xs[0].qparams.zero_point), ("input2_zero_point", 0),
                ("output_zero_point", y.qparams.zero_point), ("multiplier", op.multiplier), ("shift", op.shift),
                ("act_min", op.act_min), ("act_max", op.act_max)]
    if isinstance(op, ir.Mul):
        return [*shape, ("broadcast", int(xs[1].shape != xs[0].shape)),
                ("input1_zero_point", xs[0].qparams.zero_point), ("input2_zero_point", xs[1].qparams.zero_point),
                ("output_zero_point", y.qparams.zero_point), ("multiplier", op.multiplier), ("shift", op.shift),
                ("act_min", op.act_min), ("act_max", op.act_max)]
    return [*shape, ("input_zero_point", xs[0].qparams.zero_point), ("output_zero_point", y.qparams.zero_point),
            ("multiplier_pos", op.multiplier_pos), ("shift_pos", op.shift_pos),
            ("multiplier_neg", op.multiplier_neg), ("shift_neg", op.shift_neg)]


_PLAIN4 = ("weights", "bias", "multiplier", "shift")  # the IR-order arrays an optimized layout replaces


def _guard_plain(ident: str, suffixes: tuple[str, ...], guard: str, fields: list[tuple[str, str]],
                 arrays: list[CArray]) -> tuple[tuple[tuple[str, str], ...], list[tuple[str, str]], list[CArray]]:
    """The struct fields ``(suffix, <ident>_<suffix>)`` of ``suffixes`` taken out of ``fields`` (set in every build)
    and their arrays emitted only under ``guard`` (the builds whose kernels read them): (those fields, the
    remaining fields, the arrays)."""
    plain = tuple((suffix, f"{ident}_{suffix}") for suffix in suffixes)
    return (plain, [f for f in fields if f not in plain],
            [dataclasses.replace(a, guard=guard) if (a.ident.removeprefix(f"{ident}_"), a.ident) in plain else a
             for a in arrays])


@dataclass(frozen=True)
class _Dispatch:
    """What a layer's kernel runs, decided once for its struct's fields (:func:`_layer`) and for the runtime files its
    package ships (:func:`package_runtime_files`).

    ``op``: the op as its kernel runs it (:func:`tinyqat.ir.kernel_op`, then the add table's or the Helium add's
    input order); ``add``: :func:`layouts.add_table`'s ``(op, table)`` or None; ``scalars``: the struct's scalar
    fields; ``speed``: the DSP conv reads a speed layout (``weights_s16``); ``fc_path`` / ``path``: the DSP fully
    connected path, the conv's, add's or depthwise's path (keys of :data:`layouts.DSP_PATH_FILES`), or None."""

    op: ir.IntOp
    add: tuple[ir.Add, np.ndarray] | None
    scalars: list[tuple[str, int]]
    speed: bool
    fc_path: str | None
    path: str | None

    @property
    def speed_blocks(self) -> bool:
        """The DSP conv runs the speed layout through :data:`SPEED_FILE`'s blocks: no path runs the whole call."""
        return self.speed and not layouts.conv_path_runs_call(self.path)

    @property
    def files(self) -> tuple[str, ...]:
        """The runtime files of its own this layer needs besides its op's kernel files."""
        return ((SPEED_FILE,) if self.speed_blocks else ()) + tuple(
            layouts.DSP_PATH_FILES[p] for p in (self.fc_path, self.path) if p is not None)


def _dispatch(index: int, op: ir.IntOp, graph: ir.Graph, kernels: str, optimize: str, scratch: bool) -> _Dispatch:
    """:class:`_Dispatch` of layer ``index`` on a board of ``kernels``; ``scratch``: its DSP scratch is planned."""
    op = ir.kernel_op(op, graph)
    add = layouts.add_table(op, graph, kernels, optimize)
    if add is not None:  # the exact input first (layouts.add_table), the same sums
        op = add[0]
    op = layouts.mve_add(op, graph, kernels) or op  # likewise for the Helium add's fast path
    scalars = scalar_fields(op, graph)
    fields = dict(scalars)
    dsp = kernels == "dsp"
    return _Dispatch(op, add, scalars, optimize == "speed" and dsp and scratch and layouts.has_speed_layout(op),
                     layouts.fc_dsp_path(op, fields) if dsp else None,
                     layouts.conv_dsp_path(op, fields, scratch, optimize) or layouts.add_dsp_path(op, add is not None)
                     or layouts.dw_dsp_path(op, graph, kernels, scratch))


def _dispatches(graph: ir.Graph, plan: Plan, kernels: str, optimize: str) -> list[_Dispatch]:
    """:class:`_Dispatch` of every layer of ``graph`` planned by ``plan``, in order."""
    scratch = {s.first for s in plan.scratch}
    return [_dispatch(i, op, graph, kernels, optimize, i in scratch) for i, op in enumerate(graph.ops)]


def _runtime_files(graph: ir.Graph, dispatches: list[_Dispatch]) -> list[str]:
    """Each op's kernel files (:func:`stats.model_kernel_files`) and the files the layers' ``dispatches`` need,
    sorted."""
    return sorted(set(stats.model_kernel_files(graph)).union(*(d.files for d in dispatches)))


def package_runtime_files(graph: ir.Graph, plan: Plan, board: Board, optimize: str = "size") -> list[str]:
    """Every runtime source the package of ``graph`` planned by ``plan`` for ``board`` and ``optimize`` ships,
    sorted: each op's kernel files (:func:`stats.model_kernel_files`), :data:`SPEED_FILE` with a layer running
    the speed blocks, and the DSP path files its layers name (:class:`_Dispatch`)."""
    return _runtime_files(graph, _dispatches(graph, plan, board.kernels, optimize))


def _layer(index: int, d: _Dispatch, graph: ir.Graph, macro: dict[str, str], optimize: str = "size",
           macro_scratch: dict[int, str] | None = None, kernels: str = "portable") -> Layer:
    """Struct fields: the scalars, then one pointer per constant array (field name = array suffix),
    and ``scratch_macro`` when ``macro_scratch`` names an offset macro for layer ``index`` (set at dispatch).
    On a board with DSP kernels (``kernels="dsp"``) and when the layer has DSP scratch: with
    ``optimize="speed"`` and a speed layout for ``op`` (:func:`layouts.speed_weights`), the int8
    ``weights`` become ``#if !TQ_USE_DSP`` and ``weights_s16`` ``#if TQ_USE_DSP``; otherwise, with an int8
    DSP layout (:func:`layouts.dsp_weights`), ``weights`` is that layout under ``TQ_USE_DSP`` and the IR
    order under ``!TQ_USE_DSP``.  For ``kernels="v6m"`` and an Armv6-M layout for ``op``
    (:func:`layouts.v6m_weights`), ``weights_v6m`` ``#if TQ_USE_V6M`` (the int8 weights then under the
    negation of every guard used).  Fully connected layers on DSP boards: :func:`layouts.fc_dsp_arrays`;
    depthwise layers with DSP scratch: :func:`layouts.dw_records` instead of their four arrays under
    ``TQ_USE_DSP``, and on Helium boards (``kernels="mve"``, depth multiplier 1, 8-bit)
    :func:`layouts.dw_records_mve` instead of them under ``TQ_USE_MVE``.  All of this for ``op`` as its
    kernel runs it (:func:`tinyqat.ir.kernel_op`: a 1x1 conv on a 1x1 map is called as the fully connected
    layer it equals), ``d.op`` of the layer's :class:`_Dispatch` ``d``, whose paths it names."""
    macro_scratch = macro_scratch or {}
    op, add, scalars = d.op, d.add, d.scalars
    ident = f"l{index}_{clit.sanitize(op.name)}"
    consts = const_arrays(op, graph)
    fields = [(f, clit.c_int(v)) for f, v in scalars] + [(a.suffix, f"{ident}_{a.suffix}") for a in consts]
    arrays = [_c_array(a, ident) for a in consts]
    variants: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # Optimized weight layouts (guard, field, array): each replaces the int8 weights where its guard holds;
    # the DSP layouts only where the DSP kernel gets its scratch (else it runs the portable loop on the IR order)
    layouts_used: list[tuple[str, str, CArray]] = []
    dsp_kernel = kernels == "dsp" and index in macro_scratch
    s16 = layouts.speed_weights(op, dict(scalars)) if d.speed else None
    speed_blocks = "&tq_conv2d_s8_speed_x2" if s16 is not None and layouts.speed_doubled(op, dict(scalars)) \
        else "&tq_conv2d_s8_speed"
    if s16 is not None:
        layouts_used.append(("TQ_USE_DSP", "weights_s16",
                             CArray("int16_t", f"{ident}_weights_s16", int(s16.size), clit.c_array_body(s16, 12, 7),
                                    "weights, int16 speed layout of the DSP kernel", "TQ_USE_DSP")))
    v6m = layouts.v6m_weights(op) if kernels == "v6m" else None
    if v6m is not None:
        layouts_used.append(("TQ_USE_V6M", "weights_v6m",
                             CArray("uint8_t", f"{ident}_weights_v6m", int(v6m.size), clit.uint8_array_body(v6m),
                                    "weights + 128, Armv6-M layout (4 channels interleaved)", "TQ_USE_V6M")))
    if layouts_used:
        plain = "!(" + " || ".join(guard for guard, _, _ in layouts_used) + ")"
        if len(layouts_used) == 1:
            plain = f"!{layouts_used[0][0]}"
        fields = [f for f in fields if f[0] != "weights"]
        arrays = [dataclasses.replace(a, guard=plain) if a.ident == f"{ident}_weights" else a for a in arrays]
        arrays += [array for _, _, array in layouts_used]
        # the speed layout's blocks (SPEED_FILE) are named next to the int16 weights
        variants = (*((guard, ((field, array.ident),) + ((("speed_blocks", speed_blocks),)
                                                         if field == "weights_s16" and d.speed_blocks else ()))
                      for guard, field, array in layouts_used),
                    (plain, (("weights", f"{ident}_weights"),)))
    if s16 is not None and (d.path or "").startswith(
            layouts.PWS_PREFIX):  # the pws records hold the biases and the output stage: these only for !TQ_USE_DSP
        plain, fields, arrays = _guard_plain(ident, ("bias", "multiplier", "shift"), "!TQ_USE_DSP", fields, arrays)
        variants = tuple((guard, (*fs, *plain) if guard == "!TQ_USE_DSP" else fs) for guard, fs in variants)
    if v6m is not None and isinstance(op, ir.FullyConnected):  # the Armv6-M FC also reads its folded bias
        bias6 = layouts.fc_bias_dsp(op.weights.reshape(op.weights.shape[0], -1), op.bias,
                                    graph.tensor(op.inputs[0]).qparams.zero_point)
        fields = [f for f in fields if f[0] != "bias"]
        arrays = [dataclasses.replace(a, guard="!TQ_USE_V6M") if a.ident == f"{ident}_bias" else a for a in arrays]
        arrays.append(CArray("int32_t", f"{ident}_bias_v6m", int(bias6.size), clit.int32_array_body(bias6),
                             "bias - input_zero_point * sum of the row's weights (Armv6-M kernel)", "TQ_USE_V6M"))
        variants = tuple((guard, (*fs, ("bias_v6m", f"{ident}_bias_v6m") if guard == "TQ_USE_V6M"
                                   else ("bias", f"{ident}_bias"))) for guard, fs in variants)
    dsp8 = layouts.dsp_weights(op) if s16 is None and dsp_kernel else None
    if dsp8 is not None:  # the DSP kernel's int8 order under TQ_USE_DSP, the IR order otherwise
        weights = f"{ident}_weights"
        arrays = [dataclasses.replace(a, guard="!TQ_USE_DSP") if a.ident == weights else a for a in arrays]
        arrays.append(CArray("int8_t", weights, int(dsp8.size), clit.int8_array_body(dsp8),
                             "weights, int8 layout of the DSP kernel", "TQ_USE_DSP"))
    fc = layouts.fc_dsp_arrays(op, graph.tensor(op.inputs[0]).qparams.zero_point) if kernels == "dsp" else None
    fc_path = d.fc_path
    if fc is not None:  # both modes: the DSP FC kernel reads its layout, folded bias and pairs under TQ_USE_DSP
        plain, fields, arrays = _guard_plain(ident, _PLAIN4, "!TQ_USE_DSP", fields, arrays)
    if fc is not None and fc_path not in (None, layouts.FC_GENERAL_PATH):  # its path's records (fc_path_records)
        rec = layouts.fc_path_records(fc_path, op.weights.reshape(op.weights.shape[0], -1), fc[1], fc[2],
                                      graph.tensor(op.output).qparams.zero_point)
        arrays.append(CArray("int32_t", f"{ident}_records", int(rec.size), clit.int32_array_body(rec),
                             "group records of the DSP FC path (biases, row-pair weights, multiplier and shift)",
                             "TQ_USE_DSP"))
        variants = (("TQ_USE_DSP", (("records", f"{ident}_records"), ("dsp_path", f"&{fc_path}"))),
                    ("!TQ_USE_DSP", plain))
    elif fc is not None:  # the general path reads the three arrays
        arrays += [CArray("int8_t", f"{ident}_weights_dsp", int(fc[0].size), clit.int8_array_body(fc[0]),
                          "weights, row-pair layout of the DSP kernel", "TQ_USE_DSP"),
                   CArray("int32_t", f"{ident}_bias_dsp", int(fc[1].size), clit.int32_array_body(fc[1]),
                          "bias - input_zero_point * sum of the row's weights (DSP kernel)", "TQ_USE_DSP"),
                   CArray("int32_t", f"{ident}_requant_dsp", int(fc[2].size), clit.int32_array_body(fc[2]),
                          "(multiplier, -shift - 1) per channel (DSP kernel)", "TQ_USE_DSP")]
        variants = (("TQ_USE_DSP", (("weights_dsp", f"{ident}_weights_dsp"), ("bias_dsp", f"{ident}_bias_dsp"),
                                    ("requant_dsp", f"{ident}_requant_dsp"), ("dsp_path", f"&{fc_path}"))),
                    ("!TQ_USE_DSP", plain))
    if dsp_kernel and isinstance(op, ir.DepthwiseConv2d) and op.weight_bits == 8:
        # the DSP row path (its scratch planned) reads its build-time channel records under TQ_USE_DSP
        rec = layouts.dw_records(op, graph.tensor(op.output).qparams.zero_point, graph.tensor(op.output).shape[1])
        plain, fields, arrays = _guard_plain(ident, _PLAIN4, "!TQ_USE_DSP", fields, arrays)
        arrays.append(CArray("int32_t", f"{ident}_records", int(rec.size), clit.int32_array_body(rec),
                             "channel records of the DSP row path (paired doubled weights, 2 bias, q, K, e)",
                             "TQ_USE_DSP"))
        variants = (("TQ_USE_DSP", (("records", f"{ident}_records"),)), ("!TQ_USE_DSP", plain))
    zps = (graph.tensor(op.inputs[0]).qparams.zero_point, graph.tensor(op.output).qparams.zero_point)
    mve_rec = layouts.mve_dw_records(op, *zps, dict(scalars).get("requant_fused", 0)) if kernels == "mve" else None
    if mve_rec is not None:  # both modes: the Helium depthwise reads its channel-group records under TQ_USE_MVE
        plain, fields, arrays = _guard_plain(ident, _PLAIN4, "!TQ_USE_MVE", fields, arrays)
        arrays.append(CArray("int32_t", f"{ident}_records", int(mve_rec.size), clit.int32_array_body(mve_rec),
                             "channel groups of the Helium depthwise (folded bias, weights, q, shift, zero points)",
                             "TQ_USE_MVE"))
        variants = (("TQ_USE_MVE", (("records", f"{ident}_records"),)), ("!TQ_USE_MVE", plain))
    if add is not None:  # both modes on DSP / Armv6-M boards: the rescale table of input 2
        guard = "TQ_USE_DSP || TQ_USE_V6M"
        arrays.append(CArray("int32_t", f"{ident}_table", int(add[1].size), clit.int32_array_body(add[1]),
                             "2 * mbqm((x - zp2) * 2^20, q2, shift2) - zp1 * 2^20, by (uint8_t)x", guard))
        variants = ((guard, (("table", f"{ident}_table"),)),)
    path = d.path
    if path is not None:  # the DSP conv's, add's or depthwise's path in a file of its own (layouts.DSP_PATH_FILES)
        variants = (*variants, ("TQ_USE_DSP", (("dsp_path", f"&{path}"),)))
    table = f"{ident}_inputs" if isinstance(op, VARIADIC_OPS) else ""
    return Layer(index, clit.c_comment(op.name), ident, stats.op_kind(op), tuple(macro[t] for t in op.inputs),
                 table, macro[op.output], clit.c_int(graph.tensor(op.output).size), tuple(fields),
                 tuple(arrays), variants, macro_scratch.get(index, ""))


def _layer_json(index: int, op: ir.IntOp, graph: ir.Graph, plan: Plan) -> dict[str, object]:
    """Manifest entry of one layer: I/O, placement, counts, and the op's integer parameters
    (multipliers / shifts, clamps, windows, table sizes in entries)."""
    scratch = plan.scratch_at(index)
    entry: dict[str, object] = {
        "index": index, "name": op.name, "op": stats.op_kind(op), "kernel_op": stats.op_kind(ir.kernel_op(op, graph)),
        "inputs": list(op.inputs), "output": op.output,
        "output_offset": plan.offset(op.output), "output_size": graph.tensor(op.output).size,
        "scratch_offset": None if scratch is None else scratch.offset,
        "scratch_bytes": 0 if scratch is None else scratch.size,
        "in_place": _in_place_text(op, plan),
        "macs": stats.macs(op, graph), "params": stats.params(op),
        "weights_bytes": stats.layer_weights_bytes(op, graph),
    }
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected)):
        entry["weight_bits"] = op.weight_bits
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected, ir.Concat)):
        entry.update(multiplier=op.multiplier.tolist(), shift=op.shift.tolist())
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.FullyConnected, ir.Add)):
        entry.update(act_min=op.act_min, act_max=op.act_max)
    if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d, ir.MaxPool2d, ir.AvgPool2d)):
        entry.update(kernel=list(op.kernel), stride=list(op.stride), padding=list(op.padding))
    if isinstance(op, ir.DepthwiseConv2d):
        entry["depth_multiplier"] = op.depth_multiplier
    if isinstance(op, (ir.MaxPool2d, ir.AvgPool2d)):
        entry["ceil_mode"] = op.ceil_mode
    if isinstance(op, ir.AvgPool2d):
        entry["count_include_pad"] = op.count_include_pad
    if isinstance(op, ir.Clamp):
        entry.update(lo=op.lo, hi=op.hi)
    if isinstance(op, ir.Add):
        entry.update(multiplier=[op.multiplier1, op.multiplier2], shift=[op.shift1, op.shift2],
                     output_multiplier=op.output_multiplier, output_shift=op.output_shift,
                     left_shift=ir.Add.LEFT_SHIFT, subtract=op.subtract, reverse=op.reverse)
    if isinstance(op, ir.Lookup):
        entry.update(function=op.function, table_size=int(op.table.size))
    if isinstance(op, ir.Softmax):
        entry["table_size"] = int(op.exp_table.size)
    if isinstance(op, ir.LogSoftmax):
        entry.update(table_size=int(op.exp_table.size), input_multiplier=op.input_multiplier,
                     input_shift=op.input_shift, reverse_multiplier=op.reverse_multiplier,
                     reverse_shift=op.reverse_shift, diff_min=op.diff_min)
    if isinstance(op, (ir.Mul, ir.MulConst)):
        entry.update(multiplier=op.multiplier, shift=op.shift, act_min=op.act_min, act_max=op.act_max)
    if isinstance(op, ir.MulConst):
        entry["constant_scale"] = op.constant_scale
    if isinstance(op, ir.PRelu):
        entry.update(multiplier=[op.multiplier_pos, op.multiplier_neg], shift=[op.shift_pos, op.shift_neg])
    if isinstance(op, ir.Gather):
        entry["index"] = list(op.index)
    if isinstance(op, ir.ResizeNearest):
        entry["scale"] = list(op.scale)
    return entry


def _manifest(graph: ir.Graph, plan: Plan, board: Board, name: str, source_artifact: bytes,
              generator: str, memory: stats.MemorySummary) -> dict[str, object]:
    x, y = graph.tensor(graph.input), graph.tensor(graph.output)
    planned = [a.tensor for a in live_ranges(graph)]
    return {
        "generator": generator, "name": name, "board": board.name,
        "source_sha256": hashlib.sha256(source_artifact).hexdigest(),
        "input_scale": x.qparams.scale, "input_zero_point": x.qparams.zero_point,
        "output_scale": y.qparams.scale, "output_zero_point": y.qparams.zero_point,
        "input_shape": list(x.shape), "output_shape": list(y.shape), "outputs": list(graph.outputs),
        "arena_bytes": plan.arena_size, "weights_bytes": stats.weights_bytes(graph),
        "int4_saved_bytes": stats.int4_saved_bytes(graph),
        "code_bytes_estimate": memory.code_bytes, "peak_layer": plan.peak_step,
        "tensors": [{"name": t, "shape": list(graph.tensor(t).shape), "scale": graph.tensor(t).qparams.scale,
                     "zero_point": graph.tensor(t).qparams.zero_point, "offset": plan.offset(t),
                     "size": graph.tensor(t).size} for t in planned],
        "layers": [_layer_json(i, op, graph, plan) for i, op in enumerate(graph.ops)],
    }


def _io_macros(prefix: str, t: ir.Tensor) -> list[tuple[str, str]]:
    h, w, c = t.shape if len(t.shape) == 3 else (1, 1, t.shape[0])
    return [(f"{prefix}_SIZE", clit.c_int(t.size)), (f"{prefix}_DIMS", clit.c_int(len(t.shape))),
            (f"{prefix}_H", clit.c_int(h)), (f"{prefix}_W", clit.c_int(w)), (f"{prefix}_C", clit.c_int(c)),
            (f"{prefix}_SCALE", clit.c_float(t.qparams.scale)),
            (f"{prefix}_ZERO_POINT", clit.c_macro_int(t.qparams.zero_point))]


def _in_place_text(op: ir.IntOp, plan: Plan) -> str:
    """``"over <input>, d = <out_off - in_off>"`` when ``op``'s output overlaps one of its inputs, else ``""``."""
    y = plan.allocation(op.output)
    for name in dict.fromkeys(op.inputs):
        x = plan.allocation(name)
        if x.overlaps(y):
            return f"over {name}, d = {y.offset - x.offset}"
    return ""


def _op_text(op: ir.IntOp, graph: ir.Graph) -> str:
    """``op``'s kind, and the kernel that runs it when that is another (``"conv2d (fully_connected kernel)"``)."""
    kind, kernel = stats.op_kind(op), stats.op_kind(ir.kernel_op(op, graph))
    return kind if kernel == kind else f"{kind} ({kernel} kernel)"


def _scratch_text(plan: Plan, step: int) -> str:
    """``"<bytes> @ <offset>"`` for a layer with a scratch buffer, else ``""``."""
    s = plan.scratch_at(step)
    return "" if s is None else f"{s.size} @ {s.offset}"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def _md(text: str) -> str:
    """``text`` safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def _misread_by(graph: ir.Graph, plan: Plan) -> str:
    """The ``tq_kernels.h`` macro of the cores that must not compile this package, or "": ``TQ_USE_V6M`` when
    a layer's planned scratch is smaller than what the Armv6-M kernels take from a buffer they are handed
    (:func:`tinyqat.memory.planner.scratch_bytes` with ``"v6m"``; in practice a DSP plan's depthwise buffer
    below the channel plane), since that kernel sizes the buffer itself and would run past it."""
    short = any(0 < s.size < scratch_bytes(graph.ops[s.first], graph, "v6m") for s in plan.scratch)
    return "TQ_USE_V6M" if short else ""


def emit_package(graph: ir.Graph, plan: Plan, board: Board, name: str, out_dir: Path, source_artifact: bytes,
                 generator: str, optimize: str = "size", memory: stats.MemorySummary | None = None) -> None:
    """Write the C package of integer ``graph`` laid out by ``plan`` into the empty directory ``out_dir``.

    ``memory`` is the RAM / flash budget for ``report.md`` and ``model.json`` (``tinyqat build`` passes
    the one it checked: measured code, the chosen API); default :func:`stats.memory_summary`.

    Raises :class:`tinyqat.codegen.clit.IdentifierError` for a ``name`` that is not a C
    identifier, :class:`tinyqat.ir.IRError` for a graph that is not an integer graph with at
    least one op, ``ValueError`` for an invalid plan or a non-empty ``out_dir``.
    """
    clit.check_identifier(name)
    layouts.check_optimize(optimize)
    ir.validate(graph)
    if not graph.ops or not graph.is_integer:
        raise ir.IRError("code generation needs a lowered integer graph with at least one op")
    check_plan(graph, plan)
    if board.kernels != "portable" and plan.kernels not in (board.kernels, "portable"):  # portable kernels: no scratch
        raise ValueError(f"the plan reserves scratch for {plan.kernels} kernels, board {board.name} runs "
                         f"{board.kernels} kernels: plan with GreedyPlanner(kernels={board.kernels!r})")
    if any(out_dir.iterdir()):
        raise ValueError(f"output directory {out_dir} is not empty")

    planned = [a.tensor for a in live_ranges(graph)]
    macro = {t: f"OFFSET_T{k}" for k, t in enumerate(planned)}
    offsets = [(macro[t], plan.offset(t), clit.c_comment(f"{t}: {_shape_text(graph.tensor(t).shape)}, "
                                                          f"{graph.tensor(t).size} bytes")) for t in planned]
    macro_scratch = {s.first: f"OFFSET_S{s.first}" for s in plan.scratch}
    offsets += [(macro_scratch[s.first], s.offset, clit.c_comment(f"scratch of layer {s.first} "
                                                                  f"({graph.ops[s.first].name}), {s.size} bytes"))
                for s in plan.scratch]
    dispatches = _dispatches(graph, plan, board.kernels, optimize)
    layers = [_layer(i, d, graph, macro, optimize, macro_scratch, board.kernels) for i, d in enumerate(dispatches)]
    kernels = _runtime_files(graph, dispatches)
    upper = name.upper()
    runtime = resource_dir("runtime_c")
    common = {"name": name, "NAME": upper, "generator": clit.c_comment(generator), "board": board.name,
              "runtime_version": RUNTIME_VERSION, "runtime_id": runtime_id(runtime),
              "arena_alignment": ARENA_ALIGNMENT,
              "kernel_family": KERNEL_NAMES[board.kernels],
              "misread_by": _misread_by(graph, plan)}
    outputs = [graph.tensor(t) for t in graph.outputs]
    output_macros = (_io_macros(f"{upper}_OUTPUT", outputs[0]) if len(outputs) == 1 else
                     [m for i, t in enumerate(outputs) for m in _io_macros(f"{upper}_OUTPUT{i}", t)])
    output_list = [{"index": i, "macro": macro[t.name], "comment": clit.c_comment(
        f"output {i}: {t.name}, shape {_shape_text(t.shape)}, {t.size} bytes")} for i, t in enumerate(outputs)]
    macros = [*_io_macros(f"{upper}_INPUT", graph.tensor(graph.input)), *output_macros,
              (f"{upper}_NUM_OUTPUTS", clit.c_int(len(outputs))),
              (f"{upper}_NUM_LAYERS", clit.c_int(len(graph.ops))), (f"{upper}_ARENA_SIZE", clit.c_int(plan.arena_size)),
              (f"{upper}_ARENA_BYTES", f"{upper}_ARENA_SIZE")]  # the same number, by the name TFLM users look for
    report_rows = [{"index": i, "name": _md(op.name), "op": _op_text(op, graph),
                    "inputs": ", ".join(_md(t) for t in op.inputs),
                    "shape": _shape_text(graph.tensor(op.output).shape), "macs": stats.macs(op, graph),
                    "params": stats.params(op), "flash": stats.layer_flash_bytes(op, graph, board, optimize),
                    "bytes": graph.tensor(op.output).size, "offset": plan.offset(op.output),
                    "in_place": _md(_in_place_text(op, plan)), "scratch": _scratch_text(plan, i)}
                   for i, op in enumerate(graph.ops)]
    totals = {"macs": stats.total_macs(graph), "params": sum(stats.params(op) for op in graph.ops),
              "int4_saved": stats.int4_saved_bytes(graph)}
    memory = memory or stats.memory_summary(graph, plan, board, kernels, optimize)
    flags = {"strict_cflags": STRICT_CFLAGS, "board_cflags": board.cflags}

    files = {
        f"{name}.h": render("model.h.j2", **common, macros=macros, outputs=output_list),
        f"{name}.c": render("model.c.j2", **common, layers=layers, offsets=offsets,
                            input_macro=macro[graph.input], outputs=output_list),
        f"{name}_weights.h": render("model_weights.h.j2", **common, layers=layers),
        f"{name}.mk": render("model.mk.j2", **common, kernels=kernels, **flags),
        "CMakeLists.txt": render("CMakeLists.txt.j2", **common, kernels=kernels, **flags),
        "report.md": render("report.md.j2", **common, rows=report_rows, totals=totals, memory=memory,
                            peak_tensors=[(_md(t), offset, size) for t, offset, size in memory.peak_tensors]),
        "model.json": json.dumps(_manifest(graph, plan, board, name, source_artifact, generator, memory),
                                 indent=2, sort_keys=True) + "\n",
    }
    clit.check_prefix_collisions(name, files)
    for fname, text in files.items():
        (out_dir / fname).write_bytes(text.encode("utf-8"))
    (out_dir / "model.pt").write_bytes(source_artifact)
    for fname in (*RUNTIME_HEADERS, *kernels):
        if fname == "tq_kernels.h":
            (out_dir / fname).write_bytes(package_kernels_h(runtime).encode("utf-8"))
        else:
            shutil.copyfile(runtime / fname, out_dir / fname)
