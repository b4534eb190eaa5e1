"""A stored result read as what it is: a run repeated over seeds, each seed with its metrics, history and cost.

A result of :func:`coursekit.experiments.core.over_seeds` keeps one record per seed in ``seeds``
(``[{seed, metrics, history, cost}]``); a result of one run is its own one seed (its ``config``'s
``seed``, 0 where none is set). :meth:`RunResult.from_dict` is the one place that tells the two apart, so
a reading asks for what it needs: ``RunResult.from_dict(r).metric("accuracy", scale=100)`` is the test
accuracy of each seed, in percent; ``.final("train_accuracy")`` the last epoch's training accuracy of each.
The dictionary on disk is unchanged: the view only reads it.

Experiments made of many small runs keep rows (``metrics["rows"]``, one per setting and seed) instead:
:func:`seed_values` picks the runs a paired difference pairs.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from . import stats


@dataclass(frozen=True)
class SeedRecord:
    """One seed of a run: its final metrics, its history (one row per epoch) and its cost."""

    seed: int
    metrics: Mapping
    history: tuple[Mapping, ...]
    cost: Mapping


@dataclass(frozen=True)
class RunResult:
    """A result with its seeds (one, for a single run); ``raw`` is the stored dictionary itself."""

    raw: Mapping
    seeds: tuple[SeedRecord, ...]

    @classmethod
    def from_dict(cls, result: Mapping) -> RunResult:
        """The view of ``result``: a result of ``over_seeds`` (with ``seeds``) or of a single run."""
        if isinstance(result, RunResult):
            return result
        records = result.get("seeds") or [dict(seed=result.get("config", {}).get("seed", 0),
                                               metrics=result.get("metrics", {}), history=result.get("history", []),
                                               cost=result.get("cost", {}))]
        return cls(MappingProxyType(result), tuple(
            SeedRecord(r["seed"], MappingProxyType(r.get("metrics", {})), tuple(r.get("history", [])),
                       MappingProxyType(r.get("cost", {}))) for r in records))

    def __len__(self) -> int:
        return len(self.seeds)

    def metric(self, name: str = "accuracy", scale: float = 1) -> dict[int, float]:
        """``scale`` times the final metric ``name`` of each seed, by seed."""
        return {s.seed: scale * s.metrics[name] for s in self.seeds}

    def final(self, field: str, scale: float = 1) -> dict[int, float]:
        """``scale`` times ``field`` of the last epoch of each seed's history (``train_accuracy``, ...), by seed."""
        return {s.seed: scale * s.history[-1][field] for s in self.seeds}

    def interval(self, name: str = "accuracy", scale: float = 100) -> tuple[float, float]:
        """Mean over the seeds of ``scale`` times metric ``name``, and its 95 % half-width (:mod:`coursekit.stats`)."""
        mean, _, half = stats.mean_interval(list(self.metric(name, scale).values()))
        return mean, half

    def mean_cost(self, key: str) -> float:
        """``cost[key]`` averaged over the seeds (``train_seconds``: the training time of one seed)."""
        return sum(s.cost[key] for s in self.seeds) / len(self.seeds)

    def training_speed(self) -> float:
        """Images per second in training: the median over every epoch of every seed, so that a few epochs
        slowed by other work on the machine do not move it (the run's overall figure, without histories)."""
        rates = sorted(row["images_per_second"] for s in self.seeds for row in s.history if "images_per_second" in row)
        return rates[len(rates) // 2] if rates else self.raw["cost"]["images_per_second"]


def seed_values(rows: list[Mapping], value: str = "accuracy", scale: float = 1, **fields) -> dict[int, float]:
    """``scale`` times ``value`` by seed, of the rows (of an experiment of many small runs) that match ``fields``."""
    return {r["seed"]: scale * r[value] for r in rows if all(r[k] == v for k, v in fields.items())}
