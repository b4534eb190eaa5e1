"""Means over seeds and their intervals: the one convention of the whole book.

Every comparison in the book is a mean over at least three seeds with a 95 % confidence interval
from Student's t: half-width ``t_{0.975, n-1} * s / sqrt(n)`` (with three seeds, 4.30 standard
errors). When two methods share their draws (the same images, the same seed), the interval is that
of the *paired* differences, which is what says whether the seeds can tell them apart.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

from .i18n import fill, say

# Student's t quantile t_{0.975} for 1 to 30 degrees of freedom (beyond: the normal 1.96).
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(runs: int) -> float:
    """The factor that turns a standard error of a mean over ``runs`` values into a 95 % confidence half-width."""
    return T975[runs - 2] if 2 <= runs <= 31 else 1.96


def mean_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean, sample standard deviation and 95 % half-width of ``values`` (0 and 0 for one value)."""
    n = len(values)
    if n == 0:
        raise ValueError("no values to summarise")
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std, t975(n) * std / math.sqrt(n) if n > 1 else 0.0


def summarise(rows: list[dict], by: tuple[str, ...], value: str = "accuracy") -> list[dict]:
    """Mean, standard deviation and 95 % confidence half-width of ``value`` over the rows that share
    the fields ``by`` (e.g. over seeds), in the order first met."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in by), []).append(r)
    summary = []
    for key, runs in groups.items():
        mean, std, half = mean_interval([r[value] for r in runs])
        summary.append(dict(zip(by, key), runs=len(runs), **{value: mean, f"{value}_std": std, f"{value}_ci95": half},
                            seconds=sum(r["seconds"] for r in runs) / len(runs),
                            **{k: runs[0][k] for k in ("train_images",) if k in runs[0]}))
    return summary


def paired_difference(a: dict, b: dict) -> tuple[float, float]:
    """Mean and 95 % half-width of ``a[k] - b[k]`` over the keys (seeds) both share."""
    keys = sorted(set(a) & set(b))
    if not keys:
        raise ValueError("the two sets of runs share no seed")
    mean, _, half = mean_interval([a[k] - b[k] for k in keys])
    return mean, half


def separated(mean: float, half_width: float) -> bool:
    """Whether an interval ``mean ± half_width`` excludes zero (the seeds tell the two apart)."""
    return abs(mean) > half_width


def clear_rule(seeds: int = 3) -> str:
    """The rule behind every "clear" in the book, in words, for a collapsed note beside a verdict."""
    return say("A difference is clear when its 95 % interval excludes zero. Runs that share their images and seeds "
               "are compared seed by seed: the mean of the paired differences, ± Student's t times their standard "
               "error ({t:.2f} standard errors with {seeds} seeds). Runs that share nothing are compared by the "
               "difference of their means, with Welch's interval. A difference that is not clear is not shown to be "
               "absent, only not shown.", t=t975(seeds), seeds=seeds)


VERDICTS = ("better", "worse", "cannot tell")


@dataclass(frozen=True)
class Comparison:
    """``a`` against ``b`` over the seeds both share: the mean of the paired differences ``a - b``, its 95 %
    half-width, and the verdict: "better" (the interval lies above zero), "worse" (below) or "cannot tell"
    (it holds zero: the seeds do not tell the two apart)."""

    mean_difference: float
    half_width: float
    verdict: str

    @property
    def separated(self) -> bool:
        """Whether the seeds tell the two apart (the verdict is "better" or "worse")."""
        return self.verdict != "cannot tell"

    def __iter__(self) -> Iterator[float]:
        """``d, h = comparison``: the mean difference and its half-width."""
        return iter((self.mean_difference, self.half_width))


def compare(a: dict, b: dict) -> Comparison:
    """``a`` against ``b``, each a value by seed (runs that share their draws), as paired differences
    ``a[seed] - b[seed]`` over the seeds both have, with the book's one interval (:func:`paired_difference`)."""
    mean, half = paired_difference(a, b)
    return Comparison(mean, half, "cannot tell" if not separated(mean, half) else "better" if mean > 0 else "worse")


def contrast(terms: list[tuple[float, dict]]) -> Comparison:
    """``sum(c * mean(values))`` over ``terms`` of (coefficient, value by seed) from *independent* runs, which
    share no draws (``compare_unpaired`` is the two-term case): its 95 % half-width is Welch's, the
    standard error ``sqrt(sum(c^2 s^2 / n))`` times Student's t at the Welch-Satterthwaite degrees of freedom
    (rounded down), so that runs matched only by their seed's number are not read as pairs."""
    parts = []
    for c, values in terms:
        v = list(values.values())
        mean, std, _ = mean_interval(v)  # one run: no spread to read (a half-width of 0, as for a mean)
        parts.append((c * mean, c * c * std * std / len(v), len(v)))
    total, variance = sum(p[0] for p in parts), sum(p[1] for p in parts)
    if variance == 0:
        half = 0.0
    else:
        df = variance ** 2 / sum(var ** 2 / (n - 1) for _, var, n in parts if var > 0)
        half = t975(max(1, math.floor(df)) + 1) * math.sqrt(variance)
    return Comparison(total, half, "cannot tell" if not separated(total, half) else "better" if total > 0 else "worse")


def compare_unpaired(a: dict, b: dict) -> Comparison:
    """``a`` against ``b`` from independent runs (different images or different training): the difference of
    the means with Welch's 95 % interval (:func:`contrast`)."""
    return contrast([(1.0, a), (-1.0, b)])


def word(comparison: Comparison, better: str, worse: str | None = None, *, cannot_tell: str, **names) -> str:
    """The sentence for ``comparison``'s verdict: ``better``, ``worse`` (default: ``better``'s, for readings
    that say only whether the seeds tell the two apart) or ``cannot_tell``. Each is a :meth:`str.format`
    template in the current language (``_("...")``, :mod:`coursekit.i18n`), its numbers written as that
    language writes them: ``{d}`` is the mean difference, ``{size}`` its size (``abs(d)``, for a sentence that says the
    direction in words), ``{h}`` the half-width (each takes a format spec: ``{d:+.1f}``), and ``names`` fill
    the template's other fields."""
    template = {"better": better, "worse": better if worse is None else worse, "cannot tell": cannot_tell}
    d, h = comparison
    return fill(template[comparison.verdict], d=d, size=abs(d), h=h, **names)
