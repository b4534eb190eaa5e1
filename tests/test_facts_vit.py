"""The readings of chapter "vit" (``experiments.vit.facts_*``): on the stored quick results, consistent
with their numbers; on constructed results, every wording chosen where it should be."""
from __future__ import annotations

import itertools
import math

import pytest

from coursekit import experiments, store
from coursekit.experiments import core
from coursekit.experiments import vit as facts

PROVENANCE = dict(device="CPU test", torch="2.x", git_commit="abc", date="2026-11-23T10:00:00+00:00",
                  wall_seconds=75.0, data=dict(summary="test data"))
STORED = ["vs_lr_find", "vs_vit_5000_strong"] + [f"vs_{m}_{n}" for m in ("resnet20", "vit") for n in facts.SIZES]


@pytest.fixture(scope="module")
def quick():
    results = {name: store.read_result(name, "quick") for name in STORED}
    missing = [name for name, r in results.items() if r is None]
    if missing:
        pytest.skip(f"no stored quick result of {', '.join(missing)}")
    return results


def run(name: str = "vs_test", accuracy: float = 0.5, **fields) -> dict:
    return dict(experiment=name, profile="quick", provenance=PROVENANCE,
                metrics=dict(accuracy=accuracy), **fields)


def points(text: str) -> float:
    return float(text.split()[0])


# --- on the stored quick results --------------------------------------------------------------

def test_lr_find_on_the_stored_range_tests(quick):
    result = quick["vs_lr_find"]
    found = facts.facts_lr_find(result)
    for name, curve in result["metrics"].items():
        reading = found["vit_lr_resnet_reading" if name.startswith("ResNet") else "vit_lr_vit_reading"]
        assert f"lowest at {curve['minimum']:.1e} and falls fastest, below that, at {curve['suggestion']:.1e};" in reading
        assert curve["suggestion"] < curve["minimum"]
        assert ("where the test stopped" in reading) == (len(curve["lrs"]) < result["config"]["steps"])
        ratio = max(curve["chosen_lr"], curve["suggestion"]) / min(curve["chosen_lr"], curve["suggestion"])
        side = "above" if curve["chosen_lr"] > curve["suggestion"] else "below"
        assert f"{curve['chosen_lr']:g}, is {ratio:.1f} times {side} that suggestion" in reading
    minima = [c["minimum"] for c in result["metrics"].values()]
    assert float(found["vit_lr_ratio"].replace(",", "")) == round(max(minima) / min(minima))
    assert found["vit_lr_provenance"].startswith("vs_lr_find · profile quick")


def test_same_budget_on_the_stored_runs(quick):
    resnet, vit = quick["vs_resnet20_5000"], quick["vs_vit_5000"]
    found = facts.facts_same_budget(resnet, vit)
    r, v = 100 * resnet["metrics"]["accuracy"], 100 * vit["metrics"]["accuracy"]
    assert found["vit_same_resnet"] == f"{r:.1f} %" and found["vit_same_vit"] == f"{v:.1f} %"
    leader = "the ResNet" if r > v else "the ViT"
    assert found["vit_same_reading"].startswith(f"{leader} is ahead by")
    assert points(found["vit_same_reading"].split("by ")[1]) == pytest.approx(abs(r - v), abs=0.051)
    assert float(found["vit_same_params"]) == round(vit["cost"]["parameters"] / resnet["cost"]["parameters"])
    assert float(found["vit_same_speed"]) == pytest.approx(
        resnet["cost"]["images_per_second"] / vit["cost"]["images_per_second"], abs=0.051)
    assert found["vit_same_provenance"].count("vs_") == 2


def test_data_efficiency_on_the_stored_runs(quick):
    runs = {label: [quick[f"vs_{model}_{n}"] for n in facts.SIZES]
            for label, model in [("ResNet-20", "resnet20"), ("ViT", "vit")]}
    found = facts.facts_data_efficiency(runs)
    acc = {label: [100 * r["metrics"]["accuracy"] for r in rows] for label, rows in runs.items()}
    gaps = [a - b for a, b in zip(acc["ResNet-20"], acc["ViT"])]
    assert [float(g) for g in found["vit_eff_gaps"].split(", ")] == pytest.approx(gaps, abs=0.051)
    assert found["vit_eff_sizes"] == "1,000, 2,500, 5,000, 10,000"
    assert float(found["vit_eff_gain_vit"]) == pytest.approx(acc["ViT"][-1] - acc["ViT"][0], abs=0.051)
    change = gaps[-1] - gaps[0]
    word = "narrows" if change < -2 else "widens" if change > 2 else "stays"
    assert found["vit_eff_reading"].startswith(f"The gap {word}")
    if min(gaps) > 0:
        assert found["vit_discussion_margin"] == (f"ahead by {min(gaps):.1f} to {max(gaps):.1f} points at every size "
                                                  "from 1,000 to 10,000 images")


