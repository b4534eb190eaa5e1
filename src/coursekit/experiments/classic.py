"""Chapter "classic": AlexNet, VGG, GoogLeNet and ResNet on one budget, and the degradation problem
(plain networks against ResNets of the same depth)."""
from __future__ import annotations

import torch
from torch import nn

from .. import models, stats
from ..i18n import N_, _, _p, fill, number, plural, say
from ..models import analysis, vgg
from ..results import RunResult
from .cifar import CIFAR10_RECIPE, lr_range_tests, train_cifar10_classifier
from .core import Experiment, over_seeds, register
from .core import config as config_of
from .degradation import DEGRADATION, facts_degradation, facts_gradients  # noqa: F401 (the chapter's, re-exported)

# The classic networks at equal training compute. quick: 10,000 training images (1,000 per class), and
# as many epochs as give each network the multiply-accumulates of 9 epochs of VGG-11 (the epochs are
# written out; a test checks them against the networks' MAC counts); full: all 50,000 images, 30 epochs
# each, an equal-epochs comparison near convergence. Peak learning rates come from range tests on the
# training loss (``classic_lr_find``; a test checks that they are what its stored result chooses).
COMPUTE_REFERENCE = ("classic_vgg", 9)  # (network, its quick epochs)
CLASSIC_NETWORKS = {  # experiment: (model, title, short name); the titles, English in the results, are
    # marked for the catalogue and shown translated (``_(title)``) where a figure shows them
    "classic_alexnet": ("cifar_alexnet", N_("AlexNet (CIFAR-size) on CIFAR-10"), "AlexNet"),
    "classic_alexnet_bn": ("cifar_alexnet_bn", N_("AlexNet with batch norm (CIFAR-size) on CIFAR-10"), "AlexNet-BN"),
    "classic_vgg": ("cifar_vgg11_bn", N_("VGG-11 with batch norm (CIFAR-size) on CIFAR-10"), "VGG-11"),
    "classic_googlenet": ("cifar_googlenet", N_("GoogLeNet (CIFAR-size) on CIFAR-10"), "GoogLeNet"),
    "classic_resnet": ("resnet20", N_("ResNet-20 (He et al. 2016, CIFAR) on CIFAR-10"), "ResNet-20"),
}
CLASSIC = list(CLASSIC_NETWORKS)
SHORT_NAMES = {name: short for name, (_model, _title, short) in CLASSIC_NETWORKS.items()}
QUICK_EPOCHS = {"classic_alexnet": 8, "classic_alexnet_bn": 8, "classic_vgg": 9, "classic_googlenet": 3,
                "classic_resnet": 34}
RANGE_TEST_LR = {"classic_alexnet": 0.1, "classic_alexnet_bn": 0.07, "classic_vgg": 0.02, "classic_googlenet": 0.08,
                 "classic_resnet": 0.09}


def compute_budget(name: str) -> dict[str, dict]:
    """The sizes of the comparison run ``name`` per profile (equal compute in quick, equal epochs in full)."""
    return {"ci": dict(train_per_class=10, test_per_class=5, epochs=1, batch_size=25, seeds=[0]),
            "quick": dict(train_per_class=1000, test_per_class=250, epochs=QUICK_EPOCHS[name], batch_size=128,
                          seeds=[0, 1, 2]),
            "full": dict(train_per_class=None, test_per_class=None, epochs=30, batch_size=128, seeds=[0, 1, 2])}


for name, (model, title, _short) in CLASSIC_NETWORKS.items():
    register(Experiment(name=name, title=title, chapter="classic",
                        base=dict(CIFAR10_RECIPE, model=model, lr=RANGE_TEST_LR[name]),
                        sizes=compute_budget(name), runner=over_seeds(train_cifar10_classifier)))

