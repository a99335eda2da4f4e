"""Shared data loading, landmark index maps and label derivation for CephTrace training.

All coordinates returned by this module are in the LEFT-facing (mirrored) frame
of the ORIGINAL image: x' = W - 1 - x, y unchanged (the C++ engine runs all
models on the left-facing view).  Missing landmarks are NaN.
"""
import argparse
import csv
import hashlib
import os

import cv2
import numpy as np

from .tables import ANCHORS_7, CANONICAL_25, CONSTANTS, DERIVED_18, EXTENDED_14, EXTENDED_CL_NUMBER, SIGMA  # noqa: F401

DATA = os.environ.get("CEPH_DATA", "/work/shared/data/isbi2015")
MM_PER_PX = CONSTANTS["kIsbiPixelSpacingMm"]

# The landmark vocabularies (spec §1) come from include/cephtrace/tables.def, as the engine's.
IDX = {n: i for i, n in enumerate(CANONICAL_25)}
ANCH_IDX = [IDX[n] for n in ANCHORS_7]
DER_IDX = [IDX[n] for n in DERIVED_18]
SIGMA25 = np.array([SIGMA[n] for n in CANONICAL_25], np.float32)

# ISBI order 1..19 -> canonical names
ISBI19 = ["S", "N", "Or", "Po", "A", "B", "Pog", "Me", "Gn", "Go", "L1_tip", "U1_tip", "UL",
          "LL", "Sn", "Pog_soft", "PNS", "ANS", "Ar"]
# CL-Detection 2023 extra landmarks (1-based index -> canonical)
CL_EXTRA = {21: "U1_root", 22: "L1_root", 25: "Co", 26: "Prn", 27: "Ba"}

def parse_ids(text):
    """Image ids from "1-140", "141,143" or "1-3,7" (command-line lists)."""
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def width_type(levels, example):
    """An argparse type: a network's channel counts, one per resolution of `levels` (e.g.
    "128/64/32/16/8 px"), from "8,16,32,64,64"; a bad value is refused with this message
    before anything runs."""
    n = len(levels.split("/"))

    def parse(text):
        try:
            width = tuple(int(c) for c in text.split(","))
        except ValueError:
            width = ()
        if len(width) != n or min(width) < 1:
            raise argparse.ArgumentTypeError("%r: expected %d positive channel counts (%s), e.g. %s" % (
                text, n, levels, example))
        return width
    return parse


parse_width = width_type("128/64/32/16/8 px", "8,16,32,64,64")        # training.refine's U-Net
parse_unet_width = width_type("128/64/32/16 px", "8,16,32,64")        # Stage 0's TinyUNet


TRAIN_IDS = list(range(1, 141))
VAL_IDS = list(range(141, 151))
# Test2's senior annotator placed some landmarks by other conventions than the training and
# Test1 labels. The protocol model (trained on 1-140) is off on Test2 by a consistent (mean
# signed) 3.8 mm on Or, 5.3 on B, 3.2 on UL and 10.5 on Pog_soft, against at most 1.5 mm on
# Test1 (bias columns of docs/results/isbi2015_stage0_priors.md; for Pog_soft also
# docs/results/annotation_conventions.md). A and LL differ less (Test2's mean offset is 2.7
# and 2.1 mm from Test1's), but fine-tuning Stage 2 on 301-400 with them made Test1's A and LL
# worse (2.07 -> 2.39, 0.80 -> 0.98 mm; training/README, session 10) while the other bony
# landmarks improved. A model trained on both conventions learns neither, so those labels of
# 301-400 are left out of training: the six whose Test1 and Test2 offsets differ by over 2 mm.
TEST2_IDS = range(301, 401)
TRAINING_EXCLUSIONS = {n: TEST2_IDS for n in ("Or", "A", "B", "UL", "LL", "Pog_soft")}
W0, H0 = 1935, 2400
# The shipped default learnt from the test images too; the models trained on 001-150 only are
# kept beside it, and whatever is scored on ISBI's test images (151-400, the device-shift
# benchmark made from them) uses those (as `cephtrace evaluate --protocol` does).
PROTOCOL_SUBDIR = "isbi2015-protocol"


