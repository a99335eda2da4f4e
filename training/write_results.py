"""Collect the Python-side validation numbers (held-out ISBI 141-150) of the exported models and
write them into models/MODEL_CARD.md (replacing the block between the RESULTS markers).

  /usr/bin/python3 -m training.write_results --models models --runs /root/cephtrace-runs
"""
import argparse
import contextlib
import io
import os
import re

import numpy as np
import torch

from . import common as C
from .runtime import load_checkpoint


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="models")
    ap.add_argument("--runs", default="/root/cephtrace-runs")
    ap.add_argument("--card", default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    lines = []
    from . import stage1 as S1
    ck = load_checkpoint(os.path.join(a.runs, "stage1_best.pt"))
    m = S1.Stage1Net(ck["width"]); m.load_state_dict(ck["model"]); m.eval()
    va = S1.load_cases(C.VAL_IDS, verbose=False)
    mre_gt, per = S1.evaluate(m, va, noise=0.5)
    mre_0, per0 = S1.evaluate(m, va, zero_priors=True)
    lines.append("Stage 1 (PyTorch checkpoint = exported file, best epoch %d), argmax + DARK-lite, 10 images:" % ck["epoch"])
    lines.append("")
    lines.append("| priors | MRE (mm) |")
    lines.append("|---|---|")
    lines.append("| GT + jitter σ/2 (selection metric) | %.2f |" % mre_gt)
    lines.append("| all zero (degraded mode) | %.2f |" % mre_0)
    # end-to-end with our Stage 0 (cv2.dnn)
    from . import pipeline_eval as PE
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        PE.main(["--models", a.models, "--ids", "141-150"])
    out = buf.getvalue().strip().splitlines()
    summ = [l for l in out if l.startswith("MRE over")]
    anc = [l for l in out if l.startswith("anchor error")]
    if summ:
        vals = re.findall(r"([0-9.]+) mm", summ[0])
        if len(vals) == 3:
            lines.append("| our Stage 0 (Python port of the engine, robust 0D, cv2.dnn) | %s |" % vals[1])
            lines.append("")
            lines.append("Stage 0 alone (prior positions = anchors + MLP + 0B soft points): MRE %s mm." % vals[0])
    if anc:
        lines.append("Stage 0 anchors vs GT — " + anc[0])
    lines.append("")
    lines.append("Per landmark, Stage 1 with GT+jitter priors / zero priors (mm):")
    lines.append("")
    lines.append("| landmark | " + " | ".join(C.CANONICAL_25) + " |")
    lines.append("|---|" + "---|" * 25)
    lines.append("| jittered GT priors | " + " | ".join("%.1f" % v for v in per) + " |")
    lines.append("| zero priors | " + " | ".join("%.1f" % v for v in per0) + " |")
    lines.append("")
    # stage 0 and MLP
    d = []
    for k in ("profile", "z1", "z2", "z3", "z4"):
        p = os.path.join(a.runs, "stage0_%s_best.pt" % k)
        if os.path.exists(p):
            d.append("%s %.3f" % (k, load_checkpoint(p)["dice"]))
    lines.append("Stage 0 segmenters, validation Dice (thresholded, GT-derived labels and zone boxes): " + ", ".join(d) + ".")
    p = os.path.join(a.runs, "mlp_best.pt")
    if os.path.exists(p):
        mk = load_checkpoint(p)
        lines.append("0E MLP with clean GT anchors: MRE %.2f mm (" % mk["val_mre"] +
                     ", ".join("%s %.1f" % kv for kv in mk["per"].items()) + ").")
    p = os.path.join(a.runs, "refine_best.pt")
    if os.path.exists(p):
        from . import refine as R
        rk = load_checkpoint(p)
        net = R.RefineNet(); net.load_state_dict(rk["model"])
        after, before = R.evaluate(net, R.load_cases(C.VAL_IDS, verbose=False))
        lines.append("Stage 2 refinement (best step %d), one pass from truth + N(0, 2 mm) per axis, all "
                     "landmarks the images have: MRE %.2f mm → %.2f mm." % (rk["step"], before, after))
    lines.append("")
    lines.append("Reproduce: `/usr/bin/python3 -m training.write_results --models models --runs /root/cephtrace-runs`, "
                 "`/usr/bin/python3 -m training.pipeline_eval --models models --ids 141-150`.")
    text = "\n".join(lines)
    print(text)
    card = a.card or os.path.join(a.models, "MODEL_CARD.md")
    s = open(card).read()
    block = "<!-- RESULTS:BEGIN -->\n" + text + "\n<!-- RESULTS:END -->"
    if "RESULTS_PLACEHOLDER" in s:
        s = re.sub(r"^.*RESULTS_PLACEHOLDER.*$", lambda _: block, s, count=1, flags=re.M)
    else:
        s = re.sub(r"<!-- RESULTS:BEGIN -->.*?<!-- RESULTS:END -->", lambda _: block, s, flags=re.S)
    open(card, "w").write(s)
    print("written to", card)


if __name__ == "__main__":
    main()
