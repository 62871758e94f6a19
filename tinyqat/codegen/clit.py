"""C literal formatting and identifier checks for generated code (templates never format).

* Integer arrays: :data:`INT8_PER_LINE` / :data:`INT32_PER_LINE` values per line, each
  right-aligned in a fixed width, so the output depends only on the values.
* ``INT32_MIN`` is written ``(-2147483647 - 1)``: the literal ``2147483648`` does not fit
  an int and would change type.
* Floats are float32 values written with the fewest significant digits (at most 9, which
  always suffice) that read back as the same float32, plus the ``f`` suffix.
* A model name must already be a C identifier (it prefixes every public symbol); layer
  names are sanitised (any other character becomes ``_``).
"""

from __future__ import annotations

import re

import numpy as np

from tinyqat.errors import TinyQatError
from tinyqat.fixedpoint import INT32_MAX, INT32_MIN

INT8_PER_LINE = 16
INT32_PER_LINE = 8
INDENT = "    "

C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
C_KEYWORDS = frozenset((
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
    "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
    "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
    "_Bool", "_Complex", "_Imaginary",
))


class IdentifierError(TinyQatError):
    """A name cannot be used as a C identifier prefix."""


def check_identifier(name: str) -> str:
    """Return ``name`` if it is a usable C identifier prefix, else raise :class:`IdentifierError`.

    Rejected: anything outside ``[A-Za-z_][A-Za-z0-9_]*``, C99 keywords, names reserved to the
    C implementation (leading ``__`` or ``_`` + capital), the runtime's ``tq_`` prefix, and
    capital letters: macros and include guards use the upper-cased name, so ``Foo`` and ``FOO``
    would define the same ones (the lower-case spelling is the one name of each).
    """
    if not C_IDENTIFIER.fullmatch(name):
        raise IdentifierError(f"model name {name!r} is not a C identifier; use letters, digits and '_', "
                              "not starting with a digit")
    if name in C_KEYWORDS or name.startswith("__") or re.match(r"_[A-Z]", name) or name.lower().startswith("tq_"):
        raise IdentifierError(f"model name {name!r} is reserved in C or by the tinyqat runtime (tq_); pick another")
    if name != name.lower():
        raise IdentifierError(f"model name {name!r} has capital letters; macros and include guards are upper-cased, "
                              f"so it would collide with other spellings: use {name.lower()!r}")
    return name


def check_prefix_collisions(name: str, generated: dict[str, str]) -> None:
    """Refuse ``name`` when another model's package could define one of the same names.

    ``generated`` maps the package's file names to their text.  Its *tails* are what follows
    the prefix in every name it defines: ``name`` + ``_invoke``, ``.h``, ``_weights.h`` (files,
    identifiers) and ``NAME`` + ``_INPUT_H`` (macros, include guards).  Names ``a`` and ``b + "_" + w``
    collide when ``"_" + w + t1 == t2`` for tails ``t1``, ``t2`` (``foo_layer`` + ``_output`` is
    ``foo`` + ``_layer_output``); the longer name is refused, so any two accepted names
    (lower case, :func:`check_identifier`) define disjoint sets of names.
    """
    for prefix in (name, name.upper()):
        found = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(prefix)}((?:[_.][A-Za-z0-9_]+)+)")
        tails = {m.group(1) for text in (*generated, *generated.values()) for m in found.finditer(text)}
        parts = prefix.split("_")
        for cut in range(1, len(parts)):
            head, rest = "_".join(parts[:cut]), "_" + "_".join(parts[cut:])
            if not head:
                continue
            clash = next((t for t in sorted(tails) if rest + t in tails), None)
            if clash is not None:
                raise IdentifierError(
                    f"model name {name!r} would collide with a model named {head.lower()!r}: both would define "
                    f"{prefix + clash}; pick a name that does not end in {rest.lower()!r}")


def sanitize(name: str) -> str:
    """A C identifier fragment from any string: invalid characters become ``_``, leading digit gets ``_``."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return f"_{out}" if not out or out[0].isdigit() else out


def c_int(value: int) -> str:
    """An int32 literal (``INT32_MIN`` spelled so it keeps type int)."""
    value = int(value)
    if not INT32_MIN <= value <= INT32_MAX:
        raise ValueError(f"{value} does not fit int32")
    return "(-2147483647 - 1)" if value == INT32_MIN else str(value)


def c_macro_int(value: int) -> str:
    """:func:`c_int` parenthesised when negative, safe in any macro expansion (``x-M`` stays valid)."""
    text = c_int(value)
    return text if text.startswith("(") or int(value) >= 0 else f"({text})"


def c_float(value: float) -> str:
    """Shortest round-trip float32 literal with an ``f`` suffix, e.g. ``0.0235294122f``, ``1.0f``."""
    f32 = np.float32(value)
    if not np.isfinite(f32):
        raise ValueError(f"{value!r} is not a finite float32")
    for digits in range(1, 10):
        text = f"{float(f32):.{digits}g}"
        if np.float32(text) == f32:
            break
    if not any(ch in text for ch in ".e"):
        text += ".0"
    return text + "f"


def c_array_body(values: np.ndarray, per_line: int, width: int) -> str:
    """Comma-separated integer literals, ``per_line`` per line, each right-aligned to ``width``.

    Lines are indented by :data:`INDENT`; no trailing newline.
    """
    items = [c_int(v) + "," for v in np.asarray(values).reshape(-1).tolist()]
    lines = [INDENT + " ".join(item.rjust(width) for item in items[i:i + per_line]).rstrip()
             for i in range(0, len(items), per_line)]
    return "\n".join(lines)


def int8_array_body(values: np.ndarray) -> str:
    """Body of a ``static const int8_t x[] = {...}`` initializer."""
    return c_array_body(np.asarray(values, dtype=np.int8), INT8_PER_LINE, 5)


def uint8_array_body(values: np.ndarray) -> str:
    """Body of a ``static const uint8_t x[] = {...}`` initializer (packed 4-bit weights)."""
    return c_array_body(np.asarray(values, dtype=np.uint8), INT8_PER_LINE, 4)


def int32_array_body(values: np.ndarray) -> str:
    """Body of a ``static const int32_t x[] = {...}`` initializer."""
    return c_array_body(np.asarray(values, dtype=np.int32), INT32_PER_LINE, 12)


def c_comment(text: str) -> str:
    """``text`` made safe inside a ``/* ... */`` comment: printable ASCII, no comment delimiters."""
    return re.sub(r"[^ -~]", "?", text).replace("/*", "/ *").replace("*/", "* /")
