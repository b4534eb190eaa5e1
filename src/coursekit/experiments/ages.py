"""Chapter "ages": predicting age from UTKFace's faces. Four heads on the student's small CNN (L1 on age,
L1 on log-age, eight groups, CORAL), a ResNet from scratch, EfficientNet-Lite0's frozen ImageNet
features with a ridge regression and the same network fine-tuned; every run's test predictions kept
for the chapter to read who the errors fall on."""
from __future__ import annotations

import torch
from torch import nn

from .. import data, models, profiles, regression, train, transfer
from ..runs import RunState
from .core import Experiment, over_seeds, register

# The faces are 96 pixels; the networks trained from scratch see them at 64 (what two CPU cores train
# in minutes), the ImageNet network at 96. Random crops (4 pixels) and flips; AdamW with one-cycle.
RECIPE = dict(model="small_cnn", model_args={}, head="l1", image_size=64, crop_padding=4, flip=True,
              optimizer="adamw", lr=3e-3, weight_decay=0.05, schedule="onecycle", seed=0)
LITE0 = dict(kind="imagenet", name="efficientnet_lite0", layers=dict(deep="pre_logits"))
SIZES = {
    "ci": dict(epochs=1, batch_size=16, seeds=[0], per_band=2),
    "quick": dict(epochs=15, batch_size=64, seeds=[0, 1, 2]),
    "full": dict(epochs=40, batch_size=128, seeds=[0, 1, 2], image_size=96, crop_padding=6),
}


def age_network(cfg: dict) -> tuple[nn.Module, str]:
    """The network of ``cfg`` with the last layer its head needs (:func:`coursekit.regression.new_head`),
    and that layer's name: coursekit's ``small_cnn`` or ``resnet20`` from scratch, or ImageNet's
    ``efficientnet_lite0`` pretrained."""
    if cfg["model"] == "efficientnet_lite0":
        model = models.pretrained("efficientnet_lite0")
    else:
        model = models.create(cfg["model"], **cfg["model_args"])
    name = transfer.classifier_name(model)
    parent, _, attr = name.rpartition(".")
    owner = model.get_submodule(parent) if parent else model
    setattr(owner, attr, regression.new_head(cfg["head"], getattr(owner, attr).in_features))
    return model, name


def face_splits(cfg: dict) -> dict[str, data.ImageTensors]:
    """The training, validation and test faces at ``cfg['image_size']`` (``cfg['per_band']`` faces of each
    five-year band at most, for the ``ci`` profile)."""
    return {split: data.load_utkface(split, cfg["image_size"], per_band=cfg.get("per_band"))
            for split in ("train", "val", "test")}


def train_age_model(cfg: dict, state: RunState) -> dict:
    """Train ``cfg['model']`` with ``cfg['head']`` on UTKFace's training faces through :func:`train.fit`
    (the validation MAE after every epoch in its history) and measure it on the test faces: MAE, CS(5),
    group accuracy, and every test face's predicted age (to a tenth of a year)."""
    device = profiles.device()
    faces = face_splits(cfg)
    train.seed_everything(cfg["seed"])  # the new head's (or the whole network's) initial weights
    model, head = age_network(cfg)
    pretrained = cfg["model"] == "efficientnet_lite0"
    norm = dict(zip(("mean", "std"), models.input_statistics(model))) if pretrained else {}
    loader = data.DeviceLoader(faces["train"], cfg["batch_size"], train=True, device=device,
                               crop_padding=cfg["crop_padding"], flip=cfg["flip"], seed=cfg["seed"], **norm)
    tests = {s: data.DeviceLoader(faces[s], 256, train=False, device=device, **norm) for s in ("val", "test")}
    runtime = train.Runtime.resolve(device)
    said = regression.group_medians(faces["train"].labels)

    def ages_of(split: str) -> tuple[torch.Tensor, torch.Tensor]:
        logits, truth = train.predict(model, tests[split], runtime=runtime)
        return regression.predict_ages(cfg["head"], logits, said), truth

    def validation(_: nn.Module) -> dict:
        return {"val_mae": regression.age_metrics(*ages_of("val"))["mae"]}

    train.seed_everything(cfg["seed"])
    optimizer = train.make_optimizer(model, cfg["optimizer"], cfg["lr"], cfg["weight_decay"],
                                     lr_multipliers={head: cfg["head_lr_multiplier"]} if pretrained else None)
    schedule = train.make_schedule(optimizer, cfg["schedule"], cfg["epochs"] * len(loader))
    fitted = train.fit(model, loader, optimizer, schedule, regression.AgeLoss(cfg["head"]), state,
                       epochs=cfg["epochs"], evaluate=validation, runtime=runtime)
    predicted, truth = ages_of("test")
    metrics = dict(regression.age_metrics(predicted, truth), predicted=[round(float(a), 1) for a in predicted])
    cost = dict(parameters=models.count_parameters(model), train_seconds=round(fitted.train_seconds, 2),
                images_per_second=round(fitted.images_per_second, 1))
    return dict(metrics=metrics, history=fitted.history, cost=cost,
                data=dict(train=faces["train"].source, test=faces["test"].source))