register(Experiment(
    name="classic_lr_find", chapter="classic", title="Learning-rate range tests of the five classic networks (SGD)",
    base=dict(networks={name: dict(model=model, optimizer=CIFAR10_RECIPE["optimizer"],
                                   weight_decay=CIFAR10_RECIPE["weight_decay"])
                        for name, (model, _title, _short) in CLASSIC_NETWORKS.items()},
              start_lr=1e-5, end_lr=10.0, seed=0),
    sizes={"ci": dict(train_per_class=10, steps=12, batch_size=25),
           "quick": dict(train_per_class=1000, steps=100, batch_size=128),
           "full": dict(train_per_class=1000, steps=100, batch_size=128)},
    runner=lr_range_tests))


def facts_budgets() -> dict[str, str]:
    """The budgets the text quotes, read from the configurations of the quick and full profiles."""
    quick, full = config_of("classic_resnet", "quick"), config_of("classic_resnet", "full")
    deg = config_of("degradation_plain56", "full")
    ref, epochs = COMPUTE_REFERENCE
    test = quick["test_per_class"]
    return {"classic_reference": plural("{n} epoch of {network}", "{n} epochs of {network}", epochs,
                                        network=SHORT_NAMES[ref]),
            "classic_quick_images": number(10 * quick["train_per_class"], ","),
            "classic_quick_test": _p("of the test images", "all") if test is None else number(10 * test, ","),
            "classic_full_epochs": str(full["epochs"]), "classic_deg_full_epochs": str(deg["epochs"])}


def equal_compute_epochs(macs: dict[str, int], reference: tuple[str, int] = COMPUTE_REFERENCE) -> dict[str, int]:
    """Epochs per network that give each the multiply-accumulates of ``reference`` (a network and its
    epochs): ``round(epochs * macs[reference] / macs[network])``, at least one."""
    ref, epochs = reference
    return {name: max(1, round(epochs * macs[ref] / m)) for name, m in macs.items()}


# --- the readings the chapter's text glues ----------------------------------------------------------
# From the ILSVRC table, from the networks the chapter builds (parameters, MACs, receptive fields) and
# from the stored results of its experiments. Shares are written as whole percentages, as the text does.

def _pct(share: float) -> str:
    """0.284 -> "28 %" (in French "28\u202f%")."""
    return say("{share:.0f} %", share=100 * share)


HUMAN_TOP5_ERROR = 5.1  # a trained human annotator, Russakovsky et al. (2015), section 6.4


def ilsvrc_table() -> list[dict]:
    """ILSVRC classification results by year (top-5 error), with the source of each row."""
    import csv
    from importlib.resources import files

    with files("coursekit").joinpath("tables/ilsvrc_top5.csv").open(encoding="utf-8") as f:
        return [dict(row, year=int(row["year"]), top5_error_percent=float(row["top5_error_percent"]))
                for row in csv.DictReader(f)]


def ilsvrc_winners(rows: list[dict] | None = None) -> dict[int, dict]:
    """The best ILSVRC classification entry of each year (a row of :func:`ilsvrc_table`)."""
    winners: dict[int, dict] = {}
    for row in ilsvrc_table() if rows is None else rows:
        if row["year"] not in winners or row["top5_error_percent"] < winners[row["year"]]["top5_error_percent"]:
            winners[row["year"]] = row
    return winners


def facts_ilsvrc(rows: list[dict] | None = None, human_error: float = HUMAN_TOP5_ERROR) -> dict[str, str]:
    """The winners' top-5 errors the text quotes, the gains of 2011 and 2012, VGG's 2014 error, the
    first year below the human annotator and the last challenge."""
    rows = ilsvrc_table() if rows is None else rows
    err = {year: row["top5_error_percent"] for year, row in ilsvrc_winners(rows).items()}
    vgg_2014 = next(r for r in rows if r["team"] == "VGG")["top5_error_percent"]
    out = {f"classic_err_{year}": say("{error:.1f} %", error=err[year]) for year in (2010, 2011, 2012, 2014, 2015)}
    out |= {"classic_err_vgg": say("{error:.1f} %", error=vgg_2014),
            "classic_drop_2011": number(err[2010] - err[2011], ".1f"),
            "classic_drop_2012": number(err[2011] - err[2012], ".1f"),
            "classic_below_human": str(min(y for y, e in err.items() if e < human_error)),
            "classic_last_year": str(max(err)),
            "classic_err_last": say("{error:.1f} %", error=err[max(err)])}
    return out


