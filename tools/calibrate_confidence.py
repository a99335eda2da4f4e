#!/usr/bin/env python3
"""Calibrates the engine's landmark confidence, and reports how well it flags large errors.

The reference rates a landmark by Stage 1's heatmap peak. On films from other devices that
peak is often high where the landmark is wrong. This fits a logistic model of the chance
that a landmark is off by more than --miss-mm (3 mm) from what the engine knows about each
landmark (Stage 1 peak, Stage 2 peak, how far Stage 2 moved it, how far the Stage 2 ensemble
members disagree; one ridge-shrunk offset per landmark) and writes it as
models/stage2/confidence.json, which the engine then uses for `confidence` (label) and
`confidence_score` (1 - that chance). "low" is set where the chance reaches `low_at`, chosen
so that "low" catches --recall (80 %) of the misses in the fitting data.

Fit on device-shifted images that the models never trained on (the held-out training
images 141-150, tools/device_shift_benchmark.py, several seeds), report on the Test1
benchmark:

    python3 tools/device_shift_benchmark.py --ids 141-150 --per-condition 10 --seed 1 --out /tmp/cal1
    python3 tools/calibrate_confidence.py fit --runs /tmp/cal1 [/tmp/cal2 ...] --out models/stage2/confidence.json
    python3 tools/calibrate_confidence.py report --calibration models/stage2/confidence.json --runs /tmp/device-shift
"""
import argparse
import glob
import json
import os
import sys

import numpy as np

FEATURES = ["bias", "stage1_peak", "stage2_peak", "log1p_moved_grid_px", "log1p_spread_grid_px"]


def load_points(run_dirs):
    """(features (n,5), landmark names (n,), errors mm (n,), condition (n,)) over every
    condition folder of the given device-shift benchmark outputs."""
    feats, names, errors, conds = [], [], [], []
    for run in run_dirs:
        for cond in sorted(glob.glob(os.path.join(run, "*", "report.json"))):
            folder = os.path.dirname(cond)
            with open(cond) as f:
                obs = json.load(f)["observations"]
            with open(os.path.join(folder, "predictions.json")) as f:
                preds = json.load(f)
            by_stem = {os.path.splitext(os.path.basename(k))[0]: v for k, v in preds.items()}
            for o in obs:
                r = by_stem.get(o["image"])
                if r is None:
                    continue
                lm = next((l for l in r["landmarks"] if l["name"] == o["landmark"]), None)
                if lm is None or "refinement" not in lm:
                    continue
                ref = lm["refinement"]
                feats.append([1.0, lm["peak"], ref["peak"], np.log1p(ref["moved_grid_px"]),
                              np.log1p(ref["spread_grid_px"])])
                names.append(o["landmark"])
                errors.append(o["error_mm"])
                conds.append(os.path.basename(folder))
    if not feats:
        raise SystemExit("calibrate_confidence: no scored landmarks with Stage 2 features in " + ", ".join(run_dirs))
    return np.array(feats), np.array(names), np.array(errors), np.array(conds)


def design(feats, names, landmarks):
    onehot = np.array([[n == l for l in landmarks] for n in names], np.float64)
    return np.hstack([feats, onehot])


def fit_logistic(x, y, ridge):
    """Newton-Raphson (IRLS) with an L2 penalty on the per-landmark offsets only."""
    w = np.zeros(x.shape[1])
    penalty = np.r_[np.zeros(len(FEATURES)), np.full(x.shape[1] - len(FEATURES), ridge)]
    for _ in range(100):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (p - y) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def miss_probability(cal, feats, names):
    logit = feats @ np.array(cal["weights"]) + np.array([cal["landmark_offsets"].get(n, 0.0) for n in names])
    return 1 / (1 + np.exp(-logit))


