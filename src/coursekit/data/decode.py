"""Image files decoded into :class:`~coursekit.data.tensors.ImageTensors` (torchvision's decoders)."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from .tensors import BadDataError, DataNotFoundError, ImageTensors, fingerprint

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def class_folders(folder: str | Path) -> tuple[str, ...]:
    """The names of the class folders of an ``ImageFolder`` tree, sorted alphabetically (as
    torchvision's ``ImageFolder`` sorts them: a class's label is its place in this list)."""
    return tuple(sorted(d.name for d in Path(folder).iterdir() if d.is_dir()))


def images_in(folder: str | Path) -> list[str]:
    """The paths of the image files directly in ``folder``, sorted by name (os.scandir and plain
    strings: 60,000 Paths would cost a second)."""
    with os.scandir(folder) as entries:
        found = sorted((e.name, e.path) for e in entries if os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES)
    return [path for _, path in found]


def no_images_error(folder: Path, empty: list[str]) -> BadDataError:
    """The error for class folders of ``folder`` that hold no images."""
    where = "\n".join(f"  {folder / name}" for name in empty)
    return BadDataError(
        f"these class folders have no images ({', '.join(IMAGE_SUFFIXES)}):\n{where}\n"
        f"An empty class folder would count as a class without examples, and shift the labels of the classes "
        f"after it.\nFix it: put the class's images there, delete the folder if the class does not belong "
        f"to the data set, or download the data set again.")


def eight_bit_still(img: torch.Tensor, path: str | Path) -> torch.Tensor:
    """A decoded image as one 8-bit picture: a 16-bit PNG scaled to 8 bits; an animated image (several
    frames, whatever its name says) refused with its name."""
    if img.ndim == 4:
        raise BadDataError(f"the image {path} is an animation of {img.shape[0]} frames, not a still picture.\n"
                           "Fix it: delete that file or replace it with one frame saved as JPEG or PNG.")
    if img.dtype == torch.uint16:
        img = (img.to(torch.int32) * 255 + 32767).div(65535, rounding_mode="floor").to(torch.uint8)
    return img


def undecodable_error(path: str | Path, err: Exception) -> BadDataError:
    """The error for an image file that the decoder refused with ``err``."""
    return BadDataError(
        f"the image {path} could not be decoded ({type(err).__name__}: {err}).\nThe file is damaged (corrupt, "
        f"truncated or empty) or is not an image. Fix it: delete or replace that file, or download the data "
        f"set again.")


def image_folder_files(folder: str | Path, classes: tuple[str, ...] | None = None
                       ) -> tuple[list[tuple[str, int]], tuple[str, ...]]:
    """The ``(path, label)`` pairs of an ``ImageFolder`` tree ``folder/<class>/*.jpg``, and its classes.

    Class folders are sorted alphabetically, as torchvision's ``ImageFolder`` does; files that are
    not images (e.g. a stray ``.gif``) are left out. A class folder without images is an error.
    Nothing is decoded.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataNotFoundError(f"no ImageFolder tree at {folder}")
    names = class_folders(folder)
    if not names:
        raise DataNotFoundError(f"{folder} has no class folders; expected {folder}/<class>/<image>.jpg")
    if classes is not None and names != tuple(classes):
        raise ValueError(f"class folders in {folder} are {names}, expected {tuple(classes)}")
    found = {name: images_in(folder / name) for name in names}
    if not any(found.values()):
        raise DataNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {folder}")
    empty = [name for name in names if not found[name]]
    if empty:
        raise no_images_error(folder, empty)
    files = [(path, label) for label, name in enumerate(names) for path in found[name]]
    return files, names


def read_image_folder(folder: str | Path, image_size: int | None = None,
                      classes: tuple[str, ...] | None = None) -> ImageTensors:
    """Decode an ``ImageFolder`` tree ``folder/<class>/*.jpg`` into uint8 tensors.

    Class folders are sorted alphabetically, as torchvision's ``ImageFolder`` does. Images are
    resized (shorter side, then centre crop) to ``image_size`` when given; otherwise all must have
    the same size. Files that are not images (e.g. a stray ``.gif``) are skipped; an image that
    does not decode, or a class folder without images, is a :class:`BadDataError` that names it.
    """
    files, names = image_folder_files(folder, classes)
    return read_images(files, names, image_size, dict(kind="image-folder", path=str(Path(folder))))


def read_images(files: list[tuple[str | Path, int]], classes: tuple[str, ...], image_size: int | None = None,
                source: dict | None = None, grey: bool = False, crop: bool = True) -> ImageTensors:
    """Decode ``(path, label)`` pairs into an :class:`ImageTensors` (resized as in :func:`read_image_folder`,
    or, with ``crop=False``, the whole image squeezed into ``image_size`` x ``image_size``): three channels
    (RGB), or one with ``grey`` (MNIST's digits: a grey image is not made RGB by accident)."""
    from torchvision.io import ImageReadMode, decode_image, read_file
    from torchvision.transforms.v2 import functional as TF

    images = []
    with warnings.catch_warnings():
        # torchvision 0.29 deprecates its decoders in favour of TorchCodec; they still work, and
        # warning once per image would flood the output.
        warnings.simplefilter("ignore", DeprecationWarning)
        for path, _ in files:
            try:
                img = decode_image(read_file(str(path)), mode=ImageReadMode.GRAY if grey else ImageReadMode.RGB)
            except RuntimeError as err:  # torchvision's message does not say which file
                raise undecodable_error(path, err) from err
            img = eight_bit_still(img, path)
            if image_size is not None and tuple(img.shape[-2:]) != (image_size, image_size):
                img = (TF.center_crop(TF.resize(img, image_size, antialias=True), [image_size, image_size]) if crop
                       else TF.resize(img, [image_size, image_size], antialias=True))
            images.append(img)
    sizes = {tuple(i.shape) for i in images}
    if len(sizes) > 1:
        where = Path(files[0][0]).parent.parent
        raise ValueError(f"images under {where} have different sizes {sorted(sizes)[:3]}...; pass image_size=")
    x, y = torch.stack(images), torch.tensor([label for _, label in files])
    return ImageTensors(x, y, tuple(classes), dict(source or {}, images=len(y), fingerprint=fingerprint(x, y)))
