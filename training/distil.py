"""Distil a model folder's Stage 2 ensemble into one network (issue 15: Stage 2 in half the time).

The engine averages the positions of every stage2/refine*.onnx member, and each member is a
full network run per patch. The student is the same refine network, started from member 2
(strong augmentation), trained on a target that mixes the labels' Gaussians (1 - w) with the
members' mean heatmaps (w) on the same augmented patch, every channel (refine.train(teachers=...)).
It is taken at the end of its schedule: the validation proxy on 141-150 (refine from the truth +
2 mm) does not see the ensemble's gain, so it rates any move towards the ensemble as a loss
(training/README, session 13).

  /usr/bin/python3 -m training.distil --base models/isbi2015-protocol --train-ids 1-140 --runs R
  /usr/bin/python3 -m training.distil --base models --train-ids 1-140,151-400 --runs R2

R/models is then the base with the student as stage2/refine.onnx and no other member (manifest
rewritten): score it with `cephtrace evaluate --protocol isbi2015 --model-dir R/models`. Its
stage2/confidence.json is still the base's, fitted to two members' spread (0 with one network):
refit it (tools/calibrate_confidence.py) before shipping the folder.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys

from .common import MANIFEST, PROTOCOL_SUBDIR, parse_width, write_manifest

STUDENT_MEMBER = 2       # the member the student starts from, and whose checkpoints it writes
TEACHER_WEIGHT = 0.8
LEARNING_RATE = 1e-4     # peak; fine-tuning from the member (folds.FINE_TUNE_LR is for fine-tunes
                         # on new images, which the distillation target moves far less)
SCRATCH_LEARNING_RATE = 2e-3  # peak for a narrower student, which starts from scratch (refine.train's)


def members(base):
    """The base folder's Stage 2 ensemble, refine.onnx first."""
    found = sorted(glob.glob(os.path.join(base, "stage2", "refine_*.onnx")))
    return [os.path.join(base, "stage2", "refine.onnx")] + found


def train(base, train_ids, runs, minutes, threads, workers, width=None):
    teachers = [m for m in members(base) if os.path.exists(m)]
    if len(teachers) < (1 if width else 2):
        raise SystemExit("[distil] %s/stage2 holds no ensemble to distil (refine.onnx, refine_2.onnx, ...)" % base)
    out = os.path.join(runs, "export")
    os.makedirs(os.path.join(out, "stage2"), exist_ok=True)
    cmd = [sys.executable, "-m", "training.train_all", "--only", "refine", "--runs", runs, "--out", out,
           "--threads", str(threads), "--workers", str(workers), "--train-ids", train_ids,
           "--refine-member", str(STUDENT_MEMBER), "--refine-augment", "strong", "--refine-minutes", str(minutes),
           "--refine-teachers", ",".join(teachers), "--refine-teacher-weight", str(TEACHER_WEIGHT)]
    if width:  # a narrower network cannot start from a member's weights
        cmd += ["--refine-width", width, "--refine-lr", str(SCRATCH_LEARNING_RATE)]
    else:
        cmd += ["--refine-lr", str(LEARNING_RATE), "--init-from", base]
    with open(os.path.join(runs, "distil.log"), "a") as log:
        print("[distil] %s (log %s)" % (" ".join(cmd[1:]), log.name), flush=True)
        if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
            raise SystemExit("[distil] training failed: see %s" % log.name)


def export_student(runs):
    """The student's last checkpoint as an ONNX file (checked against cv2.dnn by the exporter)."""
    from . import refine
    out = os.path.join(runs, "export")
    return refine.export_best(runs, out, member=STUDENT_MEMBER, checkpoint="last")


def student_folder(base, student, folder):
    """`folder`: the base model folder with `student` as its only Stage 2 network."""
    if os.path.exists(folder):
        shutil.rmtree(folder)
    shutil.copytree(base, folder, ignore=shutil.ignore_patterns(MANIFEST, "MODEL_CARD.md", PROTOCOL_SUBDIR))
    for member in members(folder):
        os.remove(member)
    shutil.copyfile(student, os.path.join(folder, "stage2", "refine.onnx"))
    write_manifest(folder)
    return folder


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="model folder whose stage2/ ensemble is distilled")
    ap.add_argument("--train-ids", required=True,
                    help="the images the base's members learnt from (1-140 for the protocol models, "
                         "1-140,151-400 for the shipped default)")
    ap.add_argument("--runs", required=True, help="checkpoints, log and the student folder (<runs>/models)")
    ap.add_argument("--minutes", type=float, default=80.0,
                    help="training budget (session 15: 80 min on the 2-core CPU made 1242 steps of 24 "
                         "with a second distillation beside it)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1, help="sample-making processes")
    ap.add_argument("--width", default=None, type=parse_width,
                    help="a narrower student, e.g. 8,16,32,64,64 (refine.WIDTH's channels at 128/64/32/16/8 px; "
                         "trained from scratch, peak lr %g); its teacher may be one network" % SCRATCH_LEARNING_RATE)
    ap.add_argument("--export-only", action="store_true", help="skip training: export the last checkpoint")
    a = ap.parse_args(argv)
    os.makedirs(a.runs, exist_ok=True)
    if not a.export_only:
        train(a.base, a.train_ids, a.runs, a.minutes, a.threads, a.workers,
              ",".join(map(str, a.width)) if a.width else None)
    folder = student_folder(a.base, export_student(a.runs), os.path.join(a.runs, "models"))
    print("[distil] %s: the base with the student as its only Stage 2 network; refit its "
          "stage2/confidence.json (tools/calibrate_confidence.py) before shipping it" % folder, flush=True)


if __name__ == "__main__":
    main()
