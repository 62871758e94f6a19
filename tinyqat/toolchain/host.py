"""Build and run generated packages on the build machine: gcc + cffi, and a sanitizer harness.

* :func:`compile_shared` builds every ``*.c`` of a package into ``lib<name>.so`` with
  ``gcc -O2 -fPIC -shared`` and :data:`STRICT_CFLAGS`.
* :func:`load_model` opens it with cffi (ABI mode, ``ffi.dlopen``) as a :class:`ModelLib`.
  The C model keeps one static arena, so one loaded library is one model instance.
* :func:`run_harness` builds ``templates/harness.c.j2`` (plain C99 stdio, so it can also run
  bare metal under semihosting) with the package, optionally under AddressSanitizer and
  UndefinedBehaviorSanitizer, and returns every layer's output for every input sample.

The package name comes from its ``model.json`` manifest.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cffi
import numpy as np

from tinyqat.codegen.templates import render
from tinyqat.errors import ToolchainError
from tinyqat.target import STRICT_CFLAGS

SANITIZE_CFLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-g")
HARNESS_TIMEOUT_S = 120
_ERROR_LINES = 20


def read_manifest(out_dir: Path) -> dict:
    """The package's ``model.json``; :class:`ToolchainError` when it is missing or malformed."""
    path = out_dir / "model.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ToolchainError(f"{path}: not a tinyqat package ({exc})") from None


