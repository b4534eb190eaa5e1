"""coursekit's DeviceLoader against a torchvision DataLoader, on the same CIFAR-10 images.

Both produce normalised float batches of 256 with a random 4-px-padded crop and a horizontal flip
per image. The DataLoader applies torchvision's v2 transforms image by image in worker processes
(the usual recipe); the DeviceLoader indexes one uint8 tensor and augments the whole batch at once.
Only the loading is timed (no network). Prints images/s of each and the ratio, median of 5 rounds.

    COURSEKIT_DATA=... python benchmarks/loader.py [--images 20000] [--workers 2]
"""
from __future__ import annotations

import argparse

import torch
from torchvision.transforms import v2 as T

from common import compare, report, synchronizer
from coursekit import data, profiles


class TensorImages(torch.utils.data.Dataset):
    def __init__(self, ds: data.ImageTensors, transform):
        self.ds, self.transform = ds, transform

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i: int):
        return self.transform(self.ds.images[i]), self.ds.labels[i]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    device = profiles.device()
    ds = data.stratified_subset(data.load_cifar10(train=True), args.images // 10)
    transform = T.Compose([T.RandomCrop(32, padding=4, padding_mode="reflect"), T.RandomHorizontalFlip(),
                           T.ToDtype(torch.float32, scale=True), T.Normalize(data.CIFAR10_MEAN, data.CIFAR10_STD)])
    torch_loader = torch.utils.data.DataLoader(TensorImages(ds, transform), batch_size=args.batch_size,
                                               shuffle=True, drop_last=True, num_workers=args.workers,
                                               persistent_workers=args.workers > 0,
                                               pin_memory=device.type == "cuda")
    device_loader = data.DeviceLoader(ds, args.batch_size, train=True, device=device)

    def drain(loader) -> int:
        n = 0
        for x, y in loader:
            x = x.to(device, non_blocking=True)
            n += len(y)
        return n

    r = compare(lambda: drain(device_loader), lambda: drain(torch_loader), sync=synchronizer(device))
    print(profiles.banner())
    print(f"{len(ds):,} CIFAR-10 images, batch {args.batch_size}, DataLoader with {args.workers} workers")
    report(r, "DeviceLoader", "DataLoader")


if __name__ == "__main__":
    main()
