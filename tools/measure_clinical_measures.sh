#!/usr/bin/env bash
# Clinical measures (cephtrace analyze) from predicted vs true landmarks on ISBI 2015 Test1,
# and the same table for the second annotator vs the senior one, into
# docs/results/clinical_measures_test1.md. The predictions are a saved `cephtrace evaluate
# --protocol isbi2015 --save-predictions` batch (tools/measure_shipped_models.sh makes it).
#
#   bash tools/measure_clinical_measures.sh [build-dir] [predictions.json] [model-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
predictions=${2:-/tmp/cephtrace-measure/stage0_priors.json}
models=${3:-models}  # the folder the predictions came from (named in the report)
bin="$build/bin/cephtrace"
data=${CEPHTRACE_ISBI_DIR:-../shared/data/isbi2015}
out=docs/results/clinical_measures_test1.md
model=(evaluate --protocol isbi2015 --data-dir "$data" --predictions "$predictions" --measures --bootstrap 0)
humans=(evaluate --protocol isbi2015-interobserver --data-dir "$data" --measures --bootstrap 0)
{
  echo "# Clinical measures on ISBI 2015 Test1: from predicted vs true landmarks"
  echo
  echo "Written by \`bash tools/measure_clinical_measures.sh $build $predictions\`, which runs"
  echo
  echo "    cephtrace ${model[*]}"
  echo "    cephtrace ${humans[*]}"
  echo
  echo "Predictions: the default pipeline with \`$models\`, saved by \`tools/measure_shipped_models.sh\`"
  echo "(\`cephtrace evaluate --protocol isbi2015 --data-dir $data --model-dir $models --save-predictions ...\`;"
  echo "sha256 \`$(sha256sum "$predictions" | cut -c1-16)...\`). Ground truth: the senior annotations (19 landmarks) plus the"
  echo "CL-Detection 2023 labels' Co, U1_root, L1_root, Prn, Ba and the 14 extended landmarks (molars, PT,"
  echo "columella, soft-tissue points) on 105 of the 150 Test1 images, at the true 0.1 mm/pixel. Measures"
  echo "needing a landmark only CL-2023 has are compared on those 105; the predictions' extended landmarks"
  echo "come from the shipped extended model."
  echo
  echo "## Model vs senior annotator"
  "$bin" "${model[@]}" | sed -n '/^### Test1 (151-300)$/,/^### Test2/p' | sed '1d;$d'
  echo
  echo "## Second annotator vs senior annotator (the same table for two humans; 19 ISBI landmarks only)"
  "$bin" "${humans[@]}" | sed -n '/senior (truth) vs alternate/,/^Import notes/p' | sed '1d;$d'
} > "$out"
echo "written: $out" >&2
