#!/usr/bin/env python3
"""Throughput of `cephtrace serve`: starts the server on a free 127.0.0.1 port, sends
CLIENTS x REQUESTS predictions of one image from parallel clients, and prints requests per
second, latency percentiles, the answers' status codes and the server's resident memory.

    /usr/bin/python3 tools/serve_throughput.py --binary build/bin/cephtrace \
        --model-dir models --image samples/isbi2015_151.jpg --workers 2 --clients 8 --requests 5

Standard library only.
"""
import argparse
import collections
import re
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="build/bin/cephtrace")
    ap.add_argument("--model-dir", default="models")
    ap.add_argument("--image", default="samples/isbi2015_151.jpg")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queue", type=int, default=16)
    ap.add_argument("--threads", type=int, default=0, help="threads per worker (0 = cores / workers)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=5, help="per client")
    a = ap.parse_args()

    server = subprocess.Popen(
        [a.binary, "serve", "--port", "0", "--quiet", "--model-dir", a.model_dir,
         "--workers", str(a.workers), "--queue", str(a.queue), "--threads", str(a.threads),
         "--timeout-s", "600"],
        stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            raise SystemExit("server did not start: " + line)
        url = f"http://127.0.0.1:{m.group(1)}/v1/predict"
        body = open(a.image, "rb").read()

        def post():
            req = urllib.request.Request(url, data=body, headers={"Content-Type": "image/jpeg"})
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(req, timeout=600) as r:
                    r.read()
                    status = r.status
            except urllib.error.HTTPError as e:
                status = e.code
            return status, time.perf_counter() - t

        post()  # warm-up: first run of each worker's models
        rss_before = rss_mib(server.pid)
        latencies, statuses = [], collections.Counter()
        lock = threading.Lock()

        def client():
            for _ in range(a.requests):
                status, seconds = post()
                with lock:
                    statuses[status] += 1
                    latencies.append(seconds)

        start = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(a.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        n = a.clients * a.requests
        lat = sorted(latencies)
        print(f"image {a.image}, models {a.model_dir}, workers {a.workers}, threads/worker "
              f"{a.threads or 'auto'}, {a.clients} clients x {a.requests} requests")
        print(f"  {n} requests in {wall:.1f} s: {n / wall:.2f} requests/s; status {dict(statuses)}")
        print(f"  latency median {statistics.median(lat):.2f} s, p95 {lat[int(0.95 * (len(lat) - 1))]:.2f} s")
        print(f"  server RSS {rss_before:.0f} MiB after warm-up, {rss_mib(server.pid):.0f} MiB after, "
              f"peak {peak_rss_mib(server.pid):.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
