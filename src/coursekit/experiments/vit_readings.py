"""Chapter "vit", the readings of single results that its text glues (range tests, the rate check, the
stronger recipe, whether runs fit their images, attention and position embeddings), each returning {glue
name: text}; the readings that need the chapter's sizes and recipes are in :mod:`coursekit.experiments.vit`.
Every word is written in the current language (:mod:`coursekit.i18n`); the rules shown beside the verdicts
(``LOCAL_RULE``, ``GRID_RULE``) and ``FIT_WORDS`` are worded when they are read, not when the module is
imported."""
from __future__ import annotations

import torch

from .. import diagnostics, stats, store
from ..i18n import _, fill, number, plural, say
from ..results import RunResult
from .cifar import chosen_lr


def listed(items: list[str]) -> str:
    """Items in a sentence: "a", "a and b", "a, b and c"."""
    if len(items) < 2:
        return "".join(items)
    return say("{items} and {last}", items=", ".join(items[:-1]), last=items[-1])


def series(values: list[str]) -> str:
    """Numbers one after the other, "1.0 ± 0.2, 3.0 ± 0.1" (in French separated by semicolons: the comma
    is their decimal mark)."""
    text = values[0]
    for value in values[1:]:
        text = say("{numbers}, {number}", numbers=text, number=value)
    return text


def clauses(parts: list[str]) -> str:
    """Clauses of a sentence separated by semicolons: "a; b; c"."""
    text = parts[0]
    for part in parts[1:]:
        text = say("{clauses}; {clause}", clauses=text, clause=part)
    return text


def number_word(n: int) -> str:
    """A small number in words ("four"), in the current language; the figures themselves for others."""
    words = {2: _("two"), 3: _("three"), 4: _("four"), 5: _("five"), 6: _("six"), 8: _("eight"), 12: _("twelve")}
    return words.get(n, str(n))


def _fit_facts(views: dict[str, list[RunResult]], sizes: tuple[int, ...]) -> dict[str, str]:
    """Each run's final training accuracy beside its test accuracy (means over seeds), each network's
    verdicts by size (:func:`coursekit.diagnostics.fit_verdict`), and what an under-fitting run means for
    the comparison."""
    pairs = {label: [(stats.mean_interval(list(r.final("train_accuracy", 100).values()))[0], r.interval()[0])
                     for r in runs] for label, runs in views.items()}
    verdicts = {label: [diagnostics.fit_verdict(*p) for p in ps] for label, ps in pairs.items()}
    at = {"over-fits": _("over-fits at {sizes}"), "under-fits": _("under-fits at {sizes}"),
          "fits": _("fits at {sizes}")}

    def by_verdict(found: list[str]) -> str:  # "over-fits at 1,000 and 3,000 images, under-fits at 10,000"
        groups = {v: [number(n, ",") for n, w in zip(sizes, found) if w == v] for v in dict.fromkeys(found)}
        parts = [fill(at[v], sizes=listed(ns)) for v, ns in groups.items()]
        return say("{verdicts} images", verdicts=parts[0]) if len(parts) == 1 else ", ".join(parts)

    verdicts_read = clauses([say("the {network} {verdicts}", network=label, verdicts=by_verdict(found))
                             for label, found in verdicts.items()])
    if any("under-fits" in found for found in verdicts.values()):
        consequence = _("a run that under-fits is still learning its own images in these steps, so where one does, "
                        "the comparison is of how far each network gets in its steps more than of what it can learn "
                        "from the data")
    else:
        consequence = _("every run fits its training images, so the comparison is of what each network makes of its "
                        "data")

    def shown(ps: list[tuple[float, float]]) -> str:  # "90.0 / 70.0 %, 92.0 / 75.0 %"
        text = say("{train:.1f} / {test:.1f} %", train=ps[0][0], test=ps[0][1])
        for tr, te in ps[1:]:
            text = say("{pairs}, {train:.1f} / {test:.1f} %", pairs=text, train=tr, test=te)
        return text

    trained = [say("{network}: {pairs}", network=label, pairs=shown(ps)) for label, ps in pairs.items()]
    return {"vit_eff_train": clauses(trained),
            "vit_eff_fit_reading": say("{verdicts}: {consequence}",
                                       verdicts=verdicts_read[0].upper() + verdicts_read[1:], consequence=consequence)}


