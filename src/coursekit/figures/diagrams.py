"""Block diagrams drawn from the modules themselves: an Inception module's four branches, the residual
and bottleneck blocks with their identity path, and the transformer encoder block. Every label (kernel,
channels, heads, widths) is read from the module passed in, so the picture cannot drift from the code."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch
from torch import nn

from ..i18n import _, say
from ..models import inception, resnet, vit
from .base import register

BOX_H, GAP = 0.55, 0.45  # box height and the gap between boxes, in data units
COLOURS = {"conv": "#cfe2f3", "pool": "#fce5cd", "norm": "#d9ead3", "attn": "#f4cccc", "linear": "#ead1dc",
           "io": "#eeeeee"}


def describe(m: nn.Module) -> tuple[str, str]:
    """A layer's label and colour kind, read from its settings."""
    if isinstance(m, inception.ConvBNReLU):
        return f"{describe(m.conv)[0]} + BN + ReLU", "conv"
    if isinstance(m, nn.Conv2d):
        k, s = m.kernel_size, m.stride[0]
        if s > 1:
            return say("{kh}×{kw} conv, {channels}, stride {stride}", kh=k[0], kw=k[1], channels=m.out_channels,
                       stride=s), "conv"
        return say("{kh}×{kw} conv, {channels}", kh=k[0], kw=k[1], channels=m.out_channels), "conv"
    if isinstance(m, nn.MaxPool2d):
        k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
        if m.stride not in (1, (1, 1)):
            return say("{size}×{size} max-pool, stride {stride}", size=k, stride=m.stride), "pool"
        return say("{size}×{size} max-pool", size=k), "pool"
    if isinstance(m, vit.Attention):
        return say("multi-head self-attention: {heads} heads of {width}", heads=m.heads, width=m.head_dim), "attn"
    if isinstance(m, nn.Linear):
        return say("linear, {features}", features=m.out_features), "linear"
    if isinstance(m, nn.LayerNorm):
        return _("layer norm"), "norm"
    if isinstance(m, nn.BatchNorm2d):
        return _("batch norm"), "norm"
    if isinstance(m, resnet.PadShortcut):
        return say("subsample by {stride}, pad with zero channels", stride=m.stride), "pool"
    return type(m).__name__, "io"


def _box(ax, x: float, y: float, text: str, kind: str, width: float) -> float:
    """A rounded box centred on ``x`` with its top at ``y``; returns the y of its bottom."""
    ax.add_patch(FancyBboxPatch((x - width / 2, y - BOX_H), width, BOX_H, boxstyle="round,pad=0.02,rounding_size=0.08",
                                fc=COLOURS[kind], ec="0.35", lw=0.8))
    ax.text(x, y - BOX_H / 2, text, ha="center", va="center", fontsize=7.5)
    return y - BOX_H


def _arrow(ax, x0: float, y0: float, x1: float, y1: float) -> None:
    ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="-|>", color="0.3", lw=0.8, shrinkA=0, shrinkB=0))


def _stack(ax, x: float, y: float, layers: list[tuple[str, str]], width: float) -> float:
    """Boxes for ``layers`` downwards from ``y``, joined by arrows; returns the y of the last bottom."""
    for i, (text, kind) in enumerate(layers):
        if i:
            _arrow(ax, x, y, x, y - GAP)
            y -= GAP
        y = _box(ax, x, y, text, kind, width)
    return y


def _add(ax, x: float, y: float) -> float:
    """The ⊕ of a residual connection, its top at ``y``; returns its bottom."""
    ax.add_patch(Circle((x, y - 0.18), 0.18, fc="white", ec="0.3", lw=0.9))
    ax.text(x, y - 0.18, "+", ha="center", va="center", fontsize=10)
    return y - 0.36


def _skip(ax, x: float, y: float, side: float, plus: float) -> None:
    """A residual connection: from the main line at ``y`` out to ``side``, down, and into the ⊕ whose bottom is ``plus``."""
    ax.plot([x, side, side], [y, y, plus + 0.18], color="#2ca02c", lw=1.4)
    ax.plot([x], [y], "o", color="#2ca02c", ms=3)
    _arrow(ax, side, plus + 0.18, x + 0.18, plus + 0.18)


def _frame(ax, width: float, height: float) -> None:
    ax.set_xlim(-width / 2, width / 2)
    ax.set_ylim(-height, 0.2)
    ax.set_aspect("equal")
    ax.axis("off")