def ridge_on_features(cfg: dict, state: RunState) -> dict:
    """A ridge regression of age on the frozen features of ``cfg['source']`` (its penalty chosen by the
    validation MAE), measured on the test faces as :func:`train_age_model` measures a network."""
    device = profiles.device()
    faces = face_splits(cfg)
    source, mean, std = transfer.source_network(cfg["source"])
    layer = {"deep": cfg["source"]["layers"]["deep"]}
    found = {s: transfer.cached_features(source, faces[s], cfg["source"], layer, 1, mean, std, device)["deep"]
             for s in faces}
    fit = regression.ridge_by_validation(found["train"], faces["train"].labels, found["val"], faces["val"].labels,
                                         cfg["penalties"])
    predicted = found["test"] @ fit["weight"] + fit["bias"]
    metrics = dict(regression.age_metrics(predicted, faces["test"].labels), penalty=fit["penalty"],
                   validation_mae=fit["validation_mae"], features=found["train"].shape[1],
                   predicted=[round(float(a), 1) for a in predicted])
    return dict(metrics=metrics, history=[], cost=dict(runs=1),
                data=dict(train=faces["train"].source, test=faces["test"].source))


for head in regression.HEADS:
    register(Experiment(
        name=f"ages_cnn_{head.replace('-', '_')}", chapter="ages",
        title=f"The student's small CNN from scratch on UTKFace, head: {head}",
        base=dict(RECIPE, head=head), sizes=SIZES, runner=over_seeds(train_age_model)))
register(Experiment(
    name="ages_resnet", chapter="ages", title="ResNet-20 from scratch on UTKFace (L1 on age)",
    base=dict(RECIPE, model="resnet20", lr=2e-3), sizes=SIZES, runner=over_seeds(train_age_model)))
register(Experiment(
    name="ages_lite0_finetune", chapter="ages",
    title="ImageNet's EfficientNet-Lite0 fine-tuned on UTKFace at 96 px (L1 on age)",
    base=dict(RECIPE, model="efficientnet_lite0", image_size=96, crop_padding=6, lr=1e-3, weight_decay=1e-4,
              head_lr_multiplier=10),
    sizes=dict(SIZES, quick=dict(SIZES["quick"], epochs=5), full=dict(SIZES["full"], epochs=10)),
    runner=over_seeds(train_age_model)))
register(Experiment(
    name="ages_lite0_ridge", chapter="ages",
    title="A ridge regression on the frozen ImageNet features of EfficientNet-Lite0 (96 px)",
    base=dict(source=LITE0, image_size=96, penalties=[0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0]),
    sizes={"ci": dict(per_band=2), "quick": dict(), "full": dict()}, runner=ridge_on_features))
