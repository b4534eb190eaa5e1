"""Time to accuracy of the fast CIFAR-10 recipe (`coursekit.fast`) on the device at hand.

Trains on the training images less ``--validation-per-class`` held out per class, prints the
validation accuracy after every epoch, then reads the test set once (with test-time augmentation)
and prints the training time and the test accuracy. The target on a 2-core CPU is 92 % on the
offline JPEG copy's 10,000 test images within 20 minutes of training; airbench publishes 94.01 %
in 3.83 s on an A100 on the original CIFAR-10 (Jordan 2024).

With ``--target``, also the training time at the end of the first epoch whose validation accuracy
reached it (the time to accuracy; the validation images are never trained on).

    COURSEKIT_DATA=/path/to/data python benchmarks/fast_cifar10.py [--epochs 10] [--precision auto|float32|bf16] [--target 0.92]
"""
from __future__ import annotations

import argparse
import time

from coursekit import fast, profiles, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=fast.RECIPE["epochs"])
    parser.add_argument("--validation-per-class", type=int, default=500)
    parser.add_argument("--precision", choices=("auto", "float32", "bf16"), default="auto",
                        help="auto: bf16 where the device has it natively (CUDA, AMX CPUs), else float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, help="validation accuracy to time, e.g. 0.92")
    args = parser.parse_args()
    runtime = train.Runtime.resolve(amp={"auto": True, "float32": False, "bf16": True}[args.precision])
    if args.precision == "bf16" and runtime.amp_dtype is None:
        parser.error(f"{profiles.device_name()} has no native bf16 (set COURSEKIT_CPU_BF16=1 to force it)")
    print(profiles.banner(), "|", runtime.precision)
    cfg = dict(fast.RECIPE, epochs=args.epochs, seed=args.seed, validation_per_class=args.validation_per_class)
    tick = time.perf_counter()
    out = fast.run(cfg, runtime=runtime)
    print(f"training {out['train_seconds'] / 60:.1f} min ({out['precision']}), whole run "
          f"{(time.perf_counter() - tick) / 60:.1f} min; test accuracy {100 * out['metrics']['accuracy']:.2f} % "
          f"on {out['metrics']['images']:,} images ({out['data']['test'].get('description', 'CIFAR-10')})")
    if args.target is not None:
        reached = [row for row in out["history"] if row.get("validation_accuracy", 0) >= args.target]
        print(f"time to {100 * args.target:.0f} % validation accuracy: " +
              (f"{reached[0]['seconds']:.1f} s of training (epoch {reached[0]['epoch']})" if reached else
               f"not reached in {args.epochs} epochs (best {100 * max(r.get('validation_accuracy', 0) for r in out['history']):.2f} %)"))


if __name__ == "__main__":
    main()
