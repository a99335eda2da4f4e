"""Write the derived Pm (soft-tissue suprapogonion) of ISBI images as canonical ground truth,
one <stem>.json per image, flagged "_derived", so that `cephtrace evaluate --gt-dir` can score
the engine's Pm (Pm is annotated nowhere; see common.derive_pm_point).

  /usr/bin/python3 -m training.write_derived_pm --ids 151-400 --out /tmp/cephtrace-pm-gt
"""
import argparse
import json
import os

from . import common as C


def parse_ids(text):
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ids", default="151-400")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    written = 0
    for i in parse_ids(a.ids):
        grey = C.load_grey_mirrored(i)
        pts, _ = C.load_landmarks(i, width=grey.shape[1], grey=grey)
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
    print("[write_derived_pm] %d of %d images -> %s" % (written, len(parse_ids(a.ids)), a.out))


if __name__ == "__main__":
    main()
