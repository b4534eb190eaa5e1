"""The readings of chapter "intro": on the stored quick result, and on constructed results that reach
each wording."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import torch

from conftest import stored_result
from coursekit import diagnostics
from coursekit.experiments import intro


@pytest.fixture(scope="module")
def stored() -> dict:
    return stored_result("intro_cnn")  # fails, saying what to run, when it is missing or stale


def constructed(train_accuracy: float = 0.8, test_accuracy: float = 0.7, confusion=None) -> dict:
    """A result with just the fields the facts read."""
    confusion = confusion or [[50, 3, 1], [9, 40, 2], [0, 4, 45]]
    return dict(profile="quick",
                metrics=dict(accuracy=0.7345, top5=0.9876, macro_f1=0.71234, images=154, confusion=confusion,
                             classes=["cat", "dog", "ship"]),
                history=[dict(train_accuracy=0.5, test_accuracy=0.5),
                         dict(train_accuracy=train_accuracy, test_accuracy=test_accuracy)],
                cost=dict(images_per_second=1234.4, train_seconds=150.0),
                provenance=dict(device="CPU (test)", data=dict(train=dict(images=20000))))


def test_facts_agree_with_the_stored_result(stored):
    facts = intro.facts(stored)
    metrics, cost, last = stored["metrics"], stored["cost"], stored["history"][-1]
    assert float(facts["intro_accuracy"].removesuffix(" %")) == pytest.approx(100 * metrics["accuracy"], abs=0.05)
    assert float(facts["intro_top5"].removesuffix(" %")) == pytest.approx(100 * metrics["top5"], abs=0.05)
    assert float(facts["intro_f1"]) == pytest.approx(metrics["macro_f1"], abs=5e-4)
    assert facts["intro_epochs"] == str(len(stored["history"]))
    assert int(facts["intro_test_images"].replace(",", "")) == metrics["images"] == sum(map(sum, metrics["confusion"]))
    assert int(facts["intro_train_images"].replace(",", "")) == stored["provenance"]["data"]["train"]["images"]
    assert float(facts["intro_train_time"].removesuffix(" minutes")) == pytest.approx(cost["train_seconds"] / 60, abs=0.05)
    assert facts["intro_profile"] == "quick" and facts["intro_device"] == stored["provenance"]["device"]
    gap = float(facts["intro_gap"].removesuffix(" points"))
    assert gap == pytest.approx(100 * (last["train_accuracy"] - last["test_accuracy"]), abs=0.05)
    verdict = diagnostics.fit_verdict(100 * last["train_accuracy"], 100 * last["test_accuracy"])
    assert ("overfit" in facts["intro_gap_reading"]) == (verdict == "over-fits")
    assert ("not yet learnt" in facts["intro_gap_reading"]) == (verdict == "under-fits")
    # the pair named is the most confused one, counting both directions
    a, b = facts["intro_confused"].split(" and ")
    i, j = metrics["classes"].index(a), metrics["classes"].index(b)
    c = metrics["confusion"]
    count = c[i][j] + c[j][i]
    assert int(facts["intro_confused_count"].replace(",", "")) == count
    assert all(c[k][m] + c[m][k] <= count for k in range(len(c)) for m in range(len(c)) if k != m)
    assert facts["intro_chance"] == "10 %" and len(metrics["classes"]) == 10


def test_the_recipe_is_read_from_the_run_and_the_functions_it_calls(stored):
    import inspect

    from coursekit import augment, train

    facts = intro.facts(stored)
    warmup = inspect.signature(train.make_schedule).parameters["warmup"].default
    assert facts["intro_warmup"] == f"{100 * warmup:g} %" == "20 %"
    assert facts["intro_crop_padding"] == str(stored["config"]["crop_padding"])
    p = inspect.signature(augment.random_flip).parameters["p"].default
    assert stored["config"]["flip"] and facts["intro_flip"] == f"{100 * p:g} %" == "50 %"
    assert intro.facts_recipe(dict(crop_padding=2, flip=False)) == {
        "intro_warmup": "20 %", "intro_crop_padding": "2", "intro_flip": "0 %"}


@pytest.mark.parametrize("width", [32, 8])
def test_the_network_and_the_exercise_are_read_from_the_model(width):
    from coursekit import models

    model = models.create("small_cnn", num_classes=10, width=width)
    facts = intro.facts_network(model)
    assert facts["intro_plan"] == "three stages of two 3 × 3 convolutions"
    first = model.features[0]
    conv = models.count_parameters(first[0])
    assert facts["intro_ex_conv"] == f"3 × 3 × 3 × {width} = {conv:,}" and conv == 27 * width
    assert facts["intro_ex_bn"] == f"2 × {width} = {2 * width}"
    assert facts["intro_ex_total"] == f"{models.count_parameters(first):,}"
    assert facts["intro_ex_width"] == str(width)
    assert facts["intro_ex_layer"] == f"a 3 × 3 convolution from 3 to {width} channels"


def test_the_plan_counts_stages_and_convolutions():
    from torch import nn

    from coursekit.models.small import conv_bn_relu

    class Net(nn.Module):  # two stages of three convolutions
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(conv_bn_relu(3, 4), conv_bn_relu(4, 4), conv_bn_relu(4, 4),
                                          nn.MaxPool2d(2), *(conv_bn_relu(4, 4) for _ in range(3)), nn.MaxPool2d(2))

    assert intro.facts_network(Net())["intro_plan"] == "two stages of three 3 × 3 convolutions"


def test_run_facts_are_formatted_as_the_text_writes_them():
    facts = intro.facts_run(constructed())
    assert facts == {"intro_accuracy": "73.5 %", "intro_top5": "98.8 %", "intro_f1": "0.712", "intro_epochs": "2",
                     "intro_train_images": "20,000", "intro_test_images": "154", "intro_speed": "1,234",
                     "intro_train_time": "2.5 minutes", "intro_device": "CPU (test)", "intro_profile": "quick",
                     "intro_chance": "33.3 %"}  # three classes


@pytest.mark.parametrize("train, test, verdict", [(0.90, 0.78, "over-fits"), (0.90, 0.85, "fits"), (0.80, 0.60, "under-fits"),
                                                  (0.70, 0.72, "under-fits"), (0.86, 0.761, "fits"),
                                                  (0.86, 0.759, "over-fits"), (0.849, 0.60, "under-fits")])
def test_gap_reading(train, test, verdict):
    """The book's one rule (diagnostics.fit_verdict): under 85 % on its own training images a network
    under-fits whatever the gap; above, a gap of more than 10 points is over-fitting."""
    facts = intro.facts_gap(constructed(train, test))
    assert facts["intro_gap"] == f"{100 * (train - test):+.1f} points"
    reading = facts["intro_gap_reading"]
    assert reading == intro.GAP_WORDS[verdict].format(fits="85 %")
    assert ("begun to overfit" in reading) == (verdict == "over-fits") and ("85 %" in reading) == (verdict == "under-fits")


def test_gap_is_signed():
    assert intro.facts_gap(constructed(0.70, 0.72))["intro_gap"] == "-2.0 points"


def test_most_confused_pair_counts_both_directions():
    # cat->dog 3 + dog->cat 9 = 12; dog->ship 2 + ship->dog 4 = 6; cat/ship 1
    facts = intro.facts_confusion(constructed())
    assert facts == {"intro_confused": "cat and dog", "intro_confused_count": "12"}
    # one large direction does not win over a pair whose two directions add up to more
    facts = intro.facts_confusion(constructed(confusion=[[9, 7, 0], [0, 9, 5], [0, 4, 9]]))
    assert facts == {"intro_confused": "dog and ship", "intro_confused_count": "9"}


def test_a_tie_names_the_first_pair():
    facts = intro.facts_confusion(constructed(confusion=[[9, 2, 0], [0, 9, 1], [0, 1, 9]]))
    assert facts["intro_confused"] == "cat and dog" and facts["intro_confused_count"] == "2"


def test_images_per_class():
    balanced = SimpleNamespace(labels=torch.arange(3).repeat(5000))
    assert intro.facts_data(balanced) == {"intro_per_class": "5,000"}
    unbalanced = SimpleNamespace(labels=torch.tensor([0] * 1990 + [1] * 2010 + [2] * 2000))
    assert intro.facts_data(unbalanced)["intro_per_class"] == "1,990 to 2,000 to 2,010"
    assert re.fullmatch(r"[\d,]+( to [\d,]+)*", intro.facts_data(unbalanced)["intro_per_class"])


def fast_result(accuracy: float = 0.92, validation: float | None = 0.93) -> dict:
    row = dict(epoch=10, train_loss=0.5, seconds=1200.0, images_per_second=400.0)
    if validation is not None:
        row["validation_accuracy"] = validation
    return dict(experiment="intro_fast", profile="quick", metrics=dict(accuracy=accuracy), history=[row] * 10,
                config=dict(validation_per_class=500, translate=2, lookahead_every=5),
                cost=dict(train_seconds=1200.0, images_per_second=400.0, precision="float32", parameters=1_970_000,
                          macs=118_000_000),
                provenance=dict(device="CPU test", torch="2.x", date="2026-11-30T01:00:00+00:00", wall_seconds=1300.0,
                                data=dict(train=dict(kind="image-folder", images=45_000), test=dict(images=10_000))))


def small_result(accuracy: float) -> dict:
    """The small CNN's result as facts_fast reads it: accuracy, history, parameters, operations and images."""
    return dict(metrics=dict(accuracy=accuracy), history=[dict(epoch=i) for i in range(10)],
                cost=dict(parameters=290_000, macs=38_000_000),
                provenance=dict(data=dict(train=dict(images=20_000))))


