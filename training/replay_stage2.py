"""Replay the engine's Stage 2 in Python from the C++ engine's Stage 1 positions.

A fast bench for Stage 2 experiments on the held-out images: no C++ rebuild, no ONNX export.
The crops, decoding and mapping are the engine's (training/refine.py), so a shipped
checkpoint reproduces `cephtrace evaluate` to about 0.01 mm.

  build/bin/cephtrace import --format isbi-senior --pixel-spacing 0.1 \\
      --input <isbi>/annotations/senior/train_senior.csv --output-dir /tmp/val_gt
  build/bin/cephtrace evaluate --gt-dir /tmp/val_gt --image-dir <isbi>/images --ids 141-150 \\
      --bootstrap 0 --save-predictions /tmp/val_pred.json
  /usr/bin/python3 -m training.replay_stage2 --predictions /tmp/val_pred.json \\
      --checkpoints /root/cephtrace-runs/refine_best.pt other.pt [--soup] [--ensemble]

Prints the MRE (mm, 19 ISBI landmarks, senior labels) of each checkpoint for 1 and 2 passes,
and with --soup / --ensemble of their weight average / their averaged positions.
"""
import argparse
import json
import os

import numpy as np
import torch

from . import common as C
from . import refine as R
from .runtime import load_checkpoint


def stage1_starts(predictions, ids):
    """Stage 1 positions (before Stage 2) from a cephtrace batch JSON, in the left-facing
    (mirrored) frame that training/ uses, by image id."""
    starts = {}
    for key, r in json.load(open(predictions)).items():
        i = int(os.path.splitext(os.path.basename(key))[0])
        if i not in ids:
            continue
        lm = {l["name"]: l for l in r["landmarks"]}
        if any("refinement" not in lm[n] for n in C.CANONICAL_25):
            raise SystemExit("%s: %s has no Stage 1 positions (run the engine with Stage 2)" % (predictions, key))
        w = r["original_width"]
        x = [lm[n]["refinement"]["stage1_x"] for n in C.CANONICAL_25]
        y = [lm[n]["refinement"]["stage1_y"] for n in C.CANONICAL_25]
        starts[i] = np.stack([w - 1 - np.array(x), np.array(y)], -1)
    missing = sorted(set(ids) - set(starts))
    if missing:
        raise SystemExit("%s: no prediction for images %s" % (predictions, missing))
    return starts


def refine(model, case, start, passes):
    """The engine's Stage 2: `passes` passes on the fine grid, original (mirrored) pixels out."""
    im = case.img
    g = R.to_grid(start, case.W, case.H, im.shape[1], im.shape[0])
    for _ in range(passes):
        g = R.refine_points(model, case, g)
    return grid_to_original(case, g)


def grid_to_original(case, g):
    """Refinement-grid coordinates -> original (mirrored) pixels of `case`."""
    sx, sy = case.img.shape[1] / case.W, case.img.shape[0] / case.H
    return np.stack([(g[:, 0] + 0.5) / sx - 0.5, (g[:, 1] + 0.5) / sy - 0.5], -1)


def mre(cases, positions):
    return float(np.mean([np.hypot(*(positions[c.id][C.IDX[n]] - c.pts[C.IDX[n]])) * C.MM_PER_PX
                          for c in cases for n in C.ISBI19]))


def net(state):
    m = R.RefineNet()
    m.load_state_dict(state)
    return m.eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--predictions", required=True, help="cephtrace evaluate --save-predictions JSON")
    ap.add_argument("--checkpoints", nargs="+", required=True, help="RefineNet checkpoints (.pt)")
    ap.add_argument("--ids", default="141-150", help="held-out images, e.g. 141-150")
    ap.add_argument("--soup", action="store_true", help="also the average of the checkpoints' weights")
    ap.add_argument("--ensemble", action="store_true", help="also the average of their refined positions")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    ids = C.parse_ids(a.ids)
    cases = R.load_cases(ids, verbose=False)
    starts = stage1_starts(a.predictions, ids)
    print("Stage 1 (from the engine): %.3f mm" % mre(cases, starts))
    states = [load_checkpoint(p)["model"] for p in a.checkpoints]
    refined = []
    for path, state in zip(a.checkpoints, states):
        m = net(state)
        one = {c.id: refine(m, c, starts[c.id], 1) for c in cases}
        two = {c.id: refine(m, c, starts[c.id], 2) for c in cases}
        refined.append(two)
        print("%s: 1 pass %.3f mm, 2 passes %.3f mm" % (path, mre(cases, one), mre(cases, two)), flush=True)
    if a.soup and len(states) > 1:
        soup = {k: (sum(s[k].float() for s in states) / len(states)) if states[0][k].is_floating_point()
                else states[0][k] for k in states[0]}
        m = net(soup)
        print("weight average: 2 passes %.3f mm" % mre(cases, {c.id: refine(m, c, starts[c.id], 2) for c in cases}))
    if a.ensemble and len(refined) > 1:
        avg = {c.id: np.mean([r[c.id] for r in refined], 0) for c in cases}
        print("position average (2 passes each): %.3f mm" % mre(cases, avg))


if __name__ == "__main__":
    main()
