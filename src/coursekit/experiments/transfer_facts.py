"""Chapter "transfer"'s words and readings: its methods, targets and cells as the book shows them, and
the readings its text glues, computed from the stored results of :mod:`coursekit.experiments.transfer`."""
from __future__ import annotations

from .. import models, stats, transfer
from ..i18n import _, fill, number, plural, say
from ..results import seed_values
from ..store import provenance_line
from .core import config, get

# --- the chapter's words: its methods, targets, cells and titles as the book shows them -------------------
# The method, target and size names are the data's keys: they stay as they are in the rows and are translated
# only where they are shown, through these (every translation called at run time, in the current language).

def method_label(method: str) -> str:
    """``method`` as a figure's legend shows it."""
    return {"deep probe": _("deep probe"), "early probe": _("early probe"), "fine-tune": _("fine-tune"),
            "fine-tune, frozen BN": _("fine-tune, frozen BN"),
            "fine-tune, gradual unfreezing": _("fine-tune, gradual unfreezing"), "scratch": _("scratch")}.get(method, method)


def method_accuracy(method: str, accuracy: float) -> str:
    """``method`` and its accuracy (%), as a sentence names the best method: "fine-tune (71.0 %)"."""
    templates = {"deep probe": _("deep probe ({accuracy:.1f} %)"), "early probe": _("early probe ({accuracy:.1f} %)"),
                 "fine-tune": _("fine-tune ({accuracy:.1f} %)"),
                 "fine-tune, frozen BN": _("fine-tune, frozen BN ({accuracy:.1f} %)"),
                 "scratch": _("scratch ({accuracy:.1f} %)")}
    if method in templates:
        return fill(templates[method], accuracy=accuracy)
    return say("{method} ({accuracy:.1f} %)", method=method_label(method), accuracy=accuracy)


def target_title(target: str) -> str:
    """The title of ``target`` as the book shows it (the data sets' own names as they are)."""
    return {"pacs-photo": _("PACS photo"), "pacs-sketch": _("PACS sketch"), "hymenoptera": _("ants or bees"),
            "clothing-small": _("clothing")}.get(target) or transfer.TARGETS[target].title


def _cell(target: str, size: str) -> str:
    """A cell of the decision experiment, short: "photo, small"."""
    known = {("pacs-photo", "small"): _("photo, small"), ("pacs-photo", "large"): _("photo, large"),
             ("pacs-sketch", "small"): _("sketch, small"), ("pacs-sketch", "large"): _("sketch, large")}
    return known.get((target, size)) or say("{target}, {size}", target=target.replace("pacs-", ""), size=size)


def _titled_cell(target: str, size: str) -> str:
    """A cell of the decision experiment, with its target's title: "PACS photo, small"."""
    known = {("pacs-photo", "small"): _("PACS photo, small"), ("pacs-photo", "large"): _("PACS photo, large"),
             ("pacs-sketch", "small"): _("PACS sketch, small"), ("pacs-sketch", "large"): _("PACS sketch, large")}
    return known.get((target, size)) or say("{target}, {size}", target=target_title(target), size=size)


def size_tick(target: str, size: str, images: int) -> str:
    """A figure's label of one (target, size): the target's title, the size and its training images."""
    templates = {"small": _("{target}\nsmall: {images:,} images"), "large": _("{target}\nlarge: {images:,} images"),
                 "all": _("{target}\nall: {images:,} images")}
    if size in templates:
        return fill(templates[size], target=target_title(target), images=images)
    return say("{target}\n{size}: {images:,} images", target=target_title(target), size=size, images=images)


def display_title(result: dict) -> str:
    """The title of a result of this chapter's experiments in the current language (a result stored under
    another title keeps its own)."""
    titles = {
        "transfer_decision": _("Similar or different, small or large: PACS photos and sketches from a CIFAR-10 ResNet-20"),
        "transfer_decision_lite0": _("Similar or different, small or large: PACS photos and sketches from ImageNet's "
                                     "EfficientNet-Lite0"),
        "transfer_targets": _("Transfer from a CIFAR-10 ResNet-20 to three more data sets"),
        "transfer_targets_lite0": _("Transfer from ImageNet's EfficientNet-Lite0 to three more data sets"),
    }
    name = result.get("experiment")
    if name in titles and result.get("title") == get(name).title:
        return titles[name]
    return result["title"]


