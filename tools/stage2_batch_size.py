#!/usr/bin/env python3
"""Stage 2's two networks on 25 patches, sent N patches per forward: time, peak memory, and
the output against 25 at once (OpenCV DNN through python3-opencv, the engine's runtime).

    /usr/bin/python3 tools/stage2_batch_size.py --per-forward 5 [--models models] [--threads 2] [--runs 3]

Run once per N (each run is its own process, so the peak resident set is its own); the output
of the first network is saved to /tmp/stage2_batch_<N>.npy and compared with
/tmp/stage2_batch_25.npy when that exists.
"""
import argparse
import os
import resource
import time

import cv2
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-forward", type=int, required=True)
    ap.add_argument("--models", default="models")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    cv2.setNumThreads(a.threads)
    nets = [cv2.dnn.readNetFromONNX(os.path.join(a.models, "stage2", f + ".onnx")) for f in ("refine", "refine_2")]
    patches = np.random.default_rng(0).standard_normal((25, 1, 128, 128)).astype(np.float32)

    def run(net):
        outs = []
        for first in range(0, 25, a.per_forward):
            net.setInput(patches[first:first + a.per_forward])
            outs.append(net.forward().copy())
        return np.concatenate(outs)

    for net in nets:
        run(net)  # warm-up: OpenCV allocates on the first forward
    ms = []
    for _ in range(a.runs):
        t = time.perf_counter()
        outs = [run(net) for net in nets]
        ms.append((time.perf_counter() - t) * 1e3)
    np.save(f"/tmp/stage2_batch_{a.per_forward}.npy", outs[0])
    line = (f"{a.per_forward} patches per forward: both networks {', '.join(f'{m:.0f}' for m in ms)} ms; "
            f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if a.per_forward != 25 and os.path.exists("/tmp/stage2_batch_25.npy"):
        line += f"; max |difference| to 25 at once {np.abs(np.load('/tmp/stage2_batch_25.npy') - outs[0]).max():.1e}"
    print(line)


if __name__ == "__main__":
    main()
