"""Batched augmentations that run on the device, one random draw per sample.

torchvision's v2 transforms accept a batch but draw one random parameter for the whole of it;
here every image gets its own crop offset and flip, in a few tensor operations that work the
same on the CPU and the GPU. Inputs are uint8 or float batches of shape (N, C, H, W).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def random_crop(images: torch.Tensor, padding: int, *, generator: torch.Generator | None = None,
                fill: str = "reflect") -> torch.Tensor:
    """Pad every side by ``padding`` pixels, then cut a random H x W window per image.

    This is the CIFAR augmentation of He et al. (2016): 4 px of padding and a random 32 x 32 crop.
    ``fill`` is ``"reflect"`` or ``"zeros"``.
    """
    if padding <= 0:
        return images
    n, c, h, w = images.shape
    mode = {"reflect": "reflect", "zeros": "constant"}[fill]
    padded = F.pad(images.float() if mode == "reflect" else images, (padding,) * 4, mode=mode)
    padded = padded.to(images.dtype)
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(images.device)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator).to(images.device)
    rows = (dy[:, None] + torch.arange(h, device=images.device))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, None, :]  # (N, 1, 1, W)
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    channel = torch.arange(c, device=images.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def random_flip(images: torch.Tensor, p: float = 0.5, *,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    flip = (torch.rand(len(images), generator=generator) < p).to(images.device)
    return torch.where(flip[:, None, None, None], images.flip(-1), images)
