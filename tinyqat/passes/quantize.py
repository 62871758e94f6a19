"""Pass: quantize float conv/linear layers into integer ops.

For a layer with input scale ``s_in``, output quantization ``(s_out, zp_out)`` and folded
float weights ``w [out, ...]`` / bias ``b [out]`` (all float32):

* ``s_w[c] = max|w[c]| / qmax``; ``w_q = clamp(round(w / s_w[c]), -qmax, qmax)`` (int8 values),
  ``qmax`` = 127 for 8-bit layers, 7 for 4-bit ones (``weight_bits``, :func:`tinyqat.quant.quantize_weight`)
* ``b_q[c] = round(b[c] / (s_in * s_w[c]))`` (int32, product in float32)
* ``M[c] = (double)s_in * (double)s_w[c] / (double)s_out``;
  ``(multiplier[c], shift[c]) = quantize_multiplier(M[c])``.  A layer with one output channel has one
  weight scale, which TFLite treats as per-tensor quantization with the product in float32:
  ``M = (double)(float)(s_in * s_w) / (double)s_out`` (:func:`tinyqat.requant.effective_multipliers`)
* clamps from the fused activation (:func:`activation_range`).

Depthwise weights ``[out][1][kh][kw]`` become ``[kh][kw][out]``.  Add, concat, lookup tables,
softmax, mul and prelu get their integer parameters from the quantization of their tensors (each
function's docstring gives the formula).

The same :mod:`tinyqat.quant` and :mod:`tinyqat.requant` functions run in the QAT forward, so the
integers here (weights, biases, multipliers, shifts, clamps) are the ones training computed with.
Layers whose worst-case int32 accumulator could overflow are refused (:func:`check_accumulator_range`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from tinyqat import ir, quant, requant
from tinyqat.errors import LoweringError
from tinyqat.fixedpoint import INT32_MAX, INT32_MIN, quantize_multiplier


def activation_range(activation: ir.Activation, qparams: ir.QParams) -> tuple[int, int]:
    """int8 clamp ``(q_lo, q_hi)`` of a fused activation interval on the output grid ``qparams``
    (:func:`tinyqat.requant.activation_range`: TFLite's rule, division in float32, ``roundf``)."""
    return requant.activation_range(activation, qparams.scale, qparams.zero_point)


def accumulator_bound(weights: np.ndarray, bias: np.ndarray, zp_in: int) -> np.ndarray:
    """Per output channel, the largest ``|bias[c] + sum w[c] * (x - zp_in)|`` over int8 inputs (int64):
    ``|bias[c]| + sum|w[c]| * max(127 - zp_in, zp_in + 128)``; ``weights`` output channel first."""
    worst_input = max(ir.INT8_MAX - zp_in, zp_in - ir.INT8_MIN)
    bound = np.abs(weights.reshape(weights.shape[0], -1).astype(np.int64)).sum(axis=1) * worst_input
    return bound + np.abs(bias.astype(np.int64))


def check_accumulator_range(name: str, weights: np.ndarray, bias: np.ndarray, zp_in: int) -> None:
    """Refuse a layer whose accumulator ``bias + sum w * (x - zp_in)`` could leave int32
    (:func:`accumulator_bound`)."""
    worst = int(accumulator_bound(weights, bias, zp_in).max(initial=0))
    if worst > INT32_MAX:
        raise LoweringError(
            f"layer '{name}': worst-case accumulator {worst} exceeds int32 (fan-in or bias too large for its scales)"
        )


def requant_multipliers(name: str, m: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``(multiplier, shift)`` int64 arrays of :func:`tinyqat.requant.quantize_multipliers` of the float64
    real multipliers ``m``, refusing ratios it would saturate (``m >= 2**30``).

    Ratios below ``2**-32`` flush to ``(0, 0)`` exactly as TFLite does (the layer then outputs
    its zero point); simulator and C agree on both.
    """
    worst = float(m.max()) if m.numel() else 0.0
    if not (bool(torch.isfinite(m).all()) and worst < 2.0**30):
        raise LoweringError(
            f"layer '{name}': effective scale ratio {worst:.3g} is too large for an int32 multiplier "
            "(output scale far smaller than input * weight scale); retrain or recalibrate"
        )
    q, e = requant.quantize_multipliers(m)
    return q.numpy(), e.numpy()


def requant_multiplier(name: str, m: float) -> tuple[int, int]:
    """:func:`requant_multipliers` of one real multiplier."""
    q, e = requant_multipliers(name, torch.tensor([m], dtype=torch.float64))
    return int(q[0]), int(e[0])


def _check_finite(name: str, **arrays: np.ndarray) -> None:
    for key, arr in arrays.items():
        if not np.all(np.isfinite(arr)):
            raise LoweringError(f"layer '{name}': {key} contains NaN or Inf; retrain or check the model")


def quantize_layer(
    op: ir.FloatConv2d | ir.FloatLinear, graph: ir.Graph
) -> ir.Conv2d | ir.DepthwiseConv2d | ir.FullyConnected:
    """Integer op for one float layer (formulas in the module docstring)."""
    if op.bn is not None:
        raise LoweringError(f"layer '{op.name}': BatchNorm must be folded before quantization")
    _check_finite(op.name, weight=op.weight, bias=op.bias)
    x_q = graph.tensor(op.input).qparams
    y_q = graph.tensor(op.output).qparams
    w = torch.from_numpy(op.weight.copy())
    w_q, s_w = quant.quantize_weight(w, op.weight_bits)
    b_scale = quant.bias_scale(torch.tensor(x_q.scale, dtype=torch.float32), s_w)
    b_q = quant.quantize(torch.from_numpy(op.bias.copy()), b_scale, 0, INT32_MIN, INT32_MAX)
    bias = np.clip(b_q.double().numpy(), INT32_MIN, INT32_MAX).astype(np.int64)
    s_in, s_out = (torch.tensor(q.scale, dtype=torch.float64) for q in (x_q, y_q))
    multiplier, shift = requant_multipliers(op.name, requant.effective_multipliers(s_in, s_w, s_out))
    act_min, act_max = activation_range(op.activation, y_q)
    weights = w_q.numpy().astype(np.int64)
    check_accumulator_range(op.name, weights, bias, x_q.zero_point)
    common = dict(name=op.name, input=op.input, output=op.output, bias=bias, multiplier=multiplier, shift=shift,
                  act_min=act_min, act_max=act_max, weight_bits=op.weight_bits)
    if isinstance(op, ir.FloatLinear):
        return ir.FullyConnected(weights=weights, **common)
    if op.groups == 1:
        return ir.Conv2d(weights=weights.transpose(0, 2, 3, 1), stride=op.stride, padding=op.padding, **common)
    return ir.DepthwiseConv2d(weights=weights[:, 0].transpose(1, 2, 0), stride=op.stride, padding=op.padding,
                              depth_multiplier=weights.shape[0] // op.groups, **common)


def quantize_add(op: ir.FloatAdd, graph: ir.Graph) -> ir.Add:
    """Add / sub multipliers (TFLite int8 ADD and SUB prepare alike): ``t = 2 * max(s1, s2)``, ``QM(s1/t)``,
    ``QM(s2/t)``, ``QM(t / (2**20 * s_out))``; all real ratios in double precision."""
    s1, s2 = (float(graph.tensor(name).qparams.scale) for name in op.inputs)
    y_q = graph.tensor(op.output).qparams
    twice_max = 2.0 * max(s1, s2)
    (q1, e1), (q2, e2) = quantize_multiplier(s1 / twice_max), quantize_multiplier(s2 / twice_max)
    qo, eo = requant_multiplier(op.name, twice_max / (float(1 << ir.Add.LEFT_SHIFT) * float(y_q.scale)))
    lo, hi = activation_range(op.activation, y_q)
    return ir.Add(name=op.name, inputs=op.inputs, output=op.output, multiplier1=q1, shift1=e1, multiplier2=q2,
                  shift2=e2, output_multiplier=qo, output_shift=eo, act_min=lo, act_max=hi, subtract=op.subtract,
                  reverse=op.reverse)


def quantize_concat(op: ir.FloatConcat, graph: ir.Graph) -> ir.Concat:
    """Per-input ``QM(s_i / s_out)`` (double precision) for the integer requantization."""
    s_out = float(graph.tensor(op.output).qparams.scale)
    pairs = [requant_multiplier(op.name, float(graph.tensor(name).qparams.scale) / s_out) for name in op.inputs]
    return ir.Concat(name=op.name, inputs=op.inputs, output=op.output, multiplier=np.array([p[0] for p in pairs]),
                     shift=np.array([p[1] for p in pairs]))


def quantize_lookup(op: ir.FloatLookup, graph: ir.Graph) -> ir.Lookup:
    """256-entry table ``clamp(round(f(s_in * (q - zp_in)) / s_out) + zp_out)`` over every int8 ``q``
    (:func:`tinyqat.quant.lookup_table`, ``op.params`` its constants; ``leaky_relu`` is TFLite's integer
    LEAKY_RELU there)."""
    x_q, y_q = graph.tensor(op.input).qparams, graph.tensor(op.output).qparams
    table = quant.lookup_table(op.function, x_q.scale, x_q.zero_point, y_q.scale, y_q.zero_point, op.params)
    return ir.Lookup(name=op.name, input=op.input, output=op.output, function=op.function, table=table)


def quantize_mul(op: ir.FloatMul, graph: ir.Graph) -> ir.Mul:
    """TFLite int8 MUL: ``(multiplier, shift) = QM(s1 * s2 / s_out)`` (double precision), full int8 clamp
    (a following ReLU fuses in later)."""
    s1, s2 = (float(graph.tensor(name).qparams.scale) for name in op.inputs)
    q, e = requant_multiplier(op.name, s1 * s2 / float(graph.tensor(op.output).qparams.scale))
    return ir.Mul(name=op.name, inputs=op.inputs, output=op.output, multiplier=q, shift=e, act_min=ir.INT8_MIN,
                  act_max=ir.INT8_MAX)


def quantize_prelu(op: ir.FloatPRelu, graph: ir.Graph) -> ir.PRelu:
    """TFLite int8 PRELU: ``alpha`` symmetric per tensor (``s_a = max|a| / 127``,
    :func:`tinyqat.quant.quantize_weight` of the ``[1, n]`` row, repeated to C channels when ``n = 1``),
    ``QM(s_in / s_out)`` and ``QM(s_in * s_a / s_out)`` (double precision)."""
    _check_finite(op.name, alpha=op.alpha)
    x, y = graph.tensor(op.input), graph.tensor(op.output)
    a_q, s_a = quant.quantize_weight(torch.from_numpy(op.alpha.copy()).reshape(1, -1))
    alpha = np.broadcast_to(a_q.numpy().reshape(-1).astype(np.int64), (x.shape[-1],))
    ratio = float(x.qparams.scale) / float(y.qparams.scale)
    q_pos, e_pos = requant_multiplier(op.name, ratio)
    q_neg, e_neg = requant_multiplier(op.name, ratio * float(s_a[0]))
    return ir.PRelu(name=op.name, input=op.input, output=op.output, alpha=alpha, multiplier_pos=q_pos,
                    shift_pos=e_pos, multiplier_neg=q_neg, shift_neg=e_neg)


def quantize_mul_const(op: ir.FloatMulConst, graph: ir.Graph) -> ir.MulConst:
    """TFLite int8 MUL with a constant operand: the constant symmetric per tensor (``s_c = max|c| / 127``,
    :func:`tinyqat.quant.quantize_weight` of the ``[1, n]`` row, repeated to C channels when ``n = 1``) and
    ``QM((double)s_in * (double)s_c / (double)s_out)`` (:class:`tinyqat.ir.MulConst`)."""
    _check_finite(op.name, constant=op.constant)
    x, y = graph.tensor(op.input), graph.tensor(op.output)
    c_q, s_c = quant.quantize_weight(torch.from_numpy(op.constant.copy()).reshape(1, -1))
    constant = np.broadcast_to(c_q.numpy().reshape(-1).astype(np.int64), (x.shape[-1],))
    scale = float(s_c[0])
    q, e = requant_multiplier(op.name, float(x.qparams.scale) * scale / float(y.qparams.scale))
    return ir.MulConst(name=op.name, input=op.input, output=op.output, constant=constant, constant_scale=scale,
                       multiplier=q, shift=e)


def quantize_softmax(op: ir.FloatSoftmax, graph: ir.Graph) -> ir.Softmax:
    """``exp_table[d] = round(2**16 * exp(-s_in * d))`` for ``d = 0..255`` (:func:`tinyqat.quant.softmax_exp_table`)."""
    table = quant.softmax_exp_table(graph.tensor(op.input).qparams.scale)
    return ir.Softmax(name=op.name, input=op.input, output=op.output, exp_table=table)


def quantize_log_softmax(op: ir.FloatLogSoftmax, graph: ir.Graph) -> ir.LogSoftmax:
    """TFLite's LOG_SOFTMAX constants and exp table for the input scale (:func:`tinyqat.quant.log_softmax_params`,
    :func:`tinyqat.quant.log_softmax_exp_table`); an input scale outside their range is refused."""
    s_in = graph.tensor(op.input).qparams.scale
    try:
        q_in, left, q_rev, e_rev, diff_min = quant.log_softmax_params(s_in)
    except ValueError as e:
        raise LoweringError(f"{op.name}: {e}; log_softmax needs logits on a grid finer than 16") from None
    return ir.LogSoftmax(name=op.name, input=op.input, output=op.output, exp_table=quant.log_softmax_exp_table(s_in),
                         input_multiplier=q_in, input_shift=left, reverse_multiplier=q_rev, reverse_shift=e_rev,
                         diff_min=diff_min)


QUANTIZERS = {
    ir.FloatConv2d: quantize_layer,
    ir.FloatLinear: quantize_layer,
    ir.FloatAdd: quantize_add,
    ir.FloatConcat: quantize_concat,
    ir.FloatLookup: quantize_lookup,
    ir.FloatSoftmax: quantize_softmax,
    ir.FloatLogSoftmax: quantize_log_softmax,
    ir.FloatMul: quantize_mul,
    ir.FloatPRelu: quantize_prelu,
    ir.FloatMulConst: quantize_mul_const,
}


def quantize_graph(graph: ir.Graph) -> ir.Graph:
    """Replace every float op with its integer op."""
    ops = tuple(QUANTIZERS[type(op)](op, graph) if type(op) in QUANTIZERS else op for op in graph.ops)
    return dataclasses.replace(graph, ops=ops)
