"""Chapter "vit", the readings of single results that its text glues (range tests, the rate check, the
stronger recipe, attention and position embeddings), each returning {glue name: text}; the readings that
need the chapter's sizes and recipes are in :mod:`coursekit.experiments.vit`."""
from __future__ import annotations

import torch

from .. import diagnostics, stats, store
from ..results import RunResult
from .cifar import chosen_lr


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
            end = f"the loss had grown fourfold by {last:.1e}, where the test stopped"
        else:
            end = f"the loss had not grown fourfold by {last:.0e}, the end of the range"
        ratio = max(used, rule) / min(used, rule)
        if f"{ratio:.1f}" == "1.0":
            verdict = f"The peak rate used below, {used:g}, is the rule's"
        else:
            verdict = (f"The peak rate used below, {used:g}, is {ratio:.1f} times "
                       f"{'above' if used > rule else 'below'} the rule's")
        facts[f"vit_lr_{key}_reading"] = (f"the smoothed loss is lowest at {curve['minimum']:.1e}, so the rule gives "
                                          f"{rule:g}; {end}. {verdict}")
    minima = [c["minimum"] for c in result["metrics"].values()]
    rates = [c["chosen_lr"] for c in result["metrics"].values()]
    facts["vit_lr_ratio"] = f"{max(minima) / min(minima):,.0f}"
    facts["vit_lr_used_ratio"] = f"{max(rates) / min(rates):,.0f}"
    facts["vit_lr_provenance"] = store.provenance_line(result)
    return facts


def facts_rate_check(rule: dict, usual: dict) -> dict[str, str]:
    """The short check of the range-test rule's rate for the ViT against the conventional one: test
    accuracy and final training loss of each over the seeds, and the paired difference of accuracy."""
    def loss(result: dict) -> str:
        return "{:.2f}".format(stats.mean_interval(list(RunResult.from_dict(result).final("train_loss").values()))[0])

    compared = _paired(usual, rule)
    reading = stats.word(compared, better="at the rule's rate the ViT learns less: the conventional rate is ahead by "
                                          "{d:.1f} ± {h:.1f} points, so the chapter trains with it",
                         worse="the rule's rate is ahead by {size:.1f} ± {h:.1f} points, yet the chapter trains with the "
                               "conventional one",
                         cannot_tell="the seeds cannot tell the two rates apart ({d:+.1f} ± {h:.1f} points), so the "
                                     "chapter keeps the conventional one")
    return {"vit_rate_rule": f"{rule['config']['lr']:g}", "vit_rate_usual": f"{usual['config']['lr']:g}",
            "vit_rate_rule_acc": _accuracy(rule), "vit_rate_usual_acc": _accuracy(usual),
            "vit_rate_rule_loss": loss(rule), "vit_rate_usual_loss": loss(usual), "vit_rate_reading": reading,
            "vit_rate_steps": f"{rule['config']['epochs'] * -(-rule['provenance']['data']['train']['images'] // rule['config']['batch_size']):,}"}


def _accuracy(result: dict) -> str:
    """Mean test accuracy over seeds with its 95 % half-width: "61.2 ± 1.3 %"."""
    return "{:.1f} ± {:.1f} %".format(*RunResult.from_dict(result).interval())


def _paired(a: dict, b: dict) -> stats.Comparison:
    """Test accuracy of ``a`` against ``b``, paired over their seeds, in points."""
    return stats.compare(*(RunResult.from_dict(r).metric("accuracy", 100) for r in (a, b)))


