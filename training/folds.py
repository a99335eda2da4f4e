"""Fine-tune Stage 2 on more of ISBI, and cross-validate that step over the test images.

The protocol models (models/isbi2015-protocol/: trained on 001-140, selected on 141-150) never
saw 151-400. A default that learns from every annotated image could be them with both Stage 2
members fine-tuned on 1-140 and 151-400 (141-150 watch the runs). Holding out
each official test split in turn says what that step is worth on images it did not see:

  fold test1: fine-tune on 1-140 + 301-400, score Test1 (151-300) and the device-shift benchmark
  fold test2: fine-tune on 1-140 + 151-300, score Test2 (301-400)
  fold all:   fine-tune on 1-140 + 151-400: the shipped default's stage2/
  fold train: the training split 001-150 held out. Every model in the base learnt from it,
              so Stage 1 and both Stage 2 members are trained from scratch on 151-400 (less
              173 and 283, copies of 144 and 038), selected on 291-300, and 001-150 is scored
              without Stage 0's priors (zero priors: the protocol models lose 0.01 mm on Test1
              so). Left from the base: the profile model's facing-direction vote and the
              framing template (the mean landmark layout of 001-140), no landmark positions.
              With folds test1 and test2 it makes a 3-fold cross-validation over 001-400.

--part extended does the same for the extended model, on the fold's images with CL-2023 labels
(their Test1/Test2 labels of PT, Cm and others follow another convention than the training
split's: docs/results/annotation_conventions.md, so 141-150 cannot judge it; the held-out
split's 14 extended landmarks do).

  /usr/bin/python3 -m training.folds --fold test1 --minutes 45
  /usr/bin/python3 -m training.folds --fold test1 --score-only   # score an existing fold
  /usr/bin/python3 -m training.folds --fold all --promote [--extended E]  # fold all becomes models/
  /usr/bin/python3 -m training.folds --fold train --stage1-minutes 55 --minutes 48  # 001-150 held out
  /usr/bin/python3 -m training.folds --kfold   # pool folds train, test1, test2 over 001-400
  /usr/bin/python3 -m training.folds --kfold --given test1=1.45 --given test2=2.21  # earlier folds

--promote makes fold all's Stage 2 the shipped default: the protocol models move (once) to
models/isbi2015-protocol/ with their own manifest, models/stage2/ takes the fine-tuned members
and, with --extended, models/extended/ the given extended model (training.extended fine-tuned
on every labelled image); every other file stays the protocol one (see promote()).

The fine-tuned folds' members are taken at the end of their schedules (the last checkpoint),
not at their best validation on 141-150 (see export_schedule_ends); fold train's models, trained
from scratch, at their best validation on 291-300, as the protocol models were on 141-150.

Both members train at once, one CPU thread each, resumable (checkpoints in --runs/<fold>).
The fold's model folder (--runs/<fold>/models) is the base folder with the fine-tuned
stage2/ files; scoring runs the C++ engine (`cephtrace evaluate --protocol isbi2015`, which
scores both splits: only the held-out one counts). Labels of 301-400 drawn by another
convention are left out of training (common.TRAINING_EXCLUSIONS).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

from .common import MANIFEST, PROTOCOL_SUBDIR, test_image_models, write_manifest

FOLDS = {
    "test1": {"train": "1-140,301-400", "held_out": "Test1 (151-300)"},
    "test2": {"train": "1-140,151-300", "held_out": "Test2 (301-400)"},
    "all": {"train": "1-140,151-400", "held_out": None},
    "train": {"train": "151-172,174-282,284-290,301-400", "val": "291-300",
              "held_out": "001-150 (the ISBI training split)", "scratch": True},
}
VAL_IDS = "141-150"
# Fine-tuning from a trained model: a hundredth of the from-scratch peak learning rate (a
# quarter, 5e-4, made both members worse on 141-150 within 10 minutes: training/README).
FINE_TUNE_LR = 2e-5


def fold_models(base, runs, scratch=False):
    """The fold's model folder: a copy of the base, whose fine-tuned files the fold replaces
    (scratch: Stage 0 alone, so that a model the fold failed to train is missing, not the base's)."""
    models = os.path.join(runs, "models")
    if not os.path.exists(os.path.join(models, "stage0")):
        skip = [MANIFEST, "MODEL_CARD.md", PROTOCOL_SUBDIR] + (["stage1", "stage2", "extended"] if scratch else [])
        shutil.copytree(base, models, ignore=shutil.ignore_patterns(*skip), dirs_exist_ok=True)
    return models


def train_extended(fold, base, runs, minutes, lr):
    """The extended model fine-tuned on the fold's images that have CL-2023 labels (two
    threads), taken at the end of its schedule like the Stage 2 members."""
    models = fold_models(base, runs)
    cmd = [sys.executable, "-m", "training.extended", "--threads", "2", "--runs", runs, "--out", models,
           "--train-ids", FOLDS[fold]["train"], "--init-from", base, "--lr", str(lr), "--minutes", str(minutes)]
    with open(os.path.join(runs, "extended.log"), "a") as log:
        print("[folds] extended: %s (log %s)" % (" ".join(cmd[1:]), log.name), flush=True)
        if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
            raise SystemExit("[folds] extended failed: see %s" % log.name)
    export_extended_schedule_end(runs, models)
    return models


def export_extended_schedule_end(runs, models):
    from . import extended
    extended.export_best(runs, models, checkpoint="last")


def run_side_by_side(steps, runs):
    """Training steps ({log name: command}) at once, each with its own log; all must succeed."""
    procs = []
    for name, cmd in steps.items():
        log = open(os.path.join(runs, name + ".log"), "a")
        print("[folds] %s: %s (log %s)" % (name, " ".join(cmd[1:]), log.name), flush=True)
        procs.append((name, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)))
    failed = [name for name, p in procs if p.wait() != 0]
    if failed:
        raise SystemExit("[folds] %s failed: see %s" % (", ".join(failed), runs))