def facts_conv1(conv1: nn.Conv2d, side: int = 227) -> dict[str, str]:
    """AlexNet's first layer on a ``side`` x ``side`` input: positions, connections, parameters, and the
    side of its output on a 224 x 224 input padded by 2 pixels."""
    k, s = conv1.kernel_size[0], conv1.stride[0]
    n_out = (side - k) // s + 1
    per_unit = k * k * conv1.in_channels + 1  # the weights of one filter, and a bias
    return {"classic_conv1_positions": number(n_out * n_out, ","),
            "classic_conv1_connections": say("{million_connections:.1f} million",
                                             million_connections=n_out * n_out * conv1.out_channels * per_unit / 1e6),
            "classic_conv1_params": number(models.count_parameters(conv1), ","),
            "classic_padded_224": f"{(224 + 2 * 2 - k) // s + 1}"}


def facts_alexnet(alexnet: nn.Module) -> dict[str, str]:
    """Where torchvision's AlexNet keeps its parameters (the classifier) and its computation (the
    convolutions), per 224 x 224 image."""
    params = models.count_parameters(alexnet)
    macs = analysis.macs_per_layer(alexnet, input_size=(1, 3, 224, 224))
    conv_macs = sum(v for name, v in macs.items() if name.startswith("features"))
    return {"classic_alexnet_params": say("{million_parameters:.1f} M", million_parameters=params / 1e6),
            "classic_alexnet_conv1_filters": str(alexnet.features[0].out_channels),
            "classic_alexnet_fc_share": _pct(models.count_parameters(alexnet.classifier) / params),
            "classic_alexnet_conv_mac_share": _pct(conv_macs / sum(macs.values())),
            "classic_alexnet_fc6_share": _pct(models.count_parameters(alexnet.classifier[1]) / params)}


def vgg_table() -> tuple[list[str], list[list[str]]]:
    """The headers and rows of Table 1 of Simonyan & Zisserman (2015), from ``vgg.VGG_CONFIGS``, with
    each configuration's weight layers and parameters (for ``tables.markdown_table``)."""
    counts = vgg.config_parameter_counts()
    names = list(vgg.VGG_CONFIGS)
    blocks = {c: [b.split() for b in " ".join(vgg.VGG_CONFIGS[c]).split("maxpool")[:-1]] for c in names}
    rows = [[_("input"), *[_("224 × 224 RGB")] * len(names)]]
    for b in range(len(blocks[names[0]])):
        for i in range(max(len(blocks[c][b]) for c in names)):
            rows.append([say("block {number}", number=b + 1) if i == 0 else "",
                         *(blocks[c][b][i] if i < len(blocks[c][b]) else "" for c in names)])
        rows.append(["", *["maxpool"] * len(names)])
    rows += [["", *[layer] * len(names)] for layer in ("FC-4096", "FC-4096", "FC-1000", "soft-max")]
    layers, millions = _("weight layers"), _("parameters (millions)")
    rows.append([f"**{layers}**", *(f"**{vgg.weight_layers(c)}**" for c in names)])
    rows.append([f"**{millions}**", *(f"**{number(counts[c] / 1e6, '.0f')}**" for c in names)])
    return ["", *names], rows


def _vgg16_meta() -> nn.Module:
    with torch.device("meta"):  # shapes only, no memory
        return models.create("vgg16", num_classes=1000)


