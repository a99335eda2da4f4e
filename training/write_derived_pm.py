"""Write the derived Pm (soft-tissue suprapogonion) of ISBI images as canonical ground truth,
one <stem>.json per image, flagged "_derived", so that `cephtrace evaluate --gt-dir` can score
the engine's Pm (Pm is annotated nowhere; see common.derive_pm_point).

  /usr/bin/python3 -m training.write_derived_pm --ids 151-400 --out /tmp/cephtrace-pm-gt
  /usr/bin/python3 -m training.write_derived_pm --ids 1,17,50,136 --out /tmp/pm --overlays docs/training

--overlays DIR also writes pm_<id>.png crops (left-facing view: LL and Pog_soft in blue, the
derived Pm in green) for checking the rule by eye.
"""
import argparse
import json
import os

import cv2
import numpy as np

from . import common as C


def write_overlay(outdir, i, grey, pts, half=250):
    os.makedirs(outdir, exist_ok=True)
    ll, ps, pm = pts[C.IDX["LL"]], pts[C.IDX["Pog_soft"]], pts[C.IDX["Pm"]]
    cx, cy = int((ll[0] + ps[0]) / 2) + 60, int((ll[1] + ps[1]) / 2)
    pad = cv2.copyMakeBorder(grey, half, half, half, half, cv2.BORDER_CONSTANT, value=0)
    crop = cv2.cvtColor(pad[cy:cy + 2 * half, cx:cx + 2 * half], cv2.COLOR_GRAY2BGR)
    for p, colour in ((ll, (255, 0, 0)), (ps, (255, 0, 0)), (pm, (0, 255, 0))):
        cv2.circle(crop, (int(round(p[0])) - cx + half, int(round(p[1])) - cy + half), 6, colour, -1)
    cv2.putText(crop, "%03d  LL, Pog_soft: blue  Pm (derived): green" % i, (8, 24),
                cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 255), 1, cv2.LINE_AA)
    cv2.imwrite(os.path.join(outdir, "pm_%03d.png" % i), crop)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ids", default="151-400")
    ap.add_argument("--out", required=True)
    ap.add_argument("--overlays", default=None, help="also write pm_<id>.png crops here")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    written = 0
    for i in C.parse_ids(a.ids):
        grey = C.load_grey_mirrored(i)
        # training=False: every label, also those the training leaves out (Test2's LL, Pog_soft)
        pts, _ = C.load_landmarks(i, width=grey.shape[1], grey=grey, training=False)
        pm = pts[C.IDX["Pm"]]
        if pm[0] != pm[0]:  # NaN: the profile between LL and Pog_soft was not found
            continue
        x = grey.shape[1] - 1 - float(pm[0])  # back to the original (right-facing) image
        gt = {"Pm": [round(x, 2), round(float(pm[1]), 2)], "_derived": ["Pm"],
              "_pixel_spacing_mm": C.MM_PER_PX, "_image_size": [grey.shape[1], grey.shape[0]],
              "_source": "derived by training/common.py derive_pm_point from the senior LL, "
                         "Pog_soft and the image's soft-tissue profile"}
        with open(os.path.join(a.out, "%03d.json" % i), "w") as f:
            json.dump(gt, f)
        written += 1
        if a.overlays:
            write_overlay(a.overlays, i, grey, pts)
    print("[write_derived_pm] %d of %d images -> %s" % (written, len(C.parse_ids(a.ids)), a.out))


if __name__ == "__main__":
    main()
