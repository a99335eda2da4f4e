"""Stage 0 segmenters: profile band (0A) and the four zone contour models (0C)."""
import os
import random
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import common as C
from . import labels as Lb
from .augment import SEGMENTER_INTENSITY, intensity_aug, random_similarity
from .blocks import cbr
from .export import export_onnx, verify_cv2
from .loop import fit
from .runtime import load_checkpoint, model_device
from .tables import ZONE_CLASSES

ZONES = {  # the zone models' files; their classes (output channels) come from tables.def
    "z1": dict(file="z1_cranial_base_contours.onnx", classes=ZONE_CLASSES["z1"], zi=0),
    "z2": dict(file="z2_midface_contours.onnx", classes=ZONE_CLASSES["z2"], zi=1),
    "z3": dict(file="z3_mandible_contours.onnx", classes=ZONE_CLASSES["z3"], zi=2),
    "z4": dict(file="z4_posterior_contours.onnx", classes=ZONE_CLASSES["z4"], zi=3),
}
PROFILE_FILE = "v4_stage0_profile.onnx"
# Channels at 128/64/32/16 px (the U-Net's levels for the profile and the zones alike); a
# narrower network (issue 15: the four zones are most of Stage 0's time) trains with --width.
WIDTH = (16, 32, 64, 128)
LINE_PX_512 = 4  # curve thickness at 512 scale


# ------------------------------------------------------------------ network
class TinyUNet(nn.Module):
    """in (1,1,S,S) -> avg-pool by `down` -> U-Net at S/down -> nearest upsample -> conv -> (1,C,S,S)."""

    def __init__(self, nout, down, ch=(16, 32, 64, 128)):
        super().__init__()
        self.down = down
        self.pool_in = nn.AvgPool2d(down)
        c = ch
        self.e0 = nn.Sequential(cbr(1, c[0]), cbr(c[0], c[0]))
        self.e1 = nn.Sequential(cbr(c[0], c[1]), cbr(c[1], c[1]))
        self.e2 = nn.Sequential(cbr(c[1], c[2]), cbr(c[2], c[2]))
        self.e3 = nn.Sequential(cbr(c[2], c[3]), cbr(c[3], c[3]))
        self.p = nn.MaxPool2d(2)
        self.u = nn.Upsample(scale_factor=2, mode="nearest")
        self.d2 = nn.Sequential(cbr(c[3] + c[2], c[2]), cbr(c[2], c[2]))
        self.d1 = nn.Sequential(cbr(c[2] + c[1], c[1]), cbr(c[1], c[1]))
        self.d0 = nn.Sequential(cbr(c[1] + c[0], c[0]), cbr(c[0], c[0]))
        self.up_out = nn.Upsample(scale_factor=down, mode="nearest")
        self.out = nn.Conv2d(c[0], nout, 3, 1, 1)

    def forward(self, x):
        x = self.pool_in(x)
        x0 = self.e0(x)
        x1 = self.e1(self.p(x0))
        x2 = self.e2(self.p(x1))
        x3 = self.e3(self.p(x2))
        y = self.d2(torch.cat([self.u(x3), x2], 1))
        y = self.d1(torch.cat([self.u(y), x1], 1))
        y = self.d0(torch.cat([self.u(y), x0], 1))
        return self.out(self.up_out(y))


def make_model(kind, width=WIDTH):
    if kind == "profile":
        return TinyUNet(1, 4, tuple(width))
    return TinyUNet(len(ZONES[kind]["classes"]), 2, tuple(width))


def width_of(path):
    """The channels at 128/64/32/16 px of an exported TinyUNet file (the first Conv of each
    encoder level: e0 e0 e1 e1 e2 e2 e3 e3 d2 d2 d1 d1 d0 d0 out)."""
    import onnx
    g = onnx.load(path).graph
    shapes = {t.name: tuple(t.dims) for t in g.initializer}
    out = [shapes[n.input[1]][0] for n in g.node if n.op_type == "Conv"]
    if len(out) != 15:
        raise RuntimeError("%s: %d Conv nodes, a Stage 0 TinyUNet has 15" % (path, len(out)))
    return tuple(out[0:8:2])


# ------------------------------------------------------------------ labels
def curve_points(pts512, cls):
    """Landmark polyline (in 512 px, left-facing) for a contour class, or None if missing."""
    def P(n):
        p = pts512[C.IDX[n]]
        return None if np.any(np.isnan(p)) else p
    if cls == "cranial_base":
        a = P("Ba") if P("Ba") is not None else P("Ar")
        seq = [a, P("S"), P("N")]
    elif cls == "palatal_plane":
        seq = [P("PNS"), P("ANS")]
    elif cls == "upper_incisor_axis":
        seq = [P("U1_root"), P("U1_tip")]
    elif cls == "mandibular_border":
        a = P("Co") if P("Co") is not None else P("Ar")
        seq = [a, P("Go"), P("Me")]
    elif cls == "mandibular_symphysis":
        # B-Pog-Me (Gn left out: with Gn as a vertex the 0D chord window picks Gn instead of
        # Pog; measured Pog error 2.75 mm with Gn vs 0.98 mm without, GT curves, 28 images)
        seq = [P("B"), P("Pog"), P("Me")]
    elif cls == "lower_incisor_axis":
        seq = [P("L1_root"), P("L1_tip")]
    else:
        raise KeyError(cls)
    if any(s is None for s in seq):
        return None
    return np.array(seq, np.float64)


