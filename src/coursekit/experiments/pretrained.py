"""Chapter "pretrained": one experiment (the published CIFAR-10 ResNet-20 on this machine's copy of the
test set, stored so that what the JPEG re-encoding costs it is evidence on every machine), and readings
of what torchvision publishes (the model zoo's metadata), of EfficientNet-Lite0 on photos, and of a
training run resumed from its checkpoint. Each ``facts_*`` function returns the sentences and numbers
the chapter glues, by name."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Callable

from .. import data, models, train
from ..i18n import _, number, plural, say
from ..runs import RunState
from .core import Experiment, register

# Accuracy of the published CIFAR-10 ResNet-20 on the original test set, recorded in its checkpoint
# (``best_prec1``), Idelbayev (2018).
PUBLISHED_RESNET20 = 91.78


def zoo_table() -> list[dict]:
    """Every torchvision ImageNet classifier's default weights: accuracy, GFLOPs, parameters, the
    weights' name and the crop they were evaluated at.

    Read from torchvision's own weight metadata (``weights.meta``), which needs no download.
    """
    import torchvision
    from torchvision import models as tvm

    rows = []
    for name in tvm.list_models(module=tvm):
        weights = tvm.get_model_weights(name).DEFAULT
        meta = weights.meta
        metrics = meta.get("_metrics", {}).get("ImageNet-1K", {})
        if "acc@1" in metrics and "_ops" in meta:
            rows.append(dict(name=name, top1=metrics["acc@1"], top5=metrics["acc@5"], gflops=meta["_ops"],
                             params=meta["num_params"], weights=weights.name,
                             crop=weights.transforms().crop_size[0], torchvision=torchvision.__version__))
    return rows


def facts_torchvision() -> dict[str, str]:
    """The installed torchvision: its version, its number of image classifiers and of models in all."""
    import torchvision

    return dict(pretrained_n_classifiers=str(len(torchvision.models.list_models(module=torchvision.models))),
                pretrained_n_all=str(len(torchvision.models.list_models())),
                pretrained_tv_version=torchvision.__version__.split("+")[0])


def number_words() -> dict[int, str]:
    """The small counts written in words, in the current language (called at run time, not import)."""
    return {1: _("one"), 2: _("two"), 3: _("three"), 4: _("four"), 5: _("five"), 6: _("six"), 7: _("seven"),
            8: _("eight"), 9: _("nine"), 10: _("ten"), 12: _("twelve"), 16: _("sixteen"), 32: _("thirty-two")}


def _words(n: int) -> str:
    """A small count in words ("seven"), others in digits with the language's thousands separator."""
    return number_words().get(n) or number(n, ",")


def _listed(values) -> str:
    """"0.485, 0.456 and 0.406" (in French "0,485 ; 0,456 et 0,406")."""
    values = [number(v, "g") for v in values]
    if len(values) == 1:
        return values[0]
    listed = values[0]
    for value in values[1:-1]:
        listed = say("{list}, {value}", list=listed, value=value)
    return say("{list} and {value}", list=listed, value=values[-1])


def _millions(count: float) -> str:
    """"25.6 million" (French: "1,5 million", "25,6 millions")."""
    millions = count / 1e6
    return plural("{millions:.1f} million", "{millions:.1f} million", int(millions), millions=millions)


def facts_resnet50_weights(weights=None) -> dict[str, str]:
    """ResNet-50's two sets of ImageNet weights (a torchvision weights enum): their top-1 accuracies, the
    sizes their transforms resize to, the crop of the default weights, and ImageNet's per-channel means
    and standard deviations that those transforms normalise by."""
    import torchvision

    weights = torchvision.models.get_model_weights("resnet50") if weights is None else weights
    acc = {w.name: w.meta["_metrics"]["ImageNet-1K"]["acc@1"] for w in weights}
    resize = {w.name: w.transforms().resize_size[0] for w in weights}
    default = weights.DEFAULT.transforms()
    return dict(pretrained_r50_v1=say("{accuracy:.1f} %", accuracy=acc["IMAGENET1K_V1"]),
                pretrained_r50_v2=say("{accuracy:.1f} %", accuracy=acc["IMAGENET1K_V2"]),
                pretrained_r50_resize=", ".join(str(r) for r in resize.values()),
                pretrained_r50_resize_v1=str(resize["IMAGENET1K_V1"]), pretrained_r50_resize_v2=str(resize["IMAGENET1K_V2"]),
                pretrained_r50_crop=str(default.crop_size[0]),
                pretrained_imagenet_mean=_listed(default.mean), pretrained_imagenet_std=_listed(default.std))


