"""The fine-grained chapter's readings, on constructed results: every wording, every verdict."""
from __future__ import annotations

import pytest

from coursekit import experiments
from coursekit.experiments import finegrained as facts

PROVENANCE = dict(device="CPU test", torch="2.x", git_commit="abc", date="2026-12-03T10:00:00+00:00",
                  wall_seconds=75.0, data=dict(summary="constructed Stanford Cars runs",
                                               targets={"stanford-cars": dict(classes=4)}))
CLASSES = ("Audi S4 Sedan 2007", "Audi S4 Sedan 2012", "Aston Martin Virage Coupe 2012", "Dodge Dakota Club Cab 2007")


def row(method: str, seed: int, accuracy: float, variant: str | None = None, **fields) -> dict:
    found = dict(dict(method=method, seed=seed, accuracy=accuracy, top5=min(1.0, accuracy + 0.2),
                      final_train_accuracy=0.95, seconds=60.0), **fields)
    return dict(found, variant=variant) if variant else found


def result(name: str, rows: list[dict], **config) -> dict:
    return dict(experiment=name, profile="quick", provenance=PROVENANCE, metrics=dict(rows=rows),
                config=dict(dict(seeds=sorted({r["seed"] for r in rows})), **config))


def test_makes_and_models_are_read_from_the_names():
    assert facts.make_of("Aston Martin Virage Coupe 2012") == "Aston Martin" and facts.make_of("AM General Hummer SUV 2000") == "AM General"
    assert facts.make_of("Audi S4 Sedan 2012") == "Audi" and facts.make_of("Mercedes-Benz E-Class Sedan 2012") == "Mercedes-Benz"
    assert facts.model_of("Audi S4 Sedan 2012") == "Audi S4 Sedan"


def test_the_rate_reading_says_whether_the_runs_use_the_chosen_rate():
    def rates_result(best: float) -> dict:
        accs = {f"{lr:g}": 0.6 - 0.05 * abs(facts.RATES.index(lr) - facts.RATES.index(best)) for lr in facts.RATES}
        return result("cars_rates", [row("fine-tune", 0, a, v) for v, a in accs.items()], variants=accs)

    found = facts.facts_rates(rates_result(facts.RATE))
    assert found["cars_rate_best"] == f"{facts.RATE:g}"
    assert f"{facts.RATE:g}: 60.0 %" in found["cars_rate_accs"] and found["cars_rate_accs"].count("%") == len(facts.RATES)
    assert found["cars_rate_reading"] == f"the validation images choose {facts.RATE:g}, the rate every fine-tuning run below uses"
    other = next(lr for lr in facts.RATES[1:-1] if lr != facts.RATE)
    found = facts.facts_rates(rates_result(other))
    assert found["cars_rate_reading"].endswith(f"yet the runs below use {facts.RATE:g}: they must be run again")
    # The best rate at the edge of the grid is said to be so: the grid may not hold the best rate.
    found = facts.facts_rates(rates_result(facts.RATES[-1]))
    assert found["cars_rate_reading"].endswith(f"({facts.RATES[-1]:g} is at the edge of the rates tried: one beyond it "
                                               "might do better)")
    assert facts.RATE not in (facts.RATES[0], facts.RATES[-1])  # the chapter's rate is bracketed by the grid


def finetune(probe=(0.30, 0.31, 0.32), tuned=(0.50, 0.52, 0.54), gradual=(0.49, 0.53, 0.54), **fields) -> dict:
    rows = [row(m, s, a, **(fields if m == "fine-tune" else {})) for m, accs in
            (("deep probe", probe), ("fine-tune", tuned), ("fine-tune, gradual unfreezing", gradual))
            for s, a in enumerate(accs)]
    return result("cars_finetune", rows)


