"""AlexNet (Krizhevsky, Sutskever and Hinton, "ImageNet Classification with Deep Convolutional
Neural Networks", 2012).

Five convolutional layers and three fully connected ones (Fig. 2 of the paper), ReLUs, overlapping
3x3 max-pooling with stride 2, and dropout in the first two fully connected layers.

``alexnet`` is torchvision's variant, the one-GPU layout of Krizhevsky's "One weird trick for
parallelizing convolutional neural networks" (2014): 64, 192, 384, 256, 256 filters instead of the
paper's 96, 256, 384, 384, 256 split over two GPUs, and no local response normalisation. Its module
names are torchvision's, so torchvision's ``state_dict`` loads unchanged.

``cifar_alexnet`` keeps the five-conv, three-FC shape and the channel widths but uses 3x3 kernels,
2x2 pooling and narrower fully connected layers, for 32x32 images and training on a CPU.
"""
from __future__ import annotations

import torch
from torch import nn

from .registry import init_weights, new_classifier, register


class AlexNet(nn.Module):
    """AlexNet as in torchvision (Krizhevsky et al., 2012, Fig. 2; one-GPU widths of 2014).

    ``features`` are the five convolutions and three max-pools; an adaptive average pool makes
    the map 6x6 for any input of at least 63x63; ``classifier`` holds the three linear layers.
    """

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),   # conv1: 224 -> 55
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                   # 55 -> 27
            nn.Conv2d(64, 192, kernel_size=5, padding=2),            # conv2
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                   # 27 -> 13
            nn.Conv2d(192, 384, kernel_size=3, padding=1),           # conv3
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),           # conv4
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),           # conv5
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),                   # 13 -> 6
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.num_features = 256 * 6 * 6
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(self.num_features, 4096),                      # fc6
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),                                   # fc7
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),                            # fc8
        )
        init_weights(self, linear="kaiming")  # as CifarAlexNet below, which says why

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) to the conv5 map after its max-pool (N, 256, 6, 6 at 224 px)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pooled to 6x6 and flattened (N, 9216), then fc6, fc7 (``pre_logits``: their 4096 outputs)
        and fc8, the classifier (logits)."""
        x = torch.flatten(self.avgpool(x), 1)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)

    def get_classifier(self) -> nn.Module:
        return self.classifier[-1]

    def reset_classifier(self, num_classes: int) -> None:
        self.classifier[-1] = new_classifier(self.classifier[-3].out_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class CifarAlexNet(nn.Module):
    """AlexNet's shape for 32x32 images: five 3x3 convolutions (64, 192, 384, 256, 256 filters),
    three 2x2 max-pools (32 -> 16 -> 8 -> 4) and three fully connected layers of ``hidden`` units
    with dropout (Krizhevsky et al., 2012, Fig. 2, scaled down). About 7.5 M parameters."""

    def __init__(self, num_classes: int = 10, hidden: int = 1024, dropout: float = 0.5,
                 batch_norm: bool = False) -> None:
        super().__init__()

        def conv(c_in: int, c_out: int) -> list[nn.Module]:
            """A 3x3 convolution and its ReLU; with ``batch_norm``, batch normalisation between them
            (and no bias, which the normalisation's shift replaces), as VGG-BN and ResNet have."""
            if not batch_norm:
                return [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            return [nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                    nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *conv(3, 64),
            nn.MaxPool2d(kernel_size=2),                             # 32 -> 16
            *conv(64, 192),
            nn.MaxPool2d(kernel_size=2),                             # 16 -> 8
            *conv(192, 384),
            *conv(384, 256),
            *conv(256, 256),
            nn.MaxPool2d(kernel_size=2),                             # 8 -> 4
        )
        self.num_features = 256 * 4 * 4
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(self.num_features, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )
        # Kaiming-normal weights in every layer. The paper drew every weight from N(0, 0.01); with that
        # scale in the fully connected layers this network (no batch norm) barely moves in the first
        # few hundred steps of a short run, while Kaiming's keeps activations steady through the ReLUs.
        init_weights(self, linear="kaiming")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, 32, 32) to the last map (N, 256, 4, 4)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Flattened (N, 4096), then two hidden layers (``pre_logits``: their ``hidden`` outputs) and
        the classifier (logits)."""
        x = torch.flatten(x, 1)
        return self.classifier[:-1](x) if pre_logits else self.classifier(x)

    def get_classifier(self) -> nn.Module:
        return self.classifier[-1]

    def reset_classifier(self, num_classes: int) -> None:
        self.classifier[-1] = new_classifier(self.classifier[-3].out_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register
def alexnet(num_classes: int = 1000, **kwargs) -> AlexNet:
    """torchvision's AlexNet (61.1 M parameters at 1000 classes)."""
    return AlexNet(num_classes=num_classes, **kwargs)


@register
def cifar_alexnet(num_classes: int = 10, **kwargs) -> CifarAlexNet:
    """AlexNet's layout with 3x3 kernels for 32x32 images (about 7.5 M parameters)."""
    return CifarAlexNet(num_classes=num_classes, **kwargs)


@register
def cifar_alexnet_bn(num_classes: int = 10, **kwargs) -> CifarAlexNet:
    """:func:`cifar_alexnet` with batch normalisation after every convolution: AlexNet's layout with the
    one ingredient that VGG-BN, GoogLeNet (here) and ResNet-20 have and AlexNet predates."""
    return CifarAlexNet(num_classes=num_classes, batch_norm=True, **kwargs)
