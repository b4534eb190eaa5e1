"""Chapter "fewshot", the readings its text glues: the budgets quoted, and what each experiment's stored
rows say (differences paired by seed, with the book's one interval: :func:`coursekit.stats.compare`)."""
from __future__ import annotations

from .. import stats, store
from ..i18n import _, _p, fill, number, plural, say
from ..results import seed_values
from .core import EXPERIMENTS, config


def configs(profile: str | None = None) -> dict[str, dict]:
    """The configurations of the chapter's experiments under ``profile`` (default: the active one)."""
    return {name: config(name, profile) for name, e in EXPERIMENTS.items() if e.chapter == "fewshot"}


def _count(n: int | None) -> str:
    return _p("images per class", "all") if n is None else number(n, ",")


def _joined(parts) -> str:
    """Clauses one after the other, separated as the language separates them (a semicolon)."""
    return _("; ").join(parts)


def _test_images(per_class: int | None) -> str:
    return (_("all the novel classes' test images") if per_class is None else
            say("{n:,} test images per novel class", n=per_class))


def _start(init: str) -> str:
    """Where a run starts, in words, at the head of a sentence ("From scratch, ...")."""
    return {"scratch": _("From scratch"), "backbone": _("With the backbone")}[init]


def variant_name(variant: str) -> str:
    """An ablation variant's name as the book shows it: its augmentations (coursekit's names, in the
    current language) joined by " + " ("crop+flip": "crop + flip")."""
    names = {"none": _("none"), "crop": _("crop"), "flip": _("flip"), "rotate": _("rotate"), "noise": _("noise"),
             "elastic": _("elastic"), "channel_contrast": _("channel_contrast"), "color_jitter": _("color_jitter"),
             "cutout": _("cutout"), "trivial_augment": _("trivial_augment")}
    return " + ".join(names.get(part, part) for part in variant.split("+"))


def facts_budgets(cfgs: dict[str, dict]) -> dict[str, str]:
    """The sizes the text quotes, from the active profile's configurations (as given by :func:`configs`)."""
    shots, episodes, pseudo = cfgs["fewshot_shots"], cfgs["fewshot_episodes"], cfgs["fewshot_pseudo"]
    return {"fs_test": _test_images(shots["test_per_class"]), "fs_seeds": f"{len(shots['seeds'])}",
            "fs_test_other": _test_images(pseudo["test_per_class"]), "fs_seeds_other": f"{len(pseudo['seeds'])}",
            "fs_head_times": number(shots["head_lr_multiplier"], "g"),
            "fs_views": f"{episodes['views']}", "fs_queries": f"{episodes['queries']}",
            "fs_per_class": _count(episodes["per_class"]), "fs_episodes": number(episodes["episodes"], ","),
            "fs_unlabelled": number(pseudo["unlabelled_per_class"], ","),
            "fs_ablation_shots": f"{cfgs['fewshot_ablation']['shots']}"}


def facts_full(cfgs: dict[str, dict]) -> dict[str, str]:
    """What the ``full`` profile sets, from its configurations (``configs("full")``)."""
    return {"fs_full_epochs": f"{cfgs['fewshot_backbone']['epochs']}",
            "fs_full_steps": number(cfgs["fewshot_shots"]["steps"], ","),
            "fs_full_seeds": f"{len(cfgs['fewshot_shots']['seeds'])}",
            "fs_full_episodes": number(cfgs["fewshot_episodes"]["episodes"], ","),
            "fs_full_views": f"{cfgs['fewshot_episodes']['views']}",
            "fs_full_pool": number(cfgs["fewshot_pseudo"]["unlabelled_per_class"], ",")}


def facts_provenance(result: dict) -> dict[str, str]:
    """Which run a result is, glued as ``<experiment>_provenance``."""
    return {f"{result['experiment']}_provenance": store.provenance_line(result)}


def facts_backbone(result: dict) -> dict[str, str]:
    """The backbone's run and how many base-class images it was trained on."""
    return facts_provenance(result) | {"fs_backbone_images": number(result["provenance"]["data"]["train"]["images"], ",")}