class Case:
    pass


def load_case(i):
    s = Case()
    s.id = i
    g = C.load_grey_mirrored(i)
    s.pts, s.extra = C.load_landmarks(i, grey=g)
    H, W = g.shape
    s.W, s.H = W, H
    s.proc = cv2.resize(g, (512, 512), interpolation=cv2.INTER_LINEAR)
    mf, _, _ = Lb.band_mask_full(g, s.pts, s.extra)
    s.mask = Lb.to512(mf)
    s.p512 = s.pts * np.array([512.0 / W, 512.0 / H])
    r = Lb.phase0b(s.mask)
    s.zones = r["zones"]
    return s


def load_cases(ids):
    t = time.time()
    cs = [load_case(i) for i in ids]
    print("[stage0] loaded %d cases in %.1fs" % (len(cs), time.time() - t), flush=True)
    return cs


def rand_affine(rng, strength=1.0):
    return random_similarity(rng, scale=0.1, degrees=8, shift=0.06, strength=strength)


def grey_aug(x, rng):
    return (intensity_aug(x, rng, **SEGMENTER_INTENSITY) * 255).astype(np.uint8)


def profile_sample(s, rng, train=True):
    img, m = s.proc, s.mask
    if train:
        M = rand_affine(rng)
        bv = float(rng.uniform(0, 50))
        img = cv2.warpAffine(img, M, (512, 512), flags=cv2.INTER_LINEAR, borderValue=bv)
        m = cv2.warpAffine(m, M, (512, 512), flags=cv2.INTER_NEAREST, borderValue=0)
        img = grey_aug(img, rng)
    return img.astype(np.float32)[None] / 255.0, m.astype(np.float32)[None], np.ones(1, np.float32)


def zone_crop(proc, box, zone):
    x1, y1, x2, y2 = box
    crop = proc[y1:y2, x1:x2]
    clip, tile = Lb.ZONE_CLAHE[zone]
    cl = cv2.createCLAHE(clipLimit=clip, tileGridSize=(tile, tile)).apply(np.ascontiguousarray(crop))
    return cv2.resize(cl, (256, 256), interpolation=cv2.INTER_LINEAR)


def zone_sample(s, zone, rng, train=True):
    info = ZONES[zone]
    img = s.proc
    p512 = s.p512.copy()
    box = s.zones[info["zi"]]
    if train:
        if rng.random() < 0.7:
            M = rand_affine(rng, 0.6)
            img = cv2.warpAffine(img, M, (512, 512), flags=cv2.INTER_LINEAR, borderValue=float(rng.uniform(0, 40)))
            p512 = p512 @ M[:, :2].T + M[:, 2]
        img = grey_aug(img, rng)
        if rng.random() < 0.15:
            box = Lb.FALLBACK_ZONES[info["zi"]]
        b = np.array(box, np.float64) + rng.normal(0, 12, 4)
        box = Lb._fix(b)
    x1, y1, x2, y2 = box
    x = zone_crop(img, box, zone).astype(np.float32)[None] / 255.0
    sx, sy = 256.0 / (x2 - x1), 256.0 / (y2 - y1)
    th = max(2, int(round(LINE_PX_512 * (sx + sy) / 2)))
    ys, ms = [], []
    for cls in info["classes"]:
        cp = curve_points(p512, cls)
        t = np.zeros((256, 256), np.uint8)
        if cp is None:
            ms.append(0.0)
        else:
            q = (cp - [x1, y1]) * [sx, sy]
            cv2.polylines(t, [np.round(q * 4).astype(np.int32)], False, 1, th, lineType=cv2.LINE_8, shift=2)
            ms.append(1.0)
        ys.append(t.astype(np.float32))
    return x, np.stack(ys), np.array(ms, np.float32)


def seg_loss(logit, y, m):
    pw = 10.0 if logit.shape[1] > 0 else 1.0
    bce = F.binary_cross_entropy_with_logits(logit, y, reduction="none", pos_weight=torch.tensor(pw)).mean(dim=(2, 3))
    p = torch.sigmoid(logit)
    inter = (p * y).sum(dim=(2, 3)); den = p.sum(dim=(2, 3)) + y.sum(dim=(2, 3))
    dice = 1 - (2 * inter + 1) / (den + 1)
    l = (bce + dice) * m
    return l.sum() / m.sum().clamp(min=1)