FIT_WORDS = {
    "under-fits": "it under-fits: it has not yet learnt its own training images, so what it lacks is training "
                  "(steps, or capacity), not regularisation, and a recipe that makes every image harder to fit "
                  "can only help once it has that",
    "over-fits": "it over-fits: it has learnt its training images far better than it generalises to new ones, "
                 "which is what augmentation and regularisation address",
    "fits": "it fits its training images and generalises nearly as well to new ones",
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
                             better="narrower by {d:.1f} ± {h:.1f} points, paired by seed",
                             worse="wider by {size:.1f} ± {h:.1f} points, paired by seed",
                             cannot_tell="the seeds cannot tell whether it changes: {d:+.1f} ± {h:.1f} points")
    reading = stats.word(gain, better="The stronger recipe adds {d:.1f} ± {h:.1f} points",
                         worse="The stronger recipe costs {size:.1f} ± {h:.1f} points: at this budget, harder "
                               "images are not paid back by less over-fitting",
                         cannot_tell="The seeds cannot tell the two recipes apart ({d:+.1f} ± {h:.1f} points)")
    return {"vit_strong_gain": f"{d:+.1f} ± {h:.1f} points", "vit_strong_reading": reading,
            "vit_strong_acc": _accuracy(strong), "vit_plain_acc": _accuracy(plain),
            "vit_plain_overfit": f"{train:.1f} % on its training images against {test:.1f} % on the test images",
            "vit_strong_overfit": f"{strong_train:.1f} % against {strong_test:.1f} %",
            "vit_strong_gap": f"{train - test:.1f} to {strong_train - strong_test:.1f} points",
            "vit_strong_gap_reading": gap_reading,
            "vit_strong_fit": FIT_WORDS[diagnostics.fit_verdict(strong_train, strong_test)],
            "vit_plain_fit": FIT_WORDS[diagnostics.fit_verdict(train, test)],
            "vit_fit_rule": f"{diagnostics.FITS:.0f} %", "vit_overfit_rule": f"{diagnostics.OVERFIT_GAP:.0f} points",
            "vit_strong_provenance": store.provenance_line(strong)}


def uniform_attention_distance(side: int, image_size: int = 32) -> float:
    """The mean attention distance, in pixels, of a head that attends to all ``side`` x ``side`` patches equally."""
    grid = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij"), -1).view(-1, 2).float()
    return float(torch.cdist(grid, grid).mean()) * image_size / side


LOCAL = 0.75  # a head is local when its mean attention distance is below 3/4 of uniform attention's
LOCAL_RULE = (f"A head attends locally when its mean attention distance is below {LOCAL:.0%} of the distance a "
              "head would have if it attended to every patch equally (uniform attention).")


def facts_attention(result: dict) -> dict[str, str]:
    """The range of the heads' mean attention distances in the first and the last block of a trained ViT,
    beside that of uniform attention, and how many heads of the first block attend locally."""
    distances = result["attention"]["mean_distance"]
    uniform = uniform_attention_distance(result["attention"]["grid"])
    local = sum(d < LOCAL * uniform for d in distances[0])
    heads = len(distances[0])
    reading = (f"{local} of the {heads} heads of the first block attend locally (a mean distance below "
               f"{LOCAL * uniform:.1f} pixels, three quarters of uniform attention's): the network has learned to look "
               "near each patch first, as a convolution does by construction" if local else
               f"no head of the first block attends locally (none has a mean distance below {LOCAL * uniform:.1f} "
               "pixels, three quarters of uniform attention's): this ViT has not learned locality")
    return {"vit_distance_uniform": f"{uniform:.1f}",
            "vit_distance_first": f"{min(distances[0]):.1f} to {max(distances[0]):.1f}",
            "vit_distance_last": f"{min(distances[-1]):.1f} to {max(distances[-1]):.1f}",
            "vit_attention_reading": reading,
            "vit_best_acc": _accuracy(result),
            "vit_best_provenance": store.provenance_line(result)}


GRID_LEARNED = 4.0  # the grid is learned when a position's nearest embedding is a neighbour 4 times as often as chance
GRID_NONE = 2.0     # ... and there is no sign of it below twice chance
GRID_RULE = ("The position embeddings have learned the grid when, for each position, the most similar other "
             f"embedding is one of its four neighbours at least {GRID_LEARNED:g} times as often as chance would make "
             "it, and neighbours are more similar on average than the rest; they show no sign of it at "
             f"{GRID_NONE:g} times chance or less, and learned part of it in between.")


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
    reading = ("the embeddings have learned the grid: nothing told the network where a patch lies, yet "
               "neighbouring patches ended with similar embeddings" if ratio >= GRID_LEARNED and
               sum(near) / len(near) > sum(far) / len(far) else
               "the embeddings show no sign of the grid: a position's nearest embedding is a neighbour hardly more "
               "often than chance would make it" if ratio <= GRID_NONE else
               "the embeddings have learned part of the grid: neighbours are nearest more often than chance, but "
               "far from always")
    return {"vit_pos_nearest": f"{nearest} of {n}", "vit_pos_chance": f"{100 * chance:.0f} %",
            "vit_pos_similarity": f"{sum(near) / len(near):.2f} against {sum(far) / len(far):.2f}",
            "vit_pos_rule": f"{GRID_LEARNED:g} times", "vit_pos_reading": reading}
