"""The lowered int8 graph: frozen dataclasses, validated after every pass.

Conventions (units and layouts):

* Every tensor is described **per sample** (no batch dimension) in channels-last order:
  feature maps are ``(H, W, C)``, vectors are ``(F,)``.  This is the byte order of the
  arena in the generated C (NHWC with N = 1).
* A quantized value ``q`` (int8) stands for the real number ``scale * (q - zero_point)``;
  ``scale`` is a float32 value in real units per LSB, ``zero_point`` is in ``[-128, 127]``.
* Padding is explicit ``(top, left, bottom, right)`` in input pixels.
* Weighted ops (conv, depthwise, fully connected) carry ``weight_bits``: 8 (weights in
  ``[-127, 127]``) or 4 (weights in ``[-7, 7]``, still stored as int8 values here; only the C
  arrays pack them two per byte); the bit widths and limits are :data:`tinyqat.quant.WEIGHT_BITS`
  and :func:`tinyqat.quant.weight_qmax`.
* Conv weights are int8 ``[out][kh][kw][in]``, fully-connected weights int8 ``[out][in]``
  (``in`` in the channels-last flattened order of the input tensor), biases int32 with
  scale ``input_scale * weight_scale[c]`` and zero point 0.
* ``multiplier``/``shift`` are the per-output-channel int32 pairs from
  :func:`tinyqat.fixedpoint.quantize_multiplier`.

Two op families exist: *float* ops (``Float*`` classes and :class:`Flatten`), which carry
the trained float parameters or real-valued settings straight from the artifact, and
*integer* ops (:data:`INT_OPS`), which are what the simulator and the C runtime execute.
Lowering turns the first family into the second (see :mod:`tinyqat.lower`).  Every op has
``inputs`` (tensor names read, in order) and ``output``; single-input ops store ``input``.

A fused activation is a real interval ``(lo, hi)`` (``None`` = unbounded): ReLU is
``(0, None)``, ReLU6 ``(0, 6)``, Hardtanh(a, b) ``(a, b)``; it becomes an int8 clamp.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from tinyqat import quant
from tinyqat.errors import TinyQatError
from tinyqat.requant import ADD_LEFT_SHIFT
from tinyqat.target import MAX_DIM, MAX_TENSOR_BYTES

INT8_MIN, INT8_MAX = -128, 127


class IRError(TinyQatError):
    """The graph violates an IR invariant (a bug in a pass, or a malformed artifact)."""


def _frozen_array(a: np.ndarray, dtype: type, what: str) -> np.ndarray:
    """``a`` as a read-only contiguous ``dtype`` array.

    Raises :class:`IRError` naming ``what`` when the cast would change a value (an integer out of
    ``dtype``'s range, which numpy would wrap: 200 -> -56 in int8; a fractional or non-finite
    value for an integer dtype; booleans and anything else that is not a number), or when it holds more than
    :data:`~tinyqat.target.MAX_TENSOR_BYTES` values; checked before any cast.
    """
    src = np.asarray(a)
    if src.dtype.kind not in "iuf":
        raise IRError(f"{what}: values of type {src.dtype} are not numbers")
    if src.size > MAX_TENSOR_BYTES:
        raise IRError(f"{what}: {src.size} values exceed the limit of {MAX_TENSOR_BYTES}")
    if np.issubdtype(dtype, np.integer) and src.size:
        info = np.iinfo(dtype)
        if src.dtype.kind == "f" and not (np.all(np.isfinite(src)) and np.all(src == np.trunc(src))):
            raise IRError(f"{what}: {dtype.__name__} values must be whole numbers")
        lo, hi = src.min(), src.max()
        if lo < info.min or hi > info.max:
            raise IRError(f"{what}: values in [{lo}, {hi}] do not fit {dtype.__name__} [{info.min}, {info.max}]")
    out = np.ascontiguousarray(src, dtype=dtype).copy()
    out.setflags(write=False)
    return out


class SingleInput:
    """Mixin for ops with one input tensor (field ``input``)."""

    input: str

    @property
    def inputs(self) -> tuple[str, ...]:
        """Names of the tensors read: ``(input,)``."""
        return (self.input,)


Activation = tuple[float | None, float | None]
NO_ACTIVATION: Activation = (None, None)


class RequantizedLayer(SingleInput):
    """Mixin for the weighted int8 layers: freezes ``weights`` (int8) and the per-channel int32
    ``bias``, ``multiplier`` and ``shift`` arrays after construction."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen_array(self.weights, np.int8, f"{self.name}: weights"))
        for name in ("bias", "multiplier", "shift"):
            object.__setattr__(self, name, _frozen_array(getattr(self, name), np.int32, f"{self.name}: {name}"))


@dataclass(frozen=True)
class QParams:
    """Affine int8 quantization: ``real = scale * (q - zero_point)``."""

    scale: float
    zero_point: int


@dataclass(frozen=True)
class Tensor:
    """An int8 activation tensor (per sample, channels-last)."""

    name: str
    shape: tuple[int, ...]
    qparams: QParams

    @property
    def size(self) -> int:
        """Number of int8 elements (= bytes)."""
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass(frozen=True)
class BatchNorm:
    """BatchNorm statistics to fold: ``y = gamma * (x - mean) / sqrt(var + eps) + beta``."""

    gamma: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float

    def __post_init__(self) -> None:
        for name in ("gamma", "beta", "mean", "var"):
            object.__setattr__(self, name, _frozen_array(getattr(self, name), np.float32, f"BatchNorm {name}"))


@dataclass(frozen=True, eq=False)
class FloatConv2d(SingleInput):
    """A trained convolution before quantization.

    ``weight`` is float32 ``[out][in/groups][kh][kw]`` (PyTorch order), ``bias`` float32 ``[out]``.
    ``groups`` is 1 (dense) or the input channel count (depthwise, ``out = in * multiplier``).
    ``activation`` is the fused real interval (module docstring).
    """

    name: str
    input: str
    output: str
    weight: np.ndarray
    bias: np.ndarray
    bn: BatchNorm | None
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    groups: int
    activation: Activation
    weight_bits: int = 8

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _frozen_array(self.weight, np.float32, f"{self.name}: weight"))
        object.__setattr__(self, "bias", _frozen_array(self.bias, np.float32, f"{self.name}: bias"))


