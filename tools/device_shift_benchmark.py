#!/usr/bin/env python3
r"""Device-shift benchmark: how well do the models hold up on cephalograms from other devices?

ISBI's 400 images come from one cephalostat. Other clinics' films differ in ways that the
robustness check (contrast, blur, noise, ...) does not cover: a soft-tissue wedge filter that
darkens the face profile, another field of view (face-only crops, wide borders, the head
off-centre), another aspect ratio and resolution, head rotation, children's smaller heads and
shorter lower faces, inverted look-up tables, burned-in text and rulers, and low-quality JPEG.
This script makes each of those shifts from ISBI Test1 images with seeded random parameters
(the same files for the same --seed), keeps the senior ground truth in step with every
geometric change, and scores each condition with the C++ engine (`cephtrace evaluate`, true
pixel spacing of the transformed image). It prints one row per condition and the pooled MRE
over all shifted images, next to the unshifted images ("original").

    /usr/bin/python3 tools/device_shift_benchmark.py --cephtrace build/bin/cephtrace \
        --out /tmp/device-shift [--markdown docs/results/device_shift.md]

Extra engine options go after `--`, e.g. `... -- --refine-passes 0`.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from robustness_check import SENIOR, SPACING, read_senior  # noqa: E402  (one reader of the CSVs)
from training.common import parse_ids, test_image_models  # noqa: E402  (one reader of id lists)

MM = 1.0 / SPACING  # ISBI pixels per mm
IDX = {name: i for i, name in enumerate(SENIOR)}


# ---- helpers ------------------------------------------------------------------------------

def fill_value(img, rng):
    """A background for new border: black film, or the film's own border grey."""
    if rng.random() < 0.5:
        return int(rng.integers(0, 30))
    ring = np.concatenate([img[:8].ravel(), img[-8:].ravel(), img[:, :8].ravel(), img[:, -8:].ravel()])
    return int(np.median(ring))


def affine(img, pts, m, size, fill):
    """Warp with the 2x3 matrix m (output <- input) to size (w, h); points follow."""
    out = cv2.warpAffine(img, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=fill)
    p = np.c_[pts, np.ones(len(pts))] @ m.T
    return out, p


def resize_to_width(img, pts, width):
    s = width / img.shape[1]
    h = max(1, int(round(img.shape[0] * s)))
    return cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA), pts * s, s


def bounds(pts):
    return pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()


# ---- the shifts: (img, pts, rng) -> (img, pts, scale); scale = new px per old px -------------

def wedge_filter(img, pts, rng):
    """Aluminium soft-tissue filter: the face in front of the bony profile darkened by a ramp."""
    bone_x = np.mean(pts[[IDX["N"], IDX["A"], IDX["Pog"]], 0])
    x0 = bone_x - rng.uniform(0, 10) * MM
    width = rng.uniform(5, 30) * MM          # 5 mm: a visible filter edge; 30 mm: smooth
    depth = rng.uniform(0.45, 0.75)
    x = np.arange(img.shape[1], dtype=np.float32)
    t = np.clip((x - x0) / width, 0, 1)
    factor = 1 - depth * t * t * (3 - 2 * t)
    return np.clip(img * factor[None, :], 0, 255).astype(np.uint8), pts, 1.0


def face_crop(img, pts, rng):
    """Face-only field of view: cut behind the ear rods, above the skull base and below the chin."""
    x0, y0, x1, y1 = bounds(pts)
    h, w = img.shape
    left = int(max(0, x0 - rng.uniform(8, 30) * MM))
    top = int(max(0, y0 - rng.uniform(10, 40) * MM))
    bottom = int(min(h, y1 + rng.uniform(10, 40) * MM))
    right = int(min(w, x1 + rng.uniform(15, 40) * MM))
    return img[top:bottom, left:right].copy(), pts - [left, top], 1.0


def zoom_out(img, pts, rng):
    """A larger field of view: wide borders on every side, resampled back to the film size."""
    h, w = img.shape
    p = rng.uniform(0.15, 0.45)
    fill = fill_value(img, rng)
    big = cv2.copyMakeBorder(img, int(p * h), int(p * h), int(p * w), int(p * w),
                             cv2.BORDER_CONSTANT, value=fill)
    s = w / big.shape[1]
    out = cv2.resize(big, (w, int(round(big.shape[0] * s))), interpolation=cv2.INTER_AREA)
    return out, (pts + [int(p * w), int(p * h)]) * s, s


