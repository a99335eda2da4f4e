"""Checks of the derived Stage 0 labels against the ground truth + overlays.

  /usr/bin/python3 -m training.check_labels [--ids 1-140] [--png docs/training]

1. Profile band: the spec's Phase 0B soft-tissue rules applied to the GT-derived band mask
   (mean error in mm vs GT Prn/Sn/UL/LL/Pog_soft and the derived Pm).
2. Contour curves: the spec's Phase 0D rules (robust centre-line mode: skeleton -> longest
   path -> Douglas-Peucker -> orient -> chord/curvature windows) applied to the rasterised GT
   curves at 512 give back the anchors (mean error in mm vs GT).
"""
import argparse
import os
from collections import deque

import cv2
import numpy as np

from . import common as C
from . import labels as Lb
from . import stage0 as S0


def longest_path(mask):
    from skimage.morphology import skeletonize
    sk = skeletonize(mask > 0)
    pts = np.argwhere(sk)
    if len(pts) < 2:
        return None
    idx = {tuple(p): k for k, p in enumerate(pts)}
    nb = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]

    def bfs(s):
        dist = {s: 0}; par = {s: None}; q = deque([s]); last = s
        while q:
            u = q.popleft(); last = u
            for dy, dx in nb:
                v = (u[0] + dy, u[1] + dx)
                if v in idx and v not in dist:
                    dist[v] = dist[u] + 1; par[v] = u; q.append(v)
        far = max(dist, key=dist.get)
        return far, par
    a, _ = bfs(tuple(pts[0]))
    b, par = bfs(a)
    path = []
    u = b
    while u is not None:
        path.append((u[1], u[0])); u = par[u]
    return np.array(path, np.float64)  # (x,y)


def dp(poly, eps):
    c = cv2.approxPolyDP(poly.astype(np.float32).reshape(-1, 1, 2), eps, False)
    return c.reshape(-1, 2).astype(np.float64)


def orient(poly, R):
    if np.hypot(*(poly[0] - R)) < np.hypot(*(poly[-1] - R)):
        poly = poly[::-1]
    return poly


def arcfrac(poly):
    s = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(poly, axis=0).T))])
    return s / max(s[-1], 1e-9)


def chord_window(poly, a, b):
    f = arcfrac(poly)
    p0, p1 = poly[0], poly[-1]
    d = p1 - p0; L = np.hypot(*d) + 1e-9
    dist = np.abs(d[0] * (poly[:, 1] - p0[1]) - d[1] * (poly[:, 0] - p0[0])) / L
    w = np.where((f >= a) & (f <= b))[0]
    if len(w) == 0:
        return poly[np.argmin(np.abs(f - (a + b) / 2))]
    return poly[w[np.argmax(dist[w])]]


def curvature_window(poly, a, b):
    f = arcfrac(poly)
    best, bi = -1, None
    for i in range(1, len(poly) - 1):
        if a <= f[i] <= b:
            v1 = poly[i] - poly[i - 1]; v2 = poly[i + 1] - poly[i]
            ang = abs(np.arctan2(v1[0] * v2[1] - v1[1] * v2[0], v1 @ v2))
            if ang > best:
                best, bi = ang, i
    if bi is None:
        return poly[np.argmin(np.abs(f - (a + b) / 2))]
    return poly[bi]


TOL = {"mandibular_symphysis": 0.5, "mandibular_border": 1.0, "cranial_base": 2.0, "palatal_plane": 1.0}


