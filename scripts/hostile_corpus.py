#!/usr/bin/python3
"""The bad-input corpus of issue 17, run against one cephtrace binary: one row per case with
its exit code (or signal), time, peak memory, and whether the case ended as it must.

  scripts/hostile_corpus.py --cephtrace build/bin/cephtrace [--models models] [--work DIR]

Every case is generated here (nothing is downloaded or committed). Each command runs with its
address space capped (--max-gb, default 8) and a time limit (--timeout, default 120 s), so that
an unfixed binary fails the case instead of exhausting the machine. Prints a Markdown table;
the exit status is the number of cases that did not end as they must."""
import argparse
import json
import os
import pathlib
import resource
import shutil
import struct
import subprocess
import sys
import time
import zlib

import cv2
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--cephtrace", required=True)
ap.add_argument("--models", default="models")
ap.add_argument("--work", default="/tmp/cephtrace_hostile_corpus")
ap.add_argument("--max-gb", type=float, default=8)
ap.add_argument("--timeout", type=float, default=120)
args = ap.parse_args()
BIN = os.path.abspath(args.cephtrace)
MODELS = os.path.abspath(args.models)
W = pathlib.Path(args.work)
shutil.rmtree(W, ignore_errors=True)
W.mkdir(parents=True)
SENTINEL = "earlier result, must survive\n"


