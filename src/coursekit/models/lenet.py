"""LeNet-5 (LeCun, Bottou, Bengio and Haffner 1998, "Gradient-based learning applied to document
recognition", Fig. 2), layer by layer as the paper describes it.

=====  ====================================================  ==========  ===========
layer  what it does                                          output      parameters
=====  ====================================================  ==========  ===========
C1     6 convolutions 5x5 of the 32x32 input                 6 x 28x28   156
S2     2x2 sums, times a trained coefficient, plus a bias    6 x 14x14   12
C3     16 convolutions 5x5, each reading 3, 4 or 6 maps      16 x 10x10  1,516
S4     as S2                                                 16 x 5x5    32
C5     120 convolutions 5x5 (each sees all of S4)            120 x 1x1   48,120
F6     84 units, fully connected                             84          10,164
=====  ====================================================  ==========  ===========

That is the paper's 60,000 trainable parameters. Every layer but the output is followed by the paper's
squashing function f(a) = 1.7159 tanh(2a/3) (its Appendix A), and weights start uniform in
±2.4 / fan-in, as there. Kept: the layers, the sparse connections of C3 (Table I: they break the
symmetry between maps and cut the connections), the trained subsampling. Modernised, and said so:
the output is a linear layer of 10 units trained with cross-entropy, where the paper's ten Euclidean
radial basis units compared F6 with fixed 7x12 bitmaps of the digits (850 parameters here; the paper's
840 were not trained); and training uses SGD with momentum, not the paper's stochastic diagonal
Levenberg-Marquardt. The 28x28 MNIST digits are padded to 32x32 as in the paper (``coursekit.data.padded``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .registry import new_classifier, register

# Table I of the paper: the S2 maps that each of C3's 16 maps reads. Six read three neighbouring maps,
# six read four neighbours, three read four maps that are not all neighbours, one reads all six.
C3_TABLE = ([0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
            [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
            [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
            [0, 1, 2, 3, 4, 5])


class ScaledTanh(nn.Module):
    """f(a) = A tanh(S a) with A = 1.7159 and S = 2/3, so that f(±1) = ±1 (the paper's Appendix A)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(2 / 3 * x)


class Subsampling(nn.Module):
    """S2 and S4: each map's 2x2 neighbourhoods summed, multiplied by that map's trained coefficient, and
    its trained bias added (two parameters per map)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed = 4 * F.avg_pool2d(x, 2)
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class SparseConv(nn.Module):
    """C3: one 5x5 convolution per output map, each over only the input maps that ``table`` gives it."""

    def __init__(self, table: tuple[list[int], ...] = C3_TABLE, kernel_size: int = 5) -> None:
        super().__init__()
        self.table = [list(inputs) for inputs in table]
        self.maps = nn.ModuleList(nn.Conv2d(len(inputs), 1, kernel_size) for inputs in self.table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x[:, inputs]) for conv, inputs in zip(self.maps, self.table)], dim=1)


class LeNet5(nn.Module):
    """LeNet-5: C1-S2-C3-S4-C5 (the features), then F6 and the output layer (the head)."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), ScaledTanh(),   # C1: 32x32 -> 28x28
            Subsampling(6), ScaledTanh(),                 # S2: -> 14x14
            SparseConv(C3_TABLE), ScaledTanh(),           # C3: -> 10x10
            Subsampling(16), ScaledTanh(),                # S4: -> 5x5
            nn.Conv2d(16, 120, 5), ScaledTanh(),          # C5: -> 1x1
        )
        self.f6 = nn.Sequential(nn.Linear(120, 84), ScaledTanh())
        self.num_features = 84
        self.fc = new_classifier(84, num_classes)  # the paper: 10 Euclidean RBF units on fixed bitmaps
        for m in self.modules():  # the paper's initialisation: uniform in +-2.4 / fan-in
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                bound = 2.4 / (m.weight[0].numel())
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.uniform_(m.bias, -bound, bound)

    def named_layers(self) -> dict[str, nn.Module]:
        """The paper's layers by the paper's names: C1, S2, C3, S4, C5, F6 and the output layer."""
        f = self.features
        return {"C1": f[0], "S2": f[2], "C3": f[4], "S4": f[6], "C5": f[8], "F6": self.f6[0], "output": self.fc}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 1, 32, 32) to C5's 120 maps of 1x1 (N, 120, 1, 1)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """F6 (N, 84), then the output layer (logits)."""
        x = self.f6(torch.flatten(x, 1))
        return x if pre_logits else self.fc(x)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        self.fc = new_classifier(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register
def lenet5(num_classes: int = 10, **kwargs) -> LeNet5:
    """LeNet-5 of LeCun et al. (1998): 60,000 parameters before its output layer, 60,850 in all."""
    return LeNet5(num_classes=num_classes, **kwargs)
