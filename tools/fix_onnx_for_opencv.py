#!/usr/bin/env python3
"""Rewrites an ONNX model so OpenCV 4.6's DNN module can load it: removes Identity nodes
(PyTorch exports them, e.g. fed by initializers, and OpenCV 4.6 rejects those).

    /usr/bin/python3 tools/fix_onnx_for_opencv.py model.onnx [fixed.onnx]

Without an output path the file is rewritten in place (atomically).
"""
import os
import sys

import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from training.export import strip_identity_nodes  # noqa: E402


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    src = sys.argv[1]
    dst = sys.argv[2] if len(sys.argv) == 3 else src
    model = onnx.load(src)
    before = len(model.graph.node)
    model = strip_identity_nodes(model)
    tmp = dst + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, dst)
    print(f"{dst}: removed {before - len(model.graph.node)} Identity node(s)")


if __name__ == "__main__":
    main()
