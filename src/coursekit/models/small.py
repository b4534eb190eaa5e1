"""A small VGG-style CNN: the first network of the course.

Three stages of two 3x3 convolutions (each followed by batch normalisation and a ReLU) and a
2x2 max-pool, the pattern of Simonyan and Zisserman (2015) at CIFAR scale, then global average
pooling (Lin et al., 2014) and one linear classifier. ``width`` sets the channels of the first
stage; each later stage doubles them.
"""
from __future__ import annotations

import torch
from torch import nn

from .registry import init_weights, new_classifier, register


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 convolution (padding 1, no bias), batch normalisation, ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class SmallCNN(nn.Module):
    """conv-conv-pool x 3, global average pooling, linear head."""

    def __init__(self, num_classes: int = 10, width: int = 32, in_channels: int = 3) -> None:
        super().__init__()
        widths = [width, 2 * width, 4 * width]
        layers: list[nn.Module] = []
        c = in_channels
        for w in widths:
            layers += [conv_bn_relu(c, w), conv_bn_relu(w, w), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.num_features = c
        self.fc = nn.Linear(c, num_classes)
        self.grad_checkpointing = False
        init_weights(self)  # Kaiming-normal convolutions (He et al., 2015); BN starts as the identity

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Keep only each stage's input for the backward pass and recompute the rest there (timm's seam)."""
        self.grad_checkpointing = enable

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) to the last feature map (N, num_features, H/8, W/8); with gradient
        checkpointing, in three segments whose insides are recomputed in the backward pass."""
        if self.grad_checkpointing and torch.is_grad_enabled():
            from torch.utils.checkpoint import checkpoint_sequential

            return checkpoint_sequential(self.features, 3, x, use_reentrant=False)
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pooling (N, num_features), then the linear classifier (logits)."""
        x = torch.flatten(self.pool(x), 1)
        return x if pre_logits else self.fc(x)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        self.fc = new_classifier(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register
def small_cnn(num_classes: int = 10, width: int = 32, **kwargs) -> SmallCNN:
    """The course's first CNN (about 0.29 M parameters at ``width=32``)."""
    return SmallCNN(num_classes=num_classes, width=width, **kwargs)
