"""Chapter "intro": a small CNN trained from scratch on CIFAR-10, then the fast recipe of :mod:`coursekit.fast`."""
from __future__ import annotations

import inspect
from collections.abc import Mapping

import torch

from .. import augment, diagnostics, fast, models, stats, store, train
from ..i18n import _, fill, measured_count, number, plural, say
from ..runs import RunState
from .cifar import CIFAR10_RECIPE, train_cifar10_classifier
from .core import Experiment, register

register(Experiment(
    name="intro_cnn", title="A small CNN trained from scratch on CIFAR-10", chapter="intro",
    base=dict(CIFAR10_RECIPE, model="small_cnn"),
    sizes={
        "ci": dict(train_per_class=20, test_per_class=10, epochs=2, batch_size=50, model_args=dict(width=8)),
        "quick": dict(train_per_class=2000, test_per_class=None, epochs=10, batch_size=128, model_args=dict(width=32)),
        "full": dict(train_per_class=None, test_per_class=None, epochs=30, batch_size=256, lr=0.1,
                     model_args=dict(width=64)),
    },
    runner=train_cifar10_classifier))



def train_fast_cifar10(cfg: dict, state: RunState) -> dict:
    """The fast recipe (:func:`coursekit.fast.run`): validation accuracy per epoch, the test set once;
    resumable from the last finished epoch."""
    out = fast.run(cfg, state, runtime=train.Runtime.resolve(amp=cfg["amp"]))
    model = out["model"]
    return dict(metrics=out["metrics"], history=out["history"],
                cost=dict(parameters=models.count_parameters(model), macs=models.count_macs(model.cpu().float()),
                          train_seconds=round(out["train_seconds"], 1), precision=out["precision"],
                          images_per_second=round(sum(r["images_per_second"] for r in out["history"])
                                                  / len(out["history"]), 1)),
                data=out["data"])


register(Experiment(
    name="intro_fast", title="The fast recipe (airbench's network and training) on CIFAR-10", chapter="intro",
    base=dict(fast.RECIPE, seed=0, amp=True, validation_per_class=500, train_per_class=None, test_per_class=None),
    sizes={
        "ci": dict(epochs=1, batch_size=100, train_per_class=20, test_per_class=10, validation_per_class=10,
                   model_args=dict(widths=[8, 16, 16])),
        "quick": dict(epochs=10),
        "full": dict(epochs=10),
    },
    runner=train_fast_cifar10))

# --- the readings the chapter's text glues --------------------------------------------------------


def _number_words() -> dict[int, str]:
    return {1: _("one"), 2: _("two"), 3: _("three"), 4: _("four"), 5: _("five"), 6: _("six"), 7: _("seven"),
            8: _("eight"), 9: _("nine"), 10: _("ten")}


def _words(n: int) -> str:
    """A small count in words ("three"), larger ones in digits with commas."""
    return _number_words().get(n, number(n, ","))


def _listed(values: list) -> str:
    """"64, 256 and 256"."""
    values = [number(v, ",") for v in values]
    return values[0] if len(values) == 1 else say("{items} and {last}", items=", ".join(values[:-1]),
                                                  last=values[-1])


def _series(values: list[str]) -> str:
    """Numbers with decimals, one after another: "71.2, 68.9, 70.4" (French separates them by semicolons,
    its decimal mark being the comma)."""
    text = values[0]
    for value in values[1:]:
        text = say("{decimals}, {decimal}", decimals=text, decimal=value)
    return text


def _millions(millions: float) -> str:
    """A count in millions, to two decimals ("1.97 million")."""
    return plural("{count:.2f} million", "{count:.2f} million", measured_count(millions, 2), count=millions)


def _percent(value: float, spec: str = ".1f") -> str:
    """A percentage, ``value`` already in percent, formatted by ``spec`` (".1f" or "g")."""
    return say("{percent:g} %", percent=value) if spec == "g" else say("{percent:.1f} %", percent=value)


def _class_names() -> dict[str, str]:
    """CIFAR-10's classes (the data's names, kept as keys) as the book shows them."""
    return {"airplane": _("airplane"), "automobile": _("automobile"), "bird": _("bird"), "cat": _("cat"),
            "deer": _("deer"), "dog": _("dog"), "frog": _("frog"), "horse": _("horse"), "ship": _("ship"),
            "truck": _("truck")}


def _default(function, name: str):
    """The default value of ``function``'s parameter ``name``: what the recipe uses when it passes none."""
    return inspect.signature(function).parameters[name].default

