"""The GPU plan and its time limit: the order, the skips, what a window leaves, and training that stops
at an epoch's end when the rest would overrun (its state saved, resumable). Time is a fake clock: nothing
here waits for it."""
from __future__ import annotations

import time

import pytest
import torch

from conftest import requires_cifar10
from coursekit import cli, experiments, plan
from coursekit.runs import OutOfTime, RunState
from test_train import state_after, state_after_with


def test_durations_are_read_in_the_units_people_write():
    assert plan.parse_duration("8m") == 480 and plan.parse_duration("90s") == 90
    assert plan.parse_duration("1h30m") == 5400 and plan.parse_duration("45") == 45
    for bad in ("8 minutes", "m", "8x", ""):
        with pytest.raises(ValueError, match="write it like 8m"):
            plan.parse_duration(bad)


def test_the_gpu_plan_starts_with_the_fast_recipe_and_names_only_registered_experiments():
    names = plan.names("gpu")
    assert names[0] == "intro_fast" and len(names) == len(set(names))
    assert set(names) <= set(experiments.EXPERIMENTS)
    assert {n for n in experiments.EXPERIMENTS if n.startswith("vs_")} <= set(names)  # "vs_*" expanded
    assert names.index("classic_lr_find") < names.index("classic_resnet")  # rates before the runs that use them
    assert not set(names) & set(plan.HUB)  # nothing that needs a model hub
    with pytest.raises(ValueError, match="unknown plan"):
        plan.names("tpu")


def test_check_time_stops_work_that_would_overrun(monkeypatch):
    monkeypatch.setattr(time, "monotonic", lambda: 1000.0)
    RunState().check_time(100.0, 5)  # no deadline: nothing happens
    state = RunState().with_time_limit(10.0)
    assert state.deadline == 1010.0 and state.time_left() == 10.0
    state.check_time(1.0, 5)  # 5 s of work, 10 s left
    state.check_time(100.0, 0)  # nothing left to do: nothing to stop
    with pytest.raises(OutOfTime, match="needs about 50 s more, 10 s left"):
        state.check_time(5.0, 10)
    assert state.with_time_limit(60.0).deadline == 1010.0  # a longer limit inside keeps the earlier deadline
    past = state.with_time_limit(-1.0)  # an inner limit already past
    assert past.deadline == 999.0
    with pytest.raises(OutOfTime):
        past.check_time(0.0, 1)


def test_fit_stops_after_the_epoch_that_shows_the_rest_would_overrun_and_the_next_window_resumes(tmp_path):
    ckpt = tmp_path / "run.pt"
    cut = RunState(checkpoint=ckpt, progress=False, verbose=False).with_time_limit(0.0)  # over after any epoch
    with pytest.raises(OutOfTime):
        state_after_with(cut, 3)
    state = torch.load(ckpt, weights_only=False)
    assert state["epoch"] == 1 and len(state["history"]) == 1  # the measured epoch is kept
    resumed, result = state_after(3, checkpoint=ckpt)  # the next window goes on from there
    straight, whole = state_after(3)  # outside a limit: every epoch
    assert len(result.history) == len(whole.history) == 3
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


