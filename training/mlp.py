"""Phase 0E MLP: 7 anchors (x/W, y/H) -> 18 derived landmarks (x/W, y/H)."""
import os
import random

import numpy as np
import torch
import torch.nn as nn

from . import common as C
from .export import export_onnx, verify_cv2
from .loop import fit
from .runtime import load_checkpoint

FILE = "phase0e_model.onnx"


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(14, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                 nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 36))

    def forward(self, x):
        return self.net(x)


def load(ids):
    P = []
    for i in ids:
        pts, _ = C.load_landmarks(i)
        P.append(pts)
    return np.stack(P)  # (N,25,2) px, left-facing, NaN = missing


def make_batch(P, rng, bs, train=True, W=C.W0, H=C.H0):
    idx = rng.integers(0, len(P), bs) if train else np.arange(len(P))
    pts = P[idx].copy()
    n = len(idx)
    Ws = np.full(n, float(W)); Hs = np.full(n, float(H))
    if train:
        # random similarity transform in pixel space + random canvas (other films, crops)
        ang = np.deg2rad(rng.uniform(-8, 8, n)); sc = rng.uniform(0.85, 1.2, n)
        c = np.nanmean(pts, axis=1)
        R = np.stack([np.stack([np.cos(ang), -np.sin(ang)], -1), np.stack([np.sin(ang), np.cos(ang)], -1)], 1)
        pts = np.einsum("nij,nkj->nki", R * sc[:, None, None], pts - c[:, None]) + c[:, None]
        Ws = W * rng.uniform(0.8, 1.3, n); Hs = H * rng.uniform(0.8, 1.3, n)
        lo = np.nanmin(pts, axis=1); hi = np.nanmax(pts, axis=1)
        ox = rng.uniform(0, 1, n) * np.maximum(Ws - (hi[:, 0] - lo[:, 0]), 1) - lo[:, 0]
        oy = rng.uniform(0, 1, n) * np.maximum(Hs - (hi[:, 1] - lo[:, 1]), 1) - lo[:, 1]
        pts = pts + np.stack([ox, oy], -1)[:, None]
    norm = pts / np.stack([Ws, Hs], -1)[:, None]
    a = norm[:, C.ANCH_IDX].copy()
    d = norm[:, C.DER_IDX].copy()
    if train:
        # input noise: ~2.5 mm (25 px at 0.1 mm/px) per anchor
        a = a + rng.normal(0, 1, a.shape) * (rng.uniform(5, 35, (n, 1, 1)) / np.stack([Ws, Hs], -1)[:, None])
        drop = rng.random((n, 7)) < 0.1
        a[drop] = np.nan
    a = np.where(np.isnan(a), 0.5, a)
    m = (~np.isnan(d)).astype(np.float32)
    d = np.where(np.isnan(d), 0.0, d)
    return (torch.from_numpy(a.reshape(n, 14).astype(np.float32)), torch.from_numpy(d.reshape(n, 36).astype(np.float32)),
            torch.from_numpy(m.reshape(n, 36)), Ws, Hs)


def evaluate(model, P):
    model.eval()
    x, y, m, Ws, Hs = make_batch(P, None, 0, train=False)
    with torch.no_grad():
        p = model(x).numpy()
    e = (p - y.numpy()).reshape(-1, 18, 2) * np.array([C.W0, C.H0])
    mm = m.numpy().reshape(-1, 18, 2)[..., 0] > 0
    r = np.hypot(e[..., 0], e[..., 1]) * C.MM_PER_PX
    model.train()
    per = {n: float(r[:, k][mm[:, k]].mean()) if mm[:, k].any() else float("nan") for k, n in enumerate(C.DERIVED_18)}
    return float(r[mm].mean()), per


def train(runs, out_models, minutes=3.0, smoke=False, resume=True, seed=0, bs=64, lr=2e-3):
    torch.manual_seed(seed); np.random.seed(seed); random.seed(seed)
    os.makedirs(runs, exist_ok=True)
    Ptr = load([1, 2, 3] if smoke else C.TRAIN_IDS)
    Pva = load([141] if smoke else C.VAL_IDS)
    model = MLP()
    print("[mlp] params %d" % sum(p.numel() for p in model.parameters()), flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    ck_best = os.path.join(runs, "mlp_best.pt")
    st = {"elapsed": 0.0, "step": 0, "best": 1e9}

    def batch_loss():
        x, y, m, _, _ = make_batch(Ptr, rng, bs)
        return (((model(x) - y) ** 2) * m).sum() / m.sum().clamp(min=1) * 1000

    def validate(done, loss, _lr):
        v, per = evaluate(model, Pva)
        print("[mlp] step %d loss %.4f val MRE (clean anchors) %.3f mm" % (st["step"], loss, v), flush=True)
        if v < st["best"] or not os.path.exists(ck_best):
            st["best"] = v
            torch.save({"model": model.state_dict(), "val_mre": v, "per": per, "step": st["step"]}, ck_best)

    fit(opt, st, minutes * 60, batch_loss, validate, lr, max_steps=20 if smoke else None,
        validate_now=lambda done: done or st["step"] % 500 == 0)
    export_best(runs, out_models)


def export_best(runs, out_models):
    ck = load_checkpoint(os.path.join(runs, "mlp_best.pt"))
    model = MLP(); model.load_state_dict(ck["model"]); model.eval()
    P = load([C.VAL_IDS[0]])
    x, _, _, _, _ = make_batch(P, None, 0, train=False)
    path = os.path.join(out_models, "stage0", FILE)
    export_onnx(model, x[:1], path)
    verify_cv2(model, x[:1], path)
    print("[mlp] exported best (step %d, val MRE %.3f mm) -> %s" % (ck["step"], ck["val_mre"], path), flush=True)
    print("[mlp] per-landmark val MRE: " + " ".join("%s %.2f" % kv for kv in ck["per"].items()), flush=True)