@pytest.mark.parametrize("fast, small, wording", [
    (0.92, 0.80, "12.0 points more than the small CNN"),
    (0.70, 0.80, "10.0 points less than the small CNN"),
    (0.80, 0.80, "as much as the small CNN"),
])
def test_fast_recipe_against_the_small_cnn(fast, small, wording):
    facts = intro.facts_fast(fast_result(fast), small_result(small))
    assert facts["intro_fast_gain"] == wording
    assert facts["intro_fast_differs"] == ("2.2 times the training images (45,000 against 20,000), 6.8 times the "
                                           "parameters (1.97 million against 0.29 million) and 7.0 times the arithmetic "
                                           "of training (multiply-accumulates per image, times images, times epochs)")
    assert facts["intro_fast_accuracy"] == f"{100 * fast:.1f} %" and facts["intro_fast_time"] == "20.0 minutes"
    assert facts["intro_fast_train_images"] == "45,000" and facts["intro_fast_validation"] == "93.0 %"
    assert (facts["intro_fast_held_out"], facts["intro_fast_translate"], facts["intro_fast_lookahead_every"]) == \
        ("500", "2", "5")
    assert facts["intro_fast_groups"] == "three convolution groups (64, 256 and 256 channels)"
    assert (facts["intro_fast_whiten"], facts["intro_fast_patch"]) == ("2 × 2", "12")  # 3 channels x 2 x 2


