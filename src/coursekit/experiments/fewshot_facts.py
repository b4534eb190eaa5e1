"""Chapter "fewshot", the readings its text glues: the budgets quoted, and what each experiment's stored
rows say (differences paired by seed, with the book's one interval: :func:`coursekit.stats.compare`)."""
from __future__ import annotations

from .. import stats, store
from ..results import seed_values
from .core import EXPERIMENTS, config


def configs(profile: str | None = None) -> dict[str, dict]:
    """The configurations of the chapter's experiments under ``profile`` (default: the active one)."""
    return {name: config(name, profile) for name, e in EXPERIMENTS.items() if e.chapter == "fewshot"}


def _count(n: int | None) -> str:
    return "all" if n is None else f"{n:,}"


def _points(compared: stats.Comparison) -> str:
    return f"{100 * compared.mean_difference:+.1f} ± {100 * compared.half_width:.1f} points"


def _test_images(per_class: int | None) -> str:
    return "all the novel classes' test images" if per_class is None else f"{per_class:,} test images per novel class"


def facts_budgets(cfgs: dict[str, dict]) -> dict[str, str]:
    """The sizes the text quotes, from the active profile's configurations (as given by :func:`configs`)."""
    shots, episodes, pseudo = cfgs["fewshot_shots"], cfgs["fewshot_episodes"], cfgs["fewshot_pseudo"]
    return {"fs_test": _test_images(shots["test_per_class"]), "fs_seeds": f"{len(shots['seeds'])}",
            "fs_test_other": _test_images(pseudo["test_per_class"]), "fs_seeds_other": f"{len(pseudo['seeds'])}",
            "fs_head_times": f"{shots['head_lr_multiplier']:g}",
            "fs_views": f"{episodes['views']}", "fs_queries": f"{episodes['queries']}",
            "fs_per_class": _count(episodes["per_class"]), "fs_episodes": f"{episodes['episodes']:,}",
            "fs_unlabelled": f"{pseudo['unlabelled_per_class']:,}", "fs_ablation_shots": f"{cfgs['fewshot_ablation']['shots']}"}


def facts_full(cfgs: dict[str, dict]) -> dict[str, str]:
    """What the ``full`` profile sets, from its configurations (``configs("full")``)."""
    return {"fs_full_epochs": f"{cfgs['fewshot_backbone']['epochs']}",
            "fs_full_steps": f"{cfgs['fewshot_shots']['steps']:,}",
            "fs_full_seeds": f"{len(cfgs['fewshot_shots']['seeds'])}",
            "fs_full_episodes": f"{cfgs['fewshot_episodes']['episodes']:,}",
            "fs_full_views": f"{cfgs['fewshot_episodes']['views']}",
            "fs_full_pool": f"{cfgs['fewshot_pseudo']['unlabelled_per_class']:,}"}


def facts_provenance(result: dict) -> dict[str, str]:
    """Which run a result is, glued as ``<experiment>_provenance``."""
    return {f"{result['experiment']}_provenance": store.provenance_line(result)}


