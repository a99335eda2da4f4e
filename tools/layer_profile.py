#!/usr/bin/env python3
"""Where an ONNX file's time goes under OpenCV DNN (the engine's backend): per-layer times
from cv::dnn::Net::getPerfProfile, with each Conv's weight shape.

    /usr/bin/python3 tools/layer_profile.py models/stage2/refine.onnx [--threads 1] [--runs 3] [--top 12]

The input is seeded uniform noise of the shape the file declares. Times are those of the last
run (OpenCV keeps the last forward's profile); the total is the median over --runs.
"""
import argparse
import statistics
import time

import cv2
import numpy as np
import onnx


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--top", type=int, default=12)
    a = ap.parse_args()

    cv2.setNumThreads(a.threads)
    graph = onnx.load(a.model).graph
    inits = {i.name: list(i.dims) for i in graph.initializer}
    inp = next(i for i in graph.input if i.name not in inits)
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    conv_weights = {n.name: inits.get(n.input[1]) for n in graph.node if n.op_type == "Conv"}

    net = cv2.dnn.readNetFromONNX(a.model)
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    net.setInput(x)
    net.forward()  # warm-up: OpenCV allocates on the first forward
    totals = []
    for _ in range(a.runs):
        t = time.perf_counter()
        net.setInput(x)
        net.forward()
        totals.append((time.perf_counter() - t) * 1e3)
    _, layer_ticks = net.getPerfProfile()
    ms_per_tick = 1e3 / cv2.getTickFrequency()
    rows = sorted(((float(t) * ms_per_tick, name) for t, name in
                   zip(np.ravel(layer_ticks), net.getLayerNames())), reverse=True)
    layer_sum = sum(ms for ms, _ in rows)
    print(f"{a.model}: input {shape}, {a.threads} thread(s), forward {statistics.median(totals):.1f} ms "
          f"median of {a.runs}")
    print("| layer | ms | share | Conv weight (out, in, kh, kw) |")
    print("|---|---:|---:|---|")
    for ms, name in rows[: a.top]:
        onnx_name = name.removeprefix("onnx_node!")
        print(f"| {onnx_name} | {ms:.1f} | {100 * ms / layer_sum:.1f} % | {conv_weights.get(onnx_name, '')} |")


if __name__ == "__main__":
    main()
