"""Stage 2 (ours, beyond the reference): local refinement of each Stage 1 landmark.

Stage 1 sees the whole skull at 512² (about 0.4 mm per input pixel on ISBI) and is limited
by that resolution.  Stage 2 looks again at a 128² patch around each Stage 1 estimate, cut
from the image resampled so that sqrt(W·H) = 1024 px (0.21 mm/px on ISBI), and predicts
the landmark's heatmap on a 64² grid (stride 2) that the engine decodes with DARK.

Contract (models/stage2/refine.onnx): input (25,1,128,128) float — patch k is centred on
landmark k's estimate, z-scored per patch — output (25,25,64,64); the engine reads channel k
of patch k.  The patch grid is exact integer pixels of the resampled image: patch pixel
(0,0) = resampled pixel (round(cx)-64, round(cy)-64), zero outside the image (before the
z-score).  Heatmap cell u covers patch pixels 2u, 2u+1: patch x = 2u + 0.5.
All constants are mirrored in include/cephtrace/constants.hpp.
"""
import math
import os
import random
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import common as C
from .export import export_onnx, verify_cv2
from .stage1 import Basic, cbr, intensity_aug

GRID_EXTENT = 1024.0   # resampled so that sqrt(W*H) = GRID_EXTENT
COARSE_EXTENT = 512.0  # the coarse pass: the same patch size sees twice the field (54 mm)
EXTENTS = (GRID_EXTENT, COARSE_EXTENT)  # level 0 = fine, level 1 = coarse
PATCH = 128
STRIDE = 2
HM = PATCH // STRIDE
SIGMA = 2.0            # target σ in heatmap cells (0.84 mm on ISBI)
NLM = 25


def grid_scale(W, H, extent=GRID_EXTENT):
    return extent / math.sqrt(W * H)


def resample(grey, extent=GRID_EXTENT):
    H, W = grey.shape
    s = grid_scale(W, H, extent)
    size = (max(1, int(round(W * s))), max(1, int(round(H * s))))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def to_grid(xy, W, H, gw, gh):
    """Original pixel coords -> resampled grid coords (pixel-centre convention)."""
    return np.stack([(xy[..., 0] + 0.5) * gw / W - 0.5, (xy[..., 1] + 0.5) * gh / H - 0.5], -1)


def zscore(p):
    p = p.astype(np.float32)
    return (p - p.mean()) / (p.std() + 1e-3)


def crop_integer(img, cx, cy):
    """Exact crop used by the engine: integer centre, zeros outside."""
    x0, y0 = int(round(cx)) - PATCH // 2, int(round(cy)) - PATCH // 2
    out = np.zeros((PATCH, PATCH), img.dtype)
    H, W = img.shape
    ax0, ay0 = max(0, x0), max(0, y0)
    ax1, ay1 = min(W, x0 + PATCH), min(H, y0 + PATCH)
    if ax1 > ax0 and ay1 > ay0:
        out[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0] = img[ay0:ay1, ax0:ax1]
    return out, x0, y0


# ------------------------------------------------------------------ network
class RefineNet(nn.Module):
    """Small U-Net: 128 -> 8 for context (a 64-px receptive field ring), back up to 64."""

    def __init__(self, w=(16, 32, 64, 96, 96), nout=NLM):
        super().__init__()
        self.e0 = nn.Sequential(cbr(1, w[0]), cbr(w[0], w[0]))                 # 128
        self.e1 = nn.Sequential(cbr(w[0], w[1], 3, 2), Basic(w[1]))            # 64
        self.e2 = nn.Sequential(cbr(w[1], w[2], 3, 2), Basic(w[2]))            # 32
        self.e3 = nn.Sequential(cbr(w[2], w[3], 3, 2), Basic(w[3]))            # 16
        self.e4 = nn.Sequential(cbr(w[3], w[4], 3, 2), Basic(w[4]), Basic(w[4]))  # 8
        self.d3 = cbr(w[4] + w[3], w[3])
        self.d2 = cbr(w[3] + w[2], w[2])
        self.d1 = nn.Sequential(cbr(w[2] + w[1], w[1]), cbr(w[1], w[1]))
        self.out = nn.Conv2d(w[1], nout, 1)

    @staticmethod
    def up(x):
        return F.interpolate(x, scale_factor=2, mode="nearest")

    def forward(self, x):
        f1 = self.e1(self.e0(x))
        f2 = self.e2(f1)
        f3 = self.e3(f2)
        f4 = self.e4(f3)
        y = self.d3(torch.cat([self.up(f4), f3], 1))
        y = self.d2(torch.cat([self.up(y), f2], 1))
        y = self.d1(torch.cat([self.up(y), f1], 1))
        return self.out(y)


