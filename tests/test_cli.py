import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import requires_cifar10
from coursekit import cli, experiments, store
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
    assert cli.main(["data", "--offline"]) == 1
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
        for digit in data.MNIST_CLASSES:
            shutil.copytree(image_folder / "dog", tmp_path / "mnist" / split / digit)

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data.folders, "_fetch", offline)
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    monkeypatch.delenv("COURSEKIT_DOWNLOAD", raising=False)  # CI switches downloads off
    assert cli.main(["data"]) == 0
    out = capsys.readouterr().out
    assert "CIFAR-10 test: 40 images" in out and "MNIST train: 40 images" in out
    assert "hymenoptera: not available (hymenoptera (train) was not found" in out and "URLError" in out
    assert "pacs: not on disk" in out


def test_cost_summary_adds_wall_time_by_chapter():
    def stored(chapter: str, seconds: float) -> dict:
        return dict(chapter=chapter, provenance=dict(wall_seconds=seconds))

    line = cli.cost_summary([stored("classic", 3000), stored("vit", 600), stored("classic", 1200)], "quick")
    assert line == "quick: 3 stored results took 1 h 20 min of wall time (classic 1 h 10 min, vit 10 min 00 s)"
    assert cli.cost_summary([], "full") == "full: nothing stored"


# --- bad input: a message that names the file and the fix, nothing lost, nothing half-written ---------

def test_list_survives_a_bad_result_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path))
    (tmp_path / "intro_cnn.quick.json").write_text(json.dumps(fake_result()))
    (tmp_path / "intro_fast.quick.json").write_text('{"experiment": "intro_fast", "metr')
    (tmp_path / "classic_vgg.quick.json").write_text(json.dumps(dict(experiment="classic_vgg", profile="quick")))
    assert cli.main(["list"]) == 0
    out, err = capsys.readouterr()
    assert "stored 2026-11-23T10:00 on CPU test" in out and "results directory" in out
    warnings = err.splitlines()
    assert len(warnings) == 2 and all(line.startswith("coursekit list: warning: ") for line in warnings)
    assert "classic_vgg.quick.json" in warnings[0] and "missing the keys" in warnings[0]
    assert "intro_fast.quick.json" in warnings[1] and "not valid JSON" in warnings[1]
    assert "coursekit regenerate --profile quick --experiment intro_fast --force" in warnings[1]


def test_figures_on_a_bad_result_names_it_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path))
    (tmp_path / "intro_cnn.quick.json").write_text("{")
    rc = cli.main(["figures", "--out", str(tmp_path / "figs"), "--profile", "quick", "--name", "intro-learning-curves"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and err.startswith("coursekit figures: ")
    assert str(tmp_path / "intro_cnn.quick.json") in err and "--experiment intro_cnn --force" in err


@pytest.mark.parametrize("error, message", [
    (PermissionError(errno.EACCES, "Permission denied", "/some/file.png"), "/some/file.png: Permission denied"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/gone"), "/gone: No such file or directory"),
    (OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    (RuntimeError("CUDA is not available"), "CUDA is not available"),
    (KeyError("unknown experiment 'nope'; known: intro_cnn"), "unknown experiment 'nope'; known: intro_cnn"),
    (LookupError("the stored network is missing"), "the stored network is missing"),
    (ValueError("a bad value"), "a bad value"),
    (store.BadResultError("results/x.quick.json is not valid JSON"), "results/x.quick.json is not valid JSON"),
])
def test_main_reports_an_error_in_one_line(monkeypatch, capsys, error, message):
    def fails(args):
        raise error

    monkeypatch.setattr(cli, "cmd_list", fails)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [err.rstrip("\n")] and err.startswith(f"coursekit list: {message}")
    assert "Traceback" not in err


def test_main_reports_a_full_disk_with_what_to_do(monkeypatch, capsys):
    def fails(args):
        raise OSError(errno.ENOSPC, "No space left on device", "/slides/a.png")

    monkeypatch.setattr(cli, "cmd_figures", fails)
    assert cli.main(["figures", "--out", "/slides"]) == 1
    assert capsys.readouterr().err == "coursekit figures: /slides/a.png: No space left on device (free some space, or write elsewhere)\n"


def test_main_keeps_ctrl_c_as_it_was(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_list", interrupted)
    assert cli.main(["list"]) == 130
    assert capsys.readouterr().err == "\ninterrupted\n"


def export_learning_curves(tmp_path, monkeypatch, out: Path) -> int:
    """`coursekit figures` for one figure drawn from a fake stored result."""
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results"))
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "intro_cnn.quick.json").write_text(json.dumps(fake_result()))
    return cli.main(["figures", "--out", str(out), "--profile", "quick", "--name", "intro-learning-curves",
                     "--format", "png,svg"])


def no_temporaries(folder: Path) -> bool:
    return not list(folder.rglob(".*.tmp"))


def test_figures_out_is_an_existing_file(tmp_path, monkeypatch, capsys):
    out = tmp_path / "slides.png"
    out.write_text("not a folder")
    assert export_learning_curves(tmp_path, monkeypatch, out) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"coursekit figures: {out} is a file, not a folder")
    assert out.read_text() == "not a folder" and no_temporaries(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_figures_out_is_a_read_only_folder(tmp_path, monkeypatch, capsys):
    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o555)
    try:
        assert export_learning_curves(tmp_path, monkeypatch, out) == 1
        err = capsys.readouterr().err
        assert err == (f"coursekit figures: {out / 'intro-learning-curves.png'}: Permission denied "
                       "(check its permissions, or write elsewhere)\n")
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


def test_figures_on_a_full_disk_leave_no_temporary(tmp_path, monkeypatch, capsys):
    from matplotlib.figure import Figure

    def full_disk(self, fname, **kwargs):
        Path(fname).write_bytes(b"\x89PNG half a figure")  # part of it reached the disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", full_disk)
    out = tmp_path / "slides"
    assert export_learning_curves(tmp_path, monkeypatch, out) == 1
    err = capsys.readouterr().err
    assert err == (f"coursekit figures: {out / 'intro-learning-curves.png'}: No space left on device "
                   "(free some space, or write elsewhere)\n")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("formats", [",", "", " , "])
def test_figures_without_a_format_says_which_there_are(tmp_path, capsys, formats):
    assert cli.main(["figures", "--out", str(tmp_path), "--format", formats]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose from png, svg, pdf" in err
    assert list(tmp_path.iterdir()) == []


def test_a_sigterm_stops_a_command_as_ctrl_c_does(monkeypatch, capsys):
    """A batch system's stop (SIGTERM) reaches the run as KeyboardInterrupt, so fit saves its state."""
    import signal
    import time

    seen = []

    def stopped(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the signal arrives here
        except KeyboardInterrupt:
            seen.append("interrupted")
            raise

    monkeypatch.setattr(experiments, "run", stopped)
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["regenerate", "--profile", "ci", "--experiment", "intro_cnn"]) == 130
    assert seen == ["interrupted"] and "interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back
