"""Batches for training: the device-resident loader of small images (crop, flip and augmentations
per image, on the device), and a worker-based DataLoader for large images."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import torch

from .. import augment
from .cifar10 import CIFAR10_MEAN, CIFAR10_STD
from .decode import IMAGE_SUFFIXES, undecodable_error
from .tensors import Augmentation, DataNotFoundError, ImageTensors


class DeviceLoader:
    """Batches of an :class:`ImageTensors` data set, cut and augmented on ``device``.

    The whole data set is moved to the device once, as uint8. Each batch is then indexed,
    augmented (random crop with ``crop_padding`` pixels of padding and horizontal flips, per sample, then
    the optional ``augmentation``, a function ``(images, labels, generator) -> (images, labels)``
    such as :func:`coursekit.augment.pipeline` builds), converted to float and normalised by
    ``mean``/``std`` there. Shuffling and augmentation draw from generators seeded by
    ``(seed, epoch, batch)``, so a batch is the same whether or not the
    batches before it were produced: resuming mid-epoch reproduces the uninterrupted run.
    """

    def __init__(self, data: ImageTensors, batch_size: int, *, train: bool,
                 device: torch.device | str = "cpu", crop_padding: int = 4, flip: bool = True,
                 mean: tuple[float, ...] = CIFAR10_MEAN, std: tuple[float, ...] = CIFAR10_STD,
                 seed: int = 0, drop_last: bool | None = None,
                 channels_last: bool = False, augmentation: Augmentation | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.device = torch.device(device)
        self.images = data.images.to(self.device)
        self.labels = data.labels.to(self.device)
        self.classes = data.classes
        self.source = data.source
        self.batch_size = batch_size
        self.train = train
        self.crop_padding = crop_padding if train else 0
        self.flip = flip and train
        self.mean = torch.tensor(mean, device=self.device).view(1, -1, 1, 1) * 255
        self.std = torch.tensor(std, device=self.device).view(1, -1, 1, 1) * 255
        self.seed = seed
        self.epoch = 0
        self.drop_last = train if drop_last is None else drop_last
        self.channels_last = channels_last
        self.augmentation = augmentation if train else None

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    @property
    def num_images(self) -> int:
        return len(self) * self.batch_size if self.drop_last else len(self.labels)

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose shuffle and augmentations the next iteration produces."""
        self.epoch = epoch

    def _generator(self, *key: int) -> torch.Generator:
        g = torch.Generator(device="cpu")
        g.manual_seed(hash((self.seed, self.epoch) + key) & 0x7FFF_FFFF_FFFF_FFFF)
        return g

    def order(self) -> torch.Tensor:
        """The index order of the current epoch (shuffled when training)."""
        n = len(self.labels)
        if not self.train:
            return torch.arange(n, device=self.device)
        return torch.randperm(n, generator=self._generator(-1)).to(self.device)

    def batch(self, indices: torch.Tensor, step: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The augmented, normalised float batch at ``indices``, and its labels (soft labels, (N, C),
        where the ``augmentation`` mixes images)."""
        from torchvision.transforms.v2.functional import normalize

        x = self.images[indices]
        if self.train:
            g = self._generator(step)
            if self.crop_padding:
                x = augment.random_crop(x, self.crop_padding, generator=g)
            if self.flip:
                x = augment.random_flip(x, generator=g)
        y = self.labels[indices]
        if self.augmentation is not None:
            x, y = self.augmentation(x, y, g)
        x = normalize(x.float() if x.dtype == torch.uint8 else 255 * x, self.mean, self.std)  # on the 0-255 scale
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        order = self.order()
        for step in range(len(self)):
            yield self.batch(order[step * self.batch_size:(step + 1) * self.batch_size], step)


def open_image(path: str):
    """torchvision's ``ImageFolder`` loader (PIL, as RGB), with an error that names a file that does not
    decode (PIL's message for a truncated file does not)."""
    from torchvision.datasets.folder import default_loader

    try:
        return default_loader(path)
    except OSError as err:  # PIL's UnidentifiedImageError is an OSError too
        raise undecodable_error(path, err) from err


def image_folder_loader(folder: str | Path, image_size: int = 224, batch_size: int = 64, *,
                        train: bool, workers: int | None = None) -> torch.utils.data.DataLoader:
    """A torchvision ``ImageFolder`` DataLoader with workers, for large images (e.g. 224 px).

    Training applies a random resized crop and a flip; evaluation resizes and centre-crops.
    Images are normalised with ImageNet's statistics, as pretrained networks expect.
    """
    from torchvision import datasets
    from torchvision.transforms import v2 as T

    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"no ImageFolder tree at {folder}; expected {folder}/<class>/<image>.jpg")
    imagenet = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    if train:
        geometry = [T.RandomResizedCrop(image_size, antialias=True), T.RandomHorizontalFlip()]
    else:
        geometry = [T.Resize(int(image_size * 8 / 7), antialias=True), T.CenterCrop(image_size)]
    transform = T.Compose([T.ToImage(), *geometry, T.ToDtype(torch.float32, scale=True), T.Normalize(**imagenet)])
    ds = datasets.ImageFolder(str(folder), transform=transform, loader=open_image,
                              is_valid_file=lambda p: Path(p).suffix.lower() in IMAGE_SUFFIXES)
    workers = min(8, os.cpu_count() or 1) if workers is None else workers
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=train, num_workers=workers,
                                       pin_memory=torch.cuda.is_available(), drop_last=train,
                                       persistent_workers=workers > 0)

