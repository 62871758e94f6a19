"""tinyqat's integer graph as a TFLite model with the same integers.

Every IR op becomes TFLite builtin ops whose prepared parameters (multipliers, shifts, clamps,
window taps) equal the op's, checked while exporting; an op without such a form is refused
with :class:`~tinyqat.errors.ExportError` naming the layer.  Tensors are int8 NHWC with a batch
dimension of 1 (``(H, W, C)`` -> ``[1, H, W, C]``, ``(F,)`` -> ``[1, F]``) and keep the graph's
scales and zero points.

======================  ===========================================================================
IR op                   TFLite ops
======================  ===========================================================================
Conv2d                  [PAD] CONV_2D: int8 weights OHWI per channel (``quantized_dimension`` 0)
DepthwiseConv2d         [PAD] DEPTHWISE_CONV_2D: weights ``[1, kh, kw, C]`` (``quantized_dimension`` 3)
FullyConnected          FULLY_CONNECTED: per channel (dimension 0); one output -> per tensor
MaxPool2d               [PADV2 with -128] MAX_POOL_2D
AvgPool2d               [PAD with the zero point] AVERAGE_POOL_2D (``count_include_pad`` where the
                        padded taps can be counted this way; refused otherwise)
Add                     ADD, or SUB for a subtraction (a ``(1, 1, C)`` second operand broadcast)
Concat                  QUANTIZE of each input whose quantization differs, CONCATENATION
Clamp                   MAXIMUM and / or MINIMUM with an int8 constant
Lookup                  CAST to int32, ADD 128 (int32), GATHER from the 256-entry int8 table (TFLite's
                        LOGISTIC / TANH / HARD_SWISH compute other integers than tinyqat's exact table)
Softmax                 refused: TFLite's SOFTMAX computes another integer softmax
LogSoftmax              LOG_SOFTMAX (TFLite derives the same constants from the input scale)
Reshape                 RESHAPE (the new shape as an int32 input)
Gather                  GATHER of the channel indices along the last axis
ResizeNearest           RESIZE_NEAREST_NEIGHBOR (``align_corners = half_pixel_centers = false``)
Mul                     MUL (a ``(1, 1, C)`` gate broadcast), fused ReLU or MAXIMUM / MINIMUM
PRelu                   PRELU, int8 alphas with the float32 scale that gives the graph's multiplier
MulConst                MUL with a constant int8 ``[C]`` operand (its scale, zero point 0), broadcast
======================  ===========================================================================

Biases are int32 with scale ``s_in * s_w[c]`` (float32) and zero point 0.  The weight scales are
the float32 values for which TFLite derives the graph's multipliers (:mod:`tinyqat.export.scales`).
A clamp equal to TFLite's RELU / RELU6 / RELU_N1_TO_1 range on the output's quantization is
fused (``fused_activation_function``); any other clamp follows as MAXIMUM / MINIMUM.  Padding is
SAME / VALID where that reads exactly tinyqat's taps, else an explicit PAD op
(:mod:`tinyqat.export.windows`).  4-bit layers are written as int8 weights (their values lie in
[-7, 7]); the integers are unchanged.

Reference interpreter: TFLite Micro, for every op: its kernels are integer throughout, as tinyqat's
(and CMSIS-NN's).  LiteRT's reference kernels agree on every op except FULLY_CONNECTED, which LiteRT
requantizes in floating point, so a rounding tie can land 1 LSB away there
(``tests/test_export_tflite.py`` checks both, each against the simulator).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinyqat import ir, quant
from tinyqat.errors import ExportError
from tinyqat.export import schema, windows
from tinyqat.export.scales import weight_scale
from tinyqat.fixedpoint import quantize_multiplier
from tinyqat.passes.quantize import accumulator_bound, activation_range
from tinyqat.version import __version__

FUSED_ACTIVATIONS: tuple[tuple[int, ir.Activation], ...] = (
    (schema.ACT_NONE, ir.NO_ACTIVATION),
    (schema.ACT_RELU, (0.0, None)),
    (schema.ACT_RELU6, (0.0, 6.0)),
    (schema.ACT_RELU_N1_TO_1, (-1.0, 1.0)),
)

# Operator versions as TFLite's converter writes them for int8 operators.
VERSIONS = {
    schema.CONV_2D: 3, schema.DEPTHWISE_CONV_2D: 3, schema.FULLY_CONNECTED: 4, schema.MAX_POOL_2D: 2,
    schema.AVERAGE_POOL_2D: 2, schema.ADD: 2, schema.CONCATENATION: 2, schema.QUANTIZE: 2, schema.PAD: 2,
    schema.PADV2: 2, schema.MAXIMUM: 2, schema.MINIMUM: 2, schema.CAST: 1, schema.GATHER: 2,
    schema.RESHAPE: 1, schema.RESIZE_NEAREST_NEIGHBOR: 2, schema.MUL: 2, schema.PRELU: 1, schema.LOG_SOFTMAX: 2,
    schema.SUB: 2,
}


def _where(op: ir.IntOp) -> str:
    return f"layer '{op.name}' ({type(op).__name__})"


class _Writer:
    """Collects tensors and operators in order."""

    def __init__(self) -> None:
        self.tensors: list[schema.Tensor] = []
        self.operators: list[schema.Operator] = []
        self.index: dict[str, int] = {}

    def add(self, tensor: schema.Tensor) -> int:
        if tensor.name in self.index:
            raise ExportError(f"tensor name {tensor.name!r} is used twice; rename the layer")
        self.index[tensor.name] = len(self.tensors)
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def activation(self, name: str, shape: tuple[int, ...], q: ir.QParams) -> int:
        return self.add(schema.Tensor(name, (1, *shape), schema.INT8, schema.Quantization((q.scale,), (q.zero_point,))))

    def constant(self, name: str, values: np.ndarray, dtype: int, quant: schema.Quantization | None) -> int:
        array = np.ascontiguousarray(values, dtype={schema.INT8: "<i1", schema.INT32: "<i4"}[dtype])
        return self.add(schema.Tensor(name, tuple(int(d) for d in array.shape), dtype, quant, array.tobytes()))

    def op(self, builtin: int, inputs: list[int], outputs: list[int], options: schema.Options) -> None:
        self.operators.append(schema.Operator(builtin, VERSIONS[builtin], tuple(inputs), tuple(outputs), options))


def _fused(act_min: int, act_max: int, q: ir.QParams) -> tuple[int, tuple[int, int] | None]:
    """TFLite fused activation for the clamp ``[act_min, act_max]``, and the clamp still to apply."""
    for code, interval in FUSED_ACTIVATIONS:
        if activation_range(interval, q) == (act_min, act_max):
            return code, None
    return schema.ACT_NONE, (act_min, act_max)


def _clamp(w: _Writer, name: str, src: int, dst: int, lo: int, hi: int, q: ir.QParams) -> None:
    """``dst = min(max(src, lo), hi)`` as MAXIMUM / MINIMUM with int8 constants (at least one op)."""
    quant = schema.Quantization((q.scale,), (q.zero_point,))
    steps = [(schema.MAXIMUM, lo)] if lo > ir.INT8_MIN or hi == ir.INT8_MAX else []
    steps += [(schema.MINIMUM, hi)] if hi < ir.INT8_MAX else []
    shape = w.tensors[dst].shape
    for k, (builtin, bound) in enumerate(steps):
        const = w.constant(f"{name}/{'max' if builtin == schema.MAXIMUM else 'min'}", np.array([bound]), schema.INT8,
                           quant)
        out = dst if k == len(steps) - 1 else w.add(schema.Tensor(f"{name}/lo", shape, schema.INT8, quant))
        w.op(builtin, [src, const], [out], schema.Options(schema.MAXIMUM_MINIMUM_OPTIONS))
        src = out


def _output(w: _Writer, op: ir.IntOp, y: ir.Tensor, act_min: int, act_max: int) -> tuple[int, int, Callable[[], None]]:
    """``(fused activation, tensor the TFLite op writes, finisher)``: a clamp TFLite cannot fuse goes
    to an intermediate tensor and the finisher appends MAXIMUM / MINIMUM into ``y``."""
    code, rest = _fused(act_min, act_max, y.qparams)
    if rest is None:
        return code, w.index[y.name], lambda: None
    raw = w.activation(f"{op.name}/unclamped", y.shape, y.qparams)
    return code, raw, lambda: _clamp(w, op.name, raw, w.index[y.name], *rest, y.qparams)


def _weight_scales(op: ir.Conv2d | ir.DepthwiseConv2d | ir.FullyConnected, x: ir.Tensor, y: ir.Tensor,
                   per_tensor: bool) -> list[float]:
    scales = []
    for c, pair in enumerate(zip(op.multiplier.tolist(), op.shift.tolist())):
        s_w = weight_scale(x.qparams.scale, y.qparams.scale, pair, per_tensor_product=per_tensor)
        if s_w is None:
            raise ExportError(f"{_where(op)}: channel {c}'s requantization multiplier {pair} comes from no float32 "
                              "weight scale, so TFLite cannot reproduce it; export a model lowered by tinyqat")
        scales.append(s_w)
    return scales


def _check_left_shift(op: ir.Conv2d | ir.DepthwiseConv2d | ir.FullyConnected, zp_in: int) -> None:
    """TFLite leaves ``acc * 2**shift`` undefined when it leaves int32 (tinyqat saturates): refuse a layer
    whose worst-case accumulator (:func:`tinyqat.passes.quantize.accumulator_bound`) could."""
    weights = np.moveaxis(op.weights, -1, 0) if isinstance(op, ir.DepthwiseConv2d) else op.weights
    bound = accumulator_bound(weights, op.bias, zp_in)
    if np.any((bound << np.maximum(op.shift.astype(np.int64), 0)) > 2**31 - 1):
        raise ExportError(f"{_where(op)}: a left shift of the requantization could overflow int32, which TFLite "
                          "leaves undefined (tinyqat saturates); retrain with a larger output scale")


def _pad(w: _Writer, op: ir.IntOp, src: int, x: ir.Tensor, geometry: windows.Geometry, fill: int | None) -> int:
    """PAD (``fill`` None: the zero point) or PADV2 (constant ``fill``) of ``x`` by ``geometry.pads``."""
    (pt, pb), (pl, pr) = geometry.pads
    h, wd, c = x.shape
    out = w.activation(f"{op.name}/padded", (h + pt + pb, wd + pl + pr, c), x.qparams)
    paddings = w.constant(f"{op.name}/paddings", np.array([[0, 0], [pt, pb], [pl, pr], [0, 0]]), schema.INT32, None)
    if fill is None:
        w.op(schema.PAD, [src, paddings], [out], schema.Options(schema.PAD_OPTIONS))
    else:
        value = w.constant(f"{op.name}/pad_value", np.array([fill]), schema.INT8,
                           schema.Quantization((x.qparams.scale,), (x.qparams.zero_point,)))
        w.op(schema.PADV2, [src, paddings, value], [out], schema.Options(schema.PADV2_OPTIONS))
    return out


def _geometry(op: ir.Conv2d | ir.DepthwiseConv2d | ir.MaxPool2d | ir.AvgPool2d, x: ir.Tensor, y: ir.Tensor,
              kind: str) -> windows.Geometry:
    geometry = windows.match(windows.axes_of(op, x, y), kind)
    if geometry is None:
        raise ExportError(f"{_where(op)}: padding {op.padding} with stride {op.stride} has no TFLite form with the "
                          "same taps (SAME, VALID or PAD)")
    return geometry


def _conv(w: _Writer, op: ir.Conv2d | ir.DepthwiseConv2d, x: ir.Tensor, y: ir.Tensor) -> None:
    geometry = _geometry(op, x, y, "conv")
    _check_left_shift(op, x.qparams.zero_point)
    s_w = _weight_scales(op, x, y, per_tensor=False)
    src = _pad(w, op, w.index[x.name], x, geometry, None) if geometry.needs_pad else w.index[x.name]
    depthwise = isinstance(op, ir.DepthwiseConv2d)
    weights = op.weights[None] if depthwise else op.weights
    wq = schema.Quantization(tuple(s_w), (0,) * len(s_w), 3 if depthwise else 0)
    weight = w.constant(f"{op.name}/weights", weights, schema.INT8, wq)
    bias = w.constant(f"{op.name}/bias", op.bias, schema.INT32, _bias_quant(x, s_w))
    act, out, finish = _output(w, op, y, op.act_min, op.act_max)
    common = ((0, "b", geometry.mode), (1, "i", op.stride[1]), (2, "i", op.stride[0]))
    if depthwise:
        options = schema.Options(schema.DEPTHWISE_CONV_2D_OPTIONS,
                                 (*common, (3, "i", op.depth_multiplier), (4, "b", act), (5, "i", 1), (6, "i", 1)))
        w.op(schema.DEPTHWISE_CONV_2D, [src, weight, bias], [out], options)
    else:
        options = schema.Options(schema.CONV_2D_OPTIONS, (*common, (3, "b", act), (4, "i", 1), (5, "i", 1)))
        w.op(schema.CONV_2D, [src, weight, bias], [out], options)
    finish()


def _bias_quant(x: ir.Tensor, s_w: list[float]) -> schema.Quantization:
    """Bias scale ``(float)(s_in * s_w[c])``, zero point 0 (TFLite checks it against the product)."""
    scales = tuple(float(np.float32(x.qparams.scale) * np.float32(s)) for s in s_w)
    return schema.Quantization(scales, (0,) * len(scales))


def _fully_connected(w: _Writer, op: ir.FullyConnected, x: ir.Tensor, y: ir.Tensor) -> None:
    _check_left_shift(op, x.qparams.zero_point)
    per_tensor = op.bias.size == 1
    s_w = _weight_scales(op, x, y, per_tensor=per_tensor)
    weight = w.constant(f"{op.name}/weights", op.weights, schema.INT8,
                        schema.Quantization(tuple(s_w), (0,) * len(s_w), 0))
    bias = w.constant(f"{op.name}/bias", op.bias, schema.INT32, _bias_quant(x, s_w))
    act, out, finish = _output(w, op, y, op.act_min, op.act_max)
    options = schema.Options(schema.FULLY_CONNECTED_OPTIONS, ((0, "b", act), (1, "b", 0), (2, "?", 0), (3, "?", 0)))
    w.op(schema.FULLY_CONNECTED, [w.index[x.name], weight, bias], [out], options)
    finish()


def _pool(w: _Writer, op: ir.MaxPool2d | ir.AvgPool2d, x: ir.Tensor, y: ir.Tensor) -> None:
    is_max = isinstance(op, ir.MaxPool2d)
    geometry = _geometry(op, x, y, "max" if is_max else "avg")
    src = w.index[x.name]
    if geometry.needs_pad:
        src = _pad(w, op, src, x, geometry, ir.INT8_MIN if is_max else None)
    options = schema.Options(schema.POOL_2D_OPTIONS, ((0, "b", geometry.mode), (1, "i", op.stride[1]),
                                                      (2, "i", op.stride[0]), (3, "i", op.kernel[1]),
                                                      (4, "i", op.kernel[0]), (5, "b", schema.ACT_NONE)))
    w.op(schema.MAX_POOL_2D if is_max else schema.AVERAGE_POOL_2D, [src], [w.index[y.name]], options)


def _add(w: _Writer, op: ir.Add, a: ir.Tensor, b: ir.Tensor, y: ir.Tensor) -> None:
    """TFLite ADD (SUB for a subtraction) derives ``QM(s1/t)``, ``QM(s2/t)``, ``QM(t / (2**20 s_out))`` with
    ``t = 2 max(s1, s2)`` in double precision; the graph's pairs must be those.  A ``(1, 1, C)`` second operand
    broadcasts as TFLite's ADD / SUB broadcast; a reversed subtraction (``g - x``) is SUB(g, x), TFLite's first
    operand broadcast."""
    pairs = ((op.multiplier1, op.shift1), (op.multiplier2, op.shift2), (op.output_multiplier, op.output_shift))
    if op.reverse:
        a, b, pairs = b, a, (pairs[1], pairs[0], pairs[2])
    s1, s2, s_out = float(a.qparams.scale), float(b.qparams.scale), float(y.qparams.scale)
    t = 2.0 * max(s1, s2)
    derived = (quantize_multiplier(s1 / t), quantize_multiplier(s2 / t),
               quantize_multiplier(t / (float(1 << ir.Add.LEFT_SHIFT) * s_out)))
    if derived != pairs:
        raise ExportError(f"{_where(op)}: multipliers {pairs} differ from TFLite's {derived} for these scales")
    act, out, finish = _output(w, op, y, op.act_min, op.act_max)
    code, options = (schema.SUB, schema.SUB_OPTIONS) if op.subtract else (schema.ADD, schema.ADD_OPTIONS)
    w.op(code, [w.index[a.name], w.index[b.name]], [out], schema.Options(options, ((0, "b", act),)))
    finish()


def _concat(w: _Writer, op: ir.Concat, xs: list[ir.Tensor], y: ir.Tensor) -> None:
    """QUANTIZE (TFLite int8 requantize: ``QM((double)s_i / (double)s_out)``) of each input whose quantization
    differs from the output's, then CONCATENATION along channels of same-quantization tensors."""
    sources = []
    for i, (x, pair) in enumerate(zip(xs, zip(op.multiplier.tolist(), op.shift.tolist()))):
        derived = quantize_multiplier(float(x.qparams.scale) / float(y.qparams.scale))
        if derived != pair:
            raise ExportError(f"{_where(op)}: input {i}'s multiplier {pair} differs from TFLite's {derived}")
        if x.qparams == y.qparams:
            sources.append(w.index[x.name])
            continue
        requantized = w.activation(f"{op.name}/input{i}", x.shape, y.qparams)
        w.op(schema.QUANTIZE, [w.index[x.name]], [requantized], schema.Options(schema.QUANTIZE_OPTIONS))
        sources.append(requantized)
    options = schema.Options(schema.CONCATENATION_OPTIONS, ((0, "i", len(y.shape)), (1, "b", schema.ACT_NONE)))
    w.op(schema.CONCATENATION, sources, [w.index[y.name]], options)


