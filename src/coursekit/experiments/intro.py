"""Chapter "intro": a small CNN trained from scratch on CIFAR-10, then the fast recipe of :mod:`coursekit.fast`."""
from __future__ import annotations

import inspect

import torch

from .. import augment, diagnostics, fast, models, stats, store, train
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

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                9: "nine", 10: "ten"}


def _words(n: int) -> str:
    """A small count in words ("three"), larger ones in digits with commas."""
    return NUMBER_WORDS.get(n, f"{n:,}")


def _listed(values: list) -> str:
    """"64, 256 and 256"."""
    values = [f"{v:,}" for v in values]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + f" and {values[-1]}"


def _default(function, name: str):
    """The default value of ``function``'s parameter ``name``: what the recipe uses when it passes none."""
    return inspect.signature(function).parameters[name].default

def facts_data(train_set) -> dict[str, str]:
    """How many training images each class of ``train_set`` (its ``labels``) has: "5,000" when all
    have as many, else the distinct counts joined by "to"."""
    counts = torch.bincount(train_set.labels).tolist()
    return {"intro_per_class": " to ".join(sorted({f"{n:,}" for n in counts}))}



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
    return {"intro_plan": f"{_words(stages)} stages of {_words(per)} {kh} × {kw} convolutions",
            "intro_ex_width": f"{conv.out_channels}",
            "intro_ex_layer": (f"a {k1} × {k2} convolution from {conv.in_channels} to {conv.out_channels} "
                               "channels"),
            "intro_ex_conv": f"{k1} × {k2} × {conv.in_channels} × {conv.out_channels} = {weights:,}",
            "intro_ex_bn": f"{affine // conv.out_channels} × {conv.out_channels} = {affine:,}",
            "intro_ex_total": f"{weights + affine:,}"}


def facts_recipe(config: dict) -> dict[str, str]:
    """The training recipe the text describes, read from a run's ``config`` and from the defaults of the
    functions it calls: the one-cycle schedule's warm-up share (:func:`coursekit.train.make_schedule`), the
    crop's padding, and the share of images mirrored (:func:`coursekit.augment.random_flip`)."""
    warmup = _default(train.make_schedule, "warmup")
    flip = _default(augment.random_flip, "p") if config["flip"] else 0.0
    return {"intro_warmup": f"{100 * warmup:g} %", "intro_crop_padding": f"{config['crop_padding']}",
            "intro_flip": f"{100 * flip:g} %"}


def facts_data_copy(source: dict) -> dict[str, str]:
    """Which copy of CIFAR-10 was read (a data set's ``source``), and what that means for its numbers."""
    if source.get("kind") == "torchvision":
        reading = ("the original CIFAR-10, as torchvision downloads it: numbers trained and tested on it compare "
                   "with published ones")
    else:
        reading = (f"an offline copy ({source.get('description', 'an image folder')}). The copy that builds this "
                   "book re-encodes every image as a JPEG: its pixels differ slightly from the original's, which "
                   "costs a network trained on the original several points (the chapter on pretrained networks "
                   "measures how many). Networks trained and tested on the copy are consistent with each other, "
                   "but their numbers are not the original CIFAR-10's, and every result says which copy it read")
    return {"intro_data_copy": reading}

def facts_run(result: dict) -> dict[str, str]:
    """What was run and what it scored: accuracy, top-5, macro-F1, data, epochs, speed, device."""
    metrics, cost = result["metrics"], result["cost"]
    return {
        "intro_accuracy": f"{100 * metrics['accuracy']:.1f} %",
        "intro_top5": f"{100 * metrics['top5']:.1f} %",
        "intro_f1": f"{metrics['macro_f1']:.3f}",
        "intro_epochs": f"{len(result['history'])}",
        "intro_train_images": f"{result['provenance']['data']['train']['images']:,}",
        "intro_test_images": f"{metrics['images']:,}",
        "intro_speed": f"{cost['images_per_second']:,.0f}",
        "intro_train_time": f"{cost['train_seconds'] / 60:.1f} minutes",
        "intro_device": result["provenance"]["device"],
        "intro_profile": result["profile"],
        "intro_chance": f"{round(100 / len(metrics['classes']), 1):g} %",
    }


GAP_WORDS = {
    "under-fits": "the network has not yet learnt its own training images (it gets fewer than {fits} of them "
                  "right), so a larger network or longer training could still gain accuracy",
    "over-fits": "the network fits its training images far better than images it has never seen: it has begun to "
                 "overfit, and more data or stronger augmentation would help",
    "fits": "the network fits its training images and does nearly as well on images it has never seen",
}


def facts_gap(result: dict) -> dict[str, str]:
    """The last epoch's training minus test accuracy, and what it says about fitting
    (:func:`coursekit.diagnostics.fit_verdict`, the book's one rule)."""
    last = result["history"][-1]
    train_acc, test_acc = 100 * last["train_accuracy"], 100 * last["test_accuracy"]
    reading = GAP_WORDS[diagnostics.fit_verdict(train_acc, test_acc)].format(fits=f"{diagnostics.FITS:.0f} %")
    return {"intro_gap": f"{train_acc - test_acc:+.1f} points", "intro_gap_reading": reading}