def train(fold, base, runs, minutes, lr, stage1_minutes=55.0):
    f = FOLDS[fold]
    models = fold_models(base, runs, f.get("scratch", False))
    common = [sys.executable, "-m", "training.train_all", "--runs", runs, "--out", models,
              "--train-ids", f["train"], "--val-ids", f.get("val", VAL_IDS), "--threads", "1"]
    if f.get("scratch"):
        # The recipes of the protocol models (training/README), each selected at its best
        # validation. Stage 1 first on two threads, then the members side by side on one
        # each: the cores stay busy either way, and Stage 1's outcome is known before the
        # members' minutes are spent.
        run_side_by_side({"stage1": common[:-1] + ["2", "--only", "stage1", "--stage1-minutes",
                                                   str(stage1_minutes)]}, runs)
        run_side_by_side({
            "refine": common + ["--only", "refine", "--refine-minutes", str(minutes)],
            "refine2": common + ["--only", "refine", "--refine-member", "2", "--refine-augment", "strong",
                                 "--refine-minutes", str(minutes)],
        }, runs)
        return models
    common += ["--init-from", base, "--refine-lr", str(lr), "--refine-eval-every", "300"]
    run_side_by_side({
        "refine": common + ["--only", "refine", "--refine-minutes", str(minutes)],
        "refine2": common + ["--only", "refine2", "--refine2-minutes", str(minutes)],
    }, runs)
    export_schedule_ends(runs, models)
    return models


def export_schedule_ends(runs, models):
    """The fold's models are the members at the end of their schedules, not their best
    validations: the starting weights were picked as the best of many validations on the same
    10 images (141-150), so any change looks worse there (session 10: member 2 went from
    1.20 to 1.31 mm within 68 steps, the learning rate still warming up to 2e-5)."""
    from . import refine
    for member in (1, 2):
        refine.export_best(runs, models, member=member, checkpoint="last")


def export_best(runs, models):
    """A from-scratch fold's models at their best validations (what its trainers export as they go)."""
    from . import refine, stage1
    stage1.export_best(runs, models)
    for member in (1, 2):
        refine.export_best(runs, models, member=member)


def promote(fold_dir, default_dir, extended=None):
    """Fold all's Stage 2 members (and `extended`, an extended model fine-tuned on every
    labelled image: training.extended --train-ids 1-140,151-400) become the shipped default.
    The first time, the default's present files (trained on 001-150 only) are kept as
    <default>/isbi2015-protocol, with their manifest and model card, so that `cephtrace
    evaluate --protocol isbi2015` keeps scoring models that never saw the test images. Stage 0,
    Stage 1 and the confidence calibration stay the protocol ones: refit the calibration for
    the new members afterwards (tools/calibrate_confidence.py header), then write_manifest."""
    protocol = os.path.join(default_dir, PROTOCOL_SUBDIR)
    if not os.path.exists(protocol):
        keep = [e for e in os.listdir(default_dir) if e != PROTOCOL_SUBDIR]
        os.makedirs(protocol)
        for e in keep:
            src = os.path.join(default_dir, e)
            (shutil.copytree if os.path.isdir(src) else shutil.copy2)(src, os.path.join(protocol, e))
        write_manifest(protocol)
    for member in ("refine.onnx", "refine_2.onnx"):
        shutil.copy2(os.path.join(fold_dir, "stage2", member), os.path.join(default_dir, "stage2", member))
    if extended:
        shutil.copy2(extended, os.path.join(default_dir, "extended", "refine_extended.onnx"))
    write_manifest(default_dir)
    print("[folds] %s: stage2/ is fold all's; the protocol models are in %s" % (default_dir, protocol), flush=True)