@dataclass(frozen=True, eq=False)
class FloatLinear(SingleInput):
    """A trained fully-connected layer: float32 ``weight [out][in]`` (input in the order of
    the *input tensor's* channels-last layout once :func:`tinyqat.passes.layout` ran)."""

    name: str
    input: str
    output: str
    weight: np.ndarray
    bias: np.ndarray
    bn: BatchNorm | None
    activation: Activation
    weight_bits: int = 8

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _frozen_array(self.weight, np.float32, f"{self.name}: weight"))
        object.__setattr__(self, "bias", _frozen_array(self.bias, np.float32, f"{self.name}: bias"))


@dataclass(frozen=True)
class Flatten(SingleInput):
    """PyTorch ``flatten(1)`` of an NCHW tensor; removed by the layout pass (no C code)."""

    name: str
    input: str
    output: str


@dataclass(frozen=True, eq=False)
class Conv2d(RequantizedLayer):
    """int8 convolution, groups = 1 (TFLite ``reference_integer_ops::ConvPerChannel``).

    ``acc[c] = bias[c] + sum_{kh,kw,i valid} w[c,kh,kw,i] * (x[y*sh - pt + kh, x*sw - pl + kw, i] - zp_in)``
    over in-bounds taps only (equal to zero-point padding);
    ``y = clamp(mbqm(acc, multiplier[c], shift[c]) + zp_out, act_min, act_max)``.
    """

    name: str
    input: str
    output: str
    weights: np.ndarray
    bias: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    act_min: int
    act_max: int
    weight_bits: int = 8

    @property
    def kernel(self) -> tuple[int, int]:
        """``(kh, kw)`` in input pixels."""
        return int(self.weights.shape[1]), int(self.weights.shape[2])


@dataclass(frozen=True, eq=False)
class FullyConnected(RequantizedLayer):
    """int8 fully connected (TFLite ``reference_integer_ops::FullyConnected``, per channel).

    ``acc[c] = bias[c] + sum_i w[c,i] * (x[i] - zp_in)``;
    ``y = clamp(mbqm(acc, multiplier[c], shift[c]) + zp_out, act_min, act_max)``.
    """

    name: str
    input: str
    output: str
    weights: np.ndarray
    bias: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray
    act_min: int
    act_max: int
    weight_bits: int = 8


@dataclass(frozen=True)
class MaxPool2d(SingleInput):
    """int8 max pooling: the max over in-bounds taps (padding never wins, as PyTorch's -inf).

    ``y[oy, ox, c] = max x[iy, ix, c]`` for ``iy in [oy*sh - pt, oy*sh - pt + kh)`` and
    ``ix in [ox*sw - pl, ox*sw - pl + kw)`` clipped to the input.  Output keeps the input's
    quantization.  With ``ceil_mode`` the output size rounds up as PyTorch's (see
    :func:`pool_output_size`).
    """

    name: str
    input: str
    output: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    ceil_mode: bool


@dataclass(frozen=True)
class Clamp(SingleInput):
    """Elementwise ``y = min(max(x, lo), hi)`` on int8 with unchanged quantization
    (a standalone ReLU / ReLU6; ``lo``/``hi`` computed as TFLite's fused activation range)."""

    name: str
    input: str
    output: str
    lo: int
    hi: int


@dataclass(frozen=True, eq=False)
class DepthwiseConv2d(RequantizedLayer):
    """int8 depthwise convolution (TFLite ``reference_integer_ops::DepthwiseConvPerChannel``).

    Weights int8 ``[kh][kw][out_c]`` with ``out_c = in_c * depth_multiplier``; output channel
    ``c`` reads input channel ``c // depth_multiplier``:
    ``acc[c] = bias[c] + sum_{kh,kw valid} w[kh,kw,c] * (x[y*sh - pt + kh, x*sw - pl + kw, c // m] - zp_in)``;
    ``y = clamp(mbqm(acc, multiplier[c], shift[c]) + zp_out, act_min, act_max)``.
    """

    name: str
    input: str
    output: str
    weights: np.ndarray
    bias: np.ndarray
    multiplier: np.ndarray
    shift: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    depth_multiplier: int
    act_min: int
    act_max: int
    weight_bits: int = 8

    @property
    def kernel(self) -> tuple[int, int]:
        """``(kh, kw)`` in input pixels."""
        return int(self.weights.shape[0]), int(self.weights.shape[1])


@dataclass(frozen=True)
class AvgPool2d(SingleInput):
    """int8 average pooling as PyTorch's ``AvgPool2d`` computes it; quantization unchanged.

    For each window (rows ``[oy*sh - pt, oy*sh - pt + kh)`` clipped to ``[0, H + pb)``, same
    for columns), ``acc = sum of in-bounds x + zp * (padded taps counted)`` and ``n`` is the
    divisor: with ``count_include_pad`` the window area clipped to the padded input (PyTorch's
    rule), else the number of in-bounds taps (TFLite's rule).  Padded taps stand for real 0,
    i.e. the zero point.  ``y = clamp(acc > 0 ? (acc + n/2) / n : (acc - n/2) / n)`` with C
    division (rounding half away from zero), as TFLite's int8 average pool.
    """

    name: str
    input: str
    output: str
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    ceil_mode: bool
    count_include_pad: bool


