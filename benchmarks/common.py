"""Shared timing helper of the benchmarks: alternate A and B, report the median ratio."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def images_per_second(work: Callable[[], int], device_sync: Callable[[], None] = lambda: None) -> float:
    """Run ``work`` (which returns how many images it processed) once and time it."""
    device_sync()
    tick = time.perf_counter()
    n = work()
    device_sync()
    return n / (time.perf_counter() - tick)


def compare(a: Callable[[], int], b: Callable[[], int], rounds: int = 5, warmup: int = 1,
            sync: Callable[[], None] = lambda: None) -> dict:
    """Images/s of ``a`` and ``b`` measured in turn (A B A B ...), with the median ratio A/B."""
    for _ in range(warmup):
        a(), b()
    rates_a, rates_b, ratios = [], [], []
    for _ in range(rounds):
        ra, rb = images_per_second(a, sync), images_per_second(b, sync)
        rates_a.append(ra)
        rates_b.append(rb)
        ratios.append(ra / rb)
    return dict(a=statistics.median(rates_a), b=statistics.median(rates_b), ratio=statistics.median(ratios),
                ratio_min=min(ratios), ratio_max=max(ratios))


def synchronizer(device: torch.device) -> Callable[[], None]:
    """Waits for queued GPU work, so that a timing includes it; does nothing on the CPU."""
    return (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)


def report(result: dict, name_a: str, name_b: str) -> None:
    """Print the images/s of A and B and their median ratio, with its spread."""
    width = max(len(name_a), len(name_b)) + 2
    print(f"{name_a:<{width}} {result['a']:>10,.0f} images/s")
    print(f"{name_b:<{width}} {result['b']:>10,.0f} images/s")
    print(f"ratio {name_a} / {name_b}: {result['ratio']:.2f}x "
          f"(min {result['ratio_min']:.2f}, max {result['ratio_max']:.2f})")
