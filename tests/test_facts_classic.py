"""The readings of chapter "classic": from the ILSVRC table, from the networks the chapter builds, from
the stored quick results, and from constructed results that reach each wording."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from conftest import stored_result
from coursekit import diagnostics, experiments, models
from coursekit.experiments import cifar, classic
from coursekit.models import inception, resnet, vgg


def number(text: str) -> float:
    """"61.1 M" -> 61.1, "3,025" -> 3025, "28 %" -> 28."""
    return float(text.split()[0].replace(",", ""))


# --- the ILSVRC table -------------------------------------------------------------------------------

def test_ilsvrc_facts_agree_with_the_table():
    facts = classic.facts_ilsvrc()
    winners = classic.ilsvrc_winners()
    err = {y: w["top5_error_percent"] for y, w in winners.items()}
    for year in (2010, 2011, 2012, 2014, 2015):
        assert number(facts[f"classic_err_{year}"]) == pytest.approx(err[year], abs=0.05)
    assert number(facts["classic_drop_2012"]) == pytest.approx(err[2011] - err[2012], abs=0.05)
    assert number(facts["classic_drop_2011"]) == pytest.approx(err[2010] - err[2011], abs=0.05)
    assert winners[2014]["team"] != "VGG" and number(facts["classic_err_vgg"]) > err[2014]
    year = int(facts["classic_below_human"])
    assert err[year] < classic.HUMAN_TOP5_ERROR and all(err[y] >= classic.HUMAN_TOP5_ERROR for y in err if y < year)
    assert facts["classic_last_year"] == str(max(err)) and number(facts["classic_err_last"]) == err[max(err)]


def test_ilsvrc_facts_on_a_constructed_table():
    rows = [dict(year=y, team=t, top5_error_percent=e) for y, t, e in [
        (2010, "A", 30.0), (2011, "B", 26.0), (2011, "C", 27.5), (2012, "D", 15.0), (2013, "E", 11.0),
        (2014, "F", 6.0), (2014, "VGG", 7.25), (2015, "G", 4.0), (2016, "H", 3.0)]]
    facts = classic.facts_ilsvrc(rows, human_error=6.5)
    assert facts["classic_err_2011"] == "26.0 %" and facts["classic_err_vgg"] == "7.2 %"
    assert facts["classic_drop_2011"] == "4.0" and facts["classic_drop_2012"] == "11.0"
    assert facts["classic_below_human"] == "2014"  # the first year below the human, not the last
    assert facts["classic_last_year"] == "2016" and facts["classic_err_last"] == "3.0 %"


# --- readings of the networks -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def alexnet() -> nn.Module:
    return models.create("alexnet", num_classes=1000)


def test_conv1_of_alexnet():
    facts = classic.facts_conv1(nn.Conv2d(3, 96, kernel_size=11, stride=4))
    # 55 x 55 positions, 96 filters of 11 x 11 x 3 weights and a bias
    assert facts == {"classic_conv1_positions": "3,025", "classic_conv1_connections": "105.7 million",
                     "classic_conv1_params": "34,944", "classic_padded_224": "55"}


def test_alexnet_keeps_its_parameters_in_the_classifier(alexnet):
    facts = classic.facts_alexnet(alexnet)
    params = models.count_parameters(alexnet)
    assert number(facts["classic_alexnet_params"]) == pytest.approx(params / 1e6, abs=0.05)
    assert facts["classic_alexnet_conv1_filters"] == "64"
    fc = models.count_parameters(alexnet.classifier) / params
    assert number(facts["classic_alexnet_fc_share"]) == round(100 * fc) and fc > 0.9
    assert number(facts["classic_alexnet_fc6_share"]) < number(facts["classic_alexnet_fc_share"])
    assert number(facts["classic_alexnet_conv_mac_share"]) > 50


def test_vgg_facts_agree_with_the_configurations():
    facts = classic.facts_vgg()
    counts = vgg.config_parameter_counts()
    assert facts["classic_vgg_min_layers"] == "11" and facts["classic_vgg_max_layers"] == "19"
    assert number(facts["classic_vgg_growth"]) == round(100 * (counts["E"] / counts["A"] - 1))
    assert facts["classic_vgg16_params"] == "138 M"  # Simonyan & Zisserman (2015), Table 2
    assert 80 < number(facts["classic_vgg16_fc_share"]) < 100


def test_vgg_table_has_one_column_per_configuration_and_their_counts():
    headers, rows = classic.vgg_table()
    assert headers == ["", *vgg.VGG_CONFIGS]
    assert all(len(r) == len(headers) for r in rows)
    assert rows[-2] == ["**weight layers**", *(f"**{vgg.weight_layers(c)}**" for c in vgg.VGG_CONFIGS)]
    assert rows[-1][headers.index("D")] == "**138**"
    column_d = [r[headers.index("D")] for r in rows]
    assert column_d.count("conv3-512") == 6 and column_d.count("maxpool") == 5


def test_receptive_fields_and_stacked_filters(alexnet):
    facts = classic.facts_receptive_fields(alexnet)
    assert facts == {"classic_vgg16_rf": "196", "classic_alexnet_rf": "163",  # the last convolutions
                     "classic_vgg16_rf_pooled": "212", "classic_alexnet_rf_pooled": "195"}  # after the last pool
    C = 8
    three = nn.Sequential(*[nn.Conv2d(C, C, 3, bias=False) for _ in range(3)])
    assert classic.facts_stacked_3x3(three, nn.Conv2d(C, C, 7, bias=False)) == {"classic_7x7_saving": "45 %"}  # 1 - 27/49


def test_global_average_pooling_and_nin():
    facts = classic.facts_gap_head(nn.Linear(7 * 7 * 1024, 1000), nn.Linear(1024, 1000))
    assert facts["classic_gap_ratio"] == "49"
    assert number(facts["classic_nin_params"]) == pytest.approx(
        models.count_parameters(models.create("nin", num_classes=10)) / 1e6, abs=0.005)


def test_module_3a():
    c_in, c1, c3r, c3, c5r, c5, proj = inception.GOOGLENET_TABLE["3a"]
    module = inception.Inception(c_in, c1, c3r, c3, c5r, c5, proj)
    naive = nn.ModuleList([inception.ConvBNReLU(c_in, c1, 1), inception.ConvBNReLU(c_in, c3, 3, padding=1),
                           inception.ConvBNReLU(c_in, c5, 5, padding=2), inception.ConvBNReLU(c_in, proj, 1)])
    facts = classic.facts_module_3a(module, naive)
    assert number(facts["classic_3a_ratio"]) == pytest.approx(
        models.count_parameters(naive) / models.count_parameters(module), abs=0.05)
    # 5x5 branch: 192*32*25 weights without the reduction, 192*16 + 16*32*25 with it
    assert facts["classic_3a_5x5_ratio"] == f"{192 * 32 * 25 / (192 * 16 + 16 * 32 * 25):.1f}"
    assert facts["classic_3a_top_layer"] == "branch2.1.conv"  # the 3x3 from 96 to 128 channels
    assert 40 < number(facts["classic_3a_top_share"]) < 70


def test_googlenet_against_alexnet_and_vgg(alexnet):
    googlenet = models.create("googlenet", num_classes=1000)
    facts = classic.facts_googlenet(googlenet, alexnet)
    params = models.count_parameters(googlenet)
    assert number(facts["classic_googlenet_params"]) == pytest.approx(params / 1e6, abs=0.05)
    assert number(facts["classic_googlenet_vs_alexnet"]) == round(models.count_parameters(alexnet) / params)
    assert number(facts["classic_googlenet_vs_vgg"]) == round(vgg.config_parameter_counts()["D"] / params)
    assert number(facts["classic_googlenet_fc_share"]) == round(100 * 1_025_000 / params)


def test_factorised_separable_and_bottleneck():
    C = 16
    factorised = nn.Sequential(nn.Conv2d(C, C, (1, 7), bias=False), nn.Conv2d(C, C, (7, 1), bias=False))
    facts = classic.facts_factorised(factorised, nn.Conv2d(C, C, 7, bias=False))
    assert facts == {"classic_5x5_saving": "28 %", "classic_factorised_share": "29 %"}  # 18/25; 14/49
    facts = classic.facts_separable(inception.SeparableConv2d(256, 256, kernel_size=3),
                                    nn.Conv2d(256, 256, 3, padding=1, bias=False))
    ratio = 9 * 256 * 256 / models.count_parameters(inception.SeparableConv2d(256, 256, kernel_size=3))
    assert facts["classic_separable_ratio"] == f"{ratio:.1f}" and 8 < ratio < 9
    facts = classic.facts_bottleneck(resnet.BasicBlock(64, 64), resnet.Bottleneck(256, 64))
    assert 0.9 < number(facts["classic_bottleneck_ratio"]) < 1.0


# --- readings of the stored results ---------------------------------------------------------------------

def read(names: list[str]) -> dict[str, dict]:
    """The stored quick results of ``names``; a test fails, saying what to run, when one is missing or stale."""
    return {n: stored_result(n) for n in names}


def test_degradation_facts_agree_with_the_stored_results():
    results = read(classic.DEGRADATION)
    facts = classic.facts_degradation(results)
    error = {n: [100 * (1 - s["history"][-1]["train_accuracy"]) for s in r["seeds"]] for n, r in results.items()}
    for n in classic.DEGRADATION:
        assert number(facts[f"classic_{n}_err"]) == pytest.approx(sum(error[n]) / len(error[n]), abs=0.05)
    assert facts["classic_deg_epochs"] == f"{len(results['degradation_plain56']['history'])} epochs"
    assert facts["classic_deg_profile"] == "quick" and int(facts["classic_deg_seeds"]) >= 3
    gaps = [p56 - p20 for p56, p20 in zip(error["degradation_plain56"], error["degradation_plain20"])]
    shares = [diagnostics.flat_share(s["history"]) for r in results.values() for s in r["seeds"]]
    assert (facts["classic_deg_flat_reading"] == "every training loss had flattened") == (
        max(shares) < diagnostics.FLAT_SHARE)
    if "is the degradation problem" in facts["classic_plain_reading"]:  # then every part of the claim holds
        assert min(gaps) > 0 and facts["classic_deg_flat_reading"] == "every training loss had flattened"


def test_gradient_facts_agree_with_the_stored_results():
    results = read(classic.DEGRADATION)
    facts = classic.facts_gradients(results)
    plain = results["degradation_plain56"]["gradient_norms"]
    assert number(facts["classic_grad_plain56"]) == pytest.approx(plain["initial"][0] / plain["initial"][-1], rel=0.01)
    spread = math.log10(max(plain["initial"]) / min(plain["initial"]))
    assert f"{spread:.1f}" in facts["classic_grad_reading"]
    trained = facts["classic_grad_trained"].split(" and ")
    assert float(trained[0]) == pytest.approx(math.log10(max(plain["trained"]) / min(plain["trained"])), abs=0.05)


def test_comparison_facts_agree_with_the_stored_results():
    results = read(classic.CLASSIC)
    facts = classic.facts_comparison(results)
    acc = {classic.SHORT_NAMES[n]: [100 * s["metrics"]["accuracy"] for s in r["seeds"]] for n, r in results.items()}
    mean = {k: sum(v) / len(v) for k, v in acc.items()}
    best = max(mean, key=mean.get)
    assert facts["classic_best"].startswith(f"{best} ({mean[best]:.1f} ± ")
    assert number(facts["classic_resnet_acc"]) == pytest.approx(mean["ResNet-20"], abs=0.05)
    assert int(facts["classic_cmp_seeds"]) >= 3
    compute = [classic.training_compute(r) for r in results.values()]
    assert max(compute) / min(compute) < 1.15  # equal compute, within the rounding of epochs


def test_quick_comparison_is_at_equal_compute():
    macs = {n: models.count_macs(models.create(model)) for n, (model, _, _) in classic.CLASSIC_NETWORKS.items()}
    epochs = classic.equal_compute_epochs(macs)
    assert epochs == classic.QUICK_EPOCHS == {n: experiments.config(n, "quick")["epochs"] for n in classic.CLASSIC}
    assert epochs[classic.COMPUTE_REFERENCE[0]] == classic.COMPUTE_REFERENCE[1]
    assert len({experiments.config(n, "full")["epochs"] for n in classic.CLASSIC}) == 1  # full: equal epochs


def test_equal_compute_epochs_round_and_never_reach_zero():
    assert classic.equal_compute_epochs(dict(a=100, b=300, c=10_000), ("a", 10)) == dict(a=10, b=3, c=1)


def test_learning_rates_are_what_the_stored_range_tests_choose():
    result = stored_result("classic_lr_find")
    for name, curve in result["metrics"].items():
        assert experiments.config(name, "quick")["lr"] == pytest.approx(curve["chosen_lr"]), name
        assert curve["chosen_lr"] == pytest.approx(cifar.chosen_lr(curve))


def test_chosen_lr_rounds_the_minimum_to_one_significant_figure():
    assert cifar.chosen_lr(dict(minimum=0.076)) == pytest.approx(0.08)
    assert cifar.chosen_lr(dict(minimum=9.3e-4)) == pytest.approx(9e-4)
    assert cifar.chosen_lr(dict(minimum=0.96)) == pytest.approx(1.0)


def run(loss: float | None = None, epochs: int = 3, norms=None, **cost) -> dict:
    """A constructed result with the fields the facts read."""
    history = [dict(train_loss=9.0)] * (epochs - 1) + [dict(train_loss=loss)]
    return dict(profile="quick", history=history, gradient_norms=norms, metrics=dict(accuracy=cost.pop("acc", 0.5)),
                cost=cost)


def seeded(errors: list[float], losses: list[float]) -> dict:
    """A constructed result over seeds: each seed ends at ``errors[i]`` % training error, on one loss curve."""
    history = [dict(train_loss=v, train_accuracy=0.5) for v in losses]
    seeds = [dict(seed=i, history=history[:-1] + [dict(train_loss=losses[-1], train_accuracy=1 - e / 100)])
             for i, e in enumerate(errors)]
    return dict(profile="quick", config=dict(train_per_class=500), history=seeds[0]["history"], seeds=seeds,
                provenance=dict(data=dict(train=dict(images=5000))), metrics=dict(accuracy=0.5))


FLAT = [2.3] + [1.0 - 0.05 * i for i in range(16)] + [0.1] * 3  # 20 epochs, the last three flat
FALLING = [2.3 - 0.1 * i for i in range(20)]                     # 20 epochs, still falling


def degradation(p20, r20, p56, r56, losses=FLAT) -> dict[str, dict]:
    return {f"degradation_{n}": seeded(v, losses) for n, v in
            dict(plain20=p20, resnet20=r20, plain56=p56, resnet56=r56).items()}


def test_flat_share_measures_the_fall_in_the_last_tenth():
    assert diagnostics.flat_share([dict(train_loss=v) for v in FLAT]) == 0
    assert diagnostics.flat_share([dict(train_loss=v) for v in FALLING]) == pytest.approx(2 / 19)
    assert diagnostics.flat_share([dict(train_loss=2.0), dict(train_loss=2.5)]) == 1.0  # no fall: never flat


def test_a_loss_that_flattens_only_as_the_rate_vanishes_has_not_converged():
    # one-cycle: the rate peaks at epoch 2 and anneals to nearly zero; the loss falls in a straight line while
    # the rate is large and stops only when the steps vanish
    rates = [0.05, 0.1, 0.1, 0.09, 0.08, 0.07, 0.06, 0.05, 0.04, 0.02, 0.005, 0.001, 0.0001]
    losses = [2.3, 2.1, 1.9, 1.7, 1.5, 1.3, 1.1, 0.9, 0.7, 0.62, 0.6, 0.6, 0.6]
    history = [dict(lr=r, train_loss=v) for r, v in zip(rates, losses)]
    assert diagnostics.flat_share(history, rate_share=0) < diagnostics.FLAT_SHARE  # read to the end: "flat"
    share = diagnostics.flat_share(history)  # read while the rate is at least half its peak: epochs 0 to 7
    assert share == pytest.approx(0.2 / 1.4) and share > diagnostics.FLAT_SHARE
    plateau = [2.3, 1.2, 0.8, 0.65, 0.61, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]  # flat long before the anneal
    assert diagnostics.flat_share([dict(lr=r, train_loss=v) for r, v in zip(rates, plateau)]) == 0
    constant = [dict(lr=0.1, train_loss=v) for v in losses]  # no anneal: read to the last epoch
    assert diagnostics.flat_share(constant) == diagnostics.flat_share(constant, rate_share=0)


def test_degradation_shown():
    facts = classic.facts_degradation(degradation(p20=[10, 11, 12], r20=[9, 10, 11], p56=[20, 22, 21], r56=[5, 6, 7]))
    assert facts["classic_degradation_plain56_err"] == "21.0 ± 2.5 %"
    assert facts["classic_deg_epochs"] == "20 epochs" and facts["classic_deg_seeds"] == "3"
    assert facts["classic_deg_images"] == "5,000" and facts["classic_deg_flat_reading"] == "every training loss had flattened"
    assert facts["classic_plain_reading"].startswith("the plain 56-layer network ends with a training error 10.0 ± ")
    assert facts["classic_plain_reading"].endswith("which is the degradation problem")
    assert facts["classic_residual_reading"].startswith("ResNet-56 ends 4.0 ± 0.0 points below ResNet-20")
    assert facts["classic_shortcut_reading"].startswith("at 56 layers the shortcuts lower the training error by 15.0 ±")


def test_a_gap_before_convergence_is_not_called_degradation():
    facts = classic.facts_degradation(degradation(p20=[10, 11, 12], r20=[9, 10, 11], p56=[20, 22, 21], r56=[5, 6, 7],
                                                  losses=FALLING))
    assert facts["classic_deg_flat_reading"].startswith("not every training loss had flattened")
    assert "degradation problem" not in facts["classic_plain_reading"]
    assert facts["classic_plain_reading"].endswith("although the run stopped before convergence")


def test_degradation_not_shown():
    facts = classic.facts_degradation(degradation(p20=[10, 11, 12], r20=[9, 10, 11], p56=[9, 12, 11], r56=[11, 12, 13]))
    assert facts["classic_plain_reading"].startswith("the seeds cannot tell the training errors of plain-56 and plain-20")
    assert facts["classic_residual_reading"].startswith("ResNet-56 ends 2.0 ± 0.0 points above ResNet-20")
    assert facts["classic_shortcut_reading"].startswith("at 56 layers the shortcuts do not lower the training error")
    lower = classic.facts_degradation(degradation(p20=[10, 11, 12], r20=[9, 10, 11], p56=[5, 6, 7], r56=[9, 11, 10]))
    assert lower["classic_plain_reading"].endswith("lower than the plain 20-layer one: this run does not show the "
                                                   "degradation problem")
    assert lower["classic_residual_reading"].startswith("the seeds cannot tell ResNet-56 from ResNet-20")


def gradients(plain: list[float], residual: list[float]) -> dict[str, dict]:
    return {"degradation_plain56": run(norms=dict(initial=plain, trained=[1.0, 10.0])),
            "degradation_resnet56": run(norms=dict(initial=residual, trained=[1.0, 2.0]))}


def test_gradients_spread_and_grow_towards_the_input():
    facts = classic.facts_gradients(gradients(plain=[500.0, 1.0, 0.2], residual=[2.0, 1.0, 1.5]))
    assert facts["classic_grad_plain56"] == "2,500" and facts["classic_grad_resnet56"] == "1.33"
    assert "spread over 3.4 orders of magnitude" in facts["classic_grad_reading"]
    assert "against 0.3 for ResNet-56" in facts["classic_grad_reading"]
    assert "makes the gradient grow layer by layer" in facts["classic_grad_reading"]
    assert facts["classic_grad_trained"] == "1.0 and 0.3"


def test_gradients_spread_and_shrink_towards_the_input():
    facts = classic.facts_gradients(gradients(plain=[0.001, 1.0, 2.0], residual=[1.0, 1.0, 1.0]))
    assert facts["classic_grad_plain56"] == "5.0e-04"
    assert "makes the gradient shrink layer by layer" in facts["classic_grad_reading"]


def test_gradients_spread_alike():
    facts = classic.facts_gradients(gradients(plain=[1.0, 0.5, 20.0], residual=[1.0, 0.2, 1.0]))
    assert facts["classic_grad_plain56"] == "0.05"
    assert facts["classic_grad_reading"].startswith("the gradient norms of the plain network spread over about as many")
    assert "(1.6 against 0.7)" in facts["classic_grad_reading"]


def seeds_run(acc: list[float], parameters: int, speed: float, macs: int) -> dict:
    """A constructed comparison run: test accuracy per seed, one epoch of 100 images at ``speed``."""
    history = [dict(train_loss=1.0, images_per_second=speed)]
    seeds = [dict(seed=i, metrics=dict(accuracy=a), history=history, cost=dict(train_seconds=60.0 * (i + 1)))
             for i, a in enumerate(acc)]
    return dict(profile="quick", history=history, seeds=seeds, metrics=dict(accuracy=acc[0]), config=dict(seed=0),
                provenance=dict(data=dict(train=dict(images=100))),
                cost=dict(parameters=parameters, images_per_second=speed, macs=macs))


NAMES = ["AlexNet", "AlexNet-BN", "VGG-11", "GoogLeNet", "ResNet-20"]
PARAMS = dict(zip(NAMES, [7_500_000, 7_500_000, 9_200_000, 6_000_000, 270_000]))
MACS = dict(zip(NAMES, [172e6, 172e6, 153e6, 480e6, 41e6]))


def comparison(acc: dict[str, list[float]], speed: dict[str, float] | None = None, macs=MACS) -> dict[str, dict]:
    speed = speed or dict(zip(NAMES, [360.0, 340.0, 350.0, 108.0, 1100.0]))
    return {n: seeds_run(acc[s], PARAMS[s], speed[s], macs[s]) for n, s in classic.SHORT_NAMES.items()}


def test_comparison_when_the_largest_network_wins_clearly():
    facts = classic.facts_comparison(comparison(dict(zip(NAMES, [
        [0.50, 0.51, 0.52], [0.60, 0.61, 0.62], [0.80, 0.81, 0.82], [0.70, 0.71, 0.72], [0.76, 0.77, 0.78]]))))
    assert facts["classic_best"] == "VGG-11 (81.0 ± 2.5 %)"
    assert facts["classic_best_reading"] == "ahead of ResNet-20, the runner-up, by 4.0 ± 0.0 points, more than the seeds vary"
    assert facts["classic_size_reading"] == "VGG-11 is also the network with the most parameters (9.2 M)"
    assert facts["classic_bn_reading"] == "batch normalisation adds 10.0 ± 0.0 points to AlexNet's layout, at the same compute"
    assert facts["classic_resnet_reading"] == "4.0 ± 0.0 points below VGG-11, with 34 times fewer parameters"
    assert facts["classic_resnet_params"] == "0.27 M" and facts["classic_resnet_acc"] == "77.0 ± 2.5 %"
    assert facts["classic_fastest"] == "ResNet-20, at 1,100 images per second"
    assert facts["classic_speed_reading"] == "it is also the network with the fewest multiply-accumulates per image"
    assert facts["classic_slowest"] == "GoogLeNet (108 images per second)"
    assert facts["classic_cmp_minutes"] == "2.0 to 2.0 minutes" and facts["classic_cmp_seeds"] == "3"
    assert facts["classic_cmp_compute"] == "0 to 0 million million (TMAC)"  # 100 images: a tiny budget
    big = {n: dict(r, provenance=dict(data=dict(train=dict(images=10_000))), history=r["history"] * 30)
           for n, r in comparison(dict(zip(NAMES, [[0.5, 0.51, 0.52]] * 5))).items()}
    assert classic.facts_comparison(big)["classic_cmp_compute"] == "37 to 432 million million (TMAC)"


def test_comparison_when_resnet_wins_and_the_seeds_blur_the_rest():
    facts = classic.facts_comparison(comparison(dict(zip(NAMES, [
        [0.60, 0.62, 0.58], [0.58, 0.63, 0.59], [0.70, 0.74, 0.72], [0.71, 0.70, 0.70], [0.73, 0.74, 0.75]])),
        speed=dict(zip(NAMES, [1500.0, 1400.0, 300.0, 65.0, 710.0]))))
    assert facts["classic_best"].startswith("ResNet-20 (74.0 ± ")
    assert facts["classic_best_reading"].startswith("but the seeds cannot tell it from VGG-11, the runner-up (+2.0 ± ")
    assert facts["classic_size_reading"].startswith("the network with the most parameters, VGG-11 (9.2 M, 72.0 %), is "
                                                    "not the most accurate: ResNet-20 does better with 34 times fewer")
    assert facts["classic_bn_reading"].startswith("the seeds cannot tell AlexNet with batch normalisation from AlexNet")
    assert facts["classic_resnet_reading"] == "the most accurate of the five"
    assert facts["classic_fastest"] == "AlexNet, at 1,500 images per second"
    assert facts["classic_speed_reading"].startswith("although ResNet-20 needs the fewest multiply-accumulates")


def test_comparison_when_batch_norm_hurts_and_resnet_ties_the_best():
    facts = classic.facts_comparison(comparison(dict(zip(NAMES, [
        [0.60, 0.61, 0.62], [0.55, 0.56, 0.57], [0.70, 0.74, 0.72], [0.65, 0.65, 0.66], [0.71, 0.72, 0.73]]))))
    assert facts["classic_bn_reading"] == "batch normalisation costs AlexNet's layout 5.0 ± 0.0 points"
    assert facts["classic_resnet_reading"].startswith("as accurate as VGG-11 as far as the seeds can tell (+0.0 ± ")


def test_facts_read_the_networks_without_changing_them(alexnet):
    before = [p.clone() for p in alexnet.parameters()][:2]
    classic.facts_alexnet(alexnet)
    assert all(torch.equal(a, b) for a, b in zip(before, list(alexnet.parameters())[:2]))


def test_the_network_with_the_fewest_epochs_is_named_with_its_rank():
    facts = classic._epochs_facts({"A": 8, "B": 1, "C": 30}, ranked=["C", "A", "B"])
    assert facts["classic_cmp_epochs"] == "A 8, B 1, C 30"
    assert facts["classic_cmp_fewest"].startswith("B, the most expensive per image, gets only 1 epoch and ranks third of 3")
    stored = classic.facts_comparison(read(classic.CLASSIC))
    assert stored["classic_cmp_epochs"] == ", ".join(f"{classic.SHORT_NAMES[n]} {classic.QUICK_EPOCHS[n]}"
                                                     for n in classic.CLASSIC)


# --- the French edition (COURSEKIT_LANG=fr) ---------------------------------------------------------------

NNBSP, NBSP = "\u202f", "\u00a0"


def test_the_readings_of_the_networks_and_the_comparison_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    assert classic.facts_budgets()["classic_reference"] == "9 époques de VGG-11"
    assert classic.facts_conv1(nn.Conv2d(3, 96, kernel_size=11, stride=4)) == {
        "classic_conv1_positions": f"3{NNBSP}025", "classic_conv1_connections": f"105,7{NBSP}millions de",
        "classic_conv1_params": f"34{NNBSP}944", "classic_padded_224": "55"}
    rows = [dict(year=y, team=t, top5_error_percent=e) for y, t, e in [
        (2010, "A", 30.0), (2011, "B", 26.0), (2012, "D", 15.0), (2014, "F", 6.0), (2014, "VGG", 7.25),
        (2015, "G", 4.0)]]
    facts = classic.facts_ilsvrc(rows, human_error=6.5)
    assert facts["classic_err_2011"] == f"26,0{NNBSP}%" and facts["classic_drop_2012"] == "11,0"
    headers, table = classic.vgg_table()
    assert table[0][:2] == ["entrée", "224 × 224 RVB"] and table[1][0] == "bloc 1"
    assert table[-2][0] == "**couches à poids**" and table[-1][0] == "**paramètres (millions)**"
    facts = classic.facts_comparison(comparison(dict(zip(NAMES, [
        [0.50, 0.51, 0.52], [0.60, 0.61, 0.62], [0.80, 0.81, 0.82], [0.70, 0.71, 0.72], [0.76, 0.77, 0.78]]))))
    assert facts["classic_best"] == f"VGG-11 (81,0 ± 2,5{NNBSP}%)"
    assert facts["classic_best_reading"].startswith("devant ResNet-20, le deuxième, de 4,0 ± 0,0 points")
    assert facts["classic_size_reading"] == f"VGG-11 est aussi le réseau qui a le plus de paramètres (9,2{NBSP}M)"
    assert facts["classic_bn_reading"] == ("la normalisation par lots ajoute 10,0 ± 0,0 points à l'organisation "
                                           "d'AlexNet, à calcul égal")
    assert facts["classic_resnet_reading"] == "4,0 ± 0,0 points de moins que VGG-11, avec 34 fois moins de paramètres"
    assert facts["classic_resnet_params"] == f"0,27{NBSP}M de" and facts["classic_resnet_acc"] == f"77,0 ± 2,5{NNBSP}%"
    assert facts["classic_fastest"] == f"ResNet-20, à 1{NNBSP}100 images par seconde"
    assert facts["classic_cmp_minutes"] == "de 2,0 à 2,0 minutes"
    fewest = classic._epochs_facts({"A": 8, "B": 1, "C": 30}, ranked=["C", "A", "B"])["classic_cmp_fewest"]
    assert fewest.startswith(f"B, le plus coûteux par image, n'a droit qu'à 1 époque et se classe troisième sur "
                             f"3{NBSP}:")
    monkeypatch.delenv("COURSEKIT_LANG")
    assert classic.facts_budgets()["classic_reference"] == "9 epochs of VGG-11"  # English again, once unset


def test_the_readings_of_the_degradation_runs_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    facts = classic.facts_degradation(degradation(p20=[10, 11, 12], r20=[9, 10, 11], p56=[20, 22, 21], r56=[5, 6, 7]))
    assert facts["classic_degradation_plain56_err"] == f"21,0 ± 2,5{NNBSP}%"
    assert facts["classic_deg_epochs"] == "20 époques" and facts["classic_deg_images"] == f"5{NNBSP}000"
    assert facts["classic_deg_flat_reading"] == "toutes les pertes d'entraînement étaient devenues plates"
    assert facts["classic_plain_reading"].startswith("le réseau simple de 56 couches finit avec une erreur "
                                                     "d'entraînement supérieure de 10,0 ± ")
    assert facts["classic_plain_reading"].endswith("ce qui est le problème de dégradation")
    assert facts["classic_residual_reading"].startswith("ResNet-56 finit 4,0 ± 0,0 points au-dessous de ResNet-20")
    assert facts["classic_shortcut_reading"].startswith("à 56 couches, les connexions de contournement abaissent")
    early = classic.facts_degradation(degradation(p20=[10, 11, 12], r20=[9, 10, 11], p56=[20, 22, 21], r56=[5, 6, 7],
                                                  losses=FALLING))
    assert early["classic_plain_reading"].endswith("bien que l'entraînement se soit arrêté avant la convergence")
    facts = classic.facts_gradients(gradients(plain=[500.0, 1.0, 0.2], residual=[2.0, 1.0, 1.5]))
    assert facts["classic_grad_plain56"] == f"2{NNBSP}500" and facts["classic_grad_resnet56"] == "1,33"
    assert "s'étalent sur 3,4 ordres de grandeur" in facts["classic_grad_reading"]
    assert "fait croître le gradient couche après couche" in facts["classic_grad_reading"]
    assert facts["classic_grad_trained"] == "1,0 et 0,3"
    shrink = classic.facts_gradients(gradients(plain=[0.001, 1.0, 2.0], residual=[1.0, 1.0, 1.0]))
    assert "fait décroître le gradient" in shrink["classic_grad_reading"]


def curves_run(model: str, title: str, errors: list[float]) -> dict:
    """A constructed run over two seeds for the chapter's figures: training and test error per epoch."""
    history = [dict(epoch=i + 1, train_loss=2.0 - 0.1 * i, train_accuracy=1 - e / 100, test_accuracy=1 - e / 90)
               for i, e in enumerate(errors)]
    return dict(title=title, config=dict(model=model), history=history, seeds=[
        dict(seed=s, history=history, metrics=dict(accuracy=0.5)) for s in (0, 1)],
        gradient_norms=dict(initial=[3.0, 2.0, 1.0]))


