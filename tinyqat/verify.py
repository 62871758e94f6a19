"""``tinyqat verify``: the generated C must equal the simulator byte for byte, layer by layer.

The package's ``model.pt`` is lowered again (lowering is deterministic and its sha256 is
checked against ``model.json``), the simulator runs every input, and the C package,
compiled with gcc and loaded through cffi, runs the same inputs one layer at a time.
Every layer's output is compared, not only the last, and then every model output (a model may return
several) as it is after the last layer; the first diverging layer, and the model output it is, are named.

Inputs: seeded random int8 samples plus the extremes (all -128, all 127, all equal to the
input zero point), or the user's own samples (int8, PyTorch layout).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from tinyqat import ir
from tinyqat.boards import package_board
from tinyqat.errors import TinyQatError, VerificationError
from tinyqat.lower import lower_file
from tinyqat.sim.interpreter import input_from_torch, run_layers
from tinyqat.toolchain.cffi_model import load_model
from tinyqat.toolchain.compiler import compile_shared
from tinyqat.toolchain.harness import run_harness
from tinyqat.toolchain.manifest import model_outputs, read_manifest
from tinyqat.toolchain.qemu import run_emulated

MAX_INPUT_BYTES = 1 << 30  # a --inputs file: 1 GiB of int8 samples


@dataclass(frozen=True)
class Mismatch:
    """The first layer whose C output differs from the simulator's, or, when every layer matched right
    after it ran, the first model output that differs after the last layer (``output`` is its index; a
    later layer wrote over it); ``outputs`` names the model outputs the diverging tensor is."""

    layer: int
    name: str
    op: str
    sample: int
    differing_bytes: int
    max_abs_diff: int
    output: int | None = None
    outputs: str = ""

    def __str__(self) -> str:
        where = f"layer {self.layer} '{self.name}' ({self.op})"
        if self.output is not None:
            where = f"{self.outputs or 'the model output'} (computed by {where}) read after the last layer"
        elif self.outputs:
            where += f", which is {self.outputs},"
        return f"{where} diverges on sample {self.sample}: {self.differing_bytes} bytes differ, " \
               f"max |diff| {self.max_abs_diff}"


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of a verification run."""

    samples: int
    layers: int
    compared_bytes: int
    mismatch: Mismatch | None
    outputs: int = 1  # model outputs, each compared after the last layer too

    @property
    def ok(self) -> bool:
        """True when every layer output of every sample matched."""
        return self.mismatch is None


def verification_inputs(graph: ir.Graph, n_random: int, seed: int = 0) -> np.ndarray:
    """Channels-last int8 batch: ``n_random`` seeded random samples, then the three extremes."""
    inp = graph.tensor(graph.input)
    rng = np.random.default_rng(seed)
    random = rng.integers(-128, 128, (n_random, *inp.shape), dtype=np.int16)
    extremes = np.stack([np.full(inp.shape, v) for v in (-128, 127, inp.qparams.zero_point)])
    return np.concatenate([random, extremes]).astype(np.int8)


def compare_layers(
    graph: ir.Graph, expected: dict[str, np.ndarray], got: list[list[np.ndarray]]
) -> tuple[int, Mismatch | None]:
    """Compare C outputs ``got[sample][k]`` with simulator tensors: for ``k < len(graph.ops)`` layer ``k``'s
    output right after it ran, then each model output after the last layer (the harnesses'
    :func:`~tinyqat.toolchain.harness.split_layers` order); first mismatch wins, every layer before any output."""
    producer = {op.output: k for k, op in enumerate(graph.ops)}
    checks = [(k, op.output, None) for k, op in enumerate(graph.ops)]
    checks += [(len(graph.ops) + i, name, i) for i, name in enumerate(graph.outputs)]
    compared = 0
    for k, tensor, output in checks:
        want = expected[tensor].reshape(len(got), -1)
        for sample, outputs in enumerate(got):
            diff = outputs[k].reshape(-1).astype(np.int16) - want[sample]
            compared += diff.size
            if np.any(diff):
                layer = producer[tensor]
                op = graph.ops[layer]
                return compared, Mismatch(layer, op.name, type(op).__name__, sample, int(np.count_nonzero(diff)),
                                          int(np.abs(diff).max()), output, _output_names(graph, tensor))
    return compared, None


def _output_names(graph: ir.Graph, tensor: str) -> str:
    """``"model output i 'name'"`` when ``tensor`` is one of several model outputs, else ``""``."""
    if len(graph.outputs) == 1 or tensor not in graph.outputs:
        return ""
    return f"model output {graph.outputs.index(tensor)} '{tensor}'"


