"""The book's editions (coursekit.editions): each translation's configuration, its catalogues checked
against messages extracted afresh from the English sources, and the links between the editions."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from coursekit import book, editions

ROOT = Path(__file__).resolve().parents[1]


def test_markup_that_must_survive_a_translation_is_checked():
    english = "See {cite}`he2016deep` and `train.fit`, with $f(x)$ and [the code](../src/x.py)."
    good = "Voir {cite}`he2016deep` et `train.fit`, avec $f(x)$ et [le code](../src/x.py)."
    assert editions.markup_problems(english, good) == []
    bad = "Voir {cite}`he2016` et `train.fit`, avec $g(x)$ et [le code](x.py)."
    problems = editions.markup_problems(english, bad)
    assert any("role '{cite}`he2016deep`' is missing" in p for p in problems)
    assert any("math '$f(x)$' is missing" in p for p in problems)
    assert any("link target '../src/x.py' is missing" in p for p in problems)
    assert not any("train.fit" in p for p in problems)
    # A reference's title is text to translate; its target is not.
    assert editions.markup_problems("the {doc}`next chapter <classic>`", "le {doc}`chapitre suivant <classic>`") == []
    assert editions.markup_problems("the {doc}`next chapter <classic>`", "le {doc}`chapitre suivant <vit>`")
    # A role's target is never read as inline code, whatever follows it.
    assert editions.markup_problems("{glue:text}`a` and `b`", "`b` et {glue:text}`a`") == []


def test_a_catalogue_report_lists_untranslated_fuzzy_and_broken_messages(tmp_path):
    po = polib.POFile()
    po.append(polib.POEntry(msgid="Done {cite}`x`", msgstr="Fait {cite}`x`"))
    po.append(polib.POEntry(msgid="Not yet", msgstr=""))
    po.append(polib.POEntry(msgid="Changed", msgstr="Changé", flags=["fuzzy"]))
    po.append(polib.POEntry(msgid="Broken $x$", msgstr="Cassé"))
    path = tmp_path / "chapter.po"
    po.save(str(path))
    report = editions.catalogue_report(path)
    assert report["untranslated"] == ["Not yet"] and report["fuzzy"] == ["Changed"]
    assert len(report["markup"]) == 1 and "$x$" in report["markup"][0]


def test_each_translation_has_its_language_catalogues_cache_and_glossary():
    cfg = editions.config(ROOT, "fr")
    sphinx = cfg["sphinx"]["config"]
    assert sphinx["language"] == "fr" and Path(sphinx["locale_dirs"][0]) == (ROOT / "locales").resolve()
    assert sphinx["gettext_compact"] is False
    # Its computed sentences differ from the English ones: it must not reuse the English outputs.
    assert sphinx["nb_execution_cache_path"].endswith(".jupyter_cache_fr")
    assert cfg["title"] != book.load_config(ROOT)["title"]
    # glue roles inside translated messages (coursekit.editions.setup), and theme options merged into
    # Jupyter Book's (its launch buttons kept), not put in their place
    assert "coursekit.editions" in cfg["sphinx"]["extra_extensions"] and cfg["sphinx"]["recursive_update"] is True
    assert cfg["launch_buttons"] == book.load_config(ROOT)["launch_buttons"]
    assert editions.config(ROOT, "fr", extract=True)["execute"]["execute_notebooks"] == "off"
    files = [c["file"] for c in editions.toc(ROOT, "fr")["chapters"]]
    english = [c["file"] for c in book.load_toc(ROOT)["chapters"]]
    assert [f for f in files if f in english] == english  # every English page, in the same order
    assert files[-2:] == ["locales/fr/glossary", "book/bibliography"]
    assert (ROOT / "locales" / "fr" / "glossary.md").is_file()


def test_the_other_edition_is_one_link_away():
    pages = {"book/intro", "book/ages"}
    assert book.other_edition_url("book/ages", "en", "fr", pages, "book/intro") == "../fr/book/ages.html"
    assert book.other_edition_url("book/ages", "fr", "en", pages, "book/intro") == "../../book/ages.html"
    # A page only the translation has (its glossary) leads to the other edition's first page.
    assert book.other_edition_url("locales/fr/glossary", "fr", "en", pages, "book/intro") == \
        "../../../book/intro.html"


@pytest.fixture(scope="module")
def fresh_messages(tmp_path_factory) -> Path:
    """The English chapters' messages, extracted now by Sphinx (nothing executed)."""
    out = tmp_path_factory.mktemp("gettext")
    config, toc = editions.write_edition(ROOT, "en", out, extract=True)
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    subprocess.run([jupyter_book, "build", str(ROOT), "--config", str(config), "--toc", str(toc),
                    "--path-output", str(out), "--builder", "custom", "--custom-builder", "gettext", "-qq"],
                   check=True, capture_output=True)
    return out / "_build" / "gettext"


