"""The book's editions. English is the sources; every other language is the same sources read through
Sphinx's message catalogues (``locales/<language>/LC_MESSAGES/book/<chapter>.po``), so a translation
cannot drift into a second copy of the chapters: when the English text changes, ``make catalogues``
marks the changed messages fuzzy and the tests list them until a translator has done them again.

This module writes each edition's Jupyter Book configuration and table of contents, and checks the
catalogues: every message translated, and the markup that must come through a translation unchanged
(roles such as ``{cite}`` and ``{glue:text}``, inline code, math, link targets) left as it was."""
from __future__ import annotations

import argparse
import copy
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

from . import book, files

ENGLISH = "en"
LANGUAGES = book.EDITION_NAMES
TRANSLATIONS = ("fr",)
TITLES = {"fr": "Réseaux profonds pour la vision"}
AUTHORS = {"fr": "Les auteurs de coursekit"}
SEARCH = {"fr": "Rechercher dans ce livre..."}
# Pages that only a translation has (its glossary), listed after the chapters in its table of contents.
EXTRA_PAGES = {"fr": ["locales/fr/glossary"]}

# What a translation must keep exactly as the English has it, in any order.
MARKUP = {
    "role": re.compile(r"\{[\w:.-]+\}`[^`]*`"),                 # {cite}`key`, {glue:text}`name`, {doc}`x`
    "code": re.compile(r"`[^`]+`"),                             # `regression.AgeLoss` (roles taken out first)
    "math": re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S),         # $f(x)$, $$...$$
    "link target": re.compile(r"\]\(([^)]+)\)"),                # [text](target)
}


def locale_dir(root: Path) -> Path:
    return root / "locales"


def catalogue_paths(root: Path, language: str) -> dict[str, Path]:
    """{chapter: its catalogue} for every chapter of the table of contents."""
    folder = locale_dir(root) / language / "LC_MESSAGES"
    return {page.stem: folder / page.relative_to(root).with_suffix(".po") for page in book.chapters(root)}


def config(root: Path, language: str, extract: bool = False) -> dict:
    """The Jupyter Book configuration of one edition: ``_config.yml`` with the language, the catalogues
    and (for a translation) its own execution cache, since its computed sentences differ; ``extract``
    for extracting the messages (nothing executed)."""
    cfg = copy.deepcopy(book.load_config(root))
    sphinx = cfg.setdefault("sphinx", {}).setdefault("config", {})
    sphinx.update(language=language, locale_dirs=[str(locale_dir(root).resolve())], gettext_compact=False,
                  gettext_uuid=False, project=cfg["title"])
    if extract:
        cfg["execute"]["execute_notebooks"] = "off"
    if language != ENGLISH:
        cfg["title"], cfg["author"] = TITLES[language], AUTHORS[language]
        sphinx["nb_execution_cache_path"] = str((root / "_build" / f".jupyter_cache_{language}").resolve())
        # Merged into the theme options Jupyter Book makes from _config.yml (launch buttons, repository), not
        # in their place.
        sphinx["html_theme_options"] = {"search_bar_text": SEARCH[language]}
        cfg["sphinx"]["recursive_update"] = True
        cfg["sphinx"]["extra_extensions"] = [*cfg["sphinx"].get("extra_extensions", []), "coursekit.editions"]
    return cfg


def toc(root: Path, language: str) -> dict:
    """The table of contents of one edition: the English one, and the pages only a translation has."""
    toc = book.load_toc(root)
    toc["chapters"] = [c for c in toc["chapters"] if c["file"] != "book/bibliography"] + \
        [{"file": page} for page in EXTRA_PAGES.get(language, [])] + \
        [c for c in toc["chapters"] if c["file"] == "book/bibliography"]
    return toc


