"""VGG networks (Simonyan and Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015).

The paper's Table 1 is :data:`VGG_CONFIGS`, written in its own words: ``"conv3-64"`` is a 3x3
convolution with 64 filters (stride 1, padding 1), ``"conv1-256"`` a 1x1 one, ``"maxpool"`` a 2x2
max-pool with stride 2 and ``"LRN"`` local response normalisation. Every convolution is followed by
a ReLU (with ``batch_norm=True``, by batch normalisation and a ReLU, as in torchvision's ``_bn``
variants; batch norm came later, Ioffe and Szegedy 2015). One class, :class:`VGG`, builds any
column; the three fully connected layers (4096, 4096, classes) follow.

Module names and order are torchvision's, so torchvision's ``vgg11`` ... ``vgg19_bn`` state dicts
load unchanged. ``cifar_vgg11_bn`` ... ``cifar_vgg19_bn`` run the same feature table on 32x32
images: five max-pools leave a 1x1x512 map, read by a single linear layer.
"""
from __future__ import annotations

import torch
from torch import nn

from .registry import init_weights, new_classifier, register

# Table 1 of Simonyan and Zisserman (2015): configurations A to E, one column each.
VGG_CONFIGS: dict[str, list[str]] = {
    "A": [
        "conv3-64", "maxpool",
        "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
    ],
    "A-LRN": [
        "conv3-64", "LRN", "maxpool",
        "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
    ],
    "B": [
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "maxpool",
    ],
    "C": [
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "conv1-256", "maxpool",
        "conv3-512", "conv3-512", "conv1-512", "maxpool",
        "conv3-512", "conv3-512", "conv1-512", "maxpool",
    ],
    "D": [
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "maxpool",
    ],
    "E": [
        "conv3-64", "conv3-64", "maxpool",
        "conv3-128", "conv3-128", "maxpool",
        "conv3-256", "conv3-256", "conv3-256", "conv3-256", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "conv3-512", "maxpool",
        "conv3-512", "conv3-512", "conv3-512", "conv3-512", "maxpool",
    ],
}


def parse_conv(layer: str) -> tuple[int, int]:
    """``"conv3-64"`` -> (kernel size 3, 64 filters)."""
    kernel, filters = layer.removeprefix("conv").split("-")
    return int(kernel), int(filters)


def weight_layers(config: str) -> int:
    """Depth as the paper counts it: convolutions plus the three fully connected layers."""
    return sum(layer.startswith("conv") for layer in VGG_CONFIGS[config]) + 3


