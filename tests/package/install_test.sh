#!/usr/bin/env bash
# The installed package as a user meets it: `cmake --install` into an empty prefix, then
#  - only public headers are installed, they compile together, and predictor.hpp does not
#    pull in OpenCV DNN or nlohmann/json.hpp;
#  - consumer.cpp built with find_package(cephtrace) and with pkg-config, each finding the
#    installed models through its package, prints the landmarks of the image (25, or 39 with
#    the extended model);
#  - the installed CLI, run from an unrelated folder, uses the installed models and agrees.
# usage: install_test.sh BUILD_DIR WORK_DIR CXX PYTHON IMAGE
set -euo pipefail
build=$1 work=$2 cxx=$3 python=$4 image=$5
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
# Runs a command with its output in a log, shown when it fails (compilers warn a lot about
# OpenCV's headers in C++20).
logged() { local log=$1; shift; "$@" > "$log" 2>&1 || { cat "$log"; fail "$* (log: $log)"; }; }

rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix
logged "$work/install.log" cmake --install "$build" --prefix "$prefix"
models=$prefix/share/cephtrace/models
[ -f "$models/stage1/v4_stage1.onnx" ] || fail "no models in $models"
[ -f "$prefix/share/cephtrace/web/index.html" ] || fail "no viewer files in $prefix/share/cephtrace/web"
for internal in stage0.hpp stage0_phases.hpp stage1.hpp stage2.hpp onnx_model.hpp preprocess.hpp; do
  [ ! -e "$prefix/include/cephtrace/$internal" ] || fail "internal header installed: $internal"
done

export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name cephtrace.pc)")
cflags=$(pkg-config --cflags cephtrace)
# Every installed header, together: none needs a header that was not installed.
for h in "$prefix"/include/cephtrace/*.hpp; do echo "#include <cephtrace/$(basename "$h")>"; done \
  > "$work/all_headers.cpp"
logged "$work/all_headers.log" "$cxx" -std=c++20 -fsyntax-only $cflags "$work/all_headers.cpp"
echo '#include <cephtrace/predictor.hpp>' > "$work/predictor_only.cpp"
"$cxx" -std=c++20 -E $cflags "$work/predictor_only.cpp" -o "$work/predictor_only.i"
if grep -Eq '"[^"]*(opencv2/dnn|nlohmann/json\.hpp)' "$work/predictor_only.i"; then
  fail "predictor.hpp pulls in: $(grep -Eo '"[^"]*(opencv2/dnn|nlohmann/json\.hpp)[^"]*"' "$work/predictor_only.i" | sort -u | head -3)"
fi

# find_package(cephtrace)
logged "$work/cmake-consumer.log" cmake -S "$here" -B "$work/cmake-consumer" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release
logged "$work/cmake-consumer-build.log" cmake --build "$work/cmake-consumer"
"$work/cmake-consumer/consumer" "$image" > "$work/cmake.txt"

# pkg-config
modeldir=$(pkg-config --variable=modeldir cephtrace)
[ "$(realpath "$modeldir")" = "$(realpath "$models")" ] || fail "pkg-config modeldir $modeldir is not $models"
logged "$work/pkg-consumer.log" "$cxx" -std=c++20 -O2 "$here/consumer.cpp" -DMODEL_DIR="\"$modeldir\"" \
  $cflags $(pkg-config --libs cephtrace) -o "$work/pkg-consumer"
"$work/pkg-consumer" "$image" > "$work/pkgconfig.txt"

cat "$work/cmake.txt"
# The 25, and the 14 extended ones when the installed models have the extended model.
traced=25
[ -f "$models/extended/refine_extended.onnx" ] && traced=39
[ "$(grep -c '^[A-Za-z_0-9]* [0-9.]* [0-9.]* \(high\|medium\|low\)$' "$work/cmake.txt")" = "$traced" ] \
  || fail "the find_package consumer did not print $traced landmarks"
cmp "$work/cmake.txt" "$work/pkgconfig.txt" || fail "the pkg-config consumer printed something else"

# The installed CLI, from a folder without models/: its default is the installed data.
mkdir -p "$work/elsewhere"
cd "$work/elsewhere"
env -u CEPHTRACE_MODEL_DIR "$prefix/bin/cephtrace" predict --help > help.txt
grep -Fq "here: $(realpath "$models")" help.txt || grep -Fq "here: $models" help.txt \
  || fail "installed CLI does not default to $models: $(grep -A3 -- --model-dir help.txt)"
env -u CEPHTRACE_MODEL_DIR "$prefix/bin/cephtrace" predict --image "$image" --threads 1 --quiet \
  --output cli.json
# The same positions (to the consumer's two decimals) in the CLI's JSON.
"$python" - "$work/cmake.txt" cli.json <<'PY' || fail "the installed CLI found other positions"
import json, sys
printed = [line.split()[:3] for line in open(sys.argv[1]).read().splitlines()[1:]]
cli = [[l["name"], f"{l['x']:.2f}", f"{l['y']:.2f}"] for l in json.load(open(sys.argv[2]))["landmarks"]]
if printed != cli:
    sys.exit(f"consumer: {printed}\nCLI:      {cli}")
PY
echo "package install test: OK"