def test_the_fast_network_is_built_from_the_runs_configuration():
    from coursekit import models

    facts = intro.facts_fast_network(dict(model_args=dict(widths=[8, 16, 32])))
    assert facts["intro_fast_groups"] == "three convolution groups (8, 16 and 32 channels)"
    net = models.create("fast_cifar")
    assert facts["intro_fast_whiten"] == "{} × {}".format(*net.whiten.kernel_size)
    assert int(facts["intro_fast_patch"]) == net.whiten.weight[0].numel()


def test_fast_recipe_without_validation_says_so():
    facts = intro.facts_fast(fast_result(validation=None), small_result(0.5))
    assert facts["intro_fast_validation"] == "not measured"


def test_the_copy_of_cifar10_is_named():
    original = intro.facts_data_copy(dict(kind="torchvision", description="original CIFAR-10"))["intro_data_copy"]
    assert original.startswith("the original CIFAR-10") and "JPEG" not in original
    copy = intro.facts_data_copy(dict(kind="image-folder", description="ImageFolder copy of CIFAR-10 (test)"))
    assert "ImageFolder copy of CIFAR-10 (test)" in copy["intro_data_copy"] and "JPEG" in copy["intro_data_copy"]


def test_the_interval_factor_for_three_seeds():
    facts = intro.facts_intervals()
    assert facts["intro_t3"] == "4.30"
    # the worked example: diffs 1.6, 1.7, 1.5 (std 0.1): 4.30 x 0.1 / sqrt(3) = 0.25 on either side
    assert facts["intro_ex_diffs"] == "+1.6, +1.7, +1.5" and facts["intro_ex_std"] == "0.10"
    assert facts["intro_ex_paired"] == "+1.6 ± 0.2 points" and facts["intro_ex_verdict"] == "clear: A is ahead"
    assert facts["intro_ex_unpaired"] == "+1.6 ± 3.1 points"  # the same means, unpaired: not clear
    level = intro.facts_intervals({"A": {0: 70.0, 1: 71.0, 2: 69.0}, "B": {0: 71.0, 1: 70.0, 2: 69.0}})
    assert level["intro_ex_verdict"] == "not clear"
    behind = intro.facts_intervals({"A": {0: 68.0, 1: 69.0, 2: 70.0}, "B": {0: 70.0, 1: 71.0, 2: 72.1}})
    assert behind["intro_ex_verdict"] == "clear: B is ahead"