def score(fold, models, runs, cephtrace, data, jobs, extended=False):
    """The held-out split with the C++ engine; extended: with the extended model, whose 14
    landmarks are scored against the CL-2023 labels (the "extended, pooled" row). Writes
    <runs>/held_out.md and held_out.json (for --kfold)."""
    if fold == "train":
        return score_training_split(models, runs, cephtrace, data, jobs)
    out = os.path.join(runs, "held_out.md")
    cmd = [cephtrace, "evaluate", "--protocol", "isbi2015", "--data-dir", data, "--model-dir", models,
           "--jobs", str(jobs), "--markdown", out, "--output", os.path.join(runs, "held_out.json"),
           "--quiet"] + ([] if extended else ["--no-extended"])
    print("[folds] scoring: %s" % " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    rows = [l for l in open(out) if l.startswith("| Test") or "extended, pooled" in l]
    print("[folds] fold %s, held out: %s\n%s" % (fold, FOLDS[fold]["held_out"], "".join(rows)), flush=True)
    return out


def score_training_split(models, runs, cephtrace, data, jobs):
    """001-150 against the senior labels (19 landmarks, 0.1 mm/px, as the protocol scores its
    test splits), without priors: the fold has no Stage 0 that has not seen these films."""
    gt = os.path.join(runs, "gt")
    subprocess.run([cephtrace, "import", "--format", "isbi-senior", "--input",
                    os.path.join(data, "annotations", "senior", "train_senior.csv"), "--output-dir", gt],
                   check=True, stdout=subprocess.DEVNULL)
    out = os.path.join(runs, "held_out.md")
    cmd = [cephtrace, "evaluate", "--gt-dir", gt, "--image-dir", os.path.join(data, "images"), "--ids", "1-150",
           "--pixel-spacing", "0.1", "--priors", "zero", "--no-extended", "--model-dir", models,
           "--jobs", str(jobs), "--markdown", out, "--output", os.path.join(runs, "held_out.json"), "--quiet"]
    print("[folds] scoring: %s" % " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    print("[folds] fold train, held out: %s\n%s" % (FOLDS["train"]["held_out"], overall_line(out)), flush=True)
    return out


def overall_line(markdown):
    """The report's all-landmarks row and its confidence interval."""
    return "".join(l for l in open(markdown) if l.startswith("| **all**") or l.startswith("Images scored"))


# Each fold's held-out films in its held_out.json: fold -> (report key, None: the whole file is
# one evaluate report; films, for a fold given by its MRE alone).
HELD_OUT_REPORT = {"train": (None, 150), "test1": ("test1", 150), "test2": ("test2", 100)}


def kfold(runs, given=None):
    """Pool the three folds' held-out films (each scored by models that never saw it) into one
    cross-validated MRE over 001-400: the landmark errors of all films, i.e. the folds' MREs
    weighted by their scored landmarks. given: {fold: MRE} for folds whose held_out.json is not
    at hand (an earlier session's figure, e.g. the model card's), counted as 19 landmarks a film."""
    total_n, total_err, lines = 0, 0.0, []
    for fold, (key, films) in HELD_OUT_REPORT.items():
        path = os.path.join(runs, fold, "held_out.json")
        if fold in (given or {}):
            n, mre, source = 19 * films, given[fold], "given"
        elif os.path.exists(path):
            with open(path) as f:
                report = json.load(f)
            overall = (report[key] if key else report)["overall"]
            n, mre, source = overall["n"], overall["mre_mm"], path
        else:
            raise SystemExit("[folds] %s: missing; run `python3 -m training.folds --fold %s` first, or give "
                             "its MRE (--given %s=MRE)" % (path, fold, fold))
        total_n += n
        total_err += n * mre
        lines.append("  fold %-5s held out %-34s n %5d  MRE %.3f mm  (%s)" % (fold, FOLDS[fold]["held_out"], n,
                                                                           mre, source))
    print("[folds] 3-fold cross-validation over ISBI 001-400 (19 landmarks, senior labels):\n%s\n"
          "  pooled: n %d  MRE %.3f mm" % ("\n".join(lines), total_n, total_err / total_n), flush=True)
    return total_err / total_n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fold", choices=sorted(FOLDS))
    ap.add_argument("--kfold", action="store_true",
                    help="pool the held-out films of folds train, test1 and test2 (their held_out.json "
                         "under --runs) into the cross-validated MRE over 001-400")
    ap.add_argument("--given", action="append", default=[], metavar="FOLD=MRE",
                    help="with --kfold: a fold's held-out MRE where its held_out.json is not at hand")
    ap.add_argument("--part", default="stage2", choices=["stage2", "extended"],
                    help="what the fold fine-tunes: both Stage 2 members (default) or the extended "
                         "model (on the fold's images with CL-2023 labels; runs in <runs>/<fold>-extended)")
    ap.add_argument("--base", default=None,
                    help="the models fine-tuned, trained on 1-150 only; default: models/%s, else "
                         "models" % PROTOCOL_SUBDIR)
    ap.add_argument("--runs", default="/root/cephtrace-runs/folds", help="checkpoints, logs and model folders")
    ap.add_argument("--minutes", type=float, default=45.0, help="training minutes of each Stage 2 member "
                    "(or of the extended model)")
    ap.add_argument("--stage1-minutes", type=float, default=55.0,
                    help="fold train: Stage 1's training minutes (alone, before the members)")
    ap.add_argument("--lr", type=float, default=FINE_TUNE_LR, help="peak learning rate of the fine-tune (Adam)")
    ap.add_argument("--score-only", action="store_true")
    ap.add_argument("--export-only", action="store_true",
                    help="export the last checkpoints into the fold's model folder, then stop")
    ap.add_argument("--promote", action="store_true",
                    help="with --fold all: make the fold's Stage 2 the shipped default (--default-dir), "
                         "keeping the protocol models in <default-dir>/%s" % PROTOCOL_SUBDIR)
    ap.add_argument("--default-dir", default="models", help="the shipped default's folder (--promote)")
    ap.add_argument("--extended", default=None,
                    help="with --promote: an extended model (refine_extended.onnx) for the default too")
    ap.add_argument("--cephtrace", default="build/bin/cephtrace")
    ap.add_argument("--data", default=os.environ.get("CEPH_DATA", "../shared/data/isbi2015"))
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args(argv)
    if a.kfold:
        kfold(a.runs, dict((f, float(m)) for f, _, m in (g.partition("=") for g in a.given)))
        return
    if a.fold is None:
        ap.error("give --fold (or --kfold)")
    if a.base is None:
        a.base = test_image_models()
    if a.promote and a.fold != "all":
        raise SystemExit("[folds] --promote is for --fold all (the other folds hold test images out)")
    if not os.path.exists(os.path.join(a.base, "stage2", "refine.onnx")):
        raise SystemExit("[folds] %s: no stage2/refine.onnx (give --base)" % a.base)
    extended = a.part == "extended"
    if extended and FOLDS[a.fold].get("scratch"):
        raise SystemExit("[folds] fold %s has no extended part (the extended model starts from the base's)" % a.fold)
    runs = os.path.join(a.runs, a.fold + ("-extended" if extended else ""))
    os.makedirs(runs, exist_ok=True)
    if a.export_only:
        if FOLDS[a.fold].get("scratch"):
            export_best(runs, fold_models(a.base, runs, scratch=True))
            return
        (export_extended_schedule_end if extended else export_schedule_ends)(runs, fold_models(a.base, runs))
        return
    if a.promote:
        promote(os.path.join(runs, "models"), a.default_dir, a.extended)
        return
    if a.score_only:
        # a from-scratch fold's folder gets the base's Stage 0 (for the facing direction) if missing
        models = (fold_models(a.base, runs, scratch=True) if FOLDS[a.fold].get("scratch")
                  else os.path.join(runs, "models"))
    else:
        models = (train_extended(a.fold, a.base, runs, a.minutes, a.lr) if extended
                  else train(a.fold, a.base, runs, a.minutes, a.lr, a.stage1_minutes))
    if FOLDS[a.fold]["held_out"]:
        score(a.fold, models, runs, a.cephtrace, a.data, a.jobs, extended)
    else:
        print("[folds] fold all: the fine-tuned %s is in %s" % (
            "extended/" if extended else "stage2/", models), flush=True)


if __name__ == "__main__":
    sys.exit(main())
