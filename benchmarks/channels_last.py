"""Training throughput of the course's small CNN in channels_last (NHWC) against NCHW memory.

Why `coursekit.train` defaults to channels_last on the CPU as well as on CUDA. Times full training
steps (forward, backward, SGD) on random 32x32 batches; median of 5 alternating rounds.

    python benchmarks/channels_last.py [--width 32] [--batch-size 128] [--steps 10]
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from common import compare, report, synchronizer
from coursekit import models, profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="small_cnn")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    device = profiles.device()
    x = torch.randn(args.batch_size, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch_size,), device=device)

    def trainer(memory_format):
        torch.manual_seed(0)
        model = models.create(args.model, width=args.width).to(device, memory_format=memory_format)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        inputs = x.contiguous(memory_format=memory_format)

        def steps() -> int:
            for _ in range(args.steps):
                loss = F.cross_entropy(model(inputs), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            return args.steps * args.batch_size
        return steps

    r = compare(trainer(torch.channels_last), trainer(torch.contiguous_format), sync=synchronizer(device))
    print(profiles.banner())
    print(f"{args.model} (width {args.width}), batch {args.batch_size}, float32 training steps")
    report(r, "channels_last", "NCHW")


if __name__ == "__main__":
    main()