def test_finetune_readings():
    found = facts.facts_finetune(finetune())
    assert found["cars_probe"] == "31.0 ± 2.5 %" and found["cars_ft"] == "52.0 ± 5.0 %"
    assert found["cars_ft_vs_probe"] == "fine-tuning every layer is ahead of the probe by 21.0 ± 2.5 points"
    assert found["cars_gradual_reading"].startswith("the seeds cannot tell gradual unfreezing")
    assert found["cars_chance"] == "25.0 %" and found["cars_ft_train"] == "95.0 %" and found["cars_ft_top5"] == "72.0 %"
    assert found["cars_ft_fit"].startswith("it has learnt its training images far better")
    worse = facts.facts_finetune(finetune(gradual=(0.45, 0.47, 0.49)))
    assert worse["cars_gradual_reading"] == ("unfreezing gradually costs 5.0 ± 0.0 points against training every layer "
                                             "from the start")
    probe_wins = facts.facts_finetune(finetune(probe=(0.60, 0.61, 0.62)))
    assert probe_wins["cars_ft_vs_probe"].startswith("the probe is ahead of fine-tuning by 9.0")


def test_the_ablation_says_what_each_part_adds():
    variants = dict(facts.ABLATION)
    accs = {"one rate for every layer": (0.40, 0.42, 0.44), "no warm-up": (0.50, 0.53, 0.53),
            "no label smoothing": (0.47, 0.49, 0.51)}
    ablation = result("cars_ablation", [row("fine-tune", s, a, v) for v, values in accs.items()
                                        for s, a in enumerate(values)], variants=variants)
    found = facts.facts_ablation(ablation, finetune())
    assert found["cars_ablation"] == ("one rate for every layer: +10.0 ± 0.0; no warm-up: +0.0 ± 2.5; "
                                      "no label smoothing: +3.0 ± 0.0")
    assert found["cars_ablation_reading"] == "clearly adding to the accuracy: a lower rate for the body, label smoothing"
    same = result("cars_ablation", [row("fine-tune", s, a, v) for v in variants for s, a in enumerate((0.50, 0.52, 0.54))],
                  variants=variants)
    assert facts.facts_ablation(same, finetune())["cars_ablation_reading"].startswith("no part of the recipe")
    # without warm-up, clearly better: the reading says that the part lowers the accuracy
    accs["no warm-up"] = (0.55, 0.57, 0.59)
    hurt = result("cars_ablation", [row("fine-tune", s, a, v) for v, values in accs.items()
                                    for s, a in enumerate(values)], variants=variants)
    assert facts.facts_ablation(hurt, finetune())["cars_ablation_reading"] == (
        "clearly adding to the accuracy: a lower rate for the body, label smoothing; "
        "clearly lowering the accuracy at this budget: warm-up")
    only_hurt = result("cars_ablation", [row("fine-tune", s, a, v) for v in variants
                                         for s, a in enumerate((0.55, 0.57, 0.59))], variants=variants)
    assert facts.facts_ablation(only_hurt, finetune())["cars_ablation_reading"] == (
        "clearly lowering the accuracy at this budget: a lower rate for the body, warm-up, label smoothing")


def test_resolution_reads_the_first_seed_and_the_cost():
    def at(pixels: int, probe: float, tuned: float, seconds: float) -> dict:
        return result(f"cars_res_{pixels}", [row("deep probe", 0, probe), row("fine-tune", 0, tuned, seconds=seconds)])

    found = facts.facts_resolution({224: at(224, 0.40, 0.70, 1200.0), 128: finetune(), 160: at(160, 0.35, 0.60, 480.0)})
    assert found["cars_res_sizes"] == "128, 160, 224" and found["cars_res_ft"] == "50.0 %, 60.0 %, 70.0 %"
    assert found["cars_res_probe"] == "30.0 %, 35.0 %, 40.0 %" and found["cars_res_gain"] == "+20.0 points"
    assert found["cars_res_cost"] == "20.0" and found["cars_res_pixels"] == "3.1"


