"""What `coursekit.train.fit` costs over a bare training loop, on the same batches and network.

Both train ResNet-20 for one pass over the same CIFAR-10 images from the DeviceLoader, with the
runtime `fit` resolves (autocast and channels_last on CUDA); the bare loop is the eight lines a
tutorial writes (forward, loss, zero_grad, backward, step, schedule). `fit` adds its running tallies
(loss, correct predictions, images) and its per-epoch bookkeeping; neither evaluates nor saves a
checkpoint. Prints images/s of each and the ratio, median of 5 alternating rounds.

    COURSEKIT_DATA=... python benchmarks/fit_overhead.py [--images 10000] [--batch-size 128]
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from common import compare, report, synchronizer
from coursekit import data, models, profiles, train
from coursekit.metrics import correct
from coursekit.runs import RunState


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--model", default="resnet20")
    args = parser.parse_args()
    runtime = train.Runtime.resolve()
    print(profiles.banner(), "|", runtime.precision)
    ds = data.stratified_subset(data.load_cifar10(train=True), args.images // 10)
    loader = data.DeviceLoader(ds, args.batch_size, train=True, device=runtime.device, seed=0)
    model = models.create(args.model, num_classes=10).to(runtime.device, memory_format=runtime.memory_format)

    def bare() -> int:
        optimizer = train.make_optimizer(model, "sgd", 0.05, 5e-4)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 0.05, total_steps=len(loader))
        model.train()
        for x, y in loader:
            with runtime.autocast():
                loss = F.cross_entropy(model(runtime.images(x)), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        return len(ds)

    def with_fit() -> int:
        optimizer = train.make_optimizer(model, "sgd", 0.05, 5e-4)
        schedule = train.make_schedule(optimizer, "onecycle", len(loader))
        train.fit(model, loader, optimizer, schedule, train.CrossEntropy(), RunState(progress=False, verbose=False),
                  epochs=1, runtime=runtime, metrics={"train_accuracy": correct})
        return len(ds)

    report(compare(with_fit, bare, sync=synchronizer(runtime.device)), "train.fit", "bare loop")


if __name__ == "__main__":
    main()
