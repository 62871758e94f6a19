#!/usr/bin/env bash
# The whole test suite (ruff + pytest) against a plain install of the package.
# Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
"$VENV/bin/ruff" check .
# Run from tests/ so `import tinyqat` resolves to the installed package, not the source tree.
cd "$ROOT/tests"
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