def facts_lite0(model, resnet50_weights=None) -> dict[str, str]:
    """EfficientNet-Lite0's size, computed from ``model`` (with its ``weights``): parameters,
    multiply-accumulates at the crop its weights' transforms give, its first layer, the map its last
    convolution gives, and the range its inputs are normalised to; and ResNet-50's size from torchvision's
    metadata."""
    import torch
    import torchvision

    from .. import models

    transforms = model.weights.transforms()
    stem, size = model.conv_stem, transforms.crop_size[0]
    mean, std = transforms.mean, transforms.std
    low = min(-m / s for m, s in zip(mean, std))
    high = max((1 - m) / s for m, s in zip(mean, std))
    norm = (say("a mean of {mean:g} and a standard deviation of {std:g} per channel", mean=mean[0], std=std[0])
            if len(set(mean)) == len(set(std)) == 1 else
            say("means of {means} and standard deviations of {stds}", means=_listed(mean), stds=_listed(std)))
    with torch.no_grad():
        last = model.forward_features(torch.zeros(1, 3, size, size)).shape
    r50 = (torchvision.models.get_model_weights("resnet50") if resnet50_weights is None else resnet50_weights).DEFAULT.meta
    return dict(pretrained_lite0_params=_millions(models.count_parameters(model)),
                pretrained_lite0_gmacs=number(models.count_macs(model, (1, 3, size, size)) / 1e9, ".2f"),
                pretrained_lite0_stem=say("{filters} filters of {height} × {width}, applied with a stride of {stride}",
                                          filters=stem.out_channels, height=stem.kernel_size[0],
                                          width=stem.kernel_size[1], stride=stem.stride[0]),
                pretrained_lite0_last=say("a {height} × {width} map of {channels:,} channels at {crop} pixels",
                                          height=last[2], width=last[3], channels=last[1], crop=size),
                pretrained_lite0_map=f"{last[2]} × {last[3]}", pretrained_lite0_crop=str(size),
                pretrained_lite0_range=say("[{low:g}, {high:g}]", low=low, high=high).replace("-", "−"),
                pretrained_lite0_norm=norm,
                pretrained_r50_params=_millions(r50["num_params"]),
                pretrained_r50_gflops=number(r50["_ops"], ".1f"))


def facts_zoo(rows: list[dict]) -> dict[str, str]:
    """The zoo's most accurate classifier (and whether its weights were pretrained beyond ImageNet:
    torchvision's SWAG weights), AlexNet against ResNet-50, and the cheapest classifier at least as
    accurate as ResNet-50, from the rows of :func:`zoo_table`."""
    zoo = {r["name"]: r for r in rows}
    top = max(rows, key=lambda r: r["top1"])
    alex, r50 = zoo["alexnet"], zoo["resnet50"]
    cheap = min((r for r in rows if r["top1"] >= r50["top1"]), key=lambda r: r["gflops"])
    return dict(
        pretrained_top=say("{name} ({accuracy:.1f} %, {gflops:,.0f} GFLOPs, {millions:,.0f} M parameters)",
                           name=top["name"], accuracy=top["top1"], gflops=top["gflops"], millions=top["params"] / 1e6),
        pretrained_top_reading=(
            say("Its default weights, {weights}, were first pretrained on far more images than ImageNet holds and "
                "then fine-tuned on ImageNet at {crop} pixels, so the comparison is not only one of architectures.",
                weights=top["weights"], crop=top["crop"])
            if "SWAG" in top["weights"] else _("Its default weights were trained on ImageNet alone.")),
        pretrained_alex=say("{accuracy:.1f} % for {gflops:.2f} GFLOPs", accuracy=alex["top1"], gflops=alex["gflops"]),
        pretrained_r50=say("{accuracy:.1f} % for {gflops:.2f} GFLOPs", accuracy=r50["top1"], gflops=r50["gflops"]),
        pretrained_r50_ratio=number(r50["gflops"] / alex["gflops"], ".0f"),
        pretrained_cheap=say("{name} ({accuracy:.1f} %, {gflops:.2f} GFLOPs, {ratio:.1f} times fewer than ResNet-50)",
                             name=cheap["name"], accuracy=cheap["top1"], gflops=cheap["gflops"],
                             ratio=r50["gflops"] / cheap["gflops"]))


