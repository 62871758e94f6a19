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
    """A compiled model loaded with cffi; arrays in and out are int8, channels last, per sample.

    ``num_outputs`` is the model's number of outputs (``len(model.json["outputs"])``): a model with
    several has the C API of ``<name>_output_ptr(i)`` instead of ``<name>_output()`` (``templates/model.h.j2``).
    """

    def __init__(self, so_path: Path, name: str, num_outputs: int = 1) -> None:
        self.name = name
        self._ffi = cffi.FFI()
        outputs_api = (f"""
            int {name}_invoke(const int8_t *input, int8_t *const outputs[{num_outputs}]);
            const int8_t *{name}_output_ptr(int index);
            int32_t {name}_output_size_at(int index);
            int32_t {name}_num_outputs(void);
            """ if num_outputs > 1 else f"""
            int {name}_invoke(const int8_t *input, int8_t *output);
            const int8_t *{name}_output(void);
            int32_t {name}_output_size(void);
            """)
        self._ffi.cdef(
            f"""
            int8_t *{name}_input(void);
            int {name}_run_layer(int index);
            int {name}_run(void);
            const int8_t *{name}_layer_output(int index);
            int32_t {name}_input_size(void);
            int32_t {name}_num_layers(void);
            int32_t {name}_layer_output_size(int index);
            {outputs_api}"""
        )
        self._lib = self._ffi.dlopen(str(so_path))
        self.num_outputs = num_outputs if num_outputs == 1 else int(self._fn("num_outputs")())
        if self.num_outputs != num_outputs:
            raise ValueError(f"{so_path}: the model has {self.num_outputs} outputs, not {num_outputs}")
        self.input_size = int(self._fn("input_size")())
        self.output_sizes = ((int(self._fn("output_size")()),) if num_outputs == 1 else
                             tuple(int(self._fn("output_size_at")(i)) for i in range(num_outputs)))
        self.num_layers = int(self._fn("num_layers")())

    def _fn(self, suffix: str) -> Any:
        """The C function ``<name>_<suffix>``."""
        return getattr(self._lib, f"{self.name}_{suffix}")

    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x)
        if x.dtype != np.int8 or x.size != self.input_size:
            raise ValueError(f"expected {self.input_size} int8 values, got {x.size} {x.dtype}")
        return x

    def invoke(self, x: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
        """Run the whole model on one sample; returns the flat int8 output (``output_sizes[0]``,), or for a
        model with several outputs the tuple of them (``output_sizes``)."""
        x = self._check_input(x)
        outs = [np.empty(n, dtype=np.int8) for n in self.output_sizes]
        ptrs = [self._ffi.from_buffer("int8_t[]", out) for out in outs]
        self._fn("invoke")(self._ffi.from_buffer("int8_t[]", x), ptrs[0] if self.num_outputs == 1 else ptrs)
        return outs[0] if self.num_outputs == 1 else tuple(outs)

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

    def output(self, index: int = 0) -> np.ndarray:
        """Copy of model output ``index`` in the arena (flat int8, ``output_sizes[index]``)."""
        if not 0 <= index < self.num_outputs:
            raise IndexError(f"output {index} out of range (model has {self.num_outputs})")
        ptr = self._fn("output")() if self.num_outputs == 1 else self._fn("output_ptr")(index)
        return np.frombuffer(self._ffi.buffer(ptr, self.output_sizes[index]), dtype=np.int8).copy()

    def layer_output(self, index: int, size: int | None = None) -> np.ndarray:
        """Copy of layer ``index``'s output (flat int8; ``size`` bytes, default the layer's size)."""
        ptr = self._fn("layer_output")(index)
        if ptr == self._ffi.NULL:
            raise IndexError(f"layer {index} out of range (model has {self.num_layers})")
        n = int(self._fn("layer_output_size")(index)) if size is None else size
        return np.frombuffer(self._ffi.buffer(ptr, n), dtype=np.int8).copy()


def load_model(so_path: Path, name: str, num_outputs: int = 1) -> ModelLib:
    """Open the shared library built by :func:`~tinyqat.toolchain.compiler.compile_shared` for model ``name``
    with ``num_outputs`` outputs."""
    return ModelLib(so_path, name, num_outputs)