def _lookup(w: _Writer, op: ir.Lookup, x: ir.Tensor, y: ir.Tensor) -> None:
    """``y = table[x + 128]``: CAST int8 -> int32 (the same integer), ADD 128, GATHER along the table's axis."""
    shape = w.tensors[w.index[x.name]].shape
    wide = w.add(schema.Tensor(f"{op.name}/int32", shape, schema.INT32, None))
    w.op(schema.CAST, [w.index[x.name]], [wide], schema.Options(schema.CAST_OPTIONS, ((0, "b", schema.INT8),
                                                                                     (1, "b", schema.INT32))))
    offset = w.constant(f"{op.name}/offset", np.array([-ir.INT8_MIN]), schema.INT32, None)
    index = w.add(schema.Tensor(f"{op.name}/index", shape, schema.INT32, None))
    w.op(schema.ADD, [wide, offset], [index], schema.Options(schema.ADD_OPTIONS, ((0, "b", schema.ACT_NONE),)))
    table = w.constant(f"{op.name}/table", op.table, schema.INT8,
                       schema.Quantization((y.qparams.scale,), (y.qparams.zero_point,)))
    w.op(schema.GATHER, [table, index], [w.index[y.name]], schema.Options(schema.GATHER_OPTIONS,
                                                                           ((0, "i", 0), (1, "i", 0))))


