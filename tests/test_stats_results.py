"""The typed view of a stored result: its seeds, read the same way whether it ran over seeds or once."""
import dataclasses
import json

import pytest

from coursekit import results, stats
from coursekit.results import RunResult, SeedRecord


def history(*accuracies, speed=100.0):
    return [dict(epoch=e + 1, train_accuracy=a, train_loss=1 - a, images_per_second=speed)
            for e, a in enumerate(accuracies)]


def over_seeds():
    """A result as over_seeds stores it: the first seed's output, whole, and one record per seed."""
    seeds = [dict(seed=s, metrics=dict(accuracy=acc, map_50=acc / 2), history=history(0.5, acc + 0.1, speed=speed),
                  cost=dict(train_seconds=60.0 * (s + 1), parameters=10))
             for s, acc, speed in ((0, 0.6, 90.0), (1, 0.7, 100.0), (2, 0.65, 110.0))]
    return dict(experiment="x", config=dict(seeds=[0, 1, 2]), metrics=dict(seeds[0]["metrics"], confusion=[[1]]),
                history=seeds[0]["history"], cost=seeds[0]["cost"], seeds=seeds)


def single_run(seed=None):
    return dict(experiment="y", config={} if seed is None else dict(seed=seed), metrics=dict(accuracy=0.8),
                history=history(0.4, 0.9), cost=dict(train_seconds=30.0, images_per_second=7.0))


def test_a_result_over_seeds_has_one_record_per_seed():
    view = RunResult.from_dict(over_seeds())
    assert len(view) == 3 and [s.seed for s in view.seeds] == [0, 1, 2]
    assert all(isinstance(s, SeedRecord) for s in view.seeds)
    assert view.metric("accuracy") == {0: 0.6, 1: 0.7, 2: 0.65}
    assert view.metric("accuracy", 100) == {0: 100 * 0.6, 1: 100 * 0.7, 2: 100 * 0.65}
    assert view.metric("map_50") == {0: 0.3, 1: 0.35, 2: 0.325}
    assert view.final("train_accuracy") == {0: 0.6 + 0.1, 1: 0.7 + 0.1, 2: 0.65 + 0.1}
    assert view.mean_cost("train_seconds") == 120.0
    assert view.training_speed() == 100.0  # the median epoch of every seed
    mean, half = view.interval()
    assert (mean, half) == (stats.mean_interval([60.0, 70.0, 65.0])[0], stats.mean_interval([60.0, 70.0, 65.0])[2])


def test_a_single_run_is_its_own_one_seed():
    view = RunResult.from_dict(single_run(seed=4))
    assert len(view) == 1 and view.seeds[0].seed == 4
    assert view.metric() == {4: 0.8} and view.final("train_accuracy") == {4: 0.9}
    assert view.interval() == (80.0, 0.0)
    assert RunResult.from_dict(single_run()).metric() == {0: 0.8}  # no seed set: seed 0
    assert view.training_speed() == 100.0
    assert RunResult.from_dict(dict(cost=dict(images_per_second=7.0))).training_speed() == 7.0  # no history


def test_the_view_reads_and_never_writes():
    stored = over_seeds()
    before = json.dumps(stored, sort_keys=True)
    view = RunResult.from_dict(stored)
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.seeds[0].seed = 9
    with pytest.raises(TypeError):
        view.seeds[0].metrics["accuracy"] = 1.0
    with pytest.raises(TypeError):
        view.raw["experiment"] = "z"
    assert json.dumps(stored, sort_keys=True) == before
    assert RunResult.from_dict(view) is view


def test_seed_values_pick_the_rows_a_paired_difference_pairs():
    rows = [dict(seed=s, init=i, variant=v, accuracy=0.1 * s + (0.05 if v == "flip" else 0.0))
            for s in range(3) for i in ("scratch", "backbone") for v in ("none", "flip")]
    flip = results.seed_values(rows, init="scratch", variant="flip")
    assert flip == {0: 0.05, 1: 0.1 + 0.05, 2: 0.2 + 0.05}
    assert results.seed_values(rows, scale=100, init="backbone", variant="none") == {0: 0.0, 1: 100 * 0.1, 2: 100 * 0.2}
    assert results.seed_values(rows, init="nowhere") == {}