def facts_cheapest(rows: list[dict], at_least: float = 80) -> dict[str, str]:
    """The exercise's answer: among the classifiers with at least ``at_least`` % top-1 accuracy, the one
    with the fewest GFLOPs and the one with the fewest parameters, and whether they are the same."""
    rows = [r for r in rows if r["top1"] >= at_least]
    fewest_ops, fewest_params = (min(rows, key=lambda r: r[k])["name"] for k in ("gflops", "params"))
    return dict(pretrained_ex_answer=(
        say("Here both are {network}: the same network wins on both counts.", network=fewest_ops)
        if fewest_ops == fewest_params else
        say("Here the fewest GFLOPs belong to {fewest_ops}, the fewest parameters to {fewest_params}.",
            fewest_ops=fewest_ops, fewest_params=fewest_params)))


def facts_pacs(pacs) -> dict[str, str]:
    """How many classes the PACS photos, as loaded, have."""
    return dict(pretrained_pacs_classes=_words(len(pacs.classes)))


def facts_resnet20(model=None, image_size: int = 32) -> dict[str, str]:
    """The CIFAR-10 ResNet-20 the text describes, read from ``model`` (coursekit's ``resnet20``, built
    without weights when not given): its first layer, the map of its last stage on an image of
    ``image_size`` pixels (where Grad-CAM reads it), and the published accuracy it is compared with."""
    import torch

    model = models.create("resnet20", num_classes=10) if model is None else model
    conv = model.conv1
    with torch.no_grad():
        last = model.forward_features(torch.zeros(1, conv.in_channels, image_size, image_size)).shape
    k1, k2 = conv.kernel_size
    return dict(pretrained_r20_stem=say("{filters} {height} × {width} filters over the {channels} colour channels",
                                        filters=_words(conv.out_channels), height=k1, width=k2,
                                        channels=_words(conv.in_channels)),
                pretrained_r20_map=f"{last[2]} × {last[3]}",
                pretrained_r20_published=say("{accuracy} %", accuracy=PUBLISHED_RESNET20))


def evaluate_published_resnet20(cfg: dict, state: RunState) -> dict:
    """The published CIFAR-10 ResNet-20 (:func:`coursekit.models.cifar_resnet`) evaluated on (a stratified
    subset of) this machine's copy of CIFAR-10's test set, normalised as it was trained."""
    from ..models.resnet import PRETRAINED_CIFAR_MEAN, PRETRAINED_CIFAR_STD

    model = models.cifar_resnet("resnet20")
    test = data.stratified_subset(data.load_cifar10(train=False), cfg["test_per_class"], cfg["seed"])
    loader = data.DeviceLoader(test, 500, train=False, mean=PRETRAINED_CIFAR_MEAN, std=PRETRAINED_CIFAR_STD)
    metrics = train.evaluate(model, loader)
    return dict(metrics=metrics, history=[], cost=dict(parameters=models.count_parameters(model), images=len(test)),
                data=dict(test=test.source, summary=f"{test.source.get('description', 'CIFAR-10')}: {len(test):,} test "
                                                     "images, no training (published weights)"))


register(Experiment(
    name="pretrained_resnet20_jpeg", chapter="pretrained",
    title="The published CIFAR-10 ResNet-20 (Idelbayev 2018) on this machine's copy of the test set",
    base=dict(network="resnet20", seed=0),
    sizes={"ci": dict(test_per_class=20), "quick": dict(test_per_class=None), "full": dict(test_per_class=None)},
    runner=evaluate_published_resnet20))


def measured(result: dict) -> tuple[dict, int | None]:
    """What :func:`facts_cifar` reads from a result of ``pretrained_resnet20_jpeg``: the measurement and
    the stratified subset's size per class (None: the whole test set)."""
    return (dict(accuracy=result["metrics"]["accuracy"], images=result["metrics"]["images"],
                 source=result["provenance"]["data"]["test"]),
            result["config"]["test_per_class"])


def facts_imagenet_photos(model, photos, batch_size: int = 32) -> dict[str, str]:
    """How often an ImageNet ``model`` (with ``model.weights``) names the exact class of each photo of
    ``photos`` (folders named by ImageNet categories, plural or not: "ants" is "ant"), top-1 and top-5."""
    import torch

    names = model.weights.meta["categories"]
    wanted = torch.tensor([names.index(c.rstrip("s") if c not in names else c) for c in photos.classes])[photos.labels]
    top5 = []
    with torch.no_grad():
        for start in range(0, len(photos), batch_size):
            logits = model(model.weights.transforms()(photos.images[start:start + batch_size]))
            top5.append(logits.topk(5, dim=1).indices)
    top5 = torch.cat(top5)
    top1, within = int((top5[:, 0] == wanted).sum()), int((top5 == wanted[:, None]).any(1).sum())
    n = len(photos)
    return dict(pretrained_photos=number(n, ","),
                pretrained_photos_top1=say("{count:,} ({percent:.0f} %)", count=top1, percent=100 * top1 / n),
                pretrained_photos_top5=say("{count:,} ({percent:.0f} %)", count=within, percent=100 * within / n))


