"""Training batches: made by worker processes, Gaussians drawn on the training device.

On the 2-core CPU machine `--workers 0` makes every sample in the training process, as before.
On a GPU machine the augmentation (a 512² warp, intensity changes) is the bottleneck, so
`--workers N` makes samples in N processes. Samples carry landmark positions rather than the
rendered heatmaps (Stage 1's 25 prior channels at 512² alone are 26 MB a sample): the
Gaussians are drawn on the device by `gaussians`.

Sample n of the stream is made with its own random generator seeded by (seed, n), so the
stream is the same whatever the number of workers, and a resumed run continues it at n.
"""
import cv2
import numpy as np
import torch
import torch.nn.functional as F


class SampleStream(torch.utils.data.Dataset):
    """Endless stream: item n = make(n, rng) with rng seeded by (seed, n)."""

    def __init__(self, make, seed, start=0):
        self.make, self.seed, self.start = make, seed, start

    def __len__(self):
        return 1 << 40

    def __getitem__(self, n):
        n += self.start
        return self.make(n, np.random.default_rng((self.seed, n)))


def _quiet_worker(_):
    cv2.setNumThreads(1)  # each worker is one process on one core
    torch.set_num_threads(1)


def batches(make, seed, start, batch_size, workers, device):
    """Iterator over batches (tuples of tensors on `device`) of SampleStream(make, seed, start)."""
    pin = device.type == "cuda"
    parallel = dict(worker_init_fn=_quiet_worker, prefetch_factor=4) if workers else {}
    dl = torch.utils.data.DataLoader(SampleStream(make, seed, start), batch_size=batch_size,
                                     num_workers=workers, pin_memory=pin, **parallel)
    for b in dl:
        yield tuple(t.to(device, non_blocking=pin) for t in b)


def gaussians(xy, on, sigma, size):
    """Unnormalised Gaussians exp(-d²/2σ²) on a size² grid of cell centres 0..size-1.
    xy (B,K,2) in grid cells, on (B,K) bool (off → all-zero map), sigma scalar or (K,) tensor.
    Returns (B,K,size,size) float32; the same maps as the numpy renderers (common.render_priors256,
    stage1/refine targets), drawn separably."""
    g = torch.arange(size, dtype=torch.float32, device=xy.device)
    s2 = 2.0 * torch.as_tensor(sigma, dtype=torch.float32, device=xy.device) ** 2
    if s2.ndim == 1:
        s2 = s2[None, :, None]
    ex = torch.exp(-(g[None, None] - xy[..., 0:1].float()) ** 2 / s2)      # (B,K,size)
    ey = torch.exp(-(g[None, None] - xy[..., 1:2].float()) ** 2 / s2)
    return ey[..., :, None] * ex[..., None, :] * on[..., None, None].float()


def upsample2(x):
    """Bilinear ×2 with half-pixel centres: cv2.resize(INTER_LINEAR) as common.upsample_priors."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
