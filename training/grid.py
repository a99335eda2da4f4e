"""Stage 2's image grid: the grey image resampled so that sqrt(W·H) = GRID_EXTENT (0.21 mm/px
on ISBI), as the engine resamples it (src/stage2). Used by the Stage 2 training and by the
training pack, which stores its images on this grid."""
import math

import cv2
import numpy as np

from .tables import CONSTANTS

GRID_EXTENT = CONSTANTS["kRefineGridExtent"]


def grid_scale(W, H):
    return GRID_EXTENT / math.sqrt(W * H)


def resample(grey):
    H, W = grey.shape
    s = grid_scale(W, H)
    size = (max(1, int(round(W * s))), max(1, int(round(H * s))))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def to_grid(xy, W, H, gw, gh):
    """Original pixel coords -> resampled grid coords (pixel-centre convention)."""
    return np.stack([(xy[..., 0] + 0.5) * gw / W - 0.5, (xy[..., 1] + 0.5) * gh / H - 0.5], -1)
