#!/usr/bin/python3
"""Writes the seed corpus of each fuzz target (small valid inputs, plus a few near-misses)
into DIR/<target>/. Generated rather than committed: images, a DICOM and an ONNX model."""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

import cv2
import numpy as np

out = pathlib.Path(sys.argv[1])


def put(target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


gt = {"S": [846.0, 1022.0], "N": [1400.5, 960.25], "_pixel_spacing_mm": 0.1, "_image_size": [1935, 2400],
      "Sn": {"x": 1500, "y": 1500}, "Me": None}
put("ground_truth", "gt.json", json.dumps(gt))
put("ground_truth", "dup.json", '{"S": [1, 2], "S": [3, 4]}')

header = "image_path," + ",".join(f"{k}_x,{k}_y" for k in range(1, 20))
row = "001.bmp," + ",".join(f"{10 * k},{20 * k}" for k in range(1, 20))
put("csv", "senior.csv", header + "\n" + row + "\n")
put("csv", "alternate.csv", "document,points\n001.bmp,\"{0: {'x': 1.0, 'y': 2.0}, 1: {'x': nan, 'y': None}}\"\n")

put("cl2023", "cl.txt", "".join(f"{k},{100 + k},{200 + k}\n" for k in range(1, 39)))

put("labelme", "lm.json", json.dumps({"imagePath": "a.png", "imageWidth": 100, "imageHeight": 100,
                                      "shapes": [{"label": "sella", "points": [[10, 20]], "shape_type": "point"},
                                                 {"label": "N", "points": [[30, 40]]}]}))

result = {"source": "a.png", "original_width": 100, "original_height": 100, "pixel_spacing_mm": 0.1,
          "orientation": "left", "landmarks": [{"index": 0, "name": "S", "x": 1.5, "y": 2.5, "confidence": "high"},
                                               {"index": 1, "name": "N", "x": None, "y": None}]}
put("predict_json", "single.json", json.dumps(result))
put("predict_json", "batch.json", json.dumps({"a.png": result, "b.png": result}))

try:
    import onnx
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 64, 64])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 64, 64])
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["input"], ["output"])], "g", [x], [y]))
    put("onnx_header", "relu.onnx", model.SerializeToString())
except ImportError:
    print("make_seeds: python3-onnx missing; onnx_header starts from an empty corpus")

img = (np.arange(64 * 48, dtype=np.uint32).reshape(48, 64) % 251).astype(np.uint8)
for ext in (".png", ".jpg", ".bmp", ".tif"):
    ok, data = cv2.imencode(ext, img)
    put("image_header", "img" + ext, data.tobytes())
ok, progressive = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
put("image_header", "progressive.jpg", progressive.tobytes())

img2dcm = shutil.which("img2dcm")
if img2dcm:
    with tempfile.TemporaryDirectory() as tmp:
        jpg = pathlib.Path(tmp) / "a.jpg"
        cv2.imwrite(str(jpg), img)
        dcm = pathlib.Path(tmp) / "a.dcm"
        subprocess.run([img2dcm, str(jpg), str(dcm)], check=True, capture_output=True)
        put("dicom", "jpeg.dcm", dcm.read_bytes())
        dcmconv = shutil.which("dcmdjpeg")
        if dcmconv:
            raw = pathlib.Path(tmp) / "raw.dcm"
            subprocess.run([dcmconv, str(dcm), str(raw)], check=True, capture_output=True)
            put("dicom", "native.dcm", raw.read_bytes())
else:
    print("make_seeds: img2dcm (dcmtk) missing; dicom starts from an empty corpus")