@dataclass(frozen=True)
class Add:
    """int8 elementwise add (TFLite int8 ``ADD``), or subtract with ``subtract`` (TFLite int8 ``SUB``, x1 - x2).

    ``inputs[1]`` has ``inputs[0]``'s shape or is ``(1, 1, C)`` against an ``(H, W, C)`` ``inputs[0]``
    (broadcast over positions, as TFLite broadcasts); the output has ``inputs[0]``'s shape.
    With ``left_shift = 20``: ``a = mbqm((x1 - zp1) * 2**20, q1, e1)``,
    ``b = mbqm((x2 - zp2) * 2**20, q2, e2)``,
    ``y = clamp(mbqm(a + b, qo, eo) + zp_out, act_min, act_max)`` (``a - b`` when subtracting; ``b - a``
    when subtracting with ``reverse``: ``g - x``, TFLite ``SUB(x2, x1)`` whose first operand is the broadcast
    one), where
    ``(q1, e1) = QM(s1 / t)``, ``(q2, e2) = QM(s2 / t)``, ``(qo, eo) = QM(t / (2**20 * s_out))``,
    ``t = 2 * max(s1, s2)`` (symmetric in the two inputs) and ``QM`` is :func:`tinyqat.fixedpoint.quantize_multiplier`.
    """

    name: str
    inputs: tuple[str, str]
    output: str
    multiplier1: int
    shift1: int
    multiplier2: int
    shift2: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int
    subtract: bool = False
    reverse: bool = False

    LEFT_SHIFT = ADD_LEFT_SHIFT


@dataclass(frozen=True, eq=False)
class Concat:
    """int8 concatenation along channels (the last, channels-last axis).

    Each input ``i`` is requantized to the output's quantization in integers:
    ``y = clamp(mbqm(x - zp_i, multiplier[i], shift[i]) + zp_out, -128, 127)`` with
    ``(multiplier[i], shift[i]) = quantize_multiplier(s_i / s_out)`` (an input with the output's
    exact quantization is copied).  TFLite requantizes here in float; tinyqat keeps the int8
    path integer, and the two agree except on exact rounding ties.
    """

    name: str
    inputs: tuple[str, ...]
    output: str
    multiplier: np.ndarray
    shift: np.ndarray

    def __post_init__(self) -> None:
        for name in ("multiplier", "shift"):
            object.__setattr__(self, name, _frozen_array(getattr(self, name), np.int32, f"{self.name}: {name}"))


@dataclass(frozen=True, eq=False)
class Lookup(SingleInput):
    """int8 -> int8 table: ``y = table[x + 128]`` (the functions of :data:`LUT_FUNCTIONS`).

    Built at lowering: ``table[i] = clamp(round(f(s_in * (i - 128 - zp_in)) / s_out) + zp_out)``
    in float64, so the table is exact by construction for every int8 input; ``leaky_relu`` tabulates
    TFLite's integer LEAKY_RELU instead (:func:`tinyqat.passes.quantize.leaky_relu_table`).
    """

    name: str
    input: str
    output: str
    function: str
    table: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "table", _frozen_array(self.table, np.int8, f"{self.name}: table"))


@dataclass(frozen=True, eq=False)
class Softmax(SingleInput):
    """int8 softmax over the last axis, output scale 1/256 and zero point -128 (TFLite's).

    Integer algorithm, per row: ``m = max(x)``, ``d_i = m - x_i`` (0..255),
    ``e_i = exp_table[d_i]`` with ``exp_table[d] = round(2**16 * exp(-s_in * d))`` (int32,
    built at lowering), ``sum = sum_i e_i`` (int32; rows hold fewer than 2**15 elements),
    ``y_i = clamp((e_i * 256 + sum / 2) / sum - 128, -128, 127)`` (integer division of
    non-negative values, i.e. rounding half up).
    """

    name: str
    input: str
    output: str
    exp_table: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "exp_table", _frozen_array(self.exp_table, np.int32, f"{self.name}: exp_table"))


@dataclass(frozen=True, eq=False)
class LogSoftmax(SingleInput):
    """int8 log-softmax over the last axis: TFLite's int8 LOG_SOFTMAX, output scale 16/256, zero point 127.

    Per row (at most :data:`tinyqat.quant.LOG_SOFTMAX_ROW_MAX` elements), with the constants of
    :func:`tinyqat.quant.log_softmax_params` and the fixed-point functions of :mod:`tinyqat.fixedpoint`:
    ``d_i = x_i - max(x)``; ``sum = sum_i exp_table[-d_i]`` (Q12; the table holds TFLite's
    ``rdbpot(exp_on_negative_values(mbqm(d, input_multiplier, input_shift)), 12)`` for
    ``diff_min <= d <= 0`` and 0 below, built at lowering); ``log_sum = log_x_q12(sum)`` (Q5);
    ``cut = max(diff_min - 1, mbqm(log_sum - 2**31, reverse_multiplier, reverse_shift))``;
    ``y_i = clamp(rdbpot(sat32(mbqm(d_i, input_multiplier, input_shift) - log_sum), 22) + 127, -128, 127)``
    where ``d_i > cut``, else ``-128``.  (``sat32``: TFLite leaves that int32 overflow undefined; the cut
    keeps it out of reach.)
    """

    name: str
    input: str
    output: str
    exp_table: np.ndarray
    input_multiplier: int
    input_shift: int
    reverse_multiplier: int
    reverse_shift: int
    diff_min: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "exp_table", _frozen_array(self.exp_table, np.int32, f"{self.name}: exp_table"))


@dataclass(frozen=True)
class FloatAdd:
    """Residual add (or subtract: ``inputs[0] - inputs[1]``, ``inputs[1] - inputs[0]`` with ``reverse``) before
    quantization; ``activation`` is a fused real interval."""

    name: str
    inputs: tuple[str, str]
    output: str
    activation: Activation
    subtract: bool = False
    reverse: bool = False


@dataclass(frozen=True)
class FloatConcat:
    """Channel concatenation before its requantization multipliers are computed."""

    name: str
    inputs: tuple[str, ...]
    output: str


@dataclass(frozen=True)
class FloatLookup(SingleInput):
    """A pointwise function (one of :data:`LUT_FUNCTIONS`) to tabulate at lowering; ``params`` are its
    real constants in the order of :data:`tinyqat.quant.LUT_PARAMS` (ELU's alpha, ...)."""

    name: str
    input: str
    output: str
    function: str
    params: tuple[float, ...] = ()


@dataclass(frozen=True)
class FloatSoftmax(SingleInput):
    """Softmax over channels before its exp table is computed."""

    name: str
    input: str
    output: str


@dataclass(frozen=True)
class FloatLogSoftmax(SingleInput):
    """Log-softmax over channels before its TFLite constants and exp table are computed."""

    name: str
    input: str
    output: str


# --- elementwise ops with two operands or per-channel constants (MUL, PRELU) ---------------------


