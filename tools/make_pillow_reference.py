#!/usr/bin/python3
"""Makes the Pillow-resize fixtures used by tests/core/preprocess_test.cpp.

Writes into tests/fixtures/images/:
  pillow_src_rgb.png            a 200x240 crop of ISBI 2015 image 001 made into a colour
                                image (R = crop, G = 255 - crop, B = crop mirrored) so that
                                every channel differs
  pillow_<mode>_<W>x<H>.png     Pillow's Image.resize((W, H), BILINEAR) of that crop, for
                                mode "RGB" (the whole crop) and "L" (its R channel)

Run with Debian's Python (Pillow + numpy):
  /usr/bin/python3 tools/make_pillow_reference.py [path/to/isbi2015/images/001.jpg]
"""
import os
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "images")
DEFAULT_SRC = os.path.join(ROOT, "..", "shared", "data", "isbi2015", "images", "001.jpg")
# Shrink both axes, enlarge both axes, and shrink one while enlarging the other.
SIZES = [(64, 64), (300, 300), (57, 400)]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_SRC
    grey = np.asarray(Image.open(src).convert("L"))
    crop = grey[850:1090, 1600:1800]  # 240 rows x 200 columns: the ruler, thin sharp lines
    rgb = np.dstack([crop, 255 - crop, crop[:, ::-1]]).astype(np.uint8)
    os.makedirs(OUT, exist_ok=True)
    Image.fromarray(rgb, "RGB").save(os.path.join(OUT, "pillow_src_rgb.png"))
    images = {"RGB": Image.fromarray(rgb, "RGB"), "L": Image.fromarray(rgb[:, :, 0].copy(), "L")}
    for mode, im in images.items():
        for w, h in SIZES:
            out = im.resize((w, h), Image.BILINEAR)  # reducing_gap=None: no box pre-reduction
            out.save(os.path.join(OUT, f"pillow_{mode}_{w}x{h}.png"))


if __name__ == "__main__":
    main()
