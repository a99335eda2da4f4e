"""Stage 1: small HRNet-like heatmap network, (1,28,512,512) -> (1,25,256,256)."""
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
from .augment import device_appearance, intensity_aug, random_similarity
from .blocks import Basic, cbr
from .export import export_onnx, freeze_batchnorm, init_from_onnx, verify_cv2
from .loop import fit
from .runtime import load_checkpoint, model_device

TARGET_SIGMA = 5.0  # px on the 256 grid (2.5 converged too slowly on 2 shared cores)


# ------------------------------------------------------------------ network
class HRModule(nn.Module):
    """HRNet module: parallel branches of basic blocks + full exchange fusion. With
    multi_scale_output=False only the highest-resolution output is fused (HRNet's last
    module in its "branch" head; tools/make_benchmark_models.py uses it)."""

    def __init__(self, widths, nblocks=2, multi_scale_output=True):
        super().__init__()
        self.n = len(widths)
        self.n_out = self.n if multi_scale_output else 1
        self.branches = nn.ModuleList([nn.Sequential(*[Basic(w) for _ in range(nblocks)]) for w in widths])
        self.fuse = nn.ModuleList()
        for i in range(self.n_out):
            row = nn.ModuleList()
            for j in range(self.n):
                if j == i:
                    row.append(nn.Identity())
                elif j > i:  # lower resolution -> upsample
                    row.append(nn.Sequential(nn.Conv2d(widths[j], widths[i], 1, bias=False),
                                             nn.BatchNorm2d(widths[i]),
                                             nn.Upsample(scale_factor=2 ** (j - i), mode="nearest")))
                else:  # higher resolution -> strided convs
                    ops = []
                    for k in range(i - j):
                        last = k == i - j - 1
                        o = widths[i] if last else widths[j]
                        ops += [nn.Conv2d(widths[j], o, 3, 2, 1, bias=False), nn.BatchNorm2d(o)]
                        if not last:
                            ops.append(nn.ReLU(inplace=True))
                    row.append(nn.Sequential(*ops))
            self.fuse.append(row)

    def forward(self, xs):
        xs = [b(x) for b, x in zip(self.branches, xs)]
        out = []
        for i in range(self.n_out):
            y = xs[i]
            for j in range(self.n):
                if j != i:
                    y = y + self.fuse[i][j](xs[j])
            out.append(F.relu(y))
        return out


class Stage1Net(nn.Module):
    def __init__(self, w=24, nout=25):
        super().__init__()
        W = [w, 2 * w, 4 * w, 8 * w]
        self.pool = nn.AvgPool2d(2)                          # 512 -> 256
        self.stem1 = cbr(28, 32, 3, 2)                       # 256 -> 128
        self.stem2 = cbr(32, 48, 3, 2)                       # 128 -> 64
        self.layer1 = Basic(48)
        self.t1 = nn.ModuleList([cbr(48, W[0]), cbr(48, W[1], 3, 2)])
        self.s2 = HRModule(W[:2])
        self.t2 = cbr(W[1], W[2], 3, 2)
        self.s3 = nn.Sequential(HRModule(W[:3]), HRModule(W[:3]))
        self.t3 = cbr(W[2], W[3], 3, 2)
        self.s4 = HRModule(W[:4])
        cat = sum(W)
        self.head64 = cbr(cat, 48, 1)
        self.up1 = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), cbr(48, 32))
        self.skip128 = cbr(32, 16, 1)
        self.mix128 = cbr(48, 24)
        self.up2 = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), cbr(24, 16))
        self.out = nn.Conv2d(16, nout, 1)

    def forward(self, x):
        x = self.pool(x)
        f128 = self.stem1(x)
        x = self.layer1(self.stem2(f128))
        xs = [self.t1[0](x), self.t1[1](x)]
        xs = self.s2(xs)
        xs = xs + [self.t2(xs[-1])]
        xs = self.s3(xs)
        xs = xs + [self.t3(xs[-1])]
        xs = self.s4(xs)
        ups = [xs[0]] + [F.interpolate(xs[k], scale_factor=2 ** k, mode="nearest") for k in range(1, 4)]
        y = self.head64(torch.cat(ups, 1))
        y = self.up1(y)                                      # 128
        y = self.mix128(torch.cat([y, self.skip128(f128)], 1))
        y = self.up2(y)                                      # 256
        return self.out(y)


# ------------------------------------------------------------------ data
class Sample:
    pass


