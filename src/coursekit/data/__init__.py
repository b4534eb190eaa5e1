"""Data sets as in-memory uint8 tensors, and a loader that keeps them on the device.

CIFAR-10 is small enough (50,000 x 3 x 32 x 32 bytes = 154 MB) to live on the GPU as one
tensor. A batch is then cut, augmented and normalised there by a few tensor operations
(`coursekit.augment`), so a 2-core Colab VM does not hold training back with per-image
Python work. Where the images come from is recorded, because the offline copy used by CI (a
JPEG re-encoding) gives different numbers from the original.

The modules, each importing only those above it:

- ``tensors``: :class:`ImageTensors`, its content :func:`fingerprint`, subsets, resizing, :func:`data_root`,
  and the errors :class:`DataNotFoundError` (missing) and :class:`BadDataError` (damaged or inconsistent);
- ``decode``: image files and ``ImageFolder`` trees decoded into tensors;
- ``cache``: decoded data sets kept on disk under ``$COURSEKIT_CACHE/decoded/`` (and in memory);
- ``cifar10``: CIFAR-10 from torchvision's files, an offline copy, or a download;
- ``mnist``: MNIST likewise, as one-channel digits;
- ``scenes``: detection scenes built from MNIST digits (several digits per canvas, with their boxes);
- ``folders``: the labelled image folders (:data:`FOLDER_DATASETS`): splits, downloads;
- ``cars``: Stanford Cars, its labels and its splits carved per class;
- ``utkface``: UTKFace's faces, their ages (the labels), genders and races read from the file names;
- ``catalog``: torchvision's data sets and :func:`load_dataset`, which names them all;
- ``loader``: :class:`DeviceLoader` and a worker-based loader for large images.
"""
from .cars import load_stanford_cars
from .catalog import TORCHVISION_DATASETS, TorchvisionDataset, load_dataset, load_torchvision_dataset
from .cifar10 import CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD, load_cifar10
from .decode import IMAGE_SUFFIXES, image_folder_files, read_image_folder, read_images
from .folders import FOLDER_DATASETS, FolderDataset, _fetch, load_folder_dataset, split_lists  # noqa: F401 (_fetch: tests stub it)
from .loader import DeviceLoader, image_folder_loader
from .mnist import MNIST_CLASSES, MNIST_MEAN, MNIST_STD, load_mnist, padded
from .scenes import Scenes, centred_digits, make_scenes
from .tensors import (
    Augmentation,
    BadDataError,
    DataNotFoundError,
    ImageTensors,
    cache_root,
    carve,
    data_root,
    fingerprint,
    resized,
    stratified_indices,
    stratified_subset,
)
from .utkface import load_utkface, utkface_attributes

__all__ = [
    "Augmentation", "BadDataError", "CIFAR10_CLASSES", "CIFAR10_MEAN", "CIFAR10_STD", "DataNotFoundError",
    "DeviceLoader", "FOLDER_DATASETS", "FolderDataset", "IMAGE_SUFFIXES", "ImageTensors", "TORCHVISION_DATASETS",
    "TorchvisionDataset", "cache_root", "carve", "data_root", "fingerprint", "image_folder_files", "image_folder_loader",
    "MNIST_CLASSES", "MNIST_MEAN", "MNIST_STD", "Scenes", "centred_digits", "load_mnist", "make_scenes", "padded",
    "load_cifar10", "load_dataset", "load_stanford_cars", "load_folder_dataset", "load_torchvision_dataset", "read_image_folder",
    "load_utkface", "read_images", "resized", "split_lists", "stratified_indices", "stratified_subset",
    "utkface_attributes",
]
