"""What EfficientNet-Lite0 costs per image at the resolutions a CPU can afford: frozen features (the linear
probe's cost) and training steps (fine-tuning's), each resolution against 128 pixels in one run.

    .venv/bin/python benchmarks/lite0_cost.py                  # 128, 160 and 224 pixels
    .venv/bin/python benchmarks/lite0_cost.py --sizes 128 176

The transfer chapter chooses its resolution from these numbers (issue "An ImageNet network on every
machine": at least 128 px, the cost measured first).
"""
from __future__ import annotations

import argparse

import torch

from common import compare, report, synchronizer
from coursekit import models, profiles, train


def features(model: torch.nn.Module, size: int, batch: int, runtime: train.Runtime):
    """A function that extracts the pooled features of one batch of ``size``-pixel images."""
    x = runtime.images(torch.randn(batch, 3, size, size))

    @torch.no_grad()
    def work() -> int:
        model.eval()
        with runtime.autocast():
            model.forward_head(model.forward_features(x), pre_logits=True)
        return batch
    return work


def training(model: torch.nn.Module, size: int, batch: int, runtime: train.Runtime):
    """A function that takes one SGD step on one batch of ``size``-pixel images."""
    x, y = runtime.images(torch.randn(batch, 3, size, size)), torch.randint(0, 7, (batch,), device=runtime.device)
    optimizer = train.make_optimizer(model, "sgd", 1e-3, 5e-4)
    loss = train.CrossEntropy()

    def work() -> int:
        model.train()
        with runtime.autocast():
            value = loss(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
        return batch
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[160, 224])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runtime = train.Runtime.resolve()
    print(profiles.banner(), "|", runtime.precision, "| EfficientNet-Lite0, batches of", args.batch)
    model = models.pretrained("efficientnet_lite0").to(runtime.device, memory_format=runtime.memory_format)
    model.reset_classifier(7)  # a new head, as fine-tuning on PACS has
    sync = synchronizer(runtime.device)
    for kind, make in (("features", features), ("training", training)):
        base = make(model, 128, args.batch, runtime)
        for size in args.sizes:
            result = compare(make(model, size, args.batch, runtime), base, rounds=args.rounds, sync=sync)
            report(result, f"{kind} at {size} px", f"{kind} at 128 px")


if __name__ == "__main__":
    main()