def load_cases(ids, verbose=True):
    from PIL import Image
    cases = []
    t = time.time()
    for i in ids:
        s = Sample()
        s.id = i
        if P.PACK:
            grid, s.pts, s.W, s.H = P.case(i)
            rgb = Image.fromarray(grid).convert("RGB")
        else:
            g = C.load_grey_mirrored(i)
            s.pts, _ = C.load_landmarks(i, grey=g)
            s.H, s.W = g.shape
            rgb = C.load_rgb_mirrored(i)
        s.img = np.asarray(rgb.resize((512, 512), Image.BILINEAR), np.uint8)  # (512,512,3)
        cases.append(s)
    if verbose:
        print("[stage1] loaded %d cases in %.1fs%s" % (len(cases), time.time() - t,
                                                       " from " + P.PACK if P.PACK else ""), flush=True)
    return cases


def prior_points(norm, present, rng, train=True, noise=0.5):
    """Realistic Stage-0-like prior positions from GT: jitter, dropout, degraded (all-zero) mode.
    Returns (normalised (25,2), on (25,) bool)."""
    if train and rng.random() < 0.15:
        return np.zeros((25, 2)), np.zeros(25, bool)
    p = norm.copy()
    pres = present.copy()
    if train:
        f = rng.uniform(0.3, 1.0, 25)
        shared = rng.normal(0, 2.0, 2)
    else:
        f = np.full(25, noise)
        shared = np.zeros(2)
    jit = rng.normal(0, 1, (25, 2)) * (C.SIGMA25 * f)[:, None] + shared[None]
    p = p + jit / 256.0
    if train:
        pres &= rng.random(25) > 0.15
    return p, pres


def make_priors(norm, present, rng, train=True, noise=0.5):
    """(25,512,512) prior channels as the engine renders them, from prior_points."""
    p, pres = prior_points(norm, present, rng, train=train, noise=noise)
    return C.upsample_priors(C.render_priors256(p, pres))


def make_target(norm, present):
    g = np.arange(256, dtype=np.float32)
    t = np.zeros((25, 256, 256), np.float32)
    s2 = 2 * TARGET_SIGMA ** 2
    for k in range(25):
        if present[k]:
            cx, cy = 256 * norm[k, 0], 256 * norm[k, 1]
            t[k] = np.exp(-((g - cy) ** 2) / s2)[:, None] * np.exp(-((g - cx) ** 2) / s2)[None, :]
    return t


def augment_sample(s, rng, train=True, device_shift=False):
    """device_shift: also the appearance of other devices (augment.device_appearance)."""
    pts = s.pts
    present = ~np.isnan(pts[:, 0])
    p512 = np.where(present[:, None], pts / np.array([s.W, s.H]) * 512.0, 0.0)
    img = s.img
    if train:
        M = random_similarity(rng, scale=0.15, degrees=10, shift=0.08)
        bv = float(rng.uniform(0, 60))
        img = cv2.warpAffine(img, M, (512, 512), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=(bv, bv, bv))
        p512 = p512 @ M[:, :2].T + M[:, 2]
        if device_shift:
            img = device_appearance(img, p512[present], rng)
        x = intensity_aug(img, rng)
        if rng.random() < 0.15:  # cut-off top of the skull / other borders
            side = rng.integers(0, 3)
            cut = int(rng.uniform(0.05, 0.25) * 512)
            if side == 0:
                x[:cut] = bv / 255.0; present &= p512[:, 1] >= cut
            elif side == 1:
                x[:, 512 - cut:] = bv / 255.0; present &= p512[:, 0] < 512 - cut
            else:
                x[512 - cut:] = bv / 255.0; present &= p512[:, 1] < 512 - cut
    else:
        x = img.astype(np.float32) / 255.0
    present &= (p512[:, 0] >= 0) & (p512[:, 0] < 512) & (p512[:, 1] >= 0) & (p512[:, 1] < 512)
    norm = p512 / 512.0
    pri, pri_on = prior_points(norm, present, rng, train=train)
    # positions, not maps: to_network draws the Gaussians on the training device
    return (np.ascontiguousarray(np.transpose(x, (2, 0, 1)), np.float32), (256.0 * pri).astype(np.float32),
            pri_on, (256.0 * norm).astype(np.float32), present)


_SIGMA25_T = torch.from_numpy(C.SIGMA25)


def to_network(x, pri_xy, pri_on, tgt_xy, present):
    """A batch of augment_sample outputs -> (input (B,28,512,512), target (B,25,256,256), mask),
    the same maps as make_priors / make_target (checked in the smoke run)."""
    pri = L.upsample2(L.gaussians(pri_xy, pri_on, _SIGMA25_T, 256))
    tgt = L.gaussians(tgt_xy, present, TARGET_SIGMA, 256)
    return torch.cat([x, pri], 1), tgt, present.float()


def hm_loss(pred, tgt, mask):
    w = 1.0 + 9.0 * (tgt > 0.01).float()
    l = (w * (pred - tgt) ** 2).mean(dim=(2, 3))              # (B,25)
    return (l * mask).sum() / mask.sum().clamp(min=1) * 100.0


