"""The lowered int8 graph: frozen dataclasses, validated after every pass.

Conventions (units and layouts):

* Every tensor is described **per sample** (no batch dimension) in channels-last order:
  feature maps are ``(H, W, C)``, vectors are ``(F,)``.  This is the byte order of the
  arena in the generated C (NHWC with N = 1).
* A quantized value ``q`` (int8) stands for the real number ``scale * (q - zero_point)``;
  ``scale`` is a float32 value in real units per LSB, ``zero_point`` is in ``[-128, 127]``.
* Padding is explicit ``(top, left, bottom, right)`` in input pixels.
* Conv weights are int8 ``[out][kh][kw][in]``, fully-connected weights int8 ``[out][in]``
  (``in`` in the channels-last flattened order of the input tensor), biases int32 with
  scale ``input_scale * weight_scale[c]`` and zero point 0.
* ``multiplier``/``shift`` are the per-output-channel int32 pairs from
  :func:`tinyqat.fixedpoint.quantize_multiplier`.

Two op families exist: *float* ops (:class:`FloatConv2d`, :class:`FloatLinear`,
:class:`Flatten`), which carry the trained float parameters straight from the artifact,
and *integer* ops (:class:`Conv2d`, :class:`FullyConnected`, :class:`MaxPool2d`,
:class:`Clamp`), which are what the simulator and the C runtime execute.  Lowering
turns the first family into the second (see :mod:`tinyqat.lower`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinyqat.errors import TinyQatError

INT8_MIN, INT8_MAX = -128, 127
WEIGHT_MIN, WEIGHT_MAX = -127, 127


class IRError(TinyQatError):
    """The graph violates an IR invariant (a bug in a pass, or a malformed artifact)."""


def _frozen_array(a: np.ndarray, dtype: type) -> np.ndarray:
    out = np.ascontiguousarray(a, dtype=dtype).copy()
    out.setflags(write=False)
    return out


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
            object.__setattr__(self, name, _frozen_array(getattr(self, name), np.float32))


@dataclass(frozen=True, eq=False)
class FloatConv2d:
    """A trained convolution before quantization.

    ``weight`` is float32 ``[out][in][kh][kw]`` (PyTorch order), ``bias`` float32 ``[out]``.
    ``activation`` is ``"none"``, ``"relu"`` or ``"relu6"`` (fused clamp).
    """

    name: str
    input: str
    output: str
    weight: np.ndarray
    bias: np.ndarray
    bn: BatchNorm | None
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]
    activation: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _frozen_array(self.weight, np.float32))
        object.__setattr__(self, "bias", _frozen_array(self.bias, np.float32))


@dataclass(frozen=True, eq=False)
class FloatLinear:
    """A trained fully-connected layer: float32 ``weight [out][in]`` (input in the order of
    the *input tensor's* channels-last layout once :func:`tinyqat.passes.layout` ran)."""

    name: str
    input: str
    output: str
    weight: np.ndarray
    bias: np.ndarray
    bn: BatchNorm | None
    activation: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _frozen_array(self.weight, np.float32))
        object.__setattr__(self, "bias", _frozen_array(self.bias, np.float32))


@dataclass(frozen=True)
class Flatten:
    """PyTorch ``flatten(1)`` of an NCHW tensor; removed by the layout pass (no C code)."""

    name: str
    input: str
    output: str


@dataclass(frozen=True, eq=False)
class Conv2d:
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen_array(self.weights, np.int8))
        for name in ("bias", "multiplier", "shift"):
            object.__setattr__(self, name, _frozen_array(getattr(self, name), np.int32))

    @property
    def kernel(self) -> tuple[int, int]:
        """``(kh, kw)`` in input pixels."""
        return int(self.weights.shape[1]), int(self.weights.shape[2])


@dataclass(frozen=True, eq=False)
class FullyConnected:
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", _frozen_array(self.weights, np.int8))
        for name in ("bias", "multiplier", "shift"):
            object.__setattr__(self, name, _frozen_array(getattr(self, name), np.int32))


@dataclass(frozen=True)
class MaxPool2d:
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
class Clamp:
    """Elementwise ``y = min(max(x, lo), hi)`` on int8 with unchanged quantization
    (a standalone ReLU / ReLU6; ``lo``/``hi`` computed as TFLite's fused activation range)."""

    name: str
    input: str
    output: str
    lo: int
    hi: int


FloatOp = FloatConv2d | FloatLinear | Flatten
IntOp = Conv2d | FullyConnected | MaxPool2d | Clamp
Op = FloatOp | IntOp
INT_OPS = (Conv2d, FullyConnected, MaxPool2d, Clamp)


