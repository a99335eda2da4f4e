#!/usr/bin/env python3
"""How long OpenCV DNN takes for 25 Stage 2 patches with a RefineNet of each channel width
(random weights: the time depends on the shapes only). Issue 15: which narrower student to
distil (training/README.md, session 18).

    /usr/bin/python3 tools/refine_width_speed.py [--threads 2] [--runs 8] [WIDTHS ...]

WIDTHS: comma-separated channels at 128/64/32/16/8 px, e.g. 8,16,32,64,64 (default: a few).
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
from training.common import parse_width  # noqa: E402
from training.export import export_onnx  # noqa: E402
from training.refine import NLM, PATCH, WIDTH, RefineNet  # noqa: E402

CANDIDATES = [WIDTH, (16, 24, 48, 64, 64), (8, 24, 48, 96, 96), (16, 16, 32, 64, 64),
              (8, 16, 32, 64, 64), (8, 16, 32, 48, 48)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("widths", nargs="*", type=parse_width, help="e.g. 8,16,32,64,64")
    ap.add_argument("--threads", type=int, default=2, help="OpenCV threads")
    ap.add_argument("--runs", type=int, default=8, help="forwards per width; the first 2 are warm-up")
    a = ap.parse_args()
    widths = a.widths or CANDIDATES
    cv2.setNumThreads(a.threads)
    x = np.random.default_rng(0).standard_normal((NLM, 1, PATCH, PATCH)).astype(np.float32)
    print("| widths at 128 / 64 / 32 / 16 / 8 px | parameters | %d patches, median ms |" % NLM)
    print("|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for w in widths:
            model = RefineNet(w).eval()
            path = export_onnx(model, torch.from_numpy(x), os.path.join(tmp, "refine.onnx"))
            net = cv2.dnn.readNetFromONNX(path)
            times = []
            for _ in range(max(a.runs, 3)):
                net.setInput(x)
                t = time.perf_counter()
                net.forward()
                times.append(time.perf_counter() - t)
            params = sum(p.numel() for p in model.parameters()) / 1e6
            print("| %s | %.2f M | %.0f |" % (", ".join(map(str, w)), params, 1000 * np.median(times[2:])), flush=True)


if __name__ == "__main__":
    main()