def facts_data(train_set) -> dict[str, str]:
    """How many training images each class of ``train_set`` (its ``labels``) has: "5,000" when all
    have as many, else the distinct counts joined by "to"."""
    counts = torch.bincount(train_set.labels).tolist()
    ordered = sorted(set(counts), key=lambda n: f"{n:,}")  # in the order of their English text, as always
    text = number(ordered[0], ",")
    for n in ordered[1:]:
        text = say("{low} to {high}", low=text, high=number(n, ","))
    return {"intro_per_class": text}



def facts_network(model) -> dict[str, str]:
    """The small CNN's plan, read from ``model`` (a ``small_cnn``): its stages (each ended by a max-pool),
    the convolutions per stage and their kernel; and the exercise's first layer (a convolution without bias,
    then batch normalisation): its shape and parameters, counted as the solution counts them."""
    from torch import nn

    per_stage, convs, kernels = [], 0, set()
    for layer in model.features:
        if isinstance(layer, nn.MaxPool2d):  # a stage ends
            per_stage.append(convs)
            convs = 0
        else:
            convs += 1
            kernels |= {m.kernel_size for m in layer.modules() if isinstance(m, nn.Conv2d)}
    (per,), ((kh, kw),) = set(per_stage), kernels  # stages alike, one kernel size: else this raises
    stages = len(per_stage)
    conv, bn = model.features[0][0], model.features[0][1]
    weights, affine = conv.weight.numel(), models.count_parameters(bn)
    k1, k2 = conv.kernel_size
    return {"intro_plan": say("{stages} stages of {per_stage} {kh} × {kw} convolutions", stages=_words(stages),
                              per_stage=_words(per), kh=kh, kw=kw),
            "intro_ex_width": f"{conv.out_channels}",
            "intro_ex_layer": say("a {k1} × {k2} convolution from {inputs} to {outputs} channels", k1=k1, k2=k2,
                                  inputs=conv.in_channels, outputs=conv.out_channels),
            "intro_ex_conv": f"{k1} × {k2} × {conv.in_channels} × {conv.out_channels} = {number(weights, ',')}",
            "intro_ex_bn": f"{affine // conv.out_channels} × {conv.out_channels} = {number(affine, ',')}",
            "intro_ex_total": number(weights + affine, ",")}


def facts_recipe(config: dict) -> dict[str, str]:
    """The training recipe the text describes, read from a run's ``config`` and from the defaults of the
    functions it calls: the one-cycle schedule's warm-up share (:func:`coursekit.train.make_schedule`), the
    crop's padding, and the share of images mirrored (:func:`coursekit.augment.random_flip`)."""
    warmup = _default(train.make_schedule, "warmup")
    flip = _default(augment.random_flip, "p") if config["flip"] else 0.0
    return {"intro_warmup": _percent(100 * warmup, "g"), "intro_crop_padding": f"{config['crop_padding']}",
            "intro_flip": _percent(100 * flip, "g")}


def facts_data_copy(source: dict) -> dict[str, str]:
    """Which copy of CIFAR-10 was read (a data set's ``source``), and what that means for its numbers."""
    if source.get("kind") == "torchvision":
        reading = _("the original CIFAR-10, as torchvision downloads it: numbers trained and tested on it compare "
                    "with published ones")
    else:
        reading = say("an offline copy ({description}). The copy that builds this book re-encodes every image as a "
                      "JPEG: its pixels differ slightly from the original's, which costs a network trained on the "
                      "original several points (the chapter on pretrained networks measures how many). Networks "
                      "trained and tested on the copy are consistent with each other, but their numbers are not the "
                      "original CIFAR-10's, and every result says which copy it read",
                      description=source["description"] if "description" in source else _("an image folder"))
    return {"intro_data_copy": reading}

def facts_run(result: dict) -> dict[str, str]:
    """What was run and what it scored: accuracy, top-5, macro-F1, data, epochs, speed, device."""
    metrics, cost = result["metrics"], result["cost"]
    return {
        "intro_accuracy": _percent(100 * metrics["accuracy"]),
        "intro_top5": _percent(100 * metrics["top5"]),
        "intro_f1": number(metrics["macro_f1"], ".3f"),
        "intro_epochs": f"{len(result['history'])}",
        "intro_train_images": number(result["provenance"]["data"]["train"]["images"], ","),
        "intro_test_images": number(metrics["images"], ","),
        "intro_speed": number(cost["images_per_second"], ",.0f"),
        "intro_train_time": store.minutes(cost["train_seconds"] / 60),
        "intro_device": result["provenance"]["device"],
        "intro_profile": result["profile"],
        "intro_chance": _percent(round(100 / len(metrics["classes"]), 1), "g"),
    }


