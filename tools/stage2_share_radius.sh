#!/usr/bin/env bash
# Stage 2 patch sharing (`--refine-share-radius`, constants::kRefineShareRadius): MRE on the
# training images 101-150 with the protocol models (trained on 001-150, so the test images
# stay out of the choice) for each radius given, against the senior labels (19 landmarks)
# and the CL-2023 labels (the 25 canonical and the 14 extended landmarks), with the mean
# number of Stage 2 patches per film.
#   bash tools/stage2_share_radius.sh [radius ...]        (default: 0 16 20 24 28 32)
# Environment: BUILD (default build), CEPHTRACE_ISBI_DIR (default ../shared/data/isbi2015),
# IDS (default 101-150).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
data=${CEPHTRACE_ISBI_DIR:-../shared/data/isbi2015}
ids=${IDS:-101-150}
radii=("$@")
[ ${#radii[@]} -gt 0 ] || radii=(0 16 20 24 28 32)
[ -d "$data/images" ] || { echo "no ISBI images in $data/images" >&2; exit 1; }
ct="$build/bin/cephtrace"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$ct" import --format isbi-senior --pixel-spacing 0.1 --input "$data/annotations/senior/train_senior.csv" \
  --output-dir "$work/senior" --quiet
"$ct" import --format cl2023 --pixel-spacing 0.1 --input "$data/annotations/cl2023" --output-dir "$work/cl" --quiet
names() { PYTHONPATH=. /usr/bin/python3 -c "from training import tables as T; print(','.join(T.$1))"; }
canonical=$(names CANONICAL_25)
extended=$(names EXTENDED_14)
mre() { /usr/bin/python3 -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['overall']['mre_mm'])" "$1"; }
echo "| radius (grid px) | patches per film | senior, 19 (mm) | CL-2023, 25 (mm) | CL-2023, extended 14 (mm) |"
echo "|---:|---:|---:|---:|---:|"
for r in "${radii[@]}"; do
  "$ct" evaluate --gt-dir "$work/senior" --image-dir "$data/images" --ids "$ids" \
    --model-dir models/isbi2015-protocol --bootstrap 0 --refine-share-radius "$r" \
    --save-predictions "$work/pred.json" --output "$work/senior.json" --quiet > /dev/null
  "$ct" evaluate --gt-dir "$work/cl" --predictions "$work/pred.json" --ids "$ids" --bootstrap 0 \
    --landmarks "$canonical" --output "$work/cl25.json" --quiet > /dev/null
  "$ct" evaluate --gt-dir "$work/cl" --predictions "$work/pred.json" --ids "$ids" --bootstrap 0 \
    --landmarks "$extended" --output "$work/cl14.json" --quiet > /dev/null
  # Patches: the engine's own grouping (plan_patches) replayed on the recorded Stage 1 positions.
  patches=$(/usr/bin/python3 - "$work/pred.json" "$r" <<'PY'
import json, sys
import numpy as np
preds, radius = json.load(open(sys.argv[1])), float(sys.argv[2])
counts = []
for r in preds.values():
    s = 1024 / np.sqrt(r["original_width"] * r["original_height"])  # about the refinement grid
    p = [np.array([l["refinement"]["stage1_x"], l["refinement"]["stage1_y"]]) * s for l in r["landmarks"][:25]]
    group = [-1] * len(p)
    for seed in range(len(p)):
        if group[seed] >= 0:
            continue
        group[seed] = seed
        lo = hi = p[seed]
        for j in sorted((j for j in range(seed + 1, len(p)) if group[j] < 0), key=lambda j: np.abs(p[j] - p[seed]).max()):
            nlo, nhi = np.minimum(lo, p[j]), np.maximum(hi, p[j])
            if (nhi - nlo).max() <= 2 * radius:
                lo, hi, group[j] = nlo, nhi, seed
    counts.append(len(set(group)))
print("%.1f" % np.mean(counts))
PY
)
  echo "| $r | $patches | $(mre "$work/senior.json") | $(mre "$work/cl25.json") | $(mre "$work/cl14.json") |"
done