def make_features(config: list[str], batch_norm: bool = False, in_channels: int = 3) -> nn.Sequential:
    """The convolutional body of one column of Table 1, as one flat ``nn.Sequential``."""
    layers: list[nn.Module] = []
    for layer in config:
        if layer == "maxpool":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        elif layer == "LRN":
            # Krizhevsky et al.'s constants (k=2, n=5, alpha=1e-4, beta=0.75). PyTorch divides alpha
            # by n (it averages the squares where the paper sums them), hence alpha = 5e-4 here.
            layers.append(nn.LocalResponseNorm(size=5, alpha=5e-4, beta=0.75, k=2.0))
        else:
            kernel, filters = parse_conv(layer)
            layers.append(nn.Conv2d(in_channels, filters, kernel_size=kernel, padding=kernel // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(filters))
            layers.append(nn.ReLU(inplace=True))
            in_channels = filters
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """One column of Table 1 of Simonyan and Zisserman (2015) and its classifier.

    ``config`` names a column of :data:`VGG_CONFIGS` (or is a list in the same words). The feature
    map is average-pooled to ``pool_size`` x ``pool_size`` (7 at ImageNet size, where it is already
    7x7), then classified by FC-``hidden``, FC-``hidden``, FC-``num_classes`` with ReLUs and dropout,
    or, with ``hidden=None``, by one linear layer.
    """

    def __init__(self, config: str | list[str] = "D", num_classes: int = 1000, batch_norm: bool = False,
                 pool_size: int = 7, hidden: int | None = 4096, dropout: float = 0.5) -> None:
        super().__init__()
        layers = VGG_CONFIGS[config] if isinstance(config, str) else config
        self.features = make_features(layers, batch_norm)
        channels = parse_conv([layer for layer in layers if layer.startswith("conv")][-1])[1]
        self.avgpool = nn.AdaptiveAvgPool2d((pool_size, pool_size))
        self.num_features = channels * pool_size * pool_size
        if hidden is None:
            self.classifier = nn.Linear(self.num_features, num_classes)
        else:
            self.classifier = nn.Sequential(
                nn.Linear(self.num_features, hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(p=dropout),
                nn.Linear(hidden, hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(p=dropout),
                nn.Linear(hidden, num_classes),
            )
        # Kaiming-normal convolutions and N(0, 0.01) linear layers. The paper initialised
        # configuration A from N(0, 0.01) and deeper ones from A's trained layers; it notes that
        # Glorot's initialisation works without that pre-training.
        init_weights(self, linear="normal")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) to the last map, after the last max-pool (N, 512, H/32, W/32)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pooled to ``pool_size`` x ``pool_size`` and flattened (N, num_features), then the fully
        connected layers (``pre_logits``: the output of the hidden ones, if any) to logits."""
        x = torch.flatten(self.avgpool(x), 1)
        if isinstance(self.classifier, nn.Sequential):
            return self.classifier[:-1](x) if pre_logits else self.classifier(x)
        return x if pre_logits else self.classifier(x)

    def get_classifier(self) -> nn.Module:
        return self.classifier[-1] if isinstance(self.classifier, nn.Sequential) else self.classifier

    def reset_classifier(self, num_classes: int) -> None:
        if isinstance(self.classifier, nn.Sequential):
            self.classifier[-1] = new_classifier(self.classifier[-4].out_features, num_classes)
        else:
            self.classifier = new_classifier(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def config_parameter_counts(num_classes: int = 1000, batch_norm: bool = False) -> dict[str, int]:
    """Parameters of each configuration at ImageNet size (Table 2 of the paper, in millions:
    A 133, A-LRN 133, B 133, C 134, D 138, E 144).

    The networks are built on the ``meta`` device: shapes only, no memory, no initialisation cost.
    """
    counts = {}
    for name in VGG_CONFIGS:
        with torch.device("meta"):
            model = VGG(name, num_classes=num_classes, batch_norm=batch_norm)
        counts[name] = sum(p.numel() for p in model.parameters())
    return counts


# --- ImageNet-size builders (torchvision's names; A-LRN and C added) -----------------------------

@register
def vgg11(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration A: 11 weight layers (133 M parameters)."""
    return VGG("A", num_classes=num_classes, **kwargs)


@register
def vgg11_bn(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration A with batch normalisation."""
    return VGG("A", num_classes=num_classes, batch_norm=True, **kwargs)


@register
def vgg11_lrn(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration A-LRN: A with local response normalisation after the first convolution."""
    return VGG("A-LRN", num_classes=num_classes, **kwargs)


@register
def vgg13(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration B: 13 weight layers (133 M parameters)."""
    return VGG("B", num_classes=num_classes, **kwargs)


@register
def vgg13_bn(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration B with batch normalisation."""
    return VGG("B", num_classes=num_classes, batch_norm=True, **kwargs)


@register
def vgg16_c(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration C: 16 weight layers, the last conv of blocks 3-5 being 1x1 (134 M parameters)."""
    return VGG("C", num_classes=num_classes, **kwargs)


@register
def vgg16(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration D: 16 weight layers, all 3x3 (138 M parameters)."""
    return VGG("D", num_classes=num_classes, **kwargs)


@register
def vgg16_bn(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration D with batch normalisation."""
    return VGG("D", num_classes=num_classes, batch_norm=True, **kwargs)


@register
def vgg19(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration E: 19 weight layers (144 M parameters)."""
    return VGG("E", num_classes=num_classes, **kwargs)


@register
def vgg19_bn(num_classes: int = 1000, **kwargs) -> VGG:
    """Configuration E with batch normalisation."""
    return VGG("E", num_classes=num_classes, batch_norm=True, **kwargs)


# --- CIFAR-size builders: the same tables on 32x32 images, one linear layer on the 1x1x512 map ------

def _cifar_vgg(config: str, num_classes: int, **kwargs) -> VGG:
    kwargs.setdefault("batch_norm", True)
    kwargs.setdefault("pool_size", 1)
    kwargs.setdefault("hidden", None)
    return VGG(config, num_classes=num_classes, **kwargs)


@register
def cifar_vgg11_bn(num_classes: int = 10, **kwargs) -> VGG:
    """Configuration A with batch norm on 32x32 images (9.2 M parameters)."""
    return _cifar_vgg("A", num_classes, **kwargs)


@register
def cifar_vgg13_bn(num_classes: int = 10, **kwargs) -> VGG:
    """Configuration B with batch norm on 32x32 images."""
    return _cifar_vgg("B", num_classes, **kwargs)


@register
def cifar_vgg16_bn(num_classes: int = 10, **kwargs) -> VGG:
    """Configuration D with batch norm on 32x32 images (14.7 M parameters)."""
    return _cifar_vgg("D", num_classes, **kwargs)


@register
def cifar_vgg19_bn(num_classes: int = 10, **kwargs) -> VGG:
    """Configuration E with batch norm on 32x32 images."""
    return _cifar_vgg("E", num_classes, **kwargs)
