#!/bin/sh
# The README's Python set-up, checked: `pip install --no-build-isolation .` (offline) into a
# fresh venv that sees Debian's packages, then the reference README's example with the
# installed package, from a folder outside the source tree (so with its bundled models).
#   pip_install.sh PYTHON BUILD_DIR VENV_DIR      (from the repository root)
set -eu
python=$1 build=$2 venv=$3
sample=$(pwd)/samples/isbi2015_151.jpg
"$python" -c 'import ensurepip' 2> /dev/null || { echo "SKIPPED: python3-venv not installed"; exit 77; }
rm -rf "$venv"
"$python" -m venv --system-site-packages "$venv"
CEPHTRACE_BUILD_DIR=$build "$venv/bin/pip" install --no-build-isolation --no-index --quiet .
cd "$venv"
env -u CEPHTRACE_MODEL_DIR PYTHONPATH= "$venv/bin/python" - "$sample" "$venv" <<'PY'
import sys
from pathlib import Path

import cephtrace
from cephtrace import CephTracePredictor

sample, venv = sys.argv[1], Path(sys.argv[2]).resolve()
package = Path(cephtrace.__file__).resolve().parent
assert venv in package.parents, f"imported {package}, not the installed package"
assert Path(cephtrace.default_model_dir()).resolve() == package / "models"

predictor = CephTracePredictor()
result = predictor.predict(sample)
print(f"Image: {result.original_width} x {result.original_height}")
print(f"Degraded: {result.degraded}")
for lm in result.landmarks:
    print(f"  {lm.name:<10} ({lm.x:.1f}, {lm.y:.1f}) "
          f"confidence={lm.confidence_label} (peak={lm.peak:.2f})")
# The 25, and the 14 extended ones when the installed models have the extended model.
traced = 39 if (package / "models" / "extended" / "refine_extended.onnx").exists() else 25
assert len(result.landmarks) == traced and not result.degraded
print(f"installed cephtrace {cephtrace.__version__} in {package}: ok")
PY