def _move(w: _Writer, op: ir.Reshape | ir.Gather | ir.ResizeNearest, x: ir.Tensor, y: ir.Tensor) -> None:
    """Data movement, no requantization: RESHAPE to ``(1, *y.shape)`` (the shape as an int32 input);
    GATHER of ``index`` along the channel axis; RESIZE_NEAREST_NEIGHBOR to ``(H * sh, W * sw)`` with
    ``align_corners = half_pixel_centers = false``, whose source row ``floor(oy * H / (H * sh))`` is ``oy // sh``."""
    src, dst = w.index[x.name], w.index[y.name]
    if isinstance(op, ir.Reshape):
        shape = w.constant(f"{op.name}/shape", np.array((1, *y.shape)), schema.INT32, None)
        w.op(schema.RESHAPE, [src, shape], [dst], schema.Options(schema.RESHAPE_OPTIONS))
    elif isinstance(op, ir.Gather):
        index = w.constant(f"{op.name}/index", np.array(op.index), schema.INT32, None)
        w.op(schema.GATHER, [src, index], [dst], schema.Options(schema.GATHER_OPTIONS, ((0, "i", len(x.shape)),
                                                                                     (1, "i", 0))))
    else:
        size = w.constant(f"{op.name}/size", np.array(y.shape[:2]), schema.INT32, None)
        w.op(schema.RESIZE_NEAREST_NEIGHBOR, [src, size], [dst],
             schema.Options(schema.RESIZE_NEAREST_NEIGHBOR_OPTIONS, ((0, "?", 0), (1, "?", 0))))


