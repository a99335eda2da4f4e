"""The extended model (issue 16): the 14 CL-Detection 2023 landmarks beyond CANONICAL_25
(EXTENDED_14 in include/cephtrace/tables.def: D, Ptm, PT, Bolton, the first molars, the
soft-tissue points of Holdaway's and Burstone–Legan's analyses).

Two steps, both run by the engine after the 25 landmarks (extend_in_view in
src/pipeline/predictor.cpp, framing::local_template_position, refine_landmarks):
1. A start for each extended landmark from the 25: the mean head (the framing template,
   `training.framing_template`, which also holds the 14's mean places) is fitted by a
   least-squares similarity to the 8 canonical landmarks nearest to that landmark in the
   template (not Pm, which is derived), and the fit carries the template's landmark over.
   On the training images, from the true 25: 3.2 mm mean error (`--init-study`).
2. Stage 2's refinement with a model of the same design and grid (training/refine.py), one
   128² patch per extended landmark: models/extended/refine_extended.onnx, input
   (14,1,128,128), output (14,14,64,64), channel k of patch k. Two passes.

Labels: CL-2023 labels exist for 89 of the training images 001–140 (fit) and 4 of 141–150
(model selection); the protocol model never used the test images. The loss covers only the 14.
The shipped default's model is that one fine-tuned on every labelled image but 141–150
(`--train-ids 1-140,151-400 --init-from <protocol models>`, about 260 images).

    /usr/bin/python3 -m training.extended --minutes 70 --runs /root/cephtrace-runs --out models
    /usr/bin/python3 -m training.extended --export-only --runs /root/cephtrace-runs --out models
    /usr/bin/python3 -m training.extended --train-ids 1-140,151-400 --init-from models/isbi2015-protocol \
        --lr 2e-5 --minutes 45 --runs R --out R/models && ... --export-only --checkpoint last

A narrower network (issue 15: the extended model costs as much as Stage 2 did) trains from
scratch with `--width 8,16,32,64,64`, taught by a folder's shipped model (`--teacher <folder>`:
target 0.8 x its heatmaps + 0.2 x the labels' Gaussians, as training.distil does for Stage 2);
a fine-tune (`--init-from`) keeps its starting file's widths.
"""
import argparse
import os
import random
import time
import warnings

import numpy as np
import torch

from . import common as C
from . import loader as L
from . import refine as R
from .export import export_onnx, freeze_batchnorm, init_from_onnx, verify_cv2
from .framing_template import similarity
from .grid import resample, to_grid
from .loop import fit
from .runtime import load_checkpoint, model_device
from .tables import EXTENDED_14

NEXT = len(EXTENDED_14)
BASIS = 8            # canonical landmarks each start is fitted to
PASSES = 2
NOT_IN_BASIS = {"Pm"}  # derived by a rule, not annotated
TEACHER_WEIGHT = 0.8   # as training.distil's


load_extended = C.load_extended


def template():
    """Mean (25,2) canonical and (14,2) extended positions over the training images 001–140,
    left-facing, original ISBI pixels (the framing template's numbers)."""
    pts, ext = [], []
    for i in C.TRAIN_IDS:
        pts.append(C.load_landmarks(i, derive_pm=False)[0])
        e = load_extended(i)
        if e is not None:
            ext.append(e)
    with warnings.catch_warnings():  # Pm is annotated nowhere: its mean is NaN, as meant
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.stack(pts), 0), np.mean(np.stack(ext), 0)


def basis_of(t25, t14):
    """For each extended landmark, the BASIS canonical indices nearest to it in the template."""
    usable = [k for k, n in enumerate(C.CANONICAL_25) if n not in NOT_IN_BASIS]
    out = []
    for e in range(NEXT):
        d = np.hypot(*(t25[usable] - t14[e]).T)
        out.append([usable[j] for j in np.argsort(d, kind="stable")[:BASIS]])
    return out


def initial_guess(t25, t14, basis, pts25):
    """Start positions (14,2) from 25 landmarks (NaN = absent; needs 2 of a basis)."""
    out = np.full((NEXT, 2), np.nan)
    for e in range(NEXT):
        b = [k for k in basis[e] if not np.isnan(pts25[k]).any()]
        if len(b) < 2:
            continue
        z, c = similarity(t25[b], pts25[b])
        q = z * (t14[e, 0] + 1j * t14[e, 1]) + c
        out[e] = (q.real, q.imag)
    return out


