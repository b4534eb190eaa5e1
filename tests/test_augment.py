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