def inception_module(module: inception.Inception, in_channels: int, name: str = "") -> Figure:
    """The four branches of ``module`` side by side between its input and the concatenation."""
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    branches = [module.branch1, module.branch2, module.branch3, module.branch4]
    xs = [-3.3, -1.1, 1.1, 3.3]
    top = _box(ax, 0, 0, say("input: {channels} channels", channels=in_channels), "io", 8.6)
    bottoms = []
    for x, branch in zip(xs, branches):
        _arrow(ax, x, top, x, top - GAP)
        layers = [describe(m) for m in (branch if isinstance(branch, nn.Sequential) else [branch])]
        bottoms.append(_stack(ax, x, top - GAP, layers, 2.05))
    low = min(bottoms) - GAP
    for x, b in zip(xs, bottoms):
        _arrow(ax, x, b, x, low)
    _box(ax, 0, low, say("concatenate along channels: {channels} channels", channels=module.out_channels), "io", 8.6)
    _frame(ax, 9.0, -low + BOX_H + 0.2)
    ax.set_title(say("Inception module {name} (drawn from its definition)", name=name.rstrip()) if name.strip() else
                 _("Inception module (drawn from its definition)"), fontsize=10)
    return fig


def _residual(ax, x: float, block: nn.Module, in_channels: int, title: str) -> None:
    """One residual block at ``x``: its convolutions down the middle, the shortcut on the right."""
    convs = [getattr(block, f"conv{i}") for i in range(1, 4) if hasattr(block, f"conv{i}")]
    layers = [(describe(c)[0] + " + BN" + (" + ReLU" if i < len(convs) - 1 else ""), "conv") for i, c in enumerate(convs)]
    top = _box(ax, x, 0, say("x: {channels} channels", channels=in_channels), "io", 2.4)
    _arrow(ax, x, top, x, top - GAP)
    bottom = _stack(ax, x, top - GAP, layers, 2.4)
    _arrow(ax, x, bottom, x, bottom - GAP)
    plus = _add(ax, x, bottom - GAP)
    side = x + 1.6
    shortcut = _("identity") if block.downsample is None else describe(block.downsample)[0]
    _skip(ax, x, top - GAP / 2, side, plus)
    ax.text(side + 0.08, (top + plus) / 2, say("shortcut:\n{shortcut}", shortcut=shortcut), fontsize=7, color="#2ca02c",
            va="center")
    _arrow(ax, x, plus, x, plus - GAP)
    _box(ax, x, plus - GAP, "ReLU", "norm", 1.2)
    ax.text(x, 0.35, title, ha="center", fontsize=9)


def residual_blocks(basic: resnet.BasicBlock | None = None, bottleneck: resnet.Bottleneck | None = None,
                    channels: tuple[int, int] = (64, 256)) -> Figure:
    """A basic block and a bottleneck block side by side, each with its identity path."""
    basic = basic or resnet.BasicBlock(channels[0], channels[0])
    bottleneck = bottleneck or resnet.Bottleneck(channels[1], channels[1] // 4)
    fig, ax = plt.subplots(figsize=(9.5, 5.2))
    _residual(ax, -2.4, basic, basic.conv1.in_channels, _("basic block (ResNet-18/34, CIFAR ResNets)"))
    _residual(ax, 2.6, bottleneck, bottleneck.conv1.in_channels, _("bottleneck block (ResNet-50 and deeper)"))
    _frame(ax, 10.0, 6.2)
    ax.set_ylim(-6.0, 0.7)
    return fig


def encoder_block(block: vit.Block | None = None, tokens: int = 65) -> Figure:
    """A ViT encoder block: layer norm and attention, then layer norm and MLP, each in a residual."""
    block = block or vit.Block(192, 3)
    dim = block.norm1.normalized_shape[0]
    fig, ax = plt.subplots(figsize=(7.0, 8.0))
    y = _box(ax, 0, 0, say("tokens: {tokens} × {dim}", tokens=tokens, dim=dim), "io", 3.0)
    for norm, inner, labels in ((block.norm1, block.attn, [describe(block.attn)]),
                                (block.norm2, block.mlp, [describe(block.mlp.fc1), ("GELU", "norm"),
                                                          describe(block.mlp.fc2)])):
        start = y
        _arrow(ax, 0, y, 0, y - GAP)
        y = _stack(ax, 0, y - GAP, [describe(norm), *labels], 4.6)
        _arrow(ax, 0, y, 0, y - GAP)
        plus = _add(ax, 0, y - GAP)
        _skip(ax, 0, start - GAP / 2, 2.8, plus)
        y = plus
    _arrow(ax, 0, y, 0, y - GAP)
    _box(ax, 0, y - GAP, say("tokens: {tokens} × {dim}", tokens=tokens, dim=dim), "io", 3.0)
    _frame(ax, 6.4, -(y - GAP) + BOX_H + 0.2)
    ax.set_title(_("Transformer encoder block (pre-norm, as in ViT), drawn from its definition"), fontsize=9.5)
    return fig


register("diagram-inception-3a", "classic", (),
         lambda rs: inception_module(inception.Inception(*inception.GOOGLENET_TABLE["3a"]),
                                     inception.GOOGLENET_TABLE["3a"][0], "3a"),
         "GoogLeNet's Inception module 3a: four branches with their channel counts, concatenated.")
register("diagram-residual-blocks", "classic", (), lambda rs: residual_blocks(),
         "The basic and the bottleneck residual block, with the identity path.")
register("diagram-encoder-block", "vit", (), lambda rs: encoder_block(),
         "The transformer encoder block of ViT: attention and MLP, each inside a residual connection.")
