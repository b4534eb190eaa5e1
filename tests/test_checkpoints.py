"""Training checkpoints of experiments: where they live, what a broken or foreign one does, the lock
that keeps two runs of one experiment apart, the wall time over resumes, and the profile that an
experiment's dependencies (the few-shot backbone) follow."""
from __future__ import annotations

import dataclasses
import json
import re
import time

import pytest
import torch

from coursekit import experiments, models, store, train
from coursekit.experiments import core, fewshot
from coursekit.runs import RunState
from test_train import blobs, fit, loaders

NAME = "test_tiny_checkpoints"


class Tiny:
    """The runner of a test-only experiment: a tiny CNN trained by :func:`coursekit.train.fit` on blobs.

    Each call is recorded as (checkpoint given, whether it existed then). ``interrupt`` presses Ctrl-C
    at (epoch, batch) of the next call only; ``pause`` moves the clocks that many seconds on first (a
    fake clock: :func:`fake_pause`)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.interrupt: tuple[int, int] | None = None
        self.pause = 0.0
        self.sleep = time.sleep

    def __call__(self, cfg: dict, state: RunState) -> dict:
        self.calls.append((state.checkpoint, state.checkpoint is not None and state.checkpoint.exists()))
        self.sleep(self.pause)
        torch.manual_seed(0)
        model = models.create("small_cnn", num_classes=3, width=4)
        loader = loaders(blobs())[0]
        if self.interrupt is not None:
            loader, self.interrupt = train.InterruptAt(loader, *self.interrupt), None
        fitted = fit(model, loader, cfg["epochs"], state=dataclasses.replace(state, progress=False, verbose=False),
                     seed=cfg["seed"])
        return dict(metrics=dict(accuracy=1.0), history=fitted.history, cost=dict(train_seconds=fitted.train_seconds),
                    data=dict(train=dict(kind="blobs", images=96), test=dict(kind="blobs", images=0)))


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """Empty results, cache and data folders."""
    for variable, folder in (("COURSEKIT_RESULTS", "results"), ("COURSEKIT_CACHE", "cache"), ("COURSEKIT_DATA", "data")):
        monkeypatch.setenv(variable, str(tmp_path / folder))
    return tmp_path


@pytest.fixture
def tiny(folders):
    """A registered test-only experiment (removed afterwards); its runner is the :class:`Tiny` returned."""
    runner = Tiny()
    core.register(core.Experiment(NAME, "A tiny CNN on blobs", "test", base=dict(epochs=2, seed=0),
                                  sizes={"ci": {}, "quick": {}}, runner=runner, profiles=("ci", "quick")))
    yield runner
    core.EXPERIMENTS.pop(NAME, None)


def interrupted(runner: Tiny, profile: str = "quick"):
    """Run the tiny experiment and press Ctrl-C in its second epoch; the checkpoint it was given."""
    runner.interrupt = (1, 0)
    with pytest.raises(KeyboardInterrupt):
        experiments.run(NAME, profile, verbose=False)
    return runner.calls[-1][0]


def this_checkpoint():
    return core.checkpoint_path(NAME, "quick", store.config_hash(core.config(NAME, "quick")))


# --- 1. checkpoints live in the cache, not in the (perhaps read-only, shared) data folder ----------

def test_checkpoints_live_in_the_cache_not_in_the_data_folder(tiny, folders):
    assert core.checkpoint_path(NAME, "quick", "abc") == folders / "cache" / "checkpoints" / f"{NAME}.quick.abc.pt"
    checkpoint = interrupted(tiny)
    assert checkpoint == this_checkpoint() and checkpoint.is_file()
    assert not (folders / "data").exists()


# --- 2. a broken checkpoint says where it is and what to do; --force starts afresh ----------------

@pytest.mark.parametrize("keep", [0.0, 0.5])  # a zero-byte file, and one cut short
def test_a_broken_checkpoint_names_its_path_and_force_starts_afresh(tiny, keep):
    checkpoint = interrupted(tiny)
    content = checkpoint.read_bytes()
    checkpoint.write_bytes(content[: int(len(content) * keep)])
    for _ in range(2):  # it does not mend itself
        with pytest.raises(RuntimeError, match=re.escape(str(checkpoint)) + r".*[Dd]elete it.*--force"):
            experiments.run(NAME, "quick", verbose=False)
    result = experiments.run(NAME, "quick", force=True, verbose=False)
    assert tiny.calls[-1] == (checkpoint, False) and len(result["history"]) == 2
    assert list(checkpoint.parent.iterdir()) == []


def test_force_deletes_every_file_an_interrupted_run_left_and_only_those(tiny):
    checkpoint = this_checkpoint()
    left = [checkpoint, checkpoint.with_suffix(".seed0.pt"), checkpoint.with_suffix(".seeds.json"),
            checkpoint.with_suffix(".wall.json")]
    other = checkpoint.with_name(f"{NAME}.quick.{'0' * 12}.pt")  # another configuration's
    checkpoint.parent.mkdir(parents=True)
    for path in [*left, other]:
        path.write_bytes(b"not a checkpoint")
    experiments.run(NAME, "quick", force=True, verbose=False)
    assert tiny.calls == [(checkpoint, False)]
    assert list(checkpoint.parent.iterdir()) == [other]


def test_a_broken_file_of_finished_runs_or_seeds_names_its_path(tmp_path):
    state = RunState(checkpoint=tmp_path / "plan.pt", progress=False)
    rows = tmp_path / "plan.rows.json"
    rows.write_text('{"rows": [{"a": 1, "accur')
    with pytest.raises(RuntimeError, match=re.escape(str(rows)) + r".*[Dd]elete it.*--force"):
        core.run_plan([dict(a=1)], lambda settings: dict(accuracy=1.0), state)
    seeds = tmp_path / "plan.seeds.json"
    seeds.write_text("")
    with pytest.raises(RuntimeError, match=re.escape(str(seeds)) + ".*--force"):
        core.over_seeds(lambda cfg, state: {})(dict(seeds=[0]), state)


# --- 3. a checkpoint says whose it is; another run's is refused -----------------------------------

def test_a_run_stamps_its_checkpoints_and_refuses_another_runs(tiny):
    checkpoint = interrupted(tiny)
    state = torch.load(checkpoint, weights_only=False)
    cfg_hash = store.config_hash(core.config(NAME, "quick"))
    assert NAME in state["identity"] and "quick" in state["identity"] and cfg_hash in state["identity"]
    state["identity"] = state["identity"].replace(cfg_hash, "0" * 12)  # as if copied from another configuration
    torch.save(state, checkpoint)
    with pytest.raises(RuntimeError, match=re.escape(str(checkpoint)) + ".*" + "0" * 12 + ".*not.*" + cfg_hash):
        experiments.run(NAME, "quick", verbose=False)


def test_finished_runs_of_another_configuration_are_refused(tmp_path):
    a = RunState(checkpoint=tmp_path / "plan.pt", identity="experiment A", progress=False)
    core.run_plan([dict(a=1), dict(a=2)], lambda settings: dict(accuracy=1.0), a)
    b = dataclasses.replace(a, identity="experiment B")
    with pytest.raises(RuntimeError, match="experiment A, not to experiment B"):
        core.run_plan([dict(a=1), dict(a=2)], lambda settings: dict(accuracy=1.0), b)


def test_an_interrupted_plan_resumes_at_the_run_it_stopped_in(tmp_path):
    state = RunState(checkpoint=tmp_path / "plan.pt", identity="A", progress=False)
    done, pressed = [], []

    def run_one(settings):
        if settings["a"] == 3 and not pressed:
            pressed.append(True)
            raise KeyboardInterrupt  # Ctrl-C in the third run, once
        done.append(settings["a"])
        return dict(accuracy=settings["a"] / 10)

    with pytest.raises(KeyboardInterrupt):
        core.run_plan([dict(a=1), dict(a=2), dict(a=3)], run_one, state)
    rows = core.run_plan([dict(a=1), dict(a=2), dict(a=3)], run_one, state)
    assert done == [1, 2, 3] and [r["accuracy"] for r in rows] == [0.1, 0.2, 0.3]


# --- 4. one process at a time trains an experiment under a profile ---------------------------------

@pytest.fixture
def held():
    """Hold a run's lock as another process would (flock, with its pid in the file)."""
    fcntl = pytest.importorskip("fcntl")  # POSIX
    handles = []

    def hold(name: str, profile: str, pid: int = 4242) -> None:
        path = core.lock_path(name, profile)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "w")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write(f"{pid}\n")
        handle.flush()
        handles.append(handle)

    yield hold
    for handle in handles:
        handle.close()