def load_cases(ids):
    cases = []
    for i in ids:
        e = load_extended(i)
        if e is None:
            continue
        c = R.Case()
        c.id = i
        g = C.load_grey_mirrored(i)
        # The 25 only place the starts (inputs, not targets): every label is used, also those
        # of Test2 that Stage 1/2 are not trained on (common.TRAINING_EXCLUSIONS).
        c.pts25 = C.load_landmarks(i, derive_pm=False, grey=g, training=False)[0]
        H, W = g.shape
        c.img = resample(g)
        gh, gw = c.img.shape
        c.W, c.H, c.pts = W, H, e
        c.gpts = to_grid(e, W, H, gw, gh)
        cases.append(c)
    print("[extended] %d cases with CL-2023 labels" % len(cases), flush=True)
    return cases


def refine_points(model, c, start_grid, peaks=None):
    """One pass (engine-exact patches and decoding); `peaks` (list) receives the heatmap peaks."""
    xs, origins = [], []
    for k in range(NEXT):
        p, x0, y0 = R.engine_patch(c.img, start_grid[k])
        xs.append(p); origins.append((x0, y0))
    with torch.no_grad():
        out = model(torch.from_numpy(np.stack(xs)).to(model_device(model))).cpu().numpy()
    res = np.zeros((NEXT, 2))
    for k in range(NEXT):
        u, v, peak = R.decode(out[k, k])
        res[k] = (origins[k][0] + R.STRIDE * u + 0.5, origins[k][1] + R.STRIDE * v + 0.5)
        if peaks is not None:
            peaks.append(peak)
    return res


def evaluate(model, cases, tpl, noise_mm=1.5, seed=7):
    """MRE (mm) of the extended landmarks: start from the true 25 + N(0, noise_mm), PASSES passes."""
    t25, t14, basis = tpl
    model.eval()
    rng = np.random.default_rng(seed)
    before, after = [], []
    for c in cases:
        scale = c.img.shape[1] / c.W
        start = initial_guess(t25, t14, basis, c.pts25 + rng.normal(0, noise_mm / C.MM_PER_PX, c.pts25.shape))
        g = to_grid(start, c.W, c.H, c.img.shape[1], c.img.shape[0])
        g0 = g.copy()
        for _ in range(PASSES):
            g = refine_points(model, c, g)
        before += list(np.hypot(*(g0 - c.gpts).T) / scale * C.MM_PER_PX)
        after += list(np.hypot(*(g - c.gpts).T) / scale * C.MM_PER_PX)
    model.train()
    return float(np.mean(after)), float(np.mean(before))


class _Samples:
    def __init__(self, cases):
        self.cases = cases

    def __call__(self, n, rng):
        c = self.cases[rng.integers(len(self.cases))]
        return R.make_train_patch(c, int(rng.integers(NEXT)), rng, strong=True)