def facts_backbone(result: dict) -> dict[str, str]:
    """The backbone's run and how many base-class images it was trained on."""
    return facts_provenance(result) | {"fs_backbone_images": f"{result['provenance']['data']['train']['images']:,}"}


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
    changes = (f"{_points(gain[low])} (at {low} images per class; the 95 % interval of the difference paired by seed)"
               if low == high else
               f"{_points(gain[low])} (at {low} images per class) to {_points(gain[high])} (at {high}; "
               f"95 % intervals of the differences paired by seed)")
    backbone_one = max(acc[(ks[0], "backbone", a)] for a in ("none", "augmented"))
    scratch = {k: max(acc[(k, "scratch", a)] for a in ("none", "augmented")) for k in ks}
    equal = [k for k in ks if scratch[k] >= backbone_one]
    worth = (f"from scratch, even {ks[-1]} images per class (with or without augmentation) do not reach what the "
             f"backbone gives from {ks[0]} ({backbone_one:.1f} %)" if not equal else
             f"from scratch it takes {equal[0]} images per class (the better of with and without augmentation: "
             f"{scratch[equal[0]]:.1f} %) to reach what the backbone gives from {ks[0]} ({backbone_one:.1f} %)")
    return facts_provenance(result) | {
        "fewshot_k5": str(k5),
        "fewshot_k5_scratch": f"{acc[(k5, 'scratch', 'none')]:.1f} %",
        "fewshot_k5_scratch_aug": f"{acc[(k5, 'scratch', 'augmented')]:.1f} %",
        "fewshot_k5_backbone": f"{acc[(k5, 'backbone', 'none')]:.1f} %",
        "fewshot_k5_backbone_aug": f"{acc[(k5, 'backbone', 'augmented')]:.1f} %",
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

    def points(c: stats.Comparison) -> str:
        return f"{c.mean_difference:+.1f} ± {c.half_width:.1f} points"

    out = {}
    for init in ("scratch", "backbone"):
        by_k = {k: stats.compare(gain(k, init), {s: 0.0 for s in gain(k, init)}) for k in ks}
        clear = [k for k in ks if by_k[k].verdict == "better"]
        hurt = [k for k in ks if by_k[k].verdict == "worse"]
        trend = stats.compare_unpaired(gain(ks[0], init), gain(ks[-1], init))
        out[f"fewshot_aug_{init}_by_k"] = "; ".join(f"{points(by_k[k])} at {k}" for k in ks)
        out[f"fewshot_aug_{init}_reading"] = (
            f"{START[init].capitalize()}, augmentation helps clearly at {len(clear)} of {len(ks)} numbers of shots"
            + (f" (K = {', '.join(map(str, clear))})" if clear else "")
            + (f" and hurts clearly at {len(hurt)} (K = {', '.join(map(str, hurt))})" if hurt else "") + "; "
            + stats.word(trend, better=f"it adds more at {ks[0]} image{'s' if ks[0] > 1 else ''} per class than at "
                                       f"{ks[-1]} ({{size:.1f}} ± {{h:.1f}} points more), as the premise expects",
                         worse=f"it adds less at {ks[0]} image{'s' if ks[0] > 1 else ''} per class than at {ks[-1]} "
                               "({size:.1f} ± {h:.1f} points less): the premise does not hold here",
                         cannot_tell=f"the seeds cannot tell whether it adds more at {ks[0]} than at {ks[-1]} "
                                     "images per class ({d:+.1f} ± {h:.1f} points)"))
    overlap = {k: stats.compare(gain(k, "backbone"), gain(k, "scratch")) for k in ks}
    less = [k for k in ks if overlap[k].verdict == "worse"]
    more = [k for k in ks if overlap[k].verdict == "better"]
    out["fewshot_overlap_by_k"] = "; ".join(f"{points(overlap[k])} at {k}" for k in ks)
    out["fewshot_overlap_reading"] = (
        "the seeds cannot tell at any number of shots whether the backbone changes what augmentation adds, so this "
        "run does not say whether the two kinds of prior knowledge overlap" if not less and not more else
        f"the backbone leaves augmentation clearly less to add at {len(less)} of {len(ks)} numbers of shots"
        + (f" (K = {', '.join(map(str, less))})" if less else "")
        + (f" and clearly more at {len(more)} (K = {', '.join(map(str, more))})" if more else "")
        + ": where it does, part of what augmentation teaches the backbone already knows")
    return out


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
        cells.append(f"{DATASET_WORDS.get(dataset, dataset)}, {k}-shot: {_points(c)}")
    clear = [c for c in compared if c.separated]
    verdict = ("no difference is clear of zero: augmenting the support neither helps nor hurts the prototypes "
               "measurably" if not clear else
               f"{len(clear)} of {len(compared)} differences are clear of zero "
               f"({sum(c.verdict == 'better' for c in clear)} gains, {sum(c.verdict == 'worse' for c in clear)} losses)")
    return {"fewshot_episodes_cells": "; ".join(cells), "fewshot_episodes_reading": verdict}


DATASET_WORDS = {"cifar10-novel": "CIFAR-10's novel classes", "caltech101": "Caltech-101"}


def _against(rows: list[dict], baseline: dict, variant: dict) -> stats.Comparison:
    """The rows picked by ``variant`` against those picked by ``baseline``, paired by seed."""
    return stats.compare(seed_values(rows, **variant), seed_values(rows, **baseline))


def _effects(rows: list[dict], field: str, baseline, groups: dict[str, dict], name, head: str, sentence: str,
             none_clear: str) -> str:
    """Every other value of ``field`` against ``baseline`` in each group of rows (``groups``: where, in
    words -> the fields that pick its rows), paired by seed: the differences (each group's introduced by
    ``head``, formatted with ``where``; each value named by ``name(value)``) put into ``sentence`` (at
    ``{parts}``), then which of them are clear of zero."""
    variants = [v for v in dict.fromkeys(r[field] for r in rows) if v != baseline]
    parts, effects = [], []
    for where, fields in groups.items():
        diffs = {name(v): _against(rows, {**fields, field: baseline}, {**fields, field: v}) for v in variants}
        parts.append(head.format(where=where) + ", ".join(f"{_points(c)} with {n}" for n, c in diffs.items()))
        effects += [(f"{n} at {where}", c) for n, c in diffs.items()]
    clear = [(n, c) for n, c in effects if c.separated]
    if not clear:
        verdict = f"No difference is clear of zero: {none_clear}"
    elif len(clear) == len(effects) and all(c.verdict == "better" for _, c in clear):
        verdict = f"All {len(effects)} differences are positive and clear of zero"
    else:
        verdict = "Clear of zero: " + "; ".join(f"{n} ({c.verdict})" for n, c in clear)
    return sentence.format(parts="; ".join(parts)) + verdict


def _threshold_zero(rows: list[dict]) -> str:
    """What τ = 0 teaches: every pool image joins, labelled by the first model, so the share of right labels
    is that model's accuracy on the pool; and what it does to the test accuracy at each number of shots."""
    if not any(r["threshold"] == 0 for r in rows):
        return "This run has no threshold of 0"
    parts, verdicts = [], set()
    for k in dict.fromkeys(r["shots"] for r in rows):
        zero = [r for r in rows if r["shots"] == k and r["threshold"] == 0]
        right = 100 * sum(r["pseudo_accuracy"] for r in zero) / len(zero)
        c = _against(rows, dict(shots=k, threshold=None), dict(shots=k, threshold=0))
        verdicts.add(c.verdict)
        parts.append(f"at {k} images per class, {sum(r['pseudo_images'] for r in zero) / len(zero):,.0f} images join "
                     f"with {right:.1f} % of their labels right, and the test accuracy changes by {_points(c)}")
    lesson = {frozenset({"better"}): "so here the extra images, though a share of their labels is wrong, bring more "
                                     "than their wrong labels cost",
              frozenset({"worse"}): "so here the wrong labels cost more than the extra images bring",
              frozenset({"cannot tell"}): "and the seeds cannot tell what the extra images bring from what their wrong "
                                          "labels cost",
              frozenset({"better", "cannot tell"}): "so where the seeds tell, the extra images, though a share of "
                                                    "their labels is wrong, bring more than their wrong labels cost",
              frozenset({"worse", "cannot tell"}): "so where the seeds tell, the wrong labels cost more than the "
                                                   "extra images bring"}.get(frozenset(verdicts),
                                                             "so what the extra images bring against what their wrong "
                                                             "labels cost depends on the number of shots")
    return ("At τ = 0 nothing is filtered: every unlabelled image joins with the first model's guess, so the "
            "share of right labels is simply that model's accuracy on the pool, and the second model learns the "
            "first one's mistakes along with its right answers: " + "; ".join(parts) + f"; {lesson}")


def facts_pseudo(result: dict) -> dict[str, str]:
    """Experiment 3: each threshold against the labelled-only model of the same shots and seed, and what
    the threshold of 0 (no filtering) does."""
    rows = result["metrics"]["rows"]
    return {"fewshot_pseudo_zero": _threshold_zero(rows), "fewshot_pseudo_reading": _effects(
        rows, "threshold", None, {f"{k} images per class": dict(shots=k) for k in dict.fromkeys(r["shots"] for r in rows)},
        lambda t: f"τ = {t}", "at {where}, ", "Against the labelled-only model of the same seed, pseudo-labels change "
        "the test accuracy {parts} (95 % intervals of the differences paired by seed). ",
        "with these seeds, pseudo-labelling cannot be told from the labelled images alone")}


def facts_mixing(result: dict) -> dict[str, str]:
    """Experiment 4: mixup and CutMix against no mixing, for each number of shots and start."""
    rows = result["metrics"]["rows"]
    groups = {f"{k} per class {'from the backbone' if init == 'backbone' else 'from scratch'}": dict(shots=k, init=init)
              for k, init in dict.fromkeys((r["shots"], r["init"]) for r in rows)}
    return {"fewshot_mixing_reading": _effects(
        rows, "mixing", "none", groups, str, "{where}: ", "Against no mixing, in points with the 95 % interval of "
        "the difference paired by seed: {parts}. ",
        "with these seeds and this budget, mixing neither helps nor hurts measurably")}


START = {"scratch": "from scratch", "backbone": "with the backbone"}


def facts_ablation(result: dict) -> dict[str, str]:
    """Experiment 5, for each start: no augmentation, the three best and the worst variant (means over
    seeds), which variants beat or trail no augmentation beyond the 95 % interval of their difference
    paired by seed (a clause, to follow "From scratch, "), and how many clearly beat it from each start."""
    rows, facts, counts, helped, widest = result["metrics"]["rows"], facts_provenance(result), [], {}, 0.0
    name = lambda v: v.replace("+", " + ")  # noqa: E731
    listed = lambda vs, d: ", ".join(f"{name(v)} ({_points(d[v])})" for v in vs)  # noqa: E731
    for init in dict.fromkeys(r["init"] for r in rows):
        acc = {s["variant"]: s["accuracy"] for s in stats.summarise([r for r in rows if r["init"] == init], ("variant",))}
        ranked = sorted((v for v in acc if v != "none"), key=lambda v: -acc[v])
        diff = {v: _against(rows, dict(init=init, variant="none"), dict(init=init, variant=v)) for v in ranked}
        helps = [v for v in ranked if diff[v].verdict == "better"]
        hurts = [v for v in ranked if diff[v].verdict == "worse"]
        beyond = "no augmentation beyond the 95 % interval of the difference paired by seed"
        clear = (f"{listed(helps, diff)} {'beats' if len(helps) == 1 else 'beat'} {beyond}" if helps else
                 f"no variant beats {beyond} (the closest: {name(ranked[0])}, {_points(diff[ranked[0]])})")
        clear += (f"; {listed(hurts, diff)} {'is' if len(hurts) == 1 else 'are'} worse beyond that interval"
                  if hurts else "; no variant is worse beyond that interval")
        counts.append(f"{len(helps)} of {len(ranked)} variants {START[init]}")
        helped[init], widest = len(helps), max([widest, *(c.half_width for c in diff.values())])
        facts |= {f"fewshot_ablation_{init}_none": f"{100 * acc['none']:.1f} %",
                  f"fewshot_ablation_{init}_best": ", ".join(f"{name(v)} ({100 * acc[v]:.1f} %)" for v in ranked[:3]),
                  f"fewshot_ablation_{init}_worst": f"{name(ranked[-1])} ({100 * acc[ranked[-1]]:.1f} %)",
                  f"fewshot_ablation_{init}_clear": clear}
    return facts | {"fewshot_ablation_contrast": "Clear gains over no augmentation: " + ", ".join(counts),
                    "fewshot_ablation_start_reading": _start_reading(helped, widest, len({r["seed"] for r in rows}))}


def _start_reading(helped: dict[str, int], widest: float, seeds: int) -> str:
    """Whether the ablation shows augmentation adding more from scratch than with the backbone (the counts of
    variants that clearly help from each start), and, where it shows nothing, why."""
    scratch, backbone = helped.get("scratch", 0), helped.get("backbone", 0)
    return ("more single augmentations clearly help from scratch than with the backbone, as that argument expects"
            if scratch > backbone else
            "more single augmentations clearly help with the backbone than from scratch: the opposite of what that "
            "argument expects" if backbone > scratch else
            f"no single augmentation clearly helps from either start: with {seeds} seeds the 95 % intervals of the "
            f"paired differences (up to ±{100 * widest:.1f} points) are wider than the effects, so this run cannot "
            "show whether the start changes what augmentation adds" if scratch == 0 else
            "as many clearly help from either start: this run does not show the start changing what augmentation adds")
