import pytest
import torch

from coursekit import augment


def batch(n=16, size=8):
    g = torch.Generator().manual_seed(1)
    return torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)


def test_random_crop_keeps_shape_dtype_and_range():
    x = batch()
    y = augment.random_crop(x, padding=2, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.dtype == torch.uint8


def test_random_crop_is_a_shifted_window_of_the_padded_image():
    x = batch(n=64)
    y = augment.random_crop(x, padding=2, fill="zeros", generator=torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for i in range(len(x)):
        windows = [padded[i, :, dy:dy + 8, dx:dx + 8] for dy in range(5) for dx in range(5)]
        assert any(torch.equal(y[i], w) for w in windows)
    # per-sample offsets: not every image is shifted the same way
    unshifted = [torch.equal(y[i], x[i]) for i in range(len(x))]
    assert 0 < sum(unshifted) < len(x)


def test_zero_padding_crop_is_the_identity():
    x = batch()
    assert torch.equal(augment.random_crop(x, padding=0), x)


def test_reflect_padding_uses_image_pixels_only():
    x = torch.full((32, 3, 8, 8), 200, dtype=torch.uint8)
    y = augment.random_crop(x, padding=3, generator=torch.Generator().manual_seed(0))
    assert torch.all(y == 200)  # no zeros come in from the border


def test_random_flip_flips_some_images_exactly():
    x = batch(n=64)
    y = augment.random_flip(x, generator=torch.Generator().manual_seed(0))
    flipped = [torch.equal(y[i], x[i].flip(-1)) for i in range(len(x))]
    kept = [torch.equal(y[i], x[i]) for i in range(len(x))]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54  # about half


def test_same_seed_same_batch():
    x = batch()
    a = augment.random_flip(augment.random_crop(x, 4, generator=torch.Generator().manual_seed(3)),
                            generator=torch.Generator().manual_seed(4))
    b = augment.random_flip(augment.random_crop(x, 4, generator=torch.Generator().manual_seed(3)),
                            generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


def test_float_batches_work_too():
    x = batch().float() / 255
    y = augment.random_flip(augment.random_crop(x, 2))
    assert y.dtype == torch.float32 and 0 <= y.min() and y.max() <= 1


def images(n=32, size=16, seed=1):
    return batch(n, size)


def seeded(k=0):
    return torch.Generator().manual_seed(k)


PER_IMAGE = [augment.rotate, augment.elastic, augment.gaussian_noise, augment.channel_contrast,
             augment.color_jitter, augment.cutout, augment.trivial_augment]


def test_every_augmentation_keeps_the_shape_and_the_value_range_and_repeats_with_its_seed():
    x = images()
    for fn in PER_IMAGE:
        y = fn(x, generator=seeded())
        assert y.shape == x.shape, fn.__name__
        top = 255 if y.dtype == torch.uint8 else 1.0
        assert 0 <= float(y.min()) and float(y.max()) <= top, fn.__name__
        assert torch.equal(y, fn(x, generator=seeded())), fn.__name__
        assert not torch.equal(y, fn(x, generator=seeded(1))), fn.__name__


def test_rotation_by_zero_degrees_and_elastic_without_displacement_are_the_identity():
    x = images().float() / 255
    assert torch.allclose(augment.rotate(x, degrees=0.0), x, atol=1e-5)
    assert torch.allclose(augment.elastic(x, alpha=0.0), x, atol=1e-5)


def test_rotation_by_ninety_degrees_turns_the_image():
    x = torch.zeros(1, 1, 8, 8)
    x[..., 0, :] = 1  # the top row
    theta = torch.tensor([[[0.0, -1.0, 0.0], [1.0, 0.0, 0.0]]])
    turned = augment.warp(x, theta)
    # theta maps each output point to the input point it samples: here the top row lands in the left column
    assert torch.allclose(turned[0, 0], x[0, 0].rot90(1), atol=1e-5)
    assert not torch.allclose(turned[0, 0], x[0, 0], atol=1e-5)


def test_noise_has_the_asked_standard_deviation():
    x = torch.full((64, 3, 16, 16), 0.5)
    y = augment.gaussian_noise(x, std=0.05, generator=seeded())
    assert abs(float((y - x).std()) - 0.05) < 0.002 and abs(float((y - x).mean())) < 0.002


def test_channel_contrast_keeps_each_channels_mean_and_changes_channels_independently():
    x = torch.rand(16, 3, 16, 16, generator=seeded()) * 0.5 + 0.25  # no clipping at these values
    y = augment.channel_contrast(x, strength=0.3, generator=seeded())
    assert torch.allclose(y.mean((2, 3)), x.mean((2, 3)), atol=1e-5)
    ratio = (y - y.mean((2, 3), keepdim=True)).std((2, 3)) / (x - x.mean((2, 3), keepdim=True)).std((2, 3))
    assert ((ratio > 0.69) & (ratio < 1.31)).all() and ratio.std(1).mean() > 0.01  # one factor per channel


def test_cutout_zeroes_one_square_per_image():
    x = torch.full((64, 3, 32, 32), 200, dtype=torch.uint8)
    y = augment.cutout(x, size=8, generator=seeded())
    zeros = (y == 0).all(1).flatten(1).sum(1)
    assert zeros.max() == 64 and zeros.min() >= 16  # a whole 8 x 8 square, or the part inside the image
    assert ((y == 0) | (y == 200)).all()


def test_mixup_blends_images_and_labels_with_the_same_weight():
    x = images().float() / 255
    labels = torch.arange(32) % 4
    mixed, soft = augment.mixup(x, labels, 4, alpha=1.0, generator=seeded())
    assert soft.shape == (32, 4) and torch.allclose(soft.sum(1), torch.ones(32))
    g = seeded()
    partner = torch.randperm(32, generator=g)
    lam = augment._beta(1.0, 32, g)
    assert torch.allclose(mixed, lam[:, None, None, None] * x + (1 - lam[:, None, None, None]) * x[partner])


def test_cutmix_labels_are_the_share_of_pixels_from_each_image():
    x = torch.zeros(32, 3, 16, 16)
    x[16:] = 1.0  # images 16-31 are white, 0-15 black
    labels = (torch.arange(32) >= 16).long()
    mixed, soft = augment.cutmix(x, labels, 2, generator=seeded())
    assert torch.allclose(soft.sum(1), torch.ones(32))
    white = mixed[:, 0].flatten(1).mean(1)
    assert torch.allclose(soft[:, 1], white, atol=1e-6)  # label weight of class 1 = share of white pixels
    assert 0 < float(white[:16].max()) and float(white[16:].min()) < 1  # something was pasted


def test_trivial_augment_draws_every_operation_about_equally_often():
    x = images(n=1400, size=8)
    y, ops = augment.trivial_augment(x, generator=seeded(), return_ops=True)
    counts = torch.bincount(ops, minlength=len(augment.TRIVIAL_OPS))
    assert len(augment.TRIVIAL_OPS) == 14 and counts.min() > 60 and counts.max() < 140
    identity = ops == augment.TRIVIAL_OPS.index("identity")
    assert torch.allclose(y[identity], x[identity].float() / 255)


def pil_op(name, x):
    """PIL's ImageOps.<name> applied to each uint8 image of ``x`` (N, 3, H, W)."""
    import numpy as np
    from PIL import Image, ImageOps

    return torch.stack([torch.from_numpy(np.array(getattr(ImageOps, name)(Image.fromarray(i.permute(1, 2, 0).numpy()))))
                        .permute(2, 0, 1) for i in x])


def test_equalize_and_autocontrast_match_pil():
    g = seeded(5)
    narrow = [lo + torch.randint(0, span, (4, 3, 16, 16), generator=g) for lo, span in [(0, 256), (100, 20), (30, 3), (200, 56)]]
    x = torch.cat(narrow).to(torch.uint8)  # full, narrow and skewed histograms, as the ops meet them
    x[0, 1] = 77  # a channel of one grey level
    ops = augment._trivial_ops()
    assert set(ops) == set(augment.TRIVIAL_OPS)
    m, s = torch.zeros(len(x)), torch.ones(len(x))
    for name, tolerance in [("equalize", 0), ("autocontrast", 1)]:  # PIL truncates where torchvision's float rounds
        ours = (ops[name](x.float() / 255, m, s) * 255).round()
        assert (ours - pil_op(name, x).float()).abs().max() <= tolerance, name


def test_equalize_spreads_the_histogram_and_keeps_the_order():
    # 1024 pixels: PIL (and torchvision) leave an image of fewer than 255 + 1 pixels as it is
    x = (torch.linspace(0.4, 0.6, 1024).view(1, 1, 32, 32).expand(2, 3, 32, 32)).contiguous()
    y = augment._trivial_ops()["equalize"](x, torch.zeros(2), torch.ones(2))
    assert float(y.min()) == 0.0 and float(y.max()) == 1.0
    assert (y.flatten(2).diff(dim=2) >= 0).all()  # monotone: the order of the pixels is kept


def test_a_pipeline_feeds_the_loader_and_mixing_makes_soft_labels():
    from coursekit import data

    ds = data.ImageTensors(images(n=12, size=8), torch.arange(12) % 3, ("a", "b", "c"))
    loader = data.DeviceLoader(ds, 4, train=True, augmentation=augment.pipeline(["rotate", "cutmix"], num_classes=3))
    x, y = next(iter(loader))
    assert x.shape == (4, 3, 8, 8) and y.shape == (4, 3) and torch.allclose(y.sum(1), torch.ones(4))
    plain = data.DeviceLoader(ds, 4, train=True, augmentation=augment.pipeline(["noise"]))
    x2, y2 = next(iter(plain))
    assert y2.ndim == 1 and abs(float(x2.mean())) < 5  # normalised: float images are scaled back to 0-255 first
    test = data.DeviceLoader(ds, 4, train=False, augmentation=augment.pipeline(["noise"]))
    assert torch.equal(next(iter(test))[0], data.DeviceLoader(ds, 4, train=False).batch(torch.arange(4))[0])


def test_pipeline_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="unknown augmentation"):
        augment.pipeline(["rotate", "sharpen"])
    with pytest.raises(ValueError, match="at most one of mixup, cutmix, and last"):
        augment.pipeline(["mixup", "rotate"], num_classes=3)
    with pytest.raises(ValueError, match="pass num_classes"):
        augment.pipeline(["mixup"])