@pytest.mark.parametrize("language", editions.TRANSLATIONS)
def test_every_message_of_every_chapter_is_translated(fresh_messages, language):
    """Against the English as it is now: a paragraph changed without `make catalogues` fails here too."""
    missing = {}
    for chapter, path in editions.catalogue_paths(ROOT, language).items():
        template = fresh_messages / path.relative_to(ROOT / "locales" / language / "LC_MESSAGES").with_suffix(".pot")
        wanted = [e.msgid for e in polib.pofile(str(template)) if e.msgid]
        po = polib.pofile(str(path)) if path.exists() else polib.POFile()
        done = {e.msgid: e for e in po if e.msgstr and "fuzzy" not in e.flags}
        todo = [m for m in wanted if m not in done]
        todo += [f"{m[:60]}: {'; '.join(p)}" for m in wanted if m in done
                 if (p := editions.markup_problems(m, done[m].msgstr))]
        if todo:
            missing[chapter] = todo
    assert not missing, "run `make catalogues` and translate, by chapter:\n" + "\n".join(
        f"{chapter}: {len(items)} messages, first: {items[0][:100]!r}" for chapter, items in missing.items())


def test_markdown_is_translated_block_by_block_as_sphinx_cuts_messages():
    text = "\n".join([
        "# A title", "", "A paragraph on", "two lines with {cite}`x`.", "", "- an item", "  that goes on", "- another",
        "", "| head | MAE |", "|---|---|", "| L1 | {glue:text}`a` |", "", "````{admonition} Careful", ":class: tip", "",
        "Inside.", "````", "", "```bash", "make book", "```", "", "$$", "f(x)", "$$", "", "(target)=", "Untranslated."])
    translations = {"A title": "Un titre", "A paragraph on two lines with {cite}`x`.": "Un paragraphe avec {cite}`x`.",
                    "an item that goes on": "un élément qui continue", "another": "un autre", "head": "tête",
                    "MAE": "MAE", "L1": "L1", "{glue:text}`a`": "{glue:text}`a`", "Careful": "Attention",
                    "Inside.": "Dedans."}
    out, missing = editions.translate_markdown(text, translations)
    assert out.split("\n")[:6] == ["# Un titre", "", "Un paragraphe avec {cite}`x`.", "", "- un élément qui continue",
                                   "- un autre"]
    assert "| tête | MAE |" in out and "|---|---|" in out and "````{admonition} Attention" in out
    assert ":class: tip" in out and "Dedans." in out and "make book" in out and "f(x)" in out and "(target)=" in out
    assert missing == ["Untranslated."] and out.endswith("Untranslated.")  # left in English, and reported


@pytest.mark.parametrize("language", editions.TRANSLATIONS)
def test_the_translated_twins_are_up_to_date_with_the_same_code(language):
    pinned = book.code_commit(ROOT) is not None
    for source in book.notebook_chapters(ROOT):
        path = book.twin_path(ROOT, source, language)
        want, missing = editions.make_translated_twin(ROOT, source, language)
        assert missing == [], f"{source.stem}: blocks without a translation, the first: {missing[0][:80]!r}"
        assert path.exists() and book.same_twin(path.read_text(), want, pinned), f"{path.name}: run `make twins`"
        english = json.loads(book.twin_path(ROOT, source).read_text())["cells"]
        translated = json.loads(path.read_text())["cells"]
        code = [["".join(c["source"]) for c in cells[1:] if c["cell_type"] == "code"] for cells in (english, translated)]
        assert code[0] == code[1], f"{source.stem}: the {language} twin's code differs from the English"
        assert f'os.environ["COURSEKIT_LANG"] = "{language}"' in "".join(translated[0]["source"])
        prose = [c for c in translated if c["cell_type"] == "markdown"]
        assert "".join(prose[0]["source"]) != "".join(next(c for c in english if c["cell_type"] == "markdown")["source"])
