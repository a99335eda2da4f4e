#!/usr/bin/env bash
# The extended model's selective second pass (`--extended-repass-min-move`,
# constants::kExtendedRepassMinMove): the 14 extended landmarks' MRE against the CL-2023 labels
# on the training images 101-150 that have them (27 films) with the protocol models (trained on
# 001-150, so the test images stay out of the choice), with the median time of the extended step
# per film (one film at a time on two threads: run it on an otherwise idle machine), for each
# value given.
#   bash tools/extended_repass.sh [min-move ...]     (grid px; default: 0 4 8 12 16)
# Environment: BUILD (default build), CEPHTRACE_ISBI_DIR (default ../shared/data/isbi2015),
# IDS (default 101-150), MODELS (default models/isbi2015-protocol).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
data=${CEPHTRACE_ISBI_DIR:-../shared/data/isbi2015}
ids=${IDS:-101-150}
models=${MODELS:-models/isbi2015-protocol}
moves=("$@")
[ ${#moves[@]} -gt 0 ] || moves=(0 4 8 12 16)
[ -d "$data/images" ] || { echo "no ISBI images in $data/images" >&2; exit 1; }
ct="$build/bin/cephtrace"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$ct" import --format cl2023 --pixel-spacing 0.1 --input "$data/annotations/cl2023" --output-dir "$work/cl" --quiet
extended=$(PYTHONPATH=. /usr/bin/python3 -c "from training import tables as T; print(','.join(T.EXTENDED_14))")
echo "| min move (grid px) | CL-2023, extended 14 (mm) | SDR 2 mm | extended step, median ms |"
echo "|---:|---:|---:|---:|"
for v in "${moves[@]}"; do
  "$ct" evaluate --gt-dir "$work/cl" --image-dir "$data/images" --ids "$ids" --model-dir "$models" \
    --jobs 1 --threads 2 --extended-repass-min-move "$v" --landmarks "$extended" --bootstrap 0 \
    --save-predictions "$work/pred.json" --output "$work/cl14.json" --quiet > /dev/null
  /usr/bin/python3 - "$v" "$work/cl14.json" "$work/pred.json" <<'PY'
import json, statistics, sys
report, preds = json.load(open(sys.argv[2]))["overall"], json.load(open(sys.argv[3]))
ms = statistics.median(film["timings_ms"]["extended"] for film in preds.values())
sdr = report["sdr"]["2.0"]
print(f"| {sys.argv[1]} | {report['mre_mm']:.3f} | {100 * sdr:.1f} % | {ms:.0f} |")
PY
done