def test_scratch_against_chance_and_fine_tuning():
    resnet = result("cars_scratch_resnet", [row("scratch", s, a) for s, a in enumerate((0.30, 0.31, 0.32))])
    vit = result("cars_scratch_vit", [row("scratch", s, a) for s, a in enumerate((0.26, 0.25, 0.27))])
    found = facts.facts_scratch(resnet, vit, finetune())
    assert found["cars_scratch_resnet"] == "31.0 ± 2.5 %" and found["cars_scratch_times"] == "1.2, 1.0"
    assert found["cars_scratch_best"] == "ResNet-20" and found["cars_scratch_lead"] == "21.0 ± 2.5 points"
    assert found["cars_scratch_reading"] == ("the ViT, the network with the fewest built-in assumptions, learns least: "
                                             "the ResNet leads it by 5.0 ± 2.5 points")
    found = facts.facts_scratch(vit, resnet, finetune())  # the ViT's numbers for the ResNet: the other verdict
    assert found["cars_scratch_reading"] == ("the ViT learns more than the ResNet here, by 5.0 ± 2.5 points, despite "
                                             "having the fewest built-in assumptions")
    close = result("cars_scratch_vit", [row("scratch", s, a) for s, a in enumerate((0.31, 0.29, 0.33))])
    found = facts.facts_scratch(resnet, close, finetune())
    assert found["cars_scratch_reading"].startswith("the seeds cannot tell the ResNet and the ViT apart (+0.0 ± ")


def test_errors_are_read_by_pair_and_by_make():
    confusion = [[0, 0, 10], [0, 1, 4], [1, 0, 2], [1, 1, 8], [2, 2, 12], [2, 3, 1], [3, 3, 11], [3, 0, 1]]
    found = facts.facts_errors(finetune(confusion=confusion), CLASSES)
    assert found["cars_err_pairs"] == ("Audi S4 Sedan 2007 and Audi S4 Sedan 2012 (6); Audi S4 Sedan 2007 and Dodge "
                                       "Dakota Club Cab 2007 (1); Aston Martin Virage Coupe 2012 and Dodge Dakota Club "
                                       "Cab 2007 (1)")
    # 6 of 8 errors within the make; errors spread evenly would put 6 x 1/3 + 2 x 0 = 2 of 8 there
    assert found["cars_err_same_make"] == "75 %" and found["cars_err_expected"] == "25 %"
    assert found["cars_err_worst"] == "Audi (75 %), Dodge (92 %), Aston Martin (92 %)"
    assert found["cars_err_best"].startswith("Aston Martin (92 %)")
    # The same confusion on every seed: 50 points above chance on each, a clear excess.
    assert found["cars_err_make_reading"].startswith("errors stay within the true make far more often than chance "
                                                     "would put them there (+50.0 ± 0.0 points)")


def test_the_share_of_errors_within_a_make_is_read_over_the_seeds():
    within = [[0, 0, 10], [0, 1, 4], [1, 0, 2], [1, 1, 8], [2, 2, 12], [2, 3, 1], [3, 3, 11], [3, 0, 1]]
    across = [[0, 0, 10], [0, 3, 6], [1, 1, 8], [2, 2, 12], [2, 3, 1], [3, 3, 11], [3, 0, 1]]
    assert facts.within_make(within, CLASSES) == (75.0, 25.0)
    assert facts.within_make(across, CLASSES) == (0.0, 25.0)  # the 6 Audi errors: 1 in 3 would stay in the make
    assert facts.within_make([[0, 0, 3]], CLASSES) == (0.0, 0.0)  # no error, nothing to share
    tuned = result("cars_finetune", [row("fine-tune", s, 0.5, confusion=c) for s, c in enumerate((within, across, within))])
    found = facts.facts_errors(tuned, CLASSES)
    assert found["cars_err_same_make"] == "50 %" and found["cars_err_expected"] == "25 %"
    assert found["cars_err_make_reading"].startswith("the seeds cannot tell this share from chance (+25.0 ± ")
    tuned = result("cars_finetune", [row("fine-tune", s, 0.5, confusion=across) for s in range(3)])
    assert facts.facts_errors(tuned, CLASSES)["cars_err_make_reading"] == (
        "errors stay within the true make less often than chance would put them there (-25.0 ± 0.0 points)")


