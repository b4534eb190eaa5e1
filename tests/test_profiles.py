import pytest
import torch

from coursekit import experiments, profiles


def test_default_profile_is_quick(monkeypatch):
    monkeypatch.delenv("COURSEKIT_PROFILE", raising=False)
    assert profiles.current() == "quick"


def test_profile_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("COURSEKIT_PROFILE", "full")
    assert profiles.current() == "full"
    assert profiles.current("ci") == "ci"  # an explicit argument wins


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSEKIT_PROFILE", "fast")
    with pytest.raises(ValueError, match="unknown profile 'fast'.*ci, quick, full"):
        profiles.current()


def test_every_experiment_has_sizes_for_every_profile_it_runs_in():
    for name, experiment in experiments.EXPERIMENTS.items():
        for profile in experiment.profiles:
            assert experiment.sizes[profile], (name, profile)


def test_an_experiment_without_sizes_for_a_profile_it_runs_in_is_refused():
    with pytest.raises(ValueError, match="no sizes for the profile.*full"):
        experiments.register(experiments.Experiment("nope", "t", "intro", {}, {"ci": {}, "quick": {}}, lambda c, k: {}))
    assert "nope" not in experiments.EXPERIMENTS


def test_profiles_scale_an_experiment_upwards():
    ci, quick = (experiments.config("intro_cnn", p) for p in ("ci", "quick"))
    assert ci["epochs"] < quick["epochs"]
    assert ci["train_per_class"] < quick["train_per_class"]
    assert experiments.config("intro_cnn", "full")["train_per_class"] is None  # the whole training set


def test_configurations_are_deep_copies():
    """Changing a returned configuration, even a nested part of it, changes no later configuration."""
    cfg = experiments.config("intro_cnn", "ci")
    cfg["epochs"] = 999
    cfg["model_args"]["width"] = 999
    again = experiments.config("intro_cnn", "ci")
    assert again["epochs"] != 999 and again["model_args"]["width"] != 999
    nested = experiments.config("transfer_decision", "quick")
    nested["sources"][0]["layers"]["deep"] = "changed"
    assert experiments.config("transfer_targets", "quick")["sources"][0]["layers"]["deep"] == "avgpool"
    assert experiments.config("transfer_decision", "quick")["sources"][0]["layers"]["deep"] == "avgpool"


def test_profiles_names_no_experiment():
    import inspect

    source = inspect.getsource(profiles)
    assert not any(name in source for name in experiments.EXPERIMENTS)


def test_device_and_banner():
    device = profiles.device()
    assert device.type in ("cuda", "mps", "cpu")
    if not torch.cuda.is_available():
        assert device.type != "cuda"
    line = profiles.banner("ci")
    assert "profile: ci" in line and torch.__version__ in line and "\n" not in line
