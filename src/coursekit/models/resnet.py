"""Residual networks (He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", 2016).

A residual block learns ``F(x)`` and outputs ``relu(F(x) + x)`` (Fig. 2 of the paper): the
stacked layers fit a residual to the identity, which is what lets a 152-layer network train
better than a 34-layer one.

Two families, as in the paper:

* the ImageNet ResNets of Table 1 (``resnet18`` ... ``resnet152``): a 7x7 stem, four stages of
  :class:`BasicBlock` (18, 34 layers) or :class:`Bottleneck` (50, 101, 152 layers) blocks, and
  projection shortcuts (1x1 convolution + batch norm, "option B") where the shape changes.
  Module names and layer order are torchvision's, so its ``state_dict`` loads unchanged (the
  bottleneck puts its stride on the 3x3 convolution, as torchvision's "v1.5" does);
* the CIFAR-10 ResNets of section 4.2 (``resnet20`` ... ``resnet110``, depth ``6n + 2``): a 3x3
  stem, three stages of ``n`` basic blocks with 16, 32 and 64 channels on 32x32, 16x16 and 8x8
  maps, and parameter-free "option A" shortcuts (:class:`PadShortcut`). ``cifar_plain20`` ...
  ``cifar_plain110`` are the same networks without shortcuts, for the degradation experiment
  of Fig. 6. Module names follow github.com/akamaster/pytorch_resnet_cifar10, whose published
  weights load with :func:`load_cifar_resnet_weights`.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .registry import init_weights, new_classifier, register

# The akamaster CIFAR-10 checkpoints were trained on images normalised with ImageNet's statistics.
PRETRAINED_CIFAR_MEAN = (0.485, 0.456, 0.406)
PRETRAINED_CIFAR_STD = (0.229, 0.224, 0.225)


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1 and no bias (batch norm follows)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """1x1 convolution without bias (batch norm follows)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)


