"""Constants of the C target shared by several pipeline stages (the foundation layer: it imports
nothing from tinyqat, so the planner, codegen, toolchain and bench can all read it).

Each constant that has a C twin names it; ``tests/test_codegen.py`` reads the C headers and
requires the twins to be equal.

* :data:`STRICT_CFLAGS`: the warning flags every generated package compiles clean under
  (gcc and arm-none-eabi-gcc); the toolchain compiles with them, the generated Make and
  CMake fragments offer them (opt-in, ``TINYQAT_WARNINGS_AS_ERRORS``).
* :data:`RUNTIME_VERSION`: the version of the ``tq_*`` runtime files, ``TQ_RUNTIME_VERSION`` in
  ``runtime_c/tq_kernels.h``: ``major * 10000 + minor * 100 + patch`` of :data:`tinyqat.version.__version__`
  (a test ties them); every generated ``<name>.c`` refuses to compile against another one (``#error``),
  and the generated CMake / Make fragments refuse to mix packages of two versions in one program
  (a package also carries the runtime files' fingerprint, :func:`tinyqat.codegen.emit.runtime_id`).
* :data:`ARENA_ALIGNMENT` (bytes): every arena offset is a multiple of it, so kernels may read
  int32 words from any tensor start; the generated arena is a union with an ``int32_t``.
* :data:`CONV_DSP_COLUMN_MAX` (values): the DSP conv's largest ``K = kh * kw * in_c`` on its fast
  path, ``TQ_CONV_DSP_COLUMN_MAX`` in ``runtime_c/tq_kernels.h``; it sizes the conv's arena
  scratch (memory planner) and the speed weight layout (codegen).
* :data:`DEPTHWISE_V6M_PLANE_MAX` (bytes): the largest channel plane of the Armv6-M depthwise kernel,
  ``TQ_DEPTHWISE_V6M_PLANE_MAX`` in ``runtime_c/tq_kernels.h``; larger layers get no scratch and run
  the portable loop.
* :data:`MAX_DIM`: the largest kernel size, stride, padding or channel multiplier a graph may declare,
  and :data:`MAX_TENSOR_BYTES` the largest tensor (int8 activation elements, or weight values); every
  index and byte offset the generated C computes then fits its ``int32_t`` arithmetic.  Artifacts
  and graphs declaring more are refused before anything of that size is allocated.
"""

from __future__ import annotations

STRICT_CFLAGS = ("-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Werror", "-pedantic")
ARENA_ALIGNMENT = 4
RUNTIME_VERSION = 100
CONV_DSP_COLUMN_MAX = 576
DEPTHWISE_V6M_PLANE_MAX = 8192
MAX_DIM = 1 << 20
MAX_TENSOR_BYTES = 1 << 26