def facts_vgg() -> dict[str, str]:
    """How VGG's parameters grow from configuration A to E, and VGG-16's classifier share."""
    counts = vgg.config_parameter_counts()
    return {"classic_vgg_growth": _pct(counts["E"] / counts["A"] - 1),
            "classic_vgg_min_layers": str(vgg.weight_layers("A")),
            "classic_vgg_max_layers": str(vgg.weight_layers("E")),
            "classic_vgg16_params": say("{million_parameters:.0f} M", million_parameters=counts["D"] / 1e6),
            "classic_vgg16_fc_share": _pct(models.count_parameters(_vgg16_meta().classifier) / counts["D"])}


def facts_stacked_3x3(three_3x3: nn.Module, one_7x7: nn.Module) -> dict[str, str]:
    """The share of weights a stack of three 3 x 3 convolutions saves against one 7 x 7."""
    return {"classic_7x7_saving": _pct(1 - models.count_parameters(three_3x3) / models.count_parameters(one_7x7))}


def facts_receptive_fields(alexnet: nn.Module) -> dict[str, str]:
    """The receptive fields, in pixels, of the last convolutional layers of AlexNet and VGG-16 (their
    ``features`` without the final max-pool) and of the pooled maps after it."""
    vgg16 = _vgg16_meta()
    return {"classic_vgg16_rf": str(analysis.receptive_field_of(vgg16.features[:-1])),
            "classic_alexnet_rf": str(analysis.receptive_field_of(alexnet.features[:-1])),
            "classic_vgg16_rf_pooled": str(analysis.receptive_field_of(vgg16.features)),
            "classic_alexnet_rf_pooled": str(analysis.receptive_field_of(alexnet.features))}


def facts_gap_head(flatten_fc: nn.Module, gap_fc: nn.Module) -> dict[str, str]:
    """How many times fewer parameters global average pooling needs, and NiN's size on CIFAR-10."""
    nin = models.count_parameters(models.create("nin", num_classes=10))
    return {"classic_gap_ratio": number(models.count_parameters(flatten_fc) / models.count_parameters(gap_fc), ".0f"),
            "classic_nin_params": say("{million_parameters:.2f} M", million_parameters=nin / 1e6)}


def facts_module_3a(module_3a: nn.Module, naive_3a: nn.ModuleList, side: int = 28) -> dict[str, str]:
    """What the 1 x 1 reductions save in Inception module 3a (whole, and in its 5 x 5 branch), and the
    convolution that costs the most multiply-accumulates on a ``side`` x ``side`` map."""
    def conv_weights(m: nn.Module) -> int:
        return sum(layer.weight.numel() for layer in m.modules() if isinstance(layer, nn.Conv2d))

    c_in = module_3a.branch1.conv.in_channels
    macs = analysis.macs_per_layer(module_3a, input_size=(1, c_in, side, side))
    top = max(macs, key=macs.get)
    return {"classic_3a_ratio": number(models.count_parameters(naive_3a) / models.count_parameters(module_3a), ".1f"),
            "classic_3a_5x5_ratio": number(conv_weights(naive_3a[2]) / conv_weights(module_3a.branch3), ".1f"),
            "classic_3a_top_layer": top,
            "classic_3a_top_share": _pct(macs[top] / sum(macs.values()))}


def facts_googlenet(googlenet: nn.Module, alexnet: nn.Module) -> dict[str, str]:
    """GoogLeNet's size against AlexNet and VGG-16, and the share of its one linear layer."""
    params = models.count_parameters(googlenet)
    return {"classic_googlenet_params": say("{million_parameters:.1f} M", million_parameters=params / 1e6),
            "classic_googlenet_vs_alexnet": number(models.count_parameters(alexnet) / params, ".0f"),
            "classic_googlenet_vs_vgg": number(vgg.config_parameter_counts()["D"] / params, ".0f"),
            "classic_googlenet_fc_share": _pct(models.count_parameters(googlenet.fc) / params)}