MANIFEST = "MANIFEST.sha256"
MODEL_FILE_TYPES = (".onnx", ".json")  # what the engine loads (src/pipeline/model_manifest.cpp)


def test_image_models(default_dir="models"):
    """The model folder to score ISBI's test images with: the protocol models when present."""
    protocol = os.path.join(default_dir, PROTOCOL_SUBDIR)
    return protocol if os.path.isdir(protocol) else default_dir


def write_manifest(model_dir):
    """sha256sum-format manifest of the folder's model files. A subfolder with a manifest of its
    own is another model folder and is left out, as the engine's check leaves it out."""
    lines = []
    for root, dirs, files in os.walk(model_dir):
        dirs[:] = sorted(d for d in dirs if not os.path.exists(os.path.join(root, d, MANIFEST)))
        for f in files:
            if f.endswith(MODEL_FILE_TYPES):
                path = os.path.join(root, f)
                with open(path, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
                lines.append((os.path.relpath(path, model_dir).replace(os.sep, "/"), digest))
    with open(os.path.join(model_dir, MANIFEST), "w") as out:
        out.writelines("%s  %s\n" % (digest, rel) for rel, digest in sorted(lines))


def img_path(i):
    return os.path.join(DATA, "images", "%03d.jpg" % i)


def _read_senior():
    out = {}
    for split in ("train", "test1", "test2"):
        p = os.path.join(DATA, "annotations", "senior", "%s_senior.csv" % split)
        if not os.path.exists(p):
            continue
        with open(p) as f:
            r = csv.reader(f)
            next(r)
            for row in r:
                i = int(row[0].split(".")[0])
                v = np.array([float(x) for x in row[1:39]], np.float64).reshape(19, 2)
                out[i] = v
    return out


def _read_cl(i):
    p = os.path.join(DATA, "annotations", "cl2023", "%03d_landmark.txt" % i)
    if not os.path.exists(p):
        return None
    d = {}
    with open(p) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) == 3:
                d[int(parts[0])] = (float(parts[1]), float(parts[2]))
    return d


_SENIOR = None


def load_landmarks(i, width=W0, derive_pm=True, grey=None, training=True):
    """Return (25,2) float array in the mirrored (left-facing) original frame, NaN = missing,
    and a dict of extra CL soft-tissue points (mirrored) useful for label derivation.
    training: leave out the labels of TRAINING_EXCLUSIONS (False: all, for scoring)."""
    global _SENIOR
    if _SENIOR is None:
        _SENIOR = _read_senior()
    pts = np.full((25, 2), np.nan)
    s = _SENIOR[i]
    for k, n in enumerate(ISBI19):
        pts[IDX[n]] = s[k]
    cl = _read_cl(i)
    extra = {}
    if cl is not None:
        for k, n in CL_EXTRA.items():
            if k in cl:
                pts[IDX[n]] = cl[k]
        for k, n in {32: "soft_Gn", 33: "soft_Me", 34: "glabella", 35: "soft_N", 23: "columella"}.items():
            if k in cl:
                extra[n] = np.array(cl[k], np.float64)
    if training:
        for n, excluded in TRAINING_EXCLUSIONS.items():
            if i in excluded:
                pts[IDX[n]] = np.nan
    # mirror to left-facing
    pts[:, 0] = width - 1 - pts[:, 0]
    for k in extra:
        extra[k][0] = width - 1 - extra[k][0]
    if derive_pm:
        if grey is None:
            grey = load_grey_mirrored(i)
        pm = derive_pm_point(grey, pts)
        if pm is not None:
            pts[IDX["Pm"]] = pm
    return pts, extra


def load_extended(i, width=W0):
    """(14,2) EXTENDED_14 landmarks of image i, left-facing frame; None without CL-2023 labels."""
    cl = _read_cl(i)
    if cl is None:
        return None
    e = np.array([cl[EXTENDED_CL_NUMBER[n]] for n in EXTENDED_14], np.float64)
    e[:, 0] = width - 1 - e[:, 0]
    return e


