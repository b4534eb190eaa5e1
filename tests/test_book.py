"""The book's sources: table of contents, Colab twins, the one repository URL, citations."""
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from coursekit import book, tables

ROOT = Path(__file__).resolve().parents[1]


def test_every_toc_entry_exists():
    for page in book.chapters(ROOT):
        assert page.is_file(), f"_toc.yml lists {page}, which does not exist"


PIN = re.compile(r'"coursekit @ git\+\S+@(?P<commit>[0-9a-f]{40})"')


def pinned_commit(twin_text: str) -> str | None:
    """The commit a twin's install cell pins, or None."""
    first = "".join(json.loads(twin_text)["cells"][0]["source"])
    found = PIN.search(first)
    return found["commit"] if found else None


def test_every_chapter_has_an_up_to_date_colab_twin(monkeypatch):
    """A twin is, byte for byte, what coursekit.book generates from its chapter's source now, pinned to the
    commit the twin pins: its cells, their ids and the notebook's metadata, and an install cell made from
    _config.yml. Which commit it pins is not compared (test_twins_pin_a_commit_of_this_repository checks
    it): a twin made before the last commit to src/ still installs the code it was made with, so a commit
    to the package alone does not make every twin stale."""
    stale = []
    for source in book.notebook_chapters(ROOT):
        path = book.twin_path(ROOT, source)
        if not path.is_file():
            stale.append(f"{path.relative_to(ROOT)} (missing)")
            continue
        have = path.read_text()
        commit = pinned_commit(have)
        if commit is None:
            stale.append(f"{path.relative_to(ROOT)} (its install cell pins no commit)")
            continue
        monkeypatch.setattr(book, "code_commit", lambda root, commit=commit: commit)
        if have != book.make_twin(ROOT, source):
            stale.append(f"{path.relative_to(ROOT)} (not what {source.relative_to(ROOT)} generates)")
    assert not stale, f"missing or stale twins (run `make twins`): {stale}"


def test_twins_pin_a_commit_of_this_repository():
    """The commit a twin installs in Colab is one of this repository's history (HEAD or before it), so that
    it exists once pushed; where the checkout cannot tell (no git, a shallow clone), its form is checked."""
    import subprocess

    commits = {pinned_commit(book.twin_path(ROOT, s).read_text()) for s in book.notebook_chapters(ROOT)}
    assert commits and None not in commits, "every twin pins a commit"
    if book.code_commit(ROOT) is None:  # test_twin_starts_with_the_colab_install_cell still checks their form
        pytest.skip("no git history here (not a checkout, or a shallow clone) to look the pinned commits up in")
    for commit in commits:
        found = subprocess.run(["git", "-C", str(ROOT), "merge-base", "--is-ancestor", commit, "HEAD"],
                               capture_output=True, text=True)
        assert found.returncode == 0, f"the twins pin {commit}, which is not HEAD or a commit before it"


def test_twin_starts_with_the_colab_install_cell_derived_from_the_config():
    url, branch = book.repository(ROOT)
    for source in book.notebook_chapters(ROOT):
        text = book.twin_path(ROOT, source).read_text()
        twin = json.loads(text)
        first = "".join(twin["cells"][0]["source"])
        assert twin["cells"][0]["cell_type"] == "code"
        assert re.search(rf"coursekit @ git\+{re.escape(url)}@[0-9a-f]{{40}}\"", first), "the install is pinned"
        commit = pinned_commit(text)
        assert f'os.environ["COURSEKIT_COMMIT"] = "{commit[:10]}"' in first  # results made in Colab record it
        assert 'if "google.colab" in sys.modules:' in first
        # the rest is the chapter itself
        code = ["".join(c["source"]) for c in twin["cells"][1:] if c["cell_type"] == "code"]
        assert code and "profiles.banner()" in "\n".join(code)