# ------------------------------------------------------------------ data
class Case:
    pass


def load_cases(ids, verbose=True):
    t = time.time()
    cases = []
    for i in ids:
        c = Case()
        c.id = i
        g = C.load_grey_mirrored(i)
        pts, _ = C.load_landmarks(i, grey=g)
        H, W = g.shape
        c.W, c.H = W, H
        c.pts = pts
        c.imgs = [resample(g, e) for e in EXTENTS]
        c.gptss = [to_grid(pts, W, H, im.shape[1], im.shape[0]) for im in c.imgs]  # NaN stays NaN
        c.img, c.gpts = c.imgs[0], c.gptss[0]
        cases.append(c)
    if verbose:
        print("[refine] loaded %d cases in %.1fs" % (len(cases), time.time() - t), flush=True)
    return cases


def render_target(xy_hm, present):
    g = np.arange(HM, dtype=np.float32)
    t = np.zeros((NLM, HM, HM), np.float32)
    s2 = 2 * SIGMA ** 2
    for k in range(NLM):
        if present[k]:
            cx, cy = xy_hm[k]
            if -3 * SIGMA < cx < HM + 3 * SIGMA and -3 * SIGMA < cy < HM + 3 * SIGMA:
                t[k] = np.exp(-((g - cy) ** 2) / s2)[:, None] * np.exp(-((g - cx) ** 2) / s2)[None, :]
    return t


def sample_offset(rng):
    """Offset of the patch centre from the truth (grid px), like Stage 1's errors with a tail."""
    sd = 8.0 if rng.random() < 0.6 else 20.0
    return np.clip(rng.normal(0, sd, 2), -52, 52)