def test_strong_augmentation_on_the_stored_runs(quick):
    plain, strong = quick["vs_vit_5000"], quick["vs_vit_5000_strong"]
    found = facts.facts_strong_augmentation(plain, strong)
    gain = 100 * (strong["metrics"]["accuracy"] - plain["metrics"]["accuracy"])
    assert points(found["vit_strong_gain"]) == pytest.approx(gain, abs=0.051)
    assert ("already pays" in found["vit_strong_reading"]) == (gain > 0)
    assert found["vit_strong_provenance"].startswith("vs_vit_5000_strong · profile quick")


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


def test_budget_reads_each_profile_configuration(quick):
    found = facts.facts_budget("quick")
    cfg = quick["vs_vit_5000"]["config"]
    assert found["vs_test"] == f"{10 * cfg['test_per_class']:,}"
    assert found["vs_seen"] == f"{cfg['epochs'] * 5000:,}" == found["vs_quick_seen"]
    assert found["vs_passes_small"] == str(quick["vs_vit_1000"]["config"]["epochs"])
    assert found["vs_passes_large"] == str(quick["vs_vit_10000"]["config"]["epochs"])
    assert found["vs_quick_passes"] == f"{cfg['epochs'] * 5000 / 50_000:.0%}"


# --- on constructed results: every wording ----------------------------------------------------

def test_budget_wordings_in_each_profile():
    full = facts.facts_budget("full")
    assert full["vs_test"] == "10,000"  # the whole test set
    epochs = {n: experiments.config(f"vs_vit_{n}", "full")["epochs"] for n in facts.SIZES}
    assert full["vs_full_epochs"] == str(max(epochs.values()))
    assert full["vs_full_seen"] == f"{max(e * n for n, e in epochs.items()):,}"
    assert full["vs_passes_small"] == str(epochs[facts.SIZES[0]])
    ci = facts.facts_budget("ci")
    assert ci["vs_test"] == f"{10 * experiments.config('vs_vit_5000', 'ci')['test_per_class']:,}"
    assert ci["vs_full_seen"] == full["vs_full_seen"] and ci["vs_quick_seen"] == full["vs_quick_seen"]


def range_test(curves: dict[str, tuple[int, float, float]], steps: int = 100) -> dict:
    """(points measured, suggestion, rate used) per network; the minimum lies 4 times above the suggestion."""
    metrics = {name: dict(lrs=[1e-6 * 1e7 ** (i / (steps - 1)) for i in range(n)], suggestion=s, minimum=4 * s,
                          chosen_lr=c)
               for name, (n, s, c) in curves.items()}
    return dict(run("vs_lr_find"), metrics=metrics, config=dict(steps=steps))


def test_lr_find_wordings():
    found = facts.facts_lr_find(range_test({"ResNet-20": (100, 0.5, 0.1), "ViT": (60, 4e-4, 1e-3)}))
    resnet, vit = found["vit_lr_resnet_reading"], found["vit_lr_vit_reading"]
    assert "it had not grown fourfold by 1e+01, the end of the range" in resnet and resnet.endswith("0.1, is 5.0 times below that suggestion")
    assert "it had grown fourfold by 1.5e-02, where the test stopped" in vit
    assert vit.endswith("0.001, is 2.5 times above that suggestion")
    assert found["vit_lr_ratio"] == "1,250"  # of the minima, 2 and 1.6e-3
    assert resnet.startswith("the smoothed loss is lowest at 2.0e+00 and falls fastest, below that, at 5.0e-01;")
    same = facts.facts_lr_find(range_test({"ViT": (100, 1.02e-3, 1e-3)}))["vit_lr_vit_reading"]
    assert same.endswith("The peak rate used below, 0.001, is that suggestion")
    assert "vit_lr_resnet_reading" not in facts.facts_lr_find(range_test({"ViT": (100, 1e-3, 1e-3)}))


