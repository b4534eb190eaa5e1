from __future__ import annotations

import statistics
import textwrap
from typing import Callable

import matplotlib
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from coursekit import data, experiments, figures, models, store, tables
from coursekit.results import seed_values


def fake_result(epochs=3):
    history = [dict(epoch=e, train_loss=2.0 / e, train_accuracy=0.3 * e / epochs, test_loss=2.1 / e,
                    test_accuracy=0.28 * e / epochs, lr=0.1, seconds=1.0, images_per_second=100.0)
               for e in range(1, epochs + 1)]
    classes = [f"class{i}" for i in range(3)]
    return dict(experiment="intro_cnn", title="A test", profile="quick", chapter="intro",
                config=experiments.config("intro_cnn", "quick"),
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
    fig = figures.add_footer(figures.learning_curves(fake_result()), fake_result())  # as export() draws it, for slides
    assert "profile quick" in texts(fig) and "CPU test" in texts(fig) and "1 min 15 s" in texts(fig)


def test_confusion_matrix_rows_are_percentages_of_the_true_class():
    fig = figures.confusion_matrix(fake_result())
    image = fig.axes[0].images[0]
    rows = image.get_array()
    assert rows[0].sum() == pytest.approx(100) and rows[1][0] == pytest.approx(100 * 2 / 6)
    assert "accuracy 60.0 %" in fig.axes[0].get_title()
    assert "commit abc" not in texts(fig)
    fig = figures.add_footer(figures.confusion_matrix(fake_result()), fake_result())
    assert "commit abc" in texts(fig)


def test_export_writes_every_format_and_skips_what_is_not_stored(tmp_path, monkeypatch):
    """export()'s part, on every registered figure: those whose results are not stored are skipped, saying
    so; those drawn from data or weights alone are drawn (here by a stand-in: what each draws is checked by
    test_figure_content below, and the real export of all of them from this machine's data by the slow
    test_export_draws_every_figure_from_the_data_on_this_machine), or skipped with the loader's message
    when those are missing."""
    from dataclasses import replace

    from coursekit.data import DataNotFoundError
    from coursekit.models import WeightsUnavailableError

    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results"))
    needs_results = {name for name, spec in figures.FIGURES.items() if spec.experiments}
    from_data = [name for name in figures.FIGURES if name not in needs_results]
    missing = {from_data[0]: DataNotFoundError("PACS was not found under /data\n(how to get it)"),
               from_data[1]: WeightsUnavailableError("no weights offline")}

    def stand_in(name):
        def draw(results):
            assert results == []
            if name in missing:
                raise missing[name]
            fig, ax = plt.subplots(figsize=(2, 1))
            ax.set_title(name)
            return fig
        return draw

    for name in from_data:
        monkeypatch.setitem(figures.FIGURES, name, replace(figures.FIGURES[name], draw=stand_in(name)))
    written, skipped = figures.export(tmp_path / "out", ("png",), profile="quick", dpi=20)
    assert set(skipped) == needs_results | set(missing)
    assert all(skipped[n] == f"no stored result of {', '.join(figures.FIGURES[n].experiments)}" for n in needs_results)
    assert skipped[from_data[0]] == "PACS was not found under /data" and skipped[from_data[1]] == "no weights offline"
    drawn = [n for n in figures.FIGURES if n not in skipped]
    assert [p.name for p in written] == [f"{n}.png" for n in drawn] and all(p.is_file() for p in written)
    store.save_result(fake_result())
    some = ["intro-learning-curves", "intro-confusion-matrix", "classic-learning-curves", "diagram-residual-blocks"]
    monkeypatch.setitem(figures.FIGURES, "diagram-residual-blocks",
                        replace(figures.FIGURES["diagram-residual-blocks"], draw=lambda rs: figures.diagrams.residual_blocks()))
    written, skipped = figures.export(tmp_path / "out", ("png", "svg", "pdf"), profile="quick", names=some)
    assert set(skipped) == {"classic-learning-curves"}
    assert len(written) == 3 * 3
    assert (tmp_path / "out" / "intro-learning-curves.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "out" / "intro-confusion-matrix.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "out" / "diagram-residual-blocks.svg").read_text().lstrip().startswith("<?xml")
    assert not list((tmp_path / "out").glob(".*tmp*"))


@pytest.mark.slow
def test_export_draws_every_figure_from_the_data_on_this_machine(tmp_path, monkeypatch):
    """Every figure drawn from data or weights alone, from this machine's (about 20 s): drawn, or skipped only
    because those are missing, never for want of a result."""
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results"))
    needs_results = {name for name, spec in figures.FIGURES.items() if spec.experiments}
    written, skipped = figures.export(tmp_path / "out", ("png",), profile="quick", dpi=50)
    assert needs_results <= set(skipped)
    for name in set(skipped) - needs_results:  # drawn from data or weights alone: skipped only when those are missing
        assert "no stored result" not in skipped[name] and skipped[name], name
    drawn = [n for n in figures.FIGURES if n not in skipped]
    assert [p.name for p in written] == [f"{n}.png" for n in drawn]


def test_export_opens_no_window_and_closes_every_figure_it_draws(tmp_path, monkeypatch):
    """Slides are exported on machines without a display: coursekit never asks for a window (plt.show), and
    export() closes each figure once written, so that exporting every figure does not pile them up."""
    import matplotlib.pyplot as plt

    def no_window(*args, **kwargs):
        raise AssertionError("coursekit asked matplotlib for a window")

    monkeypatch.setattr(plt, "show", no_window)
    monkeypatch.setattr(matplotlib.figure.Figure, "show", no_window)
    before = set(plt.get_fignums())
    names = ["ilsvrc-top5", "diagram-residual-blocks", "diagram-encoder-block"]
    written, skipped = figures.export(tmp_path, ("png",), profile="quick", names=names, dpi=30)
    assert skipped == {} and [p.name for p in written] == [f"{n}.png" for n in names]
    assert set(plt.get_fignums()) == before


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


# --- the content of every figure a chapter shows ------------------------------------------------------------
#
# Each registered figure is drawn by its registered function from the stored quick results (or, for those
# drawn from data or weights, from constructed images and networks put where the figure loads them), and
# what it shows is compared with the numbers it was given: the plotted values, the panels and their titles.

CONTENT: dict[str, Callable[[pytest.MonkeyPatch], None]] = {}


def content(*names: str):
    """Register a check of the content of the figures ``names``."""
    def register(check):
        for name in names:
            CONTENT[name] = check
        return check
    return register


def stored(*names: str) -> list[dict]:
    results = [store.read_result(n, "quick") for n in names]
    missing = [n for n, r in zip(names, results) if r is None]
    assert not missing, f"no stored quick result of {missing} in {store.results_dir()}"
    return results


def draw(name: str, results: list[dict] | None = None) -> matplotlib.figure.Figure:
    """The figure ``name`` as the book and ``coursekit figures`` draw it (its registered function)."""
    spec = figures.FIGURES[name]
    if results is None:
        results = stored(*spec.experiments)
    return spec.draw(results)


def ys(line) -> list[float]:
    return [float(v) for v in line.get_ydata()]


def xs(line) -> list[float]:
    return [float(v) for v in line.get_xdata()]


def by_label(ax) -> dict[str, object]:
    return {line.get_label(): line for line in ax.lines}


def shown(ax) -> list[np.ndarray]:
    return [np.asarray(image.get_array()) for image in ax.images]


def mean(values) -> float:
    return statistics.fmean(values)


def seeds_of(result: dict) -> list[dict]:
    return result.get("seeds") or [result]


def row_shares(confusion) -> np.ndarray:
    counts = np.array(confusion, dtype=float)
    return 100 * counts / counts.sum(1, keepdims=True).clip(min=1)


def images(n: int, classes: int, size: int = 32, channels: int = 3, seed: int = 0) -> data.ImageTensors:
    """``n`` random images of ``classes`` classes (labels 0, 1, ... in turn), each with its class in its first
    pixel, so that a figure's picture can be traced to the image it shows."""
    g = torch.Generator().manual_seed(seed)
    pictures = torch.randint(0, 256, (n, channels, size, size), generator=g, dtype=torch.uint8)
    labels = torch.arange(n) % classes
    pictures[:, :, 0, 0] = labels[:, None].to(torch.uint8)
    return data.ImageTensors(pictures, labels, tuple(f"class{c}" for c in range(classes)),
                             dict(kind="constructed", description="constructed images"))


def picture(image: torch.Tensor) -> np.ndarray:
    """An image tensor (C, H, W) as imshow holds it."""
    return image[0].numpy() if len(image) == 1 else image.permute(1, 2, 0).numpy()


@content("intro-learning-curves")
def check_learning_curves(monkeypatch):
    (result,) = stored("intro_cnn")
    fig = draw("intro-learning-curves")
    history = result["history"]
    epochs = [r["epoch"] for r in history]
    loss, accuracy = fig.axes
    assert [xs(line) for line in loss.lines + accuracy.lines] == [epochs] * 4
    assert ys(loss.lines[0]) == pytest.approx([r["train_loss"] for r in history])
    assert ys(loss.lines[1]) == pytest.approx([r["test_loss"] for r in history])
    assert ys(accuracy.lines[0]) == pytest.approx([100 * r["train_accuracy"] for r in history])
    assert ys(accuracy.lines[1]) == pytest.approx([100 * r["test_accuracy"] for r in history])
    assert fig._suptitle.get_text() == result["title"] and accuracy.get_ylabel() == "accuracy (%)"


@content("intro-confusion-matrix")
def check_confusion_matrix(monkeypatch):
    (result,) = stored("intro_cnn")
    ax = draw("intro-confusion-matrix").axes[0]
    np.testing.assert_allclose(shown(ax)[0], row_shares(result["metrics"]["confusion"]))
    assert [t.get_text() for t in ax.get_xticklabels()] == result["metrics"]["classes"]
    assert [t.get_text() for t in ax.get_yticklabels()] == result["metrics"]["classes"]
    assert f"accuracy {100 * result['metrics']['accuracy']:.1f} %" in ax.get_title()


@content("intro-fast-recipe")
def check_fast_recipe(monkeypatch):
    fast, small = stored("intro_fast", "intro_cnn")
    loss, accuracy = draw("intro-fast-recipe").axes
    assert ys(loss.lines[0]) == pytest.approx([r["train_loss"] for r in fast["history"]])
    lines = by_label(accuracy)
    assert ys(lines["fast recipe, held-out validation images"]) == pytest.approx(
        [100 * r["validation_accuracy"] for r in fast["history"]])
    star = lines["fast recipe, test set (once, with TTA)"]
    assert xs(star) == [fast["history"][-1]["epoch"]] and ys(star) == pytest.approx([100 * fast["metrics"]["accuracy"]])
    assert ys(lines["small CNN, test set"]) == pytest.approx([100 * r["test_accuracy"] for r in small["history"]])


def check_compared_curves(name: str) -> None:
    results = stored(*figures.FIGURES[name].experiments)
    loss, accuracy = draw(name).axes
    assert [line.get_label() for line in loss.lines] == [r["title"] for r in results]
    assert [line.get_label() for line in accuracy.lines] == [r["title"] for r in results]
    for r, lost, right in zip(results, loss.lines, accuracy.lines):
        assert xs(lost) == [row["epoch"] for row in r["history"]]
        assert ys(lost) == pytest.approx([row["train_loss"] for row in r["history"]])
        tested = [row for row in r["history"] if "test_accuracy" in row]  # a long run: after every few epochs
        assert xs(right) == [row["epoch"] for row in tested] and tested[-1] == r["history"][-1]
        assert ys(right) == pytest.approx([100 * row["test_accuracy"] for row in tested])


@content("classic-learning-curves")
def check_classic_learning_curves(monkeypatch):
    from coursekit.experiments.classic import CLASSIC

    assert figures.FIGURES["classic-learning-curves"].experiments == tuple(CLASSIC)
    check_compared_curves("classic-learning-curves")


@content("vit-learning-curves")
def check_vit_learning_curves(monkeypatch):
    check_compared_curves("vit-learning-curves")


def check_range_tests(name: str, titles: dict[str, str]) -> None:
    (result,) = stored(*figures.FIGURES[name].experiments)
    panels = [ax for ax in draw(name).axes if ax.lines]
    assert len(panels) == len(result["metrics"])
    for ax, (network, curve) in zip(panels, result["metrics"].items()):
        assert ax.get_title() == f"{titles.get(network, network)} ({curve['optimizer']})"
        assert xs(ax.lines[0]) == pytest.approx(curve["lrs"]) and ys(ax.lines[0]) == pytest.approx(curve["losses"])
        assert ys(ax.lines[1]) == pytest.approx(curve["smoothed"])
        assert [xs(line)[0] for line in ax.lines[2:5]] == pytest.approx(
            [curve["minimum"], curve["suggestion"], curve["chosen_lr"]])
        assert ax.get_xscale() == "log"


@content("classic-lr-range-tests")
def check_classic_range_tests(monkeypatch):
    from coursekit.experiments.classic import SHORT_NAMES

    check_range_tests("classic-lr-range-tests", SHORT_NAMES)


@content("vit-lr-range-tests")
def check_vit_range_tests(monkeypatch):
    check_range_tests("vit-lr-range-tests", {})


@content("degradation")
def check_degradation(monkeypatch):
    results = stored(*figures.FIGURES["degradation"].experiments)
    plain, residual, gradients = draw("degradation").axes[:3]
    drawn = by_label(plain) | by_label(residual)
    for r in results:
        label = r["config"]["model"].replace("cifar_", "")
        histories = [s["history"] for s in seeds_of(r)]
        for field, kind in (("train_accuracy", "train"), ("test_accuracy", "test")):
            errors = [mean(100 * (1 - h[i][field]) for h in histories) for i in range(len(histories[0]))]
            assert ys(drawn[f"{label} ({kind})"]) == pytest.approx(errors), (label, kind)
        assert (f"{label} (train)" in by_label(plain)) == label.startswith("plain")
        assert ys(by_label(gradients)[label]) == pytest.approx(r["gradient_norms"]["initial"])
    assert plain.get_ylim() == residual.get_ylim()  # one scale for both panels


def check_transfer(name: str) -> None:
    (result,) = stored(*figures.FIGURES[name].experiments)
    rows, methods = result["metrics"]["rows"], result["config"]["methods"]
    cells = list(dict.fromkeys((r["target"], r["size"]) for r in rows))
    ax = draw(name).axes[0]
    assert len(ax.patches) == len(methods) * len(cells) and len(ax.get_xticklabels()) == len(cells)
    for i, method in enumerate(methods):
        for j, (target, size) in enumerate(cells):
            accuracy = mean(r["accuracy"] for r in rows if (r["target"], r["size"], r["method"]) == (target, size, method))
            assert ax.patches[i * len(cells) + j].get_height() == pytest.approx(100 * accuracy), (method, target, size)
    chance = [ys(line)[0] for line in ax.lines if line.get_linestyle() == ":" and len(ys(line)) == 2]
    assert chance == pytest.approx([100 / result["provenance"]["data"]["targets"][t]["classes"] for t, _ in cells])


@content("transfer-decision")
def check_transfer_decision(monkeypatch):
    check_transfer("transfer-decision")


@content("transfer-targets")
def check_transfer_targets(monkeypatch):
    check_transfer("transfer-targets")


@content("transfer-decision-lite0")
def check_transfer_decision_lite0(monkeypatch):
    check_transfer("transfer-decision-lite0")


@content("transfer-targets-lite0")
def check_transfer_targets_lite0(monkeypatch):
    check_transfer("transfer-targets-lite0")


@content("fewshot-shots")
def check_fewshot_shots(monkeypatch):
    (result,) = stored("fewshot_shots")
    rows = result["metrics"]["rows"]
    ax = draw("fewshot-shots").axes[0]
    lines = by_label(ax)
    combinations = sorted({(r["init"], r["augmentation"]) for r in rows})
    for init, augmentation in combinations:
        label = (f"{'from the backbone' if init == 'backbone' else 'from scratch'}, "
                 f"{'augmented' if augmentation == 'augmented' else 'no augmentation'}")
        shots = sorted({r["shots"] for r in rows if (r["init"], r["augmentation"]) == (init, augmentation)})
        assert xs(lines[label]) == shots
        assert ys(lines[label]) == pytest.approx(
            [100 * mean(r["accuracy"] for r in rows if (r["shots"], r["init"], r["augmentation"]) == (k, init, augmentation))
             for k in shots]), label
    assert ys(lines["chance (5 classes)"]) == [20.0, 20.0] and ax.get_xscale() == "log"
    assert len(lines) == len(combinations) + 1


@content("fewshot-ablation")
def check_fewshot_ablation(monkeypatch):
    (result,) = stored("fewshot_ablation")
    rows = result["metrics"]["rows"]
    inits = list(dict.fromkeys(r["init"] for r in rows))
    fig = draw("fewshot-ablation")
    fig.canvas.draw()  # the variants' names are the ticks of a categorical axis, laid out when drawn
    assert [ax.get_title() for ax in fig.axes] == [
        "from the backbone" if i == "backbone" else "from scratch" for i in inits]
    accuracy = {(i, v): 100 * mean(r["accuracy"] for r in rows if (r["init"], r["variant"]) == (i, v))
                for i, v in {(r["init"], r["variant"]) for r in rows}}
    order = sorted((v for i, v in accuracy if i == inits[0]), key=lambda v: accuracy[(inits[0], v)])
    # the panels share their rows (the variants), named on the first
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [v.replace("+", " + ") for v in order]
    for ax, init in zip(fig.axes, inits):
        assert [bar.get_y() + bar.get_height() / 2 for bar in ax.patches] == pytest.approx(range(len(order)))
        assert [bar.get_width() for bar in ax.patches] == pytest.approx([accuracy[(init, v)] for v in order])
        assert xs(ax.lines[-1])[0] == pytest.approx(accuracy[(init, "none")])  # the dashed line: no augmentation
    assert f"{result['config']['shots']} images per class" in fig._suptitle.get_text()


@content("vit-confusion-matrices")
def check_vit_confusion_matrices(monkeypatch):
    results = stored(*figures.FIGURES["vit-confusion-matrices"].experiments)
    axes = draw("vit-confusion-matrices").axes
    assert len(axes) == len(results) == 2
    for ax, result, label in zip(axes, results, ("ResNet-20", "ViT")):
        np.testing.assert_allclose(shown(ax)[0], row_shares(result["metrics"]["confusion"]))
        assert ax.get_title() == f"{label}: {100 * result['metrics']['accuracy']:.1f} %"


@content("vit-data-efficiency")
def check_vit_data_efficiency(monkeypatch):
    from coursekit.experiments.vit import SIZES

    results = stored(*figures.FIGURES["vit-data-efficiency"].experiments)
    ax = draw("vit-data-efficiency").axes[0]
    curves = {c.get_label(): c.lines[0] for c in ax.containers}
    assert list(curves) == ["ResNet-20", "ViT"]
    for k, label in enumerate(curves):
        runs = results[k * len(SIZES):(k + 1) * len(SIZES)]
        assert {r["config"]["model"] for r in runs} == {"resnet20" if label == "ResNet-20" else "vit_cifar"}
        assert xs(curves[label]) == [r["provenance"]["data"]["train"]["images"] for r in runs] == list(SIZES)
        assert ys(curves[label]) == pytest.approx([100 * mean(s["metrics"]["accuracy"] for s in seeds_of(r)) for r in runs])
    assert ax.get_xscale() == "log"


@content("vit-pretraining")
def check_vit_pretraining(monkeypatch):
    *scratch, lite0 = stored(*figures.FIGURES["vit-pretraining"].experiments)
    ax = draw("vit-pretraining").axes[0]
    curves = {c.get_label(): c.lines[0] for c in ax.containers}
    assert list(curves) == ["ResNet-20", "ViT", "EfficientNet-Lite0 (ImageNet), deep probe",
                            "EfficientNet-Lite0 (ImageNet), fine-tune"]
    assert ys(curves["ResNet-20"]) == pytest.approx(
        [100 * mean(s["metrics"]["accuracy"] for s in seeds_of(r)) for r in scratch[:3]])
    rows = lite0["metrics"]["rows"]
    for method in ("deep probe", "fine-tune"):
        line = curves[f"EfficientNet-Lite0 (ImageNet), {method}"]
        assert xs(line) == [n for n in sorted({r["train_images"] for r in rows})] == [1000, 3000, 10000]
        assert ys(line) == pytest.approx([100 * mean(r["accuracy"] for r in rows if r["method"] == method
                                                     and r["train_images"] == n) for n in xs(line)])
        assert line.get_linestyle() == "--"
    assert "fine-tuning: 200 batches" in ax.get_xlabel()


@content("vit-attention-maps")
def check_vit_attention_maps(monkeypatch):
    (result,) = stored(*figures.FIGURES["vit-attention-maps"].experiments)
    found = result["attention"]
    test = images(max(found["images"]) + 1, 10)
    monkeypatch.setattr(data, "load_cifar10", lambda *args, **kwargs: test)
    fig = draw("vit-attention-maps")
    n, side = len(found["images"]), found["grid"]
    assert len(fig.axes) == 2 * n
    for i, index in enumerate(found["images"]):
        top, bottom = fig.axes[i], fig.axes[n + i]
        np.testing.assert_array_equal(shown(top)[0], picture(test.images[index]))
        np.testing.assert_allclose(shown(bottom)[1], np.array(found["cls_attention"][i]).reshape(side, side), rtol=1e-6)


@content("vit-attention-geometry")
def check_vit_attention_geometry(monkeypatch):
    (result,) = stored(*figures.FIGURES["vit-attention-geometry"].experiments)
    found = result["attention"]
    fig = draw("vit-attention-geometry")
    heads = fig.axes[0]
    assert len(heads.collections) == len(found["mean_distance"])
    for block, (points, distances) in enumerate(zip(heads.collections, found["mean_distance"]), 1):
        np.testing.assert_allclose(points.get_offsets(), [(block, d) for d in distances])
    side = found["grid"]
    similarity = np.array(found["position_similarity"]).reshape(side, side, side, side)
    step = max(1, side // 4)
    patches_shown = [(r, c) for r in range(0, side, step) for c in range(0, side, step)]
    assert len(fig.axes) == 1 + len(patches_shown)
    for ax, (r, c) in zip(fig.axes[1:], patches_shown):
        np.testing.assert_allclose(shown(ax)[0], similarity[r, c], rtol=1e-6)


@content("detection-lenet-mistakes")
def check_lenet_mistakes(monkeypatch):
    (result,) = stored("detect_lenet")
    digits = images(max(m["index"] for m in result["mistakes"]) + 1, 10, size=28, channels=1)
    monkeypatch.setattr(data, "load_mnist", lambda *args, **kwargs: digits)
    fig = draw("detection-lenet-mistakes")
    drawn = [ax for ax in fig.axes if ax.images]
    mistakes = result["mistakes"][:24]
    assert len(drawn) == len(mistakes)
    for ax, m in zip(drawn, mistakes):
        assert ax.get_title() == f"{m['label']}→{m['predicted']}"
        np.testing.assert_array_equal(shown(ax)[0], digits.images[m["index"], 0].numpy())
    assert fig._suptitle.get_text().startswith(f"{len(mistakes)} of LeNet-5's {len(result['mistakes'])} mistakes")


@content("detection-results")
def check_detection_results(monkeypatch):
    (result,) = stored("detect_digits")
    seeds = seeds_of(result)
    ap, by_size, by_overlap = draw("detection-results").axes
    assert [bar.get_height() for bar in ap.patches] == pytest.approx(
        [mean(s["metrics"]["ap_per_class"][c] for s in seeds) for c in range(10)])
    for ax, key in ((by_size, "recall_by_size"), (by_overlap, "recall_by_overlap")):
        bins = result["metrics"][key]
        assert [bar.get_height() for bar in ax.patches] == pytest.approx(
            [100 * mean(s["metrics"][key][i]["recall"] for s in seeds) for i in range(len(bins))]), key
        assert [t.get_text() for t in ax.texts] == [str(b["boxes"]) for b in bins]  # true boxes per bin


@content("detection-curves")
def check_detection_curves(monkeypatch):
    (result,) = stored("detect_digits")
    losses, maps = draw("detection-curves").axes
    names = figures.detection.LOSSES
    expected = [[row[k] for row in s["history"]] for s in seeds_of(result) for k in names]
    assert len(losses.lines) == len(expected)
    for line, values in zip(losses.lines, expected):  # one line per seed and loss
        assert ys(line) == pytest.approx(values)
    expected = [[row[k] for row in s["history"]] for s in seeds_of(result) for k in ("map_50", "map")]
    assert len(maps.lines) == len(expected)
    for line, values in zip(maps.lines, expected):
        assert ys(line) == pytest.approx(values)
    assert [line.get_label() for line in losses.lines[:len(names)]] == list(names)


@content("detection-predictions")
def check_detection_predictions(monkeypatch):
    from coursekit.experiments import detection as recipe

    (result,) = stored("detect_digits")
    count = max(int(n) for n in result["detections"]) + 1
    scenes = data.make_scenes(images(200, 10, size=28, channels=1), count, seed=recipe.TEST_SCENE_SEED,
                              **result["config"]["scenes"])
    monkeypatch.setattr(recipe, "test_scenes", lambda cfg: scenes)
    drawn = [ax for ax in draw("detection-predictions").axes if ax.images]
    missed = {m["scene"] for m in result["misses"]}
    order = sorted((int(n) for n in result["detections"]), key=lambda n: (n not in missed, n))[:12]
    assert [ax.get_title() for ax in drawn] == [f"scene {n}" + (" (a miss)" if n in missed else "") for n in order]
    for ax, n in zip(drawn, order):  # every box labelled: each detection of score 0.5 or more, and each miss
        kept = sum(score >= 0.5 for score in result["detections"][str(n)]["scores"])
        assert len(ax.texts) >= kept


@content("intro-cifar10-examples")
def check_cifar10_examples(monkeypatch):
    train = images(150, 10)
    monkeypatch.setattr(data, "load_cifar10", lambda *args, **kwargs: train)
    fig = draw("intro-cifar10-examples")
    assert len(fig.axes) == 10 * 10
    for row, name in enumerate(train.classes):
        axes = fig.axes[10 * row:10 * (row + 1)]
        assert axes[0].get_ylabel() == name
        assert all(shown(ax)[0][0, 0, 0] == row for ax in axes)  # every image of the row is of its class


@content("intro-crop-and-flip")
def check_crop_and_flip(monkeypatch):
    from coursekit import augment

    train = images(20, 10)
    monkeypatch.setattr(data, "load_cifar10", lambda *args, **kwargs: train)
    fig = draw("intro-crop-and-flip")
    first = train.images[:8]
    g = torch.Generator().manual_seed(0)
    rows = [first, augment.random_crop(first, padding=4, generator=g)]
    rows.append(augment.random_flip(augment.random_crop(first, 4, generator=g), generator=g))
    assert len(fig.axes) == 3 * 8
    assert [fig.axes[8 * r].get_title(loc="left") for r in range(3)] == [
        "original", "padded 4 px, random 32x32 crop", "then a random horizontal flip"]
    for r, row in enumerate(rows):
        for c, image in enumerate(row):
            np.testing.assert_array_equal(shown(fig.axes[8 * r + c])[0], picture(image))


@content("fewshot-augmentations")
def check_augmentation_gallery(monkeypatch):
    test = images(60, 10)
    monkeypatch.setattr(data, "load_cifar10", lambda *args, **kwargs: test)
    fig = draw("fewshot-augmentations")
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert len(titles) == 12 and titles[0] == "original" and titles[-1].startswith("TrivialAugment")
    assert len(fig.axes) == 12 * 6
    originals = test.images[data.stratified_indices(test.labels, 1, seed=3)[:6]]
    for c, image in enumerate(originals):
        np.testing.assert_array_equal(shown(fig.axes[c])[0], picture(image))
    np.testing.assert_array_equal(shown(fig.axes[2 * 6])[0], picture(originals[0].flip(-1)))  # the flip row


@content("vit-patches")
def check_vit_patches(monkeypatch):
    test = images(30, 10)
    monkeypatch.setattr(data, "load_cifar10", lambda *args, **kwargs: test)
    fig = draw("vit-patches")
    horse = test.images[7]  # the first test image of class 7
    np.testing.assert_array_equal(shown(fig.axes[0])[0], picture(horse))
    assert fig.axes[0].get_title() == "32 × 32 image, 4 × 4 patches"
    tiles = fig.axes[1:]
    assert len(tiles) == 64
    for i, ax in enumerate(tiles):
        r, c = divmod(i, 8)
        np.testing.assert_array_equal(shown(ax)[0], picture(horse[:, 4 * r:4 * r + 4, 4 * c:4 * c + 4]))


@content("transfer-pacs")
def check_pacs_examples(monkeypatch):
    sets = {}

    def load(name, split, image_size=64, **kwargs):
        assert name == "pacs" and image_size == 32
        sets[split] = images(28, 7, seed=len(sets))
        return sets[split]

    monkeypatch.setattr(data, "load_folder_dataset", load)
    fig = draw("transfer-pacs")
    assert list(sets) == ["photo", "sketch"] and len(fig.axes) == 2 * 14
    assert [fig.axes[0].get_title(loc="left"), fig.axes[14].get_title(loc="left")] == ["PACS photo", "PACS sketch"]
    for r, domain in enumerate(sets):
        picks = sets[domain].images[data.stratified_indices(sets[domain].labels, 2, seed=0)]
        for c, image in enumerate(picks):
            np.testing.assert_array_equal(shown(fig.axes[14 * r + c])[0], picture(image))


@content("detection-scenes")
def check_scene_gallery(monkeypatch):
    from coursekit.experiments import detection as recipe

    digits = images(200, 10, size=28, channels=1)
    monkeypatch.setattr(data, "load_mnist", lambda *args, **kwargs: digits)
    fig = draw("detection-scenes")
    scenes = data.make_scenes(digits, 8, seed=recipe.TEST_SCENE_SEED, **recipe.SCENES)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [f"scene {n}: {len(scenes.labels[n])} digit{'s' if len(scenes.labels[n]) != 1 else ''}"
                      for n in range(8)]
    for ax, labels in zip(fig.axes, scenes.labels):
        assert [t.get_text() for t in ax.texts] == [str(int(c)) for c in labels]


@content("detection-pipeline")
def check_faster_rcnn_pipeline(monkeypatch):
    from coursekit.experiments import detection as recipe

    model = recipe.digit_faster_rcnn()
    text = " ".join(t.get_text() for ax in draw("detection-pipeline").axes for t in ax.texts)
    anchors = model.rpn.anchor_generator
    per_cell = len(anchors.sizes[0]) * len(anchors.aspect_ratios[0])
    assert f"RPN: {per_cell} anchors per cell" in text
    assert f"(sizes {', '.join(str(s) for s in anchors.sizes[0])};" in text
    assert f"{model.roi_heads.box_predictor.cls_score.out_features} class scores" in text
    assert f"two FC layers of {model.roi_heads.box_head.fc7.out_features}" in text
    assert f"NMS → {model.rpn._post_nms_top_n['testing']} proposals" in text


@content("ilsvrc-top5")
def check_ilsvrc_top5(monkeypatch):
    from coursekit.experiments.classic import HUMAN_TOP5_ERROR

    winners = figures.ilsvrc_winners()
    ax = draw("ilsvrc-top5").axes[0]
    years = sorted(winners)
    assert [bar.get_x() + bar.get_width() / 2 for bar in ax.patches] == pytest.approx(years)
    assert [bar.get_height() for bar in ax.patches] == pytest.approx([winners[y]["top5_error_percent"] for y in years])
    assert [ys(line) for line in ax.lines if len(ys(line)) == 2 and xs(line) == [0, 1]] == [[HUMAN_TOP5_ERROR] * 2]


@content("model-zoo")
def check_model_zoo(monkeypatch):
    rows = figures.zoo_table()
    ax = draw("model-zoo").axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [(r["gflops"], r["top1"]) for r in rows])
    assert ax.get_title().startswith(f"torchvision's {len(rows)} ImageNet classifiers")


ARCHITECTURE_UNITS = {  # the boxes each network is drawn with, counted from the papers' tables
    "alexnet": dict(units=12, first="conv 11x11/4, 64", kinds={"conv": 5, "maxpool 3": 3, "fc": 3}),
    "vgg16": dict(units=22, first="conv 3x3, 64", kinds={"conv": 13, "maxpool 2": 5, "fc": 3}),
    "googlenet": dict(units=18, first="conv 7x7/2, 64", kinds={"Inception": 9, "fc": 1}),
    "resnet18": dict(units=12, first="conv 7x7/2, 64", kinds={"BasicBlock": 8, "global avgpool": 1, "fc": 1}),
}


@content(*(f"architecture-{name}" for name in ARCHITECTURE_UNITS))
def check_architectures(monkeypatch):
    from coursekit.figures import classic

    create = models.create

    def on_meta(*args, **kwargs):  # shapes only: the same network without the cost of its 224-pixel forward pass
        with torch.device("meta"):
            return create(*args, **kwargs)

    monkeypatch.setattr(classic.models, "create", on_meta)
    assert set(classic.ARCHITECTURES) == set(ARCHITECTURE_UNITS)
    for name, expected in ARCHITECTURE_UNITS.items():
        ax = draw(f"architecture-{name}").axes[0]
        labels = [t.get_text() for t in ax.texts if t.get_position()[1] > 0]
        assert len(ax.patches) == len(labels) == expected["units"], name
        assert labels[0] == expected["first"], name
        for kind, count in expected["kinds"].items():
            assert sum(label.startswith(kind) for label in labels) == count, (name, kind)
        params = models.count_parameters(on_meta(name, num_classes=1000))
        assert ax.get_title() == (f"{classic.ARCHITECTURES[name][0]}: {expected['units']} units, {params / 1e6:.1f} M "
                                  "parameters, input 3x224x224"), name
        plt.close("all")


@content("diagram-inception-3a", "diagram-residual-blocks", "diagram-encoder-block")
def check_registered_diagrams(monkeypatch):
    def text(name):
        fig = draw(name)
        return [t.get_text() for ax in fig.axes for t in ax.texts] + [ax.get_title() for ax in fig.axes]

    assert "concatenate along channels: 256 channels" in text("diagram-inception-3a")  # 64 + 128 + 32 + 32
    residual = text("diagram-residual-blocks")
    assert "shortcut:\nidentity" in residual and "1×1 conv, 256 + BN" in residual
    tokens = models.create("vit_cifar").tokens(torch.zeros(1, 3, 32, 32)).shape  # (1, 65, 192)
    assert f"tokens: {tokens[1]} × {tokens[2]}" in text("diagram-encoder-block")


@content("resnet20-first-layer", "resnet20-grad-cam")
def check_published_resnet20_views(monkeypatch):
    torch.manual_seed(0)
    network = models.create("resnet20").eval()
    test = images(40, 10)
    monkeypatch.setattr(models, "cifar_resnet", lambda name: network)
    monkeypatch.setattr(data, "load_cifar10", lambda *args, **kwargs: test)
    filters = [ax for ax in draw("resnet20-first-layer").axes if ax.images]
    weights = network.conv1.weight.detach()
    assert len(filters) == len(weights) == 16
    for ax, w in zip(filters, weights):
        np.testing.assert_allclose(shown(ax)[0], ((w - w.min()) / (w.max() - w.min())).permute(1, 2, 0).numpy(),
                                   rtol=1e-5, atol=1e-6)
    fig = draw("resnet20-grad-cam")
    assert len(fig.axes) == 2 * 8 and all(len(ax.images) == 2 for ax in fig.axes[8:])
    index = data.stratified_indices(test.labels, 1, seed=0)[:8]
    truths = [ax.get_title().split("(true: ")[1].rstrip(")") for ax in fig.axes[:8]]
    assert truths == [test.classes[int(test.labels[i])] for i in index]


@content("pretrained-top5")
def check_ant_bee_top5(monkeypatch):
    from types import SimpleNamespace

    photos = images(12, 2, size=40)
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(), torch.nn.Linear(12, 1000)).eval()
    network.weights = SimpleNamespace(transforms=lambda: (lambda x: x.float() / 255),
                                      meta=dict(categories=[f"category {i}" for i in range(1000)]))
    monkeypatch.setattr(data, "load_folder_dataset", lambda name, split, image_size=64, **kw: photos)
    monkeypatch.setattr(models, "pretrained", lambda name: network)
    fig = draw("pretrained-top5")
    chosen = photos.images[data.stratified_indices(photos.labels, 3, seed=0)]
    with torch.no_grad():
        best = network(chosen.float() / 255).softmax(1).topk(5, dim=1)
    bars = [ax for ax in fig.axes if ax.patches]
    assert len(bars) == len(chosen) == 6
    for ax, probs, classes in zip(bars, best.values, best.indices):
        assert [bar.get_width() for bar in ax.patches] == pytest.approx((100 * probs).tolist(), rel=1e-4)
        assert [t.get_text() for t in ax.get_yticklabels()] == [f"category {int(c)}" for c in classes]  # best first, on top


