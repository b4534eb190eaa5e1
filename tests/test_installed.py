"""coursekit as a student gets it: built as a wheel, installed (not editable) in a fresh environment, and
run from an empty folder, with no checkout and no ``results/`` beside it.

The environment is a new virtual environment with only the wheel installed in it; the packages coursekit
depends on (torch and the rest, gigabytes) are borrowed from the test's own environment by a path entry,
without that environment's editable install of coursekit. Every notebook twin then runs there under ``ci``
in a kernel of that environment, and the few-shot backbone is trained (at a tiny size) and stored under
``quick`` in the empty folder's ``results/``, as it is in Colab.
"""
from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a fresh environment in which the wheel of this checkout is installed."""
    import shutil

    tmp = tmp_path_factory.mktemp("installed")
    source, wheels = tmp / "source", tmp / "wheels"  # built from a copy: the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", str(source),
                    "-w", str(wheels)], check=True, cwd=tmp)
    env_dir = tmp / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    str(next(wheels.glob("coursekit-*.whl")))], check=True)
    # A plain path entry: the borrowed folder's own .pth files (the editable coursekit) are not processed.
    (purelib / "borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


def clean_environment() -> dict[str, str]:
    """This process's environment without PYTHONPATH: nothing may put a checkout's src/ before the wheel."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


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


def test_every_twin_runs_from_an_empty_folder(installed, tmp_path):
    """Each notebook of notebooks/ executed by a kernel of the fresh environment, in an empty folder, under ``ci``."""
    import nbformat
    from nbclient import NotebookClient

    spec = tmp_path / "jupyter" / "kernels" / "wheel"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(dict(
        argv=[str(installed), "-m", "ipykernel_launcher", "-f", "{connection_file}"], display_name="wheel",
        language="python")))
    os.environ["JUPYTER_PATH"] = str(tmp_path / "jupyter")
    work = tmp_path / "work"
    work.mkdir()
    twins = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert len(twins) >= 7
    failed = []
    for twin in twins:
        notebook = nbformat.read(twin, as_version=4)
        try:
            NotebookClient(notebook, timeout=600, kernel_name="wheel", resources={"metadata": {"path": str(work)}},
                           ).execute(env={**clean_environment(), "COURSEKIT_PROFILE": "ci", "COURSEKIT_PROGRESS": "0"})
        except Exception as error:  # collect every failing twin, not only the first
            failed.append(f"{twin.name}: {str(error)[-1500:]}")
    assert not failed, "\n\n".join(failed)
    assert sorted(p.name for p in work.iterdir()) in ([], ["results"])  # ci stores nothing: at most an empty folder