@pytest.mark.parametrize("profile", ["ci", "quick"])  # ci stores nothing, but trains: it takes the lock too
def test_a_second_run_of_the_same_experiment_and_profile_is_refused(tiny, held, folders, profile):
    assert core.lock_path(NAME, profile) == folders / "cache" / "locks" / f"{NAME}.{profile}.lock"
    held(NAME, profile)
    with pytest.raises(RuntimeError, match=re.escape(f"another coursekit process (pid 4242) is training {NAME} "
                                                     f"under {profile}; wait for it or stop it")):
        experiments.run(NAME, profile, verbose=False)
    assert tiny.calls == []
    other = "quick" if profile == "ci" else "ci"
    experiments.run(NAME, other, verbose=False)  # another profile is another lock
    assert len(tiny.calls) == 1


def test_the_lock_is_released_after_a_run_and_its_file_names_the_holder(tiny, held):
    experiments.run(NAME, "ci", verbose=False)
    assert core.lock_path(NAME, "ci").read_text().strip().isdigit()
    held(NAME, "ci")  # free again


def test_a_stored_result_is_read_while_another_process_trains(tiny, held):
    first = experiments.run(NAME, "quick", verbose=False)
    held(NAME, "quick")
    assert experiments.run(NAME, "quick", verbose=False) == first and len(tiny.calls) == 1


