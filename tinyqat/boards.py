"""Board profiles: data files ``boards/<name>.toml`` loaded into frozen :class:`Board` records.

Keys (all required unless marked optional):

* ``name`` (str, must equal the file stem), ``description`` (str)
* ``cpu`` (str): ``-mcpu`` value, or ``"host"`` for the build machine
* ``cc`` (str): C compiler executable (``gcc``, ``arm-none-eabi-gcc``)
* ``cflags`` (list of str): target flags (``-mcpu``, ``-mthumb``, float ABI, FPU)
* ``fpu`` (str): FPU name or ``"none"``
* ``dsp`` (bool): the core has the Armv7E-M/Armv8-M DSP extension (SXTB16, SMLAD)
* ``kernels`` (str): the optimized runtime kernels the board's compiler selects (``runtime_c/tq_kernels.h``):
  ``"dsp"`` (``TQ_USE_DSP``, needs ``dsp = true``), ``"v6m"`` (``TQ_USE_V6M``: Armv6-M, Cortex-M0/M0+,
  needs ``dsp = false``) or ``"portable"`` (none: the host).  The memory planner reserves the conv
  scratch buffers and the generator emits the Armv6-M weight layout from it
  (:mod:`tinyqat.memory.planner`, :mod:`tinyqat.codegen.layouts`); ``tests/test_v6m_kernels.py``
  checks it against the macros the board's flags really define.
* ``flash_bytes``, ``ram_bytes`` (int, optional): capacity of the typical part named in
  ``description``; absent means unbounded (host)
* ``qemu_machine`` (str, optional): ``qemu-system-arm -M`` machine that runs this core
* ``apt_package`` (str): Debian package providing ``cc``

Every profile is checked by :func:`_parse`, the one place a board file is validated, with one
line per problem: TOML syntax, unknown or missing keys, types, ``name`` against the file name,
``kernels`` against ``dsp``, each ``cflags`` entry an option (``-`` and no spaces, so no file
names or extra arguments reach the compiler), capacities positive, and ``cc``, ``cpu``, ``fpu``,
``qemu_machine``, ``apt_package`` single words.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from tinyqat.errors import TinyQatError
from tinyqat.resources import resource_dir


class BoardError(TinyQatError):
    """Unknown or malformed board profile."""


@dataclass(frozen=True)
class Board:
    """A target profile (see module docstring for the meaning of each field)."""

    name: str
    description: str
    cpu: str
    cc: str
    cflags: tuple[str, ...]
    fpu: str
    dsp: bool
    kernels: str
    apt_package: str
    flash_bytes: int | None = None
    ram_bytes: int | None = None
    qemu_machine: str | None = None


_REQUIRED = {"name": str, "description": str, "cpu": str, "cc": str, "cflags": list, "fpu": str, "dsp": bool,
             "kernels": str, "apt_package": str}
KERNELS = ("dsp", "v6m", "portable")
_OPTIONAL = {"flash_bytes": int, "ram_bytes": int, "qemu_machine": str}


def _parse(path: Path) -> Board:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc).splitlines() or [""])[0]
        raise BoardError(f"{path}: cannot read board profile ({reason})") from None
    unknown = data.keys() - _REQUIRED.keys() - _OPTIONAL.keys()
    if unknown:
        raise BoardError(f"{path}: unknown keys {sorted(unknown)}")
    for key, typ in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in data:
            if key in _REQUIRED:
                raise BoardError(f"{path}: missing key {key!r}")
            continue
        if not isinstance(data[key], typ) or (typ is int and isinstance(data[key], bool)):
            raise BoardError(f"{path}: {key!r} must be {typ.__name__}")
    if data["name"] != path.stem:
        raise BoardError(f"{path}: name {data['name']!r} differs from the file name")
    if data["kernels"] not in KERNELS:
        raise BoardError(f"{path}: kernels must be one of {', '.join(repr(k) for k in KERNELS)}, "
                         f"not {data['kernels']!r}")
    if (data["kernels"] == "dsp" and not data["dsp"]) or (data["kernels"] == "v6m" and data["dsp"]):
        raise BoardError(f"{path}: kernels = {data['kernels']!r} contradicts dsp = {str(data['dsp']).lower()} "
                         "('dsp' needs the DSP extension, 'v6m' is Armv6-M, which has none)")
    if not all(isinstance(f, str) and re.fullmatch(r"-\S+", f) for f in data["cflags"]):
        raise BoardError(f"{path}: cflags must be options (strings starting with '-', no spaces)")
    for key in ("flash_bytes", "ram_bytes"):
        if key in data and data[key] <= 0:
            raise BoardError(f"{path}: {key} must be positive (leave it out for unbounded)")
    for key in ("cc", "cpu", "fpu", "qemu_machine", "apt_package"):
        if key in data and not re.fullmatch(r"[\w.+/-]+", data[key]):
            raise BoardError(f"{path}: {key} {data[key]!r} must be one word (letters, digits, '_.+/-')")
    return Board(**{**data, "cflags": tuple(data["cflags"])})


def board_names() -> list[str]:
    """Names of all shipped board profiles, sorted."""
    return sorted(p.stem for p in resource_dir("boards").glob("*.toml"))


def load_board(name: str) -> Board:
    """Load board ``name``; :class:`BoardError` lists the known ones when it does not exist."""
    path = resource_dir("boards") / f"{name}.toml"
    if name not in board_names():  # also refuses paths ("../x") that would read other files
        raise BoardError(f"unknown board {name!r}; known boards: {', '.join(board_names())}")
    return _parse(path)
