import dataclasses
import json
import os
import re
from pathlib import Path

import pytest
import torch

from coursekit import experiments, files, store, tables
from coursekit.runs import RunState


@pytest.fixture
def results_store(tmp_path, monkeypatch):
    """An empty results store and cache (checkpoints, locks), and a fake runner that counts its calls (no training)."""
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    calls = []

    def fake_runner(cfg, checkpoint):
        calls.append((cfg, checkpoint))
        return dict(metrics=dict(accuracy=0.5, confusion=[[1]]), history=[dict(epoch=1, train_loss=1.0)],
                    cost=dict(parameters=1), data=dict(train=dict(kind="test", images=10),
                                                       test=dict(kind="test", images=5)))

    exp = experiments.get("intro_cnn")
    monkeypatch.setitem(experiments.EXPERIMENTS, "intro_cnn",
                        experiments.Experiment(exp.name, exp.title, exp.chapter, exp.base, exp.sizes, fake_runner))
    return tmp_path / "results", calls


def test_run_trains_once_then_loads(results_store):
    results, calls = results_store
    first = experiments.run("intro_cnn", "quick", verbose=False)
    path = results / "intro_cnn.quick.json"
    assert path.is_file() and len(calls) == 1
    second = experiments.run("intro_cnn", "quick", verbose=False)
    assert len(calls) == 1 and second == first
    experiments.run("intro_cnn", "quick", force=True, verbose=False)
    assert len(calls) == 2


def test_a_result_carries_its_configuration_and_provenance(results_store):
    result = experiments.run("intro_cnn", "quick", verbose=False)
    cfg = experiments.config("intro_cnn", "quick")
    assert result["config"] == cfg and result["config_hash"] == store.config_hash(cfg)
    p = result["provenance"]
    for key in ("device", "torch", "torchvision", "coursekit", "git_commit", "date", "wall_seconds", "data"):
        assert key in p
    assert p["data"]["train"]["images"] == 10
    line = store.provenance_line(result)
    assert "profile quick" in line and p["device"] in line and "10 training and 5 test images" in line


def test_ci_never_reads_or_writes_the_store(results_store):
    results, calls = results_store
    experiments.run("intro_cnn", "ci", verbose=False)
    experiments.run("intro_cnn", "ci", verbose=False)
    assert len(calls) == 2 and not results.exists()
    assert calls[0][1].checkpoint is None  # and keeps no checkpoint (the runner's RunState)


def test_a_changed_configuration_trains_anew(results_store, monkeypatch):
    results, calls = results_store
    experiments.run("intro_cnn", "quick", verbose=False)
    path = results / "intro_cnn.quick.json"
    stored = json.loads(path.read_text())
    stored["config"]["epochs"] += 1  # made with another configuration (its hash made from it, as a run makes it)
    stored["config_hash"] = store.config_hash(stored["config"])
    path.write_text(json.dumps(stored))
    assert experiments.load("intro_cnn", "quick") is None
    assert experiments.load("intro_cnn", "quick", any_config=True) is not None
    experiments.run("intro_cnn", "quick", verbose=False)
    assert len(calls) == 2


def test_require_stored_forbids_training(results_store, monkeypatch):
    monkeypatch.setenv("COURSEKIT_REQUIRE_STORED", "1")
    with pytest.raises(LookupError, match="no quick result is stored.*coursekit regenerate --profile quick"):
        experiments.run("intro_cnn", "quick", verbose=False)
    experiments.run("intro_cnn", "ci", verbose=False)  # ci always trains


def test_writes_are_atomic(results_store, monkeypatch):
    results, _ = results_store
    experiments.run("intro_cnn", "quick", verbose=False)
    before = (results / "intro_cnn.quick.json").read_text()

    real_write_text = Path.write_text

    def disk_full(self, text, *args, **kwargs):  # the write itself fails, after half the text
        real_write_text(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    with pytest.raises(OSError, match="No space left"):
        experiments.run("intro_cnn", "quick", force=True, verbose=False)
    monkeypatch.undo()
    assert (results / "intro_cnn.quick.json").read_text() == before
    assert [p.name for p in results.iterdir()] == ["intro_cnn.quick.json"]


def test_atomic_write_creates_folders_and_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "new" / "folder" / "file.json"
    files.write_json(target, dict(a=1))
    assert json.loads(target.read_text()) == dict(a=1)
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any file, not mkstemp's 0600
    with pytest.raises(ZeroDivisionError):
        with files.atomic_write(target) as tmp:
            tmp.write_text("half")
            1 / 0
    assert json.loads(target.read_text()) == dict(a=1) and sorted(p.name for p in target.parent.iterdir()) == ["file.json"]


def test_a_network_is_stored_where_no_results_folder_exists_yet(tmp_path, monkeypatch):
    """Colab: no checkout, no results/ — storing the few-shot backbone must create the folder."""
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "fresh" / "results"))
    info = store.save_network({"w": torch.ones(2)}, "fewshot_backbone", "quick")
    assert (tmp_path / "fresh" / "results" / info["file"]).is_file()


