#!/usr/bin/env bash
# The main job on its built-in default: train a small QAT CNN on the bundled MNIST subset,
# build C for cortex-m4 and verify it bit-exact. Extra arguments go to `tinyqat demo`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$VENV/bin/tinyqat" demo "$@"