def facts_factorised(factorised: nn.Module, full_7x7: nn.Module) -> dict[str, str]:
    """What two 3 x 3 save against a 5 x 5, and what a 1 x 7 then 7 x 1 pair costs against a 7 x 7."""
    return {"classic_5x5_saving": _pct(1 - 2 * 3 * 3 / (5 * 5)),
            "classic_factorised_share": _pct(models.count_parameters(factorised) / models.count_parameters(full_7x7))}


def facts_separable(separable: nn.Module, regular: nn.Module) -> dict[str, str]:
    """How many times fewer weights a depthwise separable convolution has than a regular one."""
    return {"classic_separable_ratio": number(models.count_parameters(regular) / models.count_parameters(separable),
                                              ".1f")}


def facts_bottleneck(basic: nn.Module, bottleneck: nn.Module) -> dict[str, str]:
    """A bottleneck block's parameters in units of a basic block's."""
    return {"classic_bottleneck_ratio": number(models.count_parameters(bottleneck) / models.count_parameters(basic),
                                               ".2f")}


# --- readings of the stored results -------------------------------------------------------------------

def _lead(a: RunResult, b: RunResult) -> stats.Comparison:
    """Test accuracy of ``a`` against ``b``, paired over their seeds, in points."""
    return stats.compare(a.metric("accuracy", 100), b.metric("accuracy", 100))


def training_compute(result: dict) -> float:
    """Multiply-accumulates one seed of ``result`` spent in training: three per forward MAC (forward,
    and the backward pass's two products) for every image of every epoch."""
    return 3 * result["cost"]["macs"] * result["provenance"]["data"]["train"]["images"] * len(result["history"])


