"""Markdown tables drawn from stored results and from experiments' settings: the book displays
them with ``display(Markdown(...))``, so every cell comes from a result file."""
from __future__ import annotations

import json

from . import experiments, profiles, stats, store
from .i18n import _, _p, say
from .results import RunResult


def markdown_table(headers: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def settings_table(name: str) -> str:
    """A Markdown table of the settings of experiment ``name`` that differ between profiles."""
    configs = {p: experiments.config(name, p) for p in profiles.PROFILES}
    keys = [k for k in configs["full"] if len({json.dumps(c.get(k)) for c in configs.values()}) > 1]

    def cell(value) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k}={v}" for k, v in value.items()) or _("defaults")
        return _p("a setting", "all") if value is None else str(value)

    return markdown_table([_("setting"), *profiles.PROFILES],
                          [[k, *(cell(configs[p].get(k)) for p in profiles.PROFILES)] for k in keys])


def results_table(results: list[dict]) -> str:
    """A Markdown table comparing trained networks: size, cost and accuracy, from stored results.

    Peak memory is shown only when every run measured its own on a GPU (what CUDA allocated while it
    trained); on a CPU the only figure is the process's high-water mark, which belongs to whatever the
    process did before, so it is left out."""
    gpu = all(r["cost"].get("peak_memory_kind", "").startswith("CUDA") for r in results)
    rows = []
    for r in results:
        c, m = r["cost"], r["metrics"]
        rows.append([_(r["title"]), say("{n:.2f} M", n=c["parameters"] / 1e6), say("{n:,.0f} M", n=c["macs"] / 1e6),
                     say("{acc:.1f} %", acc=100 * m["accuracy"]), say("{f1:.3f}", f1=m["macro_f1"]),
                     say("{loss:.3f}", loss=m["loss"]), say("{minutes:.1f} min", minutes=c["train_seconds"] / 60),
                     say("{n:,.0f}", n=c["images_per_second"]),
                     *([say("{mb:,.0f} MB", mb=c["peak_memory_mb"])] if gpu else [])])
    return markdown_table([_("network"), _("parameters"), _("MACs / image"), _("test accuracy"), _("macro-F1"),
                           _("test loss"), _("training time"), _("images/s (training)"),
                           *([_("peak GPU memory")] if gpu else [])], rows)


def seeds_table(results: list[dict], labels: dict[str, str] | None = None) -> str:
    """A Markdown table comparing networks trained over seeds: size, epochs, training compute (three
    multiply-accumulates per forward one, for every image seen), test accuracy as the mean with its 95 %
    interval over seeds, training time per seed and the median epoch's speed. ``labels`` gives short row
    labels by experiment name (the titles are long)."""
    from .experiments.classic import training_compute

    rows = []
    for r in results:
        c, view = r["cost"], RunResult.from_dict(r)
        mean, half = view.interval()
        rows.append([_((labels or {}).get(r["experiment"], r["title"])), say("{n:.2f} M", n=c["parameters"] / 1e6),
                     say("{n:,.0f} M", n=c["macs"] / 1e6), len(r["history"]),
                     say("{n:,.0f} T", n=training_compute(r) / 1e12),
                     say("{mean:.1f} ± {half:.1f} %", mean=mean, half=half), len(view),
                     say("{minutes:.1f} min", minutes=view.mean_cost("train_seconds") / 60),
                     say("{n:,.0f}", n=view.training_speed())])
    return markdown_table([_("network"), _("parameters"), _("MACs / image"), _("epochs"), _("training MACs"),
                           _("test accuracy (95 %)"), _("seeds"), _("minutes / seed"), _("images/s")], rows)


def full_beside(names: list[str], profile: str | None = None) -> str:
    """Markdown for beside the results a chapter shows: the stored ``full`` (GPU) results of the same
    experiments, each with its headline and provenance, or one line saying that none is stored yet and
    how to make them. Under the ``full`` profile the chapter shows those already: nothing."""
    if profiles.current(profile) == "full":
        return ""
    stored = [r for r in (experiments.load(n, "full") for n in names) if r is not None]
    if not stored:
        return say("> **On a GPU (`full` profile):** no result of {names} is stored yet. "
                   "`coursekit regenerate --profile full --plan gpu` makes them on a GPU, and this note then shows them.",
                   names=", ".join(f"`{n}`" for n in names))
    missing = [n for n in names if n not in {r["experiment"] for r in stored}]
    lines = [_("**On a GPU (`full` profile)**, the same experiments at full size:"), ""]
    lines += [f"- `{r['experiment']}`: {store.headline(r)} ({store.provenance_line(r)})" for r in stored]
    if missing:
        lines.append(say("- not stored yet: {names}", names=", ".join(f"`{n}`" for n in missing)))
    return "\n".join(lines)


