import json
import subprocess
import sys
from pathlib import Path

from coursekit import cli, experiments
from conftest import requires_cifar10
from test_figures import fake_result


def test_list_shows_profiles_and_the_store(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path))
    (tmp_path / "intro_cnn.quick.json").write_text(json.dumps(fake_result()))
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "intro_cnn" in out and "ci " in out and "full" in out
    assert "stored 2026-11-23T10:00 on CPU test" in out and "accuracy 60.0 %" in out

def test_figures_rejects_an_unknown_format(tmp_path, capsys):
    assert cli.main(["figures", "--out", str(tmp_path), "--format", "png,gif"]) == 2
    assert "unknown format(s) gif" in capsys.readouterr().err

def test_regenerate_an_unknown_chapter(capsys):
    assert cli.main(["regenerate", "--profile", "ci", "--chapter", "nope"]) == 2
    chapters = sorted({e.chapter for e in experiments.EXPERIMENTS.values()})
    assert f"chapters: {', '.join(chapters)}" in capsys.readouterr().err and "intro" in chapters

def test_data_offline_without_data_fails_clearly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    assert cli.main(["data", "--offline"]) == 2
    err = capsys.readouterr().err
    assert "CIFAR-10 (train) was not found" in err and str(tmp_path) in err

@requires_cifar10
def test_end_to_end_on_ci(tmp_path):
    """The installed `coursekit` command: regenerate (ci stores nothing), then export figures."""
    env_results = tmp_path / "results"
    run = lambda *args: subprocess.run([str(Path(sys.executable).parent / "coursekit"), *args], capture_output=True, text=True,  # noqa: E731
                                       env={**__import__("os").environ, "COURSEKIT_RESULTS": str(env_results)})
    regen = run("regenerate", "--profile", "ci", "--experiment", "intro_cnn")
    assert regen.returncode == 0, regen.stderr
    assert "profile: ci" in regen.stdout and "intro_cnn: accuracy" in regen.stdout
    assert not env_results.exists()
    data = run("data", "--offline")
    assert data.returncode == 0 and "50,000 images" in data.stdout
    (env_results).mkdir()
    (env_results / "intro_cnn.quick.json").write_text(json.dumps(fake_result()))
    out = tmp_path / "figs"
    # the whole registry is exported (and checked) by tests/test_figures.py; here the command's path
    asked = ["intro-learning-curves", "intro-confusion-matrix", "ilsvrc-top5", "model-zoo", "degradation",
             "vit-patches"]
    figs = run("figures", "--out", str(out), "--format", "png,pdf", "--profile", "quick",
               *(a for name in asked for a in ("--name", name)))
    assert figs.returncode == 0, figs.stderr
    drawn = {p.stem for p in out.iterdir()}
    assert {p.suffix for p in out.iterdir()} == {".png", ".pdf"} and len(list(out.iterdir())) == 2 * len(drawn)
    assert drawn == {"intro-learning-curves", "intro-confusion-matrix", "ilsvrc-top5", "model-zoo", "vit-patches"}
    assert "skipped degradation" in figs.stderr and "coursekit regenerate --profile quick --chapter classic" in figs.stderr

def test_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "coursekit.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "regenerate" in out.stdout

def test_data_reports_optional_sets_without_failing(tmp_path, monkeypatch, capsys, image_folder):
    import shutil
    import urllib.error

    from coursekit import data

    for split in ("train", "test"):
        for c in data.CIFAR10_CLASSES:
            shutil.copytree(image_folder / "dog", tmp_path / "cifar10" / split / c)

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data.folders, "_fetch", offline)
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    monkeypatch.delenv("COURSEKIT_DOWNLOAD", raising=False)  # CI switches downloads off
    assert cli.main(["data"]) == 0
    out = capsys.readouterr().out
    assert "CIFAR-10 test: 40 images" in out
    assert "hymenoptera: not available (hymenoptera (train) was not found" in out and "URLError" in out
    assert "pacs: not on disk" in out


def test_cost_summary_adds_wall_time_by_chapter():
    def stored(chapter: str, seconds: float) -> dict:
        return dict(chapter=chapter, provenance=dict(wall_seconds=seconds))

    line = cli.cost_summary([stored("classic", 3000), stored("vit", 600), stored("classic", 1200)], "quick")
    assert line == "quick: 3 stored results took 1 h 20 min of wall time (classic 1 h 10 min, vit 10 min 00 s)"
    assert cli.cost_summary([], "full") == "full: nothing stored"