def facts_comparison(results: dict[str, dict]) -> dict[str, str]:
    """The classic networks at equal training compute (``results`` by the names in :data:`CLASSIC`, each
    over the same seeds): the most accurate and whether the seeds separate it from the runner-up, whether
    it is also the largest, what batch normalisation gives AlexNet, where ResNet-20 stands, and the
    fastest and slowest to train."""
    short = {n: SHORT_NAMES[n] for n in CLASSIC}
    by_name = {short[n]: RunResult.from_dict(results[n]) for n in CLASSIC}
    acc = {k: r.interval() for k, r in by_name.items()}
    params = {short[n]: results[n]["cost"]["parameters"] for n in CLASSIC}
    speed = {k: r.training_speed() for k, r in by_name.items()}
    macs = {short[n]: results[n]["cost"]["macs"] for n in CLASSIC}
    ranked = sorted(acc, key=lambda k: acc[k][0], reverse=True)
    best, second, biggest = ranked[0], ranked[1], max(params, key=params.get)
    fastest, cheapest, slowest = max(speed, key=speed.get), min(macs, key=macs.get), min(speed, key=speed.get)
    best_reading = stats.word(
        _lead(by_name[best], by_name[second]),
        _("ahead of {second}, the runner-up, by {d:.1f} ± {h:.1f} points, more than the seeds vary"),
        cannot_tell=_("but the seeds cannot tell it from {second}, the runner-up ({d:+.1f} ± {h:.1f} points)"),
        second=second)
    bn_reading = stats.word(
        _lead(by_name["AlexNet-BN"], by_name["AlexNet"]),
        better=_("batch normalisation adds {d:.1f} ± {h:.1f} points to AlexNet's layout, at the same compute"),
        worse=_("batch normalisation costs AlexNet's layout {size:.1f} ± {h:.1f} points"),
        cannot_tell=_("the seeds cannot tell AlexNet with batch normalisation from AlexNet without "
                      "({d:+.1f} ± {h:.1f} points)"))
    if best == "ResNet-20":
        resnet_reading = _("the most accurate of the five")
    else:
        lead = _lead(by_name[best], by_name["ResNet-20"])
        resnet_reading = stats.word(
            lead, _("{d:.1f} ± {h:.1f} points below {best}, with {times:.0f} times fewer parameters"),
            cannot_tell=_("as accurate as {best} as far as the seeds can tell ({back:+.1f} ± {h:.1f} points), with "
                          "{times:.0f} times fewer parameters"),
            best=best, times=params[best] / params["ResNet-20"], back=round(-lead.mean_difference, 1) + 0.0)
    minutes = {k: r.mean_cost("train_seconds") / 60 for k, r in by_name.items()}
    compute = [training_compute(results[n]) for n in CLASSIC]
    return {
        "classic_cmp_profile": results["classic_resnet"]["profile"],
        "classic_cmp_seeds": str(len(by_name["ResNet-20"])),
        "classic_cmp_compute": say("{low:,.0f} to {high:,.0f} million million (TMAC)",
                                   low=min(compute) / 1e12, high=max(compute) / 1e12),
        "classic_cmp_minutes": say("{low:.1f} to {high:.1f} minutes", low=min(minutes.values()),
                                   high=max(minutes.values())),
        "classic_best": say("{network} ({accuracy:.1f} ± {half:.1f} %)", network=best, accuracy=acc[best][0],
                            half=acc[best][1]),
        "classic_best_reading": best_reading,
        "classic_size_reading": (
            say("{network} is also the network with the most parameters ({millions:.1f} M)", network=best,
                millions=params[best] / 1e6) if biggest == best else
            say("the network with the most parameters, {biggest} ({millions:.1f} M, {accuracy:.1f} %), is not the "
                "most accurate: {best} does better with {times:.0f} times fewer parameters", biggest=biggest,
                millions=params[biggest] / 1e6, accuracy=acc[biggest][0], best=best,
                times=params[biggest] / params[best])),
        "classic_bn_reading": bn_reading,
        "classic_resnet_params": say("{million_parameters:.2f} M", million_parameters=params["ResNet-20"] / 1e6),
        "classic_resnet_acc": say("{accuracy:.1f} ± {half:.1f} %", accuracy=acc["ResNet-20"][0],
                                  half=acc["ResNet-20"][1]),
        "classic_resnet_reading": resnet_reading,
        "classic_fastest": say("{network}, at {speed:,.0f} images per second", network=fastest, speed=speed[fastest]),
        "classic_speed_reading": (
            _("it is also the network with the fewest multiply-accumulates per image") if fastest == cheapest else
            say("although {cheapest} needs the fewest multiply-accumulates per image: speed depends on more than the "
                "count of operations, for instance many thin layers use the hardware less fully than a few wide ones",
                cheapest=cheapest)),
        "classic_slowest": say("{network} ({speed:,.0f} images per second)", network=slowest, speed=speed[slowest]),
        **_epochs_facts({short[n]: len(results[n]["history"]) for n in CLASSIC}, ranked),
    }


def _epochs_facts(epochs: dict[str, int], ranked: list[str]) -> dict[str, str]:
    """The epochs equal compute gave each network, and what that means for the network that got the fewest."""
    fewest = min(epochs, key=epochs.get)
    ranks = fill(_(RANKS[ranked.index(fewest) + 1]), count=len(ranked))
    return {"classic_cmp_epochs": ", ".join(f"{k} {v}" for k, v in epochs.items()),
            "classic_cmp_fewest": plural(
                "{network}, the most expensive per image, gets only {n} epoch and {ranks}: its rank says what it "
                "makes of a small budget, not what it reaches when trained to convergence",
                "{network}, the most expensive per image, gets only {n} epochs and {ranks}: its rank says what it "
                "makes of a small budget, not what it reaches when trained to convergence",
                epochs[fewest], network=fewest, ranks=ranks)}


# A network's rank among ``count``, as the sentences above say it (translated where shown).
RANKS = {1: N_("ranks first of {count}"), 2: N_("ranks second of {count}"), 3: N_("ranks third of {count}"),
         4: N_("ranks fourth of {count}"), 5: N_("ranks fifth of {count}"), 6: N_("ranks sixth of {count}")}