def verify(
    out_dir: str | Path,
    *,
    samples: np.ndarray | None = None,
    n_random: int = 32,
    seed: int = 0,
    sanitize: bool = False,
    emulate: bool = False,
    progress: bool = False,
) -> VerifyReport:
    """Compile the package in ``out_dir`` and compare every layer with the simulator.

    ``sanitize`` builds a standalone harness with ``-fsanitize=address,undefined`` instead of
    the cffi shared library.  ``emulate`` builds it bare metal for the package's board (``board``
    in ``model.json``) and runs it under QEMU (:func:`tinyqat.toolchain.qemu.run_emulated`).
    Raises :class:`TinyQatError` for unusable inputs or packages;
    a mismatch is reported in the returned :class:`VerifyReport` (see :func:`check`).
    """
    out_dir = Path(out_dir)
    if not (out_dir / "model.json").is_file() or not (out_dir / "model.pt").is_file():
        raise TinyQatError(f"{out_dir} is not a tinyqat build output (model.json and model.pt expected)")
    meta = read_manifest(out_dir)
    if emulate and sanitize:
        raise TinyQatError("emulation and sanitizers cannot be combined (sanitizers run on the build machine)")
    board = package_board(out_dir, meta["board"]) if emulate else None
    if board is not None and board.qemu_machine is None:
        raise TinyQatError(f"{out_dir} is built for board {board.name!r}, which runs on the build machine, not "
                           f"in an emulator: verify it without emulation, or build for a Cortex-M board")
    graph = lower_file(out_dir / "model.pt")
    if graph.source_sha256 != meta["source_sha256"] or not _manifest_matches(meta, graph):
        raise TinyQatError(f"{out_dir}/model.pt does not match model.json (was the package edited?)")
    x = verification_inputs(graph, n_random, seed) if samples is None else input_from_torch(graph, samples)
    expected = run_layers(graph, x)
    with tempfile.TemporaryDirectory(prefix="tinyqat-verify-") as build_dir:
        if board is not None:
            got = run_emulated(out_dir, Path(build_dir), x, board)
        elif sanitize:
            got = run_harness(out_dir, Path(build_dir), x, sanitize=True)
        else:
            lib = load_model(compile_shared(out_dir, Path(build_dir)), meta["name"], len(graph.outputs))
            sizes = [graph.tensor(op.output).size for op in graph.ops]
            got = []
            # disable=None: no progress bar when stderr is not a terminal (logs, captured output)
            bar = tqdm(x, desc="verify", unit="sample", disable=None if progress else True, leave=False)
            for sample in bar:
                lib.write_input(sample)
                outputs = []
                for i, size in enumerate(sizes):
                    lib.run_layer(i)
                    outputs.append(lib.layer_output(i, size))
                got.append([*outputs, *(lib.output(i) for i in range(len(graph.outputs)))])
    compared, mismatch = compare_layers(graph, expected, got)
    return VerifyReport(len(x), len(graph.ops), compared, mismatch, len(graph.outputs))


def _manifest_matches(meta: dict, graph: ir.Graph) -> bool:
    """The manifest's input shape, layer outputs and model outputs (what the harnesses split their output by)
    are the graph's."""
    shapes = {t["name"]: tuple(t["shape"]) for t in meta["tensors"]}
    return (tuple(meta["input_shape"]) == graph.tensor(graph.input).shape and len(meta["layers"]) == len(graph.ops)
            and tuple(model_outputs(meta)) == graph.outputs
            and all(layer["output"] == op.output and shapes[layer["output"]] == graph.tensor(op.output).shape
                    for layer, op in zip(meta["layers"], graph.ops, strict=True)))


def load_inputs(path: Path) -> np.ndarray:
    """The array in the ``.npy`` file ``path``, refused in one line (:class:`TinyQatError`) when the file
    is not a ``.npy``, holds Python objects, or declares more than :data:`MAX_INPUT_BYTES` (read from
    its header, before the data is allocated)."""
    if not path.is_file():  # not a FIFO or device either: reading those could block or never end
        raise TinyQatError(f"{path}: not a readable .npy array (no such file; save the inputs with numpy.save)")
    try:
        with path.open("rb") as f:
            if f.read(6) != b"\x93NUMPY":
                raise TinyQatError(f"{path}: not a .npy file (save the inputs with numpy.save)")
            f.seek(0)
            version = np.lib.format.read_magic(f)
            readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in readers:
                raise TinyQatError(f"{path}: .npy format version {version} is not supported (save it with numpy.save)")
            shape, _, dtype = readers[version](f)
            if dtype.hasobject:
                raise TinyQatError(f"{path}: not a readable .npy array (it holds Python objects; save int8 values)")
            if math.prod(shape) * dtype.itemsize > MAX_INPUT_BYTES:
                raise TinyQatError(f"{path}: declares {shape} {dtype} values, more than {MAX_INPUT_BYTES} bytes")
            f.seek(0)
            return np.load(f, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc).splitlines() or [""])[0]
        raise TinyQatError(f"{path}: not a readable .npy array ({reason or type(exc).__name__})") from None


def check(report: VerifyReport) -> VerifyReport:
    """Raise :class:`VerificationError` naming the first diverging layer, else return ``report``."""
    if report.mismatch is not None:
        raise VerificationError(f"C output differs from the simulator: {report.mismatch}")
    return report