@dataclass(frozen=True)
class Graph:
    """A straight-line graph: ``ops`` in execution order, one input, one output."""

    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]
    input: str
    output: str
    source_sha256: str = ""
    tensor_index: dict[str, Tensor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tensor_index", {t.name: t for t in self.tensors})

    def tensor(self, name: str) -> Tensor:
        """The tensor called ``name``."""
        try:
            return self.tensor_index[name]
        except KeyError:
            raise IRError(f"unknown tensor {name!r}") from None

    def consumers(self, name: str) -> list[Op]:
        """Ops that read tensor ``name``."""
        return [op for op in self.ops if op.input == name]

    @property
    def is_integer(self) -> bool:
        """True once every op is an integer op (lowering finished)."""
        return all(isinstance(op, INT_OPS) for op in self.ops)


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


def _check(cond: bool, op_name: str, msg: str) -> None:
    if not cond:
        raise IRError(f"{op_name}: {msg}")


def _check_requant(op: Conv2d | FullyConnected, out_c: int) -> None:
    for arr_name in ("bias", "multiplier", "shift"):
        arr = getattr(op, arr_name)
        _check(arr.shape == (out_c,), op.name, f"{arr_name} shape {arr.shape} != ({out_c},)")
    _check(bool(np.all(op.multiplier >= 0)), op.name, "negative multiplier")
    _check(bool(np.all((op.shift >= -31) & (op.shift <= 30))), op.name, "shift outside [-31, 30]")
    _check(int(op.weights.min(initial=0)) >= WEIGHT_MIN, op.name, "weight -128 (symmetric range is [-127, 127])")


def _check_clamp_range(op_name: str, lo: int, hi: int) -> None:
    _check(INT8_MIN <= lo <= hi <= INT8_MAX, op_name, f"clamp [{lo}, {hi}] not inside int8")


def validate(graph: Graph) -> Graph:
    """Check every invariant of ``graph``; return it unchanged or raise :class:`IRError`.

    Checks: unique tensor names; each op reads a defined tensor and defines a new one;
    the output is defined; shapes agree with each op's parameters; dtypes of parameter
    arrays; quantization ranges (scale finite and > 0, zero point and clamps in int8,
    weights in [-127, 127], shifts in [-31, 30]).
    """
    names = [t.name for t in graph.tensors]
    if len(set(names)) != len(names):
        raise IRError("duplicate tensor names")
    for t in graph.tensors:
        _check(all(d > 0 for d in t.shape) and len(t.shape) in (1, 3), t.name, f"bad shape {t.shape}")
        _check(np.isfinite(t.qparams.scale) and t.qparams.scale > 0, t.name, f"bad scale {t.qparams.scale}")
        _check(INT8_MIN <= t.qparams.zero_point <= INT8_MAX, t.name, "zero point outside int8")
    defined = {graph.input}
    graph.tensor(graph.input)
    for op in graph.ops:
        _check(op.input in defined, op.name, f"reads undefined tensor {op.input!r}")
        _check(op.output not in defined, op.name, f"redefines tensor {op.output!r}")
        defined.add(op.output)
        _validate_op(op, graph.tensor(op.input), graph.tensor(op.output))
    _check(graph.output in defined, "graph", f"output {graph.output!r} is never computed")
    return graph


def _validate_op(op: Op, x: Tensor, y: Tensor) -> None:
    if isinstance(op, (FloatConv2d, Conv2d)):
        _check(len(x.shape) == 3 and len(y.shape) == 3, op.name, "conv needs (H, W, C) tensors")
        if isinstance(op, Conv2d):
            out_c, kh, kw, in_c = op.weights.shape
            _check_requant(op, out_c)
            _check_clamp_range(op.name, op.act_min, op.act_max)
        else:
            out_c, in_c, kh, kw = op.weight.shape
            _check(op.bias.shape == (out_c,), op.name, "bias shape")
        _check(x.shape[2] == in_c, op.name, f"input has {x.shape[2]} channels, weights expect {in_c}")
        pt, pl, pb, pr = op.padding
        oh = conv_output_size(x.shape[0], kh, op.stride[0], pt, pb)
        ow = conv_output_size(x.shape[1], kw, op.stride[1], pl, pr)
        _check(y.shape == (oh, ow, out_c), op.name, f"output shape {y.shape} != {(oh, ow, out_c)}")
        _check(min(op.padding) >= 0 and min(op.stride) >= 1, op.name, "bad stride/padding")
    elif isinstance(op, (FloatLinear, FullyConnected)):
        w = op.weights if isinstance(op, FullyConnected) else op.weight
        _check(w.ndim == 2, op.name, "weights must be 2-D")
        _check(w.shape[1] == x.size, op.name, f"input has {x.size} features, weights expect {w.shape[1]}")
        _check(y.shape == (w.shape[0],), op.name, f"output shape {y.shape} != ({w.shape[0]},)")
        if isinstance(op, FullyConnected):
            _check_requant(op, w.shape[0])
            _check_clamp_range(op.name, op.act_min, op.act_max)
    elif isinstance(op, Flatten):
        _check(y.shape == (x.size,), op.name, "flatten output must be (H*W*C,)")
        _check(y.qparams == x.qparams, op.name, "flatten must keep quantization")
    elif isinstance(op, MaxPool2d):
        _check(len(x.shape) == 3 and y.shape[2] == x.shape[2], op.name, "pool needs (H, W, C) in and out")
        _check(y.qparams == x.qparams, op.name, "max pool must keep quantization")
        pt, pl, pb, pr = op.padding
        _check(pt == pb and pl == pr, op.name, "pool padding must be symmetric")
        _check(2 * pt <= op.kernel[0] and 2 * pl <= op.kernel[1], op.name, "padding > kernel/2")
        oh = pool_output_size(x.shape[0], op.kernel[0], op.stride[0], pt, op.ceil_mode)
        ow = pool_output_size(x.shape[1], op.kernel[1], op.stride[1], pl, op.ceil_mode)
        _check(y.shape[:2] == (oh, ow), op.name, f"output shape {y.shape[:2]} != {(oh, ow)}")
    elif isinstance(op, Clamp):
        _check(x.shape == y.shape and x.qparams == y.qparams, op.name, "clamp keeps shape and quantization")
        _check_clamp_range(op.name, op.lo, op.hi)
    else:  # pragma: no cover - exhaustive over Op
        raise IRError(f"{op!r}: unknown op type")
