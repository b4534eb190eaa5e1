import matplotlib
import pytest

from coursekit import experiments, figures, store, tables


def fake_result(epochs=3):
    history = [dict(epoch=e, train_loss=2.0 / e, train_accuracy=0.3 * e / epochs, test_loss=2.1 / e,
                    test_accuracy=0.28 * e / epochs, lr=0.1, seconds=1.0, images_per_second=100.0)
               for e in range(1, epochs + 1)]
    classes = [f"class{i}" for i in range(3)]
    return dict(experiment="intro_cnn", title="A test", profile="quick", chapter="intro", config={},
                config_hash=store.config_hash(experiments.config("intro_cnn", "quick")),
                metrics=dict(accuracy=0.6, top5=1.0, macro_f1=0.55, loss=1.0, classes=classes,
                             confusion=[[5, 1, 0], [2, 3, 1], [0, 1, 4]], images=17),
                history=history, cost=dict(parameters=10, images_per_second=100.0, train_seconds=3.0),
                provenance=dict(device="CPU test", torch="2.x", git_commit="abc", date="2026-11-23T10:00:00+00:00",
                                wall_seconds=75.0, data=dict(train=dict(kind="image-folder", description="test copy",
                                                                        images=30),
                                                             test=dict(kind="image-folder", images=17))))


def texts(fig):
    return " ".join(t.get_text() for t in fig.texts)


def test_learning_curves_have_both_panels_and_provenance():
    fig = figures.learning_curves(fake_result())
    losses, accuracy = fig.axes
    assert len(losses.lines) == 2 and len(accuracy.lines) == 2
    assert accuracy.get_ylabel() == "accuracy (%)" and losses.get_xlabel() == "epoch"
    assert max(accuracy.lines[1].get_ydata()) == pytest.approx(28.0)
    assert "profile quick" not in texts(fig)  # in the book the provenance is a note under the figure
    with figures.footers():  # as export() draws it, for slides
        fig = figures.learning_curves(fake_result())
    assert "profile quick" in texts(fig) and "CPU test" in texts(fig) and "1 min 15 s" in texts(fig)


def test_confusion_matrix_rows_are_percentages_of_the_true_class():
    fig = figures.confusion_matrix(fake_result())
    image = fig.axes[0].images[0]
    rows = image.get_array()
    assert rows[0].sum() == pytest.approx(100) and rows[1][0] == pytest.approx(100 * 2 / 6)
    assert "accuracy 60.0 %" in fig.axes[0].get_title()
    assert "commit abc" not in texts(fig)
    with figures.footers():
        fig = figures.confusion_matrix(fake_result())
    assert "commit abc" in texts(fig)


def test_export_writes_every_format_and_skips_what_is_not_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results"))
    needs_results = {name for name, spec in figures.FIGURES.items() if spec.experiments}
    written, skipped = figures.export(tmp_path / "out", ("png",), profile="quick", dpi=50)
    assert needs_results <= set(skipped)
    assert all(skipped[n].startswith("no stored result of ") for n in needs_results)
    for name in set(skipped) - needs_results:  # drawn from data or weights alone: skipped only when those are missing
        assert "no stored result" not in skipped[name] and skipped[name], name
    drawn = [n for n in figures.FIGURES if n not in skipped]
    assert [p.name for p in written] == [f"{n}.png" for n in drawn]
    store.save_result(fake_result())
    some = ["intro-learning-curves", "intro-confusion-matrix", "classic-learning-curves", "ilsvrc-top5"]
    written, skipped = figures.export(tmp_path / "out", ("png", "svg", "pdf"), profile="quick", names=some)
    assert set(skipped) == {"classic-learning-curves"}
    assert len(written) == 3 * 3
    assert (tmp_path / "out" / "intro-learning-curves.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "out" / "intro-confusion-matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert not list((tmp_path / "out").glob(".*tmp*"))


def test_no_window_is_needed():
    assert matplotlib.get_backend().lower() in ("agg", "module://matplotlib_inline.backend_inline")


def test_model_zoo_from_torchvision_metadata():
    rows = {r["name"]: r for r in figures.zoo_table()}
    assert len(rows) >= 50 and {"alexnet", "vgg16", "resnet50"} <= set(rows)
    assert rows["resnet50"]["params"] == 25_557_032 and rows["alexnet"]["top1"] < rows["resnet50"]["top1"]
    fig = figures.model_zoo()
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert set(figures.pretrained.CLASSIC_ZOO) <= labels
    assert fig.axes[0].get_xscale() == "log"


def test_ilsvrc_table_and_winners():
    winners = figures.ilsvrc_winners()
    assert winners[2012]["network"] == "AlexNet" and winners[2014]["team"] == "GoogLeNet"
    assert all(winners[y]["top5_error_percent"] > winners[y + 1]["top5_error_percent"] for y in range(2010, 2017))
    assert len(figures.ilsvrc_top5().axes[0].patches) == len(winners)


def test_top5_predictions_draws_each_photo_with_its_bars():
    import torch

    images = torch.randint(0, 255, (4, 3, 16, 16), dtype=torch.uint8)
    top5 = [[(f"class {k}", 0.5 / (k + 1)) for k in range(5)] for _ in range(4)]
    fig = figures.top5_predictions(images, top5, columns=3)
    bars = [ax for ax in fig.axes if ax.patches]
    assert len(bars) == 4 and len(bars[0].patches) == 5
    best = bars[0].patches[0]
    assert best.get_width() == pytest.approx(50.0)
    assert best.get_y() == max(p.get_y() for p in bars[0].patches)  # the best class is drawn on top
    assert sum(1 for ax in fig.axes if ax.images) == 4


def test_pseudo_label_table_summarises_over_seeds():
    rows = [dict(shots=5, threshold=t, seed=s, accuracy=a, seconds=1.0, pseudo_images=n, pseudo_accuracy=p)
            for t, s, a, n, p in [(None, 0, 0.6, 0, None), (None, 1, 0.7, 0, None),
                                  (0.9, 0, 0.7, 100, 0.8), (0.9, 1, 0.8, 300, 0.9)]]
    table = tables.pseudo_label_table(dict(metrics=dict(rows=rows)))
    assert "| 5 | labelled only | 65.0 % ±" in table and "| - |" in table
    assert "| 5 | τ = 0.9 | 75.0 % ±" in table and "| 200 | 85.0 % |" in table


def test_step_costs_table_lists_each_setting():
    rows = [dict(name="float32", precision="float32", peak_memory_mb=20480.4, images_per_second=310.2)]
    assert "| float32 | float32 | 20,480 MB | 310 |" in tables.step_costs_table(dict(metrics=dict(rows=rows)))


def test_results_table_shows_peak_memory_only_when_measured_on_a_gpu():
    def run(kind: str) -> dict:
        return dict(title="net", metrics=dict(accuracy=0.5, macro_f1=0.5, loss=1.0),
                    cost=dict(parameters=1e6, macs=1e7, train_seconds=60, images_per_second=100,
                              peak_memory_mb=1234.0, peak_memory_kind=kind))
    cpu = tables.results_table([run("process resident set (peak)")] * 2)
    assert "memory" not in cpu and "1,234 MB" not in cpu
    gpu = tables.results_table([run("CUDA allocated (peak)")] * 2)
    assert "| peak GPU memory |" in gpu and "| 1,234 MB |" in gpu
    assert "memory" not in tables.results_table([run("CUDA allocated (peak)"), run("process resident set (peak)")])
