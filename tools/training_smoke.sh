#!/usr/bin/env bash
# CI's guard against training-code rot: train every model for a few steps on a few images,
# export ONNX into <out>/models. Exit 77 (CTest "skipped") when the ISBI data is absent.
set -euo pipefail
python=$1
out=$2
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -f "$root/../shared/data/isbi2015/images/001.jpg" ]; then
  echo "training_smoke: ../shared/data/isbi2015 not found; skipping"
  exit 77
fi
rm -rf "$out"
cd "$root"
export CEPH_DATA="$root/../shared/data/isbi2015"
"$python" -m training.train_all --smoke --threads 2 --out "$out/models" --runs "$out/runs"
# Distillation (issue 15: one Stage 2 network instead of two, then a narrower one): the smoke's
# two members teach a third, narrower network for a few steps (`--refine-teachers`,
# `--refine-width`), exported beside the others.
"$python" -m training.train_all --smoke --threads 2 --only refine --refine-member 3 \
  --refine-teachers "$out/models/stage2/refine.onnx,$out/models/stage2/refine_2.onnx" \
  --refine-width 8,16,32,64,64 \
  --out "$out/distilled" --runs "$out/runs"
test -s "$out/distilled/stage2/refine_3.onnx"
# The extended model distilled the same way into a narrower network.
"$python" -m training.train_all --smoke --threads 2 --only extended \
  --extended-teacher "$out/models/extended/refine_extended.onnx" --extended-width 8,16,32,64,64 \
  --out "$out/distilled" --runs "$out/runs_narrow"
"$python" -c "import sys; from training.refine import width_of; w = width_of(sys.argv[1]); \
assert w == (8, 16, 32, 64, 64), w" "$out/distilled/extended/refine_extended.onnx"
# Stage 0's profile and zone networks at narrower widths (issue 15: the four zones are most of
# Stage 0's time).
"$python" -m training.train_all --smoke --threads 2 --only profile,zones --stage0-width 8,16,32,64 \
  --out "$out/narrow_stage0" --runs "$out/runs_stage0"
"$python" -c "import sys; from training.stage0 import width_of; \
w = [width_of(f) for f in sys.argv[1:]]; assert w == [(8, 16, 32, 64)] * 5, w" \
  "$out"/narrow_stage0/stage0/v4_stage0_profile.onnx "$out"/narrow_stage0/stage0/z[1-4]_*.onnx
