#!/usr/bin/env bash
# Builds (via setup.sh) and runs the whole test suite with CTest.
#   scripts/test.sh [ctest args]   the Release build in build/
#   scripts/test.sh --sanitize     an ASan + UBSan build in build-sanitize/ and the unit tests,
#                                  less the ones that only repeat minutes of model inference
#                                  (training smoke test, ISBI accuracy, viewer, fuzzing) and
#                                  the package tests (a user's program is not instrumented)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--sanitize" ]; then
  shift
  flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
  # No Python module there: an ASan-built extension needs the sanitizer runtime preloaded.
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS="$flags" \
    -DCEPHTRACE_PYTHON_MODULE=OFF \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" > /dev/null
  cmake --build build-sanitize -j "${JOBS:-$(nproc)}"
  # Leak reports from the libraries' process-lifetime caches (OpenCV, DCMTK codec
  # registries) are suppressed in scripts/lsan.supp; everything else fails the test.
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  exec ctest --test-dir build-sanitize --output-on-failure -j "${JOBS:-$(nproc)}" \
    -E "training_smoke|AccuracyIsbi|viewer_e2e|fuzz_smoke|package_" "$@"
fi
ctest --test-dir build --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
