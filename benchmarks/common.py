"""Shared timing helper of the benchmarks: alternate A and B, report the median ratio."""
from __future__ import annotations

import statistics
import time
from typing import Callable


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
