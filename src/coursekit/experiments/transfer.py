"""Chapter "transfer": a pretrained source network reused four ways (probes on deep and early
features, fine-tuning, training from scratch) on target data sets."""
from __future__ import annotations

from .. import data, profiles, stats, transfer
from ..results import seed_values
from ..runs import RunState
from ..store import provenance_line
from .core import Experiment, config, register, run_plan

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


# An ImageNet source that every machine has (EfficientNet-Lite0, installed with coursekit) at the
# smallest resolution the issue allows, 128 px, where a CPU fine-tunes it at about 75 images a second
# (benchmarks/lite0_cost.py): fewer, smaller batches than the ResNet-20's, the same for every trained
# method. Fine-tuning runs twice: with batch norm training as usual, and with it frozen.
LITE0 = dict(kind="imagenet", name="efficientnet_lite0", layers=dict(early="blocks.1", deep="pre_logits"))
LITE0_RECIPE = dict(RECIPE, sources=[LITE0], image_size=128, crop_padding=16,
                    methods=["deep probe", "early probe", "fine-tune", "fine-tune, frozen BN", "scratch"])
LITE0_BUDGET = {
    "ci": dict(BUDGET["ci"], image_size=64, crop_padding=8),
    "quick": dict(BUDGET["quick"], steps=120, batch_size=32),
    "full": dict(BUDGET["full"], sources=[LITE0], image_size=224, crop_padding=28),
}


def run_transfer(cfg: dict, state: RunState) -> dict:
    """Every method in ``cfg['methods']`` for every source, target, size and seed of ``cfg``.

    Finished runs are kept in the run's ``state``, so an interrupted experiment resumes at the run it
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
            targets[run["target"]] = transfer.target_data(transfer.TARGETS[run["target"]], cfg["image_size"],
                                                           cfg["test_per_class"], cfg.get("pool_per_class"))
        (source, mean, std), (pool, test) = networks[run["source"]], targets[run["target"]]
        idx = data.stratified_indices(pool.labels, cfg["sizes"][run["size"]], run["seed"], at_most=True)
        outcome = transfer.one_run(run["method"], source, sources[run["source"]], pool, idx, test,
                          features.setdefault((run["source"], run["target"]), {}), cfg, run["seed"], mean, std, device)
        return dict(train_images=len(idx), test_images=len(test), **outcome)

    rows = run_plan(plan, run_one, state, label=lambda r: f"{r['target']:>14} {r['size']:>5} seed {r['seed']} {r['method']:>11}")
    described = {t: dict(train=pool.source, test=test.source, classes=len(pool.classes)) for t, (pool, test) in targets.items()}
    if len(described) < len(cfg["targets"]):  # resumed after every run of a target: describe it all the same
        for t in cfg["targets"]:
            if t not in described:
                pool, test = transfer.target_data(transfer.TARGETS[t], cfg["image_size"], cfg["test_per_class"],
                                                  cfg.get("pool_per_class"))
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



def summary(result: dict) -> list[dict]:
    """Mean and 95 % interval over seeds of every (source, target, size, method), recomputed from the
    stored rows (the book's one convention, whatever the code that stored them summarised)."""
    return stats.summarise(result["metrics"]["rows"], ("source", "target", "size", "method"))

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
           "quick": dict(BUDGET["quick"], test_per_class=None),
           "full": dict(BUDGET["full"], seeds=[0], test_per_class=None, targets=["pets", "flowers102"])},
    runner=run_transfer))
register(Experiment(
    name="transfer_decision_lite0", chapter="transfer",
    title="Similar or different, small or large: PACS photos and sketches from ImageNet's EfficientNet-Lite0",
    base=dict(LITE0_RECIPE, targets=["pacs-photo", "pacs-sketch"], sizes=dict(small=10, large=140)),
    sizes={"ci": dict(LITE0_BUDGET["ci"], targets=["pacs-photo"], sizes=dict(small=2, large=4)),
           "quick": LITE0_BUDGET["quick"], "full": LITE0_BUDGET["full"]},
    runner=run_transfer))
register(Experiment(
    name="transfer_targets_lite0", chapter="transfer",
    title="Transfer from ImageNet's EfficientNet-Lite0 to three more data sets",
    base=dict(LITE0_RECIPE, targets=["hymenoptera", "clothing-small", "caltech101"], sizes=dict(all=None),
              methods=["deep probe", "early probe", "fine-tune", "scratch"]),
    sizes={"ci": dict(LITE0_BUDGET["ci"], targets=["hymenoptera"], sizes=dict(all=4)),
           "quick": dict(LITE0_BUDGET["quick"], test_per_class=None),
           "full": dict(LITE0_BUDGET["full"], test_per_class=None)},
    runner=run_transfer))


# --- the readings the chapter's text glues -----------------------------------------------------------

def _pct(summary: dict, key: tuple) -> float:
    return 100 * summary[key]["accuracy"]


def facts_budget(cfg: dict | None = None, full_cfg: dict | None = None) -> dict[str, str]:
    """The budgets the text quotes: the decision experiment's test images, sizes, seeds, batches and
    pixels under the active profile (``cfg``), and the batches of the ``full`` profile (``full_cfg``)."""
    cfg = config("transfer_decision") if cfg is None else cfg
    full_cfg = config("transfer_targets", "full") if full_cfg is None else full_cfg
    values = dict(test=cfg["test_per_class"], small=cfg["sizes"]["small"], large=cfg["sizes"]["large"],
                  seeds=len(cfg["seeds"]), steps=cfg["steps"], batch=cfg["batch_size"])
    return {**{f"tr_{key}": f"{value:,}" for key, value in values.items()},
            "tr_pixels": f"{cfg['image_size']} × {cfg['image_size']}", "tr_full_steps": f"{full_cfg['steps']:,}"}


