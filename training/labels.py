"""Label derivation for the Stage 0 models (profile band, zone boxes, contour curves) and a
Python port of the spec's Phase 0B rules used to check/tune the derived labels.
Everything works on the LEFT-facing (mirrored) view."""
import numpy as np
import cv2
from scipy.ndimage import gaussian_filter1d, median_filter

from . import common as C
from .tables import FALLBACK_ZONES, ZONE_CLAHE  # noqa: F401  (spec §3 zones, shared with the engine)

# vertical extent of the profile band, tuned with check_band() so that the spec's Phase 0B
# t-windows land on the anatomy: height h = (Pog_soft_y - Sn_y) / BAND_Q,
# top = Sn_y - BAND_P * h, bottom = top + h (clipped to the image).
BAND_P = 0.34
BAND_Q = 0.45
BAND_DEPTH_MM = 20.0


def skin_line(grey, pts, extra, y_top, y_bot):
    """x of the skin/air boundary for every row y_top..y_bot (full resolution, left-facing)."""
    H, W = grey.shape
    y_top = int(max(0, y_top)); y_bot = int(min(H - 1, y_bot))
    guide = []
    sn = extra.get("soft_N")
    nb = pts[C.IDX["N"]]
    guide.append(sn if sn is not None else np.array([nb[0] - 60, nb[1]]))
    if "glabella" in extra:
        guide.append(extra["glabella"])
    for n in ("Prn", "Sn", "UL", "LL", "Pm", "Pog_soft"):
        p = pts[C.IDX[n]]
        if not np.any(np.isnan(p)):
            guide.append(p)
    guide = np.array(sorted(guide, key=lambda q: q[1]))
    g_lo, g_hi = guide[0, 1], guide[-1, 1]
    ys = np.arange(y_top, y_bot + 1)
    gx = np.interp(ys, guide[:, 1], guide[:, 0])
    has_prn = not np.any(np.isnan(pts[C.IDX["Prn"]]))
    lo = gx - 60; hi = gx + 60
    if not has_prn:
        m = (ys > nb[1]) & (ys < pts[C.IDX["Sn"], 1])
        lo[m] = gx[m] - 320
    y0, xs = C.skin_edge_rows(grey, y_top, y_bot, lo, hi)
    inside = (ys >= g_lo) & (ys <= g_hi)
    xs[~inside] = np.nan
    # track outside the guide range (forehead upwards, submental/neck downwards)
    band = cv2.GaussianBlur(grey[y_top:y_bot + 1].astype(np.float32), (0, 0), 4)
    gxx = np.zeros_like(band); gxx[:, 3:-3] = band[:, 6:] - band[:, :-6]

    def first_rise(r, a, b):
        a = int(max(3, a)); b = int(min(W - 4, b))
        if b <= a:
            return np.nan
        seg = gxx[r, a:b + 1]
        m = float(seg.max())
        if m <= 1.5:
            return np.nan
        k = int(np.argmax(seg > max(1.5, 0.15 * m)))
        while k + 1 < len(seg) and seg[k + 1] >= seg[k]:
            k += 1
        return a + k
    idx_in = np.where(inside & ~np.isnan(xs))[0]
    if len(idx_in) == 0:
        return ys, gx
    prev = xs[idx_in[-1]]
    for r in range(idx_in[-1] + 1, len(ys)):
        v = first_rise(r, prev - 40, prev + 300)
        if not np.isnan(v):
            prev = v
        xs[r] = prev
    prev = xs[idx_in[0]]
    for r in range(idx_in[0] - 1, -1, -1):
        v = first_rise(r, prev - 40, prev + 40)
        if not np.isnan(v):
            prev = v
        xs[r] = prev
    ok = ~np.isnan(xs)
    xf = np.interp(ys, ys[ok], xs[ok])
    xf = gaussian_filter1d(median_filter(xf, 15, mode="nearest"), 3, mode="nearest")
    return ys, xf


