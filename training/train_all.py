"""One command for all seven CephTrace models and our Stage 2 refinement model.

  /usr/bin/python3 -m training.train_all --out models --runs /root/cephtrace-runs
  /usr/bin/python3 -m training.train_all --only profile,zones,mlp --out models
  /usr/bin/python3 -m training.train_all --only stage1 --stage1-minutes 100
  /usr/bin/python3 -m training.train_all --only refine --refine-minutes 70
  /usr/bin/python3 -m training.train_all --smoke --out /tmp/smoke_models --runs /tmp/smoke_runs
  /usr/bin/python3 -m training.train_all --export-only --only stage1   # re-export best checkpoints

Resumable (checkpoints in --runs), seeds fixed.
"""
import argparse
import os
import sys
import time

import torch

from .common import parse_unet_width, parse_width


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None, help="model dir (default models/, smoke: /tmp/cephtrace-smoke/models)")
    ap.add_argument("--runs", default=None, help="checkpoints (default /root/cephtrace-runs, smoke: /tmp/cephtrace-smoke/runs)")
    ap.add_argument("--only", default="profile,zones,mlp,stage1,refine,refine2,extended",
                    help="steps: profile, zones, mlp, stage1, refine (Stage 2 member 1), refine2 "
                         "(member 2: strong augmentation, batch 32), extended (the 14 landmarks beyond the 25)")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--no-resume", action="store_true")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                    help="where the segmenters, Stage 1 and Stage 2 train (auto: a CUDA GPU if "
                         "PyTorch sees one); the tiny MLP and all exports run on the CPU")
    ap.add_argument("--stage1-minutes", type=float, default=50.0)
    ap.add_argument("--stage1-export-every", type=float, default=20.0)
    ap.add_argument("--stage1-batch", type=int, default=4, help="Stage 1 batch size (a GPU can take more)")
    ap.add_argument("--stage1-lr", type=float, default=1e-3, help="Stage 1 peak learning rate (Adam)")
    ap.add_argument("--stage1-width", type=int, default=16,
                    help="HRNet branch width (16: 1.6 M parameters, 6.6 MB; 24: 3.7 M, 14 MB; the "
                         "file grows with its square, and models/ must stay under 30 MB)")
    ap.add_argument("--stage1-augment", default="standard", choices=["standard", "device"],
                    help="Stage 1 augmentation: device adds other devices' appearance (soft-tissue wedge "
                         "filters, strong gamma, inverted LUTs, burned-in text and rulers; the smoke run always does)")
    ap.add_argument("--stage1-deadline", default=None,
                    help="UTC wall-clock HH:MM (today) by which Stage 1 must stop and export")
    ap.add_argument("--refine-minutes", type=float, default=70.0)
    ap.add_argument("--refine-batch", type=int, default=24, help="Stage 2 batch size (a GPU can take more)")
    ap.add_argument("--refine-lr", type=float, default=2e-3, help="Stage 2 peak learning rate (Adam; lower to fine-tune)")
    ap.add_argument("--refine-augment", default="standard", choices=["standard", "strong"],
                    help="Stage 2 augmentation: strong adds shear, unequal scales, wider rotations, blanked boxes")
    ap.add_argument("--refine-teachers", default=None,
                    help="comma-separated refine ONNX files to distil into the refine step's one "
                         "network (e.g. a folder's stage2/refine.onnx,stage2/refine_2.onnx)")
    ap.add_argument("--refine-teacher-weight", type=float, default=0.5,
                    help="share of the teachers' heatmaps in the distillation target (the rest: the labels)")
    ap.add_argument("--refine-width", default=None, type=parse_width,
                    help="the refine network's channels at 128/64/32/16/8 px, e.g. 8,16,32,64,64 (a narrower "
                         "student, trained from scratch; default refine.WIDTH, the shipped networks')")
    ap.add_argument("--refine-member", type=int, default=1,
                    help="the member the refine step trains/exports: 1 = stage2/refine.onnx, "
                         "n = stage2/refine_n.onnx (checkpoints refine<n>_*.pt)")
    ap.add_argument("--refine2-minutes", type=float, default=2.5,
                    help="budget of the refine2 step (shipped: 2.5 min on an H100 with --workers 7, "
                         "7284 steps of 32; on 2 CPU cores raise it: they make far fewer steps a minute)")
    ap.add_argument("--workers", type=int, default=0,
                    help="processes making Stage 1 / Stage 2 training samples (0: the training process; "
                         "a GPU machine needs several to keep the GPU busy)")
    ap.add_argument("--stage1-eval-every", type=float, default=0.0,
                    help="seconds between Stage 1 validations, at epoch ends (0: every epoch)")
    ap.add_argument("--refine-eval-every", type=float, default=240.0,
                    help="seconds of Stage 2 training between validations")
    ap.add_argument("--profile-minutes", type=float, default=20.0)
    ap.add_argument("--zone-minutes", type=float, default=12.0)
    ap.add_argument("--stage0-width", default=None, type=parse_unet_width,
                    help="the profile and zone networks' channels at 128/64/32/16 px, e.g. 8,16,32,64 "
                         "(a narrower, faster Stage 0; default 16,32,64,128)")
    ap.add_argument("--mlp-minutes", type=float, default=4.0)
    ap.add_argument("--extended-minutes", type=float, default=105.0,
                    help="budget of the extended model (the 14 CL-2023 landmarks beyond the 25)")
    ap.add_argument("--extended-width", default=None, type=parse_width,
                    help="the extended model's channels, e.g. 8,16,32,64,64 (a narrower network, trained "
                         "from scratch; default refine.WIDTH, the shipped model's)")
    ap.add_argument("--extended-teacher", default=None,
                    help="an extended model file (refine_extended.onnx) whose heatmaps make most of the "
                         "extended model's target (distillation, extended.TEACHER_WEIGHT)")
    ap.add_argument("--train-ids", default=None,
                    help="Stage 1 / Stage 2 training images, e.g. 1-140,301-400 (default 1-140)")
    ap.add_argument("--val-ids", default=None, help="their model-selection images (default 141-150)")
    ap.add_argument("--init-from", default=None,
                    help="a model folder whose stage1/ and stage2/ files the stage1 / refine / refine2 "
                         "steps start from (fine-tuning; e.g. models/isbi2015-protocol)")
    a = ap.parse_args(argv)
    if a.out is None:
        a.out = "/tmp/cephtrace-smoke/models" if a.smoke else "models"
    if a.runs is None:
        a.runs = "/tmp/cephtrace-smoke/runs" if a.smoke else "/root/cephtrace-runs"
    torch.set_num_threads(a.threads)
    from .runtime import pick_device
    device = pick_device(a.device)
    print("[train_all] device %s, torch %s, %d CPU threads" % (device, torch.__version__, a.threads), flush=True)
    only = set(a.only.split(","))
    from .common import parse_ids
    ids = {"train_ids": parse_ids(a.train_ids) if a.train_ids else None,
           "val_ids": parse_ids(a.val_ids) if a.val_ids else None}

    def init(rel):
        return os.path.join(a.init_from, rel) if a.init_from else None
    t0 = time.time()
    resume = not a.no_resume
    if "mlp" in only:
        from . import mlp
        if a.export_only:
            mlp.export_best(a.runs, a.out)
        else:
            mlp.train(a.runs, a.out, minutes=a.mlp_minutes, smoke=a.smoke, resume=resume)
    if "profile" in only:
        from . import stage0
        if a.export_only:
            stage0.export_best("profile", a.runs, a.out)
        else:
            stage0.train("profile", a.runs, a.out, minutes=a.profile_minutes, smoke=a.smoke, resume=resume,
                         device=device, width=a.stage0_width or stage0.WIDTH)
    if "zones" in only:
        from . import stage0
        for z in ("z1", "z2", "z3", "z4"):
            if a.export_only:
                stage0.export_best(z, a.runs, a.out)
            else:
                stage0.train(z, a.runs, a.out, minutes=a.zone_minutes, smoke=a.smoke, resume=resume,
                             device=device, width=a.stage0_width or stage0.WIDTH)
    if "stage1" in only:
        from . import stage1
        if a.export_only:
            stage1.export_best(a.runs, a.out)
        else:
            dl = None
            if a.stage1_deadline:
                import calendar
                hh, mm = [int(v) for v in a.stage1_deadline.split(":")]
                t = time.gmtime()
                dl = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, hh, mm, 0, 0, 0, 0))
                print("[train_all] stage1 deadline %s UTC (in %.1f min)" % (a.stage1_deadline, (dl - time.time()) / 60), flush=True)
            stage1.train(a.runs, a.out, minutes=a.stage1_minutes, smoke=a.smoke, resume=resume,
                         export_every_min=a.stage1_export_every, deadline=dl, device=device,
                         width=a.stage1_width, bs=a.stage1_batch, lr=a.stage1_lr, workers=a.workers,
                         eval_every_s=a.stage1_eval_every,
                         augment="device" if a.smoke else a.stage1_augment,
                         init=init("stage1/v4_stage1.onnx"), **ids)
    if "refine" in only:
        from . import refine
        if a.export_only:
            refine.export_best(a.runs, a.out, member=a.refine_member)
        else:
            refine.train(a.runs, a.out, minutes=a.refine_minutes, smoke=a.smoke, resume=resume,
                         device=device, bs=a.refine_batch, lr=a.refine_lr, workers=a.workers,
                         eval_every_s=a.refine_eval_every, strong=a.refine_augment == "strong",
                         member=a.refine_member,
                         init=init("stage2/" + refine.member_files(a.refine_member)[1]),
                         teachers=a.refine_teachers.split(",") if a.refine_teachers else None,
                         teacher_weight=a.refine_teacher_weight,
                         width=a.refine_width or refine.WIDTH,
                         **ids)
    if "refine2" in only:
        # The shipped second member: an independently trained model with strong augmentation;
        # the engine averages the two (one pass, 141-150: 1.21 mm vs 1.32 for member 1 alone).
        from . import refine
        if a.export_only:
            refine.export_best(a.runs, a.out, member=2)
        else:
            refine.train(a.runs, a.out, minutes=a.refine2_minutes, smoke=a.smoke, resume=resume,
                         device=device, bs=32, lr=a.refine_lr, workers=a.workers, strong=True,
                         eval_every_s=15.0 if device.type == "cuda" else a.refine_eval_every,
                         member=2, init=init("stage2/refine_2.onnx"), **ids)
    if "extended" in only:
        from . import extended
        if a.export_only:
            extended.export_best(a.runs, a.out)
        else:
            extended.train(a.runs, a.out, minutes=a.extended_minutes, resume=resume, smoke=a.smoke,
                           width=a.extended_width or extended.R.WIDTH, teacher=a.extended_teacher,
                           workers=a.workers)
    if a.smoke:
        check_fine_tune_start(a.out, only, a.refine_member)
        n = 0
        for root, _, files in os.walk(a.out):
            n += sum(f.endswith(".onnx") for f in files)
        print("[train_all] smoke: %d ONNX files under %s (all verified with cv2.dnn)" % (n, a.out), flush=True)
    print("[train_all] done in %.1f min" % ((time.time() - t0) / 60), flush=True)


