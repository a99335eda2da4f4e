"""ONNX export + OpenCV 4.6 dnn verification shared by all models."""
import inspect
import os
import tempfile

import numpy as np
import torch


def strip_identity_nodes(model_proto):
    """Remove Identity nodes (OpenCV 4.6 rejects Identity fed by initializers)."""
    import onnx
    g = model_proto.graph
    ren = {}
    keep = []
    outs = {o.name for o in g.output}
    for n in g.node:
        if n.op_type == "Identity" and n.output[0] not in outs:
            ren[n.output[0]] = n.input[0]
        else:
            keep.append(n)
    if not ren:
        return model_proto

    def res(x):
        while x in ren:
            x = ren[x]
        return x
    for n in keep:
        for k in range(len(n.input)):
            n.input[k] = res(n.input[k])
    del g.node[:]
    g.node.extend(keep)
    return model_proto


def export_onnx(model, example, path, in_name="input", out_name="output"):
    import onnx
    model = model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    # PyTorch >= 2.9 defaults to the dynamo exporter, which needs opset >= 18; OpenCV 4.6
    # wants the TorchScript exporter's opset 11 graph.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(model, example, tmp, opset_version=11, do_constant_folding=True,
                          input_names=[in_name], output_names=[out_name],
                          training=torch.onnx.TrainingMode.EVAL, **legacy)
    m = onnx.load(tmp)
    m = strip_identity_nodes(m)
    onnx.checker.check_model(m)
    onnx.save(m, tmp)
    os.replace(tmp, path)
    return path


def verify_cv2(model, example, path, atol=1e-4, verbose=True):
    """Load with cv2.dnn, run on `example`, compare with PyTorch. Returns max abs diff."""
    import cv2
    net = cv2.dnn.readNetFromONNX(path)
    x = example.detach().cpu().numpy().astype(np.float32)
    net.setInput(x)
    y_cv = net.forward()
    with torch.no_grad():
        y_t = model.eval()(example).cpu().numpy()
    if y_cv.shape != y_t.shape:
        raise RuntimeError("%s: cv2 output shape %s != torch %s" % (path, y_cv.shape, y_t.shape))
    d = float(np.abs(y_cv - y_t).max())
    size = os.path.getsize(path) / 2 ** 20
    if verbose:
        print("[verify] %s in %s out %s size %.2f MB max|cv2-torch| = %.3g %s" %
              (path, tuple(x.shape), y_cv.shape, size, d, "OK" if d <= atol else "FAIL"), flush=True)
    if d > atol:
        raise RuntimeError("%s: cv2 vs torch max abs diff %.3g > %.1g" % (path, d, atol))
    return d
