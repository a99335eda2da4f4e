#!/usr/bin/env python3
"""Writes tiny ONNX models with the CephTrace v4 tensor contracts (spec §2) for tests.

Their landmarks are meaningless: they exist so that the engine's loading, shape checks,
Stage 0 phases, degraded mode and Stage 1 decoding can be exercised without real weights.

    /usr/bin/python3 tools/make_fixture_models.py --out build/fixtures

writes
    <out>/models/            a complete model directory (1-channel profile output)
    <out>/models_2ch/        the same with a (1,2,512,512) two-class profile output
    <out>/models_no_stage0/  Stage 1 only (degraded mode)
    <out>/models_bad_stage1/ Stage 1 with a wrong output shape (1,24,256,256)
    <out>/models_bad_zone/   zone 2 with 3 output channels instead of 2
    <out>/models_identity/   the MLP with an Identity node fed by an initializer (OpenCV 4.6
                             rejects it; tools/fix_onnx_for_opencv.py repairs it)
    <out>/models_corrupt/    a zero-byte Stage 1 file and a garbage profile file
Needs only numpy and the onnx package (Debian: python3-onnx).
"""
import argparse
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 11


def save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="cephtrace-fixtures")
    model.ir_version = 7  # OpenCV 4.6 reads IR 7 models
    onnx.checker.check_model(model)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save(model, path)


def conv_model(name, in_ch, out_ch, size, weight, bias, kernel=1, extra_nodes=(), out_size=None):
    """x -> Conv(kernel) [-> extra nodes] with fixed weights."""
    out_size = out_size or size
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, in_ch, size, size])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, out_ch, out_size, out_size])
    w = numpy_helper.from_array(np.asarray(weight, np.float32).reshape(out_ch, in_ch, kernel, kernel), "w")
    b = numpy_helper.from_array(np.asarray(bias, np.float32).reshape(out_ch), "b")
    pad = kernel // 2
    conv_out = "conv" if extra_nodes else "output"
    nodes = [helper.make_node("Conv", ["input", "w", "b"], [conv_out],
                              kernel_shape=[kernel, kernel], pads=[pad] * 4)]
    nodes += list(extra_nodes)
    return helper.make_graph(nodes, name, [x], [y], [w, b])


def profile_model(channels):
    # Dark pixels (air and the darker soft tissue) become foreground: logit = 10 - 20 * grey.
    if channels == 1:
        return conv_model("profile", 1, 1, 512, [-20.0], [10.0])
    return conv_model("profile", 1, 2, 512, [20.0, -20.0], [-10.0, 10.0])


def zone_model(channels, seed):
    rng = np.random.default_rng(seed)
    weight = rng.normal(0, 1, size=(channels, 1, 3, 3)).astype(np.float32)
    return conv_model(f"zone{channels}", 1, channels, 256, weight, np.zeros(channels), kernel=3)


def derive_model():
    # A linear map whose outputs stay inside the unit square: each derived point is the
    # mean of the anchors (x, y) plus a fixed offset.
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 14])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 36])
    weight = np.zeros((14, 36), np.float32)
    for k in range(18):
        for a in range(7):
            weight[2 * a, 2 * k] = 1 / 7
            weight[2 * a + 1, 2 * k + 1] = 1 / 7
    offsets = np.linspace(-0.2, 0.2, 36).astype(np.float32)
    # transB=1 with a (36,14) weight and a (36,) bias: the Gemm form OpenCV 4.6 accepts.
    nodes = [helper.make_node("Gemm", ["input", "w", "b"], ["output"], transB=1)]
    graph = helper.make_graph(nodes, "derive", [x], [y],
                              [numpy_helper.from_array(weight.T.copy(), "w"),
                               numpy_helper.from_array(offsets, "b")])
    return graph


def derive_model_with_identity():
    """The derive MLP as PyTorch often exports it: its weight passes through an Identity node."""
    graph = derive_model()
    graph.node.insert(0, helper.make_node("Identity", ["w"], ["w_identity"], name="weight_identity"))
    graph.node[1].input[1] = "w_identity"
    return graph