# ------------------------------------------------------------------ eval
def evaluate(model, cases, noise=0.5, zero_priors=False, seed=123):
    model.eval()
    rng = np.random.default_rng(seed)
    errs = []
    per = [[] for _ in range(25)]
    with torch.no_grad():
        for s in cases:
            present = ~np.isnan(s.pts[:, 0])
            norm = np.where(present[:, None], s.pts / np.array([s.W, s.H]), 0.0)
            if zero_priors:
                pri = np.zeros((25, 512, 512), np.float32)
            else:
                pri = make_priors(norm, present, rng, train=False, noise=noise)
            x = np.concatenate([np.transpose(s.img.astype(np.float32) / 255.0, (2, 0, 1)), pri], 0)
            hm = model(torch.from_numpy(x[None]).float().to(model_device(model)))[0].cpu().numpy()
            hc = C.decode_dark_lite(hm)
            pr = hc / 256.0 * np.array([s.W, s.H])
            for k in range(25):
                if present[k]:
                    e = float(np.hypot(*(pr[k] - s.pts[k]))) * C.MM_PER_PX
                    errs.append(e); per[k].append(e)
    model.train()
    return float(np.mean(errs)), [float(np.mean(p)) if p else float("nan") for p in per]


# ------------------------------------------------------------------ train
EMA_DECAY = 0.998  # ~500 steps (~14 epochs): batches of 4 make single-epoch weights jumpy


@torch.no_grad()
def ema_update(ema, model, decay=EMA_DECAY):
    """Exponential moving average of all weights and BatchNorm statistics; the EMA model is
    what is evaluated, selected and exported (val MRE swung ±0.1 mm between epochs without)."""
    for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
        if e.dtype.is_floating_point:
            e.mul_(decay).add_(m, alpha=1 - decay)
        else:
            e.copy_(m)


class _EpochSamples:
    """Sample n of the training stream: epoch n // N visits the N cases in a fixed shuffle."""

    def __init__(self, cases, seed, device_shift=False):
        self.cases, self.seed, self.device_shift = cases, seed, device_shift

    def __call__(self, n, rng):
        e, p = divmod(n, len(self.cases))
        j = np.random.default_rng((self.seed, e)).permutation(len(self.cases))[p]
        return augment_sample(self.cases[j], rng, device_shift=self.device_shift)