def test_same_budget_wordings():
    def cost(parameters: int, speed: float) -> dict:
        return {"parameters": parameters, "images_per_second": speed}

    resnet = run("vs_resnet20_5000", 0.52, cost=cost(270_000, 700.0))
    found = facts.facts_same_budget(resnet, run("vs_vit_5000", 0.40, cost=cost(2_700_000, 175.0)))
    assert found["vit_same_reading"] == "the ResNet is ahead by 12.0 points"
    assert found["vit_same_params"] == "10" and found["vit_same_speed"] == "4.0"
    assert found["vit_same_resnet"] == "52.0 %" and found["vit_same_vit"] == "40.0 %"
    ahead = facts.facts_same_budget(resnet, run("vs_vit_5000", 0.555, cost=cost(2_700_000, 175.0)))
    assert ahead["vit_same_reading"] == "the ViT is ahead by 3.5 points"
    level = facts.facts_same_budget(resnet, run("vs_vit_5000", 0.5202, cost=cost(2_700_000, 175.0)))
    assert level["vit_same_reading"] == "the two are level"


def efficiency(resnet: list[float], vit: list[float]) -> dict[str, str]:
    runs = {"ResNet-20": [run(accuracy=a / 100) for a in resnet], "ViT": [run(accuracy=a / 100) for a in vit]}
    return facts.facts_data_efficiency(runs)


def test_data_efficiency_wordings():
    narrows = efficiency([50, 52, 54, 56], [30, 36, 44, 50])
    assert narrows["vit_eff_reading"] == "The gap narrows by 14.0 points as the data grow tenfold"
    assert narrows["vit_eff_gaps"] == "+20.0, +16.0, +10.0, +6.0"
    assert narrows["vit_eff_gain_resnet"] == "+6.0" and narrows["vit_eff_gain_vit"] == "+20.0"
    assert narrows["vit_discussion_margin"] == "ahead by 6.0 to 20.0 points at every size from 1,000 to 10,000 images"
    widens = efficiency([40, 45, 50, 60], [38, 40, 42, 45])
    assert widens["vit_eff_reading"] == "The gap widens by 13.0 points as the data grow tenfold"
    stays = efficiency([50, 51, 52, 54], [38, 39, 40, 41])
    assert stays["vit_eff_reading"].startswith("The gap stays about the same over this tenfold range (within 1.0 points)")
    mixed = efficiency([50, 52, 54, 56], [45, 52, 55, 57])
    assert mixed["vit_eff_reading"].startswith("The gap narrows by 6.0")
    assert mixed["vit_discussion_margin"] == "ahead at 1,000 images, behind at 2,500, 5,000, 10,000"
    behind = efficiency([40, 41, 42, 43], [43, 45, 47, 49])
    assert behind["vit_discussion_margin"] == "behind by 3.0 to 6.0 points at every size from 1,000 to 10,000 images"


def test_strong_augmentation_wordings():
    plain = run("vs_vit_5000", 0.40)
    pays = facts.facts_strong_augmentation(plain, run("vs_vit_5000_strong", 0.43))
    assert pays["vit_strong_gain"] == "+3.0 points"
    assert pays["vit_strong_reading"] == "Within this short budget, stronger augmentation already pays"
    not_yet = facts.facts_strong_augmentation(plain, run("vs_vit_5000_strong", 0.375))
    assert not_yet["vit_strong_gain"] == "-2.5 points"
    assert not_yet["vit_strong_reading"].startswith("Within this short budget, stronger augmentation does not pay yet")
    assert facts.facts_strong_augmentation(plain, run("vs_vit_5000_strong", 0.40))["vit_strong_gain"] == "+0.0 points"


def test_attention_wordings():
    result = run("vs_vit_10000", attention=dict(grid=2, mean_distance=[[3.0, 5.04], [10.0, 12.26, 11.0]]))
    found = facts.facts_attention(result)
    assert found["vit_distance_first"] == "3.0 to 5.0" and found["vit_distance_last"] == "10.0 to 12.3"
    # 2 x 2 patches of 16 pixels: 8 of the 16 ordered pairs are one patch apart, 4 are a diagonal apart
    assert found["vit_distance_uniform"] == f"{(8 + 4 * math.sqrt(2)) / 16 * 16:.1f}"
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
