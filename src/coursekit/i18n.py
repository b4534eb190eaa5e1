"""The language of coursekit's words: the sentences its readings compute, the headers of its tables, the
titles and labels of its figures. English is written in the code; a translation comes from one gettext
domain, ``coursekit``, whose catalogue for a language is the ``.po`` files of
``coursekit/locales/<language>/LC_MESSAGES/coursekit/`` (one per module, for the translators), read
together. The language is ``COURSEKIT_LANG`` (``en`` when unset); the French book sets it to ``fr``.

    from .i18n import _, say
    _("test accuracy (%)")                               # a plain message
    say("{d:.1f} points better", d=2.345)                # "2.3 points better" / "2,3 points de mieux"

``say`` formats numbers as the language writes them: in French a decimal comma and a narrow no-break
space between thousands ("1 000,5"); the template itself (``" %"`` or ``" %"`` with a narrow space)
comes from the catalogue. ``python -m coursekit.i18n`` (run by ``make catalogues``) extracts the messages
of every module with Babel (keywords ``_``, ``say`` and ``plural``) and updates each language's ``.po``
files: a changed message comes back fuzzy (and shows in English until it is translated again)."""
from __future__ import annotations

import gettext
import io
import os
import re
import string
from functools import lru_cache
from pathlib import Path

ENGLISH = "en"
DOMAIN = "coursekit"
LOCALES = Path(__file__).parent / "locales"
NARROW_NBSP = "\u202f"
# How each language writes a number: its decimal mark and the separator between groups of thousands.
NUMBER_MARKS = {"en": (".", ","), "fr": (",", NARROW_NBSP)}


def language() -> str:
    """The language coursekit writes in: ``COURSEKIT_LANG``, English when unset."""
    return os.environ.get("COURSEKIT_LANG", "").strip() or ENGLISH


def catalogue_files(lang: str) -> list[Path]:
    """The ``.po`` files of the ``coursekit`` domain for ``lang`` (none for English, the source)."""
    return sorted((LOCALES / lang / "LC_MESSAGES" / DOMAIN).glob("*.po"))


@lru_cache(maxsize=None)
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang``, its files merged and compiled in memory (Babel reads and compiles them).
    English, or a language without files, translates nothing."""
    files = catalogue_files(lang)
    if lang == ENGLISH or not files:
        if lang != ENGLISH:
            raise ValueError(f"coursekit has no catalogue for COURSEKIT_LANG={lang!r} (in {LOCALES}); "
                             f"its languages: {', '.join(languages())}")
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    def done(message) -> bool:
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        return bool(message.id) and not message.fuzzy and all(strings)

    merged = None
    for path in files:
        with path.open("rb") as f:
            catalogue = read_po(f, locale=lang)
        if merged is None:
            merged = catalogue
        else:  # a message several modules share: the first translation of it counts
            for message in catalogue:
                have = merged.get(message.id, message.context)
                if done(message) and (have is None or not done(have)):
                    if have is not None:  # Babel's catalogue merges into an entry it has: replace it
                        merged.delete(message.id, message.context)
                    merged[message.id] = message
    compiled = io.BytesIO()
    write_mo(compiled, merged)  # fuzzy messages are left out: they fall back to the English
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def languages() -> list[str]:
    """English and every language with a catalogue."""
    return [ENGLISH] + sorted(p.name for p in LOCALES.iterdir() if catalogue_files(p.name)) if LOCALES.is_dir() \
        else [ENGLISH]


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it (a module-level constant, translated with
    :func:`_` where it is shown, at run time, in the language of that moment)."""
    return message


def _(message: str) -> str:
    """``message`` in the current language (itself where the catalogue has no translation)."""
    return translations(language()).gettext(message)


def data_name(name: str) -> str:
    """A data set's own name for a class ("airplane"), as the current language writes it where coursekit's
    catalogue holds that name as a message (CIFAR-10's and COCO's classes); the name as it is otherwise."""
    return _(name)


def _p(context: str, message: str) -> str:
    """``message`` in the current language, as meant in ``context`` (where one English word needs
    different translations: "all" images per class, "all" the settings of a profile)."""
    return translations(language()).pgettext(context, message)


class _Formatter(string.Formatter):
    """``str.format`` that writes numbers with the language's decimal mark and thousands separator."""

    def __init__(self, lang: str):
        self.decimal, self.thousands = NUMBER_MARKS.get(lang, NUMBER_MARKS[ENGLISH])

    def format_field(self, value, format_spec: str) -> str:
        text = format(value, format_spec)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and self.decimal != ".":
            text = text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.thousands)
        return text


