"""Training throughput in bf16 autocast against float32, on the device at hand (the CPU included).

On CPUs with native bfloat16 (AVX-512 BF16, AMX), oneDNN runs convolutions and matrix products in
bf16 under ``torch.autocast("cpu", dtype=torch.bfloat16)``; `coursekit.profiles.cpu_has_bf16` detects
it. Times full training steps (forward, backward, SGD) on random 32x32 batches in channels_last;
median of 5 alternating rounds, per network.

    python benchmarks/precision.py [--models resnet20,cifar_vgg11_bn,fast_cifar,vit_cifar] [--batch-size 256]
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from common import compare, report, synchronizer
from coursekit import models, profiles, train


def trainer(name: str, runtime: train.Runtime, batch_size: int, steps: int):
    torch.manual_seed(0)
    model = models.create(name).to(runtime.device, memory_format=runtime.memory_format)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = runtime.images(torch.randn(batch_size, 3, 32, 32))
    y = torch.randint(0, 10, (batch_size,), device=runtime.device)
    scaler = runtime.grad_scaler()

    def run() -> int:
        for _ in range(steps):
            with runtime.autocast():
                loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        return steps * batch_size
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="resnet20,cifar_vgg11_bn,fast_cifar,vit_cifar")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    mixed, plain = train.Runtime.resolve(amp=True), train.Runtime.resolve(amp=False)
    print(profiles.banner())
    if mixed.amp_dtype is None:
        print(f"{profiles.device_name()} has no native reduced precision: nothing to compare")
        return
    for name in args.models.split(","):
        r = compare(trainer(name, mixed, args.batch_size, args.steps), trainer(name, plain, args.batch_size, args.steps),
                    sync=synchronizer(mixed.device))
        print(f"\n{name}, batch {args.batch_size}, channels_last training steps")
        report(r, mixed.precision, "float32")


if __name__ == "__main__":
    main()