def band_extent(pts, H, p=BAND_P, q=BAND_Q):
    sn_y, ps_y = pts[C.IDX["Sn"], 1], pts[C.IDX["Pog_soft"], 1]
    h = (ps_y - sn_y) / q
    y_top = int(max(0, sn_y - p * h))
    return y_top, int(min(H - 1, y_top + h))


def band_mask_full(grey, pts, extra, p=BAND_P, q=BAND_Q, depth_mm=BAND_DEPTH_MM):
    H, W = grey.shape
    y_top, y_bot = band_extent(pts, H, p, q)
    ys, xs = skin_line(grey, pts, extra, y_top, y_bot)
    d = depth_mm / C.MM_PER_PX
    m = np.zeros((H, W), np.uint8)
    for y, x in zip(ys, xs):
        a = int(max(0, round(x))); b = int(min(W, round(x + d)))
        m[y, a:b] = 1
    return m, ys, xs


def to512(mask_full):
    return (cv2.resize(mask_full.astype(np.float32), (512, 512), interpolation=cv2.INTER_AREA) > 0.5).astype(np.uint8)


# ------------------------------------------------------------ Phase 0B port
def _gauss_reflect(x, sigma):
    r = int(4 * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2); k /= k.sum()
    xp = np.pad(x, r, mode="symmetric")
    return np.convolve(xp, k, mode="valid")