def run_compiler(cc: str, args: Sequence[str], apt_package: str = "gcc") -> None:
    """Run ``cc args``; :class:`ToolchainError` when the compiler is missing (naming the Debian
    package that installs it) or fails (with its first error lines)."""
    if shutil.which(cc) is None:
        raise ToolchainError(f"C compiler {cc!r} not found; install it with: apt-get install {apt_package}")
    proc = subprocess.run([cc, *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        head = "\n".join((proc.stderr or proc.stdout).splitlines()[:_ERROR_LINES])
        raise ToolchainError(f"{cc} failed with status {proc.returncode}:\n{head}")


def package_sources(out_dir: Path) -> list[str]:
    """Paths of the package's ``*.c`` files, sorted."""
    return [str(p) for p in sorted(out_dir.glob("*.c"))]


def compile_shared(out_dir: Path, build_dir: Path, cc: str = "gcc", extra_flags: Sequence[str] = ()) -> Path:
    """Compile all ``*.c`` in package ``out_dir`` into ``build_dir/lib<name>.so`` and return its path."""
    name = read_manifest(out_dir)["name"]
    build_dir.mkdir(parents=True, exist_ok=True)
    so_path = build_dir / f"lib{name}.so"
    run_compiler(cc, [*STRICT_CFLAGS, "-O2", "-fPIC", "-shared", *extra_flags, *package_sources(out_dir),
                      "-o", str(so_path)])
    return so_path


class ModelLib:
    """A compiled model loaded with cffi; arrays in and out are int8, channels last, per sample."""

    def __init__(self, so_path: Path, name: str) -> None:
        self.name = name
        self._ffi = cffi.FFI()
        self._ffi.cdef(
            f"""
            int {name}_invoke(const int8_t *input, int8_t *output);
            int8_t *{name}_input(void);
            int {name}_run_layer(int index);
            int {name}_run(void);
            const int8_t *{name}_layer_output(int index);
            const int8_t *{name}_output(void);
            int32_t {name}_input_size(void);
            int32_t {name}_output_size(void);
            int32_t {name}_num_layers(void);
            int32_t {name}_layer_output_size(int index);
            """
        )
        self._lib = self._ffi.dlopen(str(so_path))
        self.input_size = int(self._fn("input_size")())
        self.output_size = int(self._fn("output_size")())
        self.num_layers = int(self._fn("num_layers")())

    def _fn(self, suffix: str) -> Any:
        """The C function ``<name>_<suffix>``."""
        return getattr(self._lib, f"{self.name}_{suffix}")

    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x)
        if x.dtype != np.int8 or x.size != self.input_size:
            raise ValueError(f"expected {self.input_size} int8 values, got {x.size} {x.dtype}")
        return x

    def invoke(self, x: np.ndarray) -> np.ndarray:
        """Run the whole model on one sample; returns the flat int8 output (``output_size``,)."""
        x = self._check_input(x)
        out = np.empty(self.output_size, dtype=np.int8)
        self._fn("invoke")(self._ffi.from_buffer("int8_t[]", x), self._ffi.from_buffer("int8_t[]", out))
        return out

    def write_input(self, x: np.ndarray) -> None:
        """Copy one sample into the arena's input buffer (before :meth:`run_layer`)."""
        x = self._check_input(x)
        self._ffi.memmove(self._fn("input")(), self._ffi.from_buffer("int8_t[]", x), x.size)

    def run_layer(self, index: int) -> None:
        """Run layer ``index``; ``IndexError`` when the C side rejects the index."""
        if self._fn("run_layer")(index) != 0:
            raise IndexError(f"layer {index} out of range (model has {self.num_layers})")

    def run(self) -> int:
        """Zero-copy run: every layer on the input in the arena (:meth:`write_input`); returns 0."""
        return int(self._fn("run")())

    def output(self) -> np.ndarray:
        """Copy of the model output in the arena (flat int8, ``output_size``)."""
        return np.frombuffer(self._ffi.buffer(self._fn("output")(), self.output_size), dtype=np.int8).copy()

    def layer_output(self, index: int, size: int | None = None) -> np.ndarray:
        """Copy of layer ``index``'s output (flat int8; ``size`` bytes, default the layer's size)."""
        ptr = self._fn("layer_output")(index)
        if ptr == self._ffi.NULL:
            raise IndexError(f"layer {index} out of range (model has {self.num_layers})")
        n = int(self._fn("layer_output_size")(index)) if size is None else size
        return np.frombuffer(self._ffi.buffer(ptr, n), dtype=np.int8).copy()


def load_model(so_path: Path, name: str) -> ModelLib:
    """Open the shared library built by :func:`compile_shared` for model ``name``."""
    return ModelLib(so_path, name)


def run_harness(out_dir: Path, build_dir: Path, inputs: np.ndarray, sanitize: bool) -> list[list[np.ndarray]]:
    """Run every layer of package ``out_dir`` on each sample of ``inputs`` in a standalone program.

    ``inputs`` is int8 of shape ``(N, *input_shape)``.  The harness reads the N samples
    concatenated from a file and writes, for each sample, every layer's output in layer
    order; the result is ``[sample][layer]`` arrays shaped like the layers' output tensors.
    With ``sanitize`` it is built with ``-fsanitize=address,undefined -fno-sanitize-recover=all
    -g``, so any memory or UB error makes it exit non-zero (:class:`ToolchainError`).
    """
    manifest = read_manifest(out_dir)
    name = manifest["name"]
    x = harness_inputs(manifest, inputs)
    build_dir.mkdir(parents=True, exist_ok=True)
    harness = build_dir / "harness.c"
    harness.write_text(render("harness.c.j2", name=name, NAME=name.upper()), encoding="utf-8")
    exe = build_dir / ("harness_sanitized" if sanitize else "harness")
    flags = [*STRICT_CFLAGS, "-O1", *(SANITIZE_CFLAGS if sanitize else ())]
    run_compiler("gcc", [*flags, f"-I{out_dir}", *package_sources(out_dir), str(harness), "-o", str(exe)])
    in_path, out_path = build_dir / "harness_in.bin", build_dir / "harness_out.bin"
    in_path.write_bytes(x.tobytes())
    try:
        proc = subprocess.run([str(exe), str(in_path), str(out_path)], capture_output=True, text=True,
                              timeout=HARNESS_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"harness timed out after {HARNESS_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        head = "\n".join(proc.stderr.splitlines()[:_ERROR_LINES])
        raise ToolchainError(f"harness exited with status {proc.returncode}:\n{head}")
    return split_layers(manifest, out_path.read_bytes(), x.shape[0], "harness")


def harness_inputs(manifest: dict, inputs: np.ndarray) -> np.ndarray:
    """``inputs`` as contiguous int8 ``(N, ...)``; ``ValueError`` unless each sample has the input's size."""
    x = np.ascontiguousarray(inputs, dtype=np.int8)
    per_sample = int(np.prod(manifest["input_shape"]))
    if x.ndim == 0 or x.size != x.shape[0] * per_sample:
        raise ValueError(f"inputs must be (N, {per_sample} values per sample), got shape {x.shape}")
    return x


def split_layers(manifest: dict, data: bytes, samples: int, program: str) -> list[list[np.ndarray]]:
    """Cut a harness output file (per sample, every layer's output in order) into ``[sample][layer]``
    arrays shaped like the layers' output tensors; :class:`ToolchainError` naming ``program`` when
    its size is wrong."""
    shapes = {t["name"]: tuple(t["shape"]) for t in manifest["tensors"]}
    layer_shapes = [shapes[layer["output"]] for layer in manifest["layers"]]
    values = np.frombuffer(data, dtype=np.int8)
    sizes = [int(np.prod(s)) for s in layer_shapes]
    if values.size != samples * sum(sizes):
        raise ToolchainError(f"{program} wrote {values.size} bytes, expected {samples * sum(sizes)}")
    bounds = np.cumsum([0, *sizes])
    return [[sample[bounds[k]:bounds[k + 1]].reshape(s).copy() for k, s in enumerate(layer_shapes)]
            for sample in values.reshape(samples, -1)]
