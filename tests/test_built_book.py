"""Checks of the built HTML (run by `make test` after the book build, with --built-book)."""
import ast
import html as html_module
import json
import re
from pathlib import Path

import polib
import pytest

from coursekit import book, editions

ROOT = Path(__file__).resolve().parents[1]


def test_every_chapter_page_links_to_its_colab_twin(built_book):
    for source in book.notebook_chapters(ROOT):
        page = built_book / source.relative_to(ROOT).with_suffix(".html")
        html = page.read_text()
        links = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)
        assert links, f"{page.name} has no Colab button"
        for link in links:
            rel = link.split("/blob/", 1)[1].split("/", 1)[1]  # after the branch
            assert rel.endswith(".ipynb"), link
            twin = ROOT / rel
            assert twin.is_file(), f"the Colab link {link} opens {rel}, which does not exist"
            assert json.loads(twin.read_text())["cells"][0]["metadata"]["tags"] == [book.INSTALL_TAG]


def test_intro_shows_figures_and_provenance(built_book):
    html = (built_book / "book" / "intro.html").read_text()
    assert html.count("<img") >= 4  # examples, augmentation, learning curves, confusion matrix
    assert "Run shown below:" in html and "profile quick" in html
    assert "wall time" in html and "CIFAR-10" in html
    assert "{glue:text}" not in html and "intro_accuracy" not in html  # every glued number was filled in
    for image in re.findall(r'<img[^>]+src="([^"]+)"', html):
        if not image.startswith(("http", "data:")):
            assert (built_book / "book" / image).resolve().is_file(), image


def test_citations_and_bibliography_render(built_book):
    html = (built_book / "book" / "intro.html").read_text()
    assert "Krizhevsky" in html and "bibliography.html#" in html
    bib = (built_book / "book" / "bibliography.html").read_text()
    assert "learning multiple layers of features from tiny images" in bib.lower()


def test_transfer_and_fewshot_pages_show_their_stored_runs(built_book):
    for name, experiments, images in [("transfer", ("transfer_decision", "transfer_targets"), 3),
                                      ("fewshot", ("fewshot_backbone", "fewshot_shots", "fewshot_episodes",
                                                   "fewshot_pseudo", "fewshot_mixing", "fewshot_ablation"), 3)]:
        html = (built_book / "book" / f"{name}.html").read_text()
        assert html.count("<img") >= images, name
        for experiment in experiments:
            assert f"{experiment} · profile quick" in html, f"{name}.html does not say which {experiment} run it shows"
        assert "{glue:text}" not in html and "<strong>Not run here" not in html, name  # a rendered note, not the code
    fewshot = (built_book / "book" / "fewshot.html").read_text()
    assert re.search(r"\d+\.\d % ± \d+\.\d", fewshot), "the few-shot tables show 95 % intervals"


def test_vit_page_shows_its_runs_and_says_what_only_full_runs(built_book):
    html = (built_book / "book" / "vit.html").read_text()
    for experiment in ("vs_lr_find", "vs_resnet20_1000", "vs_resnet20_3000", "vs_vit_1000", "vs_vit_3000",
                       "vs_vit_10000", "vs_vit_3000_strong"):
        assert f"{experiment} · profile quick" in html, experiment
    assert html.count("<img") >= 7 and "{glue:text}" not in html
    assert html.count("<strong>Not run in the") == 2  # the pretrained ViTs and the GPU memory measurement


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"#]+\.html)(?:#[^"]*)?"', html)


def plain_typography(text: str) -> str:
    """``text`` with Sphinx's smart quotes made straight and every run of spaces (no-break ones too) one space."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text.replace("\u2019", "'").replace("\u2018", "'"))


def page_text(path: Path) -> str:
    """A built page's text: its tags taken out, its typography made plain (:func:`plain_typography`)."""
    return plain_typography(html_module.unescape(re.sub(r"<[^>]+>", "", path.read_text())))


