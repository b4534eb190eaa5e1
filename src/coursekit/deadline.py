"""A time limit for a stretch of training: work that would not finish before it stops early, with its
state saved, so that a short GPU window is spent on what fits (``coursekit regenerate --plan``).

    with deadline.limit(480):          # eight minutes from now
        experiments.run("classic_resnet", "full")   # raises OutOfTime when the rest would overrun

Inside ``limit``, :func:`coursekit.train.fit` calls :func:`check` after every epoch (its checkpoint
already written) with the mean seconds of its epochs so far and the epochs left: the first epoch is
the measurement, and the extrapolation decides. Outside a limit, :func:`check` does nothing.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

_DEADLINE: list[float] = []  # monotonic-clock deadlines, innermost last


class OutOfTime(RuntimeError):
    """The work in progress would not finish before the deadline; ``needed`` is the estimated
    seconds it still needed, ``left`` the seconds that were left."""

    def __init__(self, needed: float, left: float) -> None:
        super().__init__(f"needs about {needed:.0f} s more, {max(left, 0):.0f} s left before the time limit")
        self.needed, self.left = needed, left


@contextlib.contextmanager
def limit(seconds: float) -> Iterator[None]:
    """Within the block, work that :func:`check` finds too long for ``seconds`` from now raises :class:`OutOfTime`."""
    _DEADLINE.append(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.pop()


def left() -> float | None:
    """Seconds before the innermost deadline (negative once past it); None outside any limit."""
    return _DEADLINE[-1] - time.monotonic() if _DEADLINE else None


def check(seconds_per_unit: float, units_left: int) -> None:
    """Raise :class:`OutOfTime` if ``units_left`` more units of ``seconds_per_unit`` each would end
    after the deadline, or if the deadline has passed with work left. Nothing left: nothing to stop."""
    remaining = left()
    needed = seconds_per_unit * units_left
    if remaining is not None and units_left > 0 and (needed > remaining or remaining <= 0):
        raise OutOfTime(needed, remaining)