def load_grey_mirrored(i):
    g = cv2.imread(img_path(i), cv2.IMREAD_GRAYSCALE)
    return np.ascontiguousarray(g[:, ::-1])


def load_rgb_mirrored(i):
    from PIL import Image
    im = Image.open(img_path(i)).convert("RGB")
    return im.transpose(Image.FLIP_LEFT_RIGHT)


# ---------------------------------------------------------------- skin profile
def skin_edge_rows(grey, y0, y1, x_lo, x_hi, sigma=4.0):
    """For rows y0..y1 (inclusive) of a LEFT-facing grey image, find the skin/air boundary:
    the strongest intensity RISE going right (air, dark, on the low-x side -> soft tissue,
    brighter) inside [x_lo(y), x_hi(y)].  x_lo/x_hi are arrays over the rows.
    Returns array of x (float, NaN where not found)."""
    H, W = grey.shape
    y0 = max(0, int(y0)); y1 = min(H - 1, int(y1))
    band = grey[y0:y1 + 1].astype(np.float32)
    band = cv2.GaussianBlur(band, (0, 0), sigma)
    gx = np.zeros_like(band)
    gx[:, 3:-3] = band[:, 6:] - band[:, :-6]
    xs = np.full(y1 - y0 + 1, np.nan)
    for r in range(y1 - y0 + 1):
        a = int(max(1, x_lo[r])); b = int(min(W - 2, x_hi[r]))
        if b <= a:
            continue
        seg = gx[r, a:b + 1]
        m = float(seg.max())
        if m > 1.5:
            # first strong rise from the air side (soft tissue edge, not a bone edge)
            k = int(np.argmax(seg > max(1.5, 0.15 * m)))
            while k + 1 < len(seg) and seg[k + 1] >= seg[k]:
                k += 1
            xs[r] = a + k
    return y0, xs


def derive_pm_point(grey, pts):
    """Pm = deepest point of the soft-tissue concavity between LL and Pog_soft: in the
    left-facing view the max-x skin point between them."""
    ll = pts[IDX["LL"]]; ps = pts[IDX["Pog_soft"]]
    if np.any(np.isnan(ll)) or np.any(np.isnan(ps)) or ps[1] - ll[1] < 20:
        return None
    y0, y1 = int(ll[1]) + 5, int(ps[1]) - 5
    n = y1 - y0 + 1
    lo = np.full(n, min(ll[0], ps[0]) - 60)
    hi = np.full(n, max(ll[0], ps[0]) + 130)
    y0, xs = skin_edge_rows(grey, y0, y1, lo, hi)
    ok = ~np.isnan(xs)
    if ok.sum() < 5:
        return None
    from scipy.ndimage import median_filter, gaussian_filter1d
    ys = np.arange(y0, y0 + len(xs))[ok]
    # A 31-row (3 mm) median: runs of a few rows where the edge search jumps to an inner
    # edge (lip/teeth) are common just below LL; a 9-row median kept them and put Pm there.
    xv = gaussian_filter1d(median_filter(xs[ok], 31, mode="nearest"), 4, mode="nearest")
    # deepest point of the concavity: farthest behind (larger x) the LL-Pog_soft chord
    d = ps - ll
    nrm = np.array([d[1], -d[0]]) / (np.hypot(*d) + 1e-9)
    if nrm[0] < 0:
        nrm = -nrm
    dist = (xv - ll[0]) * nrm[0] + (ys - ll[1]) * nrm[1]
    k = int(np.argmax(dist))
    return np.array([xv[k], ys[k]], np.float64)


