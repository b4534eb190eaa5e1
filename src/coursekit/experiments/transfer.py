"""Chapter "transfer": a pretrained source network reused four ways (probes on deep and early
features, fine-tuning, training from scratch) on target data sets."""
from __future__ import annotations

from .. import data, profiles, stats, transfer
from ..runs import RunState
from .core import Experiment, register, run_plan
from .transfer_facts import (  # noqa: F401 (the chapter's words and readings, in a module of their own)
    _by_seed,
    display_title,
    facts_budget,
    facts_decision,
    facts_distance,
    facts_frozen_bn,
    facts_networks,
    facts_sources,
    facts_targets,
    method_accuracy,
    method_label,
    size_tick,
    target_title,
)

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


# An ImageNet source that every machine has (EfficientNet-Lite0, installed with coursekit) at 128 px,
# where two CPU cores fine-tune it at about 100 images a second and train it from scratch at about 80
# (benchmarks/lite0_cost.py): fewer, smaller batches than the ResNet-20's, the same for every trained
# method. Fine-tuning runs twice: with batch norm training as usual, and with it frozen. Its body's
# rate is 0.001 (the head's 0.01): checked on ten photos per class, the frozen-batch-norm network
# collapsed to chance (a training loss of ln 7) at the ResNet's 0.01 (seed 0) and at 0.003 (seed 1),
# and trained at 0.001 (seeds 0 and 1, and on sketches).
LITE0 = dict(kind="imagenet", name="efficientnet_lite0", layers=dict(early="blocks.1", deep="pre_logits"))
LITE0_RECIPE = dict(RECIPE, sources=[LITE0], image_size=128, crop_padding=16, finetune_lr=0.001,
                    methods=["deep probe", "early probe", "fine-tune", "fine-tune, frozen BN", "scratch"])
LITE0_BUDGET = {
    "ci": dict(BUDGET["ci"], image_size=64, crop_padding=8),
    "quick": dict(BUDGET["quick"], steps=120, batch_size=32),
    "full": dict(BUDGET["full"], sources=[LITE0], image_size=224, crop_padding=28),
}


KEYS = ("source", "target", "size", "method")  # what a run of run_transfer is, besides its seed


def run_transfer(cfg: dict, state: RunState) -> dict:
    """Every method in ``cfg['methods']`` for every source, target, size and seed of ``cfg``, and, where
    ``cfg['variants']`` names variants of the recipe (``{"no warm-up": {"schedule": "cosine"}, ...}``), for
    each of them (each row then names its ``variant``).

    Finished runs are kept in the run's ``state``, so an interrupted experiment resumes at the run it
    stopped in (:func:`coursekit.experiments.core.run_plan`). Returns one row per run, and their means over seeds.
    """
    device = profiles.device()
    variants = cfg.get("variants")
    plan = [dict(source=spec["name"], target=t, size=size, seed=seed, method=m, **({"variant": v} if variants else {}))
            for spec in cfg["sources"] for t in cfg["targets"] for size in cfg["sizes"]
            for seed in cfg["seeds"] for m in cfg["methods"] for v in (variants or [None])]
    sources = {spec["name"]: spec for spec in cfg["sources"]}
    networks: dict = {}   # source name -> (network, mean, std), loaded on first use
    targets: dict = {}    # target name -> (pool, test)
    features: dict = {}   # (source, target) -> frozen features of the pool and the test set

    def run_one(run: dict) -> dict:
        if run["source"] not in networks:
            networks[run["source"]] = transfer.source_network(sources[run["source"]])
        if run["target"] not in targets:
            targets[run["target"]] = transfer.target_data(transfer.TARGETS[run["target"]], cfg["image_size"],
                                                           cfg["test_per_class"], cfg.get("pool_per_class"), cfg.get("decode_per_class"))
        (source, mean, std), (pool, test) = networks[run["source"]], targets[run["target"]]
        idx = data.stratified_indices(pool.labels, cfg["sizes"][run["size"]], run["seed"], at_most=True)
        recipe = dict(cfg, **variants[run["variant"]]) if variants else cfg
        outcome = transfer.one_run(run["method"], source, sources[run["source"]], pool, idx, test,
                          features.setdefault((run["source"], run["target"]), {}), recipe, run["seed"], mean, std, device)
        return dict(train_images=len(idx), test_images=len(test), **outcome)

    rows = run_plan(plan, run_one, state, label=lambda r: f"{r['target']:>14} {r['size']:>5} seed {r['seed']} {r['method']:>11}"
                                                           + (f" ({r['variant']})" if variants else ""))
    described = {t: dict(train=pool.source, test=test.source, classes=len(pool.classes)) for t, (pool, test) in targets.items()}
    if len(described) < len(cfg["targets"]):  # resumed after every run of a target: describe it all the same
        for t in cfg["targets"]:
            if t not in described:
                pool, test = transfer.target_data(transfer.TARGETS[t], cfg["image_size"], cfg["test_per_class"],
                                                  cfg.get("pool_per_class"), cfg.get("decode_per_class"))
                described[t] = dict(train=pool.source, test=test.source, classes=len(pool.classes))
    names = ", ".join(transfer.TARGETS[t].title for t in cfg["targets"])
    totals = {split: sum(described[t][split]["images"] for t in cfg["targets"]) for split in ("train", "test")}
    trained = [r for r in rows if r["method"] in ("fine-tune", "scratch")]
    return dict(
        metrics=dict(rows=rows, summary=stats.summarise(rows, KEYS + (("variant",) if variants else ()))),
        history=[],
        cost=dict(runs=len(rows), train_seconds=round(sum(r["seconds"] for r in trained), 1)),
        data=dict(train=dict(kind="image-folder", description=f"{names} at {cfg['image_size']} px",
                             images=totals["train"]),
                  test=dict(images=totals["test"]), targets={t: described[t] for t in cfg["targets"]}),
    )



