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
The grid's constants come from include/cephtrace/tables.def, which the engine compiles in.
"""
import os
import random
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import common as C
from . import loader as L
from . import pack as P
from .augment import intensity_aug
from .blocks import Basic, cbr
from .export import export_onnx, freeze_batchnorm, init_from_onnx, verify_cv2
from .grid import resample, to_grid
from .loop import fit
from .runtime import load_checkpoint, model_device
from .tables import CONSTANTS

PATCH = CONSTANTS["kRefinePatch"]
STRIDE = CONSTANTS["kRefineStride"]
ZSCORE_EPSILON = CONSTANTS["kRefineZscoreEpsilon"]
HM = PATCH // STRIDE
SIGMA = 2.0            # target σ in heatmap cells (0.84 mm on ISBI)
NLM = len(C.CANONICAL_25)


def zscore(p):
    p = p.astype(np.float32)
    return (p - p.mean()) / (p.std() + ZSCORE_EPSILON)


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
# Channels at 128, 64, 32, 16 and 8 px: the members' and the extended model's. Stage 2 could
# use a student at a third of the compute, (8, 16, 32, 64, 64): 25 patches in 144
# against 372 ms in cv2.dnn on 2 cores (tools/refine_width_speed.py; training/README.md, session 18).
WIDTH = (16, 32, 64, 96, 96)


class RefineNet(nn.Module):
    """Small U-Net: 128 -> 8 for context (a 64-px receptive field ring), back up to 64."""

    def __init__(self, w=WIDTH, nout=NLM):
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
        if P.PACK:
            c.img, pts, W, H = P.case(i)
        else:
            g = C.load_grey_mirrored(i)
            pts, _ = C.load_landmarks(i, grey=g)
            H, W = g.shape
            c.img = resample(g)
        gh, gw = c.img.shape
        c.W, c.H = W, H
        c.pts = pts
        c.gpts = to_grid(pts, W, H, gw, gh)   # NaN stays NaN
        cases.append(c)
    if verbose:
        print("[refine] loaded %d cases in %.1fs%s" % (len(cases), time.time() - t,
                                                       " from " + P.PACK if P.PACK else ""), flush=True)
    return cases


def target_on(xy_hm, present):
    """Landmarks whose target Gaussian is drawn: present and within 3σ of the heatmap."""
    lo, hi = -3 * SIGMA, HM + 3 * SIGMA
    with np.errstate(invalid="ignore"):
        return present & (xy_hm[:, 0] > lo) & (xy_hm[:, 0] < hi) & (xy_hm[:, 1] > lo) & (xy_hm[:, 1] < hi)


def render_target(xy_hm, present):
    g = np.arange(HM, dtype=np.float32)
    t = np.zeros((NLM, HM, HM), np.float32)
    s2 = 2 * SIGMA ** 2
    for k in np.flatnonzero(target_on(xy_hm, present)):
        cx, cy = xy_hm[k]
        t[k] = np.exp(-((g - cy) ** 2) / s2)[:, None] * np.exp(-((g - cx) ** 2) / s2)[None, :]
    return t


def sample_offset(rng):
    """Offset of the patch centre from the truth (grid px), like Stage 1's errors with a tail."""
    sd = 8.0 if rng.random() < 0.6 else 20.0
    return np.clip(rng.normal(0, sd, 2), -52, 52)