def phase0b(mask512):
    """Returns dict: features (or None), zones list [(x1,y1,x2,y2)]*5, soft points dict (512 px)."""
    out = {"features": None, "soft": {}}
    m = (mask512 > 0).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=4)
    if n <= 1:
        out["zones"] = FALLBACK_ZONES; return out
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    comp = (lab == k).astype(np.uint8)
    cs, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    c = max(cs, key=len).reshape(-1, 2)
    c = c[np.argsort(c[:, 1], kind="stable")]
    if len(c) < 10:
        out["zones"] = FALLBACK_ZONES; return out
    x_min, y_min = c.min(0); x_max, y_max = c.max(0)
    cx, cy = c.mean(0)
    h = y_max - y_min
    top = c[c[:, 1] < y_min + 0.4 * h]
    nose = top[np.argmin(top[:, 0])]
    chin = c[np.argmax(c[:, 1])]
    out["features"] = dict(x_min=x_min, y_min=y_min, x_max=x_max, y_max=y_max, cx=cx, cy=cy,
                           nose=nose, chin=chin, height=h)
    out["zones"] = zones_from_features(x_min, y_min, x_max, y_max, cy)
    # anterior profile
    ys = np.unique(c[:, 1])
    xs = np.array([c[c[:, 1] == y, 0].min() for y in ys], np.float64)
    if len(c) < 20 or len(ys) < 20 or h < 20:
        return out
    xs = _gauss_reflect(xs, max(3.0, 0.015 * h))
    t = (ys - y_min) / h
    soft = {}

    def argmin_in(mask):
        idx = np.where(mask)[0]
        return idx[np.argmin(xs[idx])] if len(idx) else None
    w = t < 0.35
    if w.sum() > 3:
        i = argmin_in(w); soft["Prn"] = (int(xs[i]), int(ys[i]))
    w = np.where((t > 0.25) & (t < 0.5))[0]
    t_sn = 0.35
    if len(w) > 5:
        nn = len(w); kk = max(3, nn // 8)
        sel = None
        for j in range(kk, nn - kk):
            v = xs[w[j]]
            if all(v > xs[w[j + d]] for d in range(-kk, kk + 1) if d != 0):
                sel = w[j]; break
        if sel is None:
            sel = w[np.argmax(xs[w])]
        soft["Sn"] = (int(xs[sel]), int(ys[sel])); t_sn = t[sel]
    w = (t > t_sn) & (t < min(t_sn + 0.15, 0.55))
    t_ul = 0.45
    i = argmin_in(w)
    if i is not None:
        soft["UL"] = (int(xs[i]), int(ys[i])); t_ul = t[i]
    w = (t > t_ul + 0.02) & (t < min(t_ul + 0.18, 0.70))
    i = argmin_in(w)
    if i is not None:
        soft["LL"] = (int(xs[i]), int(ys[i]))
    i = argmin_in(t > 0.75)
    if i is not None:
        soft["Pog_soft"] = (int(xs[i]), int(ys[i]))
    ll_y = soft["LL"][1] if "LL" in soft else y_min + 0.55 * h
    ps_y = soft["Pog_soft"][1] if "Pog_soft" in soft else y_min + 0.85 * h
    w = np.where((ys > ll_y) & (ys < ps_y))[0]
    if len(w) > 10:
        xx = xs[w]
        dd = np.gradient(np.gradient(xx))
        sg = np.sign(dd)
        ch = [j for j in range(len(w) - 1) if sg[j] != sg[j + 1]]
        if ch:
            j = min(ch, key=lambda q: abs(q - len(w) / 2))
        else:
            j = int(np.argmax(xx[:max(1, len(w) // 3)]))
        soft["Pm"] = (int(xx[j]), int(ys[w[j]]))
    out["soft"] = soft
    return out


def _fix(z):
    x1, y1, x2, y2 = [int(v) for v in z]
    x1, x2 = max(0, min(512, x1)), max(0, min(512, x2))
    y1, y2 = max(0, min(512, y1)), max(0, min(512, y2))
    if x2 - x1 < 128:
        c = (x1 + x2) // 2; x1 = max(0, min(512 - 128, c - 64)); x2 = x1 + 128
    if y2 - y1 < 128:
        c = (y1 + y2) // 2; y1 = max(0, min(512 - 128, c - 64)); y2 = y1 + 128
    return (x1, y1, x2, y2)


def zones_from_features(x_min, y_min, x_max, y_max, cy):
    pad = 51
    z1 = (128 - pad, 0, 512, 435 + pad)
    z2 = (0, 0, int(x_max + 0.25 * (512 - x_max)) + 3 * pad, int(cy * 0.95) + 4 * pad)
    z3 = (0, int(cy * 0.95) - 4 * pad, 512, 512)
    z4 = (76 - pad, 0, 512, 435 + pad)
    z5 = (x_min - 4 * pad, y_min - 3 * pad, x_max + 4 * pad, y_max + 3 * pad)
    return [_fix(z) for z in (z1, z2, z3, z4, z5)]


def check_band(ids, top=BAND_P, bottom=BAND_Q, depth=BAND_DEPTH_MM, cache=None):
    """Apply the 0B rules to the derived band masks; return per-landmark mean error (mm) and
    detection counts. Errors at original resolution (0.1 mm/px)."""
    errs = {n: [] for n in ("Prn", "Sn", "UL", "LL", "Pog_soft", "Pm")}
    frac = []
    for i in ids:
        if cache is not None and i in cache:
            g, pts, extra = cache[i]
        else:
            g = C.load_grey_mirrored(i); pts, extra = C.load_landmarks(i, grey=g)
            if cache is not None:
                cache[i] = (g, pts, extra)
        H, W = g.shape
        mf, _, _ = band_mask_full(g, pts, extra, top, bottom, depth)
        m5 = to512(mf)
        frac.append(m5.mean())
        r = phase0b(m5)
        for n, p in r["soft"].items():
            gt = pts[C.IDX[n]]
            if np.any(np.isnan(gt)):
                continue
            q = np.array([p[0] * W / 512.0, p[1] * H / 512.0])
            errs[n].append(np.hypot(*(q - gt)) * C.MM_PER_PX)
    return {n: (float(np.mean(v)) if v else float("nan"), len(v)) for n, v in errs.items()}, float(np.mean(frac))
