"""Chapter "transfer": a pretrained source network reused four ways (probes on deep and early
features, fine-tuning, training from scratch) on target data sets."""
from __future__ import annotations

from .. import data, models, profiles, stats, transfer
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


# --- the readings the chapter's text glues -----------------------------------------------------------

def _pct(summary: dict, key: tuple) -> float:
    return 100 * summary[key]["accuracy"]


def facts_budget(cfg: dict | None = None, full_cfg: dict | None = None, lite0_cfg: dict | None = None) -> dict[str, str]:
    """The budgets the text quotes: the decision experiment's test images, sizes, seeds, batches and
    pixels under the active profile (``cfg``), the same for the ImageNet source (``lite0_cfg``), and the
    batches of the ``full`` profile (``full_cfg``)."""
    cfg = config("transfer_decision") if cfg is None else cfg
    full_cfg = config("transfer_targets", "full") if full_cfg is None else full_cfg
    lite0_cfg = config("transfer_decision_lite0") if lite0_cfg is None else lite0_cfg
    values = dict(test=cfg["test_per_class"], small=cfg["sizes"]["small"], large=cfg["sizes"]["large"],
                  seeds=len(cfg["seeds"]), steps=cfg["steps"], batch=cfg["batch_size"],
                  lite0_steps=lite0_cfg["steps"], lite0_batch=lite0_cfg["batch_size"])
    return {**{f"tr_{key}": f"{value:,}" for key, value in values.items()},
            "tr_pixels": f"{cfg['image_size']} × {cfg['image_size']}",
            "tr_lite0_pixels": f"{lite0_cfg['image_size']} × {lite0_cfg['image_size']}",
            "tr_full_steps": f"{full_cfg['steps']:,}",
            "tr_lite0_body_lr": f"{lite0_cfg['finetune_lr']:g}",
            "tr_lite0_head_lr": f"{lite0_cfg['finetune_lr'] * lite0_cfg['head_lr_multiplier']:g}",
            "tr_lite0_head_times": f"{lite0_cfg['head_lr_multiplier']:g}",
            "tr_body_lr": f"{cfg['finetune_lr']:g}",
            "tr_lite0_lr_times": f"{cfg['finetune_lr'] / lite0_cfg['finetune_lr']:g}"}


FRACTIONS = {2: "half", 4: "a quarter", 8: "an eighth", 16: "a sixteenth"}


def facts_networks() -> dict[str, str]:
    """The two sources as the text describes them, read from the networks themselves (their architectures;
    no weights are needed): parameters, and what each probed layer gives one image before pooling."""
    timm = models.timm_module()  # imported here, and quietly: see models.timm_module
    out = {}
    for prefix, recipe in (("tr", RECIPE), ("tr_lite0", LITE0_RECIPE)):
        source, size = recipe["sources"][0], recipe["image_size"]
        model = models.create(source["name"]) if source["kind"] == "cifar" else timm.create_model(source["name"])
        shapes = transfer.layer_shapes(model, source["layers"], size)
        c, h, w = shapes["early"]
        out |= {f"{prefix}_params": f"{models.count_parameters(model) / 1e6:.{2 if prefix == 'tr' else 1}f} million",
                f"{prefix}_early_shape": f"{c} channels at {h} × {w}" + (
                    "" if h == size else f", {FRACTIONS.get(size // h, f'1/{size // h}')} of the input's side"),
                f"{prefix}_deep_features": f"{shapes['deep'][0]:,}",
                f"{prefix}_grid": f"{recipe['grid']} × {recipe['grid']}"}
    return out


