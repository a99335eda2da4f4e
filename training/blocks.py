"""Network building blocks shared by the segmenters, Stage 1 and Stage 2."""
import torch.nn as nn
import torch.nn.functional as F


def cbr(i, o, k=3, s=1):
    """Conv (k×k, stride s, same padding, no bias) → BatchNorm → ReLU."""
    return nn.Sequential(nn.Conv2d(i, o, k, s, k // 2, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class Basic(nn.Module):
    """ResNet basic block: two 3×3 conv-BN with an identity shortcut."""

    def __init__(self, c):
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, 1, 1, bias=False); self.b1 = nn.BatchNorm2d(c)
        self.c2 = nn.Conv2d(c, c, 3, 1, 1, bias=False); self.b2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        return F.relu(x + self.b2(self.c2(y)))
