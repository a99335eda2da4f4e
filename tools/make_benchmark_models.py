#!/usr/bin/env python3
"""Writes random-weight ONNX models of the PUBLISHED CephTrace v4 sizes, for benchmarking.

The published weights (spec §2: five 25.55 MB segmenters, a 0.43 MB / ~114K-parameter MLP
and a 123.93 MB HRNet-W32 Stage 1) are not reachable from here. These stand-ins have the
same tensor contracts and roughly the same parameter counts and architecture families, so
that `cephtrace_benchmark` can estimate what the engine costs with models of that size.
Their outputs are meaningless (random weights): Stage 0 runs on a random mask, so the
timings of the geometric phases (0B, 0D) are not representative, only the network costs.

    /usr/bin/python3 tools/make_benchmark_models.py --out /tmp/bench_models

writes the reference layout
    <out>/stage0/v4_stage0_profile.onnx          U-Net (1,1,512,512) -> (1,1,512,512)
    <out>/stage0/z1_cranial_base_contours.onnx   U-Net (1,1,256,256) -> (1,1,256,256)
    <out>/stage0/z2_midface_contours.onnx        U-Net (1,1,256,256) -> (1,2,256,256)
    <out>/stage0/z3_mandible_contours.onnx       U-Net (1,1,256,256) -> (1,3,256,256)
    <out>/stage0/z4_posterior_contours.onnx      U-Net (1,1,256,256) -> (1,2,256,256)
    <out>/stage0/phase0e_model.onnx              MLP 14 -> 256 -> 256 -> 128 -> 64 -> 36
    <out>/stage1/v4_stage1.onnx                  HRNet-W32 (1,28,512,512) -> (1,25,256,256)
and checks that each one loads in cv2.dnn.readNetFromONNX and gives its output shape.
The files are large (~254 MB in all): write them outside the repository.

Architectures (all exported with torch.onnx.export, opset 11, eval mode, constant folding,
so BatchNorm is folded into the convolutions):
  * Stage 1: standard HRNet-W32 (Sun et al. 2019): two 3x3 stride-2 stem convs (28 -> 64
    channels, 512 -> 128 px), a stage of 4 bottleneck blocks (256 channels), then stages of
    1, 4 and 3 high-resolution modules with 2, 3 and 4 branches of widths 32/64/128/256 and
    4 basic blocks per branch. The last stage keeps all four outputs; they are upsampled to
    128 px and concatenated (480 channels, HRNetV2 style), then a 4x4 stride-2 transposed
    convolution takes the 128 px representation to 256 px, and a 1x1 convolution gives 25
    channels (sigmoid). The transposed-conv width is chosen to reach the published size.
  * Segmenters: a plain U-Net (double 3x3 conv + BN + ReLU per level, max-pool down, 2x2
    transposed-conv up, skip concatenation) with widths 32/64/128/256/W, W chosen to reach
    the published size (~6.4M parameters).
  * Phase 0E: a ReLU MLP of ~114K parameters.
The sizes match the published ones; the compute cannot be checked against them (the
published architectures' exact widths are unknown), so the script prints each model's
multiply-accumulates (GMAC) next to its size. `--stage1-head branch` writes the lighter
literal variant (transposed conv on the 32-channel 128 px branch only: ~114 MB, about half
the multiply-adds of the default) to bracket the Stage 1 cost; `--only stage1` rewrites
just that file.
Needs torch, onnx, numpy and cv2 (Debian's /usr/bin/python3 has them).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 11
MB = 1e6
MIB = 1024 * 1024

# Published sizes (spec §2), in MB as published.
PUBLISHED_MB = {"segmenter": 25.55, "derive": 0.43, "stage1": 123.93}

# The reference layout, shared with the fixture generator.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixture_models import LAYOUT  # noqa: E402
# HRNet's module (branches of basic blocks + exchange fusion) is the one our Stage 1 trains with.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from training.stage1 import HRModule  # noqa: E402


# ------------------------------------------------------------------ HRNet-W32
def conv_bn(i, o, k=3, s=1, relu=True):
    layers = [nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class HRNetW32(nn.Module):
    """HRNet-W32 (1,28,512,512) -> (1,25,256,256) with a transposed-conv head."""

    WIDTHS = (32, 64, 128, 256)
    MODULES = (1, 4, 3)  # stages 2, 3, 4

    def __init__(self, in_ch=28, out_ch=25, head_ch=256, head="concat"):
        super().__init__()
        W = self.WIDTHS
        self.head = head
        self.stem = nn.Sequential(conv_bn(in_ch, 64, 3, 2), conv_bn(64, 64, 3, 2))  # 512 -> 128
        down = nn.Sequential(nn.Conv2d(64, 256, 1, bias=False), nn.BatchNorm2d(256))
        self.layer1 = nn.Sequential(Bottleneck(64, 64, downsample=down),
                                    *[Bottleneck(256, 64) for _ in range(3)])
        self.transition1 = nn.ModuleList([conv_bn(256, W[0]), conv_bn(256, W[1], 3, 2)])
        self.stage2 = nn.ModuleList([HRModule(W[:2], nblocks=4) for _ in range(self.MODULES[0])])
        self.transition2 = conv_bn(W[1], W[2], 3, 2)
        self.stage3 = nn.ModuleList([HRModule(W[:3], nblocks=4) for _ in range(self.MODULES[1])])
        self.transition3 = conv_bn(W[2], W[3], 3, 2)
        last = self.MODULES[2] - 1  # "branch": the last module keeps only the 128 px output
        self.stage4 = nn.ModuleList([HRModule(W[:4], nblocks=4, multi_scale_output=(
            head == "concat" or k < last)) for k in range(self.MODULES[2])])
        head_in = sum(W) if head == "concat" else W[0]
        self.deconv = nn.Sequential(nn.ConvTranspose2d(head_in, head_ch, 4, 2, 1, bias=False),
                                    nn.BatchNorm2d(head_ch), nn.ReLU(inplace=True))  # 128 -> 256
        self.final = nn.Conv2d(head_ch, out_ch, 1)

    def forward(self, x):
        x = self.layer1(self.stem(x))
        xs = [self.transition1[0](x), self.transition1[1](x)]
        for m in self.stage2:
            xs = m(xs)
        xs = xs + [self.transition2(xs[-1])]
        for m in self.stage3:
            xs = m(xs)
        xs = xs + [self.transition3(xs[-1])]
        for m in self.stage4:
            xs = m(xs)
        if self.head == "concat":
            ups = [xs[0]] + [F.interpolate(xs[k], scale_factor=2 ** k, mode="nearest")
                             for k in range(1, 4)]
            y = self.deconv(torch.cat(ups, 1))
        else:
            y = self.deconv(xs[0])
        return torch.sigmoid(self.final(y))


# ------------------------------------------------------------------ U-Net
def double_conv(i, o):
    return nn.Sequential(conv_bn(i, o), conv_bn(o, o))


class UNet(nn.Module):
    def __init__(self, out_ch, widths):
        super().__init__()
        self.down = nn.ModuleList()
        prev = 1
        for w in widths:
            self.down.append(double_conv(prev, w))
            prev = w
        self.pool = nn.MaxPool2d(2)
        self.ups = nn.ModuleList()
        self.dec = nn.ModuleList()
        for k in range(len(widths) - 1, 0, -1):
            self.ups.append(nn.ConvTranspose2d(widths[k], widths[k - 1], 2, 2))
            self.dec.append(double_conv(2 * widths[k - 1], widths[k - 1]))
        self.out = nn.Conv2d(widths[0], out_ch, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.ups, self.dec):
            x = dec(torch.cat([up(x), skips.pop()], 1))
        return self.out(x)  # logits (spec §2: sigmoid > 0.5 in the engine)


# ------------------------------------------------------------------ MLP
class MLP(nn.Module):
    def __init__(self, hidden=(256, 256, 128, 64)):
        super().__init__()
        layers, prev = [], 14
        for h in hidden:
            layers += [nn.Linear(prev, h), nn.ReLU(inplace=True)]
            prev = h
        layers.append(nn.Linear(prev, 36))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return torch.sigmoid(self.net(x))


# ------------------------------------------------------------------ sizing
def exported_params(model):
    """Parameters that survive the export (BatchNorm folded: conv weight + one bias)."""
    n = 0
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            n += m.weight.numel()
            out = m.weight.shape[1] if isinstance(m, nn.ConvTranspose2d) else m.weight.shape[0]
            n += out  # own bias or the folded BatchNorm shift
    return n


def count_macs(model):
    """Registers hooks that add up multiply-accumulates of convs and linears as the model
    runs (the exporter's trace runs it once). Returns a one-element list holding the sum."""
    total = [0]

    def hook(m, inputs, output):
        if isinstance(m, nn.Conv2d):
            total[0] += output.numel() * m.weight[0].numel()
        elif isinstance(m, nn.ConvTranspose2d):
            total[0] += inputs[0].numel() * m.weight[0].numel()
        elif isinstance(m, nn.Linear):
            total[0] += m.weight.numel()

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            m.register_forward_hook(hook)
    return total


def pick(build, candidates, target_bytes):
    """The candidate whose exported parameter count is closest to target_bytes / 4."""
    best = min(candidates, key=lambda c: abs(exported_params(build(c)) * 4 - target_bytes))
    return best


def unet_widths(last):
    return (32, 64, 128, 256, last)


# ------------------------------------------------------------------ export + check
def randomise_batchnorm(model, gen):
    """Non-trivial BatchNorm statistics, as a trained model has. With the default ones
    (mean 0, var 1, shift 0) every folded bias is zero and the exporter shares identical
    initialisers through Identity nodes, which OpenCV 4.6 cannot import."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.05)
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.05)
                m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)


def inline_identity_initialisers(path):
    """Safety net for the same exporter behaviour: an Identity node whose input is an
    initialiser becomes an initialiser of its own."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    keep, changed = [], False
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            arr = numpy_helper.to_array(inits[node.input[0]])
            graph.initializer.append(numpy_helper.from_array(arr, node.output[0]))
            changed = True
        else:
            keep.append(node)
    if changed:
        del graph.node[:]
        graph.node.extend(keep)
        onnx.save(model, path)


def export(model, shape, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    randomise_batchnorm(model, torch.Generator().manual_seed(1234))
    model.eval()
    macs = count_macs(model)
    x = torch.rand(*shape)
    with torch.no_grad():
        torch.onnx.export(model, x, path, opset_version=OPSET, do_constant_folding=True,
                          input_names=["input"], output_names=["output"],
                          training=torch.onnx.TrainingMode.EVAL)
    inline_identity_initialisers(path)
    return macs[0]


def check(path, in_shape, out_shape, time_runs):
    import cv2
    net = cv2.dnn.readNetFromONNX(path)
    x = np.random.default_rng(0).random(in_shape, dtype=np.float32)
    net.setInput(x)
    y = net.forward()
    if tuple(y.shape) != tuple(out_shape):
        raise SystemExit(f"{path}: output shape {y.shape}, expected {out_shape}")
    if not np.all(np.isfinite(y)):
        raise SystemExit(f"{path}: non-finite outputs")
    ms = []
    for _ in range(time_runs):
        net.setInput(x)
        t = time.perf_counter()
        net.forward()
        ms.append((time.perf_counter() - t) * 1000)
    return (min(ms) if ms else float("nan")), float(y.min()), float(y.max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output model folder (outside the repo)")
    parser.add_argument("--time-runs", type=int, default=1,
                        help="cv2.dnn forward passes timed per model after the check (0: none)")
    parser.add_argument("--seed", type=int, default=0, help="torch seed for the weights")
    parser.add_argument("--stage1-head", choices=("concat", "branch"), default="concat",
                        help="concat (default): the four HRNet branches concatenated at 128 px "
                             "feed the transposed conv, whose width is set to reach the "
                             "published size; branch: only the 32-channel 128 px branch feeds "
                             "a 32-channel transposed conv (standard pose-HRNet head, ~114 MB, "
                             "far fewer multiply-adds)")
    parser.add_argument("--only", default="",
                        help="comma-separated model keys to write (profile, zone1..zone4, "
                             "derive, stage1); default all")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    t_all = time.time()

    seg_bytes = PUBLISHED_MB["segmenter"] * MB
    last = pick(lambda c: UNet(1, unet_widths(c)), range(256, 513, 8), seg_bytes)
    widths = unet_widths(last)
    # Head parameters are linear in its width: build one model, solve for the width.
    def head_params(c):
        return sum(HRNetW32.WIDTHS) * c * 16 + c + c * 25 + 25
    base = exported_params(HRNetW32(head_ch=8)) - head_params(8)
    head = min(range(64, 1025, 8),
               key=lambda c: abs((base + head_params(c)) * 4 - PUBLISHED_MB["stage1"] * MB))
    if args.stage1_head == "branch":
        head = HRNetW32.WIDTHS[0]
    only = {k for k in args.only.split(",") if k}
    if only - set(LAYOUT):
        raise SystemExit(f"--only: unknown keys {sorted(only - set(LAYOUT))}")

    jobs = [
        ("stage1", lambda: HRNetW32(head_ch=head, head=args.stage1_head), (1, 28, 512, 512), (1, 25, 256, 256),
         PUBLISHED_MB["stage1"]),
        ("profile", lambda: UNet(1, widths), (1, 1, 512, 512), (1, 1, 512, 512),
         PUBLISHED_MB["segmenter"]),
        ("zone1", lambda: UNet(1, widths), (1, 1, 256, 256), (1, 1, 256, 256),
         PUBLISHED_MB["segmenter"]),
        ("zone2", lambda: UNet(2, widths), (1, 1, 256, 256), (1, 2, 256, 256),
         PUBLISHED_MB["segmenter"]),
        ("zone3", lambda: UNet(3, widths), (1, 1, 256, 256), (1, 3, 256, 256),
         PUBLISHED_MB["segmenter"]),
        ("zone4", lambda: UNet(2, widths), (1, 1, 256, 256), (1, 2, 256, 256),
         PUBLISHED_MB["segmenter"]),
        ("derive", lambda: MLP(), (1, 14), (1, 36), PUBLISHED_MB["derive"]),
    ]
    print(f"U-Net widths {widths}; HRNet-W32 {args.stage1_head} head, transposed conv "
          f"width {head}")
    print(f"{'model':8} {'params':>11} {'MB':>8} {'MiB':>8} {'published MB':>13} "
          f"{'GMAC':>7} {'cv2 ms':>8}  output range")
    total = 0
    for key, build, in_shape, out_shape, published in jobs:
        if only and key not in only:
            continue
        model = build()
        path = os.path.join(args.out, LAYOUT[key])
        macs = export(model, in_shape, path)
        size = os.path.getsize(path)
        total += size
        if os.path.exists(path + ".data"):
            raise SystemExit(f"{path}: unexpected external-data sidecar")
        ms, lo, hi = check(path, in_shape, out_shape, args.time_runs)
        print(f"{key:8} {exported_params(model):>11,} {size / MB:>8.2f} {size / MIB:>8.2f} "
              f"{published:>13.2f} {macs / 1e9:>7.2f} {ms:>8.1f}  [{lo:.3g}, {hi:.3g}]", flush=True)
    print(f"total {total / MB:.1f} MB ({total / MIB:.1f} MiB) under {args.out} "
          f"in {time.time() - t_all:.0f} s")


if __name__ == "__main__":
    main()