def train(runs, out_models, minutes=70.0, bs=24, lr=2e-3, resume=True, seed=0, eval_every_s=300.0,
          smoke=False, train_ids=None, init=None, width=R.WIDTH, teacher=None, teacher_weight=TEACHER_WEIGHT,
          workers=0):
    """smoke: three steps on two images, validated and exported (train_all --smoke).
    train_ids: images to fit (default 1-140; those without CL-2023 labels are skipped).
    init: an exported refine_extended.onnx to start from (fine-tuning; its BatchNorms stay frozen;
    the network takes its widths). width: the channels of a network trained from scratch.
    teacher: an exported refine_extended.onnx whose heatmaps make teacher_weight of the target.
    workers: processes making the samples beside the training (0: the training process)."""
    torch.manual_seed(seed); np.random.seed(seed); random.seed(seed)
    device = torch.device("cpu")
    os.makedirs(runs, exist_ok=True)
    ck_last, ck_best = os.path.join(runs, "extended_last.pt"), os.path.join(runs, "extended_best.pt")
    if init:
        width = R.width_of(init)
    model = R.RefineNet(width, nout=NEXT)
    print("[extended] width %s, params %.3fM" % (tuple(width), sum(p.numel() for p in model.parameters()) / 1e6), flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    st = {"elapsed": 0.0, "step": 0, "samples": 0, "best": 1e9, "last_eval": 0.0, "init": init,
          "width": list(width)}
    if init:
        print("[extended] starting from %s (%d Conv layers)" % (
            init, init_from_onnx(model, init, torch.zeros(2, 1, R.PATCH, R.PATCH))), flush=True)
    if resume and os.path.exists(ck_last) and not smoke:
        ck = load_checkpoint(ck_last)
        model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"]); st.update(ck["state"])
        if st.get("init"):
            freeze_batchnorm(model)
        print("[extended] resumed at step %d, %.1f min, best %.3f mm" % (st["step"], st["elapsed"] / 60, st["best"]), flush=True)
    teachers = [R.load_exported(teacher)] if teacher else []
    tpl = template()
    tpl = (tpl[0], tpl[1], basis_of(*tpl))
    tr = load_cases([1, 3] if smoke else train_ids or C.TRAIN_IDS)
    va = load_cases([141] if smoke else C.VAL_IDS)
    stream = L.batches(_Samples(tr), seed, st["samples"], bs, 0 if smoke else workers, device)
    if init and st["step"] == 0 and not smoke:
        # A fine-tune must beat where it starts: the starting weights are the first best.
        st["best"], mre0 = evaluate(model, va, tpl)
        torch.save({"model": model.state_dict(), "val_mre": st["best"], "step": 0, "width": list(width)}, ck_best)
        print("[extended] starting weights: val MRE %.3f mm (start %.3f)" % (st["best"], mre0), flush=True)
    model.train()

    def batch_loss():
        x, y, m = R.to_network(*next(stream))
        st["samples"] += len(x)
        return R.distillation_loss(model(x), x, y, m, teachers, teacher_weight)

    def validate(done, loss, cur):
        st["last_eval"] = st["elapsed"]
        mre, mre0 = evaluate(model, va, tpl)
        print(time.strftime("%H:%M:%S ") + "[extended] step %d loss %.4f lr %.2e elapsed %.1f/%.0f min | val MRE %.3f mm (start %.3f) best %.3f" %
              (st["step"], loss, cur, st["elapsed"] / 60, minutes, mre, mre0, min(mre, st["best"])), flush=True)
        if mre < st["best"] or smoke:
            st["best"] = mre
            torch.save({"model": model.state_dict(), "val_mre": mre, "step": st["step"], "width": list(width)}, ck_best)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": st}, ck_last)
        if done:
            export_best(runs, out_models, va[0])

    fit(opt, st, minutes * 60.0, batch_loss, validate, lr, warmup_steps=100, max_steps=3 if smoke else None,
        validate_now=lambda done: done or (not smoke and st["elapsed"] - st["last_eval"] >= eval_every_s))


def load_run(runs, checkpoint="best"):
    """A run's checkpoint ("best" or "last") as a network in eval mode, and its step."""
    ck = load_checkpoint(os.path.join(runs, "extended_%s.pt" % checkpoint))
    model = R.RefineNet(R.checkpoint_width(ck), nout=NEXT)
    model.load_state_dict(ck["model"]); model.eval()
    return model, (ck["step"] if "step" in ck else ck["state"]["step"])


def export_best(runs, out_models, case=None, checkpoint="best"):
    """Exports a checkpoint: "best" (lowest single-draw validation MRE during training) or
    "last" (the end of the schedule)."""
    model, step = load_run(runs, checkpoint)
    if case is None:
        case = load_cases([141])[0]
    ex = torch.from_numpy(np.stack([R.engine_patch(case.img, case.gpts[k])[0] for k in range(NEXT)]).astype(np.float32))
    path = os.path.join(out_models, "extended", "refine_extended.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    export_onnx(model, ex, path)
    verify_cv2(model, ex, path)
    print("[extended] exported %s (step %s) -> %s" % (checkpoint, step, path), flush=True)


def val_study(runs, seeds=(7, 8, 9, 10, 11), checkpoint="best"):
    """On the held-out 141–150 (those with CL-2023 labels), from the true 25 + N(0, 1.5 mm)
    (several draws): MRE after 1 and 2 passes, and for the last pass's heatmap peak, how the
    error falls above and below each threshold (to set kExtendedMediumPeak)."""
    model, step = load_run(runs, checkpoint)
    tpl = template()
    t25, t14 = tpl
    basis = basis_of(t25, t14)
    cases = load_cases(C.VAL_IDS)
    err = {1: [], 2: []}
    peaks = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for c in cases:
            scale = c.img.shape[1] / c.W
            start = initial_guess(t25, t14, basis, c.pts25 + rng.normal(0, 1.5 / C.MM_PER_PX, c.pts25.shape))
            g = to_grid(start, c.W, c.H, c.img.shape[1], c.img.shape[0])
            for p in (1, 2):
                last = [] if p == 2 else None
                g = refine_points(model, c, g, last)
                err[p] += list(np.hypot(*(g - c.gpts).T) / scale * C.MM_PER_PX)
            peaks += last
    e2, pk = np.array(err[2]), np.array(peaks)
    print("checkpoint %s (step %s); %d val images x %d draws x 14 landmarks" % (checkpoint, step, len(cases), len(seeds)))
    print("MRE 1 pass %.2f mm, 2 passes %.2f mm" % (np.mean(err[1]), np.mean(e2)))
    print("| peak below | share of points | MRE below | > 3 mm below | MRE at or above | > 3 mm at or above |")
    print("|---:|---:|---:|---:|---:|---:|")
    for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        lo, hi = e2[pk < t], e2[pk >= t]
        f = lambda a, fn: ("%.2f" % fn(a)) if len(a) else "-"
        print("| %.2f | %.0f %% | %s | %s | %s | %s |" % (
            t, 100 * len(lo) / len(e2), f(lo, np.mean), f(lo, lambda a: 100 * np.mean(a > 3)),
            f(hi, np.mean), f(hi, lambda a: 100 * np.mean(a > 3))))


def init_study():
    """Mean error (mm) of the start alone, leave-one-out over the training images with labels."""
    ids = [i for i in C.TRAIN_IDS if load_extended(i) is not None]
    P = np.stack([C.load_landmarks(i, derive_pm=False)[0] for i in ids])
    E = np.stack([load_extended(i) for i in ids])
    errs = []
    for j in range(len(ids)):
        rest = np.delete(np.arange(len(ids)), j)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            t25, t14 = np.nanmean(P[rest], 0), E[rest].mean(0)
        errs.append(np.hypot(*(initial_guess(t25, t14, basis_of(t25, t14), P[j]) - E[j]).T) * C.MM_PER_PX)
    errs = np.array(errs)
    print("start from the true 25, leave-one-out over %d training images: mean %.2f mm" % (len(ids), errs.mean()))
    for n, v in zip(EXTENDED_14, errs.mean(0)):
        print("  %-10s %.2f mm" % (n, v))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", default="/root/cephtrace-runs")
    ap.add_argument("--out", default="models")
    ap.add_argument("--minutes", type=float, default=70.0)
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (Adam); a fine-tune: 2e-5")
    ap.add_argument("--train-ids", default=None,
                    help="images to fit, e.g. 1-140,151-400 (default 1-140; 141-150 always select)")
    ap.add_argument("--init-from", default=None,
                    help="a model folder whose extended/refine_extended.onnx to fine-tune")
    ap.add_argument("--width", type=C.parse_width, default=R.WIDTH,
                    help="channels at 128/64/32/16/8 px of a network trained from scratch, e.g. "
                         "8,16,32,64,64 (default %s; a fine-tune keeps its file's)" % ",".join(map(str, R.WIDTH)))
    ap.add_argument("--teacher", default=None,
                    help="a model folder whose extended/refine_extended.onnx teaches (%.1f of the target)" % TEACHER_WEIGHT)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="sample-making processes (0: none)")
    ap.add_argument("--no-resume", action="store_true")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--checkpoint", default="best", choices=["best", "last"],
                    help="which checkpoint --export-only and --val-study use")
    ap.add_argument("--init-study", action="store_true")
    ap.add_argument("--val-study", action="store_true",
                    help="passes and peak thresholds on the held-out 141-150 (the best checkpoint)")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.init_study:
        return init_study()
    if a.val_study:
        return val_study(a.runs, checkpoint=a.checkpoint)
    if a.export_only:
        return export_best(a.runs, a.out, checkpoint=a.checkpoint)
    def model_file(flag, folder):  # a model folder's extended model, or a clear refusal
        if not folder:
            return None
        path = os.path.join(folder, "extended", "refine_extended.onnx")
        if not os.path.exists(path):
            raise SystemExit("[extended] %s %s: no extended/refine_extended.onnx there" % (flag, folder))
        return path
    init = model_file("--init-from", a.init_from)
    teacher = model_file("--teacher", a.teacher)
    if init and a.width not in (R.WIDTH, R.width_of(init)):
        raise SystemExit("[extended] --width %s: a fine-tune keeps the widths of %s, %s" % (
            ",".join(map(str, a.width)), init, ",".join(map(str, R.width_of(init)))))
    train_ids = C.parse_ids(a.train_ids) if a.train_ids else None
    if train_ids and set(train_ids) & set(C.VAL_IDS):
        raise SystemExit("[extended] --train-ids overlaps the validation images 141-150")
    train(a.runs, a.out, minutes=a.minutes, lr=a.lr, resume=not a.no_resume, train_ids=train_ids, init=init,
          width=a.width, teacher=teacher, workers=a.workers)


if __name__ == "__main__":
    main()