def summary(result: dict) -> list[dict]:
    """Mean and 95 % interval over seeds of every (source, target, size, method), recomputed from the
    stored rows (the book's one convention, whatever the code that stored them summarised)."""
    rows = result["metrics"]["rows"]
    return stats.summarise(rows, KEYS + (("variant",) if rows and "variant" in rows[0] else ()))

def register_decision(name: str, source: str, recipe: dict, budget: dict[str, dict]) -> None:
    """The decision experiment (PACS photos and sketches, ten or up to 140 images a class) from ``source``."""
    register(Experiment(
        name=name, chapter="transfer",
        title=f"Similar or different, small or large: PACS photos and sketches from {source}",
        base=dict(recipe, targets=["pacs-photo", "pacs-sketch"], sizes=dict(small=10, large=140)),
        sizes={"ci": dict(budget["ci"], targets=["pacs-photo"], sizes=dict(small=2, large=4)),
               "quick": budget["quick"], "full": budget["full"]},
        runner=run_transfer))


register_decision("transfer_decision", "a CIFAR-10 ResNet-20", RECIPE, BUDGET)
register(Experiment(
    name="transfer_targets", chapter="transfer",
    title="Transfer from a CIFAR-10 ResNet-20 to three more data sets",
    base=dict(RECIPE, targets=["hymenoptera", "clothing-small", "caltech101"], sizes=dict(all=None)),
    sizes={"ci": dict(BUDGET["ci"], targets=["hymenoptera"], sizes=dict(all=4)),
           "quick": dict(BUDGET["quick"], test_per_class=None),
           "full": dict(BUDGET["full"], seeds=[0], test_per_class=None, targets=["pets", "flowers102"])},
    runner=run_transfer))
register_decision("transfer_decision_lite0", "ImageNet's EfficientNet-Lite0", LITE0_RECIPE, LITE0_BUDGET)
register(Experiment(
    name="transfer_targets_lite0", chapter="transfer",
    title="Transfer from ImageNet's EfficientNet-Lite0 to three more data sets",
    base=dict(LITE0_RECIPE, targets=["hymenoptera", "clothing-small", "caltech101"], sizes=dict(all=None),
              methods=["deep probe", "early probe", "fine-tune", "scratch"]),
    sizes={"ci": dict(LITE0_BUDGET["ci"], targets=["hymenoptera"], sizes=dict(all=4)),
           "quick": dict(LITE0_BUDGET["quick"], test_per_class=None),
           "full": dict(LITE0_BUDGET["full"], test_per_class=None)},
    runner=run_transfer))