# --- 5. the wall time of a resumed run counts every attempt ----------------------------------------

def test_the_wall_time_adds_up_over_resumes(tiny, monkeypatch):
    moved = [0.0]  # a fake clock: perf_counter runs on, plus whatever the runner "sleeps"
    real = time.perf_counter
    monkeypatch.setattr(time, "perf_counter", lambda: real() + moved[0])
    tiny.sleep = lambda seconds: moved.__setitem__(0, moved[0] + seconds)
    tiny.pause = 600.0
    checkpoint = interrupted(tiny)
    tiny.pause = 0.0
    result = experiments.run(NAME, "quick", verbose=False)
    assert tiny.calls[-1] == (checkpoint, True)  # resumed
    assert 600.0 <= result["provenance"]["wall_seconds"] < 900.0
    assert list(checkpoint.parent.iterdir()) == []  # the seconds kept beside the checkpoint went with it


def test_the_seconds_of_a_deleted_checkpoint_do_not_count(tiny, monkeypatch):
    """Deleting the checkpoint (as the message about a broken one says) starts afresh: the time the deleted
    attempt spent is not added to the next run's."""
    moved = [0.0]
    real = time.perf_counter
    monkeypatch.setattr(time, "perf_counter", lambda: real() + moved[0])
    tiny.sleep = lambda seconds: moved.__setitem__(0, moved[0] + seconds)
    tiny.pause = 600.0
    checkpoint = interrupted(tiny)
    assert checkpoint.with_suffix(".wall.json").is_file()
    checkpoint.unlink()
    tiny.pause = 0.0
    result = experiments.run(NAME, "quick", verbose=False)
    assert tiny.calls[-1] == (checkpoint, False) and result["provenance"]["wall_seconds"] < 300.0


def test_the_wall_time_is_on_disk_while_the_run_goes_so_a_kill_keeps_it(tiny, monkeypatch):
    """A SIGKILL cannot be caught: the run's seconds are written beside its checkpoint as it goes."""
    monkeypatch.setattr(core, "WALL_EVERY", 0.05)
    seen = []
    real_sleep = time.sleep

    def slow(seconds):  # the runner works for a moment, then looks at what is on disk
        real_sleep(0.4)
        path = core.checkpoint_path(NAME, "quick", store.config_hash(experiments.config(NAME, "quick")))
        seen.append(json.loads(path.with_suffix(".wall.json").read_text())["seconds"])

    tiny.sleep = slow
    experiments.run(NAME, "quick", verbose=False)
    assert seen and seen[0] >= 0.2  # written during the run, not only when it stopped