def _join(items) -> str:
    """Items of a list that the book separates with semicolons."""
    return _("; ").join(items)


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
    return {**{f"tr_{key}": number(value, ",") for key, value in values.items()},
            "tr_pixels": f"{cfg['image_size']} × {cfg['image_size']}",
            "tr_lite0_pixels": f"{lite0_cfg['image_size']} × {lite0_cfg['image_size']}",
            "tr_full_steps": number(full_cfg["steps"], ","),
            "tr_lite0_body_lr": number(lite0_cfg["finetune_lr"], "g"),
            "tr_lite0_head_lr": number(lite0_cfg["finetune_lr"] * lite0_cfg["head_lr_multiplier"], "g"),
            "tr_lite0_head_times": number(lite0_cfg["head_lr_multiplier"], "g"),
            "tr_body_lr": number(cfg["finetune_lr"], "g"),
            "tr_lite0_lr_times": number(cfg["finetune_lr"] / lite0_cfg["finetune_lr"], "g")}


def _fraction_of_side(ratio: int) -> str:
    """What a feature map's side is of the input's, in words ("a quarter of the input's side")."""
    return {2: _("half of the input's side"), 4: _("a quarter of the input's side"),
            8: _("an eighth of the input's side"), 16: _("a sixteenth of the input's side")}.get(ratio) or \
        say("1/{ratio} of the input's side", ratio=ratio)