def evaluate(model, cases, kind):
    """Mean per-class Dice (thresholded) on validation cases with their GT-derived zone boxes."""
    model.eval()
    d = []
    with torch.no_grad():
        for s in cases:
            x, y, m = profile_sample(s, None, False) if kind == "profile" else zone_sample(s, kind, None, False)
            p = (model(torch.from_numpy(x[None]).to(model_device(model)))[0].cpu().numpy() > 0)
            for c in range(y.shape[0]):
                if m[c] > 0:
                    inter = (p[c] & (y[c] > 0)).sum(); den = p[c].sum() + (y[c] > 0).sum()
                    d.append(2 * inter / max(den, 1))
    model.train()
    return float(np.mean(d))


_CACHE = {}


def get_cases(smoke):
    key = "smoke" if smoke else "full"
    if key not in _CACHE:
        if smoke:
            _CACHE[key] = (load_cases([1, 2]), load_cases([141]))
        else:
            _CACHE[key] = (load_cases(C.TRAIN_IDS), load_cases(C.VAL_IDS))
    return _CACHE[key]


def train(kind, runs, out_models, minutes=6.0, bs=8, lr=2e-3, smoke=False, resume=True, seed=0,
          device="cpu", width=WIDTH):
    """width: the channels at 128/64/32/16 px; a run resumes only at the widths it began with."""
    torch.manual_seed(seed); np.random.seed(seed); random.seed(seed)
    os.makedirs(runs, exist_ok=True)
    ck_last = os.path.join(runs, "stage0_%s_last.pt" % kind)
    ck_best = os.path.join(runs, "stage0_%s_best.pt" % kind)
    ck = load_checkpoint(ck_last) if resume and not smoke and os.path.exists(ck_last) else None
    if ck and tuple(ck["state"].get("width", WIDTH)) != tuple(width):
        raise SystemExit("[stage0 %s] %s was trained at widths %s, not %s: another --runs folder, or --no-resume" % (
            kind, ck_last, ",".join(map(str, ck["state"].get("width", WIDTH))), ",".join(map(str, width))))
    tr, va = get_cases(smoke)
    model = make_model(kind, width).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    st = {"elapsed": 0.0, "epoch": 0, "step": 0, "best": -1.0, "done": False, "width": list(width)}
    if ck:
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); st.update(ck["state"])
        st["done"] = st["elapsed"] >= minutes * 60  # a larger --*-minutes extends a finished run
        print("[stage0 %s] resumed epoch %d (%.1f min)" % (kind, st["epoch"], st["elapsed"] / 60), flush=True)
    print("[stage0 %s] width %s, params %.3fM" % (kind, tuple(width), sum(p.numel() for p in model.parameters()) / 1e6), flush=True)
    rng = np.random.default_rng(seed + 1000 + st["epoch"])
    fn = (lambda s: profile_sample(s, rng)) if kind == "profile" else (lambda s: zone_sample(s, kind, rng))

    def batches():
        """(samples, last batch of the epoch?): epochs over the cases in a fresh random order."""
        while True:
            order = rng.permutation(len(tr))
            for b0 in range(0, len(order), bs):
                yield [fn(tr[j]) for j in order[b0:b0 + bs]], b0 + bs >= len(order)

    stream = batches()
    epoch_end = False

    def batch_loss():
        nonlocal epoch_end
        b, epoch_end = next(stream)
        x, y, m = (torch.from_numpy(np.stack([v[k] for v in b])).to(device) for k in range(3))
        return seg_loss(model(x), y, m)

    def validate(done, loss, _lr):
        st["done"] = done
        st["epoch"] += 1
        dv = evaluate(model, va, kind)
        print("[stage0 %s] ep %d loss %.4f val dice %.3f elapsed %.1f/%.0f min" %
              (kind, st["epoch"], loss, dv, st["elapsed"] / 60, minutes), flush=True)
        if dv > st["best"] or smoke:
            st["best"] = dv
            torch.save({"model": model.state_dict(), "dice": dv, "epoch": st["epoch"], "width": list(width)}, ck_best)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": st}, ck_last)

    if not st["done"]:
        # an epoch ends with a validation; the smoke run makes one step
        fit(opt, st, minutes * 60, batch_loss, validate, lr, max_steps=1 if smoke else None,
            validate_now=lambda done: done or epoch_end)
    export_best(kind, runs, out_models, va[0])


def export_best(kind, runs, out_models, case=None):
    ck = load_checkpoint(os.path.join(runs, "stage0_%s_best.pt" % kind))
    model = make_model(kind, ck.get("width", WIDTH)); model.load_state_dict(ck["model"]); model.eval()
    if case is None:
        case = load_case(C.VAL_IDS[0])
    if kind == "profile":
        x = profile_sample(case, None, False)[0]
        path = os.path.join(out_models, "stage0", PROFILE_FILE)
    else:
        x = zone_sample(case, kind, None, False)[0]
        path = os.path.join(out_models, "stage0", ZONES[kind]["file"])
    ex = torch.from_numpy(x[None])
    export_onnx(model, ex, path)
    verify_cv2(model, ex, path)
    print("[stage0 %s] exported best (epoch %d, val dice %.3f, width %s) -> %s" % (
        kind, ck["epoch"], ck["dice"], ",".join(map(str, ck.get("width", WIDTH))), path), flush=True)
