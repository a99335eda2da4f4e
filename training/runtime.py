"""Where training runs: the torch device, and checkpoints that load on any device.

The same code trains on this project's 2-core CPU machine (Debian's PyTorch 1.13) and on a
lent GPU machine (a newer PyTorch with CUDA): `train_all --device auto|cpu|cuda`.
"""
import torch


def pick_device(name="auto"):
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: this PyTorch (%s) sees no CUDA GPU" % torch.__version__)
    if name == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input shapes: pick the fastest kernels once
    return torch.device(name)


def model_device(model):
    return next(model.parameters()).device


def load_checkpoint(path):
    """A checkpoint of ours, its tensors on the CPU whatever device saved them (our files hold
    plain Python numbers and dicts too, which PyTorch >= 2.6 refuses without weights_only=False)."""
    return torch.load(path, map_location="cpu", weights_only=False)