def stage1_model(out_channels=25):
    # 2x2 average pooling to 256², then a 1x1 conv mixing image and prior channels, sigmoid.
    rng = np.random.default_rng(1)
    weight = rng.normal(0, 0.5, size=(out_channels, 28, 1, 1)).astype(np.float32)
    for c in range(min(out_channels, 25)):
        weight[c, 3 + c, 0, 0] = 6.0  # each heatmap follows its own prior channel
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 28, 512, 512])
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, out_channels, 256, 256])
    nodes = [
        helper.make_node("AveragePool", ["input"], ["pooled"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["pooled", "w", "b"], ["logits"], kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["logits"], ["output"]),
    ]
    return helper.make_graph(nodes, "stage1", [x], [y],
                             [numpy_helper.from_array(weight, "w"),
                              numpy_helper.from_array(np.full(out_channels, -3.0, np.float32), "b")])


def refine_model(pool=True, shift=False, n=25):
    # Stage 2 stand-in with a known answer: every output channel is the z-scored input patch
    # averaged 2x2 (so a bright blob is found where it is). Without the pooling the output
    # is 128² and breaks the (25,25,64,64) contract. shift: the patch moved by one pixel
    # right and down first (an ensemble member that disagrees by a known amount). n = 14: the
    # extended model's stand-in ((14,1,128,128) -> (14,14,64,64)).
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [n, 1, 128, 128])
    side = 64 if pool else 128
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [n, n, side, side])
    k = 3 if shift else 1
    w = np.zeros((n, 1, k, k), np.float32)
    w[:, :, 0, 0] = 1.0  # with pads 1 a 3x3 kernel's corner tap reads pixel (y-1, x-1)
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["spread" if pool else "output"],
                              kernel_shape=[k, k], pads=[k // 2] * 4)]
    if pool:
        nodes.append(helper.make_node("AveragePool", ["spread"], ["output"], kernel_shape=[2, 2],
                                      strides=[2, 2]))
    return helper.make_graph(nodes, "refine", [x], [y],
                             [numpy_helper.from_array(w, "w"),
                              numpy_helper.from_array(np.zeros(n, np.float32), "b")])


LAYOUT = {
    "profile": "stage0/v4_stage0_profile.onnx",
    "zone1": "stage0/z1_cranial_base_contours.onnx",
    "zone2": "stage0/z2_midface_contours.onnx",
    "zone3": "stage0/z3_mandible_contours.onnx",
    "zone4": "stage0/z4_posterior_contours.onnx",
    "derive": "stage0/phase0e_model.onnx",
    "stage1": "stage1/v4_stage1.onnx",
    "refine": "stage2/refine.onnx",
    "extended": "extended/refine_extended.onnx",
}


def write_model_dir(root, profile_channels=1, zone2_channels=2, stage1_channels=25, stage0=True):
    if os.path.isdir(root):
        shutil.rmtree(root)
    save(stage1_model(stage1_channels), os.path.join(root, LAYOUT["stage1"]))
    if not stage0:
        return
    save(profile_model(profile_channels), os.path.join(root, LAYOUT["profile"]))
    for key, channels, seed in (("zone1", 1, 11), ("zone2", zone2_channels, 12),
                                ("zone3", 3, 13), ("zone4", 2, 14)):
        save(zone_model(channels, seed), os.path.join(root, LAYOUT[key]))
    save(derive_model(), os.path.join(root, LAYOUT["derive"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args()
    out = args.out
    write_model_dir(os.path.join(out, "models"))
    write_model_dir(os.path.join(out, "models_2ch"), profile_channels=2)
    write_model_dir(os.path.join(out, "models_no_stage0"), stage0=False)
    write_model_dir(os.path.join(out, "models_bad_stage1"), stage1_channels=24)
    write_model_dir(os.path.join(out, "models_bad_zone"), zone2_channels=3)
    identity = os.path.join(out, "models_identity")
    write_model_dir(identity)
    save(derive_model_with_identity(), os.path.join(identity, LAYOUT["derive"]))
    with_refine = os.path.join(out, "models_refine")
    write_model_dir(with_refine)
    save(refine_model(), os.path.join(with_refine, LAYOUT["refine"]))
    pair = os.path.join(out, "models_refine_pair")
    write_model_dir(pair)
    save(refine_model(), os.path.join(pair, LAYOUT["refine"]))
    save(refine_model(shift=True), os.path.join(pair, "stage2/refine_2.onnx"))
    extended = os.path.join(out, "models_extended")
    write_model_dir(extended)
    save(refine_model(), os.path.join(extended, LAYOUT["refine"]))
    save(refine_model(n=14), os.path.join(extended, LAYOUT["extended"]))
    bad_extended = os.path.join(out, "models_bad_extended")
    write_model_dir(bad_extended)
    save(refine_model(), os.path.join(bad_extended, LAYOUT["refine"]))
    save(refine_model(), os.path.join(bad_extended, LAYOUT["extended"]))  # 25 channels, not 14
    bad_refine = os.path.join(out, "models_bad_refine")
    write_model_dir(bad_refine)
    save(refine_model(pool=False), os.path.join(bad_refine, LAYOUT["refine"]))
    corrupt = os.path.join(out, "models_corrupt")
    write_model_dir(corrupt)
    open(os.path.join(corrupt, LAYOUT["stage1"]), "wb").close()
    with open(os.path.join(corrupt, LAYOUT["profile"]), "wb") as f:
        f.write(b"this is not an onnx model\n" * 10)
    print(f"fixture models written under {out}")


if __name__ == "__main__":
    main()