def facts_confusion(result: dict) -> dict[str, str]:
    """The pair of classes confused most often, counting both directions (the first such pair on a tie)."""
    confusion, classes = result["metrics"]["confusion"], result["metrics"]["classes"]
    pairs = [(confusion[i][j] + confusion[j][i], i, j)
             for i in range(len(confusion)) for j in range(i + 1, len(confusion))]
    count, i, j = max(pairs, key=lambda p: p[0])  # max keeps the first of equal counts
    return {"intro_confused": f"{classes[i]} and {classes[j]}", "intro_confused_count": f"{count:,}"}


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

    return (f"{images(fast) / images(small):.1f} times the training images ({images(fast):,} against "
            f"{images(small):,}), {fast['cost']['parameters'] / small['cost']['parameters']:.1f} times the parameters "
            f"({fast['cost']['parameters'] / 1e6:.2f} million against {small['cost']['parameters'] / 1e6:.2f} million) "
            f"and {compute(fast) / compute(small):.1f} times the arithmetic of training (multiply-accumulates per "
            "image, times images, times epochs)")


def facts_fast(fast_result: dict, small_result: dict) -> dict[str, str]:
    """The fast recipe's run beside the small CNN's: accuracy (test set read once, with test-time
    augmentation), the validation accuracy it was watched on, time, precision, the gain, and the
    recipe's settings the text quotes (images held out per class, translation, lookahead period)."""
    metrics, cost, history = fast_result["metrics"], fast_result["cost"], fast_result["history"]
    gain = 100 * (metrics["accuracy"] - small_result["metrics"]["accuracy"])
    validation = history[-1].get("validation_accuracy")
    return {
        "intro_fast_accuracy": f"{100 * metrics['accuracy']:.1f} %",
        "intro_fast_validation": f"{100 * validation:.1f} %" if validation is not None else "not measured",
        "intro_fast_epochs": f"{len(history)}",
        "intro_fast_train_images": f"{fast_result['provenance']['data']['train']['images']:,}",
        "intro_fast_time": f"{cost['train_seconds'] / 60:.1f} minutes",
        "intro_fast_speed": f"{cost['images_per_second']:,.0f}",
        "intro_fast_precision": cost["precision"],
        "intro_fast_parameters": f"{cost['parameters'] / 1e6:.2f} million",
        "intro_fast_gain": (f"{gain:.1f} points more than the small CNN" if gain > 0 else
                            f"{-gain:.1f} points less than the small CNN" if gain < 0 else "as much as the small CNN"),
        "intro_fast_differs": _what_differs(fast_result, small_result),
        "intro_fast_provenance": store.provenance_line(fast_result),
        "intro_fast_held_out": f"{fast_result['config']['validation_per_class']:,}",
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
    return {"intro_fast_groups": f"{_words(len(widths))} convolution groups ({_listed(widths)} channels)",
            "intro_fast_whiten": f"{kh} × {kw}", "intro_fast_patch": f"{net.whiten.in_channels * kh * kw}"}


EXAMPLE = {"A": {0: 71.2, 1: 68.9, 2: 70.4}, "B": {0: 69.6, 1: 67.2, 2: 68.9}}  # accuracies (%) by seed


def facts_intervals(example: dict[str, dict[int, float]] = EXAMPLE) -> dict[str, str]:
    """The factor of the book's interval convention for three seeds (Student's t, 2 degrees of freedom), and
    a worked example: two methods' accuracies over three seeds, each mean's interval, the paired
    differences and their interval, and the verdict."""
    a, b = example["A"], example["B"]
    diffs = [a[s] - b[s] for s in sorted(a)]
    mean_d, std_d, half_d = stats.mean_interval(diffs)
    words = {"better": "clear: A is ahead", "worse": "clear: B is ahead", "cannot tell": "not clear"}
    fmt = lambda v: "{:.1f} ± {:.1f} %".format(*stats.mean_interval(list(v.values()))[::2])  # noqa: E731
    return {"intro_t3": f"{stats.t975(3):.2f}",
            "intro_ex_a": ", ".join(f"{v:.1f}" for v in a.values()),
            "intro_ex_b": ", ".join(f"{v:.1f}" for v in b.values()),
            "intro_ex_means": f"{fmt(a)} and {fmt(b)}",
            "intro_ex_diffs": ", ".join(f"{d:+.1f}" for d in diffs),
            "intro_ex_std": f"{std_d:.2f}",
            "intro_ex_paired": f"{mean_d:+.1f} ± {half_d:.1f} points",
            "intro_ex_verdict": words[stats.compare(a, b).verdict],
            "intro_ex_unpaired": "{:+.1f} ± {:.1f} points".format(*stats.compare_unpaired(a, b))}
