#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan, in their own build tree)
# and runs each for a fixed number of inputs from a generated seed corpus.
#   scripts/fuzz.sh [--build DIR] [--runs N] [--seconds S] [target ...]
# Without clang or libFuzzer it says so and exits 77 (CTest: skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build-fuzz RUNS=2000 SECONDS_EACH=0 TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;  # run each target this long instead of --runs
    *) TARGETS+=("$1"); shift ;;
  esac
done
CLANG=$(command -v clang++ || true)
if [ -z "$CLANG" ]; then
  echo "SKIPPED: clang++ not installed (Debian: apt-get install clang)"; exit 77
fi
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, long) { return 0; }' |
     "$CLANG" -x c++ -fsanitize=fuzzer -o /dev/null - 2> /dev/null; then
  echo "SKIPPED: $CLANG cannot link libFuzzer (Debian: apt-get install libclang-rt-dev or clang)"; exit 77
fi
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(ground_truth csv cl2023 labelme predict_json onnx_header dicom image_header)

mkdir -p "$BUILD"
CXX="$CLANG" cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCEPHTRACE_FUZZ=ON \
  -DCEPHTRACE_BUILD_TESTS=OFF > "$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" -j "${JOBS:-$(nproc)}" --target $(printf 'fuzz_%s ' "${TARGETS[@]}") > /dev/null
/usr/bin/python3 fuzz/make_seeds.py "$BUILD/seeds"

# Leaks are reported by the unit tests' sanitizer run; here a leak in DCMTK's codec
# registry or OpenCV's thread pool would only be noise.
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "${TARGETS[@]}"; do
  mkdir -p "$BUILD/corpus/$t"
  limit="-runs=$RUNS"
  [ "$SECONDS_EACH" != 0 ] && limit="-max_total_time=$SECONDS_EACH"
  echo "fuzz_$t: $limit"
  # -rss_limit_mb: an input that makes the process use more memory than this is a bug (the
  # limits of include/cephtrace/limits.hpp should refuse it first). A single allocation may
  # reach 4 GB: DCMTK reserves a DICOM element's declared 32-bit length while reading (with
  # new(nothrow); the pages stay untouched, so the RSS limit still holds).
  rc=0
  "$BUILD/bin/fuzz_$t" "$limit" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
    -malloc_limit_mb=4200 -seed=1 -print_final_stats=1 -artifact_prefix="$BUILD/fuzz_$t-" \
    "$BUILD/corpus/$t" "$BUILD/seeds/$t" > "$BUILD/fuzz_$t.log" 2>&1 || rc=$?
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" "$BUILD/fuzz_$t.log" | tr '\n' ' '; echo
  if [ $rc -ne 0 ]; then
    grep -E "ERROR|SUMMARY|^    #[0-9]" "$BUILD/fuzz_$t.log" | head -30
    echo "fuzz_$t FAILED (log $BUILD/fuzz_$t.log; input saved with prefix $BUILD/fuzz_$t-)"; exit 1
  fi
done
echo "fuzz: all ${#TARGETS[@]} targets passed"
