"""End-to-end Python reference of the engine's pipeline with OUR exported ONNX models (cv2.dnn),
robust Phase 0D mode, to measure what the priors from our Stage 0 are worth on held-out images.

  /usr/bin/python3 -m training.pipeline_eval --models models --ids 141-150

Reports per-image Stage 0 status, MRE (mm, 0.1 mm/px) of (a) the Stage 0 priors' positions,
(b) Stage 1 with our Stage 0 priors, (c) Stage 1 with all-zero priors (degraded mode).
Images are mirrored to face left first (ISBI faces right); errors are orientation-invariant.
"""
import argparse
import os

import cv2
import numpy as np
from PIL import Image

from . import common as C
from . import labels as Lb
from . import check_labels as CL
from .stage0 import ZONES, PROFILE_FILE


def run_net(net, x):
    net.setInput(x.astype(np.float32))
    return net.forward()


def stage0(nets, grey, W, H):
    proc = cv2.resize(grey, (512, 512), interpolation=cv2.INTER_LINEAR)
    logit = run_net(nets["profile"], proc[None, None] / 255.0)[0, 0]
    mask = (logit > 0).astype(np.uint8)
    r = Lb.phase0b(mask)
    zones = r["zones"]
    sx, sy = W / 512.0, H / 512.0
    classes = {}
    for zk, info in ZONES.items():
        x1, y1, x2, y2 = zones[info["zi"]]
        crop = proc[y1:y2, x1:x2]
        clip, tile = Lb.ZONE_CLAHE[zk]
        cl = cv2.createCLAHE(clipLimit=clip, tileGridSize=(tile, tile)).apply(np.ascontiguousarray(crop))
        inp = cv2.resize(cl, (256, 256), interpolation=cv2.INTER_LINEAR) / 255.0
        out = run_net(nets[zk], inp[None, None])[0]
        for c, cls in enumerate(info["classes"]):
            b = (out[c] > 0).astype(np.uint8)
            b = cv2.resize(b, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
            canvas = np.zeros((512, 512), np.uint8)
            canvas[y1:y2, x1:x2] = b
            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
            canvas = cv2.morphologyEx(cv2.morphologyEx(canvas, cv2.MORPH_CLOSE, k), cv2.MORPH_OPEN, k)
            n, lab, st, _ = cv2.connectedComponentsWithStats(canvas)
            if n <= 1:
                continue
            j = 1 + int(np.argmax(st[1:, cv2.CC_STAT_AREA]))
            if st[j, cv2.CC_STAT_AREA] < 20:
                continue
            comp = (lab == j).astype(np.uint8)
            # merge rule: z1 before z4 for cranial_base, z3 before z4 for mandibular_border
            if cls in classes and zk == "z4":
                continue
            classes[cls] = comp
    f = r["features"]
    nose = np.array(f["nose"], float) * [sx, sy] if f else None
    chin = np.array(f["chin"], float) * [sx, sy] if f else None
    anchors = {}
    if f is not None:
        prim = {k: v for k, v in classes.items() if k in CL.TOL}
        anchors = CL.anchors_from_masks(prim, W, H, nose, chin)
        if "Prn" in r["soft"]:
            anchors["Prn"] = np.array(r["soft"]["Prn"], float) * [sx, sy]
    return mask, r, anchors, classes


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="models")
    ap.add_argument("--ids", default="141-150")
    a = ap.parse_args(argv)
    lo, hi = [int(v) for v in a.ids.split("-")]
    d = a.models
    nets = {"profile": cv2.dnn.readNetFromONNX(os.path.join(d, "stage0", PROFILE_FILE)),
            "mlp": cv2.dnn.readNetFromONNX(os.path.join(d, "stage0", "phase0e_model.onnx")),
            "stage1": cv2.dnn.readNetFromONNX(os.path.join(d, "stage1", "v4_stage1.onnx"))}
    for zk, info in ZONES.items():
        nets[zk] = cv2.dnn.readNetFromONNX(os.path.join(d, "stage0", info["file"]))
    E_pri, E_s1, E_0 = [], [], []
    anc_err = {n: [] for n in C.ANCHORS_7}
    for i in range(lo, hi + 1):
        grey = C.load_grey_mirrored(i)
        H, W = grey.shape
        gt, _ = C.load_landmarks(i, grey=grey, training=False)
        mask, r, anchors, classes = stage0(nets, grey, W, H)
        a14 = np.full(14, 0.5, np.float32)
        for k, n in enumerate(C.ANCHORS_7):
            if n in anchors:
                a14[2 * k] = anchors[n][0] / W; a14[2 * k + 1] = anchors[n][1] / H
                if not np.isnan(gt[C.IDX[n], 0]):
                    anc_err[n].append(np.hypot(*(anchors[n] - gt[C.IDX[n]])) * 0.1)
        der = run_net(nets["mlp"], a14[None])[0].reshape(18, 2)
        pos = np.full((25, 2), 0.5)
        for k, n in enumerate(C.DERIVED_18):
            pos[C.IDX[n]] = der[k]
        for k, n in enumerate(C.ANCHORS_7):
            pos[C.IDX[n]] = a14[2 * k:2 * k + 2]
        for n in ("UL", "LL", "Sn", "Pog_soft", "Pm"):
            if n in r["soft"]:
                pos[C.IDX[n]] = np.array(r["soft"][n], float) / 512.0
        pri = C.upsample_priors(C.render_priors256(pos, np.ones(25, bool)))
        rgb = np.asarray(C.load_rgb_mirrored(i).resize((512, 512), Image.BILINEAR), np.float32) / 255.0
        base = np.transpose(rgb, (2, 0, 1))
        present = ~np.isnan(gt[:, 0])
        for pr_, store in ((pri, E_s1), (np.zeros_like(pri), E_0)):
            hm = run_net(nets["stage1"], np.concatenate([base, pr_], 0)[None])[0]
            p = C.decode_dark_lite(hm) / 256.0 * [W, H]
            store += list(np.hypot(*(p[present] - gt[present]).T) * 0.1)
        E_pri += list(np.hypot(*(pos[present] * [W, H] - gt[present]).T) * 0.1)
        print("%03d: mask %d px, soft %d/6, classes %s, anchors %d/7, stage1 MRE %.2f mm" %
              (i, int(mask.sum()), len(r["soft"]), sorted(classes), len(anchors), np.mean(E_s1[-present.sum():])), flush=True)
    print("anchor error (mm): " + "  ".join("%s %.2f (%d)" % (n, np.mean(v), len(v)) for n, v in anc_err.items() if v))
    print("MRE over %d landmark observations: Stage 0 prior positions %.2f mm | Stage 1 with our priors %.2f mm | "
          "Stage 1 with zero priors %.2f mm" % (len(E_s1), np.mean(E_pri), np.mean(E_s1), np.mean(E_0)))


if __name__ == "__main__":
    main()
