"""A network for fast CIFAR-10 training: Page's ResNet-9 (2018), made leaner by hlb-CIFAR10
(Balsam 2023) and airbench (Jordan 2024), whose airbench94 is built to reach 94 % test accuracy as
fast as possible.

Groups of *conv 3x3 - max-pool 2 - batch norm - GELU - conv 3x3 - batch norm - GELU*, one per entry
of ``widths`` (airbench94's by default), after a 2 x 2 *whitening* convolution whose filters are
computed from the data (:func:`whiten_from`), then a 3 x 3 max-pool and one linear layer whose
logits are scaled by ``scale``. What makes it train fast is in the details, each from airbench:
batch norms without a learned scale and with a short memory (:class:`BatchNorm`'s ``momentum``, in
PyTorch's convention), convolutions that start close to the identity (Dirac), and the whitening
layer that hands the first group decorrelated, unit-variance inputs, so that the first epochs are
not spent learning a change of basis.
"""
from __future__ import annotations

import torch
from torch import nn

from .registry import register


class BatchNorm(nn.BatchNorm2d):
    """Batch norm with a fixed scale of one and a learned shift (airbench's)."""

    def __init__(self, num_features: int, momentum: float = 0.4, eps: float = 1e-12) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.weight.requires_grad = False


class ConvGroup(nn.Sequential):
    """conv 3x3 -> max-pool 2 -> BN -> GELU -> conv 3x3 -> BN -> GELU (halves the map's side)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.MaxPool2d(2),
            BatchNorm(out_channels), nn.GELU(),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            BatchNorm(out_channels), nn.GELU(),
        )


class FastCifarNet(nn.Module):
    """whitening conv 2x2 -> GELU -> a conv group per entry of ``widths`` -> max-pool 3 -> linear
    (logits x ``scale``)."""

    def __init__(self, num_classes: int = 10, widths: tuple[int, int, int] = (64, 256, 256),
                 whiten_width: int = 24, scale: float = 1 / 9) -> None:
        super().__init__()
        self.whiten = nn.Conv2d(3, whiten_width, kernel_size=2, padding=0, bias=True)
        self.whiten.weight.requires_grad = False  # set from the data, never trained
        channels = [whiten_width, *widths]
        self.groups = nn.Sequential(nn.GELU(), *(ConvGroup(a, b) for a, b in zip(channels, channels[1:])))
        self.pool = nn.MaxPool2d(3)
        self.num_features, self.scale = widths[-1], scale
        self.head = nn.Linear(widths[-1], num_classes, bias=False)
        for m in self.modules():  # the first in_channels filters of every 3x3 conv start as the identity
            if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3):
                nn.init.dirac_(m.weight[: m.in_channels])

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, 32, 32) to the last feature map (N, ``num_features``, 3, 3)."""
        return self.groups(self.whiten(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.scale * torch.flatten(self.pool(x), 1)  # scaling before the (bias-free) linear layer = after it
        return x if pre_logits else self.head(x)

    def get_classifier(self) -> nn.Module:
        return self.head

    def reset_classifier(self, num_classes: int) -> None:
        self.head = nn.Linear(self.num_features, num_classes, bias=False)  # like the original: no bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@torch.no_grad()
def whiten_from(model: FastCifarNet, images: torch.Tensor, eps: float = 5e-4) -> None:
    """Set the whitening filters from ``images`` (normalised floats, (N, 3, H, W)): the eigenvectors of
    the covariance of all 2 x 2 patches, each divided by the square root of its eigenvalue, and their
    negatives (so that a GELU after it loses nothing). Its outputs are then decorrelated with unit variance."""
    k = model.whiten.kernel_size[0]
    patches = images.float().unfold(2, k, 1).unfold(3, k, 1)  # (N, C, H', W', k, k)
    patches = patches.transpose(1, 3).reshape(-1, images.shape[1] * k * k)  # one row per patch
    patches = patches - patches.mean(0)
    covariance = patches.T @ patches / len(patches)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    filters = (eigenvectors.T / torch.sqrt(eigenvalues + eps)[:, None]).flip(0)  # largest first
    filters = filters.reshape(-1, images.shape[1], k, k)  # rows were (C, k, k) patches: conv weights
    half = model.whiten.out_channels // 2
    model.whiten.weight.copy_(torch.cat([filters[:half], -filters[:half]]).to(model.whiten.weight))


@register
def fast_cifar(num_classes: int = 10, **kwargs) -> FastCifarNet:
    """The fast CIFAR-10 network (airbench94's widths unless ``widths`` is given)."""
    return FastCifarNet(num_classes=num_classes, **kwargs)