def test_the_install_cell_installs_in_colab_only(monkeypatch):
    import subprocess
    import sys
    import types

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kwargs: calls.append(args))
    cell = book.install_cell("https://github.com/example/fork", "dev")
    exec(cell, {})
    assert calls == []  # outside Colab: nothing happens
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    exec(cell, {})
    assert len(calls) == 1 and calls[0][1:4] == ["-m", "pip", "install"]
    assert calls[0][-1] == "coursekit @ git+https://github.com/example/fork@dev"
    pinned = book.install_cell("https://github.com/example/fork", "dev", "0123456789abcdef" * 2 + "01234567")
    monkeypatch.delenv("COURSEKIT_COMMIT", raising=False)
    exec(pinned, {})
    assert calls[-1][-1].endswith("@0123456789abcdef0123456789abcdef01234567")
    assert os.environ["COURSEKIT_COMMIT"] == "0123456789"  # results made in Colab record the commit
    del os.environ["COURSEKIT_COMMIT"]


def test_twins_pin_the_last_commit_that_changed_the_package():
    import subprocess

    commit = book.code_commit(ROOT)
    if commit is None:
        return  # a shallow clone cannot tell; the twins' other cells are still compared
    last = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%H", "--", "src", "pyproject.toml"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert commit == last


def test_a_fork_changes_one_line(tmp_path):
    import shutil

    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book")
    config = (tmp_path / "_config.yml").read_text()
    url = yaml.safe_load(config)["repository"]["url"]
    (tmp_path / "_config.yml").write_text(config.replace(url, "https://github.com/someone/fork"))
    assert len(book.write_twins(tmp_path)) == len(book.notebook_chapters(ROOT))
    twin = (tmp_path / "notebooks" / "intro.ipynb").read_text()
    assert "git+https://github.com/someone/fork@main" in twin and url not in twin
    assert book.colab_url(tmp_path, tmp_path / "book" / "intro.md") == (
        "https://colab.research.google.com/github/someone/fork/blob/main/notebooks/intro.ipynb")


def test_the_repository_url_is_written_once():
    url, _ = book.repository(ROOT)
    tracked = [p for p in ROOT.rglob("*") if p.is_file() and p.suffix in (".md", ".py", ".yml", ".toml", ".txt")
               and not {"_build", ".venv", "notebooks", ".git"} & set(p.relative_to(ROOT).parts)]
    holders = [p.relative_to(ROOT).as_posix() for p in tracked if url in p.read_text(errors="ignore")]
    assert holders == ["_config.yml"], holders


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), re.M))
    for page in book.chapters(ROOT):
        for cited in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text()):
            for key in cited.split(","):
                assert key.strip() in keys, f"{page.name} cites {key} which references.bib lacks"


def test_markdown_table():
    assert tables.markdown_table(["a", "b"], [[1, 2]]) == "| a | b |\n|---|---|\n| 1 | 2 |"


CODE_WIDTH = 76  # characters of code that fit the text column at a 1,280-pixel window without scrolling
CODE_FENCE = re.compile(r"^(`{3,})(\{code-cell\}|python|bash|sh|console|text)(?=\s|$)")


def code_lines(text: str):
    """(line number, line) of every line of code in a chapter: code cells and fenced code blocks, also those
    inside exercises and solutions (whose own fences hold prose)."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        if fence is None:
            match = CODE_FENCE.match(line)
            fence = match.group(1) if match else None
        elif line.strip() == fence:
            fence = None
        elif not line.startswith(":tags:"):
            yield number, line


def test_code_lines_find_cells_and_blocks_inside_directives():
    text = "prose\n```{code-cell} ipython3\nx = 1\n```\n````{exercise}\nprose\n```python\ny = 2\n```\n````\n"
    assert list(code_lines(text)) == [(3, "x = 1"), (8, "y = 2")]


def test_chapter_code_fits_the_text_column():
    wide = [f"{p.relative_to(ROOT)}:{n} ({len(line)} characters)" for p in sorted((ROOT / "book").glob("*.md"))
            for n, line in code_lines(p.read_text()) if len(line) > CODE_WIDTH]
    assert not wide, f"code lines wider than {CODE_WIDTH} characters (the reader would scroll sideways): {wide}"


def test_importing_coursekit_does_not_import_timm():
    """timm's hub client imports tqdm.auto, which prints a warning into a notebook without widgets: imported
    with the package, it would put that warning into every chapter's first cell (an error of the book's build)."""
    import subprocess
    import sys

    code = "import sys, coursekit.experiments, coursekit.book, coursekit.figures; print('timm' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