@content("lite0-first-layer", "lite0-grad-cam")
def check_lite0_views(monkeypatch):
    network = models.pretrained("efficientnet_lite0")  # comes with coursekit: no download
    photos = images(8, 2, size=224)
    monkeypatch.setattr(data, "load_folder_dataset", lambda name, split, image_size=64, **kw: photos)
    filters = [ax for ax in draw("lite0-first-layer").axes if ax.images]
    assert len(filters) == len(network.conv_stem.weight) == 32
    w = network.conv_stem.weight.detach()[5]
    np.testing.assert_allclose(shown(filters[5])[0], ((w - w.min()) / (w.max() - w.min())).permute(1, 2, 0).numpy(),
                               rtol=1e-5, atol=1e-6)
    fig = draw("lite0-grad-cam")
    assert len(fig.axes) == 2 * 6 and all(len(ax.images) == 2 for ax in fig.axes[6:])
    titles = [ax.get_title() for ax in fig.axes[:6]]
    assert [t.split("(true: ")[1].rstrip(")") for t in titles] == ["class0", "class1"] * 3  # the classes in turn
    assert all(t.split("\n")[0] in network.weights.meta["categories"] for t in titles)  # ImageNet's names


@content("cars-position-interpolation")
def check_position_interpolation(monkeypatch):
    fig = draw("cars-position-interpolation", [])
    grids = [shown(ax)[0] for ax in fig.axes]
    assert [g.shape for g in grids] == [(14, 14), (24, 24), (14, 14), (24, 24)]
    for similarity, side in ((grids[2], 14), (grids[3], 24)):  # each position is most like itself
        assert similarity[side // 3, side // 3] == pytest.approx(1.0) and similarity.max() == pytest.approx(1.0)
    assert "14 x 14 to 24 x 24" in fig.get_suptitle()


@content("ages-data")
def check_ages_data(monkeypatch):
    who = data.utkface_attributes("train")
    fig = draw("ages-data", [])
    ages_ax, groups_ax = fig.axes
    assert sum(p.get_height() for p in ages_ax.patches) == len(who["age"])
    shares = [100 * float((who["race"] == r).float().mean()) for r in range(len(data.utkface.RACES))]
    assert [p.get_width() for p in groups_ax.patches][2:] == pytest.approx(shares)


@content("ages-predicted")
def check_ages_predicted(monkeypatch):
    (result,) = stored("ages_cnn_l1")
    truth = data.load_utkface("test", result["config"]["image_size"]).labels
    ax = draw("ages-predicted").axes[0]
    points = ax.collections[0].get_offsets()
    assert np.asarray(points)[:, 1] == pytest.approx(result["metrics"]["predicted"])
    assert np.asarray(points)[:, 0] == pytest.approx(truth.float().numpy())


@content("ages-errors-by-race")
def check_ages_by_race(monkeypatch):
    (result,) = stored("ages_lite0_finetune")
    who = data.utkface_attributes("test")
    errors = experiments.ages.group_errors(result, who["age"], who["race"])
    ax = draw("ages-errors-by-race").axes[0]
    means = [float(bar.lines[0].get_xdata()[0]) for bar in ax.containers]  # each error bar's centre
    assert means == pytest.approx([mean(errors[g].values()) for g in sorted(errors)])
    assert [t.get_text() for t in ax.get_yticklabels()] == [data.utkface.RACES[g] for g in sorted(errors)]


@content("ages-gradcam")
def check_ages_gradcam(monkeypatch):
    (result,) = stored("ages_lite0_finetune")
    found = result["metrics"]["gradcam"]
    faces = data.load_utkface("test", result["config"]["image_size"])
    fig = draw("ages-gradcam")
    assert len(fig.axes) == len(found["images"]) == 8
    for ax, k in zip(fig.axes, found["images"]):
        np.testing.assert_array_equal(shown(ax)[0], picture(faces.images[k]))
        assert ax.get_title().startswith(f"true {int(faces.labels[k])}\n")


def cars_first_tuned(result: dict) -> dict:
    return next(r for r in result["metrics"]["rows"] if r["method"] == "fine-tune" and r["seed"] == result["config"]["seeds"][0])


@content("cars-makes")
def check_cars_makes(monkeypatch):
    (result,) = stored("cars_finetune")
    classes = data.load_stanford_cars("test", result["config"]["image_size"]).classes
    right, total = {}, {}
    for true, predicted, n in cars_first_tuned(result)["confusion"]:
        make = experiments.finegrained.make_of(classes[true])
        right[make] = right.get(make, 0) + (n if true == predicted else 0)
        total[make] = total.get(make, 0) + n
    ax = draw("cars-makes").axes[0]
    shown_makes = [t.get_text() for t in ax.get_yticklabels()]
    assert shown_makes and all(total[m] >= 10 for m in shown_makes)
    assert set(shown_makes) == {m for m, n in total.items() if n >= 10}
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == pytest.approx([100 * right[m] / total[m] for m in shown_makes])
    assert widths == sorted(widths)  # worst first


@content("cars-confusable")
def check_cars_confusable(monkeypatch):
    (result,) = stored("cars_finetune")
    test = data.load_stanford_cars("test", result["config"]["image_size"])
    pairs = experiments.finegrained.confused_pairs(cars_first_tuned(result)["confusion"], test.classes)[:3]
    fig = draw("cars-confusable")
    titled = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titled == [name for a, b, _ in pairs for name in (a, b)]
    first = fig.axes[0]
    label = test.classes.index(pairs[0][0])
    assert any((shown(first)[0] == picture(test.images[k])).all() for k in (test.labels == label).nonzero().flatten())


@content("cars-gradcam")
def check_cars_gradcam(monkeypatch):
    (result,) = stored("cars_finetune")
    test = data.load_stanford_cars("test", result["config"]["image_size"])
    found = cars_first_tuned(result)["gradcam"]
    right = [k for k, p in zip(found["images"], found["predicted"]) if int(test.labels[k]) == p]
    wrong = [k for k, p in zip(found["images"], found["predicted"]) if int(test.labels[k]) != p]
    fig = draw("cars-gradcam")
    columns = max(len(right), len(wrong), 1)
    for row, chosen in enumerate((right, wrong)):
        for col, k in enumerate(chosen):
            ax = fig.axes[row * columns + col]
            np.testing.assert_array_equal(shown(ax)[0], picture(test.images[k]))
            assert ax.get_title().startswith(textwrap.fill(test.classes[found["predicted"][found["images"].index(k)]], 24))


@content("cars-methods")
def check_cars_methods(monkeypatch):
    runs = experiments.finegrained.compared_runs(*stored("cars_scratch_resnet", "cars_scratch_vit", "cars_finetune"))
    ax = draw("cars-methods").axes[0]
    centres = [float(bar.lines[0].get_xdata()[0]) for bar in ax.containers]  # each error bar's centre
    assert centres == pytest.approx([statistics.mean(seed_values(r["metrics"]["rows"], scale=100, method=m).values())
                                     for r, m in runs.values()])
    assert [t.get_text() for t in ax.get_yticklabels()] == list(runs)
    classes = runs[next(iter(runs))][0]["provenance"]["data"]["targets"]["stanford-cars"]["classes"]
    assert ax.lines[-1].get_xdata()[0] == pytest.approx(100 / classes)  # chance


@content("cars-resolution")
def check_cars_resolution(monkeypatch):
    by_pixels = experiments.finegrained.by_pixels(
        stored("cars_finetune", *(f"cars_res_{p}" for p in experiments.finegrained.RESOLUTIONS)))
    sizes = sorted(by_pixels)
    accuracy, cost = draw("cars-resolution").axes
    first = lambda r, m: seed_values(r["metrics"]["rows"], scale=100, method=m)[r["config"]["seeds"][0]]  # noqa: E731
    for line, method in zip(accuracy.lines, ("deep probe", "fine-tune")):
        assert list(line.get_xdata()) == sizes
        assert list(line.get_ydata()) == pytest.approx([first(by_pixels[p], method) for p in sizes])
    seconds = [next(r["seconds"] for r in by_pixels[p]["metrics"]["rows"] if r["method"] == "fine-tune"
                    and r["seed"] == by_pixels[p]["config"]["seeds"][0]) for p in sizes]
    assert [bar.get_height() for bar in cost.patches] == pytest.approx([s / 60 for s in seconds])


def test_every_registered_figure_has_a_check_of_its_content():
    assert set(figures.FIGURES) - set(CONTENT) == set(), "a registered figure without a content check below"
    assert set(CONTENT) - set(figures.FIGURES) == set(), "a content check of a figure that is no longer registered"


@pytest.mark.parametrize("check", sorted(set(CONTENT.values()), key=lambda c: c.__name__),
                         ids=lambda c: c.__name__.removeprefix("check_"))
def test_figure_content(check, monkeypatch):
    try:
        check(monkeypatch)
    finally:
        plt.close("all")


def test_an_export_says_which_results_are_stale_and_which_are_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results"))
    old = fake_result()
    old["config"] = dict(old["config"], epochs=old["config"]["epochs"] + 1)  # made with another configuration
    old["config_hash"] = store.config_hash(old["config"])
    store.save_result(old)
    _, skipped = figures.export(tmp_path / "out", ("png",), profile="quick",
                                names=["intro-learning-curves", "classic-learning-curves"])
    assert skipped["intro-learning-curves"] == "the stored result of intro_cnn is stale (made with another configuration)"
    assert skipped["classic-learning-curves"].startswith("no stored result of ")
