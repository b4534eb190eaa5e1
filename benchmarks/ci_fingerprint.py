"""Same seed, same numbers: every experiment's numbers under the ``ci`` profile, without its timings.

    python benchmarks/ci_fingerprint.py before.json            # on the code before a refactor
    python benchmarks/ci_fingerprint.py after.json --vs before.json

Runs every experiment that the ``ci`` profile admits (on the CPU, in one process, in registry order)
and writes its metrics, history and per-seed records with every timing field taken out (seconds,
images per second, memory), so that two versions of the code can be compared number for number. With
``--vs``, prints each experiment whose numbers differ from the earlier file's and exits non-zero if any
does. A refactor of the training code must leave this file unchanged.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TIMING = {"seconds", "eval_seconds", "images_per_second", "train_seconds", "wall_seconds", "peak_memory_mb",
          "peak_memory_kind", "step_seconds", "epoch_seconds", "throughput"}


def numbers(value):
    """``value`` with every timing field removed, recursively."""
    if isinstance(value, dict):
        return {k: numbers(v) for k, v in value.items() if k not in TIMING and not k.endswith("_seconds")}
    if isinstance(value, list):
        return [numbers(v) for v in value]
    return value


def fingerprint(names: list[str] | None = None) -> dict:
    import torch

    from coursekit import experiments

    torch.set_num_threads(2)
    out = {}
    for name, experiment in experiments.EXPERIMENTS.items():
        if "ci" not in experiment.profiles or (names and name not in names):
            continue
        print(f"--- {name}", flush=True)
        result = experiments.run(name, "ci", verbose=False)
        out[name] = numbers({k: result.get(k) for k in ("metrics", "history", "seeds", "cost")})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--vs", type=Path, help="an earlier fingerprint to compare with")
    parser.add_argument("--only", nargs="*", help="these experiments only")
    args = parser.parse_args()
    now = fingerprint(args.only)
    args.out.write_text(json.dumps(now, indent=1, sort_keys=True, default=str))
    if args.vs is None:
        return 0
    before = json.loads(args.vs.read_text())
    now = json.loads(args.out.read_text())
    differ = {n: changes(before[n], now[n], n) for n in now if n in before}
    differ = {n: c for n, c in differ.items() if c}
    missing = [n for n in before if n not in now and (not args.only or n in args.only)]
    for n, found in differ.items():
        print(f"DIFFERS: {n}: " + "; ".join(found[:5]) + (f" (+{len(found) - 5} more)" if len(found) > 5 else ""))
    for n in missing:
        print(f"MISSING: {n}")
    print(f"{len(now) - len(differ)} of {len(now)} experiments give every number they gave before")
    return 1 if differ or missing else 0


def changes(before, now, path: str) -> list[str]:
    """Every number of ``before`` that ``now`` lacks or has changed (fields only ``now`` has do not count)."""
    if isinstance(before, dict):
        if not isinstance(now, dict):
            return [f"{path} is no longer a mapping"]
        return [c for k, v in before.items()
                for c in (changes(v, now[k], f"{path}/{k}") if k in now else [f"{path}/{k} missing"])]
    if isinstance(before, list):
        if not isinstance(now, list) or len(now) != len(before):
            return [f"{path}: another length"]
        return [c for i, (a, b) in enumerate(zip(before, now)) for c in changes(a, b, f"{path}[{i}]")]
    return [] if before == now else [f"{path}: {before!r} -> {now!r}"]


if __name__ == "__main__":
    sys.exit(main())