class PadShortcut(nn.Module):
    """Parameter-free shortcut, "option A" of He et al. (2016), section 3.3 and 4.2.

    Where a stage halves the map and doubles the channels, the identity is subsampled with
    stride 2 and the new channels are zeros, half of them before and half after the old ones
    (the layout the akamaster weights were trained with).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.pad_before = (out_channels - in_channels) // 2
        self.pad_after = out_channels - in_channels - self.pad_before

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.pad_before, self.pad_after))


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut: Fig. 2 (left of Fig. 5) of He et al. (2016).

    ``downsample`` maps the input to the output's shape when they differ (a projection, or
    :class:`PadShortcut`); ``shortcut=False`` drops the addition, giving a "plain" block.
    """

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 downsample: nn.Module | None = None, shortcut: bool = True) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 (reduce), 3x3, 1x1 (expand x4) and a shortcut: Fig. 5 (right) of He et al. (2016).

    The stride sits on the 3x3 convolution, as in torchvision ("ResNet v1.5"); the paper puts
    it on the first 1x1 convolution. The parameter count is the same.
    """

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1,
                 downsample: nn.Module | None = None, shortcut: bool = True) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = conv1x1(in_channels, channels)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = conv1x1(channels, out_channels)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.shortcut:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)


class ResNet(nn.Module):
    """The ImageNet ResNets of He et al. (2016), Table 1.

    ``layers`` gives the number of blocks in the four stages (conv2_x ... conv5_x), e.g.
    ``[2, 2, 2, 2]`` with :class:`BasicBlock` for ResNet-18 and ``[3, 4, 6, 3]`` with
    :class:`Bottleneck` for ResNet-50.
    """

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int],
                 num_classes: int = 1000, shortcut: bool = True) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.in_channels = 64
        self.layer1 = self._make_stage(block, 64, layers[0], 1, shortcut)
        self.layer2 = self._make_stage(block, 128, layers[1], 2, shortcut)
        self.layer3 = self._make_stage(block, 256, layers[2], 2, shortcut)
        self.layer4 = self._make_stage(block, 512, layers[3], 2, shortcut)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.num_features = 512 * block.expansion
        self.fc = nn.Linear(self.num_features, num_classes)
        init_weights(self)  # Kaiming-normal convolutions, as in the ResNet paper

    def _make_stage(self, block: type[BasicBlock | Bottleneck], channels: int, blocks: int,
                    stride: int, shortcut: bool) -> nn.Sequential:
        """``blocks`` blocks; the first changes stride/width, with a projection shortcut ("option B")."""
        out_channels = channels * block.expansion
        downsample = None
        if shortcut and (stride != 1 or self.in_channels != out_channels):
            downsample = nn.Sequential(conv1x1(self.in_channels, out_channels, stride),
                                       nn.BatchNorm2d(out_channels))
        layers = [block(self.in_channels, channels, stride, downsample, shortcut)]
        self.in_channels = out_channels
        layers += [block(out_channels, channels, shortcut=shortcut) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) to the conv5_x map (N, num_features, H/32, W/32)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pooling (N, num_features), then the linear classifier (logits)."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.fc(x)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def reset_classifier(self, num_classes: int) -> None:
        self.fc = new_classifier(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class CifarResNet(nn.Module):
    """The CIFAR-10 ResNets of He et al. (2016), section 4.2: ``6n + 2`` layers.

    A 3x3 convolution with 16 filters, then three stages of ``n`` basic blocks with 16, 32 and 64
    channels (maps of 32x32, 16x16 and 8x8; the first block of stages 2 and 3 has stride 2), global
    average pooling and a linear layer. Shortcuts are identities, or :class:`PadShortcut` ("option A")
    where the shape changes; ``shortcut=False`` gives the plain network of the same depth.
    """

    def __init__(self, n: int, num_classes: int = 10, shortcut: bool = True) -> None:
        super().__init__()
        self.conv1 = conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.in_channels = 16
        self.layer1 = self._make_stage(16, n, 1, shortcut)
        self.layer2 = self._make_stage(32, n, 2, shortcut)
        self.layer3 = self._make_stage(64, n, 2, shortcut)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.num_features = 64
        self.linear = nn.Linear(64, num_classes)
        init_weights(self)  # Kaiming-normal convolutions, as in the ResNet paper

    def _make_stage(self, channels: int, blocks: int, stride: int, shortcut: bool) -> nn.Sequential:
        downsample = None
        if shortcut and (stride != 1 or self.in_channels != channels):
            downsample = PadShortcut(self.in_channels, channels, stride)
        layers = [BasicBlock(self.in_channels, channels, stride, downsample, shortcut)]
        self.in_channels = channels
        layers += [BasicBlock(channels, channels, shortcut=shortcut) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, 32, 32) to the last stage's map (N, 64, 8, 8)."""
        x = self.relu(self.bn1(self.conv1(x)))
        return self.layer3(self.layer2(self.layer1(x)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pooling (N, 64), then the linear classifier (logits)."""
        x = torch.flatten(self.avgpool(x), 1)
        return x if pre_logits else self.linear(x)

    def get_classifier(self) -> nn.Module:
        return self.linear

    def reset_classifier(self, num_classes: int) -> None:
        self.linear = new_classifier(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def load_cifar_resnet_weights(model: CifarResNet, checkpoint: dict | str | Path) -> CifarResNet:
    """Load a checkpoint of github.com/akamaster/pytorch_resnet_cifar10 into ``model`` (strictly).

    ``checkpoint`` is a path to a ``.th`` file, the dict it holds (``{'best_prec1', 'state_dict'}``)
    or the state dict itself. The ``module.`` prefix left by ``nn.DataParallel`` is stripped; every
    other name already matches. The networks expect images in [0, 1] normalised by
    ``PRETRAINED_CIFAR_MEAN`` and ``PRETRAINED_CIFAR_STD`` (ImageNet's statistics).
    """
    if isinstance(checkpoint, (str, Path)):
        checkpoint = torch.load(checkpoint, map_location="cpu", weights_only=True)
    state_dict = checkpoint.get("state_dict", checkpoint)
    state_dict = {k.removeprefix("module."): v for k, v in state_dict.items()}
    model.load_state_dict(state_dict, strict=True)
    return model


# --- ImageNet ResNets (Table 1) -----------------------------------------------------------------

# Table 1 of He et al. (2016): the block, and how many of them in conv2_x, conv3_x, conv4_x, conv5_x.
RESNET_LAYERS: dict[int, tuple[type[BasicBlock | Bottleneck], list[int]]] = {
    18: (BasicBlock, [2, 2, 2, 2]),
    34: (BasicBlock, [3, 4, 6, 3]),
    50: (Bottleneck, [3, 4, 6, 3]),
    101: (Bottleneck, [3, 4, 23, 3]),
    152: (Bottleneck, [3, 8, 36, 3]),
}


@register
def resnet18(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-18: basic blocks [2, 2, 2, 2] (11.7 M parameters)."""
    return ResNet(*RESNET_LAYERS[18], num_classes=num_classes, **kwargs)


@register
def resnet34(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-34: basic blocks [3, 4, 6, 3] (21.8 M parameters)."""
    return ResNet(*RESNET_LAYERS[34], num_classes=num_classes, **kwargs)


@register
def resnet50(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-50: bottleneck blocks [3, 4, 6, 3] (25.6 M parameters)."""
    return ResNet(*RESNET_LAYERS[50], num_classes=num_classes, **kwargs)


@register
def resnet101(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-101: bottleneck blocks [3, 4, 23, 3] (44.5 M parameters)."""
    return ResNet(*RESNET_LAYERS[101], num_classes=num_classes, **kwargs)


@register
def resnet152(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-152: bottleneck blocks [3, 8, 36, 3] (60.2 M parameters)."""
    return ResNet(*RESNET_LAYERS[152], num_classes=num_classes, **kwargs)


# --- CIFAR-10 ResNets and plain networks (section 4.2, Table 6, Fig. 6) --------------------------

# Section 4.2 and Table 6 of He et al. (2016): depth 6n + 2 -> n, the basic blocks per stage.
CIFAR_RESNET_BLOCKS: dict[int, int] = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18}


@register
def resnet20(num_classes: int = 10, **kwargs) -> CifarResNet:
    """CIFAR ResNet-20 (n = 3, 0.27 M parameters)."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[20], num_classes=num_classes, **kwargs)


@register
def resnet32(num_classes: int = 10, **kwargs) -> CifarResNet:
    """CIFAR ResNet-32 (n = 5, 0.46 M parameters)."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[32], num_classes=num_classes, **kwargs)


@register
def resnet44(num_classes: int = 10, **kwargs) -> CifarResNet:
    """CIFAR ResNet-44 (n = 7, 0.66 M parameters)."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[44], num_classes=num_classes, **kwargs)


@register
def resnet56(num_classes: int = 10, **kwargs) -> CifarResNet:
    """CIFAR ResNet-56 (n = 9, 0.85 M parameters)."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[56], num_classes=num_classes, **kwargs)


@register
def resnet110(num_classes: int = 10, **kwargs) -> CifarResNet:
    """CIFAR ResNet-110 (n = 18, 1.7 M parameters)."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[110], num_classes=num_classes, **kwargs)


@register
def cifar_plain20(num_classes: int = 10, **kwargs) -> CifarResNet:
    """ResNet-20 without shortcuts: the 20-layer plain network of Fig. 6."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[20], num_classes=num_classes, shortcut=False, **kwargs)


@register
def cifar_plain32(num_classes: int = 10, **kwargs) -> CifarResNet:
    """ResNet-32 without shortcuts."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[32], num_classes=num_classes, shortcut=False, **kwargs)


@register
def cifar_plain44(num_classes: int = 10, **kwargs) -> CifarResNet:
    """ResNet-44 without shortcuts."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[44], num_classes=num_classes, shortcut=False, **kwargs)


@register
def cifar_plain56(num_classes: int = 10, **kwargs) -> CifarResNet:
    """ResNet-56 without shortcuts: the 56-layer plain network of Fig. 6."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[56], num_classes=num_classes, shortcut=False, **kwargs)


@register
def cifar_plain110(num_classes: int = 10, **kwargs) -> CifarResNet:
    """ResNet-110 without shortcuts."""
    return CifarResNet(CIFAR_RESNET_BLOCKS[110], num_classes=num_classes, shortcut=False, **kwargs)
