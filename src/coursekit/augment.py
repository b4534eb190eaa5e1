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


# --- geometry: one affine map (or displacement field) per image, sampled with grid_sample ---------

def _uniform(n: int, low: float, high: float, generator: torch.Generator | None, device) -> torch.Tensor:
    return (low + (high - low) * torch.rand(n, generator=generator)).to(device)


def _float(images: torch.Tensor) -> torch.Tensor:
    """Float images in [0, 1] (uint8 batches are scaled)."""
    return images.float() / 255 if images.dtype == torch.uint8 else images


def warp(images: torch.Tensor, theta: torch.Tensor, padding_mode: str = "zeros") -> torch.Tensor:
    """Apply one 2 x 3 affine matrix per image (in the normalised [-1, 1] coordinates of
    ``F.affine_grid``: output pixel p samples input point theta @ [p, 1]), bilinearly."""
    x = _float(images)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def rotate(images: torch.Tensor, degrees: float = 20.0, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Rotate each image about its centre by an angle drawn uniformly from [-degrees, degrees]."""
    angle = torch.deg2rad(_uniform(len(images), -degrees, degrees, generator, images.device))
    cos, sin, zero = angle.cos(), angle.sin(), torch.zeros_like(angle)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    return warp(images, theta)


def elastic(images: torch.Tensor, alpha: float = 4.0, sigma: float = 3.0, *,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """Elastic deformation (Simard et al. 2003): a random displacement field per image, uniform in
    [-1, 1] per pixel, smoothed by a Gaussian of ``sigma`` pixels and scaled to ``alpha`` pixels."""
    n, _, h, w = images.shape
    field = (2 * torch.rand(n, 2, h, w, generator=generator) - 1).to(images.device)
    radius = max(1, int(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32, device=images.device)
    kernel = torch.exp(-t ** 2 / (2 * sigma ** 2))
    kernel = kernel / kernel.sum()
    field = F.conv2d(F.pad(field, (radius, radius, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1).expand(2, 1, 1, -1), groups=2)
    field = F.conv2d(F.pad(field, (0, 0, radius, radius), mode="reflect"), kernel.view(1, 1, -1, 1).expand(2, 1, -1, 1), groups=2)
    field = field / field.flatten(1).abs().amax(1).clamp_min(1e-8)[:, None, None, None]  # peak 1 pixel
    identity = torch.eye(2, 3, device=images.device).expand(n, 2, 3)
    grid = F.affine_grid(identity, [n, 1, h, w], align_corners=False)
    displacement = alpha * field.permute(0, 2, 3, 1) * torch.tensor([2 / w, 2 / h], device=images.device)
    return F.grid_sample(_float(images), grid + displacement, mode="bilinear", padding_mode="reflection",
                         align_corners=False)


# --- photometry: float images in [0, 1], per-image factors ----------------------------------------

def gaussian_noise(images: torch.Tensor, std: float = 0.05, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Add white Gaussian noise of standard deviation ``std`` (in units of the [0, 1] range), clipped."""
    x = _float(images)
    return (x + std * torch.randn(x.shape, generator=generator).to(x.device)).clamp(0, 1)


def channel_contrast(images: torch.Tensor, strength: float = 0.3, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Scale each colour channel of each image about its own mean by a factor drawn from
    [1 - strength, 1 + strength]: a per-channel (RGB) contrast change."""
    x = _float(images)
    n, c = x.shape[:2]
    factor = (1 - strength + 2 * strength * torch.rand(n, c, 1, 1, generator=generator)).to(x.device)
    mean = x.mean((2, 3), keepdim=True)
    return (mean + factor * (x - mean)).clamp(0, 1)


def _grey(x: torch.Tensor) -> torch.Tensor:
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def color_jitter(images: torch.Tensor, brightness: float = 0.4, contrast: float = 0.4, saturation: float = 0.4, *,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Brightness, contrast and saturation each multiplied by a factor from [1 - s, 1 + s], per image."""
    x = _float(images)
    f = [(1 - s + 2 * s * torch.rand(len(x), 1, 1, 1, generator=generator)).to(x.device)
         for s in (brightness, contrast, saturation)]
    x = (x * f[0]).clamp(0, 1)
    mean = _grey(x).mean((2, 3), keepdim=True)
    x = (mean + f[1] * (x - mean)).clamp(0, 1)
    grey = _grey(x)
    return (grey + f[2] * (x - grey)).clamp(0, 1)


# --- occlusion and mixing -------------------------------------------------------------------------

def _boxes(n: int, h: int, w: int, box_h: torch.Tensor, box_w: torch.Tensor, generator, device) -> torch.Tensor:
    """A mask (N, 1, H, W), True inside a box of the given sizes centred at a uniform random pixel
    (clipped at the border)."""
    cy = torch.randint(0, h, (n,), generator=generator).to(device)
    cx = torch.randint(0, w, (n,), generator=generator).to(device)
    rows, cols = torch.arange(h, device=device), torch.arange(w, device=device)
    in_rows = (rows[None] >= (cy - box_h // 2)[:, None]) & (rows[None] < (cy - box_h // 2 + box_h)[:, None])
    in_cols = (cols[None] >= (cx - box_w // 2)[:, None]) & (cols[None] < (cx - box_w // 2 + box_w)[:, None])
    return (in_rows[:, :, None] & in_cols[:, None, :])[:, None]


def cutout(images: torch.Tensor, size: int = 8, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Cutout (DeVries and Taylor 2017): set a ``size`` x ``size`` square at a random centre to zero."""
    n, _, h, w = images.shape
    side = torch.full((n,), size, device=images.device)
    mask = _boxes(n, h, w, side, side, generator, images.device)
    return images.masked_fill(mask, 0)


def _beta(alpha: float, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` draws from Beta(alpha, alpha), reproducible from ``generator`` (which seeds NumPy's,
    since torch.distributions takes no generator)."""
    import numpy as np

    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    return torch.from_numpy(np.random.default_rng(seed).beta(alpha, alpha, n)).float()


def mixup(images: torch.Tensor, labels: torch.Tensor, num_classes: int, alpha: float = 1.0, *,
          generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """mixup (Zhang et al. 2018): each image blended with a random partner from the batch,
    ``lam * x_i + (1 - lam) * x_j`` with ``lam ~ Beta(alpha, alpha)`` per image; the soft labels
    (N, num_classes) are blended the same way, so each row sums to one."""
    x = _float(images)
    partner = torch.randperm(len(x), generator=generator).to(x.device)
    lam = _beta(alpha, len(x), generator).to(x.device)
    y = F.one_hot(labels, num_classes).float()
    mixed = lam[:, None, None, None] * x + (1 - lam[:, None, None, None]) * x[partner]
    return mixed, lam[:, None] * y + (1 - lam[:, None]) * y[partner]


def cutmix(images: torch.Tensor, labels: torch.Tensor, num_classes: int, alpha: float = 1.0, *,
           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """CutMix (Yun et al. 2019): a box of a random partner's image pasted into each image, the box's
    area a fraction ``1 - lam`` of the image with ``lam ~ Beta(alpha, alpha)``; the soft labels are
    weighted by the pixels each image really contributes (after clipping the box at the border)."""
    x = _float(images)
    n, _, h, w = x.shape
    partner = torch.randperm(n, generator=generator).to(x.device)
    lam = _beta(alpha, n, generator).to(x.device)
    side = (1 - lam).sqrt()
    mask = _boxes(n, h, w, (side * h).round().long(), (side * w).round().long(), generator, x.device)
    mixed = torch.where(mask, x[partner], x)
    pasted = mask.flatten(1).float().mean(1)[:, None]
    y = F.one_hot(labels, num_classes).float()
    return mixed, (1 - pasted) * y + pasted * y[partner]


# --- an automatic policy: TrivialAugment (Müller and Hutter 2021) --------------------------------

def _affine(x: torch.Tensor, a=1.0, b=0.0, tx=0.0, c=0.0, d=1.0, ty=0.0) -> torch.Tensor:
    """Warp each image by the matrix [[a, b, tx], [c, d, ty]] (see :func:`warp`); each entry is a
    number or one value per image."""
    n = len(x)
    entries = [torch.as_tensor(v, dtype=torch.float32, device=x.device).expand(n) for v in (a, b, tx, c, d, ty)]
    return warp(x, torch.stack(entries, 1).view(n, 2, 3))


def _sharpness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    kernel = torch.tensor([[1.0, 1, 1], [1, 5, 1], [1, 1, 1]], device=x.device) / 13
    smooth = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel.expand(x.shape[1], 1, 3, 3), groups=x.shape[1])
    return (smooth + factor * (x - smooth)).clamp(0, 1)


def _blend(x: torch.Tensor, target: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """PIL's ImageEnhance: ``target + factor * (x - target)`` (factor 0 gives the target, 1 the image)."""
    return (target + factor[:, None, None, None] * (x - target)).clamp(0, 1)


def _posterize(x: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    shift = (8 - bits)[:, None, None, None]
    return (((x * 255).round().long() >> shift) << shift).float() / 255


def _trivial_ops() -> dict:
    """The 14 operations of TrivialAugmentWide as functions of (images, magnitude m in [0, 1],
    sign s in {-1, 1}) on float images in [0, 1], with the ranges of the paper's wide space:
    shears up to 0.99, translations up to 32 pixels, rotations up to 135 degrees, enhancement
    factors 1 +- 0.99, 2 to 8 bits, any solarisation threshold. Autocontrast and equalisation
    take no parameter and are torchvision's, which match PIL's ``ImageOps`` (equalisation bins a
    float image into its 256 grey levels first, as PIL works on 8-bit images)."""
    from torchvision.transforms.v2 import functional as TF

    def angle(m, s):
        return torch.deg2rad(135 * m * s)

    return {
        "identity": lambda x, m, s: x,
        "shear_x": lambda x, m, s: _affine(x, b=0.99 * m * s),
        "shear_y": lambda x, m, s: _affine(x, c=0.99 * m * s),
        "translate_x": lambda x, m, s: _affine(x, tx=-2 * 32 * m * s / x.shape[-1]),
        "translate_y": lambda x, m, s: _affine(x, ty=-2 * 32 * m * s / x.shape[-2]),
        "rotate": lambda x, m, s: _affine(x, a=angle(m, s).cos(), b=-angle(m, s).sin(), c=angle(m, s).sin(),
                                          d=angle(m, s).cos()),
        "brightness": lambda x, m, s: _blend(x, torch.zeros_like(x), 1 + 0.99 * m * s),
        "color": lambda x, m, s: _blend(x, _grey(x).expand_as(x), 1 + 0.99 * m * s),
        "contrast": lambda x, m, s: _blend(x, _grey(x).mean((1, 2, 3), keepdim=True).expand_as(x), 1 + 0.99 * m * s),
        "sharpness": lambda x, m, s: _sharpness(x, (1 + 0.99 * m * s)[:, None, None, None]),
        "posterize": lambda x, m, s: _posterize(x, 2 + (6 * m).round().long()),
        "solarize": lambda x, m, s: torch.where(x >= (1 - m)[:, None, None, None], 1 - x, x),
        "autocontrast": lambda x, m, s: TF.autocontrast(x),
        "equalize": lambda x, m, s: TF.equalize(x),
    }


TRIVIAL_OPS = ("identity", "shear_x", "shear_y", "translate_x", "translate_y", "rotate", "brightness", "color",
               "contrast", "sharpness", "posterize", "solarize", "autocontrast", "equalize")


def trivial_augment(images: torch.Tensor, *, generator: torch.Generator | None = None,
                    return_ops: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """TrivialAugment (Müller and Hutter 2021): each image gets one operation drawn uniformly from
    :data:`TRIVIAL_OPS`, at a magnitude drawn uniformly from its range. No policy to search, no
    parameters to tune. With ``return_ops`` the index of each image's operation is returned too."""
    x = _float(images)
    n = len(x)
    op = torch.randint(0, len(TRIVIAL_OPS), (n,), generator=generator)
    magnitude = torch.rand(n, generator=generator).to(x.device)
    sign = (torch.randint(0, 2, (n,), generator=generator) * 2 - 1).float().to(x.device)
    out = x.clone()
    ops = _trivial_ops()
    for k, name in enumerate(TRIVIAL_OPS):
        fn = ops[name]
        chosen = (op == k).nonzero().flatten().to(x.device)
        if len(chosen):
            out[chosen] = fn(x[chosen], magnitude[chosen], sign[chosen]).clamp(0, 1)
    return (out, op) if return_ops else out


# --- named augmentations, chained for the loader -------------------------------------------------

PER_IMAGE = {"rotate": rotate, "elastic": elastic, "noise": gaussian_noise, "channel_contrast": channel_contrast,
             "color_jitter": color_jitter, "cutout": cutout, "trivial_augment": trivial_augment}
MIXING = {"mixup": mixup, "cutmix": cutmix}


def pipeline(names: list[str] | tuple[str, ...], num_classes: int | None = None):
    """One function ``(images, labels, generator) -> (images, labels)`` applying the named
    augmentations of :data:`PER_IMAGE` in order, then at most one of :data:`MIXING` (which needs
    ``num_classes`` and returns soft labels). For ``coursekit.data.DeviceLoader(augmentation=...)``;
    crops and flips are the loader's own (``crop_padding``, ``flip``)."""
    unknown = [n for n in names if n not in PER_IMAGE and n not in MIXING]
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; known: {', '.join([*PER_IMAGE, *MIXING])}")
    mixing = [n for n in names if n in MIXING]
    if len(mixing) > 1 or (mixing and names[-1] != mixing[0]):
        raise ValueError(f"at most one of {', '.join(MIXING)}, and last: got {list(names)}")
    if mixing and num_classes is None:
        raise ValueError(f"{mixing[0]} makes soft labels: pass num_classes")

    def apply(images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator):
        for name in names:
            if name in MIXING:
                return MIXING[name](images, labels, num_classes, generator=generator)
            images = PER_IMAGE[name](images, generator=generator)
        return images, labels

    return apply