def _mul(w: _Writer, op: ir.Mul, a: ir.Tensor, b: ir.Tensor, y: ir.Tensor) -> None:
    """TFLite MUL derives ``QM((double)s1 * (double)s2 / (double)s_out)``; the graph's pair must be it.  A
    ``(1, 1, C)`` gate broadcasts over the map as TFLite's MUL broadcasts."""
    derived = quantize_multiplier(float(a.qparams.scale) * float(b.qparams.scale) / float(y.qparams.scale))
    if derived != (op.multiplier, op.shift):
        raise ExportError(f"{_where(op)}: multiplier {(op.multiplier, op.shift)} differs from TFLite's {derived}")
    act, out, finish = _output(w, op, y, op.act_min, op.act_max)
    w.op(schema.MUL, [w.index[a.name], w.index[b.name]], [out], schema.Options(schema.MUL_OPTIONS, ((0, "b", act),)))
    finish()


def _mul_const(w: _Writer, op: ir.MulConst, x: ir.Tensor, y: ir.Tensor) -> None:
    """TFLite MUL of ``x`` and a constant int8 tensor ``[C]`` (scale ``constant_scale``, zero point 0) broadcast
    over positions; TFLite derives ``QM((double)s_in * (double)s_c / (double)s_out)``, the graph's pair."""
    derived = quantize_multiplier(float(x.qparams.scale) * op.constant_scale / float(y.qparams.scale))
    if derived != (op.multiplier, op.shift):
        raise ExportError(f"{_where(op)}: multiplier {(op.multiplier, op.shift)} differs from TFLite's {derived}")
    constant = w.constant(f"{op.name}/constant", op.constant.reshape((1,) * (len(x.shape) - 1) + (-1,)), schema.INT8,
                          schema.Quantization((op.constant_scale,), (0,)))
    act, out, finish = _output(w, op, y, op.act_min, op.act_max)
    w.op(schema.MUL, [w.index[x.name], constant], [out], schema.Options(schema.MUL_OPTIONS, ((0, "b", act),)))
    finish()


