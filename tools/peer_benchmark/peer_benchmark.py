#!/usr/bin/env python3
"""Peer benchmark: every ONNX file of a model folder under our runtime (OpenCV DNN, the
engine's backend: DNN_BACKEND_OPENCV on the CPU) and under ONNX Runtime (npm
onnxruntime-node, CPU), in the same run, with the same input and thread count.

    /usr/bin/python3 tools/peer_benchmark/peer_benchmark.py --models models \\
        [--runs 10] [--warmup 2] [--threads 2] [--markdown docs/results/peer_benchmark.md]

ONNX Runtime is installed by this script into --npm-dir (default build/peer-benchmark) with
`npm install --ignore-scripts onnxruntime-node@VERSION` (the CPU library ships in the
package; the install script would only fetch CUDA libraries). It is used for this benchmark
only, never by the engine. Each file is timed under OpenCV, then under ONNX Runtime, one file
after the other, so both see the same machine load. Input shapes are read from the file; the
input is seeded uniform noise in [0, 1). The outputs of the two runtimes are compared (max
absolute difference), so a fast but wrong run would show.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnx

HERE = Path(__file__).resolve().parent
ORT_VERSION = "1.30.0"


def ensure_ort(npm_dir: Path) -> None:
    module = npm_dir / "node_modules" / "onnxruntime-node" / "package.json"
    if module.exists() and json.loads(module.read_text())["version"] == ORT_VERSION:
        return
    npm_dir.mkdir(parents=True, exist_ok=True)
    print(f"peer_benchmark: installing onnxruntime-node {ORT_VERSION} into {npm_dir}", file=sys.stderr)
    subprocess.run(["npm", "install", "--prefix", str(npm_dir), "--no-audit", "--no-fund",
                    "--ignore-scripts", f"onnxruntime-node@{ORT_VERSION}"], check=True,
                   stdout=subprocess.DEVNULL)


def input_shape(path: Path):
    model = onnx.load(str(path), load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    inp = next(i for i in model.graph.input if i.name not in inits)
    dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    if any(d <= 0 for d in dims):
        raise SystemExit(f"peer_benchmark: {path}: input {inp.name} has no static shape {dims}")
    return dims


def time_opencv(path: Path, blob: np.ndarray, runs: int, warmup: int):
    t = time.perf_counter()
    net = cv2.dnn.readNetFromONNX(str(path))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    load_ms = (time.perf_counter() - t) * 1e3
    out = None
    for _ in range(warmup):
        net.setInput(blob)
        out = net.forward()
    ms = []
    for _ in range(runs):
        t = time.perf_counter()
        net.setInput(blob)
        out = net.forward()
        ms.append((time.perf_counter() - t) * 1e3)
    return load_ms, ms, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--models", default="models", help="model folder (every *.onnx below it)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2, help="threads for both runtimes")
    ap.add_argument("--npm-dir", default="build/peer-benchmark")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("--json", help="also write every timing to this JSON file")
    a = ap.parse_args()

    models = Path(a.models)
    files = sorted(models.rglob("*.onnx"))
    if not files:
        print(f"peer_benchmark: no .onnx files under {models}", file=sys.stderr)
        return 2
    npm_dir = Path(a.npm_dir).resolve()
    ensure_ort(npm_dir)
    cv2.setNumThreads(a.threads)
    work = npm_dir / "io"
    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = []
    for f in files:
        shape = input_shape(f)
        blob = rng.random(shape, dtype=np.float32)
        cv_load, cv_ms, cv_out = time_opencv(f, blob, a.runs, a.warmup)
        (work / "input.bin").write_bytes(blob.tobytes())
        p = subprocess.run(["node", str(HERE / "ort_time.cjs"), str(npm_dir), str(f), str(work / "input.bin"),
                            ",".join(map(str, shape)), str(a.runs), str(a.warmup), str(a.threads),
                            str(work / "output.bin")], capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stderr, file=sys.stderr)
            return 1
        ort = json.loads(p.stdout.strip().splitlines()[-1])
        ort_out = np.fromfile(work / "output.bin", dtype=np.float32)
        diff = float(np.max(np.abs(ort_out - cv_out.astype(np.float32).ravel()))) if ort_out.size == cv_out.size else float("nan")
        row = {"file": str(f.relative_to(models)), "input": shape,
               "opencv_ms": statistics.median(cv_ms), "opencv_min_ms": min(cv_ms), "opencv_load_ms": cv_load,
               "ort_ms": statistics.median(ort["ms"]), "ort_min_ms": min(ort["ms"]), "ort_load_ms": ort["load_ms"],
               "max_abs_diff": diff, "opencv_runs_ms": cv_ms, "ort_runs_ms": ort["ms"]}
        row["ratio"] = row["opencv_ms"] / row["ort_ms"]
        rows.append(row)
        print(f"{row['file']:40s} OpenCV {row['opencv_ms']:8.1f} ms  ORT {row['ort_ms']:8.1f} ms  "
              f"ratio {row['ratio']:.2f}  max|diff| {diff:.1e}", file=sys.stderr)
    load = os.getloadavg()[0]
    lines = [f"Peer benchmark: `{models}`, OpenCV {cv2.__version__} DNN (CPU) vs ONNX Runtime {ORT_VERSION} "
             f"(onnxruntime-node, CPU), {a.threads} threads each, median (min) of {a.runs} runs after {a.warmup} "
             f"warm-up runs, seeded noise input. Load average at the end: {load:.2f} on {os.cpu_count()} cores.",
             f"Command: `/usr/bin/python3 tools/peer_benchmark/peer_benchmark.py --models {a.models} --runs {a.runs} "
             f"--warmup {a.warmup} --threads {a.threads}`", "",
             "| file | input | OpenCV DNN ms | ONNX Runtime ms | OpenCV / ORT | load ms OpenCV / ORT | max abs diff |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| `{r['file']}` | {'×'.join(map(str, r['input']))} | {r['opencv_ms']:.1f} ({r['opencv_min_ms']:.1f}) "
                     f"| {r['ort_ms']:.1f} ({r['ort_min_ms']:.1f}) | {r['ratio']:.2f} | {r['opencv_load_ms']:.0f} / "
                     f"{r['ort_load_ms']:.0f} | {r['max_abs_diff']:.1e} |")
    tot_cv = sum(r["opencv_ms"] for r in rows)
    tot_ort = sum(r["ort_ms"] for r in rows)
    lines.append(f"| **all files, one forward each** | | {tot_cv:.1f} | {tot_ort:.1f} | {tot_cv / tot_ort:.2f} | | |")
    table = "\n".join(lines) + "\n"
    print(table)
    if a.markdown:
        Path(a.markdown).write_text(table)
    if a.json:
        Path(a.json).write_text(json.dumps({"rows": rows, "threads": a.threads, "runs": a.runs,
                                            "load_average_end": load}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