def test_unknown_experiment():
    with pytest.raises(KeyError, match="unknown experiment 'nope'"):
        experiments.run("nope")


def test_config_hash_is_stable_and_sensitive():
    cfg = experiments.config("intro_cnn", "quick")
    assert store.config_hash(cfg) == store.config_hash(dict(reversed(list(cfg.items()))))
    assert store.config_hash(cfg) != store.config_hash(dict(cfg, epochs=cfg["epochs"] + 1))


def test_settings_table_lists_what_profiles_change():
    table = tables.settings_table("intro_cnn")
    assert table.startswith("| setting | ci | quick | full |")
    assert "| epochs |" in table and "| optimizer |" not in table  # the same in every profile


def test_every_experiment_has_a_current_quick_result_in_the_repository():
    """The book shows stored `quick` results: each experiment of a chapter in the table of contents must
    have one that matches today's configuration (a chapter drafted outside it joins with its results).

    When this fails, run `coursekit regenerate --profile quick --experiment NAME` and commit results/.
    """
    from coursekit import book

    repo_results = store.repository_root() / "results"
    shown = {path.stem for path in book.chapters(store.repository_root())}
    assert {"intro", "classic", "vit"} <= shown
    for name, experiment in experiments.EXPERIMENTS.items():
        if "quick" not in experiment.profiles or experiment.chapter not in shown:
            continue
        path = repo_results / f"{name}.quick.json"
        assert path.is_file(), f"no stored quick result for {name}"
        stored = json.loads(path.read_text())
        assert stored["config_hash"] == store.config_hash(experiments.config(name, "quick")), (
            f"{path} was made with another configuration")
        used = stored["provenance"]["data"]
        assert used.get("summary") or used["train"]["images"] > 0, f"{path} does not say which data it used"


def test_an_experiment_of_the_full_profile_alone_refuses_the_others_and_says_how(results_store):
    with pytest.raises(ValueError, match=r"vit_memory runs only in the profile\(s\) full, not in 'quick'.*--profile full"):
        experiments.run("vit_memory", "quick")


def test_the_gpu_measurement_needs_a_gpu(monkeypatch):
    monkeypatch.setattr(experiments.vit.profiles, "device", lambda: torch.device("cpu"))
    with pytest.raises(RuntimeError, match="measured on a CUDA GPU"):
        experiments.vit.step_costs(experiments.config("vit_memory", "full"), RunState())


def test_profile_cost_says_what_an_epoch_is_made_of():
    assert experiments.profile_cost("detect_digits", "quick") == "4 epochs x 4,000 new scenes x 3 seeds"
    assert experiments.profile_cost("detect_lenet", "quick") == "6 epochs x all images x 3 seeds"
    assert experiments.profile_cost("degradation_plain20", "quick") == "30 epochs x 500 images per class x 3 seeds"


def test_a_figure_loads_its_result_and_never_trains(results_store, monkeypatch):
    """A figure whose result is not stored raises an error that names the experiment and the command that
    makes it, and trains nothing; handed a result, or with one stored, it draws it."""
    from coursekit import figures

    results, calls = results_store

    def no_training(*args, **kwargs):
        raise AssertionError("a figure trained")

    exp = experiments.get("intro_cnn")
    monkeypatch.setitem(experiments.EXPERIMENTS, "intro_cnn",
                        experiments.Experiment(exp.name, exp.title, exp.chapter, exp.base, exp.sizes, no_training))
    monkeypatch.setattr(experiments, "run", no_training)
    with pytest.raises(figures.MissingResult, match=r"'intro-confusion-matrix' draws intro_cnn, .*"
                                                     r"`coursekit regenerate --profile quick --experiment intro_cnn`"):
        figures.draw("intro-confusion-matrix", "quick")
    with pytest.raises(figures.MissingResult, match="the ci profile stores no result: hand the figure"):
        figures.draw("intro-confusion-matrix", "ci")
    assert calls == [] and not results.exists()

    result = dict(experiment="intro_cnn", title="A test", chapter="intro", profile="quick",
                  config_hash=store.config_hash(experiments.config("intro_cnn", "quick")),
                  metrics=dict(accuracy=0.5, confusion=[[3, 1], [1, 3]], classes=["a", "b"]), history=[], cost={},
                  provenance=dict(device="test", date="2026-01-01", wall_seconds=1.0))
    handed = figures.draw("intro-confusion-matrix", "ci", results=[result])
    assert "accuracy 50.0 %" in handed.axes[0].get_title()
    store.save_result(result)
    loaded = figures.draw("intro-confusion-matrix", "quick")
    assert "accuracy 50.0 %" in loaded.axes[0].get_title()
    assert calls == []


