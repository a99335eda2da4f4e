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


def init_from_onnx(model, path, example):
    """Start `model` from the weights of its own exported file (fine-tuning a shipped model
    whose checkpoint is gone). The exporter folds each BatchNorm into the Conv before it, so
    the file's Conv nodes, in graph order, are matched with the model's Conv2d modules in
    execution order; each folded BatchNorm becomes the identity holding the Conv's bias and
    stays frozen in eval mode (its statistics are baked into the weights). Shapes are checked;
    returns the number of Conv layers loaded."""
    import onnx
    from onnx import numpy_helper
    import torch.nn as nn
    g = onnx.load(path).graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    convs = [[init[n.input[1]], init[n.input[2]] if len(n.input) > 2 else None]
             for n in g.node if n.op_type == "Conv"]
    order, outputs = [], {}

    def hook(m, inp, out):
        order.append((m, id(inp[0]), id(out)))
        outputs[id(out)] = out  # keep alive so ids stay unique during the trace
    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
    was_training = model.training
    with torch.no_grad():
        model.eval()(example)
    for h in hs:
        h.remove()
    seq = [m for m, _, _ in order if isinstance(m, nn.Conv2d)]
    if len(seq) != len(convs):
        raise RuntimeError("%s: %d Conv nodes, the model runs %d Conv2d" % (path, len(convs), len(seq)))
    bn_after = {}
    for (m, _, out), (n, inp, _) in zip(order, order[1:]):
        if isinstance(m, nn.Conv2d) and isinstance(n, nn.BatchNorm2d) and inp == out:
            bn_after[m] = n
    with torch.no_grad():
        for m, (w, b) in zip(seq, convs):
            if tuple(m.weight.shape) != w.shape:
                raise RuntimeError("%s: Conv weight %s where the model has %s" % (path, w.shape, tuple(m.weight.shape)))
            m.weight.copy_(torch.from_numpy(np.array(w)))
            bias = torch.zeros(w.shape[0]) if b is None else torch.from_numpy(np.array(b))
            bn = bn_after.get(m)
            if bn is None:
                if m.bias is None:
                    raise RuntimeError("%s: a Conv with a bias the model cannot hold" % path)
                m.bias.copy_(bias)
                continue
            if m.bias is not None:
                m.bias.zero_()
            bn.weight.fill_(1.0); bn.bias.copy_(bias)
            bn.running_mean.zero_(); bn.running_var.fill_(1.0 - bn.eps)
    freeze_batchnorm(model)
    model.train(was_training)
    return len(seq)


def freeze_batchnorm(model):
    """Keep every BatchNorm in eval mode, whatever model.train() says: after init_from_onnx
    their statistics are baked into the weights, and batch statistics would undo that."""
    import torch.nn as nn
    for bn in model.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.train = lambda mode=True, bn=bn: nn.Module.train(bn, False)
            bn.eval()
