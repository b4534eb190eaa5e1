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


def test_the_scatter_is_read_for_a_pull_to_the_middle_and_a_growing_spread():
    truth = torch.tensor([5, 10, 15, 30, 40, 65, 70, 80])
    pulled = [[9, 13, 18, 30, 40, 55, 61, 66], [10, 14, 19, 31, 41, 56, 60, 69], [8, 12, 17, 29, 39, 54, 62, 65]]
    found = facts.facts_scatter(run((1, 1, 1), [list(map(float, p)) for p in pulled]), truth)
    assert found["ages_pull"].startswith("faces under 20 are said 3.3 ± 2.5 years older") and "and faces of 60 and over 10.8 ± 1.7 years younger" in found["ages_pull"]
    assert found["ages_pull"].endswith("as an L1 loss over an uneven spread of ages favours")
    assert found["ages_spread"].startswith("the errors grow with the age: the faces of 60 and over are missed by 7.4 ± ")
    exact = [list(map(float, truth.tolist()))] * 3
    found = facts.facts_scatter(run((0, 0, 0), exact), truth)
    assert found["ages_pull"].endswith("these runs do not show a pull towards the middle")
    assert found["ages_spread"].startswith("the seeds cannot tell whether the old faces")


def test_the_memory_study_is_read_setting_by_setting():
    def row(batch, amp=False, ckpt=False, mb=10.0, speed=100.0, precision="float32"):
        return dict(batch_size=batch, amp=amp, checkpointing=ckpt, saved_mb=mb, images_per_second=speed,
                    precision=precision)

    rows = [row(32, mb=10), row(64, mb=20), row(128, mb=40), row(256, mb=80), row(128, amp=True, mb=40),
            row(128, ckpt=True, mb=10, speed=75), row(128, amp=True, ckpt=True, mb=10)]
    found = facts.facts_memory(dict(metrics=dict(rows=rows)))
    assert found["ages_mem_growth"] == ("from a batch of 32 to one of 256 (8 times the images) the memory kept grows "
                                        "8.0 times, from 10 to 80 MB")
    assert found["ages_mem_batch"] == "128" and found["ages_mem_amp"].startswith("16-bit autocast changes nothing")
    assert found["ages_mem_ckpt"] == "gradient checkpointing keeps 25 % of it and trains at 75 % of the speed"
    rows[4] = row(128, amp=True, mb=20, precision="float16")
    assert facts.facts_memory(dict(metrics=dict(rows=rows)))["ages_mem_amp"] == "16-bit autocast (float16) keeps 50 % of it"


def test_the_readings_are_worded_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    found = facts.facts_baseline(torch.tensor([10, 20, 30, 40, 50]), torch.tensor([30, 36, 60]))
    assert found == {"ages_median": "30", "ages_base_mae": "12,0 ans", "ages_base_cs5": "33\u202f%",
                     "ages_base_groups": "67\u202f%"}
    by_head = {"l1": run((8.0, 8.2, 8.4)), "log-l1": run((7.0, 7.2, 7.4)), "groups": run((9.0, 9.5, 10.0)),
               "coral": run((8.1, 8.0, 8.5))}
    found = facts.facts_heads(by_head)
    assert found["ages_l1_mae"] == "8,2 ± 0,5 ans" and found["ages_log_l1_cs5"] == "40 ± 0\u202f%"
    # "an" below two years, "ans" from two on; French typography before the semicolons
    assert found["ages_heads_vs_l1"] == ("log-l1 se trompe de 1,0 ± 0,0 an de moins\u202f; groups se trompe de "
                                         "1,3 ± 0,7 an de plus\u202f; coral n'en diffère pas nettement (+0,0 ± 0,4)")
    ridge = dict(experiment="ages_lite0_ridge", metrics=dict(mae=6.5, penalty=10.0))
    found = facts.facts_networks({"small CNN from scratch": run((8.0, 8.2, 8.4)),
                                  "ridge on Lite0's frozen ImageNet features": ridge})
    assert found["ages_networks"] == ("le petit CNN entraîné à partir de zéro\u00a0: 8,2 ± 0,5 ans\u202f; la régression "
                                      "ridge sur les caractéristiques ImageNet figées de Lite0\u00a0: 6,5 ans (une seule "
                                      "exécution)")
    assert found["ages_best_network"] == "la régression ridge sur les caractéristiques ImageNet figées de Lite0"
    truth = torch.tensor([5, 10, 15, 30, 40, 65, 70, 80])
    pulled = [[9, 13, 18, 30, 40, 55, 61, 66], [10, 14, 19, 31, 41, 56, 60, 69], [8, 12, 17, 29, 39, 54, 62, 65]]
    found = facts.facts_scatter(run((1, 1, 1), [list(map(float, p)) for p in pulled]), truth)
    assert found["ages_pull"].startswith("les visages de moins de 20 ans sont vieillis de 3,3 ± 2,5 ans en moyenne, "
                                         "et ceux de 60 ans et plus sont rajeunis de 10,8 ± 1,7 ans\u00a0: les prédictions")
    assert found["ages_spread"].startswith("les erreurs croissent avec l'âge\u00a0: le réseau se trompe de 7,4 ± ")


