"""The readings of chapter "classic": from the ILSVRC table, from the networks the chapter builds, from
the stored quick results, and from constructed results that reach each wording."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from coursekit import models, store
from coursekit.experiments import classic
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
    assert facts == {"classic_vgg16_rf": "212", "classic_alexnet_rf": "195"}  # the pool5 units of each
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
    results = {n: store.read_result(n, "quick") for n in names}
    if any(r is None for r in results.values()):
        pytest.skip(f"no stored quick results of {names} in {store.results_dir()}")
    return results


def test_degradation_facts_agree_with_the_stored_results():
    results = read(classic.DEGRADATION)
    facts = classic.facts_degradation(results)
    loss = {n: r["history"][-1]["train_loss"] for n, r in results.items()}
    for n in classic.DEGRADATION:
        assert number(facts[f"classic_{n}_loss"]) == pytest.approx(loss[n], abs=5e-4)
    assert facts["classic_deg_epochs"] == f"{len(results['degradation_plain56']['history'])} epochs"
    assert facts["classic_deg_profile"] == "quick"
    worse = loss["degradation_plain56"] > loss["degradation_plain20"]
    assert ("is the degradation problem" in facts["classic_plain_reading"]) == worse


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
    acc = {classic.SHORT_NAMES[n]: r["metrics"]["accuracy"] for n, r in results.items()}
    best = max(acc, key=acc.get)
    assert facts["classic_best"] == f"{best} ({100 * acc[best]:.1f} %)"
    assert number(facts["classic_resnet_acc"]) == pytest.approx(100 * acc["ResNet-20"], abs=0.05)
    if best != "ResNet-20":
        points = number(facts["classic_resnet_reading"])
        assert points == pytest.approx(100 * (acc[best] - acc["ResNet-20"]), abs=0.1)
    speed = {classic.SHORT_NAMES[n]: r["cost"]["images_per_second"] for n, r in results.items()}
    assert facts["classic_fastest"].startswith(max(speed, key=speed.get) + ", at ")
    assert facts["classic_slowest"].startswith(min(speed, key=speed.get) + " (")


def run(loss: float | None = None, epochs: int = 3, norms=None, **cost) -> dict:
    """A constructed result with the fields the facts read."""
    history = [dict(train_loss=9.0)] * (epochs - 1) + [dict(train_loss=loss)]
    return dict(profile="quick", history=history, gradient_norms=norms, metrics=dict(accuracy=cost.pop("acc", 0.5)),
                cost=cost)


def degradation(p20: float, r20: float, p56: float, r56: float, epochs: int = 3) -> dict[str, dict]:
    return {f"degradation_{n}": run(v, epochs) for n, v in
            dict(plain20=p20, resnet20=r20, plain56=p56, resnet56=r56).items()}


def test_degradation_shown():
    facts = classic.facts_degradation(degradation(p20=1.0, r20=0.9, p56=1.2, r56=0.8))
    assert facts["classic_degradation_plain56_loss"] == "1.200" and facts["classic_deg_epochs"] == "3 epochs"
    assert facts["classic_plain_reading"].startswith("the plain 56-layer network ends with a higher training loss")
    assert facts["classic_residual_reading"].startswith("ResNet-56 ends below ResNet-20")
    assert facts["classic_shortcut_reading"] == "the shortcuts lower the final loss of the 56-layer network"


def test_degradation_not_shown():
    facts = classic.facts_degradation(degradation(p20=1.0, r20=0.9, p56=0.95, r56=0.97, epochs=1))
    assert facts["classic_deg_epochs"] == "1 epoch"
    assert "does not show the degradation problem" in facts["classic_plain_reading"]
    assert facts["classic_residual_reading"].startswith("ResNet-56 does not end below ResNet-20")
    assert facts["classic_shortcut_reading"].endswith("do not lower the final loss of the 56-layer network in this run")


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


def comparison(acc: dict[str, float], params: dict[str, int], speed: dict[str, float], macs: dict[str, int]):
    return {n: run(1.0, acc=acc[s], parameters=params[s], images_per_second=speed[s], macs=macs[s])
            for n, s in classic.SHORT_NAMES.items()}


NAMES = ["AlexNet", "VGG-11", "GoogLeNet", "ResNet-20"]


def test_comparison_when_the_largest_network_wins_and_the_fastest_is_the_cheapest():
    facts = classic.facts_comparison(comparison(
        acc=dict(zip(NAMES, [0.50, 0.65, 0.60, 0.57])), params=dict(zip(NAMES, [2_000_000, 9_200_000, 6_000_000, 270_000])),
        speed=dict(zip(NAMES, [500.0, 300.0, 65.0, 710.0])), macs=dict(zip(NAMES, [50e6, 150e6, 500e6, 40e6]))))
    assert facts["classic_best"] == "VGG-11 (65.0 %)"
    assert facts["classic_size_reading"] == "VGG-11 is also the network with the most parameters (9.2 M)"
    assert facts["classic_resnet_reading"] == "8.0 points below VGG-11, with 34 times fewer parameters"
    assert facts["classic_resnet_params"] == "0.27 M" and facts["classic_resnet_acc"] == "57.0 %"
    assert facts["classic_fastest"] == "ResNet-20, at 710 images per second"
    assert facts["classic_speed_reading"] == "it is also the network with the fewest multiply-accumulates per image"
    assert facts["classic_slowest"] == "GoogLeNet (65 images per second)"


def test_comparison_when_resnet_wins_small_and_speed_is_not_the_count_of_operations():
    facts = classic.facts_comparison(comparison(
        acc=dict(zip(NAMES, [0.50, 0.60, 0.55, 0.62])), params=dict(zip(NAMES, [2_500_000, 9_200_000, 6_000_000, 270_000])),
        speed=dict(zip(NAMES, [1500.0, 300.0, 65.0, 710.0])), macs=dict(zip(NAMES, [50e6, 150e6, 500e6, 40e6]))))
    assert facts["classic_best"] == "ResNet-20 (62.0 %)"
    assert facts["classic_size_reading"] == ("the network with the most parameters, VGG-11 (9.2 M, 60.0 %), is not the "
                                             "most accurate: ResNet-20 does better with 34 times fewer parameters")
    assert facts["classic_resnet_reading"] == "as accurate as any of the four"
    assert facts["classic_fastest"] == "AlexNet, at 1,500 images per second"
    assert facts["classic_speed_reading"].startswith("although ResNet-20 needs the fewest multiply-accumulates")


def test_a_tie_in_accuracy_still_says_resnet_is_as_accurate():
    facts = classic.facts_comparison(comparison(
        acc=dict(zip(NAMES, [0.60, 0.60, 0.55, 0.60])), params=dict(zip(NAMES, [2_500_000, 9_200_000, 6_000_000, 270_000])),
        speed=dict(zip(NAMES, [1.0, 2.0, 3.0, 4.0])), macs=dict(zip(NAMES, [4, 3, 2, 1]))))
    assert facts["classic_best"] == "AlexNet (60.0 %)" and facts["classic_resnet_reading"] == "as accurate as any of the four"


def test_facts_read_the_networks_without_changing_them(alexnet):
    before = [p.clone() for p in alexnet.parameters()][:2]
    classic.facts_alexnet(alexnet)
    assert all(torch.equal(a, b) for a, b in zip(before, list(alexnet.parameters())[:2]))
