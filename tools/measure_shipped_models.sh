#!/usr/bin/env bash
# Every accuracy and speed figure quoted in README.md and models/MODEL_CARD.md, measured with
# the C++ engine on the shipped models. Writes docs/results/*.md. Everything scored on ISBI's
# test images (151-400, and the device-shift benchmark made from them) uses the protocol models
# (models/isbi2015-protocol: trained on 001-150 only) when the default has learnt from them.
#
#   bash tools/measure_shipped_models.sh [build-dir]      (needs ../shared/data/isbi2015)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin="$build/bin/cephtrace"
data=${CEPHTRACE_ISBI_DIR:-../shared/data/isbi2015}
out=docs/results
mkdir -p "$out"
protocol_models=models
[ -d models/isbi2015-protocol ] && protocol_models=models/isbi2015-protocol

protocol() {  # name, extra args...
  local name=$1; shift
  echo "== ISBI protocol: $name" >&2
  "$bin" evaluate --protocol isbi2015 --data-dir "$data" --model-dir "$protocol_models" "$@" \
    > "$out/isbi2015_$name.md"
}
tmp=/tmp/cephtrace-measure
mkdir -p "$tmp"
protocol stage0_priors --save-predictions "$tmp/stage0_priors.json"
protocol no_framing --no-framing
protocol stage1_only_no_refinement --refine-passes 0 --no-framing
protocol two_refinement_passes --refine-passes 2 --no-framing
protocol stage0_priors_dark_decoder --decoder dark --no-framing
protocol zero_priors --priors zero --no-framing
protocol ground_truth_priors --priors ground-truth --no-framing

echo "== derived Pm (annotated nowhere: derived from the senior LL/Pog_soft and the profile)" >&2
/usr/bin/python3 -m training.write_derived_pm --ids 151-400 --out "$tmp/pm_gt" >&2
{
  for set in "Test1 151-300" "Test2 301-400"; do
    echo "### ${set% *} (${set#* }), derived Pm"
    echo
    "$bin" evaluate --gt-dir "$tmp/pm_gt" --predictions "$tmp/stage0_priors.json" \
      --ids "${set#* }" --pixel-spacing 0.1 --bootstrap 0 | sed -n '/^| set\|^| landmark\|^|---\|^| Pm\|^| all/p'
    echo
  done
} > "$out/derived_pm.md"

echo "== clinical measures (Test1) from the saved predictions" >&2
bash tools/measure_clinical_measures.sh "$build" "$tmp/stage0_priors.json" "$protocol_models"

echo "== robustness" >&2
/usr/bin/python3 tools/robustness_check.py --cephtrace "$bin" --models "$protocol_models" --data "$data" \
  --ids 151-180 --out /tmp/cephtrace-robustness | sed -n '/^| condition/,$p' > "$out/robustness.md"

echo "== device shift (other devices' framing, filters, look-up tables; docs/device_shift.md)" >&2
/usr/bin/python3 tools/device_shift_benchmark.py --cephtrace "$bin" --models "$protocol_models" --data "$data" \
  --out /tmp/cephtrace-device-shift --markdown "$out/device_shift.md" --json "$out/device_shift.json" \
  -- --jobs 2 >&2
/usr/bin/python3 tools/device_shift_benchmark.py --cephtrace "$bin" --models "$protocol_models" --data "$data" \
  --out /tmp/cephtrace-device-shift-no-framing --markdown "$out/device_shift_no_framing.md" \
  -- --no-framing --no-anatomy-gate --jobs 2 >&2
/usr/bin/python3 tools/calibrate_confidence.py report --calibration "$protocol_models/stage2/confidence.json" \
  --runs /tmp/cephtrace-device-shift > "$out/confidence_calibration.md"

echo "== benchmark" >&2
"$build/bin/cephtrace_benchmark" --model-dir models --image samples/isbi2015_151.jpg \
  --runs 10 --warmup 2 --threads 2 > "$out/benchmark_shipped.txt"
echo "written: $out" >&2