def make_train_patch(c, k, rng, strong=False):
    """A training patch for landmark k. strong: also shear and unequal axis scales, wider
    rotations, and boxes blanked out away from landmark k (more variety from 140 images:
    the standard recipe's validation error turns up after ~70k patches)."""
    gt = c.gpts[k]
    centre = gt + sample_offset(rng)
    s = rng.uniform(0.85, 1.18); ang = rng.uniform(-12, 12) if strong else rng.uniform(-8, 8)
    # image -> patch (patch = M·img): rotate/scale about the centre, which lands on PATCH/2
    M = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), ang, s)
    if strong:
        A = np.array([[rng.uniform(0.92, 1.08), rng.uniform(-0.1, 0.1)], [0.0, rng.uniform(0.92, 1.08)]])
        M[:, :2] = M[:, :2] @ A
        M[:, 2] = centre - M[:, :2] @ centre
    M[:, 2] += PATCH // 2 - centre
    bv = float(rng.uniform(0, 40))
    p = cv2.warpAffine(c.img, M, (PATCH, PATCH), flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=bv)
    pts = c.gpts @ M[:, :2].T + M[:, 2]
    if strong and rng.random() < 0.5:
        for _ in range(rng.integers(1, 4)):
            w, h = rng.integers(8, 40, 2)
            x0, y0 = rng.integers(0, PATCH - w), rng.integers(0, PATCH - h)
            if x0 - 6 <= pts[k, 0] <= x0 + w + 6 and y0 - 6 <= pts[k, 1] <= y0 + h + 6:
                continue  # never hide the landmark this patch is for
            p[y0:y0 + h, x0:x0 + w] = rng.integers(0, 256)
    x = intensity_aug(p[..., None].repeat(3, 2), rng)[..., 0]
    if rng.random() < 0.2:  # a coarser detector / different machine
        f = rng.uniform(0.4, 0.8)
        small = cv2.resize(x, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        x = cv2.resize(small, (PATCH, PATCH), interpolation=cv2.INTER_LINEAR)
    present = ~np.isnan(pts[:, 0])
    hm = (np.nan_to_num(pts) + 0.5) / STRIDE - 0.5
    # positions, not maps: to_network draws the target Gaussians on the training device
    return zscore(x)[None], hm.astype(np.float32), target_on(hm, present), present


def to_network(x, hm_xy, on, present):
    """A batch of make_train_patch outputs -> (input, target (B,25,64,64), mask); the target is
    render_target's (checked in the smoke run)."""
    return x, L.gaussians(hm_xy, on, SIGMA, HM), present.float()


class _PatchSamples:
    """Sample n of the training stream: a random case, a random labelled landmark of it."""

    def __init__(self, cases, strong=False):
        self.cases, self.strong = cases, strong

    def __call__(self, n, rng):
        c = self.cases[rng.integers(len(self.cases))]
        present = np.flatnonzero(~np.isnan(c.gpts[:, 0]))
        return make_train_patch(c, int(rng.choice(present)), rng, self.strong)


def engine_patch(img, centre):
    """Exactly what the C++ engine feeds the model, plus the patch origin."""
    p, x0, y0 = crop_integer(img, centre[0], centre[1])
    return zscore(p.astype(np.float32) / 255.0)[None], x0, y0


def hm_loss(pred, tgt, mask):
    w = 1.0 + 9.0 * (tgt > 0.01).float()
    l = (w * (pred - tgt) ** 2).mean(dim=(2, 3))
    return (l * mask).sum() / mask.sum().clamp(min=1) * 100.0


def distillation_loss(pred, x, tgt, mask, teachers, teacher_weight):
    """hm_loss on the labels' Gaussians, or, with teachers (frozen networks of the same grid),
    (1 - teacher_weight) x that + teacher_weight x hm_loss on the teachers' mean heatmaps of
    the same patches, every channel."""
    if not teachers:
        return hm_loss(pred, tgt, mask)
    with torch.no_grad():
        t = sum(net(x) for net in teachers) / len(teachers)
    return (1 - teacher_weight) * hm_loss(pred, tgt, mask) + teacher_weight * hm_loss(pred, t, torch.ones_like(mask))


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


def refine_points(model, c, start_grid, peaks=None):
    """start_grid (25,2) grid coords -> refined grid coords (one pass, engine-exact crops);
    `peaks` (list) receives the heatmap peaks."""
    xs, origins = [], []
    for k in range(NLM):
        p, x0, y0 = engine_patch(c.img, start_grid[k])
        xs.append(p); origins.append((x0, y0))
    with torch.no_grad():
        out = model(torch.from_numpy(np.stack(xs)).to(model_device(model))).cpu().numpy()
    res = np.zeros((NLM, 2))
    for k in range(NLM):
        u, v, peak = decode(out[k, k])
        res[k] = (origins[k][0] + STRIDE * u + 0.5, origins[k][1] + STRIDE * v + 0.5)
        if peaks is not None:
            peaks.append(peak)
    return res


def evaluate(model, cases, seed=7, sd_mm=2.0):
    """Val MRE (mm, original px × 0.1) after refining from the truth + N(0, sd_mm) per axis."""
    model.eval()
    rng = np.random.default_rng(seed)
    before, after = [], []
    for c in cases:
        gw, gh = c.img.shape[1], c.img.shape[0]
        scale = gw / c.W  # grid px per original px
        start = np.nan_to_num(c.gpts) + rng.normal(0, sd_mm / C.MM_PER_PX * scale, (NLM, 2))
        ref = refine_points(model, c, start)
        for k in range(NLM):
            if not np.isnan(c.gpts[k, 0]):
                before.append(np.hypot(*(start[k] - c.gpts[k])) / scale * C.MM_PER_PX)
                after.append(np.hypot(*(ref[k] - c.gpts[k])) / scale * C.MM_PER_PX)
    model.train()
    return float(np.mean(after)), float(np.mean(before))


# ------------------------------------------------------------------ train
def member_files(member):
    """Checkpoint stem and ONNX file of ensemble member `member` (1: refine.onnx, n: refine_n.onnx;
    the engine averages all members' positions in each pass)."""
    if member == 1:
        return "refine", "refine.onnx"
    return "refine%d" % member, "refine_%d.onnx" % member


def train(runs, out_models, minutes=60.0, bs=24, lr=2e-3, resume=True, smoke=False, seed=0,
          export_every_min=15.0, device="cpu", workers=0, eval_every_s=240.0, strong=False, member=1,
          train_ids=None, val_ids=None, init=None, teachers=None, teacher_weight=0.5, width=WIDTH):
    """eval_every_s: seconds of training between validations (and best-checkpoint saves).
    member: which ensemble member this run trains (its own checkpoints and ONNX file).
    train_ids / val_ids: image ids (default 1-140 / 141-150). init: an exported refine ONNX
    file to start from (fine-tuning; its BatchNorms stay frozen).
    teachers: exported refine ONNX files (the ensemble members) to distil into this one
    network: its target is (1 - teacher_weight) x the labels' Gaussians + teacher_weight x the
    members' mean heatmaps on the same patch, every channel (issue 15: one member instead
    of two halves Stage 2's time). width: RefineNet's channels (WIDTH, or a narrower student's,
    which starts from scratch: init must be None)."""
    torch.manual_seed(seed); np.random.seed(seed); random.seed(seed)
    device = torch.device(device)
    os.makedirs(runs, exist_ok=True)
    stem, _ = member_files(member)
    ck_last = os.path.join(runs, stem + "_last.pt")
    ck_best = os.path.join(runs, stem + "_best.pt")
    model = RefineNet(width).to(device)
    print("[refine] width %s, params %.3fM" % (tuple(width), sum(p.numel() for p in model.parameters()) / 1e6), flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    st = {"elapsed": 0.0, "step": 0, "samples": 0, "best": 1e9, "last_export": 0.0, "last_eval": 0.0,
          "init": init, "width": list(width)}
    if init:
        print("[refine] starting from %s (%d Conv layers)" % (init, init_from_onnx(model, init, torch.zeros(2, 1, PATCH, PATCH))), flush=True)
    if resume and os.path.exists(ck_last) and not smoke:
        ck = load_checkpoint(ck_last)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); st.update(ck["state"])
        st.setdefault("samples", st["step"] * bs)
        if st.get("init"):
            freeze_batchnorm(model)
        print("[refine] resumed at step %d, %.1f min, best %.3f mm" % (st["step"], st["elapsed"] / 60, st["best"]), flush=True)
    teacher_nets = [load_exported(t, device) for t in teachers or []]
    tr = load_cases([1, 2] if smoke else train_ids or C.TRAIN_IDS)
    va = load_cases([141] if smoke else val_ids or C.VAL_IDS)
    stream = L.batches(_PatchSamples(tr, strong), seed, st["samples"], bs, workers, device)
    eval_every = 0.0 if smoke else eval_every_s
    if init and st["step"] == 0 and not smoke:
        # A fine-tune must beat where it starts: the starting weights are the first best.
        st["best"], mre0 = evaluate(model, va)
        torch.save({"model": model.state_dict(), "val_mre": st["best"], "step": 0, "width": list(width)}, ck_best)
        print("[refine] starting weights: val MRE %.3f mm (from %.3f)" % (st["best"], mre0), flush=True)
    model.train()

    def batch_loss():
        x, y, m = to_network(*next(stream))
        st["samples"] += len(x)
        return distillation_loss(model(x), x, y, m, teacher_nets, teacher_weight)

    def validate(done, loss, cur):
        st["last_eval"] = st["elapsed"]
        mre, mre0 = evaluate(model, va)
        print(time.strftime("%H:%M:%S ") + "[refine] step %d loss %.4f lr %.2e elapsed %.1f/%.0f min | val MRE %.3f mm (from %.3f) best %.3f" %
              (st["step"], loss, cur, st["elapsed"] / 60, minutes, mre, mre0, min(mre, st["best"])), flush=True)
        if mre < st["best"] or smoke:
            st["best"] = mre
            torch.save({"model": model.state_dict(), "val_mre": mre, "step": st["step"], "width": list(width)}, ck_best)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": st}, ck_last)
        if done or st["elapsed"] - st["last_export"] >= export_every_min * 60:
            st["last_export"] = st["elapsed"]
            try:
                export_best(runs, out_models, va[0], member)
            except Exception as e:  # never kill training because of an export problem
                print("[refine] export failed: %r" % (e,), flush=True)

    fit(opt, st, minutes * 60.0, batch_loss, validate, lr, warmup_steps=100,
        max_steps=3 if smoke else None,
        validate_now=lambda done: done or st["elapsed"] - st["last_eval"] >= eval_every)
    if smoke:
        check_device_targets(tr[0])
    return st


def conv_channels(path):
    """The output channels of an exported RefineNet file's Conv nodes in graph order: e0 2,
    e1 3, e2 3, e3 3, e4 5, d3, d2, d1 2, out (Stage 2's 25 heatmaps, the extended model's 14)."""
    import onnx
    g = onnx.load(path).graph
    shapes = {t.name: tuple(t.dims) for t in g.initializer}
    out = [shapes[n.input[1]][0] for n in g.node if n.op_type == "Conv"]
    if len(out) != 21:
        raise RuntimeError("%s: %d Conv nodes, a RefineNet has 21" % (path, len(out)))
    return out


def width_of(path):
    """The channel widths of an exported RefineNet file."""
    c = conv_channels(path)
    return c[0], c[2], c[5], c[8], c[11]


def checkpoint_width(ck):
    """The widths a checkpoint's network was built with (older checkpoints: WIDTH)."""
    return tuple(ck.get("width") or ck.get("state", {}).get("width") or WIDTH)


def load_exported(path, device="cpu"):
    """An exported refine file as a frozen PyTorch network (a distillation teacher, a replay)."""
    net = RefineNet(width_of(path), nout=conv_channels(path)[-1])
    init_from_onnx(net, path, torch.zeros(2, 1, PATCH, PATCH))
    for p in net.parameters():
        p.requires_grad_(False)
    print("[refine] loaded %s" % path, flush=True)
    return net.to(device).eval()


def check_device_targets(case):
    """The device-drawn targets equal render_target (smoke run check)."""
    rng = np.random.default_rng(5)
    for k in np.flatnonzero(~np.isnan(case.gpts[:, 0]))[:8]:
        x, hm, on, present = make_train_patch(case, int(k), rng, strong=bool(k % 2))
        _, tgt, _ = to_network(*(torch.from_numpy(np.asarray(v))[None] for v in (x, hm, on, present)))
        err = float(np.abs(tgt[0].numpy() - render_target(hm, present)).max())
        if err > 1e-5:
            raise SystemExit("[refine] device-drawn targets differ from render_target by %.2e" % err)
    print("[refine] device-drawn targets match render_target (8 patches)", flush=True)


def export_best(runs, out_models, case=None, member=1, checkpoint="best"):
    """Exports a checkpoint: "best" (lowest validation MRE during training) or "last" (the end
    of the schedule: fine-tunes, whose starting weights were themselves the best of many
    validations on the same 10 images, so that any change looks worse there)."""
    stem, onnx_name = member_files(member)
    ck = load_checkpoint(os.path.join(runs, "%s_%s.pt" % (stem, checkpoint)))
    step = ck["step"] if "step" in ck else ck["state"]["step"]
    model = RefineNet(checkpoint_width(ck))
    model.load_state_dict(ck["model"]); model.eval()
    if case is None:
        case = load_cases([141], verbose=False)[0]
    xs = [engine_patch(case.img, np.nan_to_num(case.gpts[k]))[0] for k in range(NLM)]
    ex = torch.from_numpy(np.stack(xs).astype(np.float32))
    path = os.path.join(out_models, "stage2", onnx_name)
    export_onnx(model, ex, path)
    verify_cv2(model, ex, path)
    print("[refine] exported %s (step %s) -> %s" % (checkpoint, step, path), flush=True)
    return path
