"""Network in Network, GoogLeNet and the modules that followed them.

* :class:`MlpConv` and :class:`NiN`: Lin, Chen and Yan, "Network In Network", ICLR 2014. A
  convolution followed by 1x1 convolutions (a small MLP slid over the image), and global average
  pooling of one map per class instead of fully connected layers.
* :class:`Inception` and :class:`GoogLeNet`: Szegedy et al., "Going Deeper with Convolutions",
  CVPR 2015. Parallel 1x1, 3x3, 5x5 and pooling branches, with 1x1 reductions before the
  expensive ones, concatenated along channels.
* :class:`FactorisedInception`: Szegedy et al., "Rethinking the Inception Architecture for
  Computer Vision", CVPR 2016. An n x n convolution replaced by a 1 x n followed by an n x 1.
* :class:`SeparableConv2d`: Chollet, "Xception: Deep Learning with Depthwise Separable
  Convolutions", CVPR 2017. A per-channel (depthwise) spatial convolution, then a 1x1 one.
"""
from __future__ import annotations

import torch
from torch import nn

from .registry import init_weights, new_classifier, register


class ConvBNReLU(nn.Module):
    """Convolution (no bias), batch normalisation (eps 0.001), ReLU: the unit every Inception
    network since Ioffe and Szegedy (2015) is built from. Attribute names follow torchvision."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                 stride: int = 1, padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.conv(x)))


# --- Network in Network (Lin et al., 2014) ------------------------------------------------------

class MlpConv(nn.Sequential):
    """The mlpconv layer of Lin et al. (2014), Fig. 1 (b): a ``kernel_size`` convolution, then 1x1
    convolutions, each followed by a ReLU (by batch norm and a ReLU with ``batch_norm=True``).

    ``channels`` lists the filters of every layer, e.g. ``(192, 160, 96)``.
    """

    def __init__(self, in_channels: int, channels: tuple[int, ...], kernel_size: int,
                 batch_norm: bool = False) -> None:
        layers: list[nn.Module] = []
        for i, out_channels in enumerate(channels):
            k = kernel_size if i == 0 else 1
            layers.append(nn.Conv2d(in_channels, out_channels, k, padding=k // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU(inplace=True))
            in_channels = out_channels
        super().__init__(*layers)


class NiN(nn.Module):
    """Network in Network for CIFAR-10 (Lin et al., 2014, Fig. 2 and section 4.2).

    Three mlpconv layers (5x5, 5x5, 3x3 convolutions with 1x1 ones after them) separated by 3x3
    pooling with stride 2 and dropout, about 1 M parameters. There is no fully connected layer: the
    head is a 1x1 convolution giving one map per class, averaged over the image. So
    :meth:`forward_features` returns a map (N, 192, 8, 8) and :meth:`forward_head` classifies every
    position and averages the maps; its ``pre_logits`` are the averaged features (N, 192), which the
    1x1 convolution, being linear, maps to the same scores.
    """

    def __init__(self, num_classes: int = 10, batch_norm: bool = False, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            MlpConv(3, (192, 160, 96), kernel_size=5, batch_norm=batch_norm),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),   # 32 -> 16
            nn.Dropout(dropout),
            MlpConv(96, (192, 192, 192), kernel_size=5, batch_norm=batch_norm),
            nn.AvgPool2d(kernel_size=3, stride=2, ceil_mode=True),   # 16 -> 8
            nn.Dropout(dropout),
            MlpConv(192, (192, 192), kernel_size=3, batch_norm=batch_norm),
        )
        self.num_features = 192
        # The last 1x1 convolution of the third mlpconv: one map per class (the paper's "cccp6").
        self.classifier = nn.Conv2d(192, num_classes, kernel_size=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        init_weights(self, linear="normal")  # Kaiming convolutions, N(0, 0.01) linear layers

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, 32, 32) to a feature map (N, 192, 8, 8)."""
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """One map per class, globally averaged: class scores (logits)."""
        if pre_logits:
            return torch.flatten(self.pool(x), 1)
        return torch.flatten(self.pool(self.classifier(x)), 1)

    def get_classifier(self) -> nn.Module:
        return self.classifier

    def reset_classifier(self, num_classes: int) -> None:
        """A new 1x1 convolution with ``num_classes`` maps (PyTorch's default initialisation)."""
        self.classifier = nn.Conv2d(self.num_features, num_classes, kernel_size=1) if num_classes else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