def fill(template: str, /, **values) -> str:
    """``template`` (already in the current language, e.g. from :func:`_`) with its fields filled from
    ``values`` (``str.format``'s syntax), its numbers written as the current language writes them."""
    return _Formatter(language()).format(template, **values)


def say(template: str, /, **values) -> str:
    """``template`` in the current language, its fields filled from ``values`` (``str.format``'s syntax),
    its numbers written as that language writes them."""
    return fill(_(template), **values)


def plural(singular: str, plural_: str, n: int, /, **values) -> str:
    """:func:`say` with the template chosen by the whole number ``n`` as the current language's grammar
    wants it (French says "0 image" and "1 image", English "0 images"); ``n`` is a field of both templates."""
    return fill(translations(language()).ngettext(singular, plural_, n), n=n, **values)


def measured_count(value: float, digits: int = 1) -> int:
    """The ``n`` that :func:`plural` takes to word a unit after a measured ``value`` written with ``digits``
    decimals ("2.5 minutes"): the singular where the language wants it below 2 (French: "1,5 minute"),
    while English keeps the plural it has always written ("1.0 minutes")."""
    return 0 if abs(round(value, digits)) < 2 else 2


def number(value: float, spec: str = ".1f") -> str:
    """One number, formatted by ``spec`` and written as the current language writes it."""
    return _Formatter(language()).format_field(value, spec)


# --- the catalogues (python -m coursekit.i18n) ------------------------------------------------------

KEYWORDS = {"_": None, "N_": None, "_p": ((1, "c"), 2), "say": None, "plural": (1, 2)}


def module_messages(path: Path):
    """The messages of one module, extracted by Babel, as a template catalogue (None if it has none)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    template = Catalog(project=DOMAIN, domain=DOMAIN)
    for line, message, comments, context in extract_from_file("python", str(path), keywords=KEYWORDS):
        template.add(message, locations=[(path.resolve().relative_to(LOCALES.parent).as_posix(), line)],
                     auto_comments=comments, context=context)
    return template if len(template) else None


def catalogue_path(lang: str, module: str) -> Path:
    """Where ``lang``'s translations of module ``module`` (``"experiments.ages"``) are kept."""
    return LOCALES / lang / "LC_MESSAGES" / DOMAIN / f"{module}.po"


def update_catalogue(lang: str, path: Path) -> Path | None:
    """Bring ``lang``'s file for the module at ``path`` up to date with its messages (new messages empty,
    changed ones fuzzy, gone ones dropped), rewriting it only when more than its date changed; returns the
    file, None for a module without messages."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    from .files import atomic_write

    template = module_messages(path)
    if template is None:
        return None
    module = ".".join(path.resolve().relative_to(LOCALES.parent).with_suffix("").parts)
    target = catalogue_path(lang, module)
    if target.exists():
        with target.open("rb") as f:
            catalogue = read_po(f, locale=lang)
    else:
        catalogue = Catalog(locale=lang, project=DOMAIN, domain=DOMAIN)
    catalogue.update(template)
    catalogue.obsolete.clear()
    text = io.BytesIO()
    write_po(text, catalogue, width=0)
    if not target.exists() or _undated(target.read_bytes()) != _undated(text.getvalue()):  # no change, no rewrite
        with atomic_write(target) as tmp:
            tmp.write_bytes(text.getvalue())
    return target


def _undated(po: bytes) -> bytes:
    """A catalogue without its creation date, which every extraction renews."""
    return re.sub(rb'"POT-Creation-Date: [^"]*"\n', b"", po)


def update_catalogues(lang: str, paths: list[Path] | None = None) -> list[Path]:
    """:func:`update_catalogue` for the modules at ``paths`` (default: every module of coursekit)."""
    written = [update_catalogue(lang, p) for p in (paths or sorted(LOCALES.parent.rglob("*.py")))]
    return [p for p in written if p is not None]


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m coursekit.i18n",
                                     description="Extract coursekit's messages and update a language's catalogue.")
    parser.add_argument("language", help="e.g. fr")
    parser.add_argument("modules", nargs="*", type=Path, help="only these module files (default: all)")
    args = parser.parse_args()
    for written in update_catalogues(args.language, args.modules or None):
        print(written.relative_to(LOCALES.parent))
