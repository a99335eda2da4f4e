#!/usr/bin/env python3
"""Would OpenCV 4.6's int8 path make Stage 2 faster without losing accuracy? (issue 15)

    PYTHONPATH=. /usr/bin/python3 tools/stage2_int8.py [--model models/stage2/refine.onnx] [--threads 2]

`cv::dnn::Net::quantize` turns the float network into an int8 one (per-channel weights,
activation ranges calibrated on patches of training images 001-140, centred near the truth
as Stage 1 would leave them). Both networks are then timed on the same 25 patches (5 per
forward, as the engine runs them) and scored on the held-out images 141-150 the way Stage 2
is selected (training/refine.py `evaluate`: refine from the truth + N(0, 2 mm) per axis, one
pass, the engine's crops and decoder). Prints the times, the largest heatmap difference and
both errors.
"""
import argparse
import time

import cv2
import numpy as np
import torch

from training import common as C
from training import refine as R

PER_FORWARD = 5  # constants::kRefinePatchesPerForward


class OpenCvNet(torch.nn.Module):
    """An OpenCV DNN network behind the torch-module face that training/refine.py evaluates."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.anchor = torch.nn.Parameter(torch.zeros(1))  # for model_device()

    def forward(self, x):
        return torch.from_numpy(run(self.net, x.numpy()))


def run(net, x):
    outs = []
    for i in range(0, len(x), PER_FORWARD):
        net.setInput(np.ascontiguousarray(x[i:i + PER_FORWARD]))
        outs.append(net.forward().copy())
    return np.concatenate(outs)


def calibration_patches(cases, per_case, seed=3):
    rng = np.random.default_rng(seed)
    xs = []
    for c in cases:
        scale = c.img.shape[1] / c.W
        for k in rng.choice(np.flatnonzero(~np.isnan(c.gpts[:, 0])), per_case, replace=False):
            centre = c.gpts[k] + rng.normal(0, 2.0 / C.MM_PER_PX * scale, 2)
            xs.append(R.engine_patch(c.img, centre)[0])
    return np.stack(xs).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/stage2/refine.onnx")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    cv2.setNumThreads(a.threads)
    calib = calibration_patches(R.load_cases(range(1, 141, 7)), per_case=5)
    val = R.load_cases(C.VAL_IDS)
    fp32 = cv2.dnn.readNetFromONNX(a.model)
    int8 = cv2.dnn.readNetFromONNX(a.model).quantize([calib], cv2.CV_32F, cv2.CV_32F)
    x = np.stack([R.engine_patch(val[0].img, p)[0] for p in np.nan_to_num(val[0].gpts)]).astype(np.float32)
    outputs = {}
    for name, net in (("float32", fp32), ("int8", int8)):
        run(net, x)  # warm-up
        times = []
        for _ in range(a.runs):
            t = time.perf_counter()
            outputs[name] = run(net, x)
            times.append((time.perf_counter() - t) * 1000)
        mre, start = R.evaluate(OpenCvNet(net), val)
        print("%-8s %d patches: %.0f ms (median of %d, %d threads); held-out 141-150: MRE %.3f mm (from %.3f)"
              % (name, len(x), float(np.median(times)), a.runs, a.threads, mre, start), flush=True)
    d = np.abs(outputs["int8"] - outputs["float32"])
    moved = sum(np.unravel_index(np.argmax(outputs["int8"][k, k]), d.shape[2:]) !=
                np.unravel_index(np.argmax(outputs["float32"][k, k]), d.shape[2:]) for k in range(len(x)))
    print("largest heatmap difference %.3f (float32 peak %.3f); argmax cell moved on %d of %d patches"
          % (d.max(), outputs["float32"].max(), moved, len(x)))


if __name__ == "__main__":
    main()