def anchors_from_masks(masks512, W, H, nose, chin):
    """masks512: dict class -> (512,512) mask. nose/chin in original px. Returns dict name->(x,y) orig px."""
    ppm = (W / 200 + H / 250) / 2
    sx, sy = W / 512.0, H / 512.0
    out = {}
    polys = {}
    for cls, m in masks512.items():
        p = longest_path(m)
        if p is None:
            continue
        p = p * [sx, sy]
        polys[cls] = dp(p, max(0.001, TOL[cls] * ppm))
    if "cranial_base" in polys and len(polys["cranial_base"]) >= 2:
        p = orient(polys["cranial_base"], nose); out["N"] = p[-1]
        if len(p) >= 3:
            out["S"] = chord_window(p, 0.2, 0.6)
    if "mandibular_symphysis" in polys and len(polys["mandibular_symphysis"]) >= 2:
        p = orient(polys["mandibular_symphysis"], chin); out["Me"] = p[-1]
        if len(p) >= 3:
            out["Pog"] = chord_window(p, 0.10, 0.65)
    if "palatal_plane" in polys and len(polys["palatal_plane"]) >= 2:
        out["ANS"] = orient(polys["palatal_plane"], nose)[-1]
    if "mandibular_border" in polys and len(polys["mandibular_border"]) >= 3:
        out["Go"] = curvature_window(orient(polys["mandibular_border"], chin), 0.15, 0.50)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", default="1-140")
    ap.add_argument("--png", default="docs/training")
    a = ap.parse_args(argv)
    lo, hi = [int(v) for v in a.ids.split("-")]
    ids = list(range(lo, hi + 1))
    r, frac = Lb.check_band(ids)
    print("Profile band (%d images, mean mask fraction %.3f of 512^2): Phase 0B rule error vs GT, mm (n):" % (len(ids), frac))
    print("  " + "  ".join("%s %.2f (%d)" % (k, v[0], v[1]) for k, v in r.items()))
    errs = {n: [] for n in ("S", "N", "Me", "Pog", "ANS", "Go")}
    ref_err = {"nose-Prn": [], "chin-Me": []}
    for i in ids:
        s = S0.load_case(i)
        f = Lb.phase0b(s.mask)["features"]
        nose = np.array(f["nose"], np.float64) * [s.W / 512, s.H / 512]
        chin = np.array(f["chin"], np.float64) * [s.W / 512, s.H / 512]
        if not np.isnan(s.pts[C.IDX["Prn"], 0]):
            ref_err["nose-Prn"].append(np.hypot(*(nose - s.pts[C.IDX["Prn"]])) * 0.1)
        ref_err["chin-Me"].append(np.hypot(*(chin - s.pts[C.IDX["Me"]])) * 0.1)
        masks = {}
        for cls in ("cranial_base", "palatal_plane", "mandibular_border", "mandibular_symphysis"):
            cp = S0.curve_points(s.p512, cls)
            if cp is None:
                continue
            m = np.zeros((512, 512), np.uint8)
            cv2.polylines(m, [np.round(cp * 4).astype(np.int32)], False, 1, S0.LINE_PX_512, shift=2)
            masks[cls] = m
        an = anchors_from_masks(masks, s.W, s.H, nose, chin)
        for n, p in an.items():
            errs[n].append(np.hypot(*(p - s.pts[C.IDX[n]])) * 0.1)
    print("Band features used as 0D references: nose tip vs GT Prn %.1f mm, chin bottom vs GT Me %.1f mm" %
          (np.mean(ref_err["nose-Prn"]), np.mean(ref_err["chin-Me"])))
    print("Contour curves (GT polylines rasterised at 512, %d px): robust-0D anchors vs GT, mm (n):" % S0.LINE_PX_512)
    print("  " + "  ".join("%s %.2f (%d)" % (k, np.mean(v), len(v)) for k, v in errs.items()))
    if a.png:
        overlays(a.png)


def overlays(outdir, ids=(17, 55, 121)):
    os.makedirs(outdir, exist_ok=True)
    col = {"cranial_base": (0, 255, 255), "palatal_plane": (0, 255, 0), "upper_incisor_axis": (255, 0, 255),
           "mandibular_border": (255, 128, 0), "mandibular_symphysis": (0, 0, 255), "lower_incisor_axis": (255, 255, 0)}
    for i in ids:
        s = S0.load_case(i)
        o = cv2.cvtColor(s.proc, cv2.COLOR_GRAY2BGR)
        o[s.mask > 0] = (0.5 * o[s.mask > 0] + [0, 0, 127]).astype(np.uint8)
        r = Lb.phase0b(s.mask)
        for cls, c in col.items():
            cp = S0.curve_points(s.p512, cls)
            if cp is not None:
                cv2.polylines(o, [np.round(cp * 4).astype(np.int32)], False, c, S0.LINE_PX_512, shift=2)
        for n, p in r["soft"].items():
            cv2.circle(o, p, 3, (0, 255, 0), -1)
        pm = s.p512[C.IDX["Pm"]]
        if not np.isnan(pm[0]):
            cv2.drawMarker(o, (int(pm[0]), int(pm[1])), (255, 255, 255), cv2.MARKER_CROSS, 8, 1)
        for z, c in zip(r["zones"][:4], [(255, 255, 0), (0, 255, 255), (255, 0, 255), (128, 255, 128)]):
            cv2.rectangle(o, z[:2], (z[2] - 1, z[3] - 1), c, 1)
        cv2.imwrite(os.path.join(outdir, "labels_%03d.png" % i), o)
        # zone crops as the zone models see them, with their label curves
        tiles = []
        for z in ("z1", "z2", "z3", "z4"):
            x, y, m = S0.zone_sample(s, z, None, False)
            t = cv2.cvtColor((x[0] * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
            for k, cls in enumerate(S0.ZONES[z]["classes"]):
                t[y[k] > 0] = col[cls]
            tiles.append(t)
        cv2.imwrite(os.path.join(outdir, "zones_%03d.png" % i), np.concatenate(tiles, 1))
    print("overlays written to %s" % outdir)


if __name__ == "__main__":
    main()