def off_centre(img, pts, rng):
    """The head off-centre: shifted by 10–20 % of the film, landmarks kept on the film."""
    h, w = img.shape
    x0, y0, x1, y1 = bounds(pts)
    margin = 0.03 * w
    dx = rng.uniform(0.10, 0.20) * w * rng.choice([-1, 1])
    dy = rng.uniform(0.05, 0.15) * h * rng.choice([-1, 1])
    dx = float(np.clip(dx, margin - x0, w - margin - x1))
    dy = float(np.clip(dy, margin - y0, h - margin - y1))
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    out, p = affine(img, pts, m, (w, h), fill_value(img, rng))
    return out, p, 1.0


def aspect_and_size(img, pts, rng):
    """Another detector: aspect ratio 0.6–0.9 (ISBI 0.81) by its field of view, width 600–1400 px."""
    h, w = img.shape
    target = rng.uniform(0.6, 0.9)
    x0, y0, x1, y1 = bounds(pts)
    margin = 5 * MM
    if target < w / h:      # narrower: cut the back of the head (and the face side if needed)
        new_w = int(target * h)
        left = int(np.clip(x0 - margin - rng.uniform(0, 1) * max(0, x0 - margin - (w - new_w)),
                           0, w - new_w))
        left = int(min(left, max(0, x0 - margin)))
        left = int(np.clip(left, max(0, x1 + margin - new_w), w - new_w))
        img, pts = img[:, left:left + new_w], pts - [left, 0]
    else:                   # wider: cut the top of the skull and the neck
        new_h = int(w / target)
        top = int(np.clip(rng.uniform(max(0, y1 + margin - new_h), max(0, min(y0 - margin, h - new_h))),
                          0, h - new_h))
        img, pts = img[top:top + new_h, :], pts - [0, top]
    out, p, s = resize_to_width(img, pts, int(rng.uniform(600, 1400)))
    return out, p, s


def rotation(img, pts, rng):
    """Head tilted 6–12 degrees either way in the cephalostat."""
    h, w = img.shape
    angle = rng.uniform(6, 12) * rng.choice([-1, 1])
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    out, p = affine(img, pts, m, (w, h), fill_value(img, rng))
    return out, p, 1.0


def child(img, pts, rng):
    """A child: shorter lower face (below ANS compressed to 82–95 %) and a smaller head (75–90 %)
    on the same film, centred where the adult head was."""
    h, w = img.shape
    ans_y = pts[IDX["ANS"], 1]
    k = rng.uniform(0.82, 0.95)
    ys = np.arange(h, dtype=np.float32)
    src_y = np.where(ys <= ans_y, ys, ans_y + (ys - ans_y) / k)   # output row -> input row
    map_x = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    map_y = np.tile(src_y[:, None], (1, w)).astype(np.float32)
    fill = fill_value(img, rng)
    warped = cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=fill)
    p = pts.copy()
    below = p[:, 1] > ans_y
    p[below, 1] = ans_y + (p[below, 1] - ans_y) * k
    s = rng.uniform(0.75, 0.90)
    c = np.mean(p, axis=0)
    m = np.float32([[s, 0, c[0] - s * c[0]], [0, s, c[1] - s * c[1]]])
    out, p = affine(warped, p, m, (w, h), fill)
    # Same film, smaller head: the pixel spacing is unchanged; only the anatomy shrank.
    return out, p, 1.0


def gamma_shift(img, pts, rng):
    """Another exposure curve: gamma 0.4–0.6 (washed out) or 1.7–2.5 (dark)."""
    g = rng.uniform(0.4, 0.6) if rng.random() < 0.5 else rng.uniform(1.7, 2.5)
    return np.clip(255.0 * (img / 255.0) ** g, 0, 255).astype(np.uint8), pts, 1.0


def inverted(img, pts, rng):
    """An inverted look-up table (bone dark, air bright), as some viewers export."""
    return (255 - img).astype(np.uint8), pts, 1.0