def facts_cifar(measured: dict | None, per_class: int | None) -> dict[str, str]:
    """The published ResNet-20's accuracy as measured here, against the published one.

    ``measured`` holds ``accuracy`` (a fraction), ``images`` (test images evaluated) and ``source`` (the
    test set's provenance: an ``image-folder`` is the offline, JPEG re-encoded copy); None when the
    weights could not be loaded. ``per_class`` is the stratified subset's size, None for the whole test set.
    """
    if measured is None:
        return dict(pretrained_cifar_reading=_("This build could not load the weights, so it measured nothing."),
                    pretrained_jpeg_summary=_("this build could not load the published weights to measure it"))
    accuracy, images, source = 100 * measured["accuracy"], measured["images"], measured["source"]
    gap = PUBLISHED_RESNET20 - accuracy
    size = (say("all {images:,} test images", images=images) if per_class is None else
            say("a stratified subset of {images:,} test images ({per_class} per class, as the ci profile asks)",
                images=images, per_class=per_class))
    values = dict(size=size, of_test_set=_of_test_set(source["description"]), accuracy=accuracy, gap=gap,
                  published=PUBLISHED_RESNET20)
    if source.get("kind") == "image-folder":
        summary = plural("JPEG re-encoding alone cost the published CIFAR-10 ResNet-20 {gap:.1f} points, "
                         "{published} % to {accuracy:.1f} %",
                         "JPEG re-encoding alone cost the published CIFAR-10 ResNet-20 {gap:.1f} points, "
                         "{published} % to {accuracy:.1f} %", int(abs(gap)), **values)
        reading = plural("Evaluated on {size} {of_test_set}, it reaches {accuracy:.2f} %, {gap:.1f} points below the "
                         "{published} % measured on the original test set. This copy is the offline one, in which "
                         "every image was re-encoded as a JPEG of quality 75: the compression shifts pixel values and "
                         "blurs fine detail.",
                         "Evaluated on {size} {of_test_set}, it reaches {accuracy:.2f} %, {gap:.1f} points below the "
                         "{published} % measured on the original test set. This copy is the offline one, in which "
                         "every image was re-encoded as a JPEG of quality 75: the compression shifts pixel values and "
                         "blurs fine detail.", int(abs(gap)), **values)
    else:
        summary = say("the published CIFAR-10 ResNet-20 reaches {accuracy:.1f} % on the test set read here", **values)
        reading = say("Evaluated on {size} {of_test_set}, it reaches {accuracy:.2f} %, to compare with the "
                      "{published} % measured on the original test set.", **values)
    return dict(pretrained_cifar_reading=reading, pretrained_jpeg_summary=summary)


def _of_test_set(description: str) -> str:
    """"of the " and the test set's description (its provenance's words), in the current language: the
    descriptions CIFAR-10's loaders write are translated, any other is quoted as it is."""
    if description == "original CIFAR-10 (torchvision python batches)":
        return _("of the original CIFAR-10 (torchvision python batches)")
    folder = re.fullmatch(r"ImageFolder copy of CIFAR-10 \((\w+)\)", description)
    if folder:
        return say("of the ImageFolder copy of CIFAR-10 ({split})", split=folder.group(1))
    return say("of the {test_set}", test_set=description)


def facts_resume(resumed_loss: float, straight_loss: float, tolerance: float = 1e-6) -> dict[str, str]:
    """Whether a run resumed from its checkpoint ends with the same training loss as an uninterrupted one."""
    same = abs(resumed_loss - straight_loss) < tolerance
    return dict(pretrained_resume_reading=(
        _("The two runs end with the same loss: the interruption left no trace") if same else
        _("The two runs end with slightly different losses: on this device some operations are not exactly "
          "reproducible, but the resumed run continued where the first stopped")))


def small_run(make_model: Callable, loader, epochs: int, seed: int = 0) -> tuple:
    """A network from ``make_model()``, ``loader``, and an optimiser and one-cycle schedule for ``epochs``
    of it: the first four arguments of :func:`coursekit.train.fit`, built the same way every time."""
    train.seed_everything(seed)
    model = make_model()
    optimizer = train.make_optimizer(model, "sgd", lr=0.05, weight_decay=5e-4)
    return model, loader, optimizer, train.make_schedule(optimizer, "onecycle", epochs * len(loader))