def _gap_words() -> dict[str, str]:
    """What each verdict of :func:`coursekit.diagnostics.fit_verdict` says, in the current language
    (``{fits}``: the training accuracy a network must reach to fit)."""
    return {
        "under-fits": _("the network has not yet learnt its own training images (it gets fewer than {fits} of them "
                        "right), so a larger network or longer training could still gain accuracy"),
        "over-fits": _("the network fits its training images far better than images it has never seen: it has begun "
                       "to overfit, and more data or stronger augmentation would help"),
        "fits": _("the network fits its training images and does nearly as well on images it has never seen"),
    }


class _Words(Mapping):
    """A mapping whose words are read, in the current language, each time it is looked up."""

    def __init__(self, words):
        self._words = words

    def __getitem__(self, key: str) -> str:
        return self._words()[key]

    def __iter__(self):
        return iter(self._words())

    def __len__(self) -> int:
        return len(self._words())


GAP_WORDS = _Words(_gap_words)


def facts_gap(result: dict) -> dict[str, str]:
    """The last epoch's training minus test accuracy, and what it says about fitting
    (:func:`coursekit.diagnostics.fit_verdict`, the book's one rule)."""
    last = result["history"][-1]
    train_acc, test_acc = 100 * last["train_accuracy"], 100 * last["test_accuracy"]
    reading = fill(GAP_WORDS[diagnostics.fit_verdict(train_acc, test_acc)],
                   fits=say("{percent:.0f} %", percent=diagnostics.FITS))
    gap = train_acc - test_acc
    return {"intro_gap": plural("{gap:+.1f} point", "{gap:+.1f} points", measured_count(gap, 1), gap=gap),
            "intro_gap_reading": reading}


def facts_confusion(result: dict) -> dict[str, str]:
    """The pair of classes confused most often, counting both directions (the first such pair on a tie)."""
    confusion, classes = result["metrics"]["confusion"], result["metrics"]["classes"]
    pairs = [(confusion[i][j] + confusion[j][i], i, j)
             for i in range(len(confusion)) for j in range(i + 1, len(confusion))]
    count, i, j = max(pairs, key=lambda p: p[0])  # max keeps the first of equal counts
    names = _class_names()
    return {"intro_confused": say("{first_class} and {second_class}", first_class=names.get(classes[i], classes[i]),
                                  second_class=names.get(classes[j], classes[j])),
            "intro_confused_count": number(count, ",")}


def facts(result: dict) -> dict[str, str]:
    """Every reading of the ``intro_cnn`` result that the chapter's text glues."""
    return facts_run(result) | facts_gap(result) | facts_confusion(result) | facts_recipe(result["config"])


def _what_differs(fast: dict, small: dict) -> str:
    """What the fast run had beyond its recipe, against the small CNN's: training images, parameters, and
    the arithmetic of training (multiply-accumulates per image x images x epochs)."""
    def images(r: dict) -> int:
        return r["provenance"]["data"]["train"]["images"]

    def compute(r: dict) -> float:
        return r["cost"]["macs"] * images(r) * len(r["history"])

    return say("{images_ratio:.1f} times the training images ({fast_images:,} against {small_images:,}), "
               "{parameters_ratio:.1f} times the parameters ({fast_parameters} against {small_parameters}) and "
               "{compute_ratio:.1f} times the arithmetic of training (multiply-accumulates per image, times images, "
               "times epochs)",
               images_ratio=images(fast) / images(small), fast_images=images(fast), small_images=images(small),
               parameters_ratio=fast["cost"]["parameters"] / small["cost"]["parameters"],
               fast_parameters=_millions(fast["cost"]["parameters"] / 1e6),
               small_parameters=_millions(small["cost"]["parameters"] / 1e6),
               compute_ratio=compute(fast) / compute(small))


def _gain(gain: float) -> str:
    """The fast recipe's accuracy against the small CNN's, ``gain`` in points."""
    if gain > 0:
        return plural("{gain:.1f} point more than the small CNN", "{gain:.1f} points more than the small CNN",
                      measured_count(gain, 1), gain=gain)
    if gain < 0:
        return plural("{loss:.1f} point less than the small CNN", "{loss:.1f} points less than the small CNN",
                      measured_count(-gain, 1), loss=-gain)
    return _("as much as the small CNN")


