"""A training pack: the images and labels Stage 1 and Stage 2 train on, in one small file.

The lent GPU machine receives only this repository (at most 64 MiB with everything else), not
the 122 MB ISBI folder. A pack holds, per image, the grey image resampled to Stage 2's grid
(sqrt(W·H) = 1024, left-facing) as a JPEG at quality 90 (mean absolute difference ~0.9 grey
levels, far below the augmentation's own JPEG and noise steps) and the 25 labels (derived Pm
included), so the GPU needs neither the full-size images nor the label derivation.

    /usr/bin/python3 -m training.pack --ids 1-150 --out .gpu/pack.npz     # 21 MB
    CEPH_PACK=.gpu/pack.npz python3 -m training.train_all --only stage1,refine ...

With CEPH_PACK set, Stage 1 and Stage 2 read their cases from the pack: Stage 2 gets the grid
image, Stage 1 its 512² input resized from it (the ISBI path resizes the full image; both are
area-like downsamplings of the same pixels).
"""
import argparse
import os

import cv2
import numpy as np

from . import common as C
from .grid import resample

PACK = os.environ.get("CEPH_PACK")
JPEG_QUALITY = 90
_DATA = None


def write(ids, path):
    arrays = {"ids": np.array(ids, np.int32)}
    for i in ids:
        g = C.load_grey_mirrored(i)
        pts, _ = C.load_landmarks(i, grey=g)
        ok, enc = cv2.imencode(".jpg", resample(g), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise SystemExit("could not encode image %03d" % i)
        arrays["grid_%03d" % i] = enc.ravel()
        arrays["pts_%03d" % i] = pts
        arrays["size_%03d" % i] = np.array(g.shape[::-1], np.int32)  # W, H
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    np.savez(path, **arrays)
    print("[pack] %d images -> %s (%.1f MB)" % (len(ids), path, os.path.getsize(path) / 1e6), flush=True)


def case(i):
    """(grid grey image, labels (25,2) in the original left-facing frame, W, H) from the pack."""
    global _DATA
    if _DATA is None:
        _DATA = dict(np.load(PACK))
    key = "grid_%03d" % i
    if key not in _DATA:
        raise SystemExit("%s holds no image %03d" % (PACK, i))
    grid = cv2.imdecode(_DATA[key], cv2.IMREAD_GRAYSCALE)
    W, H = (int(v) for v in _DATA["size_%03d" % i])
    return grid, _DATA["pts_%03d" % i].copy(), W, H


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ids", default="1-150", help="image ids, e.g. 1-150")
    ap.add_argument("--with-test-images", action="store_true",
                    help="allow 151-400 (Test1/Test2): for the shipped default and the folds of "
                         "training/folds.py, never for the protocol models")
    ap.add_argument("--out", required=True, help="pack file (.npz)")
    a = ap.parse_args(argv)
    ids = C.parse_ids(a.ids)
    if max(ids) > 150 and not a.with_test_images:
        raise SystemExit("--ids: images 151-400 are Test1/Test2; the protocol models never see them "
                         "(--with-test-images for the shipped default)")
    write(ids, a.out)


if __name__ == "__main__":
    main()
