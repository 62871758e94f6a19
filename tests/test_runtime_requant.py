"""runtime_c/tq_requant.h against tinyqat/fixedpoint.py, bit for bit, on edges and random values."""

from __future__ import annotations

import re
from pathlib import Path

import cffi
import numpy as np
import pytest

from tinyqat import fixedpoint
from tinyqat.resources import resource_dir
from tinyqat.target import STRICT_CFLAGS
from tinyqat.toolchain.compiler import run_compiler

SHIM = """
#include "tq_requant.h"
void shim_srdhm(const int32_t *a, const int32_t *b, int32_t *out, int32_t n)
{ int32_t i; for (i = 0; i < n; ++i) out[i] = tq_srdhm(a[i], b[i]); }
void shim_rdbpot(const int32_t *x, const int32_t *e, int32_t *out, int32_t n)
{ int32_t i; for (i = 0; i < n; ++i) out[i] = tq_rdbpot(x[i], e[i]); }
void shim_mbqm(const int32_t *x, const int32_t *q, const int32_t *s, int32_t *out, int32_t n)
{ int32_t i; for (i = 0; i < n; ++i) out[i] = tq_mbqm(x[i], q[i], s[i]); }
"""
CDEF = """
void shim_srdhm(const int32_t *a, const int32_t *b, int32_t *out, int32_t n);
void shim_rdbpot(const int32_t *x, const int32_t *e, int32_t *out, int32_t n);
void shim_mbqm(const int32_t *x, const int32_t *q, const int32_t *s, int32_t *out, int32_t n);
"""
EDGES = np.array([fixedpoint.INT32_MIN, fixedpoint.INT32_MIN + 1, -(2**30), -7984, -1, 0, 1, 7984, 2**30,
                  fixedpoint.INT32_MAX - 1, fixedpoint.INT32_MAX], dtype=np.int64)


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory, gcc: str) -> tuple[cffi.FFI, object]:
    """The requant helpers compiled (strict flags, UBSan) into a shared library."""
    tmp = tmp_path_factory.mktemp("requant")
    (tmp / "shim.c").write_text(SHIM)
    so = tmp / "libshim.so"
    run_compiler(gcc, [*STRICT_CFLAGS, "-O2", "-fPIC", "-shared", f"-I{resource_dir('runtime_c')}",
                       str(tmp / "shim.c"), "-o", str(so)])
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    return ffi, ffi.dlopen(str(so))


def _call(shim: tuple[cffi.FFI, object], fn: str, *args: np.ndarray) -> np.ndarray:
    ffi, lib = shim
    arrays = [np.ascontiguousarray(a, dtype=np.int32) for a in args]
    out = np.empty(arrays[0].size, dtype=np.int32)
    getattr(lib, fn)(*(ffi.from_buffer("int32_t[]", a) for a in arrays), ffi.from_buffer("int32_t[]", out), out.size)
    return out.astype(np.int64)


def _grid(*columns: np.ndarray) -> list[np.ndarray]:
    mesh = np.meshgrid(*columns, indexing="ij")
    return [m.reshape(-1) for m in mesh]


def test_srdhm_matches_python(shim: tuple[cffi.FFI, object]) -> None:
    rng = np.random.default_rng(1)
    a, b = _grid(np.concatenate([EDGES, rng.integers(-(2**31), 2**31, 40)]),
                 np.concatenate([EDGES, rng.integers(-(2**31), 2**31, 40)]))
    np.testing.assert_array_equal(_call(shim, "shim_srdhm", a, b), fixedpoint.srdhm(a, b))


def test_rdbpot_matches_python(shim: tuple[cffi.FFI, object]) -> None:
    rng = np.random.default_rng(2)
    x, e = _grid(np.concatenate([EDGES, rng.integers(-(2**31), 2**31, 60), np.arange(-20, 21)]), np.arange(32))
    np.testing.assert_array_equal(_call(shim, "shim_rdbpot", x, e), fixedpoint.rdbpot(x, e))


def test_mbqm_matches_python_including_saturation(shim: tuple[cffi.FFI, object]) -> None:
    rng = np.random.default_rng(3)
    qs = np.concatenate([[0, 1, 2**30, fixedpoint.INT32_MAX, 1583594044], rng.integers(2**30, 2**31, 10)])
    x, q, s = _grid(np.concatenate([EDGES, rng.integers(-(2**31), 2**31, 20), rng.integers(-(2**16), 2**16, 20)]),
                    qs, np.arange(-31, 31))
    np.testing.assert_array_equal(_call(shim, "shim_mbqm", x, q, s), fixedpoint.mbqm(x, q, s))


def test_double_rounding_example_from_the_guide(shim: tuple[cffi.FFI, object]) -> None:
    """x=7984, q=1583594044, shift=-9: exact 11.499, double rounding gives 12."""
    got = _call(shim, "shim_mbqm", np.array([7984]), np.array([1583594044]), np.array([-9]))
    assert got.tolist() == [12]


def test_runtime_has_no_float() -> None:
    """Integer-only runtime: no float/double type anywhere outside comments."""
    for path in sorted(Path(resource_dir("runtime_c")).iterdir()):
        code = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
        assert not re.search(r"\b(float|double)\b", code), path.name
