"""Emit a standalone C99 package for an integer graph.

Files written into ``out_dir`` (which must exist and be empty), for model ``name``:

* ``<name>.h``: public API and ``<NAME>_*`` macros (sizes, shapes, quantization, arena).
  Shapes: ``<NAME>_INPUT_DIMS`` is the IR rank (3 for ``(H, W, C)``, 1 for a vector of F
  features); ``<NAME>_INPUT_H/_W/_C`` are always defined, a vector being ``1 x 1 x F``
  (its NHWC layout).  The same holds for the output.
* ``<name>.c``: the arena (one static buffer), ``static const`` kernel parameter structs and
  the layer dispatch; ``<name>_weights.h``: the ``static const`` arrays (flash), included
  only by ``<name>.c``.  Every non-static symbol starts with ``<name>_``, so several models
  link into one program.
* Runtime: ``tq_requant.h``, ``tq_kernels.h`` and the ``tq_<op>_s8.c`` kernels the model
  uses, copied from ``resource_dir("runtime_c")``.  They are identical for a given tinyqat
  version: a program with several models compiles each ``tq_*.c`` once (the ``.mk`` and
  ``CMakeLists.txt`` fragments do that).
* ``<name>.mk`` (Make fragment) and ``CMakeLists.txt`` (static library ``<name>``).
* ``model.json`` (manifest, sorted keys), ``report.md`` (per-layer table and totals) and
  ``model.pt`` (the source artifact, byte for byte, for re-lowering during verification).

Output is a pure function of the arguments: no timestamps, no absolute paths.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from tinyqat import ir
from tinyqat.codegen import clit, stats
from tinyqat.codegen.templates import render
from tinyqat.memory.planner import Plan, check_plan, live_ranges
from tinyqat.resources import resource_dir
from tinyqat.toolchain.boards import Board
from tinyqat.toolchain.host import STRICT_CFLAGS

RUNTIME_HEADERS = ("tq_requant.h", "tq_kernels.h")


@dataclass(frozen=True)
class CArray:
    """A ``static const`` array for ``<name>_weights.h``."""

    ctype: str
    ident: str
    length: int
    body: str
    comment: str


@dataclass(frozen=True)
class Layer:
    """Everything the templates need about one op, already formatted."""

    index: int
    name: str
    ident: str
    kind: str
    input_macro: str
    output_macro: str
    output_size: str
    fields: tuple[tuple[str, str], ...]
    arrays: tuple[CArray, ...]


def kernel_file(op: ir.IntOp) -> str:
    """Runtime source implementing ``op`` (``tq_<kind>_s8.c``)."""
    return f"tq_{stats.op_kind(op)}_s8.c"


def _requant_arrays(op: ir.Conv2d | ir.FullyConnected, ident: str) -> tuple[CArray, ...]:
    return (
        CArray("int8_t", f"{ident}_weights", int(op.weights.size), clit.int8_array_body(op.weights),
               f"weights {list(op.weights.shape)}"),
        CArray("int32_t", f"{ident}_bias", int(op.bias.size), clit.int32_array_body(op.bias), "bias"),
        CArray("int32_t", f"{ident}_multiplier", int(op.multiplier.size), clit.int32_array_body(op.multiplier),
               "requant multiplier"),
        CArray("int32_t", f"{ident}_shift", int(op.shift.size), clit.int32_array_body(op.shift), "requant shift"),
    )


def _fields(op: ir.IntOp, graph: ir.Graph, ident: str) -> list[tuple[str, int | str]]:
    """Kernel parameter struct initializer, field by field (see runtime_c/tq_kernels.h)."""
    x, y = graph.tensor(op.input), graph.tensor(op.output)
    if isinstance(op, ir.Clamp):
        return [("size", x.size), ("lo", op.lo), ("hi", op.hi)]
    if isinstance(op, ir.MaxPool2d):
        return [("in_h", x.shape[0]), ("in_w", x.shape[1]), ("channels", x.shape[2]),
                ("out_h", y.shape[0]), ("out_w", y.shape[1]), ("kernel_h", op.kernel[0]), ("kernel_w", op.kernel[1]),
                ("stride_h", op.stride[0]), ("stride_w", op.stride[1]),
                ("pad_top", op.padding[0]), ("pad_left", op.padding[1])]
    quant = [("input_zero_point", x.qparams.zero_point), ("output_zero_point", y.qparams.zero_point),
             ("act_min", op.act_min), ("act_max", op.act_max)]
    arrays = [(a, f"{ident}_{a}") for a in ("weights", "bias", "multiplier", "shift")]
    if isinstance(op, ir.FullyConnected):
        return [("in_features", x.size), ("out_features", y.size), *quant, *arrays]
    kh, kw = op.kernel
    return [("in_h", x.shape[0]), ("in_w", x.shape[1]), ("in_c", x.shape[2]),
            ("out_h", y.shape[0]), ("out_w", y.shape[1]), ("out_c", y.shape[2]), ("kernel_h", kh), ("kernel_w", kw),
            ("stride_h", op.stride[0]), ("stride_w", op.stride[1]),
            ("pad_top", op.padding[0]), ("pad_left", op.padding[1]), *quant, *arrays]


def _layer(index: int, op: ir.IntOp, graph: ir.Graph, macro: dict[str, str]) -> Layer:
    ident = f"l{index}_{clit.sanitize(op.name)}"
    fields = tuple((f, v if isinstance(v, str) else clit.c_int(v)) for f, v in _fields(op, graph, ident))
    arrays = _requant_arrays(op, ident) if isinstance(op, (ir.Conv2d, ir.FullyConnected)) else ()
    return Layer(index, clit.c_comment(op.name), ident, stats.op_kind(op), macro[op.input], macro[op.output],
                 clit.c_int(graph.tensor(op.output).size), fields, arrays)


def _layer_json(index: int, op: ir.IntOp, graph: ir.Graph, plan: Plan) -> dict[str, object]:
    entry: dict[str, object] = {
        "index": index, "name": op.name, "op": stats.op_kind(op), "input": op.input, "output": op.output,
        "output_offset": plan.offset(op.output), "output_size": graph.tensor(op.output).size,
        "macs": stats.macs(op, graph), "params": stats.params(op),
    }
    if isinstance(op, (ir.Conv2d, ir.FullyConnected)):
        entry.update(multiplier=op.multiplier.tolist(), shift=op.shift.tolist(), act_min=op.act_min,
                     act_max=op.act_max)
    if isinstance(op, (ir.Conv2d, ir.MaxPool2d)):
        entry.update(kernel=list(op.kernel), stride=list(op.stride), padding=list(op.padding))
    if isinstance(op, ir.MaxPool2d):
        entry["ceil_mode"] = op.ceil_mode
    if isinstance(op, ir.Clamp):
        entry.update(lo=op.lo, hi=op.hi)
    return entry


def _manifest(graph: ir.Graph, plan: Plan, board: Board, name: str, source_artifact: bytes,
              generator: str) -> dict[str, object]:
    x, y = graph.tensor(graph.input), graph.tensor(graph.output)
    planned = [a.tensor for a in live_ranges(graph)]
    return {
        "generator": generator, "name": name, "board": board.name,
        "source_sha256": hashlib.sha256(source_artifact).hexdigest(),
        "input_scale": x.qparams.scale, "input_zero_point": x.qparams.zero_point,
        "output_scale": y.qparams.scale, "output_zero_point": y.qparams.zero_point,
        "input_shape": list(x.shape), "output_shape": list(y.shape),
        "arena_bytes": plan.arena_size, "weights_bytes": stats.weights_bytes(graph),
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


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def emit_package(graph: ir.Graph, plan: Plan, board: Board, name: str, out_dir: Path, source_artifact: bytes,
                 generator: str) -> None:
    """Write the C package of integer ``graph`` laid out by ``plan`` into the empty directory ``out_dir``.

    Raises :class:`tinyqat.codegen.clit.IdentifierError` for a ``name`` that is not a C
    identifier, :class:`tinyqat.ir.IRError` for a graph that is not an integer graph with at
    least one op, ``ValueError`` for an invalid plan or a non-empty ``out_dir``.
    """
    clit.check_identifier(name)
    ir.validate(graph)
    if not graph.ops or not graph.is_integer:
        raise ir.IRError("code generation needs a lowered integer graph with at least one op")
    check_plan(graph, plan)
    if any(out_dir.iterdir()):
        raise ValueError(f"output directory {out_dir} is not empty")

    planned = [a.tensor for a in live_ranges(graph)]
    macro = {t: f"OFFSET_T{k}" for k, t in enumerate(planned)}
    offsets = [(macro[t], plan.offset(t), clit.c_comment(f"{t}: {_shape_text(graph.tensor(t).shape)}, "
                                                          f"{graph.tensor(t).size} bytes")) for t in planned]
    layers = [_layer(i, op, graph, macro) for i, op in enumerate(graph.ops)]
    kernels = sorted({kernel_file(op) for op in graph.ops})
    upper = name.upper()
    common = {"name": name, "NAME": upper, "generator": clit.c_comment(generator), "board": board.name}
    macros = [*_io_macros(f"{upper}_INPUT", graph.tensor(graph.input)),
              *_io_macros(f"{upper}_OUTPUT", graph.tensor(graph.output)),
              (f"{upper}_NUM_LAYERS", clit.c_int(len(graph.ops))), (f"{upper}_ARENA_SIZE", clit.c_int(plan.arena_size))]
    report_rows = [{"index": i, "name": op.name.replace("|", "\\|"), "op": stats.op_kind(op),
                    "shape": _shape_text(graph.tensor(op.output).shape), "macs": stats.macs(op, graph),
                    "params": stats.params(op), "bytes": graph.tensor(op.output).size, "offset": plan.offset(op.output)}
                   for i, op in enumerate(graph.ops)]
    totals = {"macs": stats.total_macs(graph), "params": sum(stats.params(op) for op in graph.ops),
              "weights_bytes": stats.weights_bytes(graph), "arena_bytes": plan.arena_size,
              "peak_bytes": plan.peak_live_bytes}
    cflags = [*STRICT_CFLAGS, *board.cflags]

    files = {
        f"{name}.h": render("model.h.j2", **common, macros=macros),
        f"{name}.c": render("model.c.j2", **common, layers=layers, offsets=offsets,
                            input_macro=macro[graph.input], output_macro=macro[graph.output]),
        f"{name}_weights.h": render("model_weights.h.j2", **common, layers=layers),
        f"{name}.mk": render("model.mk.j2", **common, kernels=kernels, cflags=cflags),
        "CMakeLists.txt": render("CMakeLists.txt.j2", **common, kernels=kernels, cflags=cflags),
        "report.md": render("report.md.j2", **common, rows=report_rows, totals=totals),
        "model.json": json.dumps(_manifest(graph, plan, board, name, source_artifact, generator),
                                 indent=2, sort_keys=True) + "\n",
    }
    for fname, text in files.items():
        (out_dir / fname).write_bytes(text.encode("utf-8"))
    (out_dir / "model.pt").write_bytes(source_artifact)
    runtime = resource_dir("runtime_c")
    for fname in (*RUNTIME_HEADERS, *kernels):
        shutil.copyfile(runtime / fname, out_dir / fname)