@pytest.mark.parametrize("language", editions.TRANSLATIONS)
def test_every_page_has_its_translation_one_link_away(built_book, language):
    for source in book.chapters(ROOT):
        rel = source.relative_to(ROOT).with_suffix(".html")
        english, translated = built_book / rel, built_book / language / rel
        assert translated.is_file(), f"the {language} edition has no {rel}"
        html = translated.read_text()
        assert f'lang="{language}"' in html, f"{language}/{rel} is not marked as {language}"
        assert "{glue:text}" not in html and "{cite}" not in html, f"{language}/{rel}: a role was not rendered"
        for page, other in ((english, translated), (translated, english)):
            targets = {(page.parent / link).resolve() for link in _links(page.read_text())}
            assert other.resolve() in targets, f"{page.relative_to(built_book)} does not link to its other edition"
        for image in re.findall(r'<img[^>]+src="([^"]+)"', html):
            if not image.startswith(("http", "data:")):
                assert (translated.parent / image).resolve().is_file(), f"{language}/{rel}: {image}"
        if "\\(" in english.read_text() or "\\[" in english.read_text():
            assert "\\(" in html or "\\[" in html, f"{language}/{rel} lost its math"
    for source in book.notebook_chapters(ROOT):  # its Colab button opens its own twin, in its language
        html = (built_book / language / source.relative_to(ROOT).with_suffix(".html")).read_text()
        links = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)
        assert links and all(f"/notebooks/{language}/{source.stem}.ipynb" in link for link in links), source.stem
        assert (ROOT / book.twin_path(ROOT, source, language)).is_file()
    glossary = built_book / language / "locales" / language / "glossary.html"
    assert glossary.is_file(), "the glossary is a page of the translation"


@pytest.mark.parametrize("language", editions.TRANSLATIONS)
def test_the_translation_shows_its_catalogues(built_book, language):
    """Each chapter's page shows the translated title and first paragraph, not the English."""
    for chapter, path in editions.catalogue_paths(ROOT, language).items():
        page = built_book / language / path.relative_to(ROOT / "locales" / language / "LC_MESSAGES")
        text = page_text(page.with_suffix(".html"))
        entries = [e for e in polib.pofile(str(path)) if e.msgstr and "{" not in e.msgid and "`" not in e.msgid]
        title = entries[0]
        assert plain_typography(title.msgstr) in text, f"{chapter}: {title.msgstr!r} not shown"




@pytest.mark.parametrize("language", editions.TRANSLATIONS)
def test_translated_paragraphs_show_the_values_the_chapter_computed(built_book, language):
    """A translated paragraph is parsed apart from its notebook: its {glue:text} roles must still show the
    value the chapter's run glued (the French edition's own, with French numbers), after the translated text."""
    plain = re.compile(r"^[^{}`*$\[\]]{25,}$")
    chapters = {source.stem for source in book.notebook_chapters(ROOT)}
    for chapter, path in editions.catalogue_paths(ROOT, language).items():
        glued = built_book.parent / language / "_build" / "jupyter_execute" / "book" / f"{chapter}.glue.json"
        if chapter not in chapters:
            continue  # a page without computed values (the bibliography)
        assert glued.is_file(), f"{chapter}: the {language} build kept no computed values ({glued})"
        values = {k: str(ast.literal_eval(v["data"]["text/plain"])) for k, v in json.loads(glued.read_text()).items()}
        text = page_text(built_book / language / "book" / f"{chapter}.html")
        checked = 0
        for entry in polib.pofile(str(path)):
            found = re.search(r"\{glue:text\}`([\w]+)`", entry.msgstr)
            if entry.obsolete or not entry.msgstr or not found or found.group(1) not in values:  # #~: not shown
                continue
            before = plain_typography(entry.msgstr[:found.start()])[-25:]
            if not plain.match(before):
                continue
            shown = plain_typography(before + values[found.group(1)])
            assert shown in text, f"{chapter}: {shown!r} not on its {language} page"
            checked += 1
        assert checked, f"{chapter}: no translated paragraph with a computed value was checked"
