#!/usr/bin/env python3
"""Where the ISBI senior labels and the CL-Detection 2023 re-annotation disagree, split by split.

    /usr/bin/python3 tools/annotation_conventions.py [--data ../shared/data/isbi2015] [--markdown OUT.md]

For each of the 19 ISBI landmarks and each split (train 001-150, Test1 151-300, Test2 301-400),
over the images that both sets label: the mean distance senior - CL (mm, 0.1 mm/px) and the
mean offset (dx, dy; x towards the face of these right-facing films, y down). A landmark whose
offset differs between splits was annotated under another convention in one of them: no model
can match both, and the ISBI protocol scores Test1 and Test2 against the senior labels.

A second table does the same for CL-2023's landmarks beyond the 19 (Ba, Co, U1_root, L1_root,
Prn and the 14 extended), which have no second set: each is placed relative to the CL-2023 19
of the same film (the training images' mean head fitted to the 8 nearest of them), and the
mean offset of the label from there is compared between splits.
"""
import argparse
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from robustness_check import SENIOR  # noqa: E402  (the 19 ISBI names, in order)

SPLITS = {"train": "train_senior.csv", "Test1": "test1_senior.csv", "Test2": "test2_senior.csv"}


def read_senior(path):
    out = {}
    with open(path) as f:
        for r in csv.DictReader(f):
            out[os.path.splitext(r["image_path"])[0]] = np.array(
                [[float(r[f"{k}_x"]), float(r[f"{k}_y"])] for k in range(1, 20)])
    return out


def read_cl(path):
    pts = {}
    with open(path) as f:
        for line in f.read().split():
            k, x, y = line.split(",")
            pts[int(k)] = (float(x), float(y))
    return np.array([pts[k] for k in range(1, 20)])  # CL 1-19 follow the ISBI order


def beyond19_offsets(split_ids):
    """Per split: (n, (k,2) mean offset in mm with x towards the face, (k,2) its standard error)
    of CL-2023's landmarks beyond the 19 (Ba, Co, U1_root, L1_root, Prn and the 14 extended)
    from where the CL-2023 19 of the same film put them: the mean head of the training images
    (training.extended.template) fitted by similarity to the 8 of those 19 nearest each one."""
    from training import common as C, extended as X  # torch: the training code's module
    from training.framing_template import similarity
    t25, t14 = X.template()
    names = [n for n in C.CANONICAL_25 if n in ("Ba", "Co", "U1_root", "L1_root", "Prn")] + list(X.EXTENDED_14)
    targets = [t25[C.IDX[n]] for n in names[:5]] + list(t14)
    own = [C.IDX[n] for n in SENIOR]
    bases = [[own[j] for j in np.argsort(np.hypot(*(t25[own] - t).T), kind="stable")[:8]] for t in targets]
    out = {}
    for split, ids in split_ids.items():
        res = []
        for i in ids:
            cl = C._read_cl(i)
            if cl is None:
                continue
            own19 = np.full((len(C.CANONICAL_25), 2), np.nan)
            for k, n in enumerate(SENIOR):
                own19[C.IDX[n]] = (C.W0 - 1 - cl[k + 1][0], cl[k + 1][1])  # left-facing, as X's
            labels = [C.load_landmarks(i, derive_pm=False, training=False)[0][C.IDX[n]] for n in names[:5]]
            labels += list(C.load_extended(i))
            off = []
            for t, b, y in zip(targets, bases, labels):
                z, c = similarity(t25[b], own19[b])
                q = z * (t[0] + 1j * t[1]) + c
                off.append((y - (q.real, q.imag)) * 0.1)
            res.append(off)
        res = np.array(res)
        mean = res.mean(axis=0)
        mean[:, 0] *= -1  # left-facing x away from the face -> towards it
        out[split] = (len(res), mean, res.std(axis=0) / np.sqrt(len(res)))
    return out, names


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "isbi2015"))
    ap.add_argument("--markdown")
    a = ap.parse_args()
    rows = {}
    counts = {}
    chin = {}  # senior Pog_soft - Pog, mean over the whole split
    for split, name in SPLITS.items():
        senior = read_senior(os.path.join(a.data, "annotations", "senior", name))
        diffs = []
        for stem, p in senior.items():
            f = os.path.join(a.data, "annotations", "cl2023", f"{stem}_landmark.txt")
            if os.path.exists(f):
                diffs.append((p - read_cl(f)) * 0.1)
        d = np.stack(diffs)
        counts[split] = len(d)
        chin[split] = np.mean([(p[SENIOR.index("Pog_soft")] - p[SENIOR.index("Pog")]) * 0.1 for p in senior.values()], axis=0)
        rows[split] = (np.linalg.norm(d, axis=2).mean(0), d.mean(0))
    lines = ["Senior minus CL-2023 labels, mean distance (mm) and mean offset dx, dy (mm), per split "
             "(images labelled by both: " + ", ".join(f"{s} {n}" for s, n in counts.items()) + ").",
             "Command: `/usr/bin/python3 tools/annotation_conventions.py`", "",
             "| landmark | " + " | ".join(f"{s} mm | {s} dx, dy" for s in SPLITS) + " |",
             "|---|" + "---:|---:|" * len(SPLITS)]
    for i, lm in enumerate(SENIOR):
        cells = []
        for s in SPLITS:
            dist, off = rows[s]
            cells += [f"{dist[i]:.2f}", f"{off[i, 0]:+.1f}, {off[i, 1]:+.1f}"]
        lines.append(f"| {lm} | " + " | ".join(cells) + " |")
    # The scale of two annotators' disagreement, e.g. for the extended landmarks' errors.
    lines.append("| **mean of the 19** | " + " | ".join(f"**{rows[s][0].mean():.2f}** | " for s in SPLITS) + " |")
    lines += ["", "Senior Pog_soft relative to senior Pog (mean over all images of the split, mm): " +
              "; ".join(f"{s} {v[0]:+.1f}, {v[1]:+.1f}" for s, v in chin.items()) + "."]
    os.environ.setdefault("CEPH_DATA", a.data)
    ext, names = beyond19_offsets({"train": range(1, 151), "Test1": range(151, 301), "Test2": range(301, 401)})
    lines += ["", "CL-2023's landmarks beyond the 19 (the five in the 25, then the 14 extended): mean offset "
              "dx, dy (mm) of the label from where the CL-2023 19 of the same film put it (the training "
              "images' mean head fitted to the 8 nearest; images: " +
              ", ".join(f"{s} {n}" for s, (n, _, _) in ext.items()) + "), and how far each test split's "
              "mean lies from the train split's (mm; ± its standard error: a distance several times "
              "its error is a convention, not chance).", "",
              "| landmark | train dx, dy | Test1 dx, dy | Test2 dx, dy | Test1 - train | Test2 - train |",
              "|---|---:|---:|---:|---:|---:|"]
    for k, lm in enumerate(names):
        o = {s: off[k] for s, (_, off, _) in ext.items()}
        se = {s: e[k] for s, (_, _, e) in ext.items()}
        lines.append(f"| {lm} | " + " | ".join(f"{o[s][0]:+.1f}, {o[s][1]:+.1f}" for s in ext) + " | " + " | ".join(
            f"{np.linalg.norm(o[s] - o['train']):.1f} ± {np.sqrt(np.sum(se[s] ** 2 + se['train'] ** 2)):.1f}"
            for s in ("Test1", "Test2")) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
