#!/usr/bin/env python3
"""Where the ISBI senior labels and the CL-Detection 2023 re-annotation disagree, split by split.

    /usr/bin/python3 tools/annotation_conventions.py [--data ../shared/data/isbi2015] [--markdown OUT.md]

For each of the 19 ISBI landmarks and each split (train 001-150, Test1 151-300, Test2 301-400),
over the images that both sets label: the mean distance senior - CL (mm, 0.1 mm/px) and the
mean offset (dx, dy; x towards the face of these right-facing films, y down). A landmark whose
offset differs between splits was annotated under another convention in one of them: no model
can match both, and the ISBI protocol scores Test1 and Test2 against the senior labels.
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
    text = "\n".join(lines) + "\n"
    print(text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
