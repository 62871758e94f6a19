"""The subset of TensorFlow Lite's flatbuffer schema that tinyqat writes, and its serializer.

A ``.tflite`` file is a flatbuffer (file identifier ``TFL3``) whose root table is ``Model``
(schema version 3).  Only the tables and fields below are written; every other field keeps
the schema's default.  Field numbers (the n-th field of a table, counted from 0, as declared
in TensorFlow Lite's ``schema.fbs``):

* ``Model``: 0 version (uint32), 1 operator_codes, 2 subgraphs, 3 description (string), 4 buffers
* ``SubGraph``: 0 tensors, 1 inputs (int32 vector), 2 outputs (int32 vector), 3 operators, 4 name
* ``Tensor``: 0 shape (int32 vector), 1 type (int8 enum), 2 buffer (uint32), 3 name, 4 quantization
* ``QuantizationParameters``: 2 scale (float32 vector), 3 zero_point (int64 vector), 6 quantized_dimension
* ``Operator``: 0 opcode_index (uint32), 1 inputs, 2 outputs (int32 vectors), 3 builtin_options_type
  (uint8 union tag), 4 builtin_options (table)
* ``OperatorCode``: 0 deprecated_builtin_code (int8, ``min(code, 127)``), 2 version, 3 builtin_code
* ``Buffer``: 0 data (uint8 vector; written 16-byte aligned, as TFLite Micro reads weights in place)

Buffer 0 is the empty buffer every non-constant tensor points at.  Defaults are written
explicitly (``ForceDefaults``), so readers never depend on the schema's default values, and the
same model always serializes to the same bytes (no timestamps, no dictionaries iterated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import flatbuffers

FILE_IDENTIFIER = b"TFL3"
SCHEMA_VERSION = 3
DATA_ALIGNMENT = 16

# TensorType
INT8, INT32 = 9, 2

# BuiltinOperator codes
ADD, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D = 0, 1, 2, 3, 4
FULLY_CONNECTED, MAX_POOL_2D, PAD, GATHER, CAST, MAXIMUM, MINIMUM, PADV2, QUANTIZE = 9, 17, 34, 36, 53, 55, 57, 60, 114
RESHAPE, RESIZE_NEAREST_NEIGHBOR, MUL, PRELU, LOG_SOFTMAX, SUB = 22, 97, 18, 54, 50, 41

# BuiltinOptions union tags
CONV_2D_OPTIONS, DEPTHWISE_CONV_2D_OPTIONS, POOL_2D_OPTIONS, FULLY_CONNECTED_OPTIONS = 1, 2, 5, 8
CONCATENATION_OPTIONS, ADD_OPTIONS, PAD_OPTIONS, GATHER_OPTIONS, CAST_OPTIONS = 10, 11, 22, 23, 37
MAXIMUM_MINIMUM_OPTIONS, PADV2_OPTIONS = 39, 43
QUANTIZE_OPTIONS, LOG_SOFTMAX_OPTIONS, SUB_OPTIONS = 89, 36, 28
RESHAPE_OPTIONS, RESIZE_NEAREST_NEIGHBOR_OPTIONS, MUL_OPTIONS, NO_OPTIONS = 17, 74, 21, 0

# Padding and ActivationFunctionType enums
SAME, VALID = 0, 1
ACT_NONE, ACT_RELU, ACT_RELU_N1_TO_1, ACT_RELU6 = 0, 1, 2, 3


@dataclass(frozen=True)
class Quantization:
    """Affine quantization of a tensor: ``real = scale[c] * (q - zero_point[c])`` along ``dimension``."""

    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    dimension: int = 0


@dataclass(frozen=True)
class Tensor:
    """A tensor: ``data`` (little-endian bytes) for constants, ``None`` for activations."""

    name: str
    shape: tuple[int, ...]
    dtype: int
    quantization: Quantization | None
    data: bytes | None = None


@dataclass(frozen=True)
class Options:
    """A builtin options table: union tag ``kind`` and ``(field number, type, value)`` scalar fields,
    type ``"b"`` int8 (enums), ``"i"`` int32 or ``"?"`` bool."""

    kind: int
    fields: tuple[tuple[int, str, int], ...] = ()


@dataclass(frozen=True)
class Operator:
    """One operator: builtin code, operator version, tensor indices and options."""

    builtin: int
    version: int
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: Options


@dataclass(frozen=True)
class Model:
    """One subgraph: tensors, operators in execution order, graph input and output indices."""

    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str


def _scalars(b: flatbuffers.Builder, values: Sequence[int | float], size: int, prepend: str) -> int:
    b.StartVector(size, len(values), size)
    for v in reversed(values):
        getattr(b, prepend)(v)
    return b.EndVector()


def _tables(b: flatbuffers.Builder, offsets: Sequence[int]) -> int:
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


def _data(b: flatbuffers.Builder, data: bytes) -> int:
    """A uint8 vector whose first byte is :data:`DATA_ALIGNMENT`-aligned."""
    b.StartVector(1, len(data), DATA_ALIGNMENT)
    b.head -= len(data)
    b.Bytes[b.head : b.head + len(data)] = data
    return b.EndVector()


def _quantization(b: flatbuffers.Builder, q: Quantization) -> int:
    scale = _scalars(b, q.scales, 4, "PrependFloat32")
    zero_point = _scalars(b, q.zero_points, 8, "PrependInt64")
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(2, scale, 0)
    b.PrependUOffsetTRelativeSlot(3, zero_point, 0)
    b.PrependInt32Slot(6, q.dimension, 0)
    return b.EndObject()


def _tensor(b: flatbuffers.Builder, t: Tensor, buffer: int) -> int:
    name = b.CreateString(t.name)
    shape = _scalars(b, t.shape, 4, "PrependInt32")
    quant = _quantization(b, t.quantization) if t.quantization is not None else None
    b.StartObject(10)
    b.PrependUOffsetTRelativeSlot(0, shape, 0)
    b.PrependInt8Slot(1, t.dtype, 0)
    b.PrependUint32Slot(2, buffer, 0)
    b.PrependUOffsetTRelativeSlot(3, name, 0)
    if quant is not None:
        b.PrependUOffsetTRelativeSlot(4, quant, 0)
    return b.EndObject()


def _options(b: flatbuffers.Builder, o: Options) -> int:
    b.StartObject(max((f for f, _, _ in o.fields), default=-1) + 1)
    for field, kind, value in o.fields:
        {"b": b.PrependInt8Slot, "i": b.PrependInt32Slot, "?": b.PrependBoolSlot}[kind](field, value, 0)
    return b.EndObject()


def _operator(b: flatbuffers.Builder, op: Operator, opcode_index: int) -> int:
    inputs = _scalars(b, op.inputs, 4, "PrependInt32")
    outputs = _scalars(b, op.outputs, 4, "PrependInt32")
    options = _options(b, op.options)
    b.StartObject(5)
    b.PrependUint32Slot(0, opcode_index, 0)
    b.PrependUOffsetTRelativeSlot(1, inputs, 0)
    b.PrependUOffsetTRelativeSlot(2, outputs, 0)
    b.PrependUint8Slot(3, op.options.kind, 0)
    b.PrependUOffsetTRelativeSlot(4, options, 0)
    return b.EndObject()


def _operator_code(b: flatbuffers.Builder, builtin: int, version: int) -> int:
    b.StartObject(4)
    b.PrependInt8Slot(0, min(builtin, 127), 0)
    b.PrependInt32Slot(2, version, 1)
    b.PrependInt32Slot(3, builtin, 0)
    return b.EndObject()


def _buffer(b: flatbuffers.Builder, data: bytes | None) -> int:
    vec = _data(b, data) if data else None
    b.StartObject(3)
    if vec is not None:
        b.PrependUOffsetTRelativeSlot(0, vec, 0)
    return b.EndObject()


def serialize(model: Model) -> bytes:
    """The ``.tflite`` bytes of ``model`` (one subgraph; operator codes in order of first use)."""
    codes = list(dict.fromkeys((op.builtin, op.version) for op in model.operators))
    b = flatbuffers.Builder(1024)
    b.ForceDefaults(True)
    constants = [t.data for t in model.tensors if t.data is not None]
    buffers = [_buffer(b, None)] + [_buffer(b, data) for data in constants]
    buffer_index, next_buffer = [], 1
    for t in model.tensors:
        buffer_index.append(next_buffer if t.data is not None else 0)
        next_buffer += t.data is not None
    tensors = [_tensor(b, t, i) for t, i in zip(model.tensors, buffer_index)]
    operators = [_operator(b, op, codes.index((op.builtin, op.version))) for op in model.operators]
    subgraph_vectors = (_tables(b, tensors), _scalars(b, model.inputs, 4, "PrependInt32"),
                        _scalars(b, model.outputs, 4, "PrependInt32"), _tables(b, operators), b.CreateString("main"))
    b.StartObject(5)
    for field, off in enumerate(subgraph_vectors):
        b.PrependUOffsetTRelativeSlot(field, off, 0)
    subgraph = b.EndObject()
    opcodes = _tables(b, [_operator_code(b, *code) for code in codes])
    subgraphs = _tables(b, [subgraph])
    description = b.CreateString(model.description)
    buffer_vec = _tables(b, buffers)
    b.StartObject(5)
    b.PrependUint32Slot(0, SCHEMA_VERSION, 0)
    b.PrependUOffsetTRelativeSlot(1, opcodes, 0)
    b.PrependUOffsetTRelativeSlot(2, subgraphs, 0)
    b.PrependUOffsetTRelativeSlot(3, description, 0)
    b.PrependUOffsetTRelativeSlot(4, buffer_vec, 0)
    b.Finish(b.EndObject(), file_identifier=FILE_IDENTIFIER)
    return bytes(b.Output())