def skin_profile(grey, pts, extra, y_top, y_bot):
    """Skin line x(y) for rows y_top..y_bot in a left-facing grey image, guided by the soft
    tissue landmarks (search window around a piecewise-linear guide through them)."""
    guide = []
    for n in ("N",):
        p = pts[IDX[n]]
        if not np.any(np.isnan(p)):
            sn = extra.get("soft_N")
            guide.append(sn if sn is not None else np.array([p[0] - 60, p[1]]))
    if "glabella" in extra:
        guide.append(extra["glabella"])
    for n in ("Prn", "Sn", "UL", "LL", "Pm", "Pog_soft"):
        p = pts[IDX[n]]
        if not np.any(np.isnan(p)):
            guide.append(p)
    for n in ("soft_Gn", "soft_Me"):
        if n in extra:
            guide.append(extra[n])
    guide = np.array(sorted(guide, key=lambda q: q[1]))
    ys = np.arange(int(y_top), int(y_bot) + 1)
    gx = np.interp(ys, guide[:, 1], guide[:, 0])
    has_prn = not np.any(np.isnan(pts[IDX["Prn"]]))
    # wide window where the guide is weak (nose without Prn, outside the guide range)
    wlo = np.full(len(ys), 60.0); whi = np.full(len(ys), 60.0)
    if not has_prn:
        n_y = pts[IDX["N"], 1]; sn_y = pts[IDX["Sn"], 1]
        m = (ys > n_y) & (ys < sn_y)
        wlo[m] = 320.0
    wlo[ys < guide[0, 1]] = 150; whi[ys < guide[0, 1]] = 150
    wlo[ys > guide[-1, 1]] = 150; whi[ys > guide[-1, 1]] = 150
    y0, xs = skin_edge_rows(grey, ys[0], ys[-1], gx - wlo, gx + whi)
    ok = ~np.isnan(xs)
    if ok.sum() < 10:
        return ys, gx
    from scipy.ndimage import median_filter, gaussian_filter1d
    xf = np.interp(ys, ys[ok], xs[ok])
    xf = gaussian_filter1d(median_filter(xf, 15, mode="nearest"), 3, mode="nearest")
    return ys, xf


# --------------------------------------------------------- Gaussians / priors
def render_priors256(norm_xy, present):
    """norm_xy (25,2) normalised coords, present (25,) bool -> (25,256,256) float32 per spec."""
    g = np.arange(256, dtype=np.float32)
    out = np.zeros((25, 256, 256), np.float32)
    for k in range(25):
        if not present[k]:
            continue
        cx = 256.0 * norm_xy[k, 0]; cy = 256.0 * norm_xy[k, 1]
        s2 = 2.0 * SIGMA25[k] ** 2
        ex = np.exp(-((g - cx) ** 2) / s2)
        ey = np.exp(-((g - cy) ** 2) / s2)
        out[k] = ey[:, None] * ex[None, :]
    return out


def upsample_priors(p256):
    # cv2.resize per channel, INTER_LINEAR to 512 (handles up to 512 channels at once)
    x = np.transpose(p256, (1, 2, 0))
    outs = []
    for c0 in range(0, x.shape[2], 4):
        outs.append(cv2.resize(np.ascontiguousarray(x[:, :, c0:c0 + 4]), (512, 512),
                               interpolation=cv2.INTER_LINEAR).reshape(512, 512, -1))
    return np.transpose(np.concatenate(outs, axis=2), (2, 0, 1))


def decode_dark_lite(hm):
    """hm (25,256,256) -> (25,2) heatmap coordinates per spec §5."""
    C, Hh, Wh = hm.shape
    out = np.zeros((C, 2))
    for c in range(C):
        h = hm[c]
        k = int(np.argmax(h))
        py, px = divmod(k, Wh)
        px = min(max(px, 1), Wh - 2); py = min(max(py, 1), Hh - 2)
        L = np.log(np.maximum(h, 1e-10))
        dx = (L[py, px + 1] - L[py, px - 1]) / 2; dxx = L[py, px + 1] - 2 * L[py, px] + L[py, px - 1]
        dy = (L[py + 1, px] - L[py - 1, px]) / 2; dyy = L[py + 1, px] - 2 * L[py, px] + L[py - 1, px]
        ox = np.clip(-dx / (dxx + 1e-10), -0.5, 0.5)
        oy = np.clip(-dy / (dyy + 1e-10), -0.5, 0.5)
        out[c] = (px + ox, py + oy)
    return out