def test_who_the_errors_fall_on_and_the_memory_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    truth = torch.tensor([20, 30, 40, 50, 60, 70])
    predicted = [[21, 31, 41, 51, 65, 75], [22, 32, 42, 52, 68, 78], [20, 30, 40, 50, 64, 76]]
    result = run((1, 1, 1), [list(map(float, p)) for p in predicted])
    attributes = dict(age=truth, race=torch.tensor([0, 0, 0, 0, 1, 1]), gender=torch.tensor([0, 1, 0, 1, 0, 1]))
    train = dict(age=torch.arange(10), race=torch.tensor([0] * 8 + [1] * 2), gender=torch.tensor([0, 1] * 5))
    found = facts.facts_fairness(result, attributes, train)
    assert found["ages_by_race"].startswith("Blanc\u00a0: 1,0 ± 2,5 ans (80\u202f% des visages d'entraînement)\u202f; "
                                            "Noir\u00a0: 6,0 ± ")
    assert found["ages_race_reading"].startswith("sur les visages du groupe «\u00a0Noir\u00a0», les moins nombreux à "
                                                 "l'entraînement, le réseau se trompe de 5,0 ± 2,5 ans de plus")
    assert found["ages_gender_reading"].startswith("les graines ne distinguent pas")
    rows = [dict(batch_size=b, amp=amp, checkpointing=ckpt, saved_mb=mb, images_per_second=speed, precision=precision)
            for b, amp, ckpt, mb, speed, precision in
            [(32, False, False, 10, 100, "float32"), (256, False, False, 80, 100, "float32"),
             (128, False, False, 40, 100, "float32"), (128, True, False, 20, 100, "float16"),
             (128, False, True, 10, 75, "float32")]]
    found = facts.facts_memory(dict(metrics=dict(rows=rows)))
    assert found["ages_mem_growth"] == ("d'un lot de 32 à un lot de 256 (8 fois plus d'images), la mémoire conservée est "
                                        "multipliée par 8,0, passant de 10 à 80 Mo")
    assert found["ages_mem_amp"] == "l'autocast 16 bits (float16) en conserve 50\u202f%"
    assert found["ages_mem_ckpt"] == "le recalcul des activations en conserve 25\u202f% et entraîne à 75\u202f% de la vitesse"
    note = facts.NOT_RUN["ages_dinov2_ridge"]
    assert note.startswith("il faut pour cela les poids de DINOv2") and "`make book BOOK_PROFILE=full`" in note


def test_the_figures_are_labelled_in_french(monkeypatch):
    from coursekit import figures

    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    faces = bright_corner_faces([1, 5, 12])
    result = dict(metrics=dict(predicted=[3.0, 7.4, 30.0],
                               gradcam=dict(layer="conv", images=[0, 2], maps=[[[1.0, 0.0], [0.0, 0.0]]] * 2)))
    fig = figures.age_gradcam(result, faces)
    assert [ax.get_title() for ax in fig.axes] == ["réel 1\nprédit 3", "réel 12\nprédit 30"]
    assert fig.get_suptitle() == "Grad-CAM de l'âge prédit (conv, première graine)"
    truth = torch.tensor([20, 30, 40, 50])
    result = run((1, 1, 1), [[21.0, 31.0, 44.0, 58.0]] * 3)
    ax = figures.errors_by_group(result, dict(age=truth, race=torch.tensor([0, 0, 1, 1])), "race",
                                 data_races()).axes[0]
    assert ax.get_title() == "Erreurs par origine ethnique (visages de test)"
    assert ax.get_xlabel() == "erreur absolue moyenne (ans)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Blanc", "Noir"]
    assert [t.get_text() for t in ax.texts] == ["1,0 (2 visages)", "6,0 (2 visages)"]
    result = dict(run((1,), [[21.0, 31.0, 41.0, 51.0]]), title="The student's small CNN from scratch on UTKFace, head: l1")
    ax = figures.predicted_against_true(result, truth).axes[0]
    assert ax.get_title() == ("Petit CNN de l'étudiant, à partir de zéro sur UTKFace, tête\u00a0: l1\n"
                              "(première graine\u00a0: MAE de 1,0 an)")
    assert ax.get_xlabel() == "âge réel (ans)"


def data_races():
    from coursekit import data

    return data.utkface.RACES
