"""Shared test helpers.

:func:`require_tool` is for tests that need an external program (compiler, emulator), :func:`require_module`
for those that need an optional Python package (the TFLite interpreters):
under ``CI=true`` a missing tool FAILS the test (CI must have every tool installed);
locally it skips with the install hint.

:data:`FUZZ_SEED` seeds every fuzz target (``test_fuzz.py``): new each run, printed in the
session header and after the summary, fixed with ``TINYQAT_FUZZ_SEED=<seed>`` to reproduce a run.
"""

from __future__ import annotations

import importlib
import os
import secrets
import shutil

import pytest

FUZZ_SEED = int(os.environ.get("TINYQAT_FUZZ_SEED") or secrets.randbits(32))


def _seed_line() -> str:
    return f"tinyqat fuzz seed: {FUZZ_SEED} (reproduce with TINYQAT_FUZZ_SEED={FUZZ_SEED})"


def pytest_report_header(config: pytest.Config) -> str:
    return _seed_line()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Also at the end of the run: ``-q`` (scripts/test.sh) hides the header."""
    terminalreporter.write_line(_seed_line())


def require_tool(tool: str, apt_package: str) -> str:
    """Absolute path of executable ``tool``; fail (CI) or skip (locally) when it is missing."""
    path = shutil.which(tool)
    if path is not None:
        return path
    message = f"{tool} not found; install it with: apt-get install {apt_package}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def gcc() -> str:
    """Path of the host C compiler (``gcc``), see :func:`require_tool`."""
    return require_tool("gcc", "gcc")


def require_module(module: str, pip_package: str) -> None:
    """Import ``module`` or fail (CI) / skip (locally) with the pip package that provides it."""
    try:
        importlib.import_module(module)
    except ImportError:
        message = f"Python module {module} not found; install it with: pip install {pip_package}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