def test_the_chapter_runs_use_the_recipe_it_describes():
    assert experiments.config("cars_finetune", "quick")["finetune_lr"] == facts.RATE
    assert facts.RATE in facts.RATES
    assert experiments.config("cars_rates", "quick")["targets"] == ["stanford-cars-val"]  # chosen on validation
    for name in ("cars_finetune", "cars_ablation", "cars_res_160"):
        assert experiments.config(name, "quick")["steps"] == facts.EPOCHS * facts.BATCHES, name
    # the resolution study runs at its own side in every profile, never at the fine-tuning's
    for profile in ("ci", "quick", "full"):
        assert experiments.config("cars_res_160", profile)["image_size"] != experiments.config(
            "cars_finetune", profile)["image_size"], profile
    assert experiments.config("cars_res_160", "full")["image_size"] == 160


@pytest.mark.parametrize("name", ["cars_scratch_resnet", "cars_scratch_vit"])
def test_scratch_runs_train_longer_at_a_quarter_of_the_pixels(name):
    cfg = experiments.config(name, "quick")
    assert cfg["image_size"] == 64 and cfg["steps"] == facts.SCRATCH_EPOCHS * facts.BATCHES


def test_data_facts_and_look_alikes():
    import torch

    from coursekit import data

    def split(labels: list[int], note: str = "") -> data.ImageTensors:
        return data.ImageTensors(torch.zeros(len(labels), 3, 2, 2, dtype=torch.uint8), torch.tensor(labels), CLASSES,
                                 dict(split=note) if note else {})

    assert facts.look_alikes(CLASSES) == [("Audi S4 Sedan 2007", "Audi S4 Sedan 2012")]
    found = facts.facts_data(split([0, 0, 1, 1, 1, 2, 3, 3, 3, 3]), split([0, 1]), split([0, 1, 2, 3], "carved"))
    assert found["cars_per_class"] == "1 to 4 (median 3)" and found["cars_n_train"] == "10"
    assert found["cars_makes"] == "3" and found["cars_split"] == "carved" and found["cars_year_pairs"] == "1"
    assert found["cars_year_example"] == "Audi S4 Sedan 2007 and Audi S4 Sedan 2012"
    assert found["cars_test_se"] == "25.0 points"  # sqrt(0.5 x 0.5 / 4 test images)


def test_method_rows_and_the_full_only_note(monkeypatch):
    assert facts.method_rows(dict(finetune(), config=dict(methods=["deep probe", "fine-tune"], seeds=[0, 1, 2]))) == [
        ["deep probe", "31.0 ± 2.5 %"], ["fine-tune", "52.0 ± 5.0 %"]]
    result, note = facts.full_only("cars_vit_pretrained", "quick")
    assert result is None and note.startswith("> **Not run in the `quick` profile:** this needs the ViT's weights")
    cfg = experiments.config("cars_vit_pretrained", "full")
    assert cfg["layer_decay"] == 0.75 and cfg["optimizer"] == "adamw" and cfg["image_size"] == 224


def test_the_recipe_numbers_are_read_from_the_configurations():
    found = facts.facts_recipe("quick")
    cfg = experiments.config("cars_finetune", "quick")
    assert found["cars_smoothing"] == "0.1" == f"{cfg['label_smoothing']:g}"
    assert found["cars_head_times"] == "10" == f"{cfg['head_lr_multiplier']:g}"
    assert found["cars_warmup"] == "20 %" and found["cars_epochs"] == str(facts.EPOCHS) == "5"
    assert found["cars_pixels"] == "128" and found["cars_scratch_pixels"] == "64" and found["cars_layer_decay"] == "0.75"
    assert facts.facts_recipe("ci")["cars_epochs"] == "1"  # a run of two steps is still said to last an epoch