def _costs(result: dict) -> dict[str, str]:
    """The median seconds of a deep probe and of a fine-tuning run, and the training images of a small cell."""
    rows = result["metrics"]["rows"]

    def median(method: str) -> float:
        seconds = sorted(r["seconds"] for r in rows if r["method"] == method)
        return seconds[len(seconds) // 2]

    small = next(r["train_images"] for r in rows if r["size"] == "small")
    return {"transfer_probe_seconds": f"{median('deep probe'):.1f} s",
            "transfer_finetune_seconds": f"{median('fine-tune'):.0f} s", "transfer_small_images": f"{small:,}"}


def facts_decision(result: dict) -> dict[str, str]:
    """What ``transfer_decision`` says, cell by cell (target × size): the best method, fine-tuning against
    scratch, deep against early probe, deep probe against fine-tuning; and, when both PACS domains were
    run, whether the pretrained start is worth less on sketches and which method wins where, with the
    cells where the seeds cannot tell the winner from another method: the 95 % interval of their paired
    difference over the seeds (which share their draws) includes zero (:mod:`coursekit.stats`)."""
    summary = {(s["target"], s["size"], s["method"]): s for s in result["metrics"]["summary"]}
    cfg = result["config"]
    targets, sizes, methods = cfg["targets"], list(cfg["sizes"]), cfg["methods"]
    acc = lambda t, size, m: _pct(summary, (t, size, m))  # noqa: E731
    rows = result["metrics"]["rows"]
    seeds = lambda t, size, m: seed_values(rows, scale=100, target=t, size=size, method=m)  # noqa: E731
    facts = {"transfer_decision_provenance": provenance_line(result)} | _costs(result)
    winners = {(t, size): max(methods, key=lambda m: acc(t, size, m)) for t in targets for size in sizes}
    for (t, size), best in winners.items():
        key = f"transfer_{t.replace('pacs-', '')}_{size}"
        facts[f"{key}_best"] = f"{best} ({acc(t, size, best):.1f} %)"
        facts[f"{key}_gain"] = f"{acc(t, size, 'fine-tune') - acc(t, size, 'scratch'):+.1f}"
        facts[f"{key}_depth"] = f"{acc(t, size, 'deep probe') - acc(t, size, 'early probe'):+.1f}"
        facts[f"{key}_probe_vs_ft"] = f"{acc(t, size, 'deep probe') - acc(t, size, 'fine-tune'):+.1f}"
    if set(targets) != {"pacs-photo", "pacs-sketch"}:
        return facts
    gains = {t: {s: acc(t, s, "fine-tune") - acc(t, s, "scratch") for s in sizes} for t in targets}
    facts["transfer_gain_reading"] = (
        "smaller on sketches than on photos at both sizes: the further the target from the source, the "
        "less the pretrained start is worth" if all(gains["pacs-sketch"][s] < gains["pacs-photo"][s] for s in sizes)
        else "not consistently smaller on sketches than on photos in this run")
    close = [f"{transfer.TARGETS[t].title}, {s}" for (t, s), m in winners.items()
             if any(stats.compare(seeds(t, s, m), seeds(t, s, o)).verdict == "cannot tell" for o in methods if o != m)]
    facts["transfer_winner_reading"] = (
        ("Fine-tuning has the best mean in all four cells, even with ten images per class"
         if set(winners.values()) == {"fine-tune"} else "The winners differ between the cells: " + "; ".join(
             f"{t.replace('pacs-', '')}, {s}: {m}" for (t, s), m in winners.items()))
        + (f" (in {'; '.join(close)} only by less than the 95 % interval of the paired difference: "
           f"there {len(cfg['seeds'])} seeds do not tell the methods apart)" if close else ""))
    return facts


def facts_targets(result: dict) -> dict[str, str]:
    """What ``transfer_targets`` says: the best method per target, the passes over each target that the
    common budget of batches amounts to, and the targets (if any) where the early probe beats the deep one."""
    cfg = result["config"]
    rows = {(s["target"], s["method"]): 100 * s["accuracy"] for s in result["metrics"]["summary"]}
    title = lambda t: transfer.TARGETS[t].title  # noqa: E731
    winners = {t: max(cfg["methods"], key=lambda m: rows[(t, m)]) for t in cfg["targets"]}
    runs = {r["target"]: r for r in result["metrics"]["rows"] if r["method"] == "fine-tune"}
    early = [t for t in cfg["targets"] if rows[(t, "early probe")] > rows[(t, "deep probe")]]
    return {
        "transfer_targets_provenance": provenance_line(result),
        "transfer_targets_winners": "; ".join(f"{title(t)}: {m} ({rows[(t, m)]:.1f} %)" for t, m in winners.items()),
        "transfer_targets_epochs": ", ".join(
            f"{runs[t]['epochs']} epochs over the {runs[t]['train_images']:,} images of {title(t)}" for t in cfg["targets"]),
        "transfer_targets_depth": (
            "The early probe beats the deep one on " + "; ".join(
                f"{title(t)} ({rows[(t, 'early probe')]:.1f} % against {rows[(t, 'deep probe')]:.1f} %)" for t in early)
            + ": there the CIFAR-10 network's last features, specialised to its ten classes, "
            "describe the target worse than its early, more generic ones"
            if early else "The deep probe beats the early one on every one of these targets"),
    }
