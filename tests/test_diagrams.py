"""Block diagrams read their labels from the modules they draw."""
from __future__ import annotations

import matplotlib.pyplot as plt
from torch import nn

from coursekit import figures, models
from coursekit.figures import diagrams
from coursekit.models import inception, resnet


def texts(fig) -> list[str]:
    found = [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]
    plt.close(fig)
    return found


def test_layers_are_described_from_their_settings():
    assert diagrams.describe(nn.Conv2d(3, 8, 5, stride=2)) == ("5×5 conv, 8, stride 2", "conv")
    assert diagrams.describe(inception.ConvBNReLU(3, 16, 1))[0] == "1×1 conv, 16 + BN + ReLU"
    assert diagrams.describe(nn.MaxPool2d(3, stride=1, padding=1))[0] == "3×3 max-pool"
    assert diagrams.describe(resnet.PadShortcut(16, 32, 2))[0] == "subsample by 2, pad with zero channels"


def test_the_inception_diagram_shows_the_modules_own_channels():
    table = inception.GOOGLENET_TABLE["3b"]
    found = texts(diagrams.inception_module(inception.Inception(*table), table[0], "3b"))
    assert f"input: {table[0]} channels" in found
    assert "concatenate along channels: 480 channels" in found  # 128 + 192 + 96 + 64
    assert "3×3 conv, 192 + BN + ReLU" in found and "1×1 conv, 32 + BN + ReLU" in found


def test_residual_blocks_show_their_shortcut():
    block = resnet.BasicBlock(16, 32, stride=2, downsample=resnet.PadShortcut(16, 32, 2))
    found = texts(diagrams.residual_blocks(basic=block))
    assert "3×3 conv, 32, stride 2 + BN + ReLU" in found and "3×3 conv, 32 + BN" in found
    assert "shortcut:\nsubsample by 2, pad with zero channels" in found and "shortcut:\nidentity" in found
    assert "1×1 conv, 256 + BN" in found  # the default bottleneck's expansion


def test_the_encoder_block_diagram_reads_heads_and_widths():
    found = texts(diagrams.encoder_block(models.create("vit_cifar", dim=128, heads=4, mlp_ratio=2.0).blocks[0]))
    assert "multi-head self-attention: 4 heads of 32" in found and "linear, 256" in found
    assert "tokens: 65 × 128" in found


def test_the_diagrams_are_registered_for_export():
    assert {"diagram-inception-3a", "diagram-residual-blocks", "diagram-encoder-block"} <= set(figures.FIGURES)