def facts_shots(result: dict) -> dict[str, str]:
    """Experiment 1: the four accuracies at five shots (or the fewest measured), what augmentation
    changes from scratch (means and 95 % intervals of the differences paired by seed, at the K where
    the change is smallest and largest), and how many images from scratch match the backbone's fewest."""
    rows = result["metrics"]["rows"]
    acc = {(s["shots"], s["init"], s["augmentation"]): 100 * s["accuracy"]
           for s in stats.summarise(rows, ("shots", "init", "augmentation"))}
    ks = sorted({k for k, _, _ in acc})
    k5 = 5 if 5 in ks else ks[0]
    gain = {k: _against(rows, dict(shots=k, init="scratch", augmentation="none"),
                        dict(shots=k, init="scratch", augmentation="augmented")) for k in ks}
    low, high = min(ks, key=lambda k: gain[k].mean_difference), max(ks, key=lambda k: gain[k].mean_difference)
    changes = (say("{d:+.1f} ± {h:.1f} points (at {k} images per class; the 95 % interval of the difference paired "
                   "by seed)", d=100 * gain[low].mean_difference, h=100 * gain[low].half_width, k=low)
               if low == high else
               say("{low_d:+.1f} ± {low_h:.1f} points (at {low} images per class) to {high_d:+.1f} ± {high_h:.1f} "
                   "points (at {high}; 95 % intervals of the differences paired by seed)",
                   low_d=100 * gain[low].mean_difference, low_h=100 * gain[low].half_width, low=low,
                   high_d=100 * gain[high].mean_difference, high_h=100 * gain[high].half_width, high=high))
    backbone_one = max(acc[(ks[0], "backbone", a)] for a in ("none", "augmented"))
    scratch = {k: max(acc[(k, "scratch", a)] for a in ("none", "augmented")) for k in ks}
    equal = [k for k in ks if scratch[k] >= backbone_one]
    worth = (say("from scratch, even {most} images per class (with or without augmentation) do not reach what the "
                 "backbone gives from {fewest} ({backbone_acc:.1f} %)", most=ks[-1], fewest=ks[0],
                 backbone_acc=backbone_one) if not equal else
             say("from scratch it takes {k} images per class (the better of with and without augmentation: "
                 "{scratch_acc:.1f} %) to reach what the backbone gives from {fewest} ({backbone_acc:.1f} %)",
                 k=equal[0], scratch_acc=scratch[equal[0]], fewest=ks[0], backbone_acc=backbone_one))
    return facts_provenance(result) | {
        "fewshot_k5": str(k5),
        "fewshot_k5_scratch": say("{acc:.1f} %", acc=acc[(k5, "scratch", "none")]),
        "fewshot_k5_scratch_aug": say("{acc:.1f} %", acc=acc[(k5, "scratch", "augmented")]),
        "fewshot_k5_backbone": say("{acc:.1f} %", acc=acc[(k5, "backbone", "none")]),
        "fewshot_k5_backbone_aug": say("{acc:.1f} %", acc=acc[(k5, "backbone", "augmented")]),
        "fewshot_aug_gain_range": changes, "fewshot_backbone_worth": worth}


