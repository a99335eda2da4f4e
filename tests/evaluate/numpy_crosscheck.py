#!/usr/bin/python3
"""Independent check of `cephtrace evaluate` (numpy only; no cephtrace code).

  numpy_crosscheck.py make P.json            # predictions: alternate annotations + seeded jitter
  numpy_crosscheck.py score P.json 151 300   # MRE / SD / median / p95 / SDR vs the senior CSVs

Then compare with
  cephtrace import --format isbi-senior --input .../test1_senior.csv --output-dir G --pixel-spacing 0.1
  cephtrace evaluate --predictions P.json --gt-dir G --pixel-spacing 0.1
"""
import ast, csv, json, os, random, sys

import numpy as np

DATA = os.environ.get("CEPHTRACE_ISBI_DIR", os.path.join(os.path.dirname(__file__), "../../../shared/data/isbi2015"))
NAMES = ["S", "N", "Or", "Po", "A", "B", "Pog", "Me", "Gn", "Go", "L1_tip", "U1_tip", "UL", "LL", "Sn",
         "Pog_soft", "PNS", "ANS", "Ar"]


def make(out):
    rng = random.Random(1)
    batch = {}
    for row in csv.DictReader(open(f"{DATA}/annotations/alternate/points.csv")):
        if not 151 <= int(row["document"][:3]) <= 400:
            continue
        pts = ast.literal_eval(row["points"])
        lms = [{"index": k, "name": NAMES[k], "x": pts[k]["x"] + rng.uniform(-3, 3),
                "y": pts[k]["y"] + rng.uniform(-3, 3)} for k in range(19)]
        lms.append({"index": 24, "name": "Prn", "x": 1700.0, "y": 1500.0})  # no senior label: ignored
        batch[f"images/{row['document']}"] = {"original_width": 1935, "original_height": 2400, "landmarks": lms}
    json.dump(batch, open(out, "w"))
    print(len(batch), "predictions written to", out)


def score(predictions, first, last):
    pred = {k.split("/")[-1].split(".")[0]: {l["name"]: (l["x"], l["y"]) for l in v["landmarks"]}
            for k, v in json.load(open(predictions)).items()}
    errors = {n: [] for n in NAMES}
    for f in ["train_senior.csv", "test1_senior.csv", "test2_senior.csv"]:
        for row in csv.DictReader(open(f"{DATA}/annotations/senior/{f}")):
            stem = row["image_path"].split(".")[0]
            if not first <= int(stem) <= last or stem not in pred:
                continue
            for k, n in enumerate(NAMES):
                px, py = pred[stem][n]
                errors[n].append(0.1 * np.hypot(px - float(row[f"{k + 1}_x"]), py - float(row[f"{k + 1}_y"])))
    e = np.concatenate([np.array(v) for v in errors.values()])
    print(f"n={e.size} MRE={e.mean():.6f} SD={e.std(ddof=1):.6f} median={np.median(e):.6f} "
          f"p95={np.percentile(e, 95):.6f}")
    print("SDR (<=)", " ".join(f"{t}:{100 * np.mean(e <= t):.4f}%" for t in (2.0, 2.5, 3.0, 4.0)))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        score(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