def facts_networks() -> dict[str, str]:
    """The two sources as the text describes them, read from the networks themselves (their architectures;
    no weights are needed): parameters, and what each probed layer gives one image before pooling."""
    timm = models.timm_module()  # imported here, and quietly: see models.timm_module
    out = {}
    for prefix, name in (("tr", "transfer_decision"), ("tr_lite0", "transfer_decision_lite0")):
        recipe = config(name, "quick")
        source, size = recipe["sources"][0], recipe["image_size"]
        model = models.create(source["name"]) if source["kind"] == "cifar" else timm.create_model(source["name"])
        shapes = transfer.layer_shapes(model, source["layers"], size)
        c, h, w = shapes["early"]
        millions = models.count_parameters(model) / 1e6
        # the same English in both forms: the plural is for languages whose "million" agrees with the number
        params = plural("{parameters:.2f} million", "{parameters:.2f} million", int(millions), parameters=millions) \
            if prefix == "tr" else \
            plural("{parameters:.1f} million", "{parameters:.1f} million", int(millions), parameters=millions)
        early = say("{channels} channels at {height} × {width}", channels=c, height=h, width=w) if h == size else \
            say("{channels} channels at {height} × {width}, {fraction}", channels=c, height=h, width=w,
                fraction=_fraction_of_side(size // h))
        out |= {f"{prefix}_params": params, f"{prefix}_early_shape": early,
                f"{prefix}_deep_features": number(shapes["deep"][0], ","),
                f"{prefix}_grid": f"{recipe['grid']} × {recipe['grid']}"}
    return out


def _costs(result: dict, prefix: str) -> dict[str, str]:
    """The median seconds of a deep probe and of a fine-tuning run, and the training images of a small cell."""
    rows = result["metrics"]["rows"]

    def median(method: str) -> float:
        seconds = sorted(r["seconds"] for r in rows if r["method"] == method)
        return seconds[len(seconds) // 2]

    small = next(r["train_images"] for r in rows if r["size"] == "small")
    return {f"{prefix}_probe_seconds": say("{seconds:.1f} s", seconds=median("deep probe")),
            f"{prefix}_finetune_seconds": say("{seconds:.0f} s", seconds=median("fine-tune")),
            f"{prefix}_small_images": number(small, ",")}


def _by_seed(result: dict, **fields) -> dict[int, float]:
    """Test accuracy (%) by seed of the runs of ``result`` that match ``fields`` (none is an error)."""
    found = seed_values(result["metrics"]["rows"], scale=100, **fields)
    if not found:
        raise KeyError(f"{result.get('experiment', 'the result')} has no run with {fields}")
    return found


def _best_everywhere(method: str) -> str:
    """The sentence for one method, other than fine-tuning, that has the best mean in every cell."""
    sentences = {"deep probe": _("The deep probe has the best mean in all four cells"),
                 "early probe": _("The early probe has the best mean in all four cells"),
                 "fine-tune, frozen BN": _("The fine-tune, frozen BN has the best mean in all four cells"),
                 "scratch": _("The scratch has the best mean in all four cells")}
    return sentences.get(method) or say("The {method} has the best mean in all four cells", method=method_label(method))


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
        facts[f"{key}_best"] = method_accuracy(best, acc(t, size, best))
        facts[f"{key}_gain"] = number(acc(t, size, "fine-tune") - acc(t, size, "scratch"), "+.1f")
        facts[f"{key}_depth"] = number(acc(t, size, "deep probe") - acc(t, size, "early probe"), "+.1f")
        facts[f"{key}_probe_vs_ft"] = number(acc(t, size, "deep probe") - acc(t, size, "fine-tune"), "+.1f")
    if set(targets) != {"pacs-photo", "pacs-sketch"}:
        return facts
    close = [_titled_cell(t, s) for (t, s), m in winners.items()
             if any(stats.compare(seeds(t, s, m), seeds(t, s, o)).verdict == "cannot tell" for o in methods if o != m)]
    everywhere = set(winners.values())
    if everywhere == {"fine-tune"}:
        lead = _("Fine-tuning has the best mean in all four cells, even with ten images per class")
    elif len(everywhere) == 1:
        lead = _best_everywhere(everywhere.pop())
    else:
        where = [say("{cell}: {method}", cell=_cell(t, s), method=method_label(m)) for (t, s), m in winners.items()]
        lead = say("The winners differ between the cells: {winners}", winners=_join(where))
    facts[f"{prefix}_winner_reading"] = say(
        "{lead} (in {cells} only by less than the 95 % interval of the paired difference: "
        "there {seeds} seeds do not tell the methods apart)", lead=lead, cells=_join(close),
        seeds=len(cfg["seeds"])) if close else lead
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
        facts[f"{prefix}_{size}_distance"] = say(
            "fine-tuning leads scratch by {photo_gain:+.1f} points on photos and {sketch_gain:+.1f} on sketches, a "
            "difference of {difference:+.1f} ± {difference_half:.1f}; it removes {photo_share:.0f} % of the scratch "
            "network's errors on photos and {sketch_share:.0f} % on sketches ({share_difference:+.0f} ± "
            "{share_half:.0f}); from scratch alone, sketches score {scratch_difference:+.1f} ± {scratch_half:.1f} "
            "points against photos",
            photo_gain=gains[0], sketch_gain=gains[1], difference=absolute.mean_difference,
            difference_half=absolute.half_width, photo_share=shares[0], sketch_share=shares[1],
            share_difference=relative.mean_difference, share_half=relative.half_width,
            scratch_difference=scratch.mean_difference, scratch_half=scratch.half_width)
        shown &= absolute.verdict == "better" and relative.verdict == "better"
        points_only &= absolute.verdict == "better"
    if shown:
        reading = _("worth less on sketches than on photos at both sizes, by more than the seeds vary, in points and "
                    "as the share of the scratch network's errors it removes, so a stronger scratch baseline on "
                    "sketches does not explain it away: the further the target from the source, the less the "
                    "pretrained start is worth")
    elif points_only:
        reading = _("worth fewer points on sketches than on photos at both sizes, but not clearly less as the share "
                    "of the scratch network's errors it removes: the smaller gain may come from the stronger "
                    "scratch baseline on sketches rather than from the distance to the source, so these runs do "
                    "not show that the further target gains less")
    else:
        reading = _("not worth clearly less on sketches than on photos at both sizes: the difference of the gains "
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
            c = stats.compare(_by_seed(result, target=t, size=size, method="fine-tune, frozen BN"),
                              _by_seed(result, target=t, size=size, method="fine-tune"))
            verdicts.setdefault(c.verdict, []).append((t, size))
            cells.append(say("{cell}: {difference:+.1f} ± {half:.1f}", cell=_cell(t, size),
                             difference=c.mean_difference, half=c.half_width))
    count = lambda v: len(verdicts.get(v, []))  # noqa: E731
    tally = dict(better=count("better"), cells=len(cells), worse=count("worse"), unclear=count("cannot tell"))
    if count("better") > count("worse"):
        reading = say("frozen batch norm is better in {better} of the {cells} cells, worse in {worse}, and the seeds "
                      "cannot tell the two apart in {unclear}, so freezing it is the better default for fine-tuning "
                      "this network on so few images", **tally)
    elif count("worse") > count("better"):
        reading = say("frozen batch norm is better in {better} of the {cells} cells, worse in {worse}, and the seeds "
                      "cannot tell the two apart in {unclear}, so batch norm stays in training mode, where its "
                      "statistics follow the target's images, as the book's fine-tuning does everywhere else", **tally)
    else:
        reading = say("frozen batch norm is better in {better} of the {cells} cells, worse in {worse}, and the seeds "
                      "cannot tell the two apart in {unclear}, so neither setting is better here and the book keeps "
                      "training mode, PyTorch's default, for its other fine-tuning runs", **tally)
    return {f"{prefix}_bn_cells": _join(cells), f"{prefix}_bn_reading": reading}


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
            cells.append(say("{cell}: {difference:+.1f} ± {half:.1f}", cell=_cell(t, size),
                             difference=c.mean_difference, half=c.half_width))
    if set(verdicts) == {"better"}:
        reading = _("The ImageNet network's best method beats the CIFAR-10 network's best in every cell")
    elif "better" in verdicts:
        reading = say("The ImageNet network's best method beats the CIFAR-10 network's best in {better} of the "
                      "{cells} cells by more than the seeds vary", better=verdicts.count("better"), cells=len(verdicts))
    else:
        reading = _("The ImageNet network's best method beats the CIFAR-10 network's best in no cell by more than "
                    "the seeds vary")
    return {"tr_sources_cells": _join(cells), "tr_sources_reading": reading}


def _early_wins(kind: str, n: int, targets: str) -> str:
    """The sentence for the targets where the early probe beats the deep one, from a ``kind`` source (the
    same English for one target or several: the plural is for languages whose sentence agrees with them)."""
    sentences = {
        "cifar": lambda: plural(
            "The early probe beats the deep one on {targets}: there the CIFAR-10 network's last features, "
            "specialised to its ten classes, describe the target worse than its early, more generic ones",
            "The early probe beats the deep one on {targets}: there the CIFAR-10 network's last features, "
            "specialised to its ten classes, describe the target worse than its early, more generic ones",
            n, targets=targets),
        "imagenet": lambda: plural(
            "The early probe beats the deep one on {targets}: there the ImageNet network's last features, "
            "specialised to its thousand classes, describe the target worse than its early, more generic ones",
            "The early probe beats the deep one on {targets}: there the ImageNet network's last features, "
            "specialised to its thousand classes, describe the target worse than its early, more generic ones",
            n, targets=targets)}
    return sentences[kind]()


def facts_targets(result: dict, prefix: str = "transfer_targets") -> dict[str, str]:
    """What a targets experiment says: the best method per target (mean over seeds), the passes over each
    target that the common budget of batches amounts to, and the targets (if any) where the early probe
    beats the deep one. Every name starts with ``prefix`` (one per source)."""
    cfg = result["config"]
    rows = {(s["target"], s["method"]): 100 * s["accuracy"] for s in result["metrics"]["summary"]}
    winners = {t: max(cfg["methods"], key=lambda m: rows[(t, m)]) for t in cfg["targets"]}
    runs = {r["target"]: r for r in result["metrics"]["rows"] if r["method"] == "fine-tune"}
    early = [t for t in cfg["targets"] if rows[(t, "early probe")] > rows[(t, "deep probe")]]
    kind = cfg.get("sources", [dict(kind="cifar")])[0]["kind"]
    if kind not in ("cifar", "imagenet"):
        raise KeyError(kind)
    return {
        f"{prefix}_provenance": provenance_line(result),
        f"{prefix}_winners": _join(say("{target}: {best}", target=target_title(t), best=method_accuracy(m, rows[(t, m)]))
                                   for t, m in winners.items()),
        f"{prefix}_epochs": ", ".join(
            plural("{n} epoch over the {images:,} images of {target}", "{n} epochs over the {images:,} images of {target}",
                   runs[t]["epochs"], images=runs[t]["train_images"], target=target_title(t)) for t in cfg["targets"]),
        f"{prefix}_depth": _early_wins(kind, len(early), _join(
            say("{target} ({early:.1f} % against {deep:.1f} %)", target=target_title(t),
                early=rows[(t, "early probe")], deep=rows[(t, "deep probe")]) for t in early))
        if early else _("The deep probe beats the early one on every one of these targets"),
    }
