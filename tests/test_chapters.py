"""Every chapter with code in _toc.yml, executed once by nbval (profile ci), as a student runs it: its Colab
twin, generated now from the chapter's source (:func:`coursekit.book.make_twin`), run by a kernel of a fresh
environment that has only the wheel of this checkout installed (the ``installed`` fixture of conftest.py),
from an empty folder, with no checkout and no ``results/`` beside it.

One run per chapter covers both: the chapter executes under nbval, and the installed package runs it without
the source tree. That the committed twins in ``notebooks/`` hold exactly these cells is checked by
tests/test_book.py. A chapter added to the table of contents is tested here with no further edit.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from conftest import clean_environment
from coursekit import book

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = book.notebook_chapters(ROOT)


def test_the_table_of_contents_has_chapters_to_run():
    assert ROOT / "book" / "intro.md" in CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_runs_under_nbval_from_the_wheel(chapter: Path, installed: Path, tmp_path: Path):
    work = tmp_path / "work"  # the kernel's working folder: the notebook's own, with nothing else in it
    work.mkdir()
    notebook = work / chapter.with_suffix(".ipynb").name
    notebook.write_text(book.make_twin(ROOT, chapter))
    env = {**clean_environment(), "COURSEKIT_PROFILE": "ci", "COURSEKIT_PROGRESS": "0"}
    env.pop("COURSEKIT_RESULTS", None)  # the wheel's default: ./results of the empty folder
    tick = time.perf_counter()
    run = subprocess.run(
        [str(installed), "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
         "-q", "--rootdir", str(work), str(notebook)],
        cwd=work, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - tick
    print(f"{chapter.name}: {seconds:.1f} s under nbval (profile ci, from the wheel)")
    assert run.returncode == 0, f"{chapter.name} failed under nbval:\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    left = sorted(p.name for p in work.iterdir() if p != notebook)
    assert left in ([], ["results"]) and not any((work / "results").glob("*")), f"the ci profile stored {left}"