def test_the_readings_are_worded_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    resnet = result("cars_scratch_resnet", [row("scratch", s, a) for s, a in enumerate((0.30, 0.31, 0.32))])
    vit = result("cars_scratch_vit", [row("scratch", s, a) for s, a in enumerate((0.26, 0.25, 0.27))])
    assert facts.facts_scratch(resnet, vit, finetune())["cars_scratch_reading"] == (
        "le ViT, le réseau qui a le moins d'hypothèses intégrées, apprend le moins\u00a0: le ResNet le devance de "
        "5,0 ± 2,5 points")
    found = facts.facts_finetune(finetune())
    assert found["cars_probe"] == "31,0 ± 2,5\u202f%" and found["cars_chance"] == "25,0\u202f%"
    assert found["cars_ft_vs_probe"] == "le réglage fin de toutes les couches devance la sonde de 21,0 ± 2,5 points"
    assert found["cars_gradual_reading"] == ("les graines ne départagent pas le dégel progressif et l'entraînement de "
                                             "toutes les couches dès le départ (+0,0 ± 2,5 points)")
    assert found["cars_ft_fit"] == "il a appris ses images d'entraînement bien mieux qu'il ne reconnaît les nouvelles"
    # "point" below two points, "points" from two on
    close = facts.facts_finetune(finetune(probe=(0.49, 0.51, 0.53)))["cars_ft_vs_probe"]
    assert close == "le réglage fin de toutes les couches devance la sonde de 1,0 ± 0,0 point"
    accs = {"one rate for every layer": (0.40, 0.42, 0.44), "no warm-up": (0.50, 0.53, 0.53),
            "no label smoothing": (0.47, 0.49, 0.51)}
    ablation = result("cars_ablation", [row("fine-tune", s, a, v) for v, values in accs.items()
                                        for s, a in enumerate(values)], variants=dict(facts.ABLATION))
    found = facts.facts_ablation(ablation, finetune())
    assert found["cars_ablation"] == ("un seul taux pour toutes les couches\u00a0: +10,0 ± 0,0\u202f; sans échauffement\u00a0: "
                                      "+0,0 ± 2,5\u202f; sans lissage des étiquettes\u00a0: +3,0 ± 0,0")
    assert found["cars_ablation_reading"] == ("ce qui ajoute nettement à l'exactitude\u00a0: un taux plus faible pour le "
                                              "corps et le lissage des étiquettes")
    accs["no warm-up"] = (0.55, 0.57, 0.59)
    hurt = result("cars_ablation", [row("fine-tune", s, a, v) for v, values in accs.items()
                                    for s, a in enumerate(values)], variants=dict(facts.ABLATION))
    assert facts.facts_ablation(hurt, finetune())["cars_ablation_reading"].endswith(
        "\u202f; ce qui abaisse nettement l'exactitude à ce budget\u00a0: l'échauffement")
    rates = {f"{lr:g}": 0.6 - 0.05 * abs(facts.RATES.index(lr) - facts.RATES.index(facts.RATE)) for lr in facts.RATES}
    found = facts.facts_rates(result("cars_rates", [row("fine-tune", 0, a, v) for v, a in rates.items()], variants=rates))
    chosen, after = (f"{lr:g}".replace(".", ",") for lr in (facts.RATE, facts.RATES[facts.RATES.index(facts.RATE) + 1]))
    assert found["cars_rate_best"] == chosen
    assert f"{chosen}\u00a0: 60,0\u202f%, {after}\u00a0: 55,0\u202f%" in found["cars_rate_accs"].replace(" et ", ", ")
    assert found["cars_rate_reading"].startswith(f"les images de validation choisissent {chosen}, le taux qu'utilisent")
    recipe = facts.facts_recipe("quick")
    assert recipe["cars_smoothing"] == "0,1" and recipe["cars_layer_decay"] == "0,75" and recipe["cars_warmup"] == "20\u202f%"


