#!/bin/bash
# Stage 1 and Stage 2 trained at once on a lent GPU machine, in one prepared run.
#
#   training/gpu_session.sh PACK OUT [MINUTES]
#
# PACK: a training pack (python3 -m training.pack --ids 1-150 --out .gpu/pack.npz), since the
# machine receives only this repository. OUT: where the best checkpoints, their ONNX exports
# and the logs go. MINUTES (default 6): optimisation budget of each model; the cosine schedule
# runs over it. The two trainings share the GPU and the 16 cores: Stage 1's 512² augmentation
# is the bottleneck, so it gets 10 sample workers and Stage 2 (128² patches) 4.
# Back here: re-export with --export-only and select on 141-150 through the C++ engine.
set -u
pack=$1; out=$2; minutes=${3:-6}
device=${CEPH_DEVICE:-cuda}; py=${PYTHON:-python3}  # here: PYTHON=/usr/bin/python3 CEPH_DEVICE=cpu
export CEPH_PACK=$pack PYTHONUNBUFFERED=1
runs=$(mktemp -d); models=$(mktemp -d)
mkdir -p "$out"
{ nvidia-smi -L; "$py" -c 'import torch, cv2, numpy; print("torch", torch.__version__, "cv2", cv2.__version__, "numpy", numpy.__version__, "cuda", torch.cuda.is_available())'; } > "$out/device.txt" 2>&1
limit=$(awk "BEGIN{print int($minutes*60+100)}")  # start-up, validations, export; then copy out
timeout "$limit" "$py" -m training.train_all --device "$device" --only stage1 --runs "$runs" --out "$models" \
  --stage1-minutes "$minutes" --stage1-batch 16 --stage1-lr 2e-3 --stage1-eval-every 20 \
  --stage1-export-every 1000 --workers 10 > "$out/stage1.log" 2>&1 &
timeout "$limit" "$py" -m training.train_all --device "$device" --only refine --runs "$runs" --out "$models" \
  --refine-minutes "$minutes" --refine-batch 128 --refine-eval-every 30 --workers 4 > "$out/refine.log" 2>&1 &
wait
cp "$runs"/stage1_best.pt "$runs"/refine_best.pt "$out"/
cp "$models"/stage1/v4_stage1.onnx "$models"/stage2/refine.onnx "$out"/
cat "$out/device.txt"; tail -n 6 "$out/stage1.log" "$out/refine.log"