def facts_premise(result: dict) -> dict[str, str]:
    """Experiment 1 read against the chapter's premise. For each start: augmentation's gain at every K (paired
    by seed: the four settings of a seed and K train on the same images), at how many K it is clear, and
    whether it is larger at the fewest shots than at the most (the runs at two K draw different images, so
    the two gains are compared as independent runs: Welch's interval). Then whether the backbone leaves
    augmentation less to add: the difference of augmentation's gains with the backbone and from scratch at
    each K, paired by seed (negative: the two priors overlap; positive: each makes the other worth more)."""
    rows = result["metrics"]["rows"]
    ks = sorted({r["shots"] for r in rows})

    def gain(k: int, init: str) -> dict[int, float]:  # in points, by seed
        aug = seed_values(rows, scale=100, shots=k, init=init, augmentation="augmented")
        none = seed_values(rows, scale=100, shots=k, init=init, augmentation="none")
        return {s: aug[s] - none[s] for s in aug.keys() & none.keys()}

    def by_k(compared: dict[int, stats.Comparison]) -> str:
        return _joined(say("{d:+.1f} ± {h:.1f} points at {k}", d=compared[k].mean_difference,
                           h=compared[k].half_width, k=k) for k in ks)

    def listed(some: list[int]) -> str:
        return ", ".join(map(str, some))

    out = {}
    for init in ("scratch", "backbone"):
        by = {k: stats.compare(gain(k, init), {s: 0.0 for s in gain(k, init)}) for k in ks}
        clear = [k for k in ks if by[k].verdict == "better"]
        hurt = [k for k in ks if by[k].verdict == "worse"]
        trend = stats.compare_unpaired(gain(ks[0], init), gain(ks[-1], init))
        out[f"fewshot_aug_{init}_by_k"] = by_k(by)
        words = dict(start=_start(init), clear=len(clear), shots=len(ks), clear_ks=listed(clear), hurt=len(hurt),
                     hurt_ks=listed(hurt), trend=_trend(trend, ks[0], ks[-1]))
        out[f"fewshot_aug_{init}_reading"] = (
            say("{start}, augmentation helps clearly at {clear} of {shots} numbers of shots (K = {clear_ks}) and hurts "
                "clearly at {hurt} (K = {hurt_ks}); {trend}", **words) if clear and hurt else
            say("{start}, augmentation helps clearly at {clear} of {shots} numbers of shots (K = {clear_ks}); {trend}",
                **words) if clear else
            say("{start}, augmentation helps clearly at {clear} of {shots} numbers of shots and hurts clearly at "
                "{hurt} (K = {hurt_ks}); {trend}", **words) if hurt else
            say("{start}, augmentation helps clearly at {clear} of {shots} numbers of shots; {trend}", **words))
    overlap = {k: stats.compare(gain(k, "backbone"), gain(k, "scratch")) for k in ks}
    less = [k for k in ks if overlap[k].verdict == "worse"]
    more = [k for k in ks if overlap[k].verdict == "better"]
    out["fewshot_overlap_by_k"] = by_k(overlap)
    words = dict(less=len(less), shots=len(ks), less_ks=listed(less), more=len(more), more_ks=listed(more))
    out["fewshot_overlap_reading"] = (
        _("the seeds cannot tell at any number of shots whether the backbone changes what augmentation adds, so this "
          "run does not say whether the two kinds of prior knowledge overlap") if not less and not more else
        say("the backbone leaves augmentation clearly less to add at {less} of {shots} numbers of shots "
            "(K = {less_ks}) and clearly more at {more} (K = {more_ks}): where it does, part of what augmentation "
            "teaches the backbone already knows", **words) if less and more else
        say("the backbone leaves augmentation clearly less to add at {less} of {shots} numbers of shots "
            "(K = {less_ks}): where it does, part of what augmentation teaches the backbone already knows",
            **words) if less else
        say("the backbone leaves augmentation clearly less to add at {less} of {shots} numbers of shots and clearly "
            "more at {more} (K = {more_ks}): where it does, part of what augmentation teaches the backbone already "
            "knows", **words))
    return out


def _trend(trend: stats.Comparison, fewest: int, most: int) -> str:
    """Whether augmentation adds more at the fewest shots than at the most (``trend``: its gain at ``fewest``
    against its gain at ``most``, in points), as the clause that ends a reading of the premise."""
    if trend.verdict == "better":
        return plural("it adds more at {n} image per class than at {most} ({size:.1f} ± {h:.1f} points more), "
                      "as the premise expects",
                      "it adds more at {n} images per class than at {most} ({size:.1f} ± {h:.1f} points more), "
                      "as the premise expects", fewest, most=most, size=abs(trend.mean_difference), h=trend.half_width)
    if trend.verdict == "worse":
        return plural("it adds less at {n} image per class than at {most} ({size:.1f} ± {h:.1f} points less): the "
                      "premise does not hold here",
                      "it adds less at {n} images per class than at {most} ({size:.1f} ± {h:.1f} points less): the "
                      "premise does not hold here", fewest, most=most, size=abs(trend.mean_difference),
                      h=trend.half_width)
    return say("the seeds cannot tell whether it adds more at {fewest} than at {most} images per class "
               "({d:+.1f} ± {h:.1f} points)", fewest=fewest, most=most, d=trend.mean_difference, h=trend.half_width)