def text_and_ruler(img, pts, rng):
    """Burned-in patient text and a bright radiopaque ruler on a nasion rod in front of the face."""
    out = img.copy()
    h, w = img.shape
    font = cv2.FONT_HERSHEY_SIMPLEX
    lines = ["PATIENT %05d" % rng.integers(0, 99999), "2026-%02d-%02d" % (rng.integers(1, 13), rng.integers(1, 29)),
             "%d kV %d mA" % (rng.integers(60, 90), rng.integers(8, 16)), "R"]
    scale = w / 1200
    for i, t in enumerate(lines):
        corner = rng.integers(0, 4)
        x = int(0.03 * w) if corner % 2 == 0 else int(0.6 * w)
        y = int((0.05 + 0.04 * i) * h) if corner < 2 else int((0.8 + 0.04 * i) * h)
        cv2.putText(out, t, (x, min(h - 5, y)), font, scale, 255, max(1, int(2 * scale)), cv2.LINE_AA)
    n = pts[IDX["N"]]
    x1 = bounds(pts)[2]
    rx = int(min(w - 0.02 * w, x1 + rng.uniform(8, 25) * MM))
    y_top, y_bot = int(max(0, n[1] - 40 * MM)), int(min(h - 1, n[1] + 40 * MM))
    thick = max(2, int(1.5 * MM))
    cv2.line(out, (rx, y_top), (rx, y_bot), 255, thick)
    for k, y in enumerate(range(y_top, y_bot, int(MM))):
        length = int((5 if k % 10 == 0 else 2.5 if k % 5 == 0 else 1.5) * MM)
        cv2.line(out, (rx - length, y), (rx, y), 255, max(1, int(0.3 * MM)))
    cv2.line(out, (rx, int(n[1])), (w - 1, int(n[1])), 230, thick)   # the nasion rod
    return out, pts, 1.0


def noise_and_jpeg(img, pts, rng):
    """Quantum noise (sigma 6–14) and JPEG at quality 8–20 (an old PACS export)."""
    noisy = np.clip(img + rng.normal(0, rng.uniform(6, 14), img.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, int(rng.uniform(8, 20))])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE), pts, 1.0


def mirrored(img, pts, rng):
    p = pts.copy()
    p[:, 0] = img.shape[1] - 1 - p[:, 0]
    return img[:, ::-1].copy(), p, 1.0


MIXABLE = [wedge_filter, face_crop, zoom_out, off_centre, aspect_and_size, rotation, child,
           gamma_shift, text_and_ruler, noise_and_jpeg, mirrored]


def mixed(img, pts, rng):
    """Another clinic: two to four of the shifts above, in random order."""
    picks = rng.choice(len(MIXABLE), size=int(rng.integers(2, 5)), replace=False)
    scale = 1.0
    for i in picks:
        img, pts, s = MIXABLE[i](img, pts, rng)
        scale *= s
    return img, pts, scale


CONDITIONS = {
    "original": None,
    "soft-tissue wedge filter": wedge_filter,
    "face-only crop": face_crop,
    "zoomed out (wide borders)": zoom_out,
    "head off-centre": off_centre,
    "aspect 0.6-0.9, width 600-1400 px": aspect_and_size,
    "head rotated 6-12 deg": rotation,
    "child-like (smaller head, shorter face)": child,
    "gamma 0.4-0.6 / 1.7-2.5": gamma_shift,
    "inverted LUT": inverted,
    "burned-in text and ruler": text_and_ruler,
    "noise and JPEG q8-20": noise_and_jpeg,
    "mixed (2-4 shifts, may be mirrored)": mixed,
}


def slug_of(index, name):
    return "%02d_" % (index + 1) + "".join(c if c.isalnum() else "_" for c in name)[:40]


def condition_row(name, report):
    """MRE, SDR and the films off by > 20 mm in one condition's evaluate report."""
    with open(report) as f:
        rep = json.load(f)
    errors = [o["error_mm"] for o in rep["observations"]]
    per_image = {}
    for o in rep["observations"]:
        per_image.setdefault(o["image"], []).append(o["error_mm"])
    return {"condition": name, "images": len(rep["images"]), "mre_mm": float(np.mean(errors)),
            "sdr2": float(np.mean(np.array(errors) <= 2.0)), "sdr4": float(np.mean(np.array(errors) <= 4.0)),
            "gross_failures": sum(1 for e in per_image.values() if np.mean(e) > 20), "errors": errors}