# Results from before the redesign of 30 November 2026 (the few-shot and transfer runners changed then) are
# not the current code's, even where their configuration is unchanged.
OLDEST_CODE = "2026-11-30"


def test_no_stored_result_predates_the_current_code():
    old = [f"{p.name} ({json.loads(p.read_text())['provenance']['date'][:10]})"
           for p in sorted((store.repository_root() / "results").glob("*.quick.json"))
           if json.loads(p.read_text())["provenance"]["date"][:10] < OLDEST_CODE]
    assert not old, f"results made before {OLDEST_CODE}, by older code: {old} (regenerate them)"


# Runs that two experiments share: the same configuration, start, augmentation, images and seed. Stored from
# the same code they agree, up to a prediction or two that floating-point sums of another order may flip.
SHARED = [
    ("fewshot_shots", dict(shots=10, init="backbone", augmentation="augmented"),
     "fewshot_ablation", dict(init="backbone", variant="crop+flip+trivial_augment")),
    ("fewshot_shots", dict(shots=10, init="scratch", augmentation="none"),
     "fewshot_ablation", dict(init="scratch", variant="none")),
]


@pytest.mark.parametrize("a, where_a, b, where_b", SHARED, ids=lambda v: v if isinstance(v, str) else None)
def test_runs_shared_by_two_experiments_agree(a, where_a, b, where_b):
    from coursekit.results import seed_values

    ra, rb = (store.read_result(n, "quick") for n in (a, b))
    assert where_a["shots"] in experiments.config(a, "quick")["shots"]  # the ablation's one number of shots
    assert experiments.config(b, "quick")["shots"] == where_a["shots"]
    va, vb = seed_values(ra["metrics"]["rows"], **where_a), seed_values(rb["metrics"]["rows"], **where_b)
    assert va.keys() == vb.keys() and len(va) >= 3
    apart = {s: round(100 * (va[s] - vb[s]), 2) for s in va if abs(va[s] - vb[s]) > 0.001}
    assert not apart, f"{a} and {b} store different accuracies for the same runs (points, by seed): {apart}"


@pytest.mark.parametrize("key, value, says", [("epochs", "2", "epochs is '2', but must be a whole number of at least 1"),
                                              ("lr", "fast", "lr is 'fast', but must be a positive number"),
                                              ("train_per_class", -3, "train_per_class is -3, but must be a whole number"),
                                              ("seeds", [], "seeds is [], but must be a non-empty list")])
def test_a_configuration_that_cannot_be_right_is_refused_before_training(results_store, monkeypatch, key, value, says):
    _, calls = results_store
    exp = experiments.get("intro_cnn")
    base = dict(exp.base, **{key: value})
    monkeypatch.setitem(experiments.EXPERIMENTS, "intro_cnn", dataclasses.replace(exp, base=base, sizes={
        p: {k: v for k, v in sizes.items() if k != key} for p, sizes in exp.sizes.items()}))
    with pytest.raises(ValueError, match=re.escape(says)):
        experiments.run("intro_cnn", "quick", verbose=False)
    assert calls == []


def test_every_registered_configuration_passes_the_checks():
    for name, exp in experiments.EXPERIMENTS.items():
        for profile in exp.profiles:
            experiments.core.check_config(name, experiments.config(name, profile))


def test_a_misspelt_model_argument_is_named():
    from coursekit import models

    with pytest.raises(TypeError, match=r"small_cnn takes no argument 'widht'.*check its spelling"):
        models.create("small_cnn", widht=8)
