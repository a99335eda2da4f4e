"""Stage 2 speed levers that need no retraining, replayed in Python from the engine's Stage 1
positions (training/replay_stage2.py: the engine's crops and decoding, one pass, one patch per
landmark), scored against the senior labels (19 landmarks) on training images:

* smaller patches: the members are fully convolutional, so a patch of P² (a multiple of 16)
  gives a (P/2)² heatmap for (P/128)² of the work, with less context than they learnt from;
* the second member only where the first is unsure: member 1 on every patch, the ensemble's
  average only where member 1's peak is among the lowest q of all its peaks (the rest keep
  member 1's answer; member 2 then runs on q of the patches, after member 1, not beside it).

  build/bin/cephtrace import --format isbi-senior --pixel-spacing 0.1 \\
      --input ../shared/data/isbi2015/annotations/senior/train_senior.csv --output-dir /tmp/senior
  build/bin/cephtrace evaluate --gt-dir /tmp/senior --image-dir ../shared/data/isbi2015/images \\
      --ids 101-150 --model-dir models/isbi2015-protocol --bootstrap 0 --no-extended \\
      --save-predictions /tmp/pred.json --quiet
  PYTHONPATH=. /usr/bin/python3 tools/stage2_replay_levers.py --predictions /tmp/pred.json

Session 13's figures (docs/benchmark.md) are this command's output for 101-150.
"""
import argparse

import numpy as np
import torch

from training import common as C
from training import refine as R
from training import replay_stage2 as RS


def one_pass(model, case, start):
    """Member `model`'s answer from `start` (original px): positions (original px) and peaks."""
    peaks = []
    g = R.refine_points(model, case, R.to_grid(start, case.W, case.H, case.img.shape[1], case.img.shape[0]), peaks)
    return RS.grid_to_original(case, g), np.array(peaks)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--predictions", required=True, help="cephtrace evaluate --save-predictions JSON")
    ap.add_argument("--ids", default="101-150", help="training images to score (default 101-150)")
    ap.add_argument("--models", default="models/isbi2015-protocol", help="model folder with the two members")
    ap.add_argument("--patches", default="128,112,96", help="patch sizes to try (multiples of 16)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ids = C.parse_ids(a.ids)
    cases = R.load_cases(ids, verbose=False)
    starts = RS.stage1_starts(a.predictions, ids)
    nets = [R.load_exported("%s/stage2/%s" % (a.models, f)) for f in ("refine.onnx", "refine_2.onnx")]
    print("Stage 1 (the engine's): %.3f mm" % RS.mre(cases, starts))

    print("\n| patch | member 1 | member 2 | ensemble | work |\n|---:|---:|---:|---:|---:|")
    answers = {}
    for size in [int(s) for s in a.patches.split(",")]:
        R.PATCH = size  # crop_integer reads the module's patch size
        runs = [{c.id: one_pass(m, c, starts[c.id]) for c in cases} for m in nets]
        if size == 128:
            answers = runs
        ensemble = {c.id: (runs[0][c.id][0] + runs[1][c.id][0]) / 2 for c in cases}
        print("| %d² | %.3f | %.3f | %.3f | %.0f %% |" % (
            size, RS.mre(cases, {c.id: runs[0][c.id][0] for c in cases}),
            RS.mre(cases, {c.id: runs[1][c.id][0] for c in cases}), RS.mre(cases, ensemble),
            100.0 * size * size / 128 ** 2))
    R.PATCH = 128
    if not answers:
        return

    isbi = [C.IDX[n] for n in C.ISBI19]
    peaks1 = np.concatenate([answers[0][c.id][1][isbi] for c in cases])
    print("\n| member 2 where member 1's peak is in its lowest | MRE (mm) | Stage 2 work |\n|---:|---:|---:|")
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        threshold = np.quantile(peaks1, q) if 0 < q < 1 else (-np.inf if q == 0 else np.inf)
        chosen = {}
        for c in cases:
            (p1, k1), (p2, _) = answers[0][c.id], answers[1][c.id]
            chosen[c.id] = np.where((k1 < threshold)[:, None], (p1 + p2) / 2, p1)
        print("| %.0f %% | %.3f | %.0f %% |" % (100 * q, RS.mre(cases, chosen), 100 * (1 + q) / 2))


if __name__ == "__main__":
    main()
