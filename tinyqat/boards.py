"""Board profiles: data files ``boards/<name>.toml`` loaded into frozen :class:`Board` records.

A user's own profile is the path of a ``.toml`` file with the same keys (:func:`load_board` takes a
name or a path; ``tinyqat boards --show cortex-m4`` prints a profile to start from).  Every bad field
is reported, all in one line.

Keys (all required unless marked optional):

* ``name`` (str: letters, digits, ``.``, ``_``, ``-``; for a shipped profile the file stem),
  ``description`` (str)
* ``cpu`` (str): ``-mcpu`` value, or ``"host"`` for the build machine
* ``cc`` (str): C compiler executable (``gcc``, ``arm-none-eabi-gcc``)
* ``cflags`` (list of str): target flags (``-mcpu``, ``-mthumb``, float ABI, FPU)
* ``fpu`` (str): FPU name or ``"none"``
* ``dsp`` (bool): the core has the Armv7E-M/Armv8-M DSP extension (SXTB16, SMLAD)
* ``kernels`` (str): the optimized runtime kernels the board's compiler selects (``runtime_c/tq_kernels.h``):
  ``"dsp"`` (``TQ_USE_DSP``, needs ``dsp = true``), ``"v6m"`` (``TQ_USE_V6M``: Armv6-M, Cortex-M0/M0+,
  needs ``dsp = false``), ``"mve"`` (``TQ_USE_MVE``: Helium, Armv8.1-M Cortex-M55/M85, needs
  ``dsp = true``: the ``_mve`` kernels where they exist, the portable ones elsewhere) or
  ``"portable"`` (none: the host).  The memory planner reserves the conv
  scratch buffers and the generator emits the Armv6-M weight layout from it
  (:mod:`tinyqat.memory.planner`, :mod:`tinyqat.codegen.layouts`); ``tests/test_v6m_kernels.py``
  checks it against the macros the board's flags really define.
* ``flash_bytes``, ``ram_bytes`` (int > 0, optional): capacity of the typical part named in
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
KERNELS = ("dsp", "v6m", "mve", "portable")
_OPTIONAL = {"flash_bytes": int, "ram_bytes": int, "qemu_machine": str}


_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _problems(data: dict, path: Path, shipped: bool) -> list[str]:
    """Every problem of profile ``data`` read from ``path``, one short sentence each."""
    problems = [f"unknown key {key!r}" for key in sorted(data.keys() - _REQUIRED.keys() - _OPTIONAL.keys())]
    typed = {}
    for key, typ in {**_REQUIRED, **_OPTIONAL}.items():
        if key not in data:
            if key in _REQUIRED:
                problems.append(f"missing key {key!r}")
        elif not isinstance(data[key], typ) or (typ is int and isinstance(data[key], bool)):
            problems.append(f"{key!r} must be {'a ' + typ.__name__ if typ is not list else 'a list of strings'}")
        else:
            typed[key] = data[key]
    if "name" in typed and not _NAME.fullmatch(typed["name"]):
        problems.append(f"'name' {typed['name']!r} may use letters, digits, '.', '_' and '-' only")
    elif "name" in typed and shipped and typed["name"] != path.stem:
        problems.append(f"name {typed['name']!r} differs from the file name")
    for key in ("cc", "cpu", "apt_package"):
        if key in typed and not typed[key].strip():
            problems.append(f"{key!r} must not be empty")
    if "cflags" in typed and not all(isinstance(f, str) for f in typed["cflags"]):
        problems.append("'cflags' must be a list of strings")
    elif "cflags" in typed and not all(re.fullmatch(r"-\S+", f) for f in typed["cflags"]):
        problems.append("'cflags' must be options (strings starting with '-', no spaces)")
    for key in ("cc", "cpu", "fpu", "qemu_machine", "apt_package"):
        if key in typed and typed[key].strip() and not re.fullmatch(r"[\w.+/-]+", typed[key]):
            problems.append(f"{key!r} {typed[key]!r} must be one word (letters, digits, '_.+/-')")
    for key in ("flash_bytes", "ram_bytes"):
        if key in typed and typed[key] <= 0:
            problems.append(f"{key!r} must be positive (omit it for no limit)")
    if "kernels" in typed and typed["kernels"] not in KERNELS:
        problems.append(f"'kernels' must be one of {', '.join(repr(k) for k in KERNELS)}, not {typed['kernels']!r}")
    elif "kernels" in typed and "dsp" in typed and (
            (typed["kernels"] in ("dsp", "mve") and not typed["dsp"]) or (typed["kernels"] == "v6m" and typed["dsp"])):
        problems.append(f"kernels = {typed['kernels']!r} contradicts dsp = {str(typed['dsp']).lower()} "
                        "('dsp' and 'mve' need the DSP extension, 'v6m' is Armv6-M, which has none)")
    return problems


def _parse(path: Path, shipped: bool = True) -> Board:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
        raise BoardError(f"{path}: cannot read board profile ({reason})") from None
    problems = _problems(data, path, shipped)
    if problems:
        raise BoardError(f"{path}: bad board profile: " + "; ".join(problems))
    return Board(**{**data, "cflags": tuple(data["cflags"])})


def board_names() -> list[str]:
    """Names of all shipped board profiles, sorted."""
    return sorted(p.stem for p in resource_dir("boards").glob("*.toml"))


def is_profile_path(board: str) -> bool:
    """Whether ``board`` names a user's profile file (it ends in ``.toml``; anything else is a shipped name)."""
    return board.endswith(".toml")


def profile_path(board: str) -> Path:
    """The profile file of ``board``, a shipped name or a user's path; :class:`BoardError` when there is
    none (listing the known boards for a name)."""
    if is_profile_path(board):
        path = Path(board)
        if not path.is_file():
            raise BoardError(f"board profile {board} not found (write one starting from: "
                             "tinyqat boards --show cortex-m4)")
        return path
    if board not in board_names():  # also refuses paths ("../x") that would read other files
        raise BoardError(f"unknown board {board!r}; known boards: {', '.join(board_names())}, "
                         "or the path of your own .toml profile")
    return resource_dir("boards") / f"{board}.toml"


def load_board(board: str) -> Board:
    """Load board ``board``: a shipped profile's name or the path of a user's ``.toml`` profile."""
    return _parse(profile_path(board), shipped=not is_profile_path(board))


def profile_text(board: str) -> str:
    """The TOML text of profile ``board`` (a name or a path), validated."""
    load_board(board)
    return profile_path(board).read_text(encoding="utf-8")


PACKAGE_PROFILE = "board.toml"


def package_board(out_dir: Path, name: str) -> Board:
    """The board a package in ``out_dir`` was built for: the copy of a user's profile it carries
    (:data:`PACKAGE_PROFILE`, written by ``tinyqat build --board my.toml``), else shipped board ``name``."""
    copy = Path(out_dir) / PACKAGE_PROFILE
    return load_board(str(copy)) if copy.is_file() else load_board(name)