def test_the_figures_in_french(monkeypatch):
    import matplotlib.pyplot as plt

    from coursekit.figures import classic as drawn

    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    ax = drawn.ilsvrc_top5().axes[0]
    assert ax.get_xlabel() == "année" and ax.get_ylabel() == "erreur top-5 (%)"
    assert ax.get_title() == f"Classification d'images ILSVRC{NBSP}: erreur top-5 des soumissions gagnantes"
    assert f"annotateur humain, 5,1{NNBSP}%" in [t.get_text() for t in ax.texts]
    title = classic.CLASSIC_NETWORKS["classic_alexnet"][1]
    loss, accuracy = drawn.compare_learning_curves([curves_run("cifar_alexnet", title, [50, 40, 30])]).axes
    assert loss.get_title() == "Perte d'entraînement" and accuracy.get_ylabel() == "exactitude de test (%)"
    assert [line.get_label() for line in loss.lines] == ["AlexNet (format CIFAR) sur CIFAR-10"]
    fig = drawn.degradation([curves_run("cifar_plain20", "", [50, 40, 30]), curves_run("resnet20", "", [45, 35, 25])])
    plain, residual, grad = fig.axes[:3]
    assert plain.get_title() == f"Réseaux simples{NBSP}: erreur d'entraînement (tirets) et de test"
    assert [line.get_label() for line in plain.lines] == ["plain20 (entraînement)", "plain20 (test)"]
    assert grad.get_title() == "Gradients des poids par couche à l'initialisation"
    assert fig._suptitle.get_text() == "Moyenne sur 2 graines, étendue ombrée"
    small = nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 10))
    ax = drawn.architecture(small, input_size=(1, 3, 8, 8), title="Small").axes[0]
    assert ax.get_title() == f"Small{NBSP}: 3 unités, 0,0{NBSP}M de paramètres, entrée 3x8x8"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["convolution", "agrégation",
                                                                      "entièrement connectée"]
    plt.close("all")