def test_resolution_errors_and_data_in_french(monkeypatch):
    import torch

    from coursekit import data

    monkeypatch.setenv("COURSEKIT_LANG", "fr")

    def at(pixels: int, probe: float, tuned: float, seconds: float) -> dict:
        return result(f"cars_res_{pixels}", [row("deep probe", 0, probe), row("fine-tune", 0, tuned, seconds=seconds)])

    found = facts.facts_resolution({224: at(224, 0.40, 0.70, 1200.0), 128: finetune(), 160: at(160, 0.35, 0.60, 480.0)})
    assert found["cars_res_sizes"] == "128, 160 et 224" and found["cars_res_ft"] == "50,0\u202f%, 60,0\u202f% et 70,0\u202f%"
    assert found["cars_res_gain"] == "+20,0 points" and found["cars_res_pixels"] == "3,1"
    confusion = [[0, 0, 10], [0, 1, 4], [1, 0, 2], [1, 1, 8], [2, 2, 12], [2, 3, 1], [3, 3, 11], [3, 0, 1]]
    found = facts.facts_errors(finetune(confusion=confusion), CLASSES)
    assert found["cars_err_pairs"].startswith("Audi S4 Sedan 2007 et Audi S4 Sedan 2012 (6)\u202f; Audi S4 Sedan 2007 et ")
    assert found["cars_err_worst"] == "Audi (75\u202f%), Dodge (92\u202f%) et Aston Martin (92\u202f%)"
    labels = [0] * 1200 + [1, 1, 2, 3, 3, 3]
    split = data.ImageTensors(torch.zeros(len(labels), 3, 2, 2, dtype=torch.uint8), torch.tensor(labels), CLASSES, {})
    found = facts.facts_data(split, split, split)
    assert found["cars_n_train"] == "1\u202f206" and found["cars_per_class"] == "1 à 1200 (médiane\u00a0: 3)"
    assert found["cars_split"] == "la partition de test officielle"
    assert found["cars_test_se"] == "1,4 point"  # sqrt(0.5 x 0.5 / 1206): below 2, singular
    assert found["cars_year_example"] == "Audi S4 Sedan 2007 et Audi S4 Sedan 2012"
    assert facts.method_rows(dict(finetune(), config=dict(methods=["deep probe", "fine-tune"], seeds=[0, 1, 2]))) == [
        ["sonde profonde", "31,0 ± 2,5\u202f%"], ["réglage fin", "52,0 ± 5,0\u202f%"]]
    assert facts.NOT_RUN["cars_vit_pretrained"].startswith("il faut pour cela les poids du ViT")


def test_the_figures_are_labelled_in_french(monkeypatch):
    from coursekit import figures

    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    resnet = result("cars_scratch_resnet", [row("scratch", s, a) for s, a in enumerate((0.30, 0.31, 0.32))],
                    image_size=64)
    vit = result("cars_scratch_vit", [row("scratch", s, a) for s, a in enumerate((0.26, 0.25, 0.27))], image_size=64)
    runs = facts.compared_runs(resnet, vit, finetune())
    ax = figures.cars_methods(runs).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "ResNet-20 à partir de zéro (64 px)", "ViT à partir de zéro (64 px)", "Lite0 ImageNet, sonde linéaire",
        "Lite0 ImageNet, affiné", "affiné, dégel progressif"]
    assert ax.get_xlabel() == "exactitude de test (%)" and ax.get_title() == ("Stanford Cars\u00a0: à partir de zéro, "
                                                                              "sonde, réglage fin")
    assert ax.texts[0].get_text() == "31,0\u202f%" and ax.get_legend().get_texts()[0].get_text() == "hasard (1 sur 4)"
    at_160 = result("cars_res_160", [row("deep probe", 0, 0.35), row("fine-tune", 0, 0.60, seconds=480.0)],
                    image_size=160)
    accuracy, cost = figures.resolution_cost({128: dict(finetune(), config=dict(seeds=[0, 1, 2], image_size=128)),
                                              160: at_160}).axes
    assert [t.get_text() for t in accuracy.get_legend().get_texts()] == ["sonde profonde", "réglage fin"]
    assert accuracy.get_xlabel() == "côté de l'entrée (pixels)" and accuracy.texts[0].get_text() == "30,0"
    assert cost.get_title() == "Durée d'entraînement du réglage fin sur cette machine"
