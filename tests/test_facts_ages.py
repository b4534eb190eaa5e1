"""The age chapter's readings, on constructed results: every wording, every verdict."""
from __future__ import annotations

import torch

from coursekit import experiments
from coursekit.experiments import ages as facts


def run(maes: tuple[float, ...], predicted: list[list[float]] | None = None, cs5=0.4, groups=0.6) -> dict:
    seeds = [dict(seed=i, metrics=dict(mae=m, cs5=cs5, group_accuracy=groups,
                                       **({"predicted": predicted[i]} if predicted else {})), history=[], cost={})
             for i, m in enumerate(maes)]
    return dict(experiment="ages_test", metrics=dict(seeds[0]["metrics"]), seeds=seeds)


def test_the_baseline_says_the_median_for_every_face():
    found = facts.facts_baseline(torch.tensor([10, 20, 30, 40, 50]), torch.tensor([30, 36, 60]))
    assert found == {"ages_median": "30", "ages_base_mae": "12.0 years", "ages_base_cs5": "33 %",
                     "ages_base_groups": "67 %"}


def test_heads_are_compared_with_l1_seed_by_seed():
    by_head = {"l1": run((8.0, 8.2, 8.4)), "log-l1": run((7.0, 7.2, 7.4)), "groups": run((9.0, 9.5, 10.0)),
               "coral": run((8.1, 8.0, 8.5))}
    found = facts.facts_heads(by_head)
    assert found["ages_l1_mae"] == "8.2 ± 0.5 years" and found["ages_log_l1_cs5"] == "40 ± 0 %"
    assert found["ages_best_head"] == "log-l1"
    assert found["ages_heads_vs_l1"] == ("log-l1 1.0 ± 0.0 years better; groups 1.3 ± 0.7 years worse; "
                                         "coral not clearly different (+0.0 ± 0.4)")


def test_networks_and_a_run_without_seeds():
    ridge = dict(experiment="ages_lite0_ridge", metrics=dict(mae=6.5, penalty=10.0))
    found = facts.facts_networks({"small CNN": run((8.0, 8.2, 8.4)), "ridge on Lite0": ridge})
    assert found["ages_networks"] == "small CNN: 8.2 ± 0.5 years; ridge on Lite0: 6.5 years (one run)"
    assert found["ages_best_network"] == "ridge on Lite0"


def test_fairness_reads_groups_by_seed_and_the_imbalance():
    truth = torch.tensor([20, 30, 40, 50, 60, 70])
    race = torch.tensor([0, 0, 0, 0, 1, 1])
    gender = torch.tensor([0, 1, 0, 1, 0, 1])
    predicted = [[21, 31, 41, 51, 65, 75], [22, 32, 42, 52, 68, 78], [20, 30, 40, 50, 64, 76]]
    result = run((1, 1, 1), [list(map(float, p)) for p in predicted])
    attributes = dict(age=truth, race=race, gender=gender)
    train = dict(age=torch.arange(10), race=torch.tensor([0] * 8 + [1] * 2), gender=torch.tensor([0, 1] * 5))
    found = facts.facts_fairness(result, attributes, train)
    assert found["ages_by_race"].startswith("White: 1.0 ± 2.5 years (80 % of training faces); Black: 6.0 ± ")
    assert found["ages_race_reading"].startswith("the Black faces, the fewest in training, are aged 5.0 ± ")
    assert "years worse than the White faces, the most" in found["ages_race_reading"]
    assert found["ages_gender_reading"].startswith("the seeds cannot tell")
    assert found["ages_by_band"].startswith("20-29: ")


def test_the_chapter_runs_share_their_recipe():
    for head in ("l1", "log_l1", "groups", "coral"):
        cfg = experiments.config(f"ages_cnn_{head}", "quick")
        assert cfg["model"] == "small_cnn" and cfg["epochs"] == 15 and cfg["seeds"] == [0, 1, 2]
    assert experiments.config("ages_lite0_finetune", "quick")["image_size"] == 96