def after_resnet_table(rows: list[dict]) -> str:
    """A Markdown table of the networks after ResNet (:func:`coursekit.experiments.pretrained.after_resnet_table`)."""
    return markdown_table(
        [_("network (year)"), _("what it added"), _("parameters"), _("MACs / 224² image"),
         _("ImageNet top-1 (torchvision)")],
        [[f"{r['name']} ({r['year']})", _(r["idea"]), say("{n:.1f} M", n=r["params"] / 1e6),
          say("{n:.2f} G", n=r["macs"] / 1e9),
          say("{acc:.1f} %", acc=r["top1"]) if r["top1"] is not None else _("no torchvision weights")] for r in rows])


def transfer_table(result: dict) -> str:
    """A Markdown table: one row per (target, size), one column per method: mean ± 95 % interval over seeds."""
    from .transfer import TARGETS

    methods = result["config"]["methods"]
    rows_ = experiments.transfer.summary(result)
    summary = {(s["target"], s["size"], s["method"]): s for s in rows_}
    rows = []
    for t, size in dict.fromkeys((s["target"], s["size"]) for s in rows_):
        cells = []
        for m in methods:
            s = summary[(t, size, m)]
            cells.append(say("{acc:.1f} % ± {half:.1f}", acc=100 * s["accuracy"], half=100 * s["accuracy_ci95"])
                         if s["runs"] > 1 else say("{acc:.1f} %", acc=100 * s["accuracy"]))
        best = max(methods, key=lambda m: summary[(t, size, m)]["accuracy"])
        cells = [f"**{c}**" if m == best else c for c, m in zip(cells, methods)]
        classes = result["provenance"]["data"]["targets"][t]["classes"]
        rows.append([_(TARGETS[t].title), say("{size} ({images:,})", size=size if isinstance(size, int) else _(str(size)),
                                                images=summary[(t, size, methods[0])]["train_images"]),
                     str(classes), *cells])
    return markdown_table([_("target"), _("training images"), _("classes"), *map(_, methods)], rows)


def _cell(d: dict, value: str, percent: bool = True) -> str:
    scale = 100 if percent else 1
    ci = d.get(f"{value}_ci95", d.get("ci95")) if value == "accuracy" else None
    text = say("{value:.1f} %", value=scale * d[value]) if percent else say("{value:.1f}", value=scale * d[value])
    return text + (say(" ± {half:.1f}", half=scale * ci) if ci else "")


def pivot_table(rows: list[dict], index: tuple[str, ...], column: str, value: str = "accuracy",
                names: dict[str, str] | None = None) -> str:
    """A Markdown table of ``value`` (mean ± 95 % half-width where known): one row per ``index``
    combination, one column per value of ``column``; the best cell of each row in bold."""
    names = names or {}
    columns = list(dict.fromkeys(r[column] for r in rows))
    table = {}
    for r in rows:
        table.setdefault(tuple(r[k] for k in index), {})[r[column]] = r
    body = []
    for key, cells in table.items():
        best = max(cells, key=lambda c: cells[c][value])
        body.append([*map(str, key), *[("**" + _cell(cells[c], value) + "**" if c == best else _cell(cells[c], value))
                                       if c in cells else "" for c in columns]])
    return markdown_table([*(_(names.get(k, k)) for k in index), *(_(names.get(str(c), str(c))) for c in columns)], body)


def pseudo_label_table(result: dict) -> str:
    """A Markdown table of a pseudo-labelling result: test accuracy (± 95 %) per shots and threshold,
    with how many pool images were pseudo-labelled on average and how many of their labels were right."""
    rows = []
    for s in stats.summarise(result["metrics"]["rows"], ("shots", "threshold")):
        runs = [r for r in result["metrics"]["rows"] if (r["shots"], r["threshold"]) == (s["shots"], s["threshold"])]
        right = [r["pseudo_accuracy"] for r in runs if r["pseudo_accuracy"] is not None]
        rows.append([str(s["shots"]), _("labelled only") if s["threshold"] is None else say("τ = {t}", t=s["threshold"]),
                     _cell(s, "accuracy"), say("{n:,.0f}", n=sum(r["pseudo_images"] for r in runs) / len(runs)),
                     say("{acc:.1f} %", acc=100 * sum(right) / len(right)) if right else "-"])
    return markdown_table([_("images per class"), _("threshold"), _("test accuracy"), _("pseudo-labelled images (mean)"),
                           _("their labels right")], rows)


def step_costs_table(result: dict) -> str:
    """A Markdown table of measured training-step costs: precision, peak memory and images per second."""
    return markdown_table([_("setting"), _("precision"), _("peak memory"), _("images/s")],
                          [[_(r["name"]), r["precision"], say("{mb:,.0f} MB", mb=r["peak_memory_mb"]),
                            say("{n:,.0f}", n=r["images_per_second"])] for r in result["metrics"]["rows"]])
