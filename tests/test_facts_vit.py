"""The readings of chapter "vit" (``experiments.vit.facts_*``): on the stored quick results, consistent
with their numbers; on constructed results, every wording chosen where it should be."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from conftest import stored_result
from coursekit import diagnostics, experiments, models, stats, store
from coursekit.experiments import core
from coursekit.experiments import vit as facts
from coursekit.results import RunResult

PROVENANCE = dict(device="CPU test", torch="2.x", git_commit="abc", date="2026-11-23T10:00:00+00:00",
                  wall_seconds=75.0, data=dict(summary="test data"))
MIDDLE = facts.SIZES[1]
STORED = ["vs_lr_find", "vs_lite0", f"vs_vit_{facts.STRONG_SIZE}_strong"] + [f"vs_{m}_{n}" for m in ("resnet20", "vit")
                                                                 for n in facts.SIZES]


@pytest.fixture(scope="module")
def quick():
    return {name: stored_result(name) for name in STORED}  # fails, saying what to run, when missing or stale


def run(name: str = "vs_test", accuracy: float | list[float] = 0.5, train: float = 0.9,
        losses: tuple[float, ...] = (2.0, 1.0, 0.5, 0.5), **fields) -> dict:
    """A constructed result over seeds: ``accuracy`` per seed (one value: three equal seeds), each seed on
    the loss curve ``losses`` and ending at training accuracy ``train``."""
    accuracies = accuracy if isinstance(accuracy, list) else [accuracy] * 3
    history = [dict(train_loss=v, train_accuracy=train, images_per_second=100.0) for v in losses]
    seeds = [dict(seed=i, metrics=dict(accuracy=a), history=history) for i, a in enumerate(accuracies)]
    return dict(dict(experiment=name, profile="quick", provenance=PROVENANCE, metrics=dict(accuracy=accuracies[0]),
                     history=history, seeds=seeds, config=dict(seed=0)), **fields)


def points(text: str) -> float:
    return float(text.split()[0])


def seeds(result: dict) -> list[float]:
    return [100 * s["metrics"]["accuracy"] for s in result["seeds"]]


# --- on the stored quick results --------------------------------------------------------------

def test_lr_find_on_the_stored_range_tests(quick):
    result = quick["vs_lr_find"]
    found = facts.facts_lr_find(result)
    for name, curve in result["metrics"].items():
        reading = found["vit_lr_resnet_reading" if name.startswith("ResNet") else "vit_lr_vit_reading"]
        rule = experiments.cifar.chosen_lr(curve)
        assert f"lowest at {curve['minimum']:.1e}, so the rule gives {rule:g};" in reading
        assert 0.5 * curve["minimum"] <= rule <= 1.5 * curve["minimum"]  # one significant figure
        assert ("where the test stopped" in reading) == (len(curve["lrs"]) < result["config"]["steps"])
    minima = [c["minimum"] for c in result["metrics"].values()]
    assert float(found["vit_lr_ratio"].replace(",", "")) == round(max(minima) / min(minima))
    used = [c["chosen_lr"] for c in result["metrics"].values()]
    assert float(found["vit_lr_used_ratio"].replace(",", "")) == round(max(used) / min(used))
    assert found["vit_lr_provenance"].startswith("vs_lr_find · profile quick")


def test_every_comparison_rests_on_three_seeds_or_more(quick):
    for name, result in quick.items():
        if name != "vs_lr_find":
            seeds = result["seeds"] if "seeds" in result else result["config"]["seeds"]  # vs_lite0: a table of runs
            assert len(seeds) >= 3, name


def test_same_budget_on_the_stored_runs(quick):
    resnet, vit = quick[f"vs_resnet20_{MIDDLE}"], quick[f"vs_vit_{MIDDLE}"]
    found = facts.facts_same_budget(resnet, vit)
    r, v = seeds(resnet), seeds(vit)
    assert points(found["vit_same_resnet"]) == pytest.approx(sum(r) / len(r), abs=0.051)
    d, h = stats.mean_interval([a - b for a, b in zip(r, v)])[::2]
    if stats.separated(d, h):
        assert found["vit_same_reading"].startswith(f"the {'ResNet' if d > 0 else 'ViT'} is ahead by {abs(d):.1f} ±")
    else:
        assert found["vit_same_reading"].startswith("the seeds cannot tell the two apart")
    assert found["vit_same_provenance"].count("vs_") == 2
    largest = quick[f"vs_resnet20_{facts.SIZES[-1]}"], quick[f"vs_vit_{facts.SIZES[-1]}"]
    timed = facts.facts_same_budget(resnet, vit, largest)
    speeds = [RunResult.from_dict(r).training_speed() for r in largest]
    assert timed["vit_same_speed"] == f"{speeds[0] / speeds[1]:.1f}" and timed["vit_speed_images"] == "10,000"


def test_data_efficiency_on_the_stored_runs(quick):
    runs = {label: [quick[f"vs_{model}_{n}"] for n in facts.SIZES]
            for label, model in [("ResNet-20", "resnet20"), ("ViT", "vit")]}
    found = facts.facts_data_efficiency(runs)
    leads = [stats.mean_interval([a - b for a, b in zip(seeds(r), seeds(v))])[0]
             for r, v in zip(runs["ResNet-20"], runs["ViT"])]
    assert [float(g.split(" ± ")[0]) for g in found["vit_eff_gaps"].split(", ")] == pytest.approx(leads, abs=0.051)
    assert found["vit_eff_sizes"] == ", ".join(f"{n:,}" for n in facts.SIZES)
    train = [stats.mean_interval([100 * s["history"][-1]["train_accuracy"] for s in r["seeds"]])[0]
             for runs in runs.values() for r in runs]
    if min(train) < diagnostics.FITS:  # the stored runs: the ViT learns half to two thirds of its images
        assert "under-fit" in found["vit_eff_fit_reading"] or found["vit_eff_fit_reading"].startswith("No run fits")
    if "narrows" in found["vit_eff_reading"]:
        assert leads[-1] < leads[0]
    if "widens" in found["vit_eff_reading"]:
        assert leads[-1] > leads[0]


def test_pretraining_on_the_stored_runs(quick):
    runs = {label: [quick[f"vs_{model}_{n}"] for n in facts.SIZES]
            for label, model in [("ResNet-20", "resnet20"), ("ViT", "vit")]}
    found = facts.facts_pretraining(runs, quick["vs_lite0"])
    probe = [stats.mean_interval([100 * r["accuracy"] for r in quick["vs_lite0"]["metrics"]["rows"]
                                  if r["method"] == "deep probe" and r["train_images"] == n])[0] for n in facts.SIZES]
    assert [float(v.split(" ± ")[0]) for v in found["vit_pre_probe"].split(", ")] == pytest.approx(probe, abs=0.051)
    # the stored runs: 200 batches leave fine-tuning behind the probe at every size; the ResNet on ten times
    # the images is ahead of the probe; three seeds cannot rank pretraining against the architecture
    assert found["vit_pre_tuning"].startswith("In 200 batches fine-tuning every layer trails the probe at every size")
    assert found["vit_pre_reading"].startswith("Even so, the ResNet trained from scratch on 10,000 images is ahead")
    # pretraining against the architecture: the contrast of independent runs, read with its verdict
    best = max((m for m in ("deep probe", "fine-tune")), key=lambda m: sum(
        r["accuracy"] for r in quick["vs_lite0"]["metrics"]["rows"] if r["method"] == m and r["train_images"] == 1000))
    lite0 = {r["seed"]: 100 * r["accuracy"] for r in quick["vs_lite0"]["metrics"]["rows"]
             if r["method"] == best and r["train_images"] == 1000}
    resnet, vit = (RunResult.from_dict(runs[k][0]).metric("accuracy", 100) for k in ("ResNet-20", "ViT"))
    versus = stats.contrast([(1, lite0), (-1, resnet), (-1, {s: resnet[s] - vit[s] for s in resnet})])
    expected = {"better": "On 1,000 images pretraining is worth more", "cannot tell": "On 1,000 images the seeds cannot tell",
                "worse": "On 1,000 images the convolution's assumptions are worth more"}[versus.verdict]
    assert found["vit_pre_arch"].startswith(expected) and f"{abs(versus.mean_difference):.1f} ±" in found["vit_pre_arch"]
    assert found["vit_pre_provenance"] == store.provenance_line(quick["vs_lite0"])


def test_fit_verdicts_at_the_thresholds():
    assert diagnostics.fit_verdict(84.9, 80.0) == "under-fits"
    assert diagnostics.fit_verdict(85.0, 75.0) == "fits" and diagnostics.fit_verdict(95.0, 84.9) == "over-fits"


def test_strong_augmentation_on_the_stored_runs(quick):
    plain, strong = quick[f"vs_vit_{MIDDLE}"], quick[f"vs_vit_{facts.STRONG_SIZE}_strong"]
    # the stronger recipe has the plain run's budget: the two differ in the recipe alone
    assert facts.steps(strong["config"]) == facts.steps(plain["config"]) and strong["config"]["epochs"] == plain["config"]["epochs"]
    found = facts.facts_strong_augmentation(plain, strong)
    gain = stats.mean_interval([a - b for a, b in zip(seeds(strong), seeds(plain))])[0]
    assert points(found["vit_strong_gain"]) == pytest.approx(gain, abs=0.051)
    assert found["vit_strong_provenance"].startswith(f"vs_vit_{facts.STRONG_SIZE}_strong · profile quick")
    train = [100 * s["history"][-1]["train_accuracy"] for s in plain["seeds"]]
    if sum(train) / len(train) < diagnostics.FITS:  # the stored plain ViT: about 60 % of its training images
        assert found["vit_plain_fit"].startswith("it under-fits")


def test_attention_on_the_stored_run(quick):
    result = quick[f"vs_vit_{facts.SIZES[-1]}"]
    found = facts.facts_attention(result)
    first, last = result["attention"]["mean_distance"][0], result["attention"]["mean_distance"][-1]
    assert found["vit_distance_first"] == f"{min(first):.1f} to {max(first):.1f}"
    assert found["vit_distance_last"] == f"{min(last):.1f} to {max(last):.1f}"
    side = result["attention"]["grid"]
    cells = list(itertools.product(range(side), repeat=2))
    mean = sum(math.dist(a, b) for a in cells for b in cells) / len(cells) ** 2 * 32 / side
    assert float(found["vit_distance_uniform"]) == pytest.approx(mean, abs=0.051)
    local = sum(d < 0.75 * mean for d in first)
    assert found["vit_attention_reading"].startswith(f"{local} of the" if local else "no head")


# --- on constructed results: every wording ----------------------------------------------------

def test_recipe_facts_read_the_definitions():
    found = facts.facts_recipe()
    vit = experiments.config("vs_vit_1000", "quick")
    assert found["vs_dim"] == str(vit["model_args"]["dim"]) and found["vs_vit_wd"] == f"{vit['weight_decay']:g}"
    assert found["vs_blocks"] == "four blocks of four heads" and found["vs_mlp"] == "two times"
    assert found["vs_cifar_blocks"] == "six blocks of three heads" and found["vs_tokens"] == "64"
    model = models.create("vit_cifar")
    assert len(model.blocks) == 6 and found["vs_cifar_dim"] == str(model.cls_token.shape[-1])
    assert found["vs_vit_lr"] == f"{vit['lr']:g}" and found["vs_resnet_lr"] == f"{experiments.config('vs_resnet20_1000', 'quick')['lr']:g}"
    assert found["vs_smoothing"] == f"{experiments.config('vs_vit_3000_strong', 'quick')['label_smoothing']:g}"
    assert found["vs_pool"] == f"{experiments.config('vs_lite0', 'quick')['pool_per_class']:,}"


def test_budget_reads_each_profile_configuration():
    quick, full, ci = (facts.facts_budget(p) for p in ("quick", "full", "ci"))
    cfg = experiments.config(f"vs_vit_{facts.SIZES[0]}", "quick")
    assert quick["vs_test"] == f"{10 * cfg['test_per_class']:,}" 
    assert quick["vs_seeds"] == "3"
    assert full["vs_test"] == "10,000"  # the whole test set
    assert full["vs_full_steps"] == quick["vs_full_steps"] == "7,800" and quick["vs_steps"] == "2,340"
    assert quick["vs_size_epochs"] == "334, 102 and 30" and ci["vs_steps"] == "8"
    assert ci["vs_seeds"] == "1" and quick["vs_vit_params"] == "0.55 M"
    for profile in ("quick", "full"):  # equal steps at every size (within half an epoch), for both networks
        largest = facts.steps(experiments.config(f"vs_vit_{facts.SIZES[-1]}", profile))
        for name in [f"vs_{net}_{size}" for net in ("vit", "resnet20") for size in facts.SIZES]:
            config = experiments.config(name, profile)
            assert abs(facts.steps(config) - largest) <= config["train_per_class"] * 10 // config["batch_size"] / 2, name
    assert largest == facts.STEPS["full"] and experiments.config("vs_vit_10000", "quick")["epochs"] == 30
    # the stronger recipe trains for the plain run's steps
    assert quick["vs_strong_epochs"] == "102" and quick["vs_strong_steps"] == f"{facts.steps(experiments.config('vs_vit_3000', 'quick')):,}"


def range_test(curves: dict[str, tuple[int, float, float]], steps: int = 100) -> dict:
    """(points measured, suggestion, rate used) per network; the minimum lies 4 times above the suggestion."""
    metrics = {name: dict(lrs=[1e-6 * 1e7 ** (i / (steps - 1)) for i in range(n)], suggestion=s, minimum=4 * s,
                          chosen_lr=c)
               for name, (n, s, c) in curves.items()}
    return dict(run("vs_lr_find"), metrics=metrics, config=dict(steps=steps))


def test_the_rule_rates_are_the_stored_range_tests(quick):
    for name, curve in quick["vs_lr_find"]["metrics"].items():
        assert facts.RULE_LR[name] == experiments.cifar.chosen_lr(curve), name
    assert experiments.config("vs_vit_rate_rule", "quick")["lr"] == facts.RULE_LR["ViT"]
    assert experiments.config("vs_vit_rate_usual", "quick")["lr"] == experiments.config("vs_vit_1000", "quick")["lr"]


def test_rate_check_wordings():
    def check(lr: float, accuracy: list[float], loss: float) -> dict:
        return run(f"vs_vit_rate_{lr}", accuracy, losses=(2.3, loss), config=dict(lr=lr, epochs=25, batch_size=128),
                   provenance=dict(PROVENANCE, data=dict(train=dict(images=1000))))

    found = facts.facts_rate_check(check(0.01, [0.25, 0.26, 0.27], 2.03), check(0.001, [0.36, 0.37, 0.38], 1.53))
    assert found["vit_rate_reading"].startswith("at the rule's rate the ViT learns less: the conventional rate is "
                                                "ahead by 11.0 ± 0.0 points")
    assert found["vit_rate_steps"] == "200" and found["vit_rate_rule_loss"] == "2.03"
    assert found["vit_rate_rule"] == "0.01" and found["vit_rate_usual"] == "0.001"
    tie = facts.facts_rate_check(check(0.01, [0.35, 0.38, 0.37], 1.6), check(0.001, [0.36, 0.37, 0.38], 1.53))
    assert tie["vit_rate_reading"].startswith("the seeds cannot tell the two rates apart")


def test_lr_find_wordings():
    # minima at 2 and 1.6e-3: the rule (one significant figure) gives 2 and 0.002
    found = facts.facts_lr_find(range_test({"ResNet-20": (100, 0.5, 0.1), "ViT": (60, 4e-4, 1e-3)}))
    resnet, vit = found["vit_lr_resnet_reading"], found["vit_lr_vit_reading"]
    assert resnet.startswith("the smoothed loss is lowest at 2.0e+00, so the rule gives 2;")
    assert "the loss had not grown fourfold by 1e+01, the end of the range" in resnet
    assert resnet.endswith("0.1, is 20.0 times below the rule's")
    assert "the loss had grown fourfold by 1.5e-02, where the test stopped" in vit
    assert vit.endswith("0.001, is 2.0 times below the rule's")
    assert found["vit_lr_ratio"] == "1,250" and found["vit_lr_used_ratio"] == "100"
    same = facts.facts_lr_find(range_test({"ViT": (100, 2.5e-4, 1e-3)}))["vit_lr_vit_reading"]
    assert same.endswith("The peak rate used below, 0.001, is the rule's")
    above = facts.facts_lr_find(range_test({"ViT": (100, 1e-4, 1e-3)}))["vit_lr_vit_reading"]
    assert above.endswith("0.001, is 2.5 times above the rule's")  # minimum 4e-4


def test_training_speed_is_the_median_epoch():
    result = run()
    result["seeds"][0] = dict(result["seeds"][0], history=[dict(images_per_second=v) for v in (100, 110, 5)])
    result["seeds"][1] = dict(result["seeds"][1], history=[dict(images_per_second=v) for v in (90, 105)])
    result["seeds"][2] = dict(result["seeds"][2], history=[dict(images_per_second=2)])
    assert RunResult.from_dict(result).training_speed() == 100  # of 2, 5, 90, 100, 105, 110: a contended epoch does not move it
    assert RunResult.from_dict(dict(cost=dict(images_per_second=7.0))).training_speed() == 7.0


def test_same_budget_wordings():
    def cost(parameters: int) -> dict:
        return {"parameters": parameters, "images_per_second": 0.0}

    resnet = run("vs_resnet20_3000", [0.52, 0.53, 0.54], cost=cost(270_000))
    found = facts.facts_same_budget(resnet, run("vs_vit_3000", [0.40, 0.42, 0.41], cost=cost(540_000)))
    assert found["vit_same_reading"] == "the ResNet is ahead by 12.0 ± 2.5 points"
    assert found["vit_same_params"] == "2.0" and found["vit_same_speed"] == "1.0"
    assert found["vit_same_resnet"] == "53.0 ± 2.5 %" and found["vit_same_vit"] == "41.0 ± 2.5 %"
    ahead = facts.facts_same_budget(resnet, run("vs_vit_3000", [0.555, 0.565, 0.575], cost=cost(540_000)))
    assert ahead["vit_same_reading"] == "the ViT is ahead by 3.5 ± 0.0 points"
    level = facts.facts_same_budget(resnet, run("vs_vit_3000", [0.50, 0.55, 0.53], cost=cost(540_000)))
    assert level["vit_same_reading"].startswith("the seeds cannot tell the two apart (difference +0.3 ±")


def efficiency(resnet: list[list[float]], vit: list[list[float]], losses=(2.0, 1.0, 0.5, 0.5)) -> dict[str, str]:
    runs = {"ResNet-20": [run(accuracy=[a / 100 for a in r], losses=losses) for r in resnet],
            "ViT": [run(accuracy=[a / 100 for a in v], losses=losses) for v in vit]}
    return facts.facts_data_efficiency(runs)


def test_data_efficiency_wordings():
    narrows = efficiency([[50, 51, 52], [52, 53, 54], [56, 57, 58]], [[30, 31, 32], [36, 37, 38], [50, 50, 52]])
    assert narrows["vit_eff_reading"].startswith("The ResNet's lead narrows by 13.7 ± 1.4 points")
    assert narrows["vit_eff_reading"].endswith("as the data grow 10-fold")
    assert narrows["vit_eff_gaps"] == "+20.0 ± 0.0, +16.0 ± 0.0, +6.3 ± 1.4"
    assert narrows["vit_eff_gain_resnet"] == "+6.0" and narrows["vit_eff_gain_vit"] == "+19.7"
    assert narrows["vit_discussion_margin"] == "ahead by 6.3 to 20.0 points at every size from 1,000 to 10,000 images"
    assert narrows["vit_eff_flat_reading"] == "every training loss had flattened"
    widens = efficiency([[40, 41, 42], [45, 45, 45], [60, 61, 62]], [[38, 39, 40], [40, 40, 40], [45, 45, 45]])
    assert widens["vit_eff_reading"].startswith("The ResNet's lead widens by 14.0 ± 2.5 points")
    unclear = efficiency([[50, 52, 54], [51, 51, 51], [54, 50, 58]], [[38, 39, 40], [40, 40, 40], [41, 43, 39]])
    assert unclear["vit_eff_reading"].startswith("The seeds cannot tell whether the ResNet's lead changes")
    mixed = efficiency([[50, 51, 52], [52, 52, 52], [54, 55, 56]], [[45, 46, 47], [40, 60, 50], [57, 58, 59]])
    assert mixed["vit_discussion_margin"] == ("ahead at 1,000 images (by more than the seeds vary), not clearly "
                                              "ahead at the others")
    none = efficiency([[50, 51, 52]] * 3, [[50, 52, 50]] * 3, losses=(2.0, 1.5, 1.0, 0.5))
    assert none["vit_discussion_margin"] == "not clearly ahead at any size: the seeds vary as much as the lead"
    assert none["vit_eff_flat_reading"].startswith("not every training loss had flattened")


def test_fit_readings_name_the_runs_that_fit():
    def sized(values: list[float], train: list[float]) -> list[dict]:
        return [run(accuracy=v / 100, train=t / 100) for v, t in zip(values, train)]

    every = facts._fit_facts({"ResNet-20": [RunResult.from_dict(r) for r in sized([70, 75, 80], [90, 92, 95])],
                              "ViT": [RunResult.from_dict(r) for r in sized([60, 65, 70], [86, 88, 90])]}, facts.SIZES)
    assert every["vit_eff_train"] == ("ResNet-20: 90.0 / 70.0 %, 92.0 / 75.0 %, 95.0 / 80.0 %; "
                                      "ViT: 86.0 / 60.0 %, 88.0 / 65.0 %, 90.0 / 70.0 %")
    assert every["vit_eff_fit_reading"] == ("The ResNet-20 over-fits at 1,000, 3,000 and 10,000 images; the ViT "
                                           "over-fits at 1,000, 3,000 and 10,000 images: every run fits its training "
                                           "images, so the comparison is of what each network makes of its data")
    one = facts._fit_facts({"ResNet-20": [RunResult.from_dict(r) for r in sized([50, 60, 85], [70, 80, 90])],
                            "ViT": [RunResult.from_dict(r) for r in sized([40, 50, 60], [50, 60, 70])]}, facts.SIZES)
    assert one["vit_eff_fit_reading"] == ("The ResNet-20 under-fits at 1,000 and 3,000, fits at 10,000; the ViT "
                                         "under-fits at 1,000, 3,000 and 10,000 images: a run that under-fits is still "
                                         "learning its own images in these steps, so where one does, the comparison "
                                         "is of how far each network gets in its steps more than of what it can "
                                         "learn from the data")
    mixed = facts._fit_facts({"ViT": [RunResult.from_dict(r) for r in sized([40, 50, 60], [95, 86, 70])]}, facts.SIZES)
    assert mixed["vit_eff_fit_reading"].startswith("The ViT over-fits at 1,000 and 3,000, under-fits at 10,000: "
                                                   "a run that under-fits")
    fitting = facts._fit_facts({"ViT": [RunResult.from_dict(r) for r in sized([88, 50], [90, 95])]}, facts.SIZES[:2])
    assert fitting["vit_eff_fit_reading"].startswith("The ViT fits at 1,000, over-fits at 3,000: every run fits")


def test_strong_augmentation_wordings():
    plain = run("vs_vit_3000", [0.40, 0.41, 0.42], train=0.95)
    pays = facts.facts_strong_augmentation(plain, run("vs_vit_3000_strong", [0.43, 0.44, 0.45], train=0.70))
    assert pays["vit_strong_overfit"] == "70.0 % against 44.0 %" and pays["vit_strong_gap"] == "54.0 to 26.0 points"
    assert pays["vit_strong_gap_reading"] == "narrower by 28.0 ± 0.0 points, paired by seed"
    assert pays["vit_strong_fit"].startswith("it under-fits")  # 70 % of its own training images
    same = facts.facts_strong_augmentation(plain, run("vs_vit_3000_strong", [0.40, 0.41, 0.43], train=0.95))
    assert same["vit_strong_gap_reading"].startswith("the seeds cannot tell whether it changes")
    assert same["vit_strong_fit"].startswith("it over-fits")
    assert pays["vit_strong_gain"] == "+3.0 ± 0.0 points" and pays["vit_strong_reading"] == "The stronger recipe adds 3.0 ± 0.0 points"
    assert pays["vit_plain_overfit"] == "95.0 % on its training images against 41.0 % on the test images"
    assert pays["vit_plain_fit"].startswith("it over-fits: it has learnt its training images far better")
    under = facts.facts_strong_augmentation(run("vs_vit_3000", [0.40, 0.41, 0.42], train=0.60), run("vs_vit_3000_strong"))
    assert under["vit_plain_fit"].startswith("it under-fits: it has not yet learnt its own training images")
    fits = facts.facts_strong_augmentation(run("vs_vit_3000", [0.80, 0.81, 0.82], train=0.88), run("vs_vit_3000_strong"))
    assert fits["vit_plain_fit"] == "it fits its training images and generalises nearly as well to new ones"
    costs = facts.facts_strong_augmentation(plain, run("vs_vit_3000_strong", [0.375, 0.385, 0.395]))
    assert costs["vit_strong_reading"].startswith("The stronger recipe costs 2.5 ± 0.0 points")
    tie = facts.facts_strong_augmentation(plain, run("vs_vit_3000_strong", [0.41, 0.40, 0.42]))
    assert tie["vit_strong_reading"].startswith("The seeds cannot tell the two recipes apart")


def test_attention_wordings():
    result = run("vs_vit_10000", attention=dict(grid=2, mean_distance=[[3.0, 5.04, 12.0], [10.0, 12.26, 11.0]]))
    found = facts.facts_attention(result)
    assert found["vit_distance_first"] == "3.0 to 12.0" and found["vit_distance_last"] == "10.0 to 12.3"
    # 2 x 2 patches of 16 pixels: 8 of the 16 ordered pairs are one patch apart, 4 are a diagonal apart
    uniform = (8 + 4 * math.sqrt(2)) / 16 * 16
    assert found["vit_distance_uniform"] == f"{uniform:.1f}"
    assert found["vit_attention_reading"].startswith("2 of the 3 heads of the first block attend locally")
    flat = facts.facts_attention(run(attention=dict(grid=2, mean_distance=[[uniform] * 3, [uniform] * 3])))
    assert flat["vit_attention_reading"].startswith("no head of the first block attends locally")
    assert facts.uniform_attention_distance(1) == 0.0


def test_full_only_results_stand_behind_a_note_elsewhere(monkeypatch):
    for name in ("vit_pretrained", "vit_memory"):
        result, note = facts.full_only(name, "quick")
        assert result is None and note.startswith("> **Not run in the `quick` profile:**")
        assert f"coursekit regenerate --profile full --experiment {name}" in note
    assert "Hugging Face hub" in facts.full_only("vit_pretrained", "ci")[1]
    assert "`ci` profile" in facts.full_only("vit_memory", "ci")[1]
    calls = []
    monkeypatch.setattr(core, "run", lambda name, profile=None: calls.append((name, profile)) or {"experiment": name})
    assert facts.full_only("vit_memory", "full") == ({"experiment": "vit_memory"}, "")
    assert calls == [("vit_memory", "full")]


def lite0(probe: list[list[float]], tuned: list[list[float]]) -> dict:
    """A constructed vs_lite0 result: per-seed accuracies (%) of the probe and of fine-tuning at each size."""
    rows = [dict(source="efficientnet_lite0", target="cifar10", size=str(n), seed=seed, method=method,
                 accuracy=a / 100, seconds=1.0, train_images=n)
            for method, by_size in (("deep probe", probe), ("fine-tune", tuned))
            for n, values in zip(facts.SIZES, by_size) for seed, a in enumerate(values)]
    return dict(experiment="vs_lite0", profile="quick", provenance=PROVENANCE, metrics=dict(rows=rows),
                config=dict(methods=["deep probe", "fine-tune"], sizes={str(n): n // 10 for n in facts.SIZES},
                            steps=200, batch_size=32, image_size=128, test_per_class=100))


def test_pretraining_wordings():
    def sized(by_size: tuple[list[float], ...]) -> list[dict]:
        return [run(accuracy=[a / 100 for a in values], provenance=dict(PROVENANCE, data=dict(train=dict(images=n))))
                for n, values in zip(facts.SIZES, by_size)]

    scratch = {"ResNet-20": sized(([40, 41, 42], [50, 51, 52], [60, 61, 62])),
               "ViT": sized(([30, 31, 32], [40, 41, 42], [50, 51, 52]))}
    ahead = facts.facts_pretraining(scratch, lite0([[80, 81, 82], [84, 85, 86], [88, 89, 90]],
                                                   [[70, 72, 74], [80, 82, 84], [90, 91, 92]]))
    assert ahead["vit_pre_probe"] == "81.0 ± 2.5 %, 85.0 ± 2.5 %, 89.0 ± 2.5 %"
    assert ahead["vit_pre_finetune"] == "72.0 ± 5.0 %, 82.0 ± 5.0 %, 91.0 ± 2.5 %"
    assert ahead["vit_pre_best"] == "the probe" and ahead["vit_pre_lead"] == "ahead by 40.0 ± 2.3 points"
    assert ahead["vit_pre_reading"].startswith("The ImageNet network's linear probe on 1,000 images is ahead of the "
                                               "ResNet trained from scratch on 10,000 by 20.0 ± 2.3 points")
    assert ahead["vit_pre_steps"] == "200 batches of 32" and ahead["vit_pre_test"] == "1,000"
    assert ahead["vit_pre_arch"] == ("On 1,000 images pretraining is worth more than the convolution's assumptions: "
                                     "the ImageNet start leads the ResNet by 30.0 ± 2.3 points more than the ResNet "
                                     "leads the ViT")
    assert ahead["vit_pre_tuning"] == ("Fine-tuning every layer for 200 batches against the probe: -9.0 ± 2.5 points "
                                       "at 1,000 images; -3.0 ± 2.5 points at 3,000 images; +2.0 ± 0.0 points at "
                                       "10,000 images")
    close = facts.facts_pretraining(scratch, lite0([[42, 43, 44], [52, 53, 54], [62, 63, 64]],
                                                   [[37, 38, 39], [47, 48, 49], [56, 58, 59]]))
    assert close["vit_pre_arch"] == ("On 1,000 images the convolution's assumptions are worth more than pretraining: "
                                     "the ResNet leads the ViT by 8.0 ± 2.3 points more than the ImageNet start "
                                     "leads the ResNet")
    assert close["vit_pre_tuning"] == "In 200 batches fine-tuning every layer trails the probe at every size, by 5.0 to 5.3 points"
    behind = facts.facts_pretraining(scratch, lite0([[40, 45, 50], [50, 50, 50], [60, 60, 60]],
                                                    [[30, 50, 70], [50, 50, 50], [60, 60, 60]]))
    assert behind["vit_pre_reading"] == ("Even so, the ResNet trained from scratch on 10,000 images is ahead of the "
                                         "ImageNet network's linear probe on 1,000 by 16.0 ± 12.7 points")
    assert behind["vit_pre_best"] == "fine-tuning" and behind["vit_pre_lead"].startswith("not clearly ahead (+9.0 ±")
    assert behind["vit_pre_arch"].startswith("On 1,000 images the seeds cannot tell whether pretraining is worth more "
                                             "than the convolution's assumptions (the ImageNet start's lead over the "
                                             "ResNet minus the ResNet's over the ViT: -1.0 ±")
    level = facts.facts_pretraining(scratch, lite0([[55, 65, 63], [50] * 3, [60] * 3], [[10] * 3] * 3))
    assert level["vit_pre_reading"].startswith("The ImageNet network's linear probe on 1,000 images and the ResNet "
                                               "trained from scratch on 10,000 cannot be told apart (+0.0 ±")


def positions(embeddings: torch.Tensor, side: int) -> dict:
    """A result whose position similarities are the cosines of ``embeddings`` (one row per patch)."""
    e = torch.nn.functional.normalize(embeddings, dim=-1)
    return dict(attention=dict(grid=side, position_similarity=(e @ e.T).tolist()))


def test_position_embeddings_of_a_grid_are_read_as_learned():
    side = 4
    yx = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij"), -1).view(-1, 2).float()
    smooth = torch.cat([torch.sin(yx / 3), torch.cos(yx / 3)], 1)  # nearby positions, similar embeddings
    found = facts.facts_positions(positions(smooth, side))
    assert found["vit_pos_nearest"] == "16 of 16"
    assert found["vit_pos_reading"].startswith("the embeddings have learned the grid")
    # chance: corners have 2 of 15 neighbours, edges 3, the inner four 4: (4*2 + 8*3 + 4*4) / 15 / 16 = 20 %
    assert found["vit_pos_chance"] == "20 %"
    torch.manual_seed(0)
    noise = facts.facts_positions(positions(torch.randn(64, 32), 8))
    assert noise["vit_pos_reading"].startswith("the embeddings show no sign of the grid")


def test_positions_on_the_stored_run(quick):
    found = facts.facts_positions(quick[f"vs_vit_{facts.SIZES[-1]}"])
    nearest = int(found["vit_pos_nearest"].split(" of ")[0])
    chance = float(found["vit_pos_chance"].rstrip(" %")) / 100
    learned = nearest / 64 >= facts.GRID_LEARNED * chance  # the stored ViT on 10,000 images: 37 of 64 positions
    assert found["vit_pos_reading"].startswith("the embeddings have learned the grid") == learned


# --- in French (COURSEKIT_LANG=fr): the same readings, worded by the catalogues -----------------------

NB, NN = "\u00a0", "\u202f"  # French typography: no-break space before ":", narrow one before ";" and "%"


def test_readings_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")

    def cost(parameters: int) -> dict:
        return {"parameters": parameters, "images_per_second": 0.0}

    resnet = run("vs_resnet20_3000", [0.52, 0.53, 0.54], cost=cost(270_000))
    same = facts.facts_same_budget(resnet, run("vs_vit_3000", [0.40, 0.42, 0.41], cost=cost(540_000)))
    assert same["vit_same_reading"] == "le ResNet est en tête de 12,0 ± 2,5 points" and same["vit_same_params"] == "2,0"
    found = facts.facts_lr_find(range_test({"ResNet-20": (100, 0.5, 0.1), "ViT": (60, 4e-4, 1e-3)}))
    assert found["vit_lr_resnet_reading"].startswith("la perte lissée est la plus basse à 2,0e+00, la règle donne "
                                                     f"donc 2{NN};")
    assert found["vit_lr_resnet_reading"].endswith("Le taux maximal utilisé plus bas, 0,1, est 20,0 fois inférieur à "
                                                   "celui de la règle")
    assert "la perte avait quadruplé à 1,5e-02, où le test s'est arrêté" in found["vit_lr_vit_reading"]
    assert found["vit_lr_ratio"] == f"1{NN}250"
    plain = run("vs_vit_3000", [0.40, 0.41, 0.42], train=0.95)
    pays = facts.facts_strong_augmentation(plain, run("vs_vit_3000_strong", [0.43, 0.44, 0.45], train=0.70))
    assert pays["vit_strong_reading"] == "La recette renforcée ajoute 3,0 ± 0,0 points"
    assert pays["vit_plain_overfit"] == (f"95,0{NN}% sur ses images d'entraînement contre 41,0{NN}% sur les images "
                                         "de test")
    assert pays["vit_strong_gap"] == "54,0 à 26,0 points"
    assert pays["vit_strong_fit"].startswith(f"elle sous-apprend{NB}:")
    assert pays["vit_strong_gap_reading"] == "plus étroit de 28,0 ± 0,0 points, en appariant par graine"
    narrows = efficiency([[50, 51, 52], [52, 53, 54], [56, 57, 58]], [[30, 31, 32], [36, 37, 38], [50, 50, 52]])
    assert narrows["vit_eff_reading"] == ("L'avance du ResNet se réduit de 13,7 ± 1,4 points quand les données sont "
                                          "multipliées par 10")
    assert narrows["vit_discussion_margin"] == (f"en tête de 6,3 à 20,0 points à chaque taille, de 1{NN}000 à "
                                                f"10{NN}000 images")
    assert narrows["vit_eff_gaps"] == f"+20,0 ± 0,0{NN}; +16,0 ± 0,0{NN}; +6,3 ± 1,4"  # the comma is the decimal mark
    assert narrows["vit_eff_train"].startswith(f"ResNet-20{NB}: 90,0 / 51,0{NN}%, 90,0 / 53,0{NN}%")
    assert narrows["vit_eff_fit_reading"].startswith("Le ResNet-20 surapprend à 1")


def test_pretraining_attention_and_rules_in_french(monkeypatch):
    def sized(by_size: tuple[list[float], ...]) -> list[dict]:
        return [run(accuracy=[a / 100 for a in values], provenance=dict(PROVENANCE, data=dict(train=dict(images=n))))
                for n, values in zip(facts.SIZES, by_size)]

    scratch = {"ResNet-20": sized(([40, 41, 42], [50, 51, 52], [60, 61, 62])),
               "ViT": sized(([30, 31, 32], [40, 41, 42], [50, 51, 52]))}
    pretrained = lite0([[80, 81, 82], [84, 85, 86], [88, 89, 90]], [[70, 72, 74], [80, 82, 84], [90, 91, 92]])
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    ahead = facts.facts_pretraining(scratch, pretrained)
    assert ahead["vit_pre_best"] == "la sonde" and ahead["vit_pre_steps"] == "200 lots de 32"
    assert ahead["vit_pre_lead"] == "en avance de 40,0 ± 2,3 points" and ahead["vit_pre_test"] == f"1{NN}000"
    assert ahead["vit_pre_tuning"] == (f"Réglage fin de toutes les couches pendant 200 lots, face à la sonde{NB}: "
                                       f"-9,0 ± 2,5 points à 1{NN}000 images{NN}; -3,0 ± 2,5 points à 3{NN}000 "
                                       f"images{NN}; +2,0 ± 0,0 points à 10{NN}000 images")
    assert ahead["vit_pre_reading"].startswith(f"La sonde linéaire du réseau ImageNet sur 1{NN}000 images devance de "
                                               "20,0 ± 2,3 points le ResNet entraîné à partir de zéro")
    # the French verb agrees with the number of heads, where the English keeps "attend"
    two = facts.facts_attention(run(attention=dict(grid=2, mean_distance=[[3.0, 5.04, 12.0], [10.0, 12.26, 11.0]])))
    assert two["vit_attention_reading"].startswith("2 des 3 têtes du premier bloc portent une attention locale "
                                                   "(distance moyenne inférieure à 10,2 pixels")
    assert two["vit_distance_first"] == "3,0 à 12,0"
    one = facts.facts_attention(run(attention=dict(grid=2, mean_distance=[[3.0, 13.0, 14.0], [13.0] * 3])))
    assert one["vit_attention_reading"].startswith("1 des 3 têtes du premier bloc porte une attention locale")
    side = 4
    yx = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij"), -1).view(-1, 2).float()
    grid = facts.facts_positions(positions(torch.cat([torch.sin(yx / 3), torch.cos(yx / 3)], 1), side))
    assert grid["vit_pos_nearest"] == "16 sur 16" and grid["vit_pos_rule"] == "4 fois"
    assert grid["vit_pos_reading"].startswith(f"les plongements ont appris la grille{NB}: rien n'indiquait")
    # the rules and notes the chapter shows are worded when read, in the language of that moment
    assert facts.LOCAL_RULE.startswith("Une tête porte une attention locale") and f"75{NN}%" in facts.LOCAL_RULE
    assert facts.GRID_RULE.startswith("Les plongements de position ont appris la grille lorsque")
    assert facts.FIT_WORDS["over-fits"].startswith(f"elle surapprend{NB}:")
    assert "hub Hugging Face" in facts.full_only("vit_pretrained", "quick")[1]
    monkeypatch.setenv("COURSEKIT_LANG", "en")
    assert facts.LOCAL_RULE.startswith("A head attends locally when its mean attention distance is below 75% of")
    with pytest.raises(AttributeError):
        facts.NO_SUCH_RULE


def test_figures_in_french(monkeypatch):
    import matplotlib.pyplot as plt

    from coursekit.figures import vit as drawn

    def scratch(name: str, accuracy: list[float], n: int) -> dict:
        # 30 epochs of 7 batches on the first set, 1,000 images: 210 steps
        return run(name, accuracy, config=dict(epochs=30, train_per_class=n // 10, batch_size=128),
                   provenance=dict(PROVENANCE, data=dict(train=dict(images=n))))

    results = {"ResNet-20": [scratch("r", [0.50, 0.51, 0.52], n) for n in facts.SIZES],
               "ViT": [scratch("v", [0.40, 0.41, 0.42], n) for n in facts.SIZES]}
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    fig = drawn.data_efficiency(results, pretrained=lite0([[80, 81, 82]] * 3, [[70, 71, 72]] * 3))
    ax = fig.axes[0]
    assert ax.get_title() == "Exactitude selon la quantité de données, de zéro et depuis ImageNet"
    assert ax.get_xlabel() == (f"images d'entraînement (échelle log{NN}; de zéro{NB}: 210 lots de 128{NN}; "
                               f"réglage fin{NB}: 200 lots)")
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"1{NN}000", f"3{NN}000", f"10{NN}000"]
    assert "51,0" in [t.get_text() for t in ax.texts]  # the means, with a decimal comma
    assert ax.get_legend().get_title().get_text() == f"moyenne, intervalle à 95{NN}%, graines"
    plt.close(fig)
    image = torch.zeros(3, 32, 32)
    fig = drawn.patches(image)
    assert fig.axes[0].get_title() == "image de 32 × 32, fragments de 4 × 4"
    assert fig.texts[0].get_text() == f"la séquence{NB}: 64 fragments de 48 nombres chacun, lus ligne par ligne"
    plt.close(fig)
    fig = drawn.attention_geometry(dict(attention=dict(grid=2, mean_distance=[[3.0, 4.0], [5.0, 6.0]],
                                                       position_similarity=torch.eye(4).tolist())))
    assert fig.axes[0].get_title() == "Jusqu'où regarde chaque tête"
    assert fig.axes[0].get_ylabel() == "distance d'attention moyenne (pixels)"
    plt.close(fig)
