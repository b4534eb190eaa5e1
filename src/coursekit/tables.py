"""Markdown tables drawn from stored results and from experiments' settings: the book displays
them with ``display(Markdown(...))``, so every cell comes from a result file."""
from __future__ import annotations

import json

from . import experiments, profiles, stats, store
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
            return ", ".join(f"{k}={v}" for k, v in value.items()) or "defaults"
        return "all" if value is None else str(value)

    return markdown_table(["setting", *profiles.PROFILES],
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
        rows.append([r["title"], f"{c['parameters'] / 1e6:.2f} M", f"{c['macs'] / 1e6:,.0f} M",
                     f"{100 * m['accuracy']:.1f} %", f"{m['macro_f1']:.3f}", f"{m['loss']:.3f}",
                     f"{c['train_seconds'] / 60:.1f} min", f"{c['images_per_second']:,.0f}",
                     *([f"{c['peak_memory_mb']:,.0f} MB"] if gpu else [])])
    return markdown_table(["network", "parameters", "MACs / image", "test accuracy", "macro-F1", "test loss",
                           "training time", "images/s (training)", *(["peak GPU memory"] if gpu else [])], rows)


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
        rows.append([(labels or {}).get(r["experiment"], r["title"]), f"{c['parameters'] / 1e6:.2f} M",
                     f"{c['macs'] / 1e6:,.0f} M", len(r["history"]),
                     f"{training_compute(r) / 1e12:,.0f} T", f"{mean:.1f} ± {half:.1f} %", len(view),
                     f"{view.mean_cost('train_seconds') / 60:.1f} min", f"{view.training_speed():,.0f}"])
    return markdown_table(["network", "parameters", "MACs / image", "epochs", "training MACs", "test accuracy (95 %)",
                           "seeds", "minutes / seed", "images/s"], rows)


def full_beside(names: list[str], profile: str | None = None) -> str:
    """Markdown for beside the results a chapter shows: the stored ``full`` (GPU) results of the same
    experiments, each with its headline and provenance, or one line saying that none is stored yet and
    how to make them. Under the ``full`` profile the chapter shows those already: nothing."""
    if profiles.current(profile) == "full":
        return ""
    stored = [r for r in (experiments.load(n, "full") for n in names) if r is not None]
    if not stored:
        return (f"> **On a GPU (`full` profile):** no result of {', '.join(f'`{n}`' for n in names)} is stored yet. "
                "`coursekit regenerate --profile full --plan gpu` makes them on a GPU, and this note then shows them.")
    missing = [n for n in names if n not in {r["experiment"] for r in stored}]
    lines = ["**On a GPU (`full` profile)**, the same experiments at full size:", ""]
    lines += [f"- `{r['experiment']}`: {store.headline(r)} ({store.provenance_line(r)})" for r in stored]
    if missing:
        lines.append(f"- not stored yet: {', '.join(f'`{n}`' for n in missing)}")
    return "\n".join(lines)


def after_resnet_table(rows: list[dict]) -> str:
    """A Markdown table of the networks after ResNet (:func:`coursekit.experiments.pretrained.after_resnet_table`)."""
    return markdown_table(
        ["network (year)", "what it added", "parameters", "MACs / 224² image", "ImageNet top-1 (torchvision)"],
        [[f"{r['name']} ({r['year']})", r["idea"], f"{r['params'] / 1e6:.1f} M", f"{r['macs'] / 1e9:.2f} G",
          f"{r['top1']:.1f} %" if r["top1"] is not None else "no torchvision weights"] for r in rows])


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
            cells.append(f"{100 * s['accuracy']:.1f} %" + (f" ± {100 * s['accuracy_ci95']:.1f}" if s["runs"] > 1 else ""))
        best = max(methods, key=lambda m: summary[(t, size, m)]["accuracy"])
        cells = [f"**{c}**" if m == best else c for c, m in zip(cells, methods)]
        classes = result["provenance"]["data"]["targets"][t]["classes"]
        rows.append([TARGETS[t].title, f"{size} ({summary[(t, size, methods[0])]['train_images']:,})", str(classes), *cells])
    return markdown_table(["target", "training images", "classes", *methods], rows)


def _cell(d: dict, value: str, percent: bool = True) -> str:
    scale = 100 if percent else 1
    ci = d.get(f"{value}_ci95", d.get("ci95")) if value == "accuracy" else None
    text = f"{scale * d[value]:.1f}" + (" %" if percent else "")
    return text + (f" ± {scale * ci:.1f}" if ci else "")


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
    return markdown_table([*(names.get(k, k) for k in index), *(names.get(str(c), str(c)) for c in columns)], body)


def pseudo_label_table(result: dict) -> str:
    """A Markdown table of a pseudo-labelling result: test accuracy (± 95 %) per shots and threshold,
    with how many pool images were pseudo-labelled on average and how many of their labels were right."""
    rows = []
    for s in stats.summarise(result["metrics"]["rows"], ("shots", "threshold")):
        runs = [r for r in result["metrics"]["rows"] if (r["shots"], r["threshold"]) == (s["shots"], s["threshold"])]
        right = [r["pseudo_accuracy"] for r in runs if r["pseudo_accuracy"] is not None]
        rows.append([str(s["shots"]), "labelled only" if s["threshold"] is None else f"τ = {s['threshold']}",
                     _cell(s, "accuracy"), f"{sum(r['pseudo_images'] for r in runs) / len(runs):,.0f}",
                     f"{100 * sum(right) / len(right):.1f} %" if right else "-"])
    return markdown_table(["images per class", "threshold", "test accuracy", "pseudo-labelled images (mean)",
                           "their labels right"], rows)


def step_costs_table(result: dict) -> str:
    """A Markdown table of measured training-step costs: precision, peak memory and images per second."""
    return markdown_table(["setting", "precision", "peak memory", "images/s"],
                          [[r["name"], r["precision"], f"{r['peak_memory_mb']:,.0f} MB", f"{r['images_per_second']:,.0f}"]
                           for r in result["metrics"]["rows"]])
