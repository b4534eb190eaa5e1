"""The Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words").

An image is cut into P x P patches; each patch is flattened and projected to a D-dimensional token
(equation 1 of the paper). A learned class token is put in front, learned position embeddings
are added, and L encoder blocks follow, each

    z' = z + MSA(LN(z))          (equation 2)
    z  = z' + MLP(LN(z'))        (equation 3)

with multi-head self-attention (MSA) and a two-layer MLP with a GELU. The final LayerNorm of the
class token is the image's representation (equation 4), read by a linear head.

The module names are timm's (``patch_embed.proj``, ``blocks.0.attn.qkv``, ...), so timm's weights
load into this code unchanged (``tests/test_vit.py`` checks the outputs agree).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .registry import new_classifier, register


class PatchEmbed(nn.Module):
    """Non-overlapping P x P patches, each linearly projected to ``dim``: a convolution with
    kernel and stride P is exactly that projection."""

    def __init__(self, image_size: int, patch_size: int, dim: int, in_channels: int = 3) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"image_size {image_size} is not a multiple of patch_size {patch_size}")
        self.num_patches = (image_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_channels, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # (N, D, H/P, W/P) -> (N, patches, D)


class Attention(nn.Module):
    """Multi-head self-attention: softmax(Q K^T / sqrt(d)) V in each of ``heads`` subspaces of size d = D / heads."""

    def __init__(self, dim: int, heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        n, tokens, dim = x.shape
        q, k, v = self.qkv(x).view(n, tokens, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        if return_weights:  # the explicit form, to look at the attention
            weights = (q @ k.transpose(-2, -1) * self.head_dim ** -0.5).softmax(-1)
            out = weights @ v
        else:  # the same computation, fused (flash or memory-efficient kernels where available)
            out, weights = F.scaled_dot_product_attention(q, k, v), None
        out = self.proj(out.transpose(1, 2).reshape(n, tokens, dim))
        return (out, weights) if return_weights else out


class Mlp(nn.Module):
    """Two linear layers with a GELU between them: D -> hidden -> D."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """A pre-norm encoder block: attention and MLP, each inside a residual connection."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        """Equations 2 and 3; with ``return_weights``, also the attention weights (explicit form)."""
        if return_weights:
            attended, weights = self.attn(self.norm1(x), return_weights=True)
            x = x + attended
            return x + self.mlp(self.norm2(x)), weights
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


# Sizes (Table 1 of the paper: Base, Large, Huge; DeiT's Tiny and Small, Touvron et al. 2021; and the
# course's small ViT for 32 x 32 images): token width D, blocks L, heads, image and patch size.
VIT_SIZES: dict[str, dict[str, int]] = {
    "cifar": dict(dim=192, depth=6, heads=3, image_size=32, patch_size=4),
    "tiny": dict(dim=192, depth=12, heads=3, image_size=224, patch_size=16),
    "small": dict(dim=384, depth=12, heads=6, image_size=224, patch_size=16),
    "base": dict(dim=768, depth=12, heads=12, image_size=224, patch_size=16),
    "large": dict(dim=1024, depth=24, heads=16, image_size=224, patch_size=16),
    "huge": dict(dim=1280, depth=32, heads=16, image_size=224, patch_size=14),
}


class VisionTransformer(nn.Module):
    """ViT: patch embedding, class token, learned position embeddings, ``depth`` blocks, head."""

    def __init__(self, image_size: int = 224, patch_size: int = 16, num_classes: int = 1000, dim: int = 768,
                 depth: int = 12, heads: int = 12, mlp_ratio: float = 4.0, qkv_bias: bool = True) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed(image_size, patch_size, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, self.patch_embed.num_patches + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio, qkv_bias) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.num_features = dim
        self.head = nn.Linear(dim, num_classes)
        self.grad_checkpointing = False  # recompute each block's activations in the backward pass
        self._init_weights()

    def _init_weights(self) -> None:
        """Truncated-normal (std 0.02) linear layers and tokens, zero biases, as in timm and DeiT."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) to the input sequence z_0: class token and patches, plus positions."""
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1)
        return x + self.pos_embed

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images to every token after the final LayerNorm (N, 1 + patches, D); token 0 is the class token."""
        x = self.tokens(x)
        if self.grad_checkpointing and torch.is_grad_enabled():
            # Keep only each block's input; recompute the inside during the backward pass:
            # activation memory falls from O(depth x block) to O(depth + block), for about one more forward.
            from torch.utils.checkpoint import checkpoint

            for block in self.blocks:
                x = checkpoint(block, x, use_reentrant=False)
        else:
            x = self.blocks(x)
        return self.norm(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """The class token (N, D), the image's representation (equation 4), then the linear head (logits)."""
        x = x[:, 0]
        return x if pre_logits else self.head(x)

    def get_classifier(self) -> nn.Module:
        return self.head

    def reset_classifier(self, num_classes: int) -> None:
        self.head = new_classifier(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    @torch.no_grad()
    def attention_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The attention weights of every block, each (N, heads, tokens, tokens)."""
        z, maps = self.tokens(x), []
        for block in self.blocks:
            z, weights = block(z, return_weights=True)
            maps.append(weights)
        return maps


@register
def vit_cifar(num_classes: int = 10, **kwargs) -> VisionTransformer:
    """A small ViT for 32 x 32 images: 4 x 4 patches (64 tokens), D = 192, 6 blocks, 3 heads (2.7 M parameters)."""
    return VisionTransformer(**{**VIT_SIZES["cifar"], **kwargs}, num_classes=num_classes)


@register
def vit_tiny_patch16_224(num_classes: int = 1000, **kwargs) -> VisionTransformer:
    """ViT-Ti/16 of DeiT (Touvron et al. 2021): D = 192, 12 blocks, 3 heads (5.7 M parameters)."""
    return VisionTransformer(**{**VIT_SIZES["tiny"], **kwargs}, num_classes=num_classes)


@register
def vit_base_patch16_224(num_classes: int = 1000, **kwargs) -> VisionTransformer:
    """ViT-B/16 of the paper: D = 768, 12 blocks, 12 heads (86 M parameters)."""
    return VisionTransformer(**{**VIT_SIZES["base"], **kwargs}, num_classes=num_classes)
