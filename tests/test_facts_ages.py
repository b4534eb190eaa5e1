"""The age chapter's readings, on constructed results: every wording, every verdict."""
from __future__ import annotations

import pytest
import torch

from coursekit import experiments, regression
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
        assert cfg["model"] == "small_cnn" and cfg["epochs"] == 8 and cfg["seeds"] == [0, 1, 2]
    assert experiments.config("ages_lite0_finetune", "quick")["image_size"] == 96


def bright_corner_faces(ages: list[int], size: int = 16):
    """Faces of the given ages, each dark but for a bright top-left quadrant."""
    from coursekit import data

    images = torch.zeros(len(ages), 3, size, size, dtype=torch.uint8)
    images[:, :, : size // 2, : size // 2] = 255
    return data.ImageTensors(images, torch.tensor(ages), ("age",), dict(kind="constructed", description="faces"))


class Brightness(torch.nn.Module):
    """A one-output "age" network whose convolution sees brightness: more light, an older answer."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 2, 3, padding=1)
        torch.nn.init.constant_(self.conv.weight, 0.1)
        torch.nn.init.zeros_(self.conv.bias)
        self.head = torch.nn.Linear(2, 1)
        torch.nn.init.constant_(self.head.weight, 1.0)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).mean((2, 3)))


def test_grad_cam_of_the_age_finds_the_evidence_on_one_face_of_each_group():
    faces = bright_corner_faces([25, 1, 70, 5, 12, 2, 33, 45, 51, 65, 8])
    found = facts.where_it_looks(Brightness(), faces, "l1", {}, torch.device("cpu"), layer="conv", grid=4)
    groups = [int(g) for g in regression.age_groups(faces.labels[found["images"]])]
    assert groups == list(range(8)) and found["images"][:3] == [1, 3, 4]  # the first face of each group, youngest first
    for cam in found["maps"]:
        assert max(max(row) for row in cam) == cam[0][0] and cam[3][3] < 0.2  # the bright corner, not the dark one
    with pytest.raises(ValueError, match="one output"):
        facts.where_it_looks(Brightness(), faces, "coral", {}, torch.device("cpu"), layer="conv")


def test_the_gradcam_figure_shows_each_face_with_its_ages():
    from coursekit import figures

    faces = bright_corner_faces([1, 5, 12])
    result = dict(metrics=dict(predicted=[3.0, 7.4, 30.0],
                               gradcam=dict(layer="conv", images=[0, 2], maps=[[[1.0, 0.0], [0.0, 0.0]]] * 2)))
    fig = figures.age_gradcam(result, faces)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["true 1\nsaid 3", "true 12\nsaid 30"] and all(len(ax.images) == 2 for ax in fig.axes)
