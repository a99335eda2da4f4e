"""Image augmentation of every model's training: random similarity transforms, the intensity
changes every recipe uses (the segmenters a milder set), and the appearance of other devices
(domain randomisation, issue 12), which `--stage1-augment device` adds. Images are
left-facing (the face at low x)."""
import math

import cv2
import numpy as np


def random_similarity(rng, scale, degrees, shift, strength=1.0, size=512):
    """A random 2×3 similarity transform of a size² image about its centre: scale factor in
    1 ± scale, rotation in ±degrees, translation in ±shift·size per axis, all times strength."""
    sc = rng.uniform(1 - scale * strength, 1 + scale * strength)
    ang = rng.uniform(-degrees, degrees) * strength
    M = cv2.getRotationMatrix2D((size / 2, size / 2), ang, sc)
    M[:, 2] += rng.uniform(-shift, shift, 2) * size * strength
    return M


# The segmenters' milder intensity recipe (no S-curve, no JPEG).
SEGMENTER_INTENSITY = dict(brightness=0.1, max_blur=1.2, s_curve=False, jpeg=False)


def intensity_aug(img, rng, brightness=0.12, max_blur=1.5, s_curve=True, jpeg=True):
    """uint8 (H,W) or (H,W,C) -> float32 [0,1]: gamma, contrast/brightness (± brightness),
    S-curves, blur (σ up to max_blur), noise, JPEG."""
    x = img.astype(np.float32) / 255.0
    if rng.random() < 0.8:
        x = np.clip(x, 0, 1) ** math.exp(rng.uniform(-0.5, 0.5))
    if rng.random() < 0.8:
        c = rng.uniform(0.7, 1.3); b = rng.uniform(-brightness, brightness)
        x = (x - 0.5) * c + 0.5 + b
    if s_curve and rng.random() < 0.3:  # monotone S-curve
        k = rng.uniform(3, 8)
        x = 1 / (1 + np.exp(-k * (np.clip(x, 0, 1) - 0.5)))
        lo, hi = 1 / (1 + math.exp(k * 0.5)), 1 / (1 + math.exp(-k * 0.5))
        x = (x - lo) / (hi - lo)
    if rng.random() < 0.3:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.4, max_blur))
    if rng.random() < 0.3:
        noise = rng.normal(0, rng.uniform(0.005, 0.03), x.shape[:2])
        x = x + (noise[..., None] if x.ndim == 3 else noise)
    x = np.clip(x, 0, 1)
    if jpeg and rng.random() < 0.2:
        q = int(rng.uniform(25, 80))
        ok, enc = cv2.imencode(".jpg", (x * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, q])
        x = cv2.imdecode(enc, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255.0
        if x.ndim == 2:
            x = x[..., None]
    return x


def device_appearance(img, pts, rng):
    """uint8 (H,W,C) image of a left-facing head with its landmarks pts (n,2, image px) ->
    the same film as another device might show it: a soft-tissue wedge filter darkening the
    face in front of the bony profile (p 0.3), strong gamma (p 0.2), an inverted look-up
    table (p 0.1), burned-in text and a ruler in front of the face (p 0.25). Landmarks stay."""
    h, w = img.shape[:2]
    mm = w / 193.5  # px per mm of an ISBI-framed film at this size
    x = img.astype(np.float32)
    if len(pts) and rng.random() < 0.3:
        bone_x = float(np.percentile(pts[:, 0], 40))  # about N, A, Pog: the bony profile
        x0 = bone_x + rng.uniform(0, 10) * mm
        width = rng.uniform(5, 30) * mm
        t = np.clip((x0 - np.arange(w, dtype=np.float32)) / width, 0, 1)
        x = x * (1 - rng.uniform(0.45, 0.75) * t * t * (3 - 2 * t))[None, :, None]
    if rng.random() < 0.2:
        g = rng.uniform(0.4, 0.6) if rng.random() < 0.5 else rng.uniform(1.7, 2.5)
        x = 255.0 * (np.clip(x, 0, 255) / 255.0) ** g
    if rng.random() < 0.1:
        x = 255.0 - x
    out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < 0.25:
        out = np.ascontiguousarray(out)
        value = (int(rng.uniform(200, 256)),) * out.shape[2]
        for _ in range(int(rng.integers(1, 4))):
            text = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -:"), int(rng.integers(3, 14))))
            org = (int(rng.uniform(0, 0.7) * w), int(rng.uniform(0.03, 0.99) * h))
            cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.3, 1.0) * w / 512,
                        value, max(1, int(w / 400)), cv2.LINE_AA)
        if len(pts):  # a ruler on a nasion rod in front of the face
            rx = int(max(2, pts[:, 0].min() - rng.uniform(5, 25) * mm))
            y0, y1 = [int(np.clip(v, 0, h - 1)) for v in np.sort(rng.uniform(0.1, 0.6, 2) * h)]
            cv2.line(out, (rx, y0), (rx, y1), value, max(1, int(1.5 * mm)))
            for k, y in enumerate(range(y0, y1, max(2, int(mm)))):
                length = int((5 if k % 10 == 0 else 2) * mm)
                cv2.line(out, (rx, y), (rx + length, y), value, max(1, int(0.3 * mm)))
    return out