def facts_lr_find(result: dict) -> dict[str, str]:
    """The range tests read by the book's one rule (:func:`coursekit.experiments.cifar.chosen_lr`: the
    lowest point of the smoothed loss, to one significant figure): the rate it gives each network,
    whether the test stopped because the loss exploded or ran to the end of its range, how the peak
    rate used compares with the rule's, and how many times apart the two minima and the two rates used are."""
    facts = {}
    for name, curve in result["metrics"].items():
        key = "resnet" if name.startswith("ResNet") else "vit"
        used, rule, last = curve["chosen_lr"], chosen_lr(curve), curve["lrs"][-1]
        if len(curve["lrs"]) < result["config"]["steps"]:
            end = say("the loss had grown fourfold by {last:.1e}, where the test stopped", last=last)
        else:
            end = say("the loss had not grown fourfold by {last:.0e}, the end of the range", last=last)
        ratio = max(used, rule) / min(used, rule)
        if f"{ratio:.1f}" == "1.0":
            verdict = say("The peak rate used below, {used:g}, is the rule's", used=used)
        elif used > rule:
            verdict = say("The peak rate used below, {used:g}, is {ratio:.1f} times above the rule's",
                          used=used, ratio=ratio)
        else:
            verdict = say("The peak rate used below, {used:g}, is {ratio:.1f} times below the rule's",
                          used=used, ratio=ratio)
        facts[f"vit_lr_{key}_reading"] = say("the smoothed loss is lowest at {minimum:.1e}, so the rule gives "
                                             "{rule:g}; {end}. {verdict}", minimum=curve["minimum"], rule=rule,
                                             end=end, verdict=verdict)
    minima = [c["minimum"] for c in result["metrics"].values()]
    rates = [c["chosen_lr"] for c in result["metrics"].values()]
    facts["vit_lr_ratio"] = number(max(minima) / min(minima), ",.0f")
    facts["vit_lr_used_ratio"] = number(max(rates) / min(rates), ",.0f")
    facts["vit_lr_provenance"] = store.provenance_line(result)
    return facts


