#!/usr/bin/env bash
# add_subdirectory(<cephtrace checkout>) from another project: configures, and the
# consumer's own source compiles against the target cephtrace::cephtrace (its include
# folders, the generated version header, C++20). The library itself is not built here (the
# install test links against it): that would build all of it again, minutes on 2 cores.
# usage: subdirectory_test.sh SOURCE_DIR WORK_DIR CXX
set -euo pipefail
source=$1 work=$2 cxx=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work"
cmake -S "$here" -B "$work" -G "Unix Makefiles" -DCEPHTRACE_SOURCE_DIR="$source" \
  -DCMAKE_CXX_COMPILER="$cxx" > "$work.log"
make -C "$work" consumer.o > "$work-build.log"
echo "add_subdirectory test: OK"