@dataclass(frozen=True)
class Mul:
    """int8 elementwise multiply (TFLite int8 ``MUL``), ``inputs[1]`` broadcast over positions.

    ``inputs[1]`` has the shape of ``inputs[0]`` or is ``(1, 1, C)`` against an ``(H, W, C)``
    ``inputs[0]`` (a per-channel gate: squeeze-excitation); the output has ``inputs[0]``'s shape.
    ``y = clamp(mbqm((x1 - zp1) * (x2 - zp2), multiplier, shift) + zp_out, act_min, act_max)`` with
    ``(multiplier, shift) = QM(s1 * s2 / s_out)`` (double precision); ``|(x1 - zp1) * (x2 - zp2)|
    <= 255 * 255`` fits int32.
    """

    name: str
    inputs: tuple[str, str]
    output: str
    multiplier: int
    shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True, eq=False)
class PRelu(SingleInput):
    """int8 PReLU with one alpha per channel (the last axis; TFLite int8 ``PRELU``).

    ``alpha`` is int8 ``[C]``, symmetric (zero point 0) with scale ``s_a = max|a| / 127``
    (:func:`tinyqat.quant.weight_scales` of the ``[1, C]`` row; a single PyTorch alpha is repeated
    over the channels).  With ``x_c = x - zp_in``:
    ``y = clamp(zp_out + (x_c >= 0 ? mbqm(x_c, multiplier_pos, shift_pos)
    : mbqm(x_c * alpha[c], multiplier_neg, shift_neg)), -128, 127)``,
    ``(multiplier_pos, shift_pos) = QM(s_in / s_out)``, ``(multiplier_neg, shift_neg) = QM(s_in * s_a / s_out)``.
    """

    name: str
    input: str
    output: str
    alpha: np.ndarray
    multiplier_pos: int
    shift_pos: int
    multiplier_neg: int
    shift_neg: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", _frozen_array(self.alpha, np.int8, f"{self.name}: alpha"))


@dataclass(frozen=True, eq=False)
class MulConst(SingleInput):
    """int8 product with a constant per channel (TFLite int8 ``MUL`` whose second operand is a constant int8
    tensor ``[C]`` broadcast over positions; ``x * self.scale`` with a parameter or buffer of shape
    ``(C, 1, 1)``, ``(1, C, 1, 1)``, ``(C,)`` or a single value, repeated to C channels).

    The constant is quantized per tensor and symmetric (tinyqat's choice, like its weights; TFLite's MUL
    takes any operand zero point, and the exported model computes the same integers in TFLite Micro and LiteRT):
    ``constant_scale = s_c = max|c| / 127`` (float32; :func:`tinyqat.quant.quantize_weight` of the ``[1, n]``
    row), ``constant = clamp(round(c / s_c), -127, 127)``, zero point 0.  With ``x_c = x - zp_in``:
    ``y = clamp(mbqm(x_c * constant[ch], multiplier, shift) + zp_out, act_min, act_max)``,
    ``(multiplier, shift) = QM((double)s_in * (double)s_c / (double)s_out)`` (TFLite MUL's Prepare);
    ``|x_c * constant| <= 255 * 127`` fits int32.  C: ``tq_mul_const_s8``, the MUL kernel with the constant as
    its broadcast second input.
    """

    name: str
    input: str
    output: str
    constant: np.ndarray
    constant_scale: float
    multiplier: int
    shift: int
    act_min: int = INT8_MIN
    act_max: int = INT8_MAX

    def __post_init__(self) -> None:
        object.__setattr__(self, "constant", _frozen_array(self.constant, np.int8, f"{self.name}: constant"))


@dataclass(frozen=True, eq=False)
class FloatMulConst(SingleInput):
    """Product with a constant before quantization: float32 ``constant`` of length 1 or C (the last axis)."""

    name: str
    input: str
    output: str
    constant: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "constant", _frozen_array(self.constant, np.float32, f"{self.name}: constant"))


@dataclass(frozen=True)
class FloatMul:
    """Elementwise multiply before its requantization multiplier is computed."""

    name: str
    inputs: tuple[str, str]
    output: str


@dataclass(frozen=True, eq=False)
class FloatPRelu(SingleInput):
    """PReLU before quantization: float32 ``alpha`` of length 1 or C (the last axis)."""

    name: str
    input: str
    output: str
    alpha: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha", _frozen_array(self.alpha, np.float32, f"{self.name}: alpha"))


def mul_broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """True when :class:`Mul` accepts shapes ``a`` (``inputs[0]``) and ``b``: equal, or ``b = (1, 1, C)``
    against ``a = (H, W, C)``."""
    return a == b or (len(a) == len(b) == 3 and b == (1, 1, a[2]))


# --- end of the elementwise block -----------------------------------------------------------------

# ---- data movement (tensor plumbing, tinyqat.movement): bytes are copied or not moved, never requantized


@dataclass(frozen=True)
class Reshape(SingleInput):
    """A relabel whose channels-last bytes are the input's, in the same order, under another
    shape (e.g. ``(1, 1, C)`` -> ``(C,)``): ``y[i] = x[i]``; quantization unchanged.  Planned in place,
    where it moves nothing (the C kernel returns at once when output == input)."""

    name: str
    input: str
    output: str


@dataclass(frozen=True)
class Gather(SingleInput):
    """Per-pixel channel gather (TFLite ``GATHER`` on the last axis; channel slices, split parts,
    channel shuffles): with ``C_in`` input channels (a vector: its length), ``P = input_size / C_in``
    pixels and ``C_out = len(index)``, ``y[p * C_out + j] = x[p * C_in + index[j]]``; quantization unchanged."""

    name: str
    input: str
    output: str
    index: tuple[int, ...]


@dataclass(frozen=True)
class ResizeNearest(SingleInput):
    """Nearest-neighbour upsampling by integer factors ``scale = (sh, sw)`` (TFLite
    ``RESIZE_NEAREST_NEIGHBOR``, ``align_corners = half_pixel_centers = false``):
    ``y[oy, ox, c] = x[oy // sh, ox // sw, c]``, output ``(H * sh, W * sw, C)``; quantization unchanged."""

    name: str
    input: str
    output: str
    scale: tuple[int, int]