def write_edition(root: Path, language: str, out: Path, extract: bool = False) -> tuple[Path, Path]:
    """Write one edition's ``_config.yml`` and ``_toc.yml`` into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "_config.yml", out / "_toc.yml"
    for path, data in zip(paths, (config(root, language, extract), toc(root, language))):
        files.write_text(path, yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return paths


TITLED_ROLE = re.compile(r"(\{[\w:.-]+\}`)[^`<]*(<[^`>]+>`)")  # {doc}`the next chapter <classic>`


def _as_kept(markup: str) -> str:
    """What of a piece of markup must stay as it is: all of it, except a titled reference's title, which is
    text to translate (``{doc}`le chapitre suivant <classic>``` keeps ``{doc}`<classic>```)."""
    return TITLED_ROLE.sub(r"\1\2", markup)


def markup_problems(english: str, translation: str) -> list[str]:
    """What a translation lost or added of the markup that must stay as it is, in words; [] if none."""
    problems = []
    for kind, pattern in MARKUP.items():
        want, got = (Counter(_as_kept(m) for m in pattern.findall(text if kind == "role" else MARKUP["role"].sub("", text)))
                     for text in (english, translation))
        problems += [f"{kind} {m!r} is missing" for m in want - got]
        problems += [f"{kind} {m!r} is not in the English" for m in got - want]
    return problems


def catalogue_report(path: Path) -> dict[str, list[str]]:
    """A catalogue's messages that need a translator: untranslated, fuzzy, and those with markup
    problems ({kind: [message, ...]})."""
    import polib  # the book's tooling (requirements.txt), not coursekit's runtime

    po = polib.pofile(str(path))
    report = {"untranslated": [e.msgid for e in po.untranslated_entries()],
              "fuzzy": [e.msgid for e in po.fuzzy_entries()],
              "markup": [f"{e.msgid[:60]}...: {'; '.join(p)}" for e in po.translated_entries()
                         if (p := markup_problems(e.msgid, e.msgstr))]}
    return {kind: items for kind, items in report.items() if items}


def check(root: Path, language: str) -> dict[str, dict[str, list[str]]]:
    """{chapter: its report} for every chapter whose catalogue needs a translator (or is missing)."""
    reports = {}
    for chapter, path in catalogue_paths(root, language).items():
        report = catalogue_report(path) if path.exists() else {"missing": [str(path)]}
        if report:
            reports[chapter] = report
    return reports


# --- translated twins: the chapter's notebook with its Markdown read through the catalogue ----------

FENCE = re.compile(r"^(`{3,}|:{3,})(\{[\w:.-]+\})?\s*(.*)$")
LIST_ITEM = re.compile(r"^(\s*(?:[-*+]|\d+\.)\s+)(.*)$")
HEADING = re.compile(r"^(#{1,6}\s+)(.*)$")


def messages(path: Path) -> dict[str, str]:
    """{English message: its translation} for every translated, not fuzzy, message of a catalogue."""
    import polib  # the book's tooling (requirements.txt), not coursekit's runtime

    return {e.msgid: e.msgstr for e in polib.pofile(str(path)) if e.msgstr and "fuzzy" not in e.flags}


def translate_markdown(text: str, translations: dict[str, str]) -> tuple[str, list[str]]:
    """A MyST Markdown cell read through a catalogue, block by block as Sphinx cuts its messages: a
    paragraph (its lines joined), a heading, a list item, a table cell, a directive's title. Fences,
    directive options, targets, math blocks and blank lines are kept. Returns the text and the blocks
    that have no translation."""
    missing: list[str] = []

    def tr(message: str) -> str:
        message = message.strip()
        if not message:
            return message
        if message not in translations:
            missing.append(message)
            return message
        return translations[message]

    lines, out, i = text.split("\n"), [], 0

    def starts_block(line: str) -> bool:
        return (not line.strip() or FENCE.match(line) or HEADING.match(line) or LIST_ITEM.match(line)
                or line.lstrip().startswith(("|", "$$", ":")) or re.match(r"^\(.*\)=$", line.strip()))

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        fence, heading, item = FENCE.match(stripped), HEADING.match(line), LIST_ITEM.match(line)
        if not stripped or re.match(r"^\(.*\)=$", stripped) or (stripped.startswith(":") and not fence):
            out.append(line)  # blank lines, targets "(name)=", directive options ":label: x"
            i += 1
        elif fence and not fence.group(2) and fence.group(3):  # a literal block (```bash): kept as it is
            j = i + 1
            while j < len(lines) and lines[j].strip() != fence.group(1):
                j += 1
            out.extend(lines[i:j + 1])
            i = j + 1
        elif fence:
            title = fence.group(3)
            keep_title = not fence.group(2) or fence.group(2) in ("{solution}", "{code-cell}", "{bibliography}")
            out.append(line if not title or keep_title else line[:len(line) - len(title)] + tr(title))
            i += 1
        elif stripped.startswith("$$"):
            j = i + 1 if stripped == "$$" or not stripped.endswith("$$") or len(stripped) == 2 else i
            while j < len(lines) and (j == i or not lines[j].strip().endswith("$$")):
                j += 1
            out.extend(lines[i:j + 1])
            i = j + 1
        elif stripped.startswith("|"):
            cells = stripped.strip("|").split("|")
            if all(set(c.strip()) <= set("-: ") for c in cells):
                out.append(line)
            else:
                out.append("| " + " | ".join(tr(c) for c in cells) + " |")
            i += 1
        elif heading:
            out.append(heading.group(1) + tr(heading.group(2)))
            i += 1
        else:
            prefix, first = (item.group(1), item.group(2)) if item else ("", line)
            block, j = [first.strip()], i + 1
            while j < len(lines) and not starts_block(lines[j]):
                block.append(lines[j].strip())
                j += 1
            out.append(prefix + tr(" ".join(block)))
            i = j
    return "\n".join(out), missing


def make_translated_twin(root: Path, source: Path, language: str) -> tuple[str, list[str]]:
    """The twin of ``source`` in ``language`` (its Markdown through the chapter's catalogue, its code as it
    is, coursekit told to write in that language), and the blocks that have no translation."""
    translations = messages(catalogue_paths(root, language)[source.stem])
    missing: list[str] = []

    def translate(text: str) -> str:
        translated, lost = translate_markdown(text, translations)
        missing.extend(lost)
        return translated

    return book.make_twin(root, source, language=language, translate=translate), missing


def stale_translated_twins(root: Path, language: str) -> list[Path]:
    """The twins of ``language`` that are missing or differ from what the sources and catalogues make."""
    stale = []
    for source in book.notebook_chapters(root):
        path = book.twin_path(root, source, language)
        if not path.exists() or not book.same_twin(path.read_text(), make_translated_twin(root, source, language)[0],
                                                   pinned=book.code_commit(root) is not None):
            stale.append(path)
    return stale


def write_translated_twins(root: Path, language: str) -> list[Path]:
    """(Re)write the twins of ``language`` that changed; refuses while a chapter is not fully translated
    (its twin would mix the two languages)."""
    written = []
    for path in stale_translated_twins(root, language):
        source = root / book.BOOK_DIR / path.relative_to(root / book.TWINS_DIR / language).with_suffix(".md")
        text, missing = make_translated_twin(root, source, language)
        if missing:
            raise ValueError(f"{source.name} has {len(missing)} blocks without a {language} translation, the first: "
                             f"{missing[0][:80]!r}; run `make catalogues` and translate them first")
        files.write_text(path, text)
        written.append(path)
    return written


# --- the Sphinx extension of a translation -------------------------------------------------------------

def _glue_in_translations(parser_class: type) -> type:
    """myst-nb's parser, made to resolve ``{glue:text}`` and the other glue roles inside translated messages.

    Sphinx translates a paragraph by parsing its ``msgstr`` as a small document of its own, which myst-nb
    parses as plain Markdown: that document has no notebook, so a glue role in it finds no glue data
    ("No key ... found in glue data for this document"). While myst-nb parses the chapter itself, the
    document holds the notebook's renderer (``document["nb_renderer"]``, removed at the end of the parse):
    this parser keeps it for the rest of the chapter's reading and lends it to the documents of its
    translated messages."""

    class KeptRenderer(dict):
        """A document's attributes that keep the notebook renderer in ``env.temp_data`` when myst-nb
        removes it."""

        def __init__(self, attributes: dict, env) -> None:
            super().__init__(attributes)
            self.env = env

        def pop(self, key, *default):
            value = super().pop(key, *default)
            if key == "nb_renderer":
                self.env.temp_data["coursekit_nb_renderer"] = value
            return value

    class Parser(parser_class):
        def parse(self, inputstring: str, document) -> None:
            env = document.settings.env
            if document.current_source.endswith("<translated>"):
                if "coursekit_nb_renderer" in env.temp_data:
                    document["nb_renderer"] = env.temp_data["coursekit_nb_renderer"]
                super().parse(inputstring, document)
                document.attributes.pop("nb_renderer", None)
                return
            document.attributes = KeptRenderer(document.attributes, env)
            super().parse(inputstring, document)
            document.attributes = dict(document.attributes)

    return Parser


def setup(app) -> dict:
    """Sphinx extension of a translated edition (:func:`config` adds it): glue inside translated messages."""
    from myst_nb.sphinx_ import Parser

    app.add_source_parser(_glue_in_translations(Parser), override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.editions", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    write = sub.add_parser("write", help="write an edition's _config.yml and _toc.yml into a folder")
    write.add_argument("language", choices=sorted(LANGUAGES))
    write.add_argument("out", type=Path)
    write.add_argument("--extract", action="store_true", help="for extracting messages: execute nothing")
    checking = sub.add_parser("check", help="list, by chapter, the messages a translation still needs")
    checking.add_argument("language", choices=TRANSLATIONS)
    twins = sub.add_parser("twins", help="write a translation's Colab twins (notebooks/<language>/)")
    twins.add_argument("language", choices=TRANSLATIONS)
    args = parser.parse_args(argv)
    root = Path.cwd()
    if args.command == "write":
        for path in write_edition(root, args.language, args.out, args.extract):
            print(path)
        return 0
    if args.command == "twins":
        for path in write_translated_twins(root, args.language):
            print(f"wrote {path.relative_to(root)}")
        return 0
    reports = check(root, args.language)
    for chapter, report in reports.items():
        for kind, items in report.items():
            print(f"{chapter}: {len(items)} {kind}")
            for item in items[:5]:
                print(f"    {item[:160]}")
    print("every message translated" if not reports else f"{len(reports)} chapters need a translator")
    return 1 if reports else 0


if __name__ == "__main__":
    sys.exit(main())