def auroc(score, positive):
    """Probability that a random miss scores above a random hit (ties count half)."""
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    for v in np.unique(score):  # average ranks of ties
        tie = score == v
        ranks[tie] = ranks[tie].mean()
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def cmd_fit(a):
    feats, names, errors, _ = load_points(a.runs)
    y = (errors > a.miss_mm).astype(np.float64)
    landmarks = sorted(set(names))
    w = fit_logistic(design(feats, names, landmarks), y, a.ridge)
    cal = {"description": "P(landmark error > %g mm) = sigmoid(weights . features + landmark_offsets[name]); "
                          "written by tools/calibrate_confidence.py" % a.miss_mm,
           "target": "error > %g mm" % a.miss_mm,
           "features": FEATURES,
           "weights": [float(v) for v in w[:len(FEATURES)]],
           "landmark_offsets": {n: float(v) for n, v in zip(landmarks, w[len(FEATURES):])}}
    p = miss_probability(cal, feats, names)
    misses = np.sort(p[y == 1])
    low_at = float(misses[int(np.floor((1 - a.recall) * len(misses)))])
    cal["low_at"] = low_at
    cal["medium_at"] = float(min(low_at, a.medium_factor * low_at))
    cal["fitted_on"] = {"runs": a.runs, "points": int(len(y)), "misses": int(y.sum()),
                        "recall_target": a.recall}
    with open(a.out, "w") as f:
        json.dump(cal, f, indent=1)
        f.write("\n")
    print(f"fitted on {len(y)} landmarks ({int(y.sum())} misses > {a.miss_mm} mm): low_at {low_at:.3f}, "
          f"AUROC {auroc(p, y == 1):.3f} (fitting data) -> {a.out}")
    # The file is listed in its model folder's manifest, which the engine checks at load.
    model_dir = os.path.dirname(os.path.dirname(os.path.abspath(a.out)))
    if os.path.exists(os.path.join(model_dir, "MANIFEST.sha256")):
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        from training.common import write_manifest
        write_manifest(model_dir)
        print(f"manifest rewritten: {os.path.join(model_dir, 'MANIFEST.sha256')}")


def cmd_report(a):
    with open(a.calibration) as f:
        cal = json.load(f)
    feats, names, errors, conds = load_points(a.runs)
    miss = errors > a.miss_mm
    p = miss_probability(cal, feats, names)
    low = p >= cal["low_at"]
    peak_low = feats[:, 1] <= 0.2  # the reference's rule: Stage 1 peak <= 0.2 is "low"
    rows = [("calibrated (P of a miss)", auroc(p, miss), low),
            ("Stage 1 peak (reference)", auroc(-feats[:, 1], miss), peak_low)]
    print(f"{len(errors)} landmarks, {int(miss.sum())} off by > {a.miss_mm} mm ({100 * miss.mean():.1f} %)\n")
    print("| score | AUROC | flagged low | misses caught by low | precision of low |")
    print("|---|---:|---:|---:|---:|")
    for name, au, flag in rows:
        caught = (flag & miss).sum() / max(1, miss.sum())
        prec = (flag & miss).sum() / max(1, flag.sum())
        print(f"| {name} | {au:.3f} | {100 * flag.mean():.1f} % | {100 * caught:.1f} % | {100 * prec:.1f} % |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fit", help="fit and write confidence.json")
    f.add_argument("--runs", nargs="+", required=True, help="device_shift_benchmark --out folders")
    f.add_argument("--out", required=True)
    f.add_argument("--miss-mm", type=float, default=3.0)
    f.add_argument("--recall", type=float, default=0.8, help="share of misses that 'low' must catch")
    f.add_argument("--medium-factor", type=float, default=0.4, help="medium_at = factor * low_at")
    f.add_argument("--ridge", type=float, default=2.0, help="L2 penalty on the per-landmark offsets")
    r = sub.add_parser("report", help="AUROC and flag rates of a calibration on benchmark outputs")
    r.add_argument("--calibration", required=True)
    r.add_argument("--runs", nargs="+", required=True)
    r.add_argument("--miss-mm", type=float, default=3.0)
    a = ap.parse_args()
    cmd_fit(a) if a.cmd == "fit" else cmd_report(a)


if __name__ == "__main__":
    main()