def _prelu(w: _Writer, op: ir.PRelu, x: ir.Tensor, y: ir.Tensor) -> None:
    """TFLite PRELU: ``QM(s_in / s_out)`` for ``x >= zp_in`` and ``QM(s_in * s_a / s_out)`` with the alpha
    tensor's scale ``s_a`` otherwise (double precision): the alphas are written as int8 with the float32
    scale from which TFLite derives the graph's negative-side pair (:func:`scales.weight_scale`)."""
    s_in, s_out = float(x.qparams.scale), float(y.qparams.scale)
    derived = quantize_multiplier(s_in / s_out)
    if derived != (op.multiplier_pos, op.shift_pos):
        raise ExportError(f"{_where(op)}: multiplier {(op.multiplier_pos, op.shift_pos)} differs from TFLite's "
                          f"{derived}")
    s_a = weight_scale(s_in, s_out, (op.multiplier_neg, op.shift_neg), per_tensor_product=False)
    if s_a is None:
        raise ExportError(f"{_where(op)}: the negative-side multiplier {(op.multiplier_neg, op.shift_neg)} comes "
                          "from no float32 alpha scale")
    alpha = w.constant(f"{op.name}/alpha", op.alpha.reshape((1,) * len(x.shape) + (-1,)), schema.INT8,
                       schema.Quantization((s_a,), (0,)))
    w.op(schema.PRELU, [w.index[x.name], alpha], [w.index[y.name]], schema.Options(schema.NO_OPTIONS))