def make_train_patch(c, k, rng, level=0):
    img, gpts = c.imgs[level], c.gptss[level]
    gt = gpts[k]
    centre = gt + sample_offset(rng)
    s = rng.uniform(0.85, 1.18); ang = rng.uniform(-8, 8)
    # image -> patch (patch = M·img): rotate/scale about the centre, which lands on PATCH/2
    M = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), ang, s)
    M[:, 2] += PATCH // 2 - centre
    bv = float(rng.uniform(0, 40))
    p = cv2.warpAffine(img, M, (PATCH, PATCH), flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=bv)
    pts = gpts @ M[:, :2].T + M[:, 2]
    x = intensity_aug(p[..., None].repeat(3, 2), rng)[..., 0]
    if rng.random() < 0.2:  # a coarser detector / different machine
        f = rng.uniform(0.4, 0.8)
        small = cv2.resize(x, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        x = cv2.resize(small, (PATCH, PATCH), interpolation=cv2.INTER_LINEAR)
    present = ~np.isnan(pts[:, 0])
    hm = (np.nan_to_num(pts) + 0.5) / STRIDE - 0.5
    return zscore(x)[None], render_target(hm, present), present.astype(np.float32)


def engine_patch(img, centre):
    """Exactly what the C++ engine feeds the model, plus the patch origin."""
    p, x0, y0 = crop_integer(img, centre[0], centre[1])
    return zscore(p.astype(np.float32) / 255.0)[None], x0, y0


def hm_loss(pred, tgt, mask):
    w = 1.0 + 9.0 * (tgt > 0.01).float()
    l = (w * (pred - tgt) ** 2).mean(dim=(2, 3))
    return (l * mask).sum() / mask.sum().clamp(min=1) * 100.0


def decode(h):
    """argmax + DARK-lite step (as the engine's reference decoder), heatmap coords."""
    k = int(np.argmax(h)); py, px = divmod(k, h.shape[1])
    px = min(max(px, 1), h.shape[1] - 2); py = min(max(py, 1), h.shape[0] - 2)
    L = np.log(np.maximum(h, 1e-10))
    dx = (L[py, px + 1] - L[py, px - 1]) / 2; dxx = L[py, px + 1] - 2 * L[py, px] + L[py, px - 1]
    dy = (L[py + 1, px] - L[py - 1, px]) / 2; dyy = L[py + 1, px] - 2 * L[py, px] + L[py - 1, px]
    ox = np.clip(-dx / (dxx - 1e-10), -0.5, 0.5) if dxx < 0 else 0.0
    oy = np.clip(-dy / (dyy - 1e-10), -0.5, 0.5) if dyy < 0 else 0.0
    return px + ox, py + oy, float(h.max())


def refine_points(model, c, start_grid, level=0):
    """start_grid (25,2) grid coords of `level` -> refined grid coords (one pass, engine-exact crops)."""
    xs, origins = [], []
    for k in range(NLM):
        p, x0, y0 = engine_patch(c.imgs[level], start_grid[k])
        xs.append(p); origins.append((x0, y0))
    with torch.no_grad():
        out = model(torch.from_numpy(np.stack(xs))).numpy()
    res = np.zeros((NLM, 2))
    for k in range(NLM):
        u, v, _ = decode(out[k, k])
        res[k] = (origins[k][0] + STRIDE * u + 0.5, origins[k][1] + STRIDE * v + 0.5)
    return res


def level_scale(c, level):
    """Grid px per original px at `level`."""
    return c.imgs[level].shape[1] / c.W


def refine_chain(model, c, start_orig, coarse_passes, fine_passes):
    """Original-pixel start -> original-pixel result after coarse then fine passes (the engine's order)."""
    cur = start_orig
    for level, passes in ((1, coarse_passes), (0, fine_passes)):
        if passes <= 0:
            continue
        im = c.imgs[level]
        g = to_grid(cur, c.W, c.H, im.shape[1], im.shape[0])
        for _ in range(passes):
            g = refine_points(model, c, g, level)
        sx, sy = im.shape[1] / c.W, im.shape[0] / c.H
        cur = np.stack([(g[:, 0] + 0.5) / sx - 0.5, (g[:, 1] + 0.5) / sy - 0.5], -1)
    return cur


def stage1_like_start(c, rng):
    """Truth + a Stage-1-like error in original px: per axis N(0, 1.5 mm), 30 % N(0, 4 mm)."""
    sd = np.where(rng.random(NLM) < 0.7, 1.5, 4.0) / C.MM_PER_PX
    return np.nan_to_num(c.pts) + rng.normal(0, 1, (NLM, 2)) * sd[:, None]


def evaluate(model, cases, seed=7, coarse_passes=0, fine_passes=1):
    """Val MRE (mm) after refining from Stage-1-like starts; returns (after, before)."""
    model.eval()
    rng = np.random.default_rng(seed)
    before, after = [], []
    for c in cases:
        start = stage1_like_start(c, rng)
        ref = refine_chain(model, c, start, coarse_passes, fine_passes)
        ok = ~np.isnan(c.pts[:, 0])
        before += list(np.hypot(*(start[ok] - c.pts[ok]).T) * C.MM_PER_PX)
        after += list(np.hypot(*(ref[ok] - c.pts[ok]).T) * C.MM_PER_PX)
    model.train()
    return float(np.mean(after)), float(np.mean(before))


# ------------------------------------------------------------------ train
def train(runs, out_models, minutes=60.0, bs=24, lr=2e-3, resume=True, smoke=False, seed=0,
          export_every_min=15.0, coarse_share=0.0, init=None, name="refine"):
    """Train RefineNet; checkpoints <runs>/<name>_{last,best}.pt.

    coarse_share > 0 also trains the coarse level (that share of the patches) and selects the
    checkpoint by the engine's chain (1 coarse + 2 fine passes); init = a checkpoint whose
    weights start the run (the coarse phase fine-tunes the fine-only model)."""
    torch.manual_seed(seed); np.random.seed(seed); random.seed(seed)
    os.makedirs(runs, exist_ok=True)
    ck_last = os.path.join(runs, name + "_last.pt")
    ck_best = os.path.join(runs, name + "_best.pt")
    model = RefineNet()
    print("[%s] params %.3fM" % (name, sum(p.numel() for p in model.parameters()) / 1e6), flush=True)
    if init is not None:
        model.load_state_dict(torch.load(init)["model"])
        print("[%s] weights from %s" % (name, init), flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    st = {"elapsed": 0.0, "step": 0, "best": 1e9, "last_export": 0.0, "last_eval": 0.0}
    if resume and os.path.exists(ck_last) and not smoke:
        ck = torch.load(ck_last)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); st.update(ck["state"])
        print("[%s] resumed at step %d, %.1f min, best %.3f mm" % (name, st["step"], st["elapsed"] / 60, st["best"]), flush=True)
    tr = load_cases([1, 2] if smoke else C.TRAIN_IDS)
    va = load_cases([141] if smoke else C.VAL_IDS)
    chain = (1, 2) if coarse_share > 0 else (0, 1)   # (coarse, fine) passes of the val metric
    rng = np.random.default_rng(seed + st["step"])
    budget = minutes * 60.0
    eval_every = 0.0 if smoke else 240.0
    t_mark = time.time(); tl, nb = 0.0, 0
    model.train()
    while True:
        frac = min(1.0, st["elapsed"] / budget)
        cur = lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * frac)))
        if st["step"] < 100:
            cur *= (st["step"] + 1) / 100
        for g in opt.param_groups:
            g["lr"] = cur
        batch = []
        while len(batch) < bs:
            c = tr[rng.integers(len(tr))]
            present = np.flatnonzero(~np.isnan(c.gpts[:, 0]))
            level = 1 if rng.random() < coarse_share else 0
            batch.append(make_train_patch(c, int(rng.choice(present)), rng, level))
        x = torch.from_numpy(np.stack([b[0] for b in batch]).astype(np.float32))
        y = torch.from_numpy(np.stack([b[1] for b in batch]))
        m = torch.from_numpy(np.stack([b[2] for b in batch]))
        loss = hm_loss(model(x), y, m)
        opt.zero_grad(); loss.backward(); opt.step()
        tl += float(loss); nb += 1; st["step"] += 1
        now = time.time(); st["elapsed"] += now - t_mark; t_mark = now
        done = st["elapsed"] >= budget or (smoke and st["step"] >= 3)
        if done or st["elapsed"] - st["last_eval"] >= eval_every:
            st["last_eval"] = st["elapsed"]
            mre, mre0 = evaluate(model, va, coarse_passes=chain[0], fine_passes=chain[1])
            extra = ""
            if coarse_share > 0:
                extra = " (fine only %.3f)" % evaluate(model, va, fine_passes=2)[0]
            print(time.strftime("%H:%M:%S ") + "[%s] step %d loss %.4f lr %.2e elapsed %.1f/%.0f min | val MRE %.3f mm%s (from %.3f) best %.3f" %
                  (name, st["step"], tl / max(nb, 1), cur, st["elapsed"] / 60, minutes, mre, extra, mre0, min(mre, st["best"])), flush=True)
            tl, nb = 0.0, 0
            if mre < st["best"] or smoke:
                st["best"] = mre
                torch.save({"model": model.state_dict(), "val_mre": mre, "step": st["step"]}, ck_best)
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": st}, ck_last)
            if done or st["elapsed"] - st["last_export"] >= export_every_min * 60:
                st["last_export"] = st["elapsed"]
                try:
                    export_best(runs, out_models, va[0], name)
                except Exception as e:  # never kill training because of an export problem
                    print("[%s] export failed: %r" % (name, e), flush=True)
            t_mark = time.time()
        if done:
            break
    return st


def export_best(runs, out_models, case=None, name="refine"):
    ck = torch.load(os.path.join(runs, name + "_best.pt"))
    model = RefineNet()
    model.load_state_dict(ck["model"]); model.eval()
    if case is None:
        case = load_cases([141], verbose=False)[0]
    xs = [engine_patch(case.img, np.nan_to_num(case.gpts[k]))[0] for k in range(NLM)]
    ex = torch.from_numpy(np.stack(xs).astype(np.float32))
    path = os.path.join(out_models, "stage2", "refine.onnx")
    export_onnx(model, ex, path)
    verify_cv2(model, ex, path)
    print("[%s] exported best (step %s, val MRE %.3f mm) -> %s" % (name, ck["step"], ck["val_mre"], path), flush=True)
    return path
