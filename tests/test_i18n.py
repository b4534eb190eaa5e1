"""coursekit's words in another language (coursekit.i18n): numbers as the language writes them, messages
from its catalogue, and every catalogue up to date with the code's messages and fully translated."""
import string

import polib
import pytest

from coursekit import i18n, stats


def test_english_is_the_code_itself(monkeypatch):
    monkeypatch.delenv("COURSEKIT_LANG", raising=False)
    assert i18n.language() == "en"
    assert i18n.say("{d:+.1f} points, {n:,} images", d=2.345, n=12000) == "+2.3 points, 12,000 images"
    assert i18n.plural("{n} seed", "{n} seeds", 1) == "1 seed" and i18n.plural("{n} seed", "{n} seeds", 0) == "0 seeds"


def test_french_numbers_have_a_decimal_comma_and_narrow_spaces(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    assert i18n.fill("{d:+.1f} points, {n:,} images, {p:.0f} %", d=2.345, n=12000, p=50.0) == \
        "+2,3 points, 12\u202f000 images, 50 %"
    assert i18n.number(1234.5, ",.1f") == "1\u202f234,5"
    assert i18n.fill("{name} {k}", name="ResNet-20", k=3) == "ResNet-20 3"  # text and integers as they are


def test_a_verdict_is_worded_in_the_language_of_the_book(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    rule = stats.clear_rule(3)
    assert rule.startswith("Une différence est nette") and "4,30 erreurs types avec 3 graines" in rule
    assert stats.word(stats.compare({0: 2.0, 1: 2.5, 2: 3.0}, {0: 0.0, 1: 0.0, 2: 0.0}),
                      "{d:.1f} points de mieux", cannot_tell="indiscernable") == "2,5 points de mieux"
    monkeypatch.setenv("COURSEKIT_LANG", "en")
    assert stats.clear_rule(3).startswith("A difference is clear when")


def test_a_language_without_a_catalogue_is_refused_with_the_ones_there_are(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "xx")
    with pytest.raises(ValueError, match="no catalogue for COURSEKIT_LANG='xx'.*en, fr"):
        i18n.say("hello")


def fields(template: str) -> set[str]:
    """The names of a str.format template's fields: a translation must fill the same ones."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


MODULES = sorted(p for p in i18n.LOCALES.parent.rglob("*.py") if i18n.module_messages(p) is not None)


@pytest.mark.parametrize("language", [lang for lang in i18n.languages() if lang != i18n.ENGLISH])
def test_every_message_of_coursekit_is_translated(language):
    """Against the messages the code has now: a sentence changed in the code without
    `python -m coursekit.i18n <language>` (make catalogues) and a translation fails here."""
    missing = {}
    for path in MODULES:
        module = ".".join(path.relative_to(i18n.LOCALES.parent).with_suffix("").parts)
        catalogue = i18n.catalogue_path(language, module)
        done = {(e.msgctxt, e.msgid): e for e in polib.pofile(str(catalogue)) if e.translated()} \
            if catalogue.exists() else {}
        ids = [(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in i18n.module_messages(path) if m.id]
        todo = [m for m in ids if m not in done]
        todo += [f"{m[1]!r} has other fields in its translation" for m in ids if m in done
                 and any(fields(t) != fields(m[1]) for t in (done[m].msgstr_plural or {0: done[m].msgstr}).values())]
        if todo:
            missing[module] = todo
    assert not missing, "run `make catalogues` and translate, by module:\n" + "\n".join(
        f"{module}: {len(items)} messages, first: {str(items[0])[:100]!r}" for module, items in missing.items())


def test_a_message_several_modules_share_takes_the_first_translation_there_is(tmp_path, monkeypatch):
    folder = tmp_path / "xx" / "LC_MESSAGES" / i18n.DOMAIN
    folder.mkdir(parents=True)
    for name, entries in (("a.po", [("shared", ""), ("changed", "vieux")]), ("b.po", [("shared", "partagé"),
                                                                                        ("changed", "nouveau")])):
        po = polib.POFile()
        po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
        for msgid, msgstr in entries:
            po.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=["fuzzy"] if msgstr == "vieux" else []))
        po.save(str(folder / name))
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    monkeypatch.setenv("COURSEKIT_LANG", "xx")
    i18n.translations.cache_clear()
    try:
        # a.po comes first but has no translation of "shared" and only a fuzzy one of "changed"
        assert i18n._("shared") == "partagé" and i18n._("changed") == "nouveau"
    finally:
        i18n.translations.cache_clear()


def test_one_english_word_can_mean_two_things(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    assert i18n._p("images per class", "all") == "toutes les" and i18n._p("of the test images", "all") == "l'ensemble"
    monkeypatch.setenv("COURSEKIT_LANG", "en")
    assert i18n._p("images per class", "all") == "all"


def test_a_figure_names_the_data_sets_classes_in_the_language_of_the_book(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from coursekit import figures

    result = dict(metrics=dict(confusion=[[5, 1, 0], [2, 4, 0], [0, 0, 6]], classes=["cat", "dog", "guitar"], accuracy=0.83))
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    ax = figures.confusion_matrix(result).axes[0]
    # the catalogue's names for CIFAR-10's classes; a name it does not hold is shown as the data has it
    assert [t.get_text() for t in ax.get_yticklabels()] == ["chat", "chien", "guitar"]
    assert ax.get_xlabel() == "classe prédite"
    monkeypatch.setenv("COURSEKIT_LANG", "en")
    assert [t.get_text() for t in figures.confusion_matrix(result).axes[0].get_yticklabels()] == ["cat", "dog", "guitar"]