def facts_episodes(result: dict) -> dict[str, str]:
    """Experiment 2: augmented support against plain support for each data set and K, paired episode by
    episode (the two score the same episodes: the same seed draws them), with the 95 % interval of the
    paired differences over the episodes."""
    rows = result["metrics"]["rows"]
    if any("episode_accuracy" not in r for r in rows):
        raise ValueError(f"{result['experiment']}'s rows lack the per-episode accuracies that pair the two supports: "
                         f"run `coursekit regenerate --experiment {result['experiment']} --force`")
    cells, compared = [], []
    for dataset, k in dict.fromkeys((r["dataset"], r["shots"]) for r in rows):
        by = {r["support"]: dict(enumerate(r["episode_accuracy"])) for r in rows
              if r["dataset"] == dataset and r["shots"] == k}
        c = stats.compare(by["augmented"], by["plain"])
        compared.append(c)
        cells.append(say("{dataset}, {k}-shot: {d:+.1f} ± {h:.1f} points", dataset=_dataset_words(dataset), k=k,
                         d=100 * c.mean_difference, h=100 * c.half_width))
    clear = [c for c in compared if c.separated]
    verdict = (_("no difference is clear of zero: augmenting the support neither helps nor hurts the prototypes "
                 "measurably") if not clear else
               say("{clear} of {differences} differences are clear of zero ({gains} gains, {losses} losses)",
                   clear=len(clear), differences=len(compared), gains=sum(c.verdict == "better" for c in clear),
                   losses=sum(c.verdict == "worse" for c in clear)))
    return {"fewshot_episodes_cells": _joined(cells), "fewshot_episodes_reading": verdict}


def _dataset_words(dataset: str) -> str:
    """The data set of experiment 2 as the text names it, in the current language."""
    return {"cifar10-novel": _("CIFAR-10's novel classes"), "caltech101": "Caltech-101"}.get(dataset, dataset)


def _against(rows: list[dict], baseline: dict, variant: dict) -> stats.Comparison:
    """The rows picked by ``variant`` against those picked by ``baseline``, paired by seed."""
    return stats.compare(seed_values(rows, **variant), seed_values(rows, **baseline))


def _effects(rows: list[dict], field: str, baseline, groups: dict[str, dict], name, head: str, sentence: str,
             none_clear: str) -> str:
    """Every other value of ``field`` against ``baseline`` in each group of rows (``groups``: where, in
    words -> the fields that pick its rows), paired by seed: the differences (each group's put into the
    template ``head`` at ``{where}`` and ``{differences}``; each value named by ``name(value)``) put into the
    template ``sentence`` at ``{parts}``, followed at ``{verdict}`` by which of them are clear of zero
    (``none_clear``: the sentence for none). The templates are already in the current language."""
    variants = [v for v in dict.fromkeys(r[field] for r in rows) if v != baseline]
    parts, effects = [], []
    for where, fields in groups.items():
        diffs = {name(v): _against(rows, {**fields, field: baseline}, {**fields, field: v}) for v in variants}
        parts.append(fill(head, where=where, differences=", ".join(
            say("{d:+.1f} ± {h:.1f} points with {variant}", d=100 * c.mean_difference, h=100 * c.half_width,
                variant=n) for n, c in diffs.items())))
        effects += [(n, where, c) for n, c in diffs.items()]
    clear = [(n, where, c) for n, where, c in effects if c.separated]
    if not clear:
        verdict = none_clear
    elif len(clear) == len(effects) and all(c.verdict == "better" for *_named, c in clear):
        # the same English for one difference and several; a language may say "the one difference"
        verdict = plural("All {n} differences are positive and clear of zero",
                         "All {n} differences are positive and clear of zero", len(effects))
    else:
        named = [say("{variant} at {where} (better)", variant=n, where=where) if c.verdict == "better" else
                 say("{variant} at {where} (worse)", variant=n, where=where) for n, where, c in clear]
        verdict = say("Clear of zero: {effects}", effects=_joined(named))
    return fill(sentence, parts=_joined(parts), verdict=verdict)


