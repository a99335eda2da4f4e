#!/usr/bin/env python3
"""How well do the models cope with images unlike ISBI's? Perturbs ISBI test images the way
other X-ray machines and clinics differ (contrast, exposure, blur, noise, resolution, field
of view, bit depth, DICOM-like 16-bit), keeps the ground truth in step, and scores each
condition with the C++ engine (`cephtrace evaluate`, true pixel spacing).

    /usr/bin/python3 tools/robustness_check.py --cephtrace build/bin/cephtrace \
        --ids 151-180 --out /tmp/robustness

Prints a Markdown table: condition, images, MRE, SDR 2 mm, SDR 4 mm.
"""
import argparse
import json
import os
import subprocess
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training.common import test_image_models  # noqa: E402

SENIOR = ["S", "N", "Or", "Po", "A", "B", "Pog", "Me", "Gn", "Go", "L1_tip", "U1_tip", "UL",
          "LL", "Sn", "Pog_soft", "PNS", "ANS", "Ar"]
SPACING = 0.1


def read_senior(data, splits=("test1", "test2")):
    rows = {}
    for split in splits:
        with open(os.path.join(data, "annotations", "senior", f"{split}_senior.csv")) as f:
            next(f)
            for line in f:
                parts = line.strip().split(",")
                vals = list(map(float, parts[1:]))
                rows[parts[0].split(".")[0]] = np.array(vals).reshape(-1, 2)
    return rows


def gamma(img, g):
    return np.clip(255.0 * (img / 255.0) ** g, 0, 255).astype(np.uint8)


# Each condition: image -> (image, point transform, spacing, file extension).
def conditions():
    ident = lambda p: p
    return {
        "original": lambda im: (im, ident, SPACING, ".jpg"),
        "low contrast (x0.5)": lambda im: (np.clip(128 + 0.5 * (im.astype(np.float32) - 128), 0, 255).astype(np.uint8), ident, SPACING, ".png"),
        "gamma 0.6 (bright)": lambda im: (gamma(im, 0.6), ident, SPACING, ".png"),
        "gamma 1.6 (dark)": lambda im: (gamma(im, 1.6), ident, SPACING, ".png"),
        "blur (sigma 3 px)": lambda im: (cv2.GaussianBlur(im, (0, 0), 3), ident, SPACING, ".png"),
        "noise (sigma 12)": lambda im: (np.clip(im + np.random.default_rng(0).normal(0, 12, im.shape), 0, 255).astype(np.uint8), ident, SPACING, ".png"),
        "half resolution": lambda im: (cv2.resize(im, (im.shape[1] // 2, im.shape[0] // 2), interpolation=cv2.INTER_AREA), lambda p: p / 2, 2 * SPACING, ".png"),
        "crop: top 15 % and right 10 % cut": lambda im: crop(im),
        "16-bit PNG (12-bit range)": lambda im: ((im.astype(np.uint16) * 16), ident, SPACING, ".png"),
        "mirrored (faces left)": lambda im: (im[:, ::-1].copy(), lambda p: np.stack([im.shape[1] - 1 - p[:, 0], p[:, 1]], 1), SPACING, ".png"),
    }


def crop(im):
    h, w = im.shape[:2]
    top, right = int(0.15 * h), int(0.10 * w)
    return im[top:, : w - right], lambda p: p - np.array([0, top]), SPACING, ".png"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cephtrace", default="build/bin/cephtrace")
    ap.add_argument("--models", default=test_image_models(),
                    help="model folder (default: models/isbi2015-protocol when present, as these are "
                         "ISBI test images; else models)")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "isbi2015"))
    ap.add_argument("--ids", default="151-180", help="first-last image ids")
    ap.add_argument("--out", default="/tmp/cephtrace-robustness")
    ap.add_argument("--decoder", default="reference")
    a = ap.parse_args()
    first, last = map(int, a.ids.split("-"))
    senior = read_senior(a.data)
    ids = ["%03d" % i for i in range(first, last + 1) if "%03d" % i in senior]
    rows = []
    for name, make in conditions().items():
        slug = "".join(c if c.isalnum() else "_" for c in name)
        img_dir, gt_dir = os.path.join(a.out, slug, "images"), os.path.join(a.out, slug, "gt")
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(gt_dir, exist_ok=True)
        for stem in ids:
            im = cv2.imread(os.path.join(a.data, "images", stem + ".jpg"), cv2.IMREAD_GRAYSCALE)
            out, transform, spacing, ext = make(im)
            cv2.imwrite(os.path.join(img_dir, stem + ext), out)
            pts = transform(senior[stem].copy())
            gt = {n: [float(x), float(y)] for n, (x, y) in zip(SENIOR, pts)}
            gt["_pixel_spacing_mm"] = spacing
            with open(os.path.join(gt_dir, stem + ".json"), "w") as f:
                json.dump(gt, f)
        report = os.path.join(a.out, slug, "report.json")
        subprocess.run([a.cephtrace, "evaluate", "--image-dir", img_dir, "--gt-dir", gt_dir,
                        "--model-dir", a.models, "--decoder", a.decoder, "--quiet",
                        "--output", report], check=True, stderr=subprocess.DEVNULL)
        with open(report) as f:
            overall = json.load(f)["overall"]
        rows.append((name, len(ids), overall))
        print(f"{name}: MRE {overall['mre_mm']:.2f} mm", flush=True)
    print("\n| condition | images | MRE (mm) | SDR 2 mm | SDR 4 mm |\n|---|---:|---:|---:|---:|")
    for name, n, o in rows:
        sdr = {float(k): v for k, v in o["sdr"].items()}
        print(f"| {name} | {n} | {o['mre_mm']:.2f} | {100 * sdr[2.0]:.1f} % | {100 * sdr[4.0]:.1f} % |")


if __name__ == "__main__":
    main()
