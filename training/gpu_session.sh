#!/usr/bin/env bash
# One prepared run for a lent GPU machine (the `device` tool; about 15 minutes of device time
# a session, all tries together). The machine receives only the repository, so make the pack
# here first and carry it:
#
#   echo /.gpu/ >> .git/info/exclude
#   mode stage1:  /usr/bin/python3 -m training.pack --ids 1-150 --out .gpu/pack.npz            # 21 MB
#   mode all, fold-train: /usr/bin/python3 -m training.pack --ids 1-400 --with-test-images --out .gpu/pack.npz
#   device run: carry [".gpu"], timeout_s 540, command: bash training/gpu_session.sh MODE MINUTES
#
# stage1 MINUTES: the device-robust Stage 1 (domain randomisation, `--stage1-augment device`)
#   on 1-140, selected on 141-150. Then, here: copy $OUT's v4_stage1.onnx over
#   models/isbi2015-protocol/stage1/ (the protocol set; rewrite its manifest with
#   training.common.write_manifest), keep it only if the pipeline improves on 141-150
#   (cephtrace evaluate --ids 141-150 ...; training/README.md), then measure the device-shift
#   benchmark and Test1/Test2, and redo the default's folds on it (training/folds.py).
# all MINUTES: the shipped default trained from scratch on every annotated image but the
#   selection images (1-140 and 151-400; Stage 1, then both Stage 2 members, MINUTES each),
#   the labels of 301-400 drawn by another convention left out (common.TRAINING_EXCLUSIONS).
#   Its Test1/Test2 figures mean nothing (it saw them): the protocol figures come from
#   models/isbi2015-protocol, and the default's held-out estimate from training/folds.py.
# fold-train MINUTES: training/folds.py's fold train (001-150 held out) on the GPU: Stage 1 and
#   both Stage 2 members from scratch on 151-400 less 173/283, selected on 291-300 (the CPU
#   managed 55 + 48 minutes of it in a session). Then, here: copy $OUT's models/stage1 and
#   models/stage2 into <runs>/train/models/ and run `python3 -m training.folds --fold train
#   --score-only`, then `--kfold`.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-stage1}
minutes=${2:-7}
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out/models"
[ -f .gpu/pack.npz ] || { echo "gpu_session: .gpu/pack.npz missing (carry it; see the header)" >&2; exit 2; }
export CEPH_PACK=.gpu/pack.npz PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -c "import torch, cv2, onnx; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'cv2', cv2.__version__)"
train=(python3 -m training.train_all --device cuda --workers 12 --no-resume --out "$out/models" --runs /tmp/gpu-runs)
case "$mode" in
  stage1)
    # The segmenters need the ISBI folder (not in the pack): only Stage 1 trains here.
    "${train[@]}" --only stage1 --stage1-augment device --stage1-minutes "$minutes" --stage1-batch 16 \
      --stage1-lr 2e-3 --stage1-eval-every 20 2>&1 | tee "$out/stage1.log"
    ;;
  all)
    ids=(--train-ids 1-140,151-400 --val-ids 141-150)
    "${train[@]}" "${ids[@]}" --only stage1 --stage1-minutes "$minutes" --stage1-batch 16 --stage1-lr 2e-3 \
      --stage1-eval-every 20 2>&1 | tee "$out/stage1.log"
    "${train[@]}" "${ids[@]}" --only refine --refine-minutes "$minutes" --refine-batch 64 \
      --refine-eval-every 30 2>&1 | tee "$out/refine.log"
    "${train[@]}" "${ids[@]}" --only refine2 --refine2-minutes "$minutes" 2>&1 | tee "$out/refine2.log"
    ;;
  fold-train)
    ids=(--train-ids "$(python3 -c 'from training.folds import FOLDS; print(FOLDS["train"]["train"])')"
         --val-ids "$(python3 -c 'from training.folds import FOLDS; print(FOLDS["train"]["val"])')")
    "${train[@]}" "${ids[@]}" --only stage1 --stage1-minutes "$minutes" --stage1-batch 16 --stage1-lr 2e-3 \
      --stage1-eval-every 20 2>&1 | tee "$out/stage1.log"
    "${train[@]}" "${ids[@]}" --only refine --refine-minutes "$minutes" --refine-batch 64 \
      --refine-eval-every 30 2>&1 | tee "$out/refine.log"
    "${train[@]}" "${ids[@]}" --only refine2 --refine2-minutes "$minutes" 2>&1 | tee "$out/refine2.log"
    ;;
  *) echo "gpu_session: mode is stage1, all or fold-train" >&2; exit 2 ;;
esac
cp /tmp/gpu-runs/*_best.pt "$out/" 2>/dev/null || true
ls -lR "$out"
