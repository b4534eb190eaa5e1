"""coursekit as a student gets it: built as a wheel, installed (not editable) in a fresh environment, and
run from an empty folder, with no checkout and no ``results/`` beside it.

The environment (the ``installed`` fixture of conftest.py, built once per session) is a new virtual
environment with only the wheel installed in it; the packages coursekit depends on are borrowed from the
test's own environment by a path entry, without that environment's editable install of coursekit. Every
chapter runs there once, under nbval, in tests/test_chapters.py; here, that it is the wheel that runs, and
that the few-shot backbone is trained (at a tiny size) and stored under ``quick`` in the empty folder's
``results/``, as it is in Colab.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import ROOT, clean_environment


def run_in(python: Path, cwd: Path, code: str, **env: str) -> str:
    result = subprocess.run([str(python), "-c", code], cwd=cwd, capture_output=True, text=True,
                            env={**clean_environment(), **env}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_wheel_is_what_runs_and_it_has_no_checkout(installed, tmp_path):
    out = run_in(installed, tmp_path, "import coursekit, coursekit.store as s; print(coursekit.__file__); "
                                      "print(s.repository_root()); print(s.results_dir())")
    package, root, results = out.split("\n")[:3]
    assert "site-packages" in package and str(ROOT) not in package
    assert root == "None" and results == str(tmp_path / "results")


def test_the_fewshot_backbone_is_stored_under_quick_in_an_empty_folder(installed, tmp_path):
    code = (
        "from coursekit import experiments\n"
        "spec = experiments.get('fewshot_backbone')\n"
        "spec.sizes['quick'].update(train_per_class=10, test_per_class=5, epochs=1, batch_size=25)\n"
        "result = experiments.run('fewshot_backbone', 'quick')\n"
        "print(result['network']['file'])\n")
    run_in(installed, tmp_path, code, COURSEKIT_PROFILE="quick", COURSEKIT_PROGRESS="0")
    stored = json.loads((tmp_path / "results" / "fewshot_backbone.quick.json").read_text())
    assert (tmp_path / "results" / "fewshot_backbone.quick.pt").is_file()
    assert stored["profile"] == "quick" and stored["config"]["epochs"] == 1

