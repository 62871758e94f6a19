"""The wheel: it must carry ``templates/``, ``runtime_c/``, ``boards/`` (top level in the
repository, ``tinyqat/_resources/`` in the wheel) and the bundled data, and an installed
(non-editable) copy must build and verify a model on its own, from outside the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from conftest import require_tool

pytestmark = pytest.mark.slow

# The tests live in the repository (also when scripts/test.sh runs them against an install).
REPO = Path(__file__).resolve().parents[1]
RESOURCES = ("templates", "runtime_c", "boards")
BOARDS = ("cortex-m0plus", "cortex-m0plus-512k", "cortex-m33", "cortex-m4", "cortex-m4-2m", "cortex-m55", "cortex-m7",
          "host")


def _require_hatchling() -> None:
    """The wheel is built without isolation, so the build backend must be importable."""
    try:
        import hatchling  # noqa: F401
    except ImportError:
        message = "hatchling not installed; install it with: pip install hatchling (scripts/setup.sh does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


def _clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH, so only the directories we name are importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert (REPO / "pyproject.toml").is_file(), f"{REPO} is not the tinyqat repository"
    _require_hatchling()
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(REPO)],
        capture_output=True, text=True, timeout=180, check=False, env=_clean_env(), cwd=dist,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list(dist.glob("tinyqat-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_carries_resources_and_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    for required in (
        "tinyqat/_resources/templates/model.c.j2",
        "tinyqat/_resources/runtime_c/tq_requant.h",
        "tinyqat/_resources/boards/cortex-m4.toml",
        "tinyqat/data/mnist_5k.npz",
        "tinyqat/__init__.py",
        "tinyqat/cli.py",
    ):
        assert required in names, required
    # every shipped resource file of the repository, not only the ones named above
    for resource in RESOURCES:
        for path in sorted((REPO / resource).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                arcname = f"tinyqat/_resources/{path.relative_to(REPO).as_posix()}"
                assert arcname in names, arcname
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as zf:
        assert "tinyqat = tinyqat.cli:main" in zf.read(entry_points).decode()


_SCRIPT = textwrap.dedent(
    """
    import subprocess
    import sys
    from pathlib import Path

    site = Path(sys.argv[1]).resolve()
    import tinyqat
    from tinyqat.resources import data_file, resource_dir

    assert Path(tinyqat.__file__).resolve().is_relative_to(site), tinyqat.__file__
    for name in ("templates", "runtime_c", "boards"):
        where = resource_dir(name).resolve()
        assert where.is_relative_to(site / "tinyqat" / "_resources"), where
    assert data_file("mnist_5k.npz").resolve().is_relative_to(site)

    import numpy as np
    import torch
    from torch import nn

    from tinyqat.demo import load_mnist_split

    x_train = load_mnist_split()[0]
    assert x_train.shape[1:] == (1, 28, 28)

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(4 * 14 * 14, 10))
    qat = tinyqat.prepare_qat(net, example_inputs=(x_train[:1],))
    tinyqat.calibrate(qat, [x_train[i : i + 32] for i in range(0, 96, 32)])
    tinyqat.save(qat, "model.pt")

    result = tinyqat.build("model.pt", "out", board="cortex-m4")
    assert (Path("out") / "tinyqat_model.c").is_file() and (Path("out") / "tq_requant.h").is_file()
    report = tinyqat.verify("out", samples=tinyqat.quantize_input("model.pt", x_train[:8].numpy()), n_random=0)
    assert report.ok and report.samples == 8, report
    cli = subprocess.run([sys.executable, "-m", "tinyqat", "verify", "out", "-n", "4"], capture_output=True,
                         text=True, check=False)
    assert cli.returncode == 0 and cli.stdout.startswith("OK: 7 inputs"), cli.stdout + cli.stderr
    print("installed-ok", result.weights_bytes)
    """
)


def test_installed_wheel_builds_and_verifies(wheel: Path, tmp_path: Path) -> None:
    require_tool("gcc", "gcc")
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=180, check=False, env=_clean_env(), cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (site / "tinyqat" / "_resources" / "templates" / "model.c.j2").is_file()

    work = tmp_path / "work"  # outside the repository: the source tree must not be importable
    work.mkdir()
    assert not work.resolve().is_relative_to(REPO)
    (work / "check.py").write_text(_SCRIPT)
    env = {**_clean_env(), "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "check.py", str(site)], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "installed-ok" in proc.stdout

    # the console script of the wheel works too
    script = site / "bin" / "tinyqat"
    assert script.is_file()
    proc = subprocess.run([sys.executable, str(script), "boards"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert sorted(line.split()[0] for line in proc.stdout.splitlines()) == sorted(BOARDS)
