#!/usr/bin/env bash
# Builds (via setup.sh) and runs the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