def facts_rate_check(rule: dict, usual: dict) -> dict[str, str]:
    """The short check of the range-test rule's rate for the ViT against the conventional one: test
    accuracy and final training loss of each over the seeds, and the paired difference of accuracy."""
    def loss(result: dict) -> str:
        return number(stats.mean_interval(list(RunResult.from_dict(result).final("train_loss").values()))[0], ".2f")

    compared = _paired(usual, rule)
    reading = stats.word(compared, better=_("at the rule's rate the ViT learns less: the conventional rate is ahead by "
                                            "{d:.1f} ± {h:.1f} points, so the chapter trains with it"),
                         worse=_("the rule's rate is ahead by {size:.1f} ± {h:.1f} points, yet the chapter trains "
                                 "with the conventional one"),
                         cannot_tell=_("the seeds cannot tell the two rates apart ({d:+.1f} ± {h:.1f} points), so the "
                                       "chapter keeps the conventional one"))
    batches = -(-rule["provenance"]["data"]["train"]["images"] // rule["config"]["batch_size"])
    return {"vit_rate_rule": number(rule["config"]["lr"], "g"), "vit_rate_usual": number(usual["config"]["lr"], "g"),
            "vit_rate_rule_acc": _accuracy(rule), "vit_rate_usual_acc": _accuracy(usual),
            "vit_rate_rule_loss": loss(rule), "vit_rate_usual_loss": loss(usual), "vit_rate_reading": reading,
            "vit_rate_steps": number(rule["config"]["epochs"] * batches, ",")}


def _accuracy(result: dict) -> str:
    """Mean test accuracy over seeds with its 95 % half-width: "61.2 ± 1.3 %"."""
    mean, half = RunResult.from_dict(result).interval()
    return say("{mean:.1f} ± {half:.1f} %", mean=mean, half=half)


def _paired(a: dict, b: dict) -> stats.Comparison:
    """Test accuracy of ``a`` against ``b``, paired over their seeds, in points."""
    return stats.compare(*(RunResult.from_dict(r).metric("accuracy", 100) for r in (a, b)))


def fit_words() -> dict[str, str]:
    """What each verdict of :func:`coursekit.diagnostics.fit_verdict` means for a recipe, in the current language."""
    return {
        "under-fits": _("it under-fits: it has not yet learnt its own training images, so what it lacks is training "
                        "(steps, or capacity), not regularisation, and a recipe that makes every image harder to fit "
                        "can only help once it has that"),
        "over-fits": _("it over-fits: it has learnt its training images far better than it generalises to new ones, "
                       "which is what augmentation and regularisation address"),
        "fits": _("it fits its training images and generalises nearly as well to new ones"),
    }


def facts_strong_augmentation(plain: dict, strong: dict) -> dict[str, str]:
    """What TrivialAugment and label smoothing (at the plain run's steps) change
    in the ViT's accuracy (the paired difference over seeds), each recipe's final training accuracy beside its test accuracy (means
    over seeds), and whether the plain run under-fits or over-fits its training images
    (:func:`coursekit.diagnostics.fit_verdict`)."""
    gain = _paired(strong, plain)
    d, h = gain

    def fit(result: dict) -> tuple[float, float]:  # final training and test accuracy in %, means over seeds
        run = RunResult.from_dict(result)
        return 100 * stats.mean_interval(list(run.final("train_accuracy").values()))[0], run.interval()[0]

    (train, test), (strong_train, strong_test) = fit(plain), fit(strong)

    def gaps(result: dict) -> dict[int, float]:  # training minus test accuracy by seed, in points
        run = RunResult.from_dict(result)
        trained, tested = run.final("train_accuracy", 100), run.metric("accuracy", 100)
        return {s: trained[s] - tested[s] for s in trained}

    gap_reading = stats.word(stats.compare(gaps(plain), gaps(strong)),
                             better=_("narrower by {d:.1f} ± {h:.1f} points, paired by seed"),
                             worse=_("wider by {size:.1f} ± {h:.1f} points, paired by seed"),
                             cannot_tell=_("the seeds cannot tell whether it changes: {d:+.1f} ± {h:.1f} points"))
    reading = stats.word(gain, better=_("The stronger recipe adds {d:.1f} ± {h:.1f} points"),
                         worse=_("The stronger recipe costs {size:.1f} ± {h:.1f} points: at this budget, harder "
                                 "images are not paid back by less over-fitting"),
                         cannot_tell=_("The seeds cannot tell the two recipes apart ({d:+.1f} ± {h:.1f} points)"))
    fits = fit_words()
    return {"vit_strong_gain": say("{d:+.1f} ± {h:.1f} points", d=d, h=h), "vit_strong_reading": reading,
            "vit_strong_acc": _accuracy(strong), "vit_plain_acc": _accuracy(plain),
            "vit_plain_overfit": say("{train:.1f} % on its training images against {test:.1f} % on the test images",
                                     train=train, test=test),
            "vit_strong_overfit": say("{train:.1f} % against {test:.1f} %", train=strong_train, test=strong_test),
            "vit_strong_gap": say("{plain:.1f} to {strong:.1f} points", plain=train - test,
                                  strong=strong_train - strong_test),
            "vit_strong_gap_reading": gap_reading,
            "vit_strong_fit": fits[diagnostics.fit_verdict(strong_train, strong_test)],
            "vit_plain_fit": fits[diagnostics.fit_verdict(train, test)],
            "vit_fit_rule": say("{percent:.0f} %", percent=diagnostics.FITS),
            "vit_overfit_rule": say("{points:.0f} points", points=diagnostics.OVERFIT_GAP),
            "vit_strong_provenance": store.provenance_line(strong)}


def uniform_attention_distance(side: int, image_size: int = 32) -> float:
    """The mean attention distance, in pixels, of a head that attends to all ``side`` x ``side`` patches equally."""
    grid = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij"), -1).view(-1, 2).float()
    return float(torch.cdist(grid, grid).mean()) * image_size / side


LOCAL = 0.75  # a head is local when its mean attention distance is below 3/4 of uniform attention's


def local_rule() -> str:
    """When a head attends locally (``LOCAL_RULE``), in the current language."""
    return say("A head attends locally when its mean attention distance is below {percent:.0f}% of the distance a "
               "head would have if it attended to every patch equally (uniform attention).", percent=100 * LOCAL)


def facts_attention(result: dict) -> dict[str, str]:
    """The range of the heads' mean attention distances in the first and the last block of a trained ViT,
    beside that of uniform attention, and how many heads of the first block attend locally."""
    distances = result["attention"]["mean_distance"]
    uniform = uniform_attention_distance(result["attention"]["grid"])
    local = sum(d < LOCAL * uniform for d in distances[0])
    heads = len(distances[0])
    if local:  # the English says "attend" for one head as for several; a translation may not
        reading = plural("{n} of the {heads} heads of the first block attend locally (a mean distance below "
                         "{limit:.1f} pixels, three quarters of uniform attention's): the network has learned to look "
                         "near each patch first, as a convolution does by construction",
                         "{n} of the {heads} heads of the first block attend locally (a mean distance below "
                         "{limit:.1f} pixels, three quarters of uniform attention's): the network has learned to look "
                         "near each patch first, as a convolution does by construction",
                         local, heads=heads, limit=LOCAL * uniform)
    else:
        reading = say("no head of the first block attends locally (none has a mean distance below {limit:.1f} "
                      "pixels, three quarters of uniform attention's): this ViT has not learned locality",
                      limit=LOCAL * uniform)
    return {"vit_distance_uniform": number(uniform, ".1f"),
            "vit_distance_first": say("{low:.1f} to {high:.1f}", low=min(distances[0]), high=max(distances[0])),
            "vit_distance_last": say("{low:.1f} to {high:.1f}", low=min(distances[-1]), high=max(distances[-1])),
            "vit_attention_reading": reading,
            "vit_best_acc": _accuracy(result),
            "vit_best_provenance": store.provenance_line(result)}


GRID_LEARNED = 4.0  # the grid is learned when a position's nearest embedding is a neighbour 4 times as often as chance
GRID_NONE = 2.0     # ... and there is no sign of it below twice chance


def grid_rule() -> str:
    """When the position embeddings have learned the grid (``GRID_RULE``), in the current language."""
    return say("The position embeddings have learned the grid when, for each position, the most similar other "
               "embedding is one of its four neighbours at least {learned:g} times as often as chance would make "
               "it, and neighbours are more similar on average than the rest; they show no sign of it at "
               "{none:g} times chance or less, and learned part of it in between.",
               learned=GRID_LEARNED, none=GRID_NONE)


def facts_positions(result: dict) -> dict[str, str]:
    """Whether a trained ViT's position embeddings learned the patch grid: for how many positions the most
    similar other embedding (cosine) is one of its neighbours in the grid (up, down, left, right), against
    the share that chance would give, and the mean similarity of neighbours against that of the rest."""
    side, sim = result["attention"]["grid"], result["attention"]["position_similarity"]
    n, nearest, near, far, chance = side * side, 0, [], [], 0.0
    for i in range(n):
        y, x = divmod(i, side)
        neighbours = {(y + dy) * side + x + dx for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))
                      if 0 <= y + dy < side and 0 <= x + dx < side}
        others = [j for j in range(n) if j != i]
        nearest += max(others, key=lambda j: sim[i][j]) in neighbours
        chance += len(neighbours) / len(others) / n
        near += [sim[i][j] for j in neighbours]
        far += [sim[i][j] for j in others if j not in neighbours]
    ratio = nearest / n / chance
    reading = (_("the embeddings have learned the grid: nothing told the network where a patch lies, yet "
                 "neighbouring patches ended with similar embeddings") if ratio >= GRID_LEARNED and
               sum(near) / len(near) > sum(far) / len(far) else
               _("the embeddings show no sign of the grid: a position's nearest embedding is a neighbour hardly more "
                 "often than chance would make it") if ratio <= GRID_NONE else
               _("the embeddings have learned part of the grid: neighbours are nearest more often than chance, but "
                 "far from always"))
    return {"vit_pos_nearest": say("{nearest} of {positions}", nearest=nearest, positions=n),
            "vit_pos_chance": say("{percent:.0f} %", percent=100 * chance),
            "vit_pos_similarity": say("{near:.2f} against {far:.2f}", near=sum(near) / len(near),
                                      far=sum(far) / len(far)),
            "vit_pos_rule": say("{factor:g} times", factor=GRID_LEARNED), "vit_pos_reading": reading}


# The module's words that are read as constants, worded when read (PEP 562), in the current language.
WORDED = {"LOCAL_RULE": local_rule, "GRID_RULE": grid_rule, "FIT_WORDS": fit_words}


def __getattr__(name: str):
    if name in WORDED:
        return WORDED[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