def _log_softmax(w: _Writer, op: ir.LogSoftmax, x: ir.Tensor, y: ir.Tensor) -> None:
    """TFLite's LOG_SOFTMAX derives its constants from the input scale in its Prepare; the op's must be those."""
    params = quant.log_softmax_params(x.qparams.scale)
    mine = (op.input_multiplier, op.input_shift, op.reverse_multiplier, op.reverse_shift, op.diff_min)
    if params != mine or not np.array_equal(op.exp_table, quant.log_softmax_exp_table(x.qparams.scale)):
        raise ExportError(f"{_where(op)}: constants {mine} or exp table differ from TFLite's {params}")
    w.op(schema.LOG_SOFTMAX, [w.index[x.name]], [w.index[y.name]], schema.Options(schema.LOG_SOFTMAX_OPTIONS))


def _refuse(op: ir.Softmax) -> None:
    raise ExportError(f"{_where(op)}: no exact TFLite form: TFLite's SOFTMAX computes another integer softmax "
                      "(exp and division in gemmlowp fixed point); remove the layer to export")


def to_tflite(graph: ir.Graph) -> bytes:
    """The ``.tflite`` bytes of the integer ``graph`` (see the module docstring), deterministic."""
    return schema.serialize(tflite_model(graph))


def tflite_model(graph: ir.Graph) -> schema.Model:
    """The TFLite model of the integer ``graph``: the graph's tensors first, in graph order (tensor ``i``
    is ``graph.tensors[i]``), then weights, biases, paddings and intermediates as the ops need them."""
    for op in graph.ops:
        if isinstance(op, ir.Softmax):
            _refuse(op)
    w = _Writer()
    for t in graph.tensors:
        w.activation(t.name, t.shape, t.qparams)
    for op in graph.ops:
        xs, y = [graph.tensor(n) for n in op.inputs], graph.tensor(op.output)
        if isinstance(op, (ir.Conv2d, ir.DepthwiseConv2d)):
            _conv(w, op, xs[0], y)
        elif isinstance(op, ir.FullyConnected):
            _fully_connected(w, op, xs[0], y)
        elif isinstance(op, (ir.MaxPool2d, ir.AvgPool2d)):
            _pool(w, op, xs[0], y)
        elif isinstance(op, ir.Add):
            _add(w, op, xs[0], xs[1], y)
        elif isinstance(op, ir.Concat):
            _concat(w, op, xs, y)
        elif isinstance(op, ir.Lookup):
            _lookup(w, op, xs[0], y)
        elif isinstance(op, (ir.Reshape, ir.Gather, ir.ResizeNearest)):
            _move(w, op, xs[0], y)
        elif isinstance(op, ir.Mul):
            _mul(w, op, xs[0], xs[1], y)
        elif isinstance(op, ir.PRelu):
            _prelu(w, op, xs[0], y)
        elif isinstance(op, ir.MulConst):
            _mul_const(w, op, xs[0], y)
        elif isinstance(op, ir.LogSoftmax):
            _log_softmax(w, op, xs[0], y)
        elif isinstance(op, ir.Clamp):
            _clamp(w, op.name, w.index[xs[0].name], w.index[y.name], op.lo, op.hi, y.qparams)
        else:  # an op added to the IR without an export: one line, never a crash
            raise ExportError(f"{_where(op)}: {type(op).__name__} has no TFLite export yet; build the C package")
    return schema.Model(tuple(w.tensors), tuple(w.operators), (w.index[graph.input],),
                        tuple(w.index[name] for name in graph.outputs),
                        f"tinyqat {__version__}")