def main():
    argv = sys.argv[1:]
    engine_args = []
    if "--" in argv:
        cut = argv.index("--")
        argv, engine_args = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--cephtrace", default="build/bin/cephtrace")
    ap.add_argument("--models", default=test_image_models(),
                    help="model folder (default: models/isbi2015-protocol when present, as the "
                         "shifted films are ISBI test images; else models)")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                   "shared", "data", "isbi2015"))
    ap.add_argument("--ids", default="151-300", help="ISBI test ids to draw from (default Test1)")
    ap.add_argument("--per-condition", type=int, default=30,
                    help="images per condition, spread evenly over --ids (default 30)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--only", default="",
                    help="run only these condition numbers (1 = original, comma-separated); the table "
                         "also includes the other conditions' reports already in --out")
    ap.add_argument("--out", default="/tmp/cephtrace-device-shift")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("--json", help="also write per-condition results to this JSON file")
    a = ap.parse_args(argv)

    if not os.path.isdir(os.path.join(a.data, "images")):
        sys.exit(f"device_shift_benchmark: ISBI data not found at {a.data} (--data)")
    senior = read_senior(a.data, splits=("train", "test1", "test2"))
    pool = ["%03d" % i for i in parse_ids(a.ids) if "%03d" % i in senior]
    n = min(a.per_condition, len(pool))
    ids = [pool[int(round(k * (len(pool) - 1) / max(1, n - 1)))] for k in range(n)]
    names = list(CONDITIONS)
    chosen = [names[int(k) - 1] for k in a.only.split(",")] if a.only else names

    rows = []
    for ci, name in enumerate(names):
        if name not in chosen:
            continue
        make = CONDITIONS[name]
        slug = slug_of(ci, name)
        img_dir, gt_dir = os.path.join(a.out, slug, "images"), os.path.join(a.out, slug, "gt")
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(gt_dir, exist_ok=True)
        for stem in ids:
            im = cv2.imread(os.path.join(a.data, "images", stem + ".jpg"), cv2.IMREAD_GRAYSCALE)
            pts, scale = senior[stem].astype(np.float64), 1.0
            if make is not None:
                rng = np.random.default_rng([a.seed, ci, int(stem)])
                im, pts, scale = make(im, pts, rng)
            cv2.imwrite(os.path.join(img_dir, stem + ".png"), im, [cv2.IMWRITE_PNG_COMPRESSION, 1])
            gt = {nm: [float(x), float(y)] for nm, (x, y) in zip(SENIOR, pts)}
            gt["_pixel_spacing_mm"] = SPACING / scale
            with open(os.path.join(gt_dir, stem + ".json"), "w") as f:
                json.dump(gt, f)
        report = os.path.join(a.out, slug, "report.json")
        preds = os.path.join(a.out, slug, "predictions.json")
        t = time.time()
        subprocess.run([a.cephtrace, "evaluate", "--image-dir", img_dir, "--gt-dir", gt_dir,
                        "--model-dir", a.models, "--quiet", "--bootstrap", "0", "--output", report,
                        "--save-predictions", preds] + engine_args,
                       check=True, stderr=subprocess.DEVNULL)
        r = condition_row(name, report)
        print(f"{name}: MRE {r['mre_mm']:.2f} mm, SDR2 {100 * r['sdr2']:.1f} %, images > 20 mm: "
              f"{r['gross_failures']} ({time.time() - t:.0f} s)", flush=True)

    # Every condition whose report is in --out: the ones just run, and (with --only) those of
    # an earlier run into the same folder.
    for ci, name in enumerate(names):
        report = os.path.join(a.out, slug_of(ci, name), "report.json")
        if os.path.exists(report):
            rows.append(condition_row(name, report))

    shifted = [e for r in rows if r["condition"] != "original" for e in r["errors"]]
    lines = ["| condition | images | MRE (mm) | SDR 2 mm | SDR 4 mm | images off by > 20 mm |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['condition']} | {r['images']} | {r['mre_mm']:.2f} | {100 * r['sdr2']:.1f} % | "
                     f"{100 * r['sdr4']:.1f} % | {r['gross_failures']} |")
    summary = {}
    if shifted:
        pooled = float(np.mean(shifted))
        summary["pooled_mre_mm"] = pooled
        lines.append(f"| **pooled (all shifted)** | {sum(r['images'] for r in rows if r['condition'] != 'original')} | "
                     f"**{pooled:.2f}** | {100 * np.mean(np.array(shifted) <= 2):.1f} % | "
                     f"{100 * np.mean(np.array(shifted) <= 4):.1f} % | "
                     f"{sum(r['gross_failures'] for r in rows if r['condition'] != 'original')} |")
        orig = [r for r in rows if r["condition"] == "original"]
        if orig:
            summary["original_mre_mm"] = orig[0]["mre_mm"]
            summary["ratio"] = pooled / orig[0]["mre_mm"]
            lines.append(f"\npooled / original = {summary['ratio']:.2f}")
    table = "\n".join(lines)
    print("\n" + table)
    header = (f"Device-shift benchmark: {len(ids)} ISBI images per condition from ids {a.ids} "
              f"(seed {a.seed}), models `{a.models}`, engine options `{' '.join(engine_args) or 'default'}`.\n"
              f"Command: `/usr/bin/python3 tools/device_shift_benchmark.py {' '.join(sys.argv[1:])}`\n\n")
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(header + table + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"ids": ids, "seed": a.seed, "engine_args": engine_args, "summary": summary,
                       "conditions": [{k: v for k, v in r.items() if k != "errors"} for r in rows]}, f, indent=1)


if __name__ == "__main__":
    main()