# --- GoogLeNet (Szegedy et al., 2015) -----------------------------------------------------------

class Inception(nn.Module):
    """The Inception module with dimension reductions: Szegedy et al. (2015), Fig. 2 (b).

    Four branches see the same input and their outputs are concatenated along channels:
    a 1x1 convolution (``ch1x1``); a 1x1 reduction to ``ch3x3red`` then a 3x3 (``ch3x3``); a 1x1
    reduction to ``ch5x5red`` then a 5x5 (``ch5x5``); a 3x3 max-pool then a 1x1 projection
    (``pool_proj``). ``branch3_kernel`` sets the size of the "5x5" convolution (see :class:`GoogLeNet`).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int, branch3_kernel: int = 5) -> None:
        super().__init__()
        self.branch1 = ConvBNReLU(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            ConvBNReLU(in_channels, ch3x3red, kernel_size=1),
            ConvBNReLU(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            ConvBNReLU(in_channels, ch5x5red, kernel_size=1),
            ConvBNReLU(ch5x5red, ch5x5, kernel_size=branch3_kernel, padding=branch3_kernel // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            ConvBNReLU(in_channels, pool_proj, kernel_size=1),
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


# Table 1 of Szegedy et al. (2015): input channels, then #1x1, #3x3 reduce, #3x3, #5x5 reduce,
# #5x5 and pool proj of each Inception module.
GOOGLENET_TABLE: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "3a": (192, 64, 96, 128, 16, 32, 32),
    "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64),
    "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64),
    "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128),
    "5b": (832, 384, 192, 384, 48, 128, 128),
}


class GoogLeNet(nn.Module):
    """GoogLeNet, the 22-layer Inception v1 of Szegedy et al. (2015), Table 1 and Fig. 3.

    A stem (7x7/2 convolution, max-pool, 1x1 and 3x3 convolutions, max-pool), nine Inception
    modules in three groups separated by max-pools, global average pooling, dropout and one linear
    layer. As in torchvision, every convolution has batch norm, and the auxiliary classifiers are
    left out (the paper uses them during training only). ``small_input=True`` is the 32x32 variant: a 3x3 stride-1
    first convolution and no first max-pool, so the Inception modules see 16x16, 8x8 and 4x4 maps.

    ``branch3_kernel=5`` is the paper's module. torchvision's ``googlenet`` (and its ImageNet
    weights) uses 3x3 there (pytorch/vision issue 906); :func:`googlenet` does the same so that
    torchvision's state dict loads.
    """

    def __init__(self, num_classes: int = 1000, small_input: bool = False, branch3_kernel: int = 5,
                 dropout: float = 0.4) -> None:
        super().__init__()
        if small_input:
            self.conv1 = ConvBNReLU(3, 64, kernel_size=3, padding=1)
            self.maxpool1 = nn.Identity()
        else:
            self.conv1 = ConvBNReLU(3, 64, kernel_size=7, stride=2, padding=3)
            self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = ConvBNReLU(64, 64, kernel_size=1)
        self.conv3 = ConvBNReLU(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        def inception(name: str) -> Inception:
            return Inception(*GOOGLENET_TABLE[name], branch3_kernel=branch3_kernel)

        self.inception3a = inception("3a")
        self.inception3b = inception("3b")
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = inception("4a")
        self.inception4b = inception("4b")
        self.inception4c = inception("4c")
        self.inception4d = inception("4d")
        self.inception4e = inception("4e")
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = inception("5a")
        self.inception5b = inception("5b")
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.num_features = 1024
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.num_features, num_classes)
        init_weights(self, linear="normal")  # Kaiming convolutions, N(0, 0.01) linear layers

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) to the map of inception (5b) (N, 1024, 7, 7 at 224 px)."""
        # Map sizes for a 224x224 input (in brackets for 32x32 with small_input=True).
        x = self.maxpool1(self.conv1(x))   # 64 x 56 x 56 (64 x 32 x 32)
        x = self.conv2(x)
        x = self.conv3(x)
        x = self.maxpool2(x)               # 192 x 28 x 28 (16 x 16)
        x = self.inception3a(x)            # 256
        x = self.inception3b(x)            # 480
        x = self.maxpool3(x)               # 480 x 14 x 14 (8 x 8)
        x = self.inception4a(x)            # 512
        x = self.inception4b(x)            # 512
        x = self.inception4c(x)            # 512
        x = self.inception4d(x)            # 528
        x = self.inception4e(x)            # 832
        x = self.maxpool4(x)               # 832 x 7 x 7 (4 x 4)
        x = self.inception5a(x)            # 832
        return self.inception5b(x)         # 1024

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pooling (N, 1024), dropout, and the linear classifier (logits)."""
        x = self.dropout(torch.flatten(self.avgpool(x), 1))
        return x if pre_logits else self.fc(x)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        self.fc = new_classifier(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


# --- Inception v3's factorised convolutions (Szegedy et al., 2016) ------------------------------

def factorised_conv(in_channels: int, mid_channels: int, out_channels: int, n: int = 7) -> nn.Sequential:
    """An n x n convolution factorised into 1 x n then n x 1 (Szegedy et al., 2016, Fig. 3 and
    section 3.2): the same receptive field with 2n instead of n^2 weights per channel pair."""
    return nn.Sequential(
        ConvBNReLU(in_channels, mid_channels, kernel_size=(1, n), padding=(0, n // 2)),
        ConvBNReLU(mid_channels, out_channels, kernel_size=(n, 1), padding=(n // 2, 0)),
    )


class FactorisedInception(nn.Module):
    """The Inception module after factorising n x n convolutions: Szegedy et al. (2016), Fig. 6.

    Four branches of ``out_channels`` each: 1x1; 1x1 then a factorised n x n; 1x1 then two
    factorised n x n in a row; 3x3 average pooling then 1x1.
    Inception-v3 uses it with n = 7 on the 17x17 grid (768 channels in and out, ``mid_channels``
    128 to 192).
    """

    def __init__(self, in_channels: int = 768, mid_channels: int = 128, out_channels: int = 192,
                 n: int = 7) -> None:
        super().__init__()
        self.branch1x1 = ConvBNReLU(in_channels, out_channels, kernel_size=1)
        self.branch_nxn = nn.Sequential(
            ConvBNReLU(in_channels, mid_channels, kernel_size=1),
            factorised_conv(mid_channels, mid_channels, out_channels, n),
        )
        self.branch_double_nxn = nn.Sequential(
            ConvBNReLU(in_channels, mid_channels, kernel_size=1),
            factorised_conv(mid_channels, mid_channels, mid_channels, n),
            factorised_conv(mid_channels, mid_channels, out_channels, n),
        )
        self.branch_pool = nn.Sequential(
            nn.AvgPool2d(kernel_size=3, stride=1, padding=1),
            ConvBNReLU(in_channels, out_channels, kernel_size=1),
        )
        self.out_channels = 4 * out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch1x1(x), self.branch_nxn(x), self.branch_double_nxn(x), self.branch_pool(x)]
        return torch.cat(branches, 1)


# --- Xception's depthwise separable convolution (Chollet, 2017) ---------------------------------

class SeparableConv2d(nn.Module):
    """Depthwise separable convolution: Chollet (2017), section 1.2 (Fig. 4's "extreme" Inception
    module is the same operation with the 1x1 convolution first).

    A ``kernel_size`` convolution applied to each input channel on its own (``groups=in_channels``),
    then a 1x1 convolution mixing channels, with no non-linearity in between (Xception's choice,
    section 4.7). Weights: k*k*C_in + C_in*C_out instead of k*k*C_in*C_out.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 bias: bool = False) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride,
                                   padding=kernel_size // 2, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


# --- builders -----------------------------------------------------------------------------------

@register
def nin(num_classes: int = 10, **kwargs) -> NiN:
    """Network in Network for 32x32 images (about 0.97 M parameters)."""
    return NiN(num_classes=num_classes, **kwargs)


@register
def googlenet(num_classes: int = 1000, **kwargs) -> GoogLeNet:
    """torchvision's GoogLeNet without auxiliary classifiers (6.6 M parameters): the "5x5"
    branch is 3x3 and dropout is 0.2, so torchvision's state dict loads."""
    kwargs.setdefault("branch3_kernel", 3)
    kwargs.setdefault("dropout", 0.2)
    return GoogLeNet(num_classes=num_classes, **kwargs)


@register
def cifar_googlenet(num_classes: int = 10, **kwargs) -> GoogLeNet:
    """GoogLeNet for 32x32 images: the paper's 5x5 branches, a 3x3 stride-1 stem (6.0 M parameters)."""
    kwargs.setdefault("small_input", True)
    return GoogLeNet(num_classes=num_classes, **kwargs)