def train_beyond_schedule(make_model: Callable, loader, epochs: int = 2) -> ValueError | None:
    """Train ``epochs`` epochs with a checkpoint, then ask the same checkpoint for one epoch more: the
    error ``train.fit`` raises (the schedule it restores was planned for ``epochs``), or None if it trains on."""
    cpu = train.Runtime.resolve("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        state = RunState(checkpoint=Path(tmp) / "run.pt", progress=False, verbose=False)
        train.fit(*small_run(make_model, loader, epochs), train.CrossEntropy(), state, epochs=epochs, runtime=cpu)
        try:
            train.fit(*small_run(make_model, loader, epochs + 1), train.CrossEntropy(), state, epochs=epochs + 1,
                      runtime=cpu)
        except ValueError as err:
            return err
    return None


def facts_more_epochs(error: Exception | None) -> dict[str, str]:
    """What asking a finished run's checkpoint for one more epoch did (:func:`train_beyond_schedule`)."""
    return dict(pretrained_ex_epochs=(
        _("here it does not fail, and trains a third epoch on the restored state") if error is None else
        say("fit stops with ValueError: {error}", error=str(error).splitlines()[0])))


# Networks after ResNet, with the idea each added: (builder, source, name, year, idea, citation key).
AFTER_RESNET = [
    ("densenet121", "torchvision", "DenseNet-121", 2017, "each layer reads the maps of all layers before it", "huang2017densenet"),
    ("seresnet50", "timm", "SE-ResNet-50", 2018, "a gate rescales each channel from the whole image (squeeze-and-excitation)", "hu2018senet"),
    ("mobilenet_v2", "torchvision", "MobileNetV2", 2018, "depthwise separable convolutions in inverted residual blocks", "sandler2018mobilenetv2"),
    ("efficientnet_b0", "torchvision", "EfficientNet-B0", 2019, "depth, width and resolution scaled together", "tan2019efficientnet"),
    ("convnext_tiny", "torchvision", "ConvNeXt-T", 2022, "a ResNet modernised with a transformer's design choices", "liu2022convnext"),
    ("resnet50", "torchvision", "ResNet-50", 2016, "the reference: bottleneck residual blocks", "he2016resnet"),
]


def ideas() -> dict[str, str]:
    """The ideas of :data:`AFTER_RESNET`, by builder, in the current language (for display)."""
    return {"densenet121": _("each layer reads the maps of all layers before it"),
            "seresnet50": _("a gate rescales each channel from the whole image (squeeze-and-excitation)"),
            "mobilenet_v2": _("depthwise separable convolutions in inverted residual blocks"),
            "efficientnet_b0": _("depth, width and resolution scaled together"),
            "convnext_tiny": _("a ResNet modernised with a transformer's design choices"),
            "resnet50": _("the reference: bottleneck residual blocks")}


def after_resnet_table() -> list[dict]:
    """The networks of :data:`AFTER_RESNET` with their parameters and multiply-accumulates per 224 x 224
    image, computed from the builders (on PyTorch's ``meta`` device: shapes only, no memory, no weights),
    and torchvision's ImageNet top-1 accuracy where it publishes weights (cited, not measured)."""
    import torch
    import torchvision.models as tvm

    from .. import models

    timm = models.timm_module()
    shown = ideas()
    rows = []
    for builder, source, name, year, idea, cite in AFTER_RESNET:
        with torch.device("meta"):
            net = tvm.get_model(builder, weights=None) if source == "torchvision" else timm.create_model(builder)
        top1 = (tvm.get_model_weights(builder).DEFAULT.meta["_metrics"]["ImageNet-1K"]["acc@1"]
                if source == "torchvision" else None)
        rows.append(dict(builder=builder, name=name, year=year, idea=shown.get(builder, idea), cite=cite, top1=top1,
                         params=models.count_parameters(net), macs=models.count_macs(net, (1, 3, 224, 224))))
    return rows


def facts_after_resnet(rows: list[dict]) -> dict[str, str]:
    """Whether the MACs computed from the builders agree (to a thousandth of a GMAC) with torchvision's
    ``_ops`` metadata, for the networks torchvision publishes weights of."""
    import torchvision.models as tvm

    published = [r for r in rows if r["top1"] is not None]
    differ = [r["name"] for r in published
              if abs(r["macs"] / 1e9 - tvm.get_model_weights(r["builder"]).DEFAULT.meta["_ops"]) > 1e-3]
    return {"pretrained_ops_reading": (
        say("agree with torchvision's `_ops` metadata for all {count} networks it publishes, which is the check that "
            "its GFLOPS count multiply-accumulates", count=len(published)) if not differ else
        say("differ from torchvision's `_ops` metadata for {networks}", networks=", ".join(differ)))}
