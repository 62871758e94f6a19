#!/usr/bin/env bash
# Set up a tinyqat environment from a fresh clone: system tools, a virtual environment and a
# plain (non-editable) install of the project. Sourced by scripts/demo.sh and scripts/test.sh.
# Environment: TINYQAT_VENV (default .venv), TINYQAT_SKIP_APT=1 to never call apt-get.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TINYQAT_VENV:-$ROOT/.venv}"
TORCH_SPEC="torch==2.13.0"   # the local CPU build; an unpinned torch may pull a multi-GB CUDA build

# gcc builds and verifies on the host; the Arm cross compiler and QEMU target Cortex-M; make and cmake
# build the generated Make and CMake fragments in the tests.
declare -A TOOL_PACKAGE=([gcc]=gcc [arm-none-eabi-gcc]=gcc-arm-none-eabi [qemu-system-arm]=qemu-system-arm
                         [make]=make [cmake]=cmake)
missing_packages=()
for tool in gcc arm-none-eabi-gcc qemu-system-arm make cmake; do
  command -v "$tool" >/dev/null 2>&1 || missing_packages+=("${TOOL_PACKAGE[$tool]}")
done
if [ "${#missing_packages[@]}" -gt 0 ]; then
  [[ " ${missing_packages[*]} " == *" gcc-arm-none-eabi "* ]] && missing_packages+=(libnewlib-arm-none-eabi)
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && [ "${TINYQAT_SKIP_APT:-0}" != "1" ]; then
    echo "setup: installing ${missing_packages[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing_packages[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing_packages[*]}" >&2
    echo "setup: install them with: sudo apt-get install ${missing_packages[*]}" >&2
    echo "setup: (tests that need them fail when CI=true, and are skipped otherwise)" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtual environment $VENV" >&2
  python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
LOG="$VENV/setup.log"
pip_install() {  # quiet pip; its output is shown only when it fails
  if ! "$PY" -m pip install -q "$@" >>"$LOG" 2>&1; then
    grep -v '^WARNING: Location' "$LOG" | tail -n 30 >&2
    echo "setup: pip install $* failed (full log: $LOG)" >&2
    exit 1
  fi
}
: >"$LOG"
"$PY" -c "import torch" 2>/dev/null || pip_install "$TORCH_SPEC"
# Dev tools within the ranges CI has passed with (ruff's rules change between minor releases); the TFLite
# interpreters (TFLite Micro, LiteRT) and Vela check and benchmark `tinyqat export`.
pip_install "hatchling>=1.21,<2" "pytest>=7.4,<10" "hypothesis>=6.80,<7" "ruff>=0.5,<0.18" \
  "tflite-micro>=0.dev20261023182759" "ai-edge-litert>=2.3,<2.4" "ethos-u-vela>=5.2,<5.3"
# Plain install (not editable): tests and the demo run the package exactly as a wheel ships it.
pip_install "$ROOT"