def _threshold_zero(rows: list[dict]) -> str:
    """What τ = 0 teaches: every pool image joins, labelled by the first model, so the share of right labels
    is that model's accuracy on the pool; and what it does to the test accuracy at each number of shots."""
    if not any(r["threshold"] == 0 for r in rows):
        return _("This run has no threshold of 0")
    parts, verdicts = [], set()
    for k in dict.fromkeys(r["shots"] for r in rows):
        zero = [r for r in rows if r["shots"] == k and r["threshold"] == 0]
        right = 100 * sum(r["pseudo_accuracy"] for r in zero) / len(zero)
        c = _against(rows, dict(shots=k, threshold=None), dict(shots=k, threshold=0))
        verdicts.add(c.verdict)
        parts.append(say("at {k} images per class, {joined:,.0f} images join with {right:.1f} % of their labels "
                         "right, and the test accuracy changes by {d:+.1f} ± {h:.1f} points", k=k,
                         joined=sum(r["pseudo_images"] for r in zero) / len(zero), right=right,
                         d=100 * c.mean_difference, h=100 * c.half_width))
    lessons = {frozenset({"better"}): _("so here the extra images, though a share of their labels is wrong, bring "
                                        "more than their wrong labels cost"),
               frozenset({"worse"}): _("so here the wrong labels cost more than the extra images bring"),
               frozenset({"cannot tell"}): _("and the seeds cannot tell what the extra images bring from what their "
                                             "wrong labels cost"),
               frozenset({"better", "cannot tell"}): _("so where the seeds tell, the extra images, though a share of "
                                                       "their labels is wrong, bring more than their wrong labels "
                                                       "cost"),
               frozenset({"worse", "cannot tell"}): _("so where the seeds tell, the wrong labels cost more than the "
                                                      "extra images bring")}
    lesson = lessons.get(frozenset(verdicts), _("so what the extra images bring against what their wrong labels cost "
                                                "depends on the number of shots"))
    return say("At τ = 0 nothing is filtered: every unlabelled image joins with the first model's guess, so the "
               "share of right labels is simply that model's accuracy on the pool, and the second model learns the "
               "first one's mistakes along with its right answers: {parts}; {lesson}", parts=_joined(parts),
               lesson=lesson)


def facts_pseudo(result: dict) -> dict[str, str]:
    """Experiment 3: each threshold against the labelled-only model of the same shots and seed, and what
    the threshold of 0 (no filtering) does."""
    rows = result["metrics"]["rows"]
    groups = {say("{k} images per class", k=k): dict(shots=k) for k in dict.fromkeys(r["shots"] for r in rows)}
    return {"fewshot_pseudo_zero": _threshold_zero(rows), "fewshot_pseudo_reading": _effects(
        rows, "threshold", None, groups, lambda t: f"τ = {number(t, '')}", _("at {where}, {differences}"),
        _("Against the labelled-only model of the same seed, pseudo-labels change the test accuracy {parts} (95 % "
          "intervals of the differences paired by seed). {verdict}"),
        _("No difference is clear of zero: with these seeds, pseudo-labelling cannot be told from the labelled "
          "images alone"))}


def facts_mixing(result: dict) -> dict[str, str]:
    """Experiment 4: mixup and CutMix against no mixing, for each number of shots and start."""
    rows = result["metrics"]["rows"]
    groups = {(say("{k} per class from the backbone", k=k) if init == "backbone" else
               say("{k} per class from scratch", k=k)): dict(shots=k, init=init)
              for k, init in dict.fromkeys((r["shots"], r["init"]) for r in rows)}
    return {"fewshot_mixing_reading": _effects(
        rows, "mixing", "none", groups, str, _("{where}: {differences}"),
        _("Against no mixing, in points with the 95 % interval of the difference paired by seed: {parts}. {verdict}"),
        _("No difference is clear of zero: with these seeds and this budget, mixing neither helps nor hurts "
          "measurably"))}


