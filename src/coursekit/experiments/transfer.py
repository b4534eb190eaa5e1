"""Chapter "transfer": a pretrained source network reused four ways (probes on deep and early
features, fine-tuning, training from scratch) on target data sets."""
from __future__ import annotations

from pathlib import Path

from .. import data, profiles, stats, transfer
from .core import Experiment, register, run_plan

RECIPE = dict(
    sources=[dict(kind="cifar", name="resnet20", layers=dict(early="layer1", deep="avgpool"))],
    methods=["deep probe", "early probe", "fine-tune", "scratch"], image_size=32, grid=4,
    probe_weight_decays=[1e-4, 1e-3, 1e-2, 1e-1, 1.0], finetune_lr=0.01, head_lr_multiplier=10,
    scratch_lr=0.05, weight_decay=5e-4, crop_padding=4)

# Every trained method gets the same number of batches. quick: the published CIFAR-10 ResNet-20 as
# the source, targets at its 32 px; full: ImageNet networks (torchvision's ResNet-50 and a timm
# ConvNeXt) at 224 px on a GPU.
BUDGET = {
    "ci": dict(seeds=[0], steps=2, batch_size=8, test_per_class=4, probe_weight_decays=[1e-2, 1.0]),
    "quick": dict(seeds=[0, 1, 2], steps=400, batch_size=64, test_per_class=40),
    "full": dict(seeds=[0, 1, 2], steps=2000, batch_size=64, test_per_class=40, image_size=224,
                 finetune_lr=0.005, scratch_lr=0.1, crop_padding=28,
                 sources=[dict(kind="imagenet", name="resnet50", layers=dict(early="layer1", deep="avgpool")),
                          dict(kind="imagenet", name="timm/convnext_tiny.fb_in1k",
                               layers=dict(early="stages.0", deep="head.global_pool"))]),
}


def run_transfer(cfg: dict, checkpoint: Path | None = None) -> dict:
    """Every method in ``cfg['methods']`` for every source, target, size and seed of ``cfg``.

    Finished runs are kept in ``checkpoint``, so an interrupted experiment resumes at the run it
    stopped in (:func:`coursekit.experiments.core.run_plan`). Returns one row per run, and their means over seeds.
    """
    device = profiles.device()
    plan = [dict(source=spec["name"], target=t, size=size, seed=seed, method=m)
            for spec in cfg["sources"] for t in cfg["targets"] for size in cfg["sizes"]
            for seed in cfg["seeds"] for m in cfg["methods"]]
    sources = {spec["name"]: spec for spec in cfg["sources"]}
    networks: dict = {}   # source name -> (network, mean, std), loaded on first use
    targets: dict = {}    # target name -> (pool, test)
    features: dict = {}   # (source, target) -> frozen features of the pool and the test set

    def run_one(run: dict) -> dict:
        if run["source"] not in networks:
            networks[run["source"]] = transfer.source_network(sources[run["source"]])
        if run["target"] not in targets:
            targets[run["target"]] = transfer.target_data(transfer.TARGETS[run["target"]], cfg["image_size"], cfg["test_per_class"])
        (source, mean, std), (pool, test) = networks[run["source"]], targets[run["target"]]
        idx = data.stratified_indices(pool.labels, cfg["sizes"][run["size"]], run["seed"], at_most=True)
        outcome = transfer.one_run(run["method"], source, sources[run["source"]], pool, idx, test,
                          features.setdefault((run["source"], run["target"]), {}), cfg, run["seed"], mean, std, device)
        return dict(train_images=len(idx), test_images=len(test), **outcome)

    rows = run_plan(plan, run_one, checkpoint, label=lambda r: f"{r['target']:>14} {r['size']:>5} seed {r['seed']} {r['method']:>11}")
    described = {t: dict(train=pool.source, test=test.source, classes=len(pool.classes)) for t, (pool, test) in targets.items()}
    if len(described) < len(cfg["targets"]):  # resumed after every run of a target: describe it all the same
        for t in cfg["targets"]:
            if t not in described:
                pool, test = transfer.target_data(transfer.TARGETS[t], cfg["image_size"], cfg["test_per_class"])
                described[t] = dict(train=pool.source, test=test.source, classes=len(pool.classes))
    names = ", ".join(transfer.TARGETS[t].title for t in cfg["targets"])
    totals = {split: sum(described[t][split]["images"] for t in cfg["targets"]) for split in ("train", "test")}
    trained = [r for r in rows if r["method"] in ("fine-tune", "scratch")]
    return dict(
        metrics=dict(rows=rows, summary=stats.summarise(rows, ("source", "target", "size", "method"))),
        history=[],
        cost=dict(runs=len(rows), train_seconds=round(sum(r["seconds"] for r in trained), 1)),
        data=dict(train=dict(kind="image-folder", description=f"{names} at {cfg['image_size']} px",
                             images=totals["train"]),
                  test=dict(images=totals["test"]), targets={t: described[t] for t in cfg["targets"]}),
    )


register(Experiment(
    name="transfer_decision", chapter="transfer",
    title="Similar or different, small or large: PACS photos and sketches from a CIFAR-10 ResNet-20",
    base=dict(RECIPE, targets=["pacs-photo", "pacs-sketch"], sizes=dict(small=10, large=140)),
    sizes={"ci": dict(BUDGET["ci"], targets=["pacs-photo"], sizes=dict(small=2, large=4)),
           "quick": BUDGET["quick"], "full": BUDGET["full"]},
    runner=run_transfer))
register(Experiment(
    name="transfer_targets", chapter="transfer",
    title="Transfer from a CIFAR-10 ResNet-20 to three more data sets",
    base=dict(RECIPE, targets=["hymenoptera", "clothing-small", "caltech101"], sizes=dict(all=None)),
    sizes={"ci": dict(BUDGET["ci"], targets=["hymenoptera"], sizes=dict(all=4)),
           "quick": dict(BUDGET["quick"], seeds=[0], test_per_class=None),
           "full": dict(BUDGET["full"], seeds=[0], test_per_class=None, targets=["pets", "flowers102"])},
    runner=run_transfer))