def limit():
    cap = int(args.max_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def run(cmd):
    """(exit code or -signal, seconds, peak RSS MB, stderr)"""
    t = time.monotonic()
    try:
        p = subprocess.Popen(["/usr/bin/time", "-f", "@@RSS %M", BIN] + cmd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, preexec_fn=limit)
        err = p.communicate(timeout=args.timeout)[1]
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return ("timeout", time.monotonic() - t, None, "")
    secs = time.monotonic() - t
    rss = None
    lines = []
    for line in err.splitlines():
        if line.startswith("@@RSS "):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Command terminated by signal"):
            lines.append(line)
        elif not line.startswith("Command exited with non-zero status"):
            lines.append(line)
    code = p.returncode
    sig = [l for l in lines if l.startswith("Command terminated by signal")]
    if sig:
        code = "signal " + sig[0].split()[-1]
    return (code, secs, rss, "\n".join(l for l in lines if not l.startswith("Command terminated")))


def sentinel(path):
    pathlib.Path(path).write_text(SENTINEL)
    return str(path)


def untouched(path):
    return pathlib.Path(path).exists() and pathlib.Path(path).read_text() == SENTINEL


def image(path, w=400, h=480):
    img = np.zeros((h, w, 3), np.uint8)
    cv2.ellipse(img, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, (200, 200, 200), -1)
    cv2.imwrite(str(path), img)
    return str(path)


def png_of_zeros(path, w, h):
    """A real w x h grey PNG of zeros, streamed (a few MB for 20000^2)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    z = zlib.compressobj(9)
    row = b"\0" * (w + 1)
    idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + \
        chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    pathlib.Path(path).write_bytes(data)
    return str(path)


def dicom(path, modify=()):
    jpg = W / "dcm_src.jpg"
    cv2.imwrite(str(jpg), cv2.imread(image(W / "dcm_src.png", 320, 300), cv2.IMREAD_GRAYSCALE))
    subprocess.run(["img2dcm", str(jpg), str(path) + ".j"], check=True, capture_output=True)
    subprocess.run(["dcmdjpeg", str(path) + ".j", str(path)], check=True, capture_output=True)
    for m in modify:
        subprocess.run(["dcmodify", "-nb", "-i", m, str(path)], check=True, capture_output=True)
    return str(path)


def gt_dir(name, text):
    d = W / name
    d.mkdir()
    (d / "1.json").write_text(text)
    return str(d)


def pred(name, landmarks='[{"name": "S", "x": 1, "y": 2}]', source="1.png"):
    p = W / name
    p.write_text('{"source": "%s", "landmarks": %s}' % (source, landmarks))
    return str(p)


def deep(n):
    return "[" * n + "]" * n


M = ["--model-dir", MODELS, "--threads", "1"]
cases = []  # (class, case, command, check(result) -> (ok, outcome))


def case(cls, name, cmd, must):
    cases.append((cls, name, cmd, must))


def refused(out=None, degrade=False):
    """Must: exit 1 or 2 (no signal, no timeout), output untouched."""
    def check(code, err):
        ok = code in (1, 2, 105, 106) and (out is None or untouched(out))
        return ok
    return check


def degraded(out):
    def check(code, err):
        if code != 0 or not pathlib.Path(out).exists():
            return False
        j = json.loads(pathlib.Path(out).read_text())
        return j.get("degraded") is True and bool(j.get("degraded_reasons"))
    return check


# -- crashes
o = sentinel(W / "o_deep_gt.json")
case("crash", "ground truth nested 100,000 deep",
     ["evaluate", "--gt-dir", gt_dir("gt_deep", '{"S": %s}' % deep(100000)), "--predictions", pred("p1.json"),
      "--output", o], refused(o))
(W / "lm").mkdir()
(W / "lm" / "a.json").write_text('{"shapes": [{"label": "S", "points": %s}]}' % deep(100000))
case("crash", "LabelMe nested 100,000 deep",
     ["import", "--format", "labelme", "--input", str(W / "lm"), "--output-dir", str(W / "lm_out")], refused())
(W / "ws.csv").write_text("document,points\n1.bmp,\"{0:" + " " * 50000 + "{'x': 1.0, 'y': 2.0}}\"\n")
case("crash", "points.csv field with 50,000 spaces",
     ["import", "--format", "isbi-alternate", "--input", str(W / "ws.csv"), "--output-dir", str(W / "ws_out")],
     lambda code, err: code == 0)
img = image(W / "a.png")
o = sentinel(W / "o_threads.json")
case("crash", "--threads 100000", ["predict", "--image", img, "--model-dir", MODELS, "--threads", "100000",
                                     "--output", o], refused(o))
# -- resources
o = sentinel(W / "o_png.json")
case("resources", "PNG of 20000x20000 (real, zeros)", ["predict", "--image", png_of_zeros(W / "big.png", 20000, 20000)]
     + M + ["--output", o], refused(o))
o = sentinel(W / "o_dcm.json")
case("resources", "DICOM Rows = Columns = 65535",
     ["predict", "--image", dicom(W / "huge.dcm", ["(0028,0010)=65535", "(0028,0011)=65535"])] + M + ["--output", o],
     refused(o))
o = sentinel(W / "o_boot.json")
case("resources", "evaluate --bootstrap 2000000000",
     ["evaluate", "--gt-dir", gt_dir("gt_boot", '{"S": [1, 2]}'), "--predictions", pred("p2.json"),
      "--scale", "recorded", "--pixel-spacing", "0.1", "--bootstrap", "2000000000", "--output", o], refused(o))
keys = '{"S": [10, 20]' + "".join(',"x%d": [1, 2]' % i for i in range(200000)) + "}"
case("resources", "ground truth with 200,000 keys",
     ["evaluate", "--quiet", "--scale", "recorded", "--pixel-spacing", "0.1", "--bootstrap", "10", "--gt-dir",
      gt_dir("gt_keys", keys), "--predictions", pred("p3.json", '[{"name": "S", "x": 11, "y": 20}]')],
     lambda code, err: code == 0)
# -- silent garbage
o = sentinel(W / "o_nan.json")
case("garbage", "predict --pixel-spacing nan", ["predict", "--image", img] + M + ["--pixel-spacing", "nan", "--output", o],
     refused(o))
o = sentinel(W / "o_evnan.json")
case("garbage", "evaluate --pixel-spacing nan",
     ["evaluate", "--gt-dir", gt_dir("gt_nan", '{"S": [1, 2]}'), "--predictions", pred("p4.json"),
      "--pixel-spacing", "nan", "--output", o], refused(o))
o = sentinel(W / "o_dcmsp.json")
case("garbage", "DICOM PixelSpacing 1e308",
     ["predict", "--image", dicom(W / "spacing.dcm", ["(0028,0030)=1e308\\1e308"])] + M + ["--output", o], refused(o))
o = sentinel(W / "o_coord.json")
case("garbage", "ground-truth coordinate 1.2e29",
     ["evaluate", "--gt-dir", gt_dir("gt_coord", '{"S": [1.2e29, 5], "N": [100, 100]}'), "--predictions",
      pred("p5.json"), "--output", o], refused(o))
raw = pathlib.Path(image(W / "whole.jpg", 1200, 1500)).read_bytes()
(W / "cut.jpg").write_bytes(raw[: len(raw) // 2] + b"\xff\xd9")
o = sentinel(W / "o_cut.json")
case("garbage", "truncated JPEG + fake end marker", ["predict", "--image", str(W / "cut.jpg")] + M + ["--output", o],
     refused(o))
o = sentinel(W / "o_cols.json")
case("garbage", "DICOM with wrong Columns", ["predict", "--image", dicom(W / "cols.dcm", ["(0028,0011)=300"])] + M +
     ["--output", o], refused(o))
o = sentinel(W / "o_bits.json")
case("garbage", "DICOM with wrong BitsAllocated",
     ["predict", "--image", dicom(W / "bits.dcm", ["(0028,0100)=16", "(0028,0101)=16", "(0028,0102)=15"])] + M +
     ["--output", o], refused(o))
cv2.imwrite(str(W / "strip.png"), np.full((50, 20000), 90, np.uint8))
o = sentinel(W / "o_strip.json")
case("garbage", "image of 20000x50", ["predict", "--image", str(W / "strip.png")] + M + ["--output", o], refused(o))
cv2.imwritemulti(str(W / "pages.tif"), [np.full((40, 40), 50, np.uint8), cv2.imread(img, cv2.IMREAD_GRAYSCALE)])
o = sentinel(W / "o_tif.json")
case("garbage", "multi-page TIFF", ["predict", "--image", str(W / "pages.tif")] + M + ["--output", o], refused(o))
case("garbage", "--output ''", ["predict", "--image", img] + M + ["--output", ""], refused())
o = sentinel(W / "o_nothing.json")
case("garbage", "evaluate that scores nothing",
     ["evaluate", "--gt-dir", gt_dir("gt_none", '{"S": [1, 2]}'), "--predictions", pred("p6.json", source="2.png"),
      "--output", o], refused(o))
# -- writing
shutil.copy(img, W / "s.png")
before = (W / "s.png").read_bytes()
case("writing", "--output = the input image", ["predict", "--image", str(W / "s.png")] + M + ["--output", str(W / "s.png")],
     lambda code, err: code != 0 and (W / "s.png").read_bytes() == before)
case("writing", "--overlay = the input image",
     ["predict", "--image", str(W / "s.png")] + M + ["--overlay", str(W / "s.png")],
     lambda code, err: code != 0 and (W / "s.png").read_bytes() == before)
(W / "real").mkdir()
sentinel(W / "real" / "r.json")
os.symlink(W / "real" / "r.json", W / "link.json")
case("writing", "--output is a symlink", ["predict", "--quiet", "--image", img] + M + ["--output", str(W / "link.json")],
     lambda code, err: code == 0 and os.path.islink(W / "link.json") and not untouched(W / "real" / "r.json"))
(W / "coll").mkdir()
image(W / "coll" / "p.png")
image(W / "coll" / "p.bmp")
case("writing", "p.png and p.bmp in one folder run", ["predict", "--quiet", "--image-dir", str(W / "coll")] + M +
     ["--overlay", str(W / "coll_ov")], lambda code, err: len(list((W / "coll_ov").glob("*.png"))) == 2)
(W / "skip").mkdir()
image(W / "skip" / "good.png")
(W / "skip" / "folder.jpg").mkdir()
os.symlink(W / "skip" / "nothing.png", W / "skip" / "dangling.jpg")
os.symlink(W / "skip" / "l2.png", W / "skip" / "l1.png")
os.symlink(W / "skip" / "l1.png", W / "skip" / "l2.png")
case("writing", "dangling link, link loop, folder named .jpg", ["predict", "--quiet", "--image-dir", str(W / "skip")] + M,
     lambda code, err: code == 1 and "dangling.jpg" in err and "l1.png" in err and "folder.jpg" in err)
(W / "dup.json").write_text('{"landmarks": [{"name": "S", "x": 1, "y": 2}, {"name": "S", "x": 9, "y": 9}]}')
case("writing", "analyze: landmark named twice", ["analyze", "--landmarks", str(W / "dup.json")],
     lambda code, err: code == 1 and "twice" in err)
o = sentinel(W / "o_typo.json")
case("writing", "evaluate: unknown landmark name",
     ["evaluate", "--gt-dir", gt_dir("gt_typo", '{"S": [1, 2]}'), "--predictions",
      pred("p7.json", '[{"name": "Sela", "x": 1, "y": 2}]'), "--output", o], refused(o))
# -- models
shutil.copytree(MODELS, W / "damaged")
stage1 = W / "damaged" / "stage1" / "v4_stage1.onnx"
b = bytearray(stage1.read_bytes())
rng = np.random.default_rng(17)
for i in rng.integers(len(b) // 2, len(b) - 1000, 50):
    b[i] ^= 0xFF
stage1.write_bytes(bytes(b))
o = W / "o_damaged.json"
sample = str(pathlib.Path(__file__).resolve().parent.parent / "samples" / "isbi2015_151.jpg")
case("models", "50 damaged bytes in the Stage 1 weights",
     ["predict", "--quiet", "--image", sample, "--model-dir", str(W / "damaged"), "--threads", "2", "--output", str(o)],
     lambda code, err, o=o: code != 0 or degraded(o)(code, err))

# A user's own models (no manifest): what the engine's own checks catch.
shutil.copytree(W / "damaged", W / "damaged_own")
(W / "damaged_own" / "MANIFEST.sha256").unlink(missing_ok=True)
o = W / "o_damaged_own.json"
case("models", "the same damage, models without a manifest",
     ["predict", "--quiet", "--image", sample, "--model-dir", str(W / "damaged_own"), "--threads", "2", "--output", str(o)],
     lambda code, err, o=o: code != 0 or degraded(o)(code, err))
try:
    from onnx import TensorProto, helper, numpy_helper
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [25, 1, 128, 128])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [25, 25, 64, 64])
    flat = helper.make_model(helper.make_graph(
        [helper.make_node("Conv", ["input", "w", "b"], ["c"], kernel_shape=[1, 1]),
         helper.make_node("AveragePool", ["c"], ["output"], kernel_shape=[2, 2], strides=[2, 2])], "flat", [x], [y],
        [numpy_helper.from_array(np.zeros((25, 1, 1, 1), np.float32), "w"),
         numpy_helper.from_array(np.full(25, 0.5, np.float32), "b")]), opset_imports=[helper.make_opsetid("", 11)])
    shutil.copytree(MODELS, W / "flat2")
    (W / "flat2" / "MANIFEST.sha256").unlink(missing_ok=True)
    for f in (W / "flat2" / "stage2").glob("refine*.onnx"):
        f.write_bytes(flat.SerializeToString())
    o = W / "o_flat2.json"
    case("models", "Stage 2 models with a flat output",
         ["predict", "--quiet", "--image", sample, "--model-dir", str(W / "flat2"), "--threads", "2", "--output", str(o)],
         lambda code, err, o=o: code != 0 or degraded(o)(code, err))
except ImportError:
    print("python3-onnx missing: no flat-model case")

results = []
failed = 0
print("| class | case | exit | s | peak MB | as it must |")
print("|---|---|---|---:|---:|---|")
for cls, name, cmd, must in cases:
    code, secs, rss, err = run(cmd)
    ok = code not in ("timeout",) and not str(code).startswith("signal") and must(code, err)
    failed += 0 if ok else 1
    print("| %s | %s | %s | %.1f | %s | %s |" % (cls, name, code, secs, "%.0f" % rss if rss else "-", "yes" if ok else "**no**"),
          flush=True)
print("\n%d cases, %d as they must, %d not" % (len(cases), len(cases) - failed, failed))
sys.exit(failed)
