"""Load a package compiled by :func:`tinyqat.toolchain.compiler.compile_shared` into Python.

:func:`load_model` opens it with cffi (ABI mode, ``ffi.dlopen``) as a :class:`ModelLib`.  The C
model keeps one static arena, so one loaded library is one model instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cffi
import numpy as np


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
    """Open the shared library built by :func:`~tinyqat.toolchain.compiler.compile_shared` for model ``name``."""
    return ModelLib(so_path, name)
