#!/usr/bin/env python3
"""How long OpenCV DNN takes for 25 Stage 2 patches with a RefineNet of each channel width, or
(--network stage0) for Stage 0's four zone networks and its profile network (random weights:
the time depends on the shapes only). Issue 15: which narrower network to train
(training/README.md, sessions 18 and 20).

    /usr/bin/python3 tools/refine_width_speed.py [--threads 2] [--runs 8] [WIDTHS ...]
    /usr/bin/python3 tools/refine_width_speed.py --network stage0 [WIDTHS ...]

WIDTHS: comma-separated channels at 128/64/32/16/8 px, e.g. 8,16,32,64,64 (Stage 0: at
128/64/32/16 px, e.g. 8,16,32,64); default: a few.
"""
import argparse
import os
import sys
import tempfile
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from training import stage0  # noqa: E402
from training.common import parse_unet_width, parse_width  # noqa: E402
from training.export import export_onnx  # noqa: E402
from training.refine import NLM, PATCH, WIDTH, RefineNet  # noqa: E402

CANDIDATES = [WIDTH, (16, 24, 48, 64, 64), (8, 24, 48, 96, 96), (16, 16, 32, 64, 64),
              (8, 16, 32, 64, 64), (8, 16, 32, 48, 48)]
STAGE0_CANDIDATES = [stage0.WIDTH, (16, 24, 48, 64), (8, 16, 32, 64), (8, 16, 32, 48), (8, 12, 24, 48)]


def median_ms(net, x, runs):
    """Median of `runs` forwards after 2 of warm-up."""
    times = []
    for _ in range(max(runs, 3)):
        net.setInput(x)
        t = time.perf_counter()
        net.forward()
        times.append(time.perf_counter() - t)
    return 1000 * np.median(times[2:])


def stage0_speed(widths, runs):
    """Each width: the four zone networks (one 256² crop each) and the profile network (512²)."""
    print("| widths at 128 / 64 / 32 / 16 px | parameters (a zone) | four zones, ms | profile, ms |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for w in widths:
            zones = 0.0
            for kind in stage0.ZONES:
                model = stage0.make_model(kind, w).eval()
                x = np.random.default_rng(0).random((1, 1, 256, 256), dtype=np.float32)
                path = export_onnx(model, torch.from_numpy(x), os.path.join(tmp, kind + ".onnx"))
                zones += median_ms(cv2.dnn.readNetFromONNX(path), x, runs)
            params = sum(p.numel() for p in model.parameters()) / 1e6
            x = np.random.default_rng(0).random((1, 1, 512, 512), dtype=np.float32)
            path = export_onnx(stage0.make_model("profile", w).eval(), torch.from_numpy(x),
                               os.path.join(tmp, "profile.onnx"))
            profile = median_ms(cv2.dnn.readNetFromONNX(path), x, runs)
            print("| %s | %.2f M | %.0f | %.0f |" % (", ".join(map(str, w)), params, zones, profile), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("widths", nargs="*", help="e.g. 8,16,32,64,64 (Stage 0: 8,16,32,64)")
    ap.add_argument("--network", choices=["refine", "stage0"], default="refine")
    ap.add_argument("--threads", type=int, default=2, help="OpenCV threads")
    ap.add_argument("--runs", type=int, default=8, help="forwards per width; the first 2 are warm-up")
    a = ap.parse_args()
    cv2.setNumThreads(a.threads)
    parse = parse_unet_width if a.network == "stage0" else parse_width
    try:
        widths = [parse(w) for w in a.widths]
    except argparse.ArgumentTypeError as e:
        ap.error(str(e))
    if a.network == "stage0":
        return stage0_speed(widths or STAGE0_CANDIDATES, a.runs)
    widths = widths or CANDIDATES
    x = np.random.default_rng(0).standard_normal((NLM, 1, PATCH, PATCH)).astype(np.float32)
    print("| widths at 128 / 64 / 32 / 16 / 8 px | parameters | %d patches, median ms |" % NLM)
    print("|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for w in widths:
            model = RefineNet(w).eval()
            path = export_onnx(model, torch.from_numpy(x), os.path.join(tmp, "refine.onnx"))
            net = cv2.dnn.readNetFromONNX(path)
            params = sum(p.numel() for p in model.parameters()) / 1e6
            print("| %s | %.2f M | %.0f |" % (", ".join(map(str, w)), params, median_ms(net, x, a.runs)), flush=True)


if __name__ == "__main__":
    main()
