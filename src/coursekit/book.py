"""The book's plumbing: its chapters, their Colab twins, and the Colab link on each page.

Chapters are MyST Markdown notebooks in ``book/`` (the source of truth). Colab opens only
``.ipynb``, so every chapter has a generated twin ``notebooks/<chapter>.ipynb``: the same cells
(converted by jupytext) after one first cell that installs coursekit when it runs in Colab and
does nothing elsewhere. The repository's URL is written once, in ``_config.yml``; the install
cell and the Colab links are derived from it, so a fork changes one line.

    python -m coursekit.book          # write the twins
    python -m coursekit.book --check  # fail if a twin is missing or out of date

As a Sphinx extension (``sphinx: extra_extensions: [coursekit.book]`` in ``_config.yml``), it
points each page's Colab button at that page's twin.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Callable

import yaml

from . import files
from .i18n import _, say

BOOK_DIR = "book"
TWINS_DIR = "notebooks"
INSTALL_TAG = "colab-install"


def load_config(root: Path) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text())


def repository(root: Path) -> tuple[str, str]:
    """The repository URL and branch that ``_config.yml`` names."""
    repo = load_config(root)["repository"]
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def load_toc(root: Path) -> dict:
    return yaml.safe_load((root / "_toc.yml").read_text())


def chapters(root: Path) -> list[Path]:
    """Every page listed in ``_toc.yml``, in order, as paths to their sources."""
    toc = load_toc(root)
    found: list[str] = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                found.append(entry["file"])
            for key in ("sections", "chapters"):
                walk(entry.get(key, []))
            for part in entry.get("parts", []):
                walk(part.get("chapters", []))

    walk(toc.get("chapters", []) + [c for p in toc.get("parts", []) for c in p.get("chapters", [])])
    paths = []
    for name in found:
        path = root / name
        if path.suffix == "":
            path = next((path.with_suffix(s) for s in (".md", ".ipynb") if path.with_suffix(s).exists()),
                        path.with_suffix(".md"))
        paths.append(path)
    return paths


def is_notebook(path: Path) -> bool:
    """Whether a MyST page is an executable notebook (its front matter names a kernel)."""
    text = path.read_text()
    if not text.startswith("---"):
        return False
    front = yaml.safe_load(text.split("---", 2)[1]) or {}
    return "kernelspec" in front


def notebook_chapters(root: Path) -> list[Path]:
    """The chapters that hold code: those run by nbval and given a Colab twin."""
    return [p for p in chapters(root) if p.suffix == ".md" and is_notebook(p)]


def twin_path(root: Path, source: Path, language: str = "en") -> Path:
    """``book/<name>.md`` -> ``notebooks/<name>.ipynb`` (a translation's: ``notebooks/<language>/<name>.ipynb``)."""
    folder = root / TWINS_DIR if language == "en" else root / TWINS_DIR / language
    return folder / source.relative_to(root / BOOK_DIR).with_suffix(".ipynb")


def install_cell(url: str, branch: str, commit: str | None = None, language: str = "en") -> str:
    """The twin's first cell: installs coursekit in Colab, does nothing elsewhere. With ``commit``, the
    install is pinned to it (the code the notebook and its stored results were made with, not whatever
    ``branch`` holds next year), and results made in Colab record it as their commit. A translation's
    twin also tells coursekit to write in its language (``COURSEKIT_LANG``), everywhere."""
    cell = (
        "# In Colab: install coursekit, the course's package, from the course repository, at the commit\n"
        "# this notebook was made from. Elsewhere this cell does nothing (`pip install -e .` in a clone).\n"
        "import os, subprocess, sys\n"
        "if \"google.colab\" in sys.modules:\n"
        f"    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"--quiet\",\n"
        f"                    \"coursekit @ git+{url}@{commit or branch}\"], check=True)"
    )
    if commit:
        cell += f"\n    os.environ[\"COURSEKIT_COMMIT\"] = \"{commit[:10]}\"  # the commit its results record"
    if language != "en":
        cell += f"\nos.environ[\"COURSEKIT_LANG\"] = \"{language}\"  # coursekit's sentences and figures in {language}"
    return cell


def code_commit(root: Path) -> str | None:
    """The last commit that changed coursekit's code (``src/``, ``pyproject.toml``): what a twin pins its
    install to. None outside a full git checkout (a shallow clone cannot tell)."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout.strip()

    try:
        if not (root / ".git").exists() or git("rev-parse", "--is-shallow-repository") == "true":
            return None
        return git("log", "-1", "--format=%H", "--", "src", "pyproject.toml") or None
    except (OSError, subprocess.CalledProcessError):
        return None


def make_twin(root: Path, source: Path, language: str = "en", translate: Callable[[str], str] | None = None) -> str:
    """The text of ``source``'s Colab twin (an .ipynb), generated from the MyST source; a translation's
    (:mod:`coursekit.editions`) with its Markdown cells through ``translate``."""
    import jupytext
    import nbformat

    notebook = jupytext.read(source, fmt="md:myst")
    for cell in notebook.cells:
        if translate is not None and cell.cell_type == "markdown":
            cell.source = translate(cell.source)
    url, branch = repository(root)
    cell = install_cell(url, branch, code_commit(root), language)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(cell, metadata={"tags": [INSTALL_TAG]}))
    for i, cell in enumerate(notebook.cells):  # stable ids, so that an unchanged source gives the same twin
        cell.id = INSTALL_TAG if i == 0 else hashlib.sha1(f"{i}:{cell.source}".encode()).hexdigest()[:8]
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["colab"] = {"provenance": [], "name": source.with_suffix(".ipynb").name}
    notebook.metadata["accelerator"] = "GPU"
    return jupytext.writes(notebook, fmt="ipynb")


def _unpinned(text: str) -> str:
    """A twin without its install cell, which pins a commit (for checkouts that cannot tell it)."""
    import json

    notebook = json.loads(text)
    return json.dumps(dict(notebook, cells=notebook["cells"][1:]), sort_keys=True)


def stale_twins(root: Path) -> list[Path]:
    """Twins that are missing or differ from what their sources generate (where the checkout cannot
    tell the commit the twins pin, a shallow clone, their install cells are not compared)."""
    pinned = code_commit(root) is not None
    stale = []
    for source in notebook_chapters(root):
        path = twin_path(root, source)
        if not path.exists():
            stale.append(path)
            continue
        if not same_twin(path.read_text(), make_twin(root, source), pinned):
            stale.append(path)
    return stale


def same_twin(have: str, want: str, pinned: bool) -> bool:
    """Whether a twin on disk is the one its source makes (without the install cell where the checkout
    cannot tell the commit it pins)."""
    return have == want if pinned else _unpinned(have) == _unpinned(want)


def write_twins(root: Path) -> list[Path]:
    """(Re)write every twin whose content changed; returns the paths written."""
    written = []
    for path in stale_twins(root):
        source = root / BOOK_DIR / path.relative_to(root / TWINS_DIR).with_suffix(".md")
        files.write_text(path, make_twin(root, source))
        written.append(path)
    return written


def colab_url(root: Path, source: Path, language: str = "en") -> str:
    """The Colab address that opens ``source``'s twin (in ``language``) from the repository."""
    url, branch = repository(root)
    github = "https://github.com/"
    if not url.startswith(github):
        raise ValueError(f"Colab opens notebooks from GitHub only; repository.url is {url}")
    rel = twin_path(root, source, language).relative_to(root).as_posix()
    return f"https://colab.research.google.com/github/{url[len(github):]}/blob/{branch}/{rel}"


# --- helpers for chapters ---------------------------------------------------------------------

def glue(name: str, value, display: bool = False) -> None:
    """Make ``value`` available to the text as ``{glue:text}`name``` (myst-nb), where myst-nb is
    installed (the book build); in Colab or a plain kernel it does nothing."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=display)


def glue_facts(facts: dict[str, str]) -> None:
    """Glue every reading a ``facts`` function returned, each under its own name, for the text to use
    as ``{glue:text}`name```."""
    for name, value in facts.items():
        glue(name, value)


def provenance_html(*results: dict | None) -> str:
    """The HTML of :func:`provenance_note`: a collapsed ``<details class="provenance">`` whose summary names
    the run(s) in a few words and whose body lists each run's :func:`coursekit.store.provenance_line`.
    Results that are None (not stored under this profile) are left out; with none left, ``""``."""
    import html

    from .store import provenance_line

    shown = [r for r in results if r is not None]
    if not shown:
        return ""
    profiles = ", ".join(dict.fromkeys(r["profile"] for r in shown))
    dates = sorted({r["provenance"]["date"][:10] for r in shown})
    when = dates[0] if len(dates) == 1 else say("{first} to {last}", first=dates[0], last=dates[-1])
    if len(shown) == 1:
        summary = say("Run: {experiment} · profile {profiles} · {when}", experiment=shown[0]["experiment"],
                      profiles=profiles, when=when)
    elif "," in profiles:
        summary = say("Runs: {n} experiments · profiles {profiles} · {when}", n=len(shown), profiles=profiles, when=when)
    else:
        summary = say("Runs: {n} experiments · profile {profiles} · {when}", n=len(shown), profiles=profiles, when=when)
    items = "".join(f"<li>{html.escape(provenance_line(r))}</li>" for r in shown)
    return f'<details class="provenance"><summary>{html.escape(summary)}</summary><ul>{items}</ul></details>'


def provenance_note(*results: dict | None) -> None:
    """Show, under the figure or table above, which run(s) it draws: a collapsed note (HTML ``<details>``,
    rendered by the built book and by Jupyter and Colab alike) that opens on one provenance line per
    run (profile, hardware, date, wall time, versions, data). Results that are None are left out, and
    with none left nothing is shown."""
    from IPython.display import HTML, display

    note = provenance_html(*results)
    if note:
        display(HTML(note))


def rule_html(*rules: str) -> str:
    """The HTML of :func:`rule_note`: a collapsed ``<details class="rule">`` with one paragraph per rule."""
    import html

    paragraphs = "".join(f"<p>{html.escape(rule)}</p>" for rule in rules)
    summary = _("How this verdict is decided") if len(rules) == 1 else _("How these verdicts are decided")
    return f'<details class="rule"><summary>{summary}</summary>{paragraphs}</details>'


def rule_note(*rules: str) -> None:
    """Show, beside a computed verdict, the rule that decided it (``stats.clear_rule()``,
    ``diagnostics.fit_rule()``, ...): a collapsed note, as :func:`provenance_note` is, that the reader opens."""
    from IPython.display import HTML, display

    display(HTML(rule_html(*rules)))


# --- Sphinx extension --------------------------------------------------------------------------

def _point_colab_at_twin(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    root = Path(app.srcdir)
    source = Path(app.env.doc2path(pagename))
    language = app.config.language or "en"
    if source.suffix != ".md" or not source.is_relative_to(root / BOOK_DIR) or \
            not twin_path(root, source, language).exists():
        return
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if isinstance(group, dict) else []:
            if button.get("text") == "Colab":
                button["url"] = colab_url(root, source, language)


# The editions (coursekit.editions): English at the site's root, each translation in a folder of its name.
EDITION_NAMES = {"en": "English", "fr": "Français"}


def other_edition_url(pagename: str, language: str, other: str, pages: set[str], root_page: str) -> str:
    """The relative address, from page ``pagename`` of the ``language`` edition, of the same page in the
    ``other`` edition (its root page where the other edition lacks it). English lives at the site's root,
    a translation in ``<language>/``; ``pages`` are the pages both editions have."""
    depth = pagename.count("/") + (language != "en")
    target = pagename if pagename in pages else root_page
    return "../" * depth + ("" if other == "en" else f"{other}/") + target + ".html"


def _link_other_editions(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    language = app.config.language or "en"
    root = Path(app.srcdir)
    pages = {path.relative_to(root).with_suffix("").as_posix() for path in chapters(root)}
    root_page = load_toc(root)["root"]
    for other, name in EDITION_NAMES.items():
        if other != language:
            context.setdefault("header_buttons", []).append({
                "type": "link", "url": other_edition_url(pagename, language, other, pages, root_page),
                "text": name, "tooltip": name, "icon": "fas fa-language", "label": f"edition-{other}"})


def setup(app) -> dict:
    # Runs after sphinx-book-theme (priority 501) has built the launch buttons.
    app.connect("html-page-context", _point_colab_at_twin, priority=502)
    app.connect("html-page-context", _link_other_editions, priority=503)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.book", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=".", help="the repository root (holds _config.yml)")
    parser.add_argument("--check", action="store_true", help="only report missing or stale twins")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if args.check:
        stale = stale_twins(root)
        for path in stale:
            print(f"stale or missing twin: {path.relative_to(root)} (run `make twins`)", file=sys.stderr)
        return 1 if stale else 0
    for path in write_twins(root):
        print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