def facts_fast(fast_result: dict, small_result: dict) -> dict[str, str]:
    """The fast recipe's run beside the small CNN's: accuracy (test set read once, with test-time
    augmentation), the validation accuracy it was watched on, time, precision, the gain, and the
    recipe's settings the text quotes (images held out per class, translation, lookahead period)."""
    metrics, cost, history = fast_result["metrics"], fast_result["cost"], fast_result["history"]
    gain = 100 * (metrics["accuracy"] - small_result["metrics"]["accuracy"])
    validation = history[-1].get("validation_accuracy")
    return {
        "intro_fast_accuracy": _percent(100 * metrics["accuracy"]),
        "intro_fast_validation": _percent(100 * validation) if validation is not None else _("not measured"),
        "intro_fast_epochs": f"{len(history)}",
        "intro_fast_train_images": number(fast_result["provenance"]["data"]["train"]["images"], ","),
        "intro_fast_time": store.minutes(cost["train_seconds"] / 60),
        "intro_fast_speed": number(cost["images_per_second"], ",.0f"),
        "intro_fast_precision": cost["precision"],
        "intro_fast_parameters": _millions(cost["parameters"] / 1e6),
        "intro_fast_gain": _gain(gain),
        "intro_fast_differs": _what_differs(fast_result, small_result),
        "intro_fast_provenance": store.provenance_line(fast_result),
        "intro_fast_held_out": number(fast_result["config"]["validation_per_class"], ","),
        "intro_fast_translate": f"{fast_result['config']['translate']}",
        "intro_fast_lookahead_every": f"{fast_result['config']['lookahead_every']}",
    } | facts_fast_network(fast_result["config"])


def facts_fast_network(config: dict) -> dict[str, str]:
    """The fast run's network as its ``config`` builds it: its convolution groups and their channels, the
    whitening layer's filter size and how many numbers one patch of it holds."""
    from ..models.fastcifar import ConvGroup

    net = models.create("fast_cifar", **config.get("model_args", {}))
    widths = [g[0].out_channels for g in net.groups if isinstance(g, ConvGroup)]
    kh, kw = net.whiten.kernel_size
    return {"intro_fast_groups": say("{groups} convolution groups ({widths} channels)", groups=_words(len(widths)),
                                     widths=_listed(widths)),
            "intro_fast_whiten": f"{kh} × {kw}", "intro_fast_patch": f"{net.whiten.in_channels * kh * kw}"}


EXAMPLE = {"A": {0: 71.2, 1: 68.9, 2: 70.4}, "B": {0: 69.6, 1: 67.2, 2: 68.9}}  # accuracies (%) by seed


def facts_intervals(example: dict[str, dict[int, float]] = EXAMPLE) -> dict[str, str]:
    """The factor of the book's interval convention for three seeds (Student's t, 2 degrees of freedom), and
    a worked example: two methods' accuracies over three seeds, each mean's interval, the paired
    differences and their interval, and the verdict."""
    a, b = example["A"], example["B"]
    diffs = [a[s] - b[s] for s in sorted(a)]
    mean_d, std_d, half_d = stats.mean_interval(diffs)
    words = {"better": _("clear: A is ahead"), "worse": _("clear: B is ahead"), "cannot tell": _("not clear")}

    def interval(values: dict) -> str:
        mean, _std, half = stats.mean_interval(list(values.values()))
        return say("{mean:.1f} ± {half:.1f} %", mean=mean, half=half)

    unpaired_d, unpaired_h = stats.compare_unpaired(a, b)
    return {"intro_t3": number(stats.t975(3), ".2f"),
            "intro_ex_a": _series([number(v, ".1f") for v in a.values()]),
            "intro_ex_b": _series([number(v, ".1f") for v in b.values()]),
            "intro_ex_means": say("{mean_a} and {mean_b}", mean_a=interval(a), mean_b=interval(b)),
            "intro_ex_diffs": _series([number(d, "+.1f") for d in diffs]),
            "intro_ex_std": number(std_d, ".2f"),
            "intro_ex_paired": say("{mean:+.1f} ± {half:.1f} points", mean=mean_d, half=half_d),
            "intro_ex_verdict": words[stats.compare(a, b).verdict],
            "intro_ex_unpaired": say("{mean:+.1f} ± {half:.1f} points", mean=unpaired_d, half=unpaired_h)}