MOVE_OPS = (Reshape, Gather, ResizeNearest)

FloatOp = (FloatConv2d | FloatLinear | Flatten | FloatAdd | FloatConcat | FloatLookup | FloatSoftmax
           | FloatLogSoftmax | FloatMul | FloatPRelu | FloatMulConst)
IntOp = (Conv2d | DepthwiseConv2d | FullyConnected | MaxPool2d | AvgPool2d | Clamp | Add | Concat | Lookup | Softmax
         | LogSoftmax | Mul | PRelu | MulConst | Reshape | Gather | ResizeNearest)
Op = FloatOp | IntOp
INT_OPS = (Conv2d, DepthwiseConv2d, FullyConnected, MaxPool2d, AvgPool2d, Clamp, Add, Concat, Lookup, Softmax,
           LogSoftmax, Mul, PRelu, MulConst, *MOVE_OPS)
LUT_FUNCTIONS = tuple(quant.LUT_FUNCTIONS)  # names of the lookup-table functions
SOFTMAX_QPARAMS = QParams(*quant.FIXED_QPARAMS["softmax"])
LOG_SOFTMAX_QPARAMS = QParams(*quant.FIXED_QPARAMS["log_softmax"])


@dataclass(frozen=True)
class Graph:
    """A straight-line graph: ``ops`` in execution order, one input, one or more outputs.

    ``torch_input_shape`` / ``torch_output_shape`` are the per-sample PyTorch shapes at the
    user boundary (``(C, H, W)``, ``(C, L)`` for 1-D convolutions, or ``(F,)``); the IR tensors
    hold the same bytes channels-last (see :mod:`tinyqat.sim.interpreter` for conversions).
    A model that returns a tuple has its first result in ``output`` and the others, in order, in
    ``extra_outputs`` (their PyTorch shapes in ``extra_torch_output_shapes``); :attr:`outputs` and
    :attr:`torch_output_shapes` list them all.  The outputs are distinct tensors.
    """

    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]
    input: str
    output: str
    torch_input_shape: tuple[int, ...]
    torch_output_shape: tuple[int, ...]
    source_sha256: str = ""
    extra_outputs: tuple[str, ...] = ()
    extra_torch_output_shapes: tuple[tuple[int, ...], ...] = ()
    tensor_index: dict[str, Tensor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tensor_index", {t.name: t for t in self.tensors})

    def tensor(self, name: str) -> Tensor:
        """The tensor called ``name``."""
        try:
            return self.tensor_index[name]
        except KeyError:
            raise IRError(f"unknown tensor {name!r}") from None

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every output tensor, in the order the model returns them."""
        return (self.output, *self.extra_outputs)

    @property
    def torch_output_shapes(self) -> tuple[tuple[int, ...], ...]:
        """The PyTorch per-sample shape of each of :attr:`outputs`."""
        return (self.torch_output_shape, *self.extra_torch_output_shapes)

    def consumers(self, name: str) -> list[Op]:
        """Ops that read tensor ``name``."""
        return [op for op in self.ops if name in op.inputs]

    @property
    def is_integer(self) -> bool:
        """True once every op is an integer op (lowering finished)."""
        return all(isinstance(op, INT_OPS) for op in self.ops)


def torch_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """PyTorch per-sample shape of a channels-last IR shape: ``(H, W, C) -> (C, H, W)``; vectors unchanged."""
    return (shape[2], shape[0], shape[1]) if len(shape) == 3 else shape


def conv_output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int) -> int:
    """Output length of a convolution/pooling window along one axis (floor mode)."""
    return (size + pad_before + pad_after - kernel) // stride + 1


def pool_output_size(size: int, kernel: int, stride: int, pad: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length with symmetric padding ``pad``.

    ``floor_or_ceil((size + 2*pad - kernel) / stride) + 1``; in ceil mode the last window
    must start inside the input or its left padding, else it is dropped.
    """
    span = size + 2 * pad - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def kernel_op(op: IntOp, graph: Graph) -> IntOp:
    """The op as its C kernel runs it: ``op`` itself, except for a :class:`Conv2d` with a 1x1 window and
    no padding on a 1x1 input map (the squeeze-excitation convs after a global pool), which is exactly a
    :class:`FullyConnected` over its ``in_c`` inputs: with one output pixel and one tap per input channel,
    ``acc[c] = bias[c] + sum_i w[c,0,0,i] * (x[0,0,i] - zp_in)``, the same per-channel ``multiplier`` /
    ``shift`` and clamp.  Its weights ``(out_c, 1, 1, in_c)`` are read as ``(out_c, in_c)`` (the same
    bytes).  The graph keeps the conv (simulator, export, ``model.json``'s ``op``); the planner, the
    package's kernel choice, its parameter struct and arrays follow the returned op."""
    if (isinstance(op, Conv2d) and op.kernel == (1, 1) and not any(op.padding)
            and graph.tensor(op.input).shape[:2] == (1, 1)):
        return FullyConnected(op.name, op.input, op.output, op.weights.reshape(op.weights.shape[0], -1), op.bias,
                              op.multiplier, op.shift, op.act_min, op.act_max, op.weight_bits)
    return op


def _check(cond: bool, op_name: str, msg: str) -> None:
    if not cond:
        raise IRError(f"{op_name}: {msg}")


_INT_FIELDS: dict[str, tuple[int, int]] = {
    # scalar integer fields of the ops: inclusive range
    "act_min": (INT8_MIN, INT8_MAX), "act_max": (INT8_MIN, INT8_MAX), "lo": (INT8_MIN, INT8_MAX),
    "hi": (INT8_MIN, INT8_MAX), "multiplier1": (0, 2**31 - 1), "multiplier2": (0, 2**31 - 1),
    "output_multiplier": (0, 2**31 - 1), "shift1": (-31, 30), "shift2": (-31, 30), "output_shift": (-31, 30),
    "depth_multiplier": (1, MAX_DIM), "groups": (1, MAX_DIM), "weight_bits": (min(quant.WEIGHT_BITS), 8),
    "multiplier": (0, 2**31 - 1), "shift": (-31, 30),  # scalars (Mul); the per-channel arrays are checked as arrays
    "multiplier_pos": (0, 2**31 - 1), "multiplier_neg": (0, 2**31 - 1), "shift_pos": (-31, 30), "shift_neg": (-31, 30),
    "input_multiplier": (2**30, 2**31 - 1), "input_shift": (2, 30), "reverse_multiplier": (2**30, 2**31 - 1),
    "reverse_shift": (-31, 0), "diff_min": (-(2**31), -1),  # LogSoftmax
}
_WINDOW_FIELDS: dict[str, tuple[int, int]] = {"kernel": (2, 1), "stride": (2, 1), "padding": (4, 0)}  # length, min
_BOOL_FIELDS = ("ceil_mode", "count_include_pad", "subtract", "reverse")


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_fields(op: Op) -> None:
    """Type and range of every scalar, window (kernel/stride/padding) and flag field of ``op``,
    before anything computes with them (an output size from a zero stride, a cast to int8)."""
    fields = {f.name for f in dataclasses.fields(op)}  # not properties: Conv2d.kernel reads the weights
    for name, (lo, hi) in _INT_FIELDS.items():
        if name in fields and not isinstance(getattr(op, name), np.ndarray):
            value = getattr(op, name)
            _check(_is_int(value) and lo <= value <= hi, op.name, f"{name} {value!r} is not an integer in [{lo}, {hi}]")
    for name, (length, lo) in _WINDOW_FIELDS.items():
        if name in fields:
            value = getattr(op, name)
            _check(isinstance(value, tuple) and len(value) == length and all(_is_int(v) and lo <= v <= MAX_DIM
                                                                              for v in value),
                   op.name, f"{name} {value!r} must be {length} integers in [{lo}, {MAX_DIM}]")
    for name in _BOOL_FIELDS:
        if name in fields:
            _check(isinstance(getattr(op, name), bool), op.name, f"{name} {getattr(op, name)!r} must be a bool")
    for name in ("name", "output", *(("input",) if isinstance(op, SingleInput) else ())):
        _check(isinstance(getattr(op, name), str), str(op.name), f"{name} must be a string")
    _check(isinstance(op.inputs, tuple) and all(isinstance(t, str) for t in op.inputs), op.name,
           "inputs must be a tuple of tensor names")


def _check_tensor(t: Tensor) -> None:
    _check(isinstance(t.name, str), str(t.name), "tensor name must be a string")
    _check(isinstance(t.shape, tuple) and len(t.shape) in (1, 3) and all(_is_int(d) and d >= 1 for d in t.shape),
           t.name, f"bad shape {t.shape!r}: 1 or 3 positive integers")
    size = math.prod(int(d) for d in t.shape)
    _check(size <= MAX_TENSOR_BYTES, t.name, f"{size} bytes exceed the tensor limit of {MAX_TENSOR_BYTES}")
    q = t.qparams
    _check(isinstance(q, QParams) and isinstance(q.scale, float) and _is_int(q.zero_point), t.name,
           "qparams must be a float scale and an integer zero point")
    _check(np.isfinite(q.scale) and q.scale > 0, t.name, f"bad scale {q.scale}")
    _check(INT8_MIN <= q.zero_point <= INT8_MAX, t.name, "zero point outside int8")


def _check_weight_bits(op: FloatConv2d | FloatLinear | Conv2d | DepthwiseConv2d | FullyConnected) -> None:
    _check(op.weight_bits in quant.WEIGHT_BITS, op.name, f"weight_bits {op.weight_bits!r} not in {quant.WEIGHT_BITS}")


def _check_requant(op: Conv2d | DepthwiseConv2d | FullyConnected, out_c: int) -> None:
    for arr_name in ("bias", "multiplier", "shift"):
        arr = getattr(op, arr_name)
        _check(arr.shape == (out_c,), op.name, f"{arr_name} shape {arr.shape} != ({out_c},)")
    _check_multipliers(op.name, op.multiplier, op.shift)
    _check_weight_bits(op)
    limit = quant.weight_qmax(op.weight_bits)
    _check(int(op.weights.min(initial=0)) >= -limit and int(op.weights.max(initial=0)) <= limit, op.name,
           f"{op.weight_bits}-bit weights must lie in [-{limit}, {limit}] (symmetric)")
    _check_clamp_range(op.name, op.act_min, op.act_max)


def _check_multipliers(op_name: str, multiplier: np.ndarray, shift: np.ndarray) -> None:
    _check(bool(np.all(multiplier >= 0)), op_name, "negative multiplier")
    _check(bool(np.all((shift >= -31) & (shift <= 30))), op_name, "shift outside [-31, 30]")


def _check_clamp_range(op_name: str, lo: int, hi: int) -> None:
    _check(INT8_MIN <= lo <= hi <= INT8_MAX, op_name, f"clamp [{lo}, {hi}] not inside int8")


def validate(graph: Graph) -> Graph:
    """Check every invariant of ``graph``; return it unchanged or raise :class:`IRError`.

    Checks: unique tensor names; each op reads defined tensors and defines a new one;
    every output is defined (distinct, not the input); shapes agree with each op's parameters; dtypes of parameter
    arrays; quantization ranges (scale finite and > 0, zero point and clamps in int8,
    weights in [-127, 127], or [-7, 7] for 4-bit layers, shifts in [-31, 30]); boundary shapes hold the same element
    counts as the IR tensors.
    """
    for t in graph.tensors:
        _check(isinstance(t, Tensor), "graph", f"{t!r} is not a Tensor")
        _check_tensor(t)
    names = [t.name for t in graph.tensors]
    if len(set(names)) != len(names):
        raise IRError("duplicate tensor names")
    defined = {graph.input}
    _check(isinstance(graph.extra_outputs, tuple) and isinstance(graph.extra_torch_output_shapes, tuple)
           and len(graph.extra_outputs) == len(graph.extra_torch_output_shapes)
           and all(isinstance(n, str) for n in graph.extra_outputs), "graph",
           "extra_outputs (tensor names) and extra_torch_output_shapes must be tuples of the same length")
    _check(len(set(graph.outputs)) == len(graph.outputs) and graph.input not in graph.outputs, "graph",
           f"outputs {graph.outputs} must be distinct tensors other than the input")
    for boundary, torch_shape in ((graph.input, graph.torch_input_shape),
                                  *zip(graph.outputs, graph.torch_output_shapes)):
        _check(isinstance(torch_shape, tuple) and all(_is_int(d) and d >= 1 for d in torch_shape)
               and math.prod(int(d) for d in torch_shape) == graph.tensor(boundary).size, str(boundary),
               f"PyTorch shape {torch_shape} does not match {graph.tensor(boundary).shape}")
    for op in graph.ops:
        _check(isinstance(op, Op.__args__), "graph", f"{type(op).__name__} is not an op")  # type: ignore[attr-defined]
        _check_fields(op)
        for name in op.inputs:
            _check(name in defined, op.name, f"reads undefined tensor {name!r}")
        _check(op.output not in defined, op.name, f"redefines tensor {op.output!r}")
        defined.add(op.output)
        _validate_op(op, [graph.tensor(n) for n in op.inputs], graph.tensor(op.output))
    for name in graph.outputs:
        _check(name in defined, "graph", f"output {name!r} is never computed")
    return graph


def _validate_conv(op: FloatConv2d | Conv2d | DepthwiseConv2d, x: Tensor, y: Tensor) -> None:
    _check(len(x.shape) == 3 and len(y.shape) == 3, op.name, "conv needs (H, W, C) tensors")
    w = op.weight if isinstance(op, FloatConv2d) else op.weights
    _check(w.ndim == (3 if isinstance(op, DepthwiseConv2d) else 4) and min(w.shape) >= 1
           and max(w.shape) <= MAX_DIM, op.name, f"weights shape {w.shape} is not a conv kernel")
    if isinstance(op, Conv2d):
        out_c, kh, kw, in_c = op.weights.shape
        _check_requant(op, out_c)
    elif isinstance(op, DepthwiseConv2d):
        kh, kw, out_c = op.weights.shape
        in_c = out_c // op.depth_multiplier
        _check(in_c * op.depth_multiplier == out_c, op.name, "output channels not a multiple of the input's")
        _check_requant(op, out_c)
    else:
        out_c, in_per_group, kh, kw = op.weight.shape
        in_c = in_per_group * op.groups
        _check(op.bias.shape == (out_c,), op.name, "bias shape")
        _check(op.groups == 1 or (in_per_group == 1 and out_c % op.groups == 0), op.name,
               "only dense (groups=1) and depthwise (groups=in_channels) convolutions")
    _check(x.shape[2] == in_c, op.name, f"input has {x.shape[2]} channels, weights expect {in_c}")
    pt, pl, pb, pr = op.padding
    oh = conv_output_size(x.shape[0], kh, op.stride[0], pt, pb)
    ow = conv_output_size(x.shape[1], kw, op.stride[1], pl, pr)
    _check(y.shape == (oh, ow, out_c), op.name, f"output shape {y.shape} != {(oh, ow, out_c)}")


def _validate_pool(op: MaxPool2d | AvgPool2d, x: Tensor, y: Tensor) -> None:
    _check(len(x.shape) == 3 and y.shape[2:] == x.shape[2:], op.name, "pool needs (H, W, C) in and out")
    _check(y.qparams == x.qparams, op.name, "pooling keeps quantization")
    pt, pl, pb, pr = op.padding
    _check(pt == pb and pl == pr, op.name, "pool padding must be symmetric")
    _check(2 * pt <= op.kernel[0] and 2 * pl <= op.kernel[1], op.name, "padding > kernel/2")
    oh = pool_output_size(x.shape[0], op.kernel[0], op.stride[0], pt, op.ceil_mode)
    ow = pool_output_size(x.shape[1], op.kernel[1], op.stride[1], pl, op.ceil_mode)
    _check(y.shape[:2] == (oh, ow), op.name, f"output shape {y.shape[:2]} != {(oh, ow)}")


def _validate_op(op: Op, xs: list[Tensor], y: Tensor) -> None:
    x = xs[0]
    if isinstance(op, (FloatConv2d, FloatLinear)):
        _check_weight_bits(op)
    if isinstance(op, (FloatConv2d, Conv2d, DepthwiseConv2d)):
        _validate_conv(op, x, y)
    elif isinstance(op, (FloatLinear, FullyConnected)):
        w = op.weights if isinstance(op, FullyConnected) else op.weight
        _check(w.ndim == 2, op.name, "weights must be 2-D")
        _check(w.shape[1] == x.size, op.name, f"input has {x.size} features, weights expect {w.shape[1]}")
        _check(y.shape == (w.shape[0],), op.name, f"output shape {y.shape} != ({w.shape[0]},)")
        if isinstance(op, FullyConnected):
            _check_requant(op, w.shape[0])
    elif isinstance(op, Flatten):
        _check(y.shape == (x.size,), op.name, "flatten output must be (H*W*C,)")
        _check(y.qparams == x.qparams, op.name, "flatten must keep quantization")
    elif isinstance(op, (MaxPool2d, AvgPool2d)):
        _validate_pool(op, x, y)
    elif isinstance(op, Clamp):
        _check(x.shape == y.shape and x.qparams == y.qparams, op.name, "clamp keeps shape and quantization")
        _check_clamp_range(op.name, op.lo, op.hi)
    elif isinstance(op, (Add, FloatAdd)):
        _check(len(xs) == 2 and mul_broadcasts(xs[0].shape, xs[1].shape) and y.shape == xs[0].shape, op.name,
               "add needs two same-shape inputs, or an (H, W, C) input and a (1, 1, C) one")
        _check(op.subtract or not op.reverse, op.name, "reverse (inputs[1] - inputs[0]) needs subtract")
        if isinstance(op, Add):
            _check_multipliers(op.name, np.array([op.multiplier1, op.multiplier2, op.output_multiplier]),
                               np.array([op.shift1, op.shift2, op.output_shift]))
            _check_clamp_range(op.name, op.act_min, op.act_max)
    elif isinstance(op, (Concat, FloatConcat)):
        _check(len(xs) >= 2 and all(t.shape[:-1] == y.shape[:-1] for t in xs), op.name,
               "concat needs two or more inputs that differ only in channels")
        _check(sum(t.shape[-1] for t in xs) == y.shape[-1], op.name, "concat output channels")
        if isinstance(op, Concat):
            _check(op.multiplier.shape == op.shift.shape == (len(xs),), op.name, "one multiplier per input")
            _check_multipliers(op.name, op.multiplier, op.shift)
    elif isinstance(op, (Lookup, FloatLookup)):
        _check(op.function in LUT_FUNCTIONS, op.name, f"unknown function {op.function!r}")
        _check(x.shape == y.shape, op.name, "lookup keeps the shape")
        if isinstance(op, Lookup):
            _check(op.table.shape == (256,), op.name, "table must have 256 entries")
    elif isinstance(op, (Softmax, FloatSoftmax)):
        _check(x.shape == y.shape and y.qparams == SOFTMAX_QPARAMS, op.name,
               "softmax keeps the shape; output scale 1/256, zero point -128")
        _check(x.shape[-1] < 2**15, op.name, "softmax rows are limited to 32767 elements")
        if isinstance(op, Softmax):
            table = op.exp_table
            _check(table.shape == (256,) and int(table.min()) >= 0 and int(table[0]) == 2**16, op.name,
                   "exp table must have 256 entries in [0, 2**16], starting at 2**16")
    elif isinstance(op, (LogSoftmax, FloatLogSoftmax)):
        _check(x.shape == y.shape and y.qparams == LOG_SOFTMAX_QPARAMS, op.name,
               "log_softmax keeps the shape; output scale 16/256, zero point 127")
        _check(x.shape[-1] <= quant.LOG_SOFTMAX_ROW_MAX, op.name,
               f"log_softmax rows are limited to {quant.LOG_SOFTMAX_ROW_MAX} elements")
        if isinstance(op, LogSoftmax):
            table = op.exp_table
            _check(table.shape == (256,) and int(table.min()) >= 0 and int(table.max()) <= 2**19
                   and int(table[0]) == 2**19, op.name,
                   "exp table must have 256 entries in [0, 2**19], starting at 2**19")
            _check(op.diff_min == -((31 << 26) >> op.input_shift), op.name,
                   "diff_min must be -floor(31 * 2**26 / 2**input_shift)")
    elif isinstance(op, (Mul, FloatMul, PRelu, FloatPRelu, MulConst, FloatMulConst)):
        _validate_elementwise(op, xs, y)
    elif isinstance(op, MOVE_OPS):
        _validate_move(op, x, y)
    else:  # pragma: no cover - exhaustive over Op
        raise IRError(f"{op!r}: unknown op type")


def _validate_elementwise(op: Mul | FloatMul | PRelu | FloatPRelu | MulConst | FloatMulConst, xs: list[Tensor],
                          y: Tensor) -> None:
    """Shapes and integer parameters of :class:`Mul`, :class:`PRelu` and :class:`MulConst` (and their float
    forms)."""
    if isinstance(op, (Mul, FloatMul)):
        _check(len(xs) == 2 and mul_broadcasts(xs[0].shape, xs[1].shape) and y.shape == xs[0].shape, op.name,
               "mul needs two same-shape inputs, or an (H, W, C) input times a (1, 1, C) one")
        if isinstance(op, Mul):
            _check_multipliers(op.name, np.array([op.multiplier]), np.array([op.shift]))
            _check_clamp_range(op.name, op.act_min, op.act_max)
        return
    channels = xs[0].shape[-1]
    _check(y.shape == xs[0].shape, op.name, "an elementwise op with a constant keeps the shape")
    if isinstance(op, MulConst):
        _check(op.constant.shape == (channels,), op.name, f"constant shape {op.constant.shape} != ({channels},)")
        _check(int(op.constant.min()) >= -127, op.name, "constant must lie in [-127, 127] (symmetric)")
        _check(isinstance(op.constant_scale, float) and math.isfinite(op.constant_scale) and op.constant_scale > 0,
               op.name, f"constant_scale {op.constant_scale!r} must be a positive finite float")
        _check_multipliers(op.name, np.array([op.multiplier]), np.array([op.shift]))
        _check_clamp_range(op.name, op.act_min, op.act_max)
    elif isinstance(op, FloatMulConst):
        _check(op.constant.shape in ((1,), (channels,)), op.name,
               f"constant shape {op.constant.shape}: 1 or {channels} values")
    elif isinstance(op, PRelu):
        _check(op.alpha.shape == (channels,), op.name, f"alpha shape {op.alpha.shape} != ({channels},)")
        _check(int(op.alpha.min()) >= -127, op.name, "alpha must lie in [-127, 127] (symmetric)")
        _check_multipliers(op.name, np.array([op.multiplier_pos, op.multiplier_neg]),
                           np.array([op.shift_pos, op.shift_neg]))
    else:
        _check(op.alpha.shape in ((1,), (channels,)), op.name, f"alpha shape {op.alpha.shape}: 1 or {channels} values")


def _validate_move(op: Reshape | Gather | ResizeNearest, x: Tensor, y: Tensor) -> None:
    _check(y.qparams == x.qparams, op.name, "data movement keeps quantization")
    if isinstance(op, Reshape):
        _check(x.size == y.size, op.name, f"reshape of {x.shape} to {y.shape} changes the size")
    elif isinstance(op, Gather):
        c_in = x.shape[-1]
        pixels = x.size // c_in
        _check(len(op.index) >= 1 and all(0 <= c < c_in for c in op.index), op.name,
               f"gather indices must lie in [0, {c_in})")
        _check(y.size == pixels * len(op.index), op.name, f"gather output size {y.size} != {pixels} * {len(op.index)}")
    else:
        sh, sw = op.scale
        _check(len(x.shape) == 3 and sh >= 1 and sw >= 1, op.name, "resize needs an (H, W, C) input and factors >= 1")
        _check(y.shape == (x.shape[0] * sh, x.shape[1] * sw, x.shape[2]), op.name,
               f"resize output {y.shape} != {(x.shape[0] * sh, x.shape[1] * sw, x.shape[2])}")