def check_fine_tune_start(out, only, refine_member=1):
    """--init-from starts from exported files: a model loaded back from each exported Stage 1 /
    Stage 2 file, in train mode, must compute what OpenCV computes with that file."""
    import cv2
    import numpy as np
    from .export import init_from_onnx
    from .refine import RefineNet, member_files, width_of
    from .stage1 import Stage1Net
    rng = np.random.default_rng(3)
    files = []
    if "stage1" in only:
        files.append(("stage1/v4_stage1.onnx", lambda path: Stage1Net(16), (1, 28, 512, 512)))
    if "refine" in only:
        files.append(("stage2/" + member_files(refine_member)[1], lambda path: RefineNet(width_of(path)),
                      (2, 1, 128, 128)))
    for rel, make, shape in files:
        path = os.path.join(out, rel)
        model = make(path)
        init_from_onnx(model, path, torch.zeros(shape))
        x = rng.random(shape, dtype=np.float32)
        net = cv2.dnn.readNetFromONNX(path)
        net.setInput(x)
        with torch.no_grad():
            d = float(np.abs(model.train()(torch.from_numpy(x)).numpy() - net.forward()).max())
        print("[train_all] fine-tune start from %s: max|torch-cv2| = %.2g" % (rel, d), flush=True)
        if d > 1e-4:
            raise SystemExit("[train_all] %s loaded back for fine-tuning differs from the file by %.2g" % (rel, d))


if __name__ == "__main__":
    sys.exit(main())