def facts_ablation(result: dict) -> dict[str, str]:
    """Experiment 5, for each start: no augmentation, the three best and the worst variant (means over
    seeds), which variants beat or trail no augmentation beyond the 95 % interval of their difference
    paired by seed (a clause, to follow "From scratch, "), and how many clearly beat it from each start."""
    rows, facts, counts, helped, widest = result["metrics"]["rows"], facts_provenance(result), [], {}, 0.0
    listed = lambda vs, d: ", ".join(say("{variant} ({d:+.1f} ± {h:.1f} points)", variant=variant_name(v),  # noqa: E731
                                         d=100 * d[v].mean_difference, h=100 * d[v].half_width) for v in vs)
    accuracy = lambda v, acc: say("{variant} ({acc:.1f} %)", variant=variant_name(v), acc=100 * acc[v])  # noqa: E731
    for init in dict.fromkeys(r["init"] for r in rows):
        acc = {s["variant"]: s["accuracy"] for s in stats.summarise([r for r in rows if r["init"] == init], ("variant",))}
        ranked = sorted((v for v in acc if v != "none"), key=lambda v: -acc[v])
        diff = {v: _against(rows, dict(init=init, variant="none"), dict(init=init, variant=v)) for v in ranked}
        helps = [v for v in ranked if diff[v].verdict == "better"]
        hurts = [v for v in ranked if diff[v].verdict == "worse"]
        clear = _joined([
            plural("{variants} beats no augmentation beyond the 95 % interval of the difference paired by seed",
                   "{variants} beat no augmentation beyond the 95 % interval of the difference paired by seed",
                   len(helps), variants=listed(helps, diff)) if helps else
            say("no variant beats no augmentation beyond the 95 % interval of the difference paired by seed (the "
                "closest: {variant}, {d:+.1f} ± {h:.1f} points)", variant=variant_name(ranked[0]),
                d=100 * diff[ranked[0]].mean_difference, h=100 * diff[ranked[0]].half_width),
            plural("{variants} is worse beyond that interval", "{variants} are worse beyond that interval",
                   len(hurts), variants=listed(hurts, diff)) if hurts else
            _("no variant is worse beyond that interval")])
        counts.append(say("{helped} of {variants} variants from scratch", helped=len(helps), variants=len(ranked))
                      if init == "scratch" else
                      say("{helped} of {variants} variants with the backbone", helped=len(helps), variants=len(ranked)))
        helped[init], widest = len(helps), max([widest, *(c.half_width for c in diff.values())])
        facts |= {f"fewshot_ablation_{init}_none": say("{acc:.1f} %", acc=100 * acc["none"]),
                  f"fewshot_ablation_{init}_best": ", ".join(accuracy(v, acc) for v in ranked[:3]),
                  f"fewshot_ablation_{init}_worst": accuracy(ranked[-1], acc),
                  f"fewshot_ablation_{init}_clear": clear}
    return facts | {"fewshot_ablation_contrast": say("Clear gains over no augmentation: {counts}", counts=", ".join(counts)),
                    "fewshot_ablation_start_reading": _start_reading(helped, widest, len({r["seed"] for r in rows}))}


def _start_reading(helped: dict[str, int], widest: float, seeds: int) -> str:
    """Whether the ablation shows augmentation adding more from scratch than with the backbone (the counts of
    variants that clearly help from each start), and, where it shows nothing, why."""
    scratch, backbone = helped.get("scratch", 0), helped.get("backbone", 0)
    return (_("more single augmentations clearly help from scratch than with the backbone, as that argument expects")
            if scratch > backbone else
            _("more single augmentations clearly help with the backbone than from scratch: the opposite of what that "
              "argument expects") if backbone > scratch else
            say("no single augmentation clearly helps from either start: with {seeds} seeds the 95 % intervals of the "
                "paired differences (up to ±{widest:.1f} points) are wider than the effects, so this run cannot "
                "show whether the start changes what augmentation adds", seeds=seeds, widest=100 * widest)
            if scratch == 0 else
            _("as many clearly help from either start: this run does not show the start changing what augmentation "
              "adds"))