class FakeClock:
    """A monotonic clock that moves only when told to: the plan's time limit without waiting for it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_the_plan_keeps_stored_results_skips_what_it_cannot_run_and_reports_the_rest(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(time, "monotonic", clock)  # what plan.run (and its time limit) reads
    calls = []
    takes = {"intro_fast": 60.0, "classic_vgg": 30.0, "classic_alexnet": 0.0, "classic_googlenet": 345.0}

    def fake_run(name, profile=None, force=False, deadline=None, **kwargs):
        calls.append(name)
        assert deadline == 1000.0 + limit  # each experiment is handed the window's end
        clock.advance(takes.get(name, 1.0))
        if name == "classic_vgg":
            raise OutOfTime(300.0, 12.0)
        if name == "classic_alexnet":
            raise FileNotFoundError("no CIFAR-10 under /data")
        return dict(experiment=name, metrics=dict(accuracy=0.5), history=[])

    monkeypatch.setattr(plan, "names", lambda p: ["intro_fast", "classic_resnet", "classic_vgg", "classic_alexnet",
                                                  "classic_googlenet", "degradation_plain20", "vit_memory"])
    monkeypatch.setattr(experiments, "run", fake_run)
    monkeypatch.setattr(experiments, "load", lambda name, profile: {} if name == "classic_resnet" else None)
    # 450 s: after the runs above 15 s are left, less than the START_MARGIN that a next experiment needs
    assert plan.START_MARGIN == 20.0
    limit = 450.0
    steps = {s.name: s for s in plan.run("gpu", "quick", time_limit=limit)}
    assert steps["intro_fast"].status == "done" and steps["intro_fast"].seconds == 60.0
    assert steps["classic_resnet"].status == "stored"
    assert steps["classic_vgg"].status == "cut off" and "needs about 300 s more" in steps["classic_vgg"].detail
    assert steps["classic_vgg"].seconds == 30.0
    assert steps["classic_alexnet"].status == "failed" and "no CIFAR-10" in steps["classic_alexnet"].detail
    assert steps["classic_googlenet"].status == "done" and steps["classic_googlenet"].seconds == 345.0
    assert steps["degradation_plain20"].status == "left" and steps["vit_memory"].status == "skipped"
    assert steps["transfer_decision"].status == "skipped" and "model hub" in steps["transfer_decision"].detail
    assert calls == ["intro_fast", "classic_vgg", "classic_alexnet", "classic_googlenet"]
    summary = plan.report(list(steps.values())).splitlines()[-1]
    assert summary.startswith("2 done, 1 stored, 1 cut off, 1 left, ") and "1 failed" in summary
    assert summary.endswith("; 435 s spent")
    # one second more and the window leaves room for the last one
    calls.clear()
    clock.now, limit = 1000.0, 456.0
    steps = {s.name: s for s in plan.run("gpu", "quick", time_limit=limit)}
    assert steps["degradation_plain20"].status == "done" and "degradation_plain20" in calls


def test_regenerate_checks_its_plan_arguments(capsys):
    assert cli.main(["regenerate", "--profile", "ci", "--time-limit", "8m"]) == 2
    assert "--time-limit goes with --plan" in capsys.readouterr().err
    assert cli.main(["regenerate", "--profile", "ci", "--plan", "gpu", "--time-limit", "eight"]) == 2
    assert "write it like 8m" in capsys.readouterr().err


@requires_cifar10
def test_a_dry_run_of_the_plan_on_tiny_sizes(monkeypatch, capsys):
    """The command end to end on real CIFAR-10, at the ci profile's sizes (a second or two each)."""
    monkeypatch.setattr(plan, "names", lambda p: ["intro_fast", "classic_resnet", "degradation_plain20"])
    assert cli.main(["regenerate", "--profile", "ci", "--plan", "gpu", "--time-limit", "5m"]) == 0
    out = capsys.readouterr().out
    for name in ("intro_fast", "classic_resnet", "degradation_plain20"):
        assert f"    done  {name}" in out
    assert "3 done, 3 skipped" in out.splitlines()[-1]


def test_a_copy_without_git_records_the_commit_it_was_declared_to_be(monkeypatch, tmp_path):
    from coursekit import store

    monkeypatch.delenv("COURSEKIT_COMMIT", raising=False)
    monkeypatch.setattr(store, "repository_root", lambda: None)
    assert store.git_commit() is None
    monkeypatch.setenv("COURSEKIT_COMMIT", "0123456789")
    assert store.git_commit() == "0123456789 (declared)"
    monkeypatch.setattr(store, "repository_root", lambda: tmp_path)  # a tree without .git: git fails
    assert store.git_commit() == "0123456789 (declared)"


def test_chapters_show_a_stored_full_result_beside_the_quick_one_or_say_there_is_none(monkeypatch, tmp_path):
    import json

    from coursekit import store, tables
    from test_figures import fake_result

    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path))
    note = tables.full_beside(["intro_cnn", "intro_fast"], "quick")
    assert note.startswith("> **On a GPU (`full` profile):** no result of `intro_cnn`, `intro_fast` is stored yet.")
    full = dict(fake_result(), profile="full", config=experiments.config("intro_cnn", "full"),
                config_hash=store.config_hash(experiments.config("intro_cnn", "full")),
                provenance=dict(fake_result()["provenance"], device="NVIDIA H200"))
    (tmp_path / "intro_cnn.full.json").write_text(json.dumps(full))
    shown = tables.full_beside(["intro_cnn", "intro_fast"], "quick")
    assert "- `intro_cnn`: accuracy 60.0 % (intro_cnn · profile full · NVIDIA H200" in shown
    assert shown.endswith("- not stored yet: `intro_fast`")
    assert tables.full_beside(["intro_cnn"], "full") == ""  # the full book shows them in place


def test_the_headline_of_a_result_over_seeds_is_its_mean_and_interval():
    from coursekit import store

    seeds = [dict(seed=i, metrics=dict(accuracy=a)) for i, a in enumerate((0.80, 0.81, 0.82))]
    assert store.headline(dict(metrics=dict(accuracy=0.8), seeds=seeds)) == "accuracy 81.0 ± 2.5 % (3 seeds)"


def test_a_plan_with_a_failed_experiment_exits_non_zero(monkeypatch, capsys):
    """A script (the GPU window's, CI) must be able to tell a wasted window: any failure is rc 1."""
    steps = [plan.Step("intro_fast", "done", "accuracy 60 %", 5.0),
             plan.Step("classic_resnet", "failed", "DataNotFoundError: CIFAR-10 was not found", 1.0)]
    monkeypatch.setattr(plan, "run", lambda *args, **kwargs: steps)
    assert cli.main(["regenerate", "--profile", "ci", "--plan", "gpu"]) == 1
    captured = capsys.readouterr()
    assert "1 of the plan's experiments failed: classic_resnet" in captured.err and "1 done, 1 failed" in captured.out
    monkeypatch.setattr(plan, "run", lambda *args, **kwargs: steps[:1])
    assert cli.main(["regenerate", "--profile", "ci", "--plan", "gpu"]) == 0
