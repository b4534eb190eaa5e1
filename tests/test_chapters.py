"""Every chapter with code in _toc.yml, converted by jupytext and executed by nbval (profile ci).

A chapter added to the table of contents is tested here with no further edit.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import pytest

from coursekit import book

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = book.notebook_chapters(ROOT)


def test_the_table_of_contents_has_chapters_to_run():
    assert ROOT / "book" / "intro.md" in CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_runs_under_nbval(chapter: Path, tmp_path: Path):
    notebook = tmp_path / chapter.with_suffix(".ipynb").name
    jupytext.write(jupytext.read(chapter), notebook, fmt="ipynb")
    env = dict(os.environ, COURSEKIT_PROFILE="ci", COURSEKIT_PROGRESS="0",
               COURSEKIT_RESULTS=str(tmp_path / "results"))
    tick = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
         "-q", "--rootdir", str(tmp_path), str(notebook)],
        cwd=chapter.parent, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - tick
    print(f"{chapter.name}: {seconds:.1f} s under nbval (profile ci)")
    assert run.returncode == 0, f"{chapter.name} failed under nbval:\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    assert not (tmp_path / "results").exists(), "the ci profile must not store results"