def _costs(result: dict, prefix: str) -> dict[str, str]:
    """The median seconds of a deep probe and of a fine-tuning run, and the training images of a small cell."""
    rows = result["metrics"]["rows"]

    def median(method: str) -> float:
        seconds = sorted(r["seconds"] for r in rows if r["method"] == method)
        return seconds[len(seconds) // 2]

    small = next(r["train_images"] for r in rows if r["size"] == "small")
    return {f"{prefix}_probe_seconds": f"{median('deep probe'):.1f} s",
            f"{prefix}_finetune_seconds": f"{median('fine-tune'):.0f} s", f"{prefix}_small_images": f"{small:,}"}


def _by_seed(result: dict, **fields) -> dict[int, float]:
    """Test accuracy (%) by seed of the runs of ``result`` that match ``fields`` (none is an error)."""
    found = seed_values(result["metrics"]["rows"], scale=100, **fields)
    if not found:
        raise KeyError(f"{result.get('experiment', 'the result')} has no run with {fields}")
    return found


def facts_decision(result: dict, prefix: str = "transfer") -> dict[str, str]:
    """What a decision experiment says, cell by cell (target × size): the best method, fine-tuning against
    scratch, deep against early probe, deep probe against fine-tuning; and, when both PACS domains were
    run, which method wins where, with the cells where the seeds cannot tell the winner from another
    method: the 95 % interval of their paired difference over the seeds (which share their draws) includes
    zero (:mod:`coursekit.stats`). Every name starts with ``prefix`` (one per source)."""
    summary = {(s["target"], s["size"], s["method"]): s for s in result["metrics"]["summary"]}
    cfg = result["config"]
    targets, sizes, methods = cfg["targets"], list(cfg["sizes"]), cfg["methods"]
    acc = lambda t, size, m: _pct(summary, (t, size, m))  # noqa: E731
    seeds = lambda t, size, m: _by_seed(result, target=t, size=size, method=m)  # noqa: E731
    facts = {f"{prefix}_decision_provenance": provenance_line(result)} | _costs(result, prefix)
    winners = {(t, size): max(methods, key=lambda m: acc(t, size, m)) for t in targets for size in sizes}
    for (t, size), best in winners.items():
        key = f"{prefix}_{t.replace('pacs-', '')}_{size}"
        facts[f"{key}_best"] = f"{best} ({acc(t, size, best):.1f} %)"
        facts[f"{key}_gain"] = f"{acc(t, size, 'fine-tune') - acc(t, size, 'scratch'):+.1f}"
        facts[f"{key}_depth"] = f"{acc(t, size, 'deep probe') - acc(t, size, 'early probe'):+.1f}"
        facts[f"{key}_probe_vs_ft"] = f"{acc(t, size, 'deep probe') - acc(t, size, 'fine-tune'):+.1f}"
    if set(targets) != {"pacs-photo", "pacs-sketch"}:
        return facts
    close = [f"{transfer.TARGETS[t].title}, {s}" for (t, s), m in winners.items()
             if any(stats.compare(seeds(t, s, m), seeds(t, s, o)).verdict == "cannot tell" for o in methods if o != m)]
    everywhere = set(winners.values())
    if everywhere == {"fine-tune"}:
        lead = "Fine-tuning has the best mean in all four cells, even with ten images per class"
    elif len(everywhere) == 1:
        lead = f"The {everywhere.pop()} has the best mean in all four cells"
    else:
        lead = "The winners differ between the cells: " + "; ".join(
            f"{t.replace('pacs-', '')}, {s}: {m}" for (t, s), m in winners.items())
    facts[f"{prefix}_winner_reading"] = lead + (
        f" (in {'; '.join(close)} only by less than the 95 % interval of the paired difference: "
        f"there {len(cfg['seeds'])} seeds do not tell the methods apart)" if close else "")
    return facts | facts_distance(result, prefix)


def _gain(result: dict, target: str, size: str, relative: bool = False) -> dict[int, float]:
    """Fine-tuning's lead over training from scratch, by seed: in points, or (``relative``) as the share
    (%) of the scratch network's errors that the pretrained start removes."""
    tuned = _by_seed(result, target=target, size=size, method="fine-tune")
    scratch = _by_seed(result, target=target, size=size, method="scratch")
    return {s: (tuned[s] - scratch[s]) * (100 / max(100 - scratch[s], 1e-9) if relative else 1) for s in scratch}


def facts_distance(result: dict, prefix: str = "transfer") -> dict[str, str]:
    """Is the pretrained start worth less on the further target (sketches) than on the nearer (photos)?

    At each size, the difference of the differences (fine-tuning minus scratch on photos, minus the same on
    sketches) over the seeds with its 95 % interval, in points and as the share of the scratch network's
    errors that pretraining removes. The second guards against the confound of a stronger baseline: if
    scratch does better on sketches, fewer points are left to gain there whatever the source. The claim
    "the further the target, the less pretraining is worth" is made only when both intervals lie above
    zero at every size; otherwise the reading says what was and was not shown."""
    sizes = list(result["config"]["sizes"])
    facts, shown, points_only = {}, True, True
    for size in sizes:
        absolute = stats.compare(_gain(result, "pacs-photo", size), _gain(result, "pacs-sketch", size))
        relative = stats.compare(_gain(result, "pacs-photo", size, True), _gain(result, "pacs-sketch", size, True))
        scratch = stats.compare(_by_seed(result, target="pacs-sketch", size=size, method="scratch"),
                                _by_seed(result, target="pacs-photo", size=size, method="scratch"))
        gains = [stats.mean_interval(list(_gain(result, t, size).values()))[0] for t in ("pacs-photo", "pacs-sketch")]
        shares = [stats.mean_interval(list(_gain(result, t, size, True).values()))[0]
                  for t in ("pacs-photo", "pacs-sketch")]
        facts[f"{prefix}_{size}_distance"] = (
            f"fine-tuning leads scratch by {gains[0]:+.1f} points on photos and {gains[1]:+.1f} on sketches, a "
            f"difference of {absolute.mean_difference:+.1f} ± {absolute.half_width:.1f}; it removes "
            f"{shares[0]:.0f} % of the scratch network's errors on photos and {shares[1]:.0f} % on sketches "
            f"({relative.mean_difference:+.0f} ± {relative.half_width:.0f}); from scratch alone, sketches score "
            f"{scratch.mean_difference:+.1f} ± {scratch.half_width:.1f} points against photos")
        shown &= absolute.verdict == "better" and relative.verdict == "better"
        points_only &= absolute.verdict == "better"
    if shown:
        reading = ("worth less on sketches than on photos at both sizes, by more than the seeds vary, in points and "
                   "as the share of the scratch network's errors it removes, so a stronger scratch baseline on "
                   "sketches does not explain it away: the further the target from the source, the less the "
                   "pretrained start is worth")
    elif points_only:
        reading = ("worth fewer points on sketches than on photos at both sizes, but not clearly less as the share "
                   "of the scratch network's errors it removes: the smaller gain may come from the stronger "
                   "scratch baseline on sketches rather than from the distance to the source, so these runs do "
                   "not show that the further target gains less")
    else:
        reading = ("not worth clearly less on sketches than on photos at both sizes: the difference of the gains "
                   "is within the seeds' 95 % interval at some size, so these runs do not show that the further "
                   "target gains less")
    facts[f"{prefix}_gain_reading"] = reading
    return facts


def facts_frozen_bn(result: dict, prefix: str = "lite0") -> dict[str, str]:
    """Fine-tuning with frozen batch norm against fine-tuning with batch norm in training mode, cell by
    cell, paired over seeds; and which to use: the one that is better by more than the seeds vary in
    more cells (training mode, the PyTorch default, where neither is)."""
    cfg, verdicts, cells = result["config"], {}, []
    for t in cfg["targets"]:
        for size in cfg["sizes"]:
            name = f"{t.replace('pacs-', '')}, {size}"
            c = stats.compare(_by_seed(result, target=t, size=size, method="fine-tune, frozen BN"),
                              _by_seed(result, target=t, size=size, method="fine-tune"))
            verdicts.setdefault(c.verdict, []).append(name)
            cells.append(f"{name}: {c.mean_difference:+.1f} ± {c.half_width:.1f}")
    count = lambda v: len(verdicts.get(v, []))  # noqa: E731
    tally = (f"frozen batch norm is better in {count('better')} of the {len(cells)} cells, worse in {count('worse')}, "
             f"and the seeds cannot tell the two apart in {count('cannot tell')}")
    if count("better") > count("worse"):
        choice = "so freezing it is the better default for fine-tuning this network on so few images"
    elif count("worse") > count("better"):
        choice = ("so batch norm stays in training mode, where its statistics follow the target's images, "
                  "as the book's fine-tuning does everywhere else")
    else:
        choice = ("so neither setting is better here and the book keeps training mode, PyTorch's default, for "
                  "its other fine-tuning runs")
    return {f"{prefix}_bn_cells": "; ".join(cells), f"{prefix}_bn_reading": f"{tally}, {choice}"}


def facts_sources(cifar: dict, imagenet: dict) -> dict[str, str]:
    """The ImageNet source against the CIFAR-10 source on the same PACS images and seeds: each cell's best
    method from each, paired over the seeds (both experiments draw the same training images per seed
    and test on the same held-out images)."""
    cells, verdicts = [], []
    for t in cifar["config"]["targets"]:
        for size in cifar["config"]["sizes"]:
            best = {}
            for key, result in (("cifar", cifar), ("imagenet", imagenet)):
                summary = {s["method"]: s["accuracy"] for s in result["metrics"]["summary"]
                           if s["target"] == t and s["size"] == size}
                best[key] = max(summary, key=summary.get)
            c = stats.compare(_by_seed(imagenet, target=t, size=size, method=best["imagenet"]),
                              _by_seed(cifar, target=t, size=size, method=best["cifar"]))
            verdicts.append(c.verdict)
            cells.append(f"{t.replace('pacs-', '')}, {size}: {c.mean_difference:+.1f} ± {c.half_width:.1f}")
    if set(verdicts) == {"better"}:
        reading = "The ImageNet network's best method beats the CIFAR-10 network's best in every cell"
    elif "better" in verdicts:
        reading = (f"The ImageNet network's best method beats the CIFAR-10 network's best in {verdicts.count('better')} "
                   f"of the {len(verdicts)} cells by more than the seeds vary")
    else:
        reading = "The ImageNet network's best method beats the CIFAR-10 network's best in no cell by more than the seeds vary"
    return {"tr_sources_cells": "; ".join(cells), "tr_sources_reading": reading}


SOURCE_WORDS = {"cifar": ("CIFAR-10 network", "ten"), "imagenet": ("ImageNet network", "thousand")}


def facts_targets(result: dict, prefix: str = "transfer_targets") -> dict[str, str]:
    """What a targets experiment says: the best method per target (mean over seeds), the passes over each
    target that the common budget of batches amounts to, and the targets (if any) where the early probe
    beats the deep one. Every name starts with ``prefix`` (one per source)."""
    cfg = result["config"]
    rows = {(s["target"], s["method"]): 100 * s["accuracy"] for s in result["metrics"]["summary"]}
    title = lambda t: transfer.TARGETS[t].title  # noqa: E731
    winners = {t: max(cfg["methods"], key=lambda m: rows[(t, m)]) for t in cfg["targets"]}
    runs = {r["target"]: r for r in result["metrics"]["rows"] if r["method"] == "fine-tune"}
    early = [t for t in cfg["targets"] if rows[(t, "early probe")] > rows[(t, "deep probe")]]
    network, classes = SOURCE_WORDS[cfg.get("sources", [dict(kind="cifar")])[0]["kind"]]
    return {
        f"{prefix}_provenance": provenance_line(result),
        f"{prefix}_winners": "; ".join(f"{title(t)}: {m} ({rows[(t, m)]:.1f} %)" for t, m in winners.items()),
        f"{prefix}_epochs": ", ".join(
            f"{runs[t]['epochs']} epoch{'' if runs[t]['epochs'] == 1 else 's'} over the {runs[t]['train_images']:,} images of {title(t)}" for t in cfg["targets"]),
        f"{prefix}_depth": (
            "The early probe beats the deep one on " + "; ".join(
                f"{title(t)} ({rows[(t, 'early probe')]:.1f} % against {rows[(t, 'deep probe')]:.1f} %)" for t in early)
            + f": there the {network}'s last features, specialised to its {classes} classes, "
            "describe the target worse than its early, more generic ones"
            if early else "The deep probe beats the early one on every one of these targets"),
    }
