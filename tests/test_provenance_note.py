"""Which run a figure shows: a collapsed note under it in the book and notebooks
(``book.provenance_note``), a one-line footer in the image only when it is exported for slides; and
which rule decided a verdict, in the same kind of collapsed note (``book.rule_note``)."""
import html

import IPython.display
import matplotlib.pyplot as plt
import pytest

from coursekit import book, diagnostics, figures, stats, store
from coursekit.experiments import vit_readings as readings


def result(experiment="detect_lenet", profile="quick", date="2026-11-30T09:15:00+00:00", device="CPU <test> & co"):
    """Just what a provenance line reads; the device has characters that HTML must escape."""
    return dict(experiment=experiment, profile=profile,
                provenance=dict(device=device, torch="2.x", git_commit="abc1234", date=date, wall_seconds=75.0,
                                data=dict(train=dict(kind="mnist", description="MNIST <original>", images=60_000,
                                                     lossless=True),
                                          test=dict(kind="mnist", images=10_000))))


@pytest.fixture
def shown(monkeypatch) -> list:
    """What ``IPython.display.display`` was given."""
    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *objects, **kw: calls.extend(objects))
    return calls


def test_the_note_is_a_collapsed_details_that_names_the_run_and_lists_its_provenance(shown):
    run = result()
    book.provenance_note(run)
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.HTML)
    note = shown[0].data
    assert note.startswith('<details class="provenance">') and "<details open" not in note  # collapsed
    assert "<summary>Run: detect_lenet · profile quick · 2026-11-30</summary>" in note
    line = store.provenance_line(run)
    assert "<test>" in line and f"<li>{html.escape(line)}</li>" in note
    assert "<test>" not in note and "&lt;test&gt; &amp; co" in note and "MNIST &lt;original&gt;" in note


def test_a_note_on_several_runs_counts_them_and_lists_each(shown):
    runs = [result("vs_vit_1000"), result("vs_vit_5000", date="2026-12-02T10:00:00+00:00"),
            result("vs_vit_10000", profile="full")]
    book.provenance_note(*runs)
    note = shown[0].data
    assert "<summary>Runs: 3 experiments · profiles quick, full · 2026-11-30 to 2026-12-02</summary>" in note
    assert note.count("<li>") == 3
    for run in runs:
        assert f"<li>{html.escape(store.provenance_line(run))}</li>" in note


def test_no_stored_run_no_note(shown):
    book.provenance_note(None)  # a result stored only under `full`, read under another profile
    book.provenance_note()
    assert shown == [] and book.provenance_html(None) == ""
    book.provenance_note(None, result())
    assert len(shown) == 1 and shown[0].data.count("<li>") == 1


def small_figure(*results):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [1, 0])
    return fig


def test_an_exported_figure_has_exactly_one_footer_line(tmp_path, monkeypatch):
    drawn = []

    def draw(results):
        drawn.append(small_figure(*results))
        return drawn[-1]

    stored = [result(), result("vs_vit_5000"), result("vs_vit_10000")]
    monkeypatch.setattr(figures.base, "_stored", lambda spec, profile: (stored, []))
    monkeypatch.setitem(figures.FIGURES, "test-footer", figures.NamedFigure("test-footer", "intro", (), draw, "a test"))
    written, skipped = figures.export(tmp_path, ("png",), names=["test-footer"], dpi=30)
    assert skipped == {} and [p.name for p in written] == ["test-footer.png"]
    fig = drawn[0]
    assert len(fig.texts) == 1
    footer = fig.texts[0].get_text()
    assert "\n" not in footer and footer.startswith("detect_lenet and 2 more runs · profile quick · CPU <test> & co")
    assert "wall time 1 min 15 s · commit abc1234" in footer
    assert tuple(fig.get_size_inches())[1] > 2  # the footer has a strip of its own below the axes
    plt.close("all")


def test_a_footer_needs_a_result():
    fig = small_figure()
    assert figures.add_footer(fig) is fig and len(fig.texts) == 0
    assert len(figures.add_footer(small_figure(), result()).texts) == 1
    plt.close("all")


# --- the rule beside a verdict ----------------------------------------------------------------------

def test_rule_note_is_a_collapsed_paragraph_per_rule():
    one = book.rule_html("Runs differ when <their> intervals & means say so.")
    assert one.startswith('<details class="rule"><summary>How this verdict is decided</summary>')
    assert "<p>Runs differ when &lt;their&gt; intervals &amp; means say so.</p>" in one
    two = book.rule_html(stats.clear_rule(), diagnostics.fit_rule())
    assert "How these verdicts are decided" in two and two.count("<p>") == 2


def test_the_rules_say_the_thresholds_the_code_uses():
    assert "4.30 standard errors with 3 seeds" in stats.clear_rule(3)
    assert f"{stats.t975(10):.2f} standard errors with 10 seeds" in stats.clear_rule(10)
    assert f"at least {diagnostics.FITS:.0f} %" in diagnostics.fit_rule()
    assert f"more than {diagnostics.OVERFIT_GAP:.0f} points" in diagnostics.fit_rule()
    assert f"less than {100 * diagnostics.FLAT_SHARE:.1f} %" in diagnostics.convergence_rule()
    assert f"at least {100 * diagnostics.RATE_SHARE:.0f} % of its peak" in diagnostics.convergence_rule()
    assert f"below {readings.LOCAL:.0%} of" in readings.LOCAL_RULE
    assert f"at least {readings.GRID_LEARNED:g} times" in readings.GRID_RULE and f"{readings.GRID_NONE:g} times" in readings.GRID_RULE