def test_fast_facts_on_the_stored_run():
    result = stored_result("intro_fast")
    facts = intro.facts_fast(result, stored_result("intro_cnn"))
    assert facts["intro_fast_accuracy"] == f"{100 * result['metrics']['accuracy']:.1f} %"
    assert facts["intro_fast_held_out"] == f"{result['config']['validation_per_class']:,}"
    assert facts["intro_fast_epochs"] == str(result["config"]["epochs"])
    widths = models_widths(result["config"])
    assert facts["intro_fast_groups"].endswith(f"({', '.join(map(str, widths[:-1]))} and {widths[-1]} channels)")


def models_widths(config: dict) -> list[int]:
    """The channels of the fast network's groups as the run's configuration builds it."""
    from coursekit import models

    net = models.create("fast_cifar", **config.get("model_args", {}))
    return [m.out_channels for m in net.groups.modules() if type(m).__name__ == "Conv2d"][::2]


# --- the French edition (COURSEKIT_LANG=fr) --------------------------------------------------------

def test_readings_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    facts = (intro.facts_run(constructed()) | intro.facts_gap(constructed(0.90, 0.78))
             | intro.facts_confusion(constructed()))
    assert facts["intro_accuracy"] == "73,5\u202f%" and facts["intro_train_images"] == "20\u202f000"
    assert facts["intro_speed"] == "1\u202f234" and facts["intro_f1"] == "0,712"
    assert facts["intro_train_time"] == "2,5 minutes" and facts["intro_chance"] == "33,3\u202f%"
    assert facts["intro_gap"] == "+12,0 points" and "a commencé à surapprendre" in facts["intro_gap_reading"]
    assert facts["intro_confused"] == "«\u00a0chat\u00a0» et «\u00a0chien\u00a0»"
    under = intro.facts_gap(constructed(0.70, 0.69))
    assert under["intro_gap"] == "+1,0 point" and "moins de 85\u202f%" in under["intro_gap_reading"]
    fast = intro.facts_fast(fast_result(0.92), small_result(0.915))
    assert fast["intro_fast_gain"] == "0,5 point de plus que le petit CNN"
    assert fast["intro_fast_groups"] == "trois groupes de convolutions (64, 256 et 256 canaux)"
    assert fast["intro_fast_parameters"] == "1,97 million" and fast["intro_fast_time"] == "20,0 minutes"
    assert fast["intro_fast_differs"].startswith(
        "2,2 fois le nombre d'images d'entraînement (45\u202f000 contre 20\u202f000)")
    assert intro.facts_fast(fast_result(0.70, None), small_result(0.80))["intro_fast_gain"] == \
        "10,0 points de moins que le petit CNN"
    assert intro.facts_network(intro.models.create("small_cnn", num_classes=10, width=64))["intro_plan"] == \
        "trois étages de deux convolutions 3 × 3"
    example = intro.facts_intervals()
    assert example["intro_ex_a"] == "71,2\u202f; 68,9\u202f; 70,4" and example["intro_t3"] == "4,30"
    assert example["intro_ex_means"] == "70,2 ± 2,9\u202f% et 68,6 ± 3,1\u202f%"
    assert example["intro_ex_verdict"] == "nette\u00a0: A est en tête"
    assert example["intro_ex_paired"] == "+1,6 ± 0,2 points"
    assert intro.facts_recipe(dict(crop_padding=2, flip=True))["intro_flip"] == "50\u202f%"
    assert intro.facts_data(SimpleNamespace(labels=torch.tensor([0] * 1990 + [1] * 2010))) == {
        "intro_per_class": "1\u202f990 à 2\u202f010"}
    monkeypatch.setenv("COURSEKIT_LANG", "en")  # and English again, as it always was
    assert intro.facts_run(constructed())["intro_accuracy"] == "73.5 %"


def test_the_fast_recipe_figure_in_french(monkeypatch):
    from coursekit.figures import intro as drawn

    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    loss, accuracy = drawn.fast_curves(fast_result()).axes
    assert loss.get_title() == "Recette rapide\u00a0: perte d'entraînement" and loss.get_xlabel() == "époque"
    assert accuracy.get_title() == "Exactitude par époque"
    assert [line.get_label() for line in accuracy.lines] == [
        "recette rapide, images de validation mises de côté", "recette rapide, ensemble de test (une fois, avec TTA)"]
    rows = drawn.crop_and_flip(torch.zeros(8, 3, 32, 32, dtype=torch.uint8))
    assert rows.axes[8].get_title(loc="left") == "marge de 4 px, recadrage aléatoire 32 × 32"
    assert rows.axes[16].get_title(loc="left") == "puis un retournement horizontal aléatoire"
