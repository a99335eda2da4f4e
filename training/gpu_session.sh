#!/usr/bin/env bash
# One prepared run for a lent GPU machine (the `device` tool; about 15 minutes of device time
# a session, all tries together). It trains the device-robust Stage 1 (domain randomisation:
# `--stage1-augment device`) on the training pack and exports it, with its validation log, to
# $OUT. The machine receives only the repository, so make the pack here first and carry it:
#
#   /usr/bin/python3 -m training.pack --ids 1-150 --out .gpu/pack.npz   # here (needs the ISBI folder)
#   echo /.gpu/ >> .git/info/exclude
#   device run: carry [".gpu"], timeout_s 540,
#     command: bash training/gpu_session.sh 7
#
# Argument: Stage 1 minutes (default 7). Then, here: copy $OUT's v4_stage1.onnx over
# models/stage1/, select it only if the pipeline improves on the held-out images 141-150
# (cephtrace evaluate --ids 141-150 ...; training/README.md), then measure the device-shift
# benchmark and Test1/Test2 (tools/device_shift_benchmark.py, tools/measure_shipped_models.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-7}
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out/models/stage1"
[ -f .gpu/pack.npz ] || { echo "gpu_session: .gpu/pack.npz missing (carry it; see the header)" >&2; exit 2; }
export CEPH_PACK=.gpu/pack.npz PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c "import torch, cv2, onnx; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'cv2', cv2.__version__)"
# The segmenters need the ISBI folder (not in the pack): only Stage 1 trains here.
python3 -m training.train_all --device cuda --workers 12 --only stage1 --no-resume \
  --stage1-augment device --stage1-minutes "$minutes" --stage1-batch 16 --stage1-lr 2e-3 \
  --stage1-eval-every 20 --out "$out/models" --runs /tmp/gpu-runs 2>&1 | tee "$out/stage1.log"
cp /tmp/gpu-runs/stage1_best.pt "$out/" 2>/dev/null || true
ls -l "$out" "$out/models/stage1"