# --- 6. dependencies follow the profile being run (the state's), not $COURSEKIT_PROFILE -------------

def test_the_fewshot_backbone_follows_the_profile_being_run(folders, monkeypatch):
    monkeypatch.setenv("COURSEKIT_PROFILE", "quick")
    monkeypatch.setattr(core, "_NETWORKS", {("fewshot_backbone", "ci"): dict(w="ci"),
                                            ("fewshot_backbone", "quick"): dict(w="quick")})
    seen = []

    def runner(cfg: dict, state: RunState) -> dict:
        seen.append(fewshot.backbone_weights(state.profile)["w"])
        return dict(metrics={}, history=[], cost={}, data={})

    monkeypatch.setitem(core.EXPERIMENTS, "fewshot_episodes",
                        dataclasses.replace(experiments.get("fewshot_episodes"), runner=runner))
    experiments.run("fewshot_episodes", "ci", verbose=False)
    assert seen == ["ci"]
    assert fewshot.backbone_weights()["w"] == "quick"  # outside a run: $COURSEKIT_PROFILE


def test_a_checkpoint_of_another_network_is_refused_by_name(tmp_path):
    """A checkpoint left by another configuration (a wider network) is named, with the fix, not a bare
    size-mismatch error."""
    path = tmp_path / "run.pt"
    wide = models.create("small_cnn", num_classes=3, width=8)
    fit(wide, loaders(blobs())[0], 1, state=RunState(checkpoint=path, progress=False, verbose=False))
    narrow = models.create("small_cnn", num_classes=3, width=4)
    with pytest.raises(RuntimeError, match=rf"the checkpoint {re.escape(str(path))} holds the state of another network "
                                           r"or configuration \(.*\); delete it to start afresh"):
        fit(narrow, loaders(blobs())[0], 2, state=RunState(checkpoint=path, progress=False, verbose=False))


# --- 7. a result made from a stored network is stale once that network changes -------------------------

def test_a_result_made_from_a_network_that_changed_is_stale(folders, monkeypatch, capsys):
    from coursekit import cli

    def backbone(cfg, state):
        return dict(metrics=dict(accuracy=1.0), history=[], cost={}, data=dict(summary="nothing"),
                    state_dict={"w": torch.full((2,), float(cfg["value"]))})

    def user(cfg, state):
        weights = experiments.network("test_backbone", state.profile)
        return dict(metrics=dict(accuracy=float(weights["w"][0])), history=[], cost={}, data=dict(summary="nothing"))

    for name, runner in (("test_backbone", backbone), ("test_user", user)):
        monkeypatch.setitem(core.EXPERIMENTS, name, core.Experiment(name, name, "test", dict(value=1), {}, runner))
    monkeypatch.setattr(core, "_NETWORKS", {})
    first = experiments.run("test_user", "quick", verbose=False)
    made_from = first["provenance"]["inputs"]["test_backbone"]
    assert made_from == dict(config_hash=store.read_result("test_backbone", "quick")["config_hash"],
                             sha256=store.read_result("test_backbone", "quick")["network"]["sha256"])
    assert experiments.load("test_user", "quick") == first
    core.EXPERIMENTS["test_backbone"] = dataclasses.replace(core.EXPERIMENTS["test_backbone"], base=dict(value=2))
    monkeypatch.setattr(core, "_NETWORKS", {})
    experiments.run("test_backbone", "quick", verbose=False)  # the backbone retrained with another configuration
    assert core.changed_inputs(first) == ["test_backbone"] and experiments.load("test_user", "quick") is None
    monkeypatch.setattr(cli, "experiments", experiments)
    assert cli.main(["list"]) == 0
    assert "(stale: made from test_backbone, which changed since)" in capsys.readouterr().out
    again = experiments.run("test_user", "quick", verbose=False)
    assert again["metrics"]["accuracy"] == 2.0 and not core.changed_inputs(again)
