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


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"),
                                                  (False, False, "cpu")])
def test_device_is_the_best_present_cuda_then_mps_then_the_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert profiles.device() == torch.device(expected)


def test_the_device_of_this_machine_is_one_it_has():
    device = profiles.device()
    assert device.type == ("cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu")
    torch.zeros(1, device=device)  # usable, not only named


def test_banner_names_package_profile_device_and_torch(monkeypatch):
    import platform

    from coursekit import __version__

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    cpu = f"CPU {platform.machine()} ({torch.get_num_threads()} threads)"
    assert profiles.device_name() == cpu
    monkeypatch.setenv("COURSEKIT_PROFILE", "full")
    line = profiles.banner("ci")  # the argument wins over the environment
    assert line == f"coursekit {__version__} | profile: ci | device: {cpu} | torch {torch.__version__}"
    assert "profile: full" in profiles.banner()
    monkeypatch.setattr(profiles, "device_name", lambda dev=None: "Test GPU 80GB")
    assert "| device: Test GPU 80GB |" in profiles.banner("ci")