def train(runs, out_models, minutes=90.0, bs=4, lr=1e-3, width=24, resume=True, smoke=False,
          export_every_min=20.0, seed=0, deadline=None, device="cpu", workers=0, eval_every_s=0.0,
          augment="standard", train_ids=None, val_ids=None, init=None):
    """deadline: optional wall-clock epoch seconds; training (and the cosine schedule) ends by then.
    augment "device": also other devices' appearance (wedge filters, inverted LUTs, burned-in text).
    Validation runs at the end of an epoch once eval_every_s seconds have passed since the last
    (0: every epoch; a GPU runs an epoch in a second or two). train_ids / val_ids: image ids
    (default 1-140 / 141-150). init: an exported Stage 1 ONNX file to start from (fine-tuning;
    its BatchNorms stay frozen)."""
    torch.manual_seed(seed); np.random.seed(seed); random.seed(seed)
    device = torch.device(device)
    os.makedirs(runs, exist_ok=True)
    ck_last = os.path.join(runs, "stage1_last.pt")
    ck_best = os.path.join(runs, "stage1_best.pt")
    model = Stage1Net(width).to(device)
    print("[stage1] params %.2fM" % (sum(p.numel() for p in model.parameters()) / 1e6), flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    st = {"elapsed": 0.0, "epoch": 0, "step": 0, "samples": 0, "best": 1e9, "last_export": -1e9,
          "minutes": minutes, "init": init}
    if init:
        n = init_from_onnx(model, init, torch.zeros(1, 28, 512, 512))
        print("[stage1] starting from %s (%d Conv layers)" % (init, n), flush=True)
    ema = Stage1Net(width).to(device)
    ema.load_state_dict(model.state_dict())
    if init:
        freeze_batchnorm(ema)
    if smoke:
        tr = load_cases([1, 2]); va = load_cases([141])
    else:
        tr = load_cases(train_ids or C.TRAIN_IDS); va = load_cases(val_ids or C.VAL_IDS)
    if resume and os.path.exists(ck_last) and not smoke:
        ck = load_checkpoint(ck_last)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); st.update(ck["state"])
        # checkpoints from before the EMA start it from the current weights
        ema.load_state_dict(ck.get("ema", ck["model"]))
        if st.get("init"):
            freeze_batchnorm(model); freeze_batchnorm(ema)
        if "samples" not in ck["state"]:  # checkpoints from before the sample stream
            st["samples"] = st["epoch"] * len(tr)
        st["minutes"] = minutes
        print("[stage1] resumed at epoch %d, %.1f min elapsed, best %.3f mm" %
              (st["epoch"], st["elapsed"] / 60, st["best"]), flush=True)
    stream = L.batches(_EpochSamples(tr, seed, device_shift=augment == "device"), seed, st["samples"], bs, workers, device)
    model.train()
    t_eval = time.time()
    epoch_end = False

    def batch_loss():
        x, y, m = to_network(*next(stream))
        st["samples"] += len(x)
        return hm_loss(model(x), y, m)

    def after_step():
        nonlocal epoch_end
        ema_update(ema, model)
        epoch_end = st["samples"] // len(tr) > st["epoch"]
        st["epoch"] = st["samples"] // len(tr)

    def validate(done, loss, cur):
        nonlocal t_eval
        n_eval = st.get("evals", 0) + 1
        st["evals"] = n_eval
        mre, per = evaluate(ema, va, noise=0.5)
        mre0, _ = evaluate(ema, va, zero_priors=True) if (n_eval % 5 == 0 or done or smoke) else (float("nan"), None)
        print(time.strftime("%H:%M:%S ") + "[stage1] ep %d step %d loss %.4f lr %.2e %.0fs elapsed %.1f/%.0f min | val MRE %.3f mm (zero-prior %.3f) best %.3f" %
              (st["epoch"], st["step"], loss, cur, time.time() - t_eval, st["elapsed"] / 60,
               minutes, mre, mre0, min(st["best"], mre)), flush=True)
        if mre < st["best"]:
            st["best"] = mre
            torch.save({"model": ema.state_dict(), "width": width, "val_mre": mre, "per": per,
                        "epoch": st["epoch"]}, ck_best)
        torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                    "state": st, "width": width}, ck_last)
        if smoke:
            return True
        if st["elapsed"] - st["last_export"] >= export_every_min * 60 or done:
            st["last_export"] = st["elapsed"]
            try:
                export_best(runs, out_models, va[0])
            except Exception as e:  # never kill training because of an export problem
                print("[stage1] export failed: %r" % (e,), flush=True)
        t_eval = time.time()

    fit(opt, st, minutes * 60.0, batch_loss, validate, lr, warmup_steps=100,
        max_steps=3 if smoke else None, deadline=deadline, after_step=after_step,
        validate_now=lambda done: done or (epoch_end and time.time() - t_eval >= eval_every_s))
    if smoke:
        check_device_maps(tr[0])
        torch.save({"model": model.state_dict(), "width": width, "val_mre": 0, "per": [], "epoch": 0}, ck_best)
        export_best(runs, out_models, va[0])
    return st


def check_device_maps(case):
    """The device-drawn input and target equal make_priors / make_target (smoke run check)."""
    rng = np.random.default_rng(5)
    for _ in range(8):
        x, pxy, pon, txy, present = augment_sample(case, rng)
        inp, tgt, _ = to_network(*(torch.from_numpy(np.asarray(v))[None] for v in (x, pxy, pon, txy, present)))
        ref_p = C.upsample_priors(C.render_priors256(pxy / 256.0, pon))
        ref_t = make_target(txy / 256.0, present)
        err = max(float(np.abs(inp[0, 3:].numpy() - ref_p).max()), float(np.abs(tgt[0].numpy() - ref_t).max()))
        if err > 1e-4:
            raise SystemExit("[stage1] device-drawn maps differ from the engine's renderer by %.2e" % err)
    print("[stage1] device-drawn priors and targets match the numpy renderers (8 samples)", flush=True)


def export_best(runs, out_models, case=None):
    ck = load_checkpoint(os.path.join(runs, "stage1_best.pt"))
    model = Stage1Net(ck["width"])
    model.load_state_dict(ck["model"]); model.eval()
    if case is None:
        case = load_cases([141], verbose=False)[0]
    present = ~np.isnan(case.pts[:, 0])
    norm = np.where(present[:, None], case.pts / np.array([case.W, case.H]), 0.0)
    pri = make_priors(norm, present, np.random.default_rng(0), train=False, noise=0.5)
    x = np.concatenate([np.transpose(case.img.astype(np.float32) / 255.0, (2, 0, 1)), pri], 0)
    ex = torch.from_numpy(x[None]).float()
    path = os.path.join(out_models, "stage1", "v4_stage1.onnx")
    export_onnx(model, ex, path)
    verify_cv2(model, ex, path)
    print("[stage1] exported best (epoch %s, val MRE %.3f mm) -> %s" % (ck["epoch"], ck["val_mre"], path), flush=True)
    return path
