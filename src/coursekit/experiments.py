"""Named experiments, and the store of their results in ``results/``.

An experiment is defined once: a base configuration and a function that runs it. The profile
(`coursekit.profiles`) only scales it. ``run(name)`` returns the stored result for this
experiment, profile and configuration hash when there is one, and otherwise trains and stores
it as ``results/<name>.<profile>.json`` (written to a temporary file, then renamed), with the
provenance that the book shows beside every figure. The ``ci`` profile never reads or writes
``results/``: its numbers are meaningless, only its code path is tested.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from . import __version__, augment, data, fewshot, models, profiles, train, transfer

PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Experiment:
    """A named experiment: what it is, which chapter shows it, its base configuration, its runner,
    and the profiles it runs in (some need a GPU and weights from a hub: ``("full",)``)."""

    name: str
    title: str
    chapter: str
    base: dict
    runner: Callable[[dict, Path | None], dict]
    profiles: tuple[str, ...] = profiles.PROFILES


EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"an experiment named {experiment.name!r} is registered already")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def get(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(sorted(EXPERIMENTS))}")
    return EXPERIMENTS[name]


# --- configuration and the store ----------------------------------------------------------------

def config(name: str, profile: str | None = None) -> dict:
    """The full configuration of ``name`` under ``profile``: the base, scaled by the profile."""
    return {**get(name).base, **profiles.settings(name, profile)}


def config_hash(cfg: dict) -> str:
    """A short hash of a configuration; a stored result is reused only for the same hash."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]


def repository_root() -> Path | None:
    """The source checkout coursekit runs from (it holds ``_config.yml``), if any."""
    root = PACKAGE_DIR.parents[1]
    return root if (root / "_config.yml").is_file() else None


def results_dir() -> Path:
    """``$COURSEKIT_RESULTS``, else the checkout's ``results/``, else ``./results`` (e.g. in Colab)."""
    if os.environ.get("COURSEKIT_RESULTS"):
        return Path(os.environ["COURSEKIT_RESULTS"]).expanduser()
    root = repository_root()
    return root / "results" if root else Path.cwd() / "results"


def result_path(name: str, profile: str) -> Path:
    return results_dir() / f"{name}.{profile}.json"


def checkpoint_path(name: str, profile: str, cfg_hash: str) -> Path:
    """Where an interrupted run keeps its training state (outside the repository)."""
    return data.data_root() / "checkpoints" / f"{name}.{profile}.{cfg_hash}.pt"


def load(name: str, profile: str | None = None, *, any_config: bool = False) -> dict | None:
    """The stored result of ``name`` for ``profile`` and the current configuration, or None.

    With ``any_config`` a stored result is returned even if its configuration differs.
    """
    profile = profiles.current(profile)
    path = result_path(name, profile)
    if profile == "ci" or not path.is_file():
        return None
    result = json.loads(path.read_text())
    if not any_config and result.get("config_hash") != config_hash(config(name, profile)):
        return None
    return result


def save(result: dict) -> Path:
    """Write ``result`` to the store atomically (temporary file, then rename)."""
    path = result_path(result["experiment"], result["profile"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def git_commit() -> str | None:
    """The checkout's commit, with ``+dirty`` when coursekit's code (the code that makes results) has
    uncommitted changes; ``None`` outside a checkout."""
    root = repository_root()
    if root is None:
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=10", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                str(PACKAGE_DIR)], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def provenance(device: torch.device) -> dict:
    """Where and with what a result was produced (the data are added by the runner)."""
    import torchvision

    return dict(device=profiles.device_name(device), device_type=device.type,
                torch=torch.__version__, torchvision=torchvision.__version__, coursekit=__version__,
                python=platform.python_version(), git_commit=git_commit())


def run(name: str, profile: str | None = None, *, force: bool = False, verbose: bool = True) -> dict:
    """The result of experiment ``name``: loaded from ``results/`` if stored, else trained and stored.

    ``force`` trains even when a result is stored. Under the ``ci`` profile nothing is read or written.
    With ``$COURSEKIT_REQUIRE_STORED=1`` (set by the test build of the book) a missing or outdated
    result is an error instead of a training run.
    """
    experiment = get(name)
    profile = profiles.current(profile)
    if profile not in experiment.profiles:
        raise ValueError(f"{name} runs only in the profile(s) {', '.join(experiment.profiles)}, not in {profile!r}: "
                         f"it needs what they assume (a GPU, pretrained weights from a hub); "
                         f"run `coursekit regenerate --profile {experiment.profiles[-1]} --experiment {name}`")
    cfg = config(name, profile)
    cfg_hash = config_hash(cfg)
    if not force:
        stored = load(name, profile)
        if stored is not None:
            return stored
        outdated = profile != "ci" and load(name, profile, any_config=True) is not None
        if profile != "ci" and os.environ.get("COURSEKIT_REQUIRE_STORED") == "1":
            raise LookupError(
                f"{name}: {'the stored ' + profile + ' result was made with another configuration' if outdated else 'no ' + profile + ' result is stored'} "
                f"in {results_dir()}, and COURSEKIT_REQUIRE_STORED=1 forbids training here. "
                f"Run `coursekit regenerate --profile {profile} --experiment {name}` and commit the result.")
        if verbose and outdated:
            print(f"{name}: the stored {profile} result was made with another configuration; training anew")
    if verbose:
        print(f"{name}: training under the {profile} profile on {profiles.device_name()}")
    checkpoint = None if profile == "ci" else checkpoint_path(name, profile, cfg_hash)
    started = dt.datetime.now(dt.timezone.utc)
    where = provenance(profiles.device())  # the code as it was when the run started
    tick = time.perf_counter()
    output = experiment.runner(cfg, checkpoint)
    result = dict(
        experiment=name, title=experiment.title, chapter=experiment.chapter, profile=profile,
        config=cfg, config_hash=cfg_hash, metrics=output["metrics"], history=output["history"],
        cost=output["cost"],
        provenance=dict(where, data=output["data"],
                        date=started.isoformat(timespec="seconds"),
                        wall_seconds=round(time.perf_counter() - tick, 1)),
    )
    network = output.pop("state_dict", None)
    result.update({k: v for k, v in output.items() if k not in ("metrics", "history", "cost", "data")})
    if network is not None:  # an experiment whose product is a network (a backbone for other chapters)
        _NETWORKS[(name, profile)] = network
        if profile != "ci":
            result["network"] = save_network(network, name, profile)
    if profile != "ci":
        path = save(result)
        if checkpoint is not None:
            checkpoint.unlink(missing_ok=True)
        if verbose:
            print(f"{name}: stored in {path}")
    return result


_NETWORKS: dict[tuple[str, str], dict] = {}


def network_path(name: str, profile: str) -> Path:
    return results_dir() / f"{name}.{profile}.pt"


def save_network(state_dict: dict, name: str, profile: str) -> dict:
    """Store a trained network's weights beside its result (atomically); return their file and sha256."""
    path = network_path(name, profile)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state_dict, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    os.replace(tmp, path)
    return dict(file=path.name, sha256=digest, megabytes=round(path.stat().st_size / 2**20, 2))


def network(name: str, profile: str | None = None) -> dict:
    """The state dict that experiment ``name`` trained: from this process, else from the store
    (checked against the sha256 its result records), else trained now by :func:`run`."""
    profile = profiles.current(profile)
    if (name, profile) not in _NETWORKS:
        result = run(name, profile)
        if (name, profile) not in _NETWORKS:  # the result came from the store: so must the weights
            path = network_path(name, profile)
            if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != result["network"]["sha256"]:
                raise LookupError(f"{path} is missing or is not the file that {name}'s stored result was made with; "
                                  f"run `coursekit regenerate --profile {profile} --experiment {name} --force`")
            _NETWORKS[(name, profile)] = torch.load(path, map_location="cpu", weights_only=True)
    return _NETWORKS[(name, profile)]


def stored() -> list[dict]:
    """Every result in the store (any experiment, profile or configuration)."""
    directory = results_dir()
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))] if directory.is_dir() else []


# --- experiments made of many small runs ----------------------------------------------------------

def run_plan(plan: list[dict], run_one: Callable[[dict], dict], checkpoint: Path | None = None,
             label: Callable[[dict], str] = lambda row: " ".join(map(str, row.values()))) -> list[dict]:
    """Run ``run_one(settings)`` for every settings dict of ``plan``; one row (settings + outcome +
    seconds) per run. Finished rows are kept in ``checkpoint`` (JSON, written atomically), so an
    interrupted experiment resumes at the run it stopped in. Progress: a bar, or one line per run."""
    from tqdm.auto import tqdm

    rows = json.loads(checkpoint.read_text())["rows"] if checkpoint is not None and checkpoint.is_file() else []
    keys = list(plan[0]) if plan else []
    done = {json.dumps({k: r[k] for k in keys}, sort_keys=True) for r in rows}
    bar = tqdm(total=len(plan), initial=len(rows), desc="runs", disable=not train.show_progress())
    for settings in plan:
        if json.dumps(settings, sort_keys=True) in done:
            continue
        tick = time.perf_counter()
        row = dict(settings, **run_one(settings))
        row["seconds"] = round(time.perf_counter() - tick, 2)
        rows.append(row)
        if checkpoint is not None:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            tmp = checkpoint.with_name(checkpoint.name + ".tmp")
            tmp.write_text(json.dumps(dict(rows=rows)))
            os.replace(tmp, checkpoint)
        bar.update(1)
        if not train.show_progress():
            print(f"{label(settings)}: {100 * row['accuracy']:5.1f} %  ({row['seconds']:.1f} s)", flush=True)
    bar.close()
    return rows


# Student's t quantile t_{0.975} for 1 to 30 degrees of freedom (beyond: the normal 1.96).
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(runs: int) -> float:
    """The factor that turns a standard error of a mean over ``runs`` values into a 95 % confidence half-width."""
    return T975[runs - 2] if 2 <= runs <= 31 else 1.96


def summarise(rows: list[dict], by: tuple[str, ...], value: str = "accuracy") -> list[dict]:
    """Mean, standard deviation and 95 % confidence half-width of ``value`` over the rows that share
    the fields ``by`` (e.g. over seeds), in the order first met. The half-width is Student's
    t_{0.975} times the standard error, s / sqrt(n): with three seeds, 4.30 standard errors."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in by), []).append(r)
    summary = []
    for key, runs in groups.items():
        v = torch.tensor([r[value] for r in runs], dtype=torch.float64)
        std = float(v.std()) if len(runs) > 1 else 0.0
        summary.append(dict(zip(by, key), runs=len(runs), **{value: float(v.mean()), f"{value}_std": std,
                                                              f"{value}_ci95": t975(len(runs)) * std / len(runs) ** 0.5},
                            seconds=sum(r["seconds"] for r in runs) / len(runs),
                            **{k: runs[0][k] for k in ("train_images",) if k in runs[0]}))
    return summary


# --- describing a result ------------------------------------------------------------------------

def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def describe_data(result: dict) -> str:
    """Which copy of which data set a result used, with image counts."""
    d = result["provenance"]["data"]
    if "summary" in d:  # experiments whose data are not one training and one test set say it themselves
        return d["summary"]
    kind = d["train"].get("description", d["train"].get("kind", "?"))
    if d["train"].get("kind") == "image-folder":
        kind += " (an offline copy, e.g. the JPEG re-encoding: numbers differ from the original's)"
    return f"{kind}; {d['train']['images']:,} training and {d['test']['images']:,} test images"


def provenance_line(result: dict) -> str:
    """One line that says which run a figure or table shows: profile, hardware, date, time, data."""
    p = result["provenance"]
    date = dt.datetime.fromisoformat(p["date"]).strftime("%Y-%m-%d %H:%M UTC")
    commit = f", commit {p['git_commit']}" if p.get("git_commit") else ""
    return (f"{result['experiment']} · profile {result['profile']} · {p['device']} · {date} · "
            f"wall time {_duration(p['wall_seconds'])} · torch {p['torch']}{commit} · "
            f"data: {describe_data(result)}")


def headline(result: dict) -> str:
    """The result in a few words: its accuracy, the number of runs of a multi-run experiment, or what it measured."""
    metrics = result["metrics"]
    if "accuracy" in metrics:
        return f"accuracy {100 * metrics['accuracy']:.1f} %"
    if "rows" in metrics:
        return f"{len(metrics['rows'])} runs"
    return ", ".join(metrics)


def profile_cost(name: str, profile: str) -> str:
    """A rough size of ``name`` under ``profile``: epochs x training images, or its runs' size."""
    cfg = config(name, profile)
    if "steps" in cfg:  # experiments of many runs (transfer, few-shot) and range tests
        return f"runs of {cfg['steps']} batches of {cfg['batch_size']}"
    if "episodes" in cfg:
        return f"{cfg['episodes']} episodes per cell"
    per_class = cfg.get("train_per_class")
    images = f"{per_class:,} images per class" if per_class else "all images"
    epochs = cfg.get("epochs", 0)
    return f"{epochs} epoch{'' if epochs == 1 else 's'} x {images}"


def settings_table(name: str) -> str:
    """A Markdown table of the settings of experiment ``name`` that differ between profiles."""
    from .book import markdown_table

    configs = {p: config(name, p) for p in profiles.PROFILES}
    keys = [k for k in configs["full"] if len({json.dumps(c.get(k)) for c in configs.values()}) > 1]

    def cell(value) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k}={v}" for k, v in value.items()) or "defaults"
        return "all" if value is None else str(value)

    return markdown_table(["setting", *profiles.PROFILES],
                          [[k, *(cell(configs[p].get(k)) for p in profiles.PROFILES)] for k in keys])


# --- runners ------------------------------------------------------------------------------------

def train_cifar10_classifier(cfg: dict, checkpoint: Path | None = None) -> dict:
    """Train ``cfg['model']`` from scratch on (a stratified subset of) CIFAR-10 and evaluate it.

    With ``cfg['probe_gradients']``, the gradient norm of every convolution is also measured on one
    fixed batch, at initialisation and after training (:func:`coursekit.train.gradient_norms`).
    """
    device = profiles.device()
    train_set = data.stratified_subset(data.load_cifar10(train=True), cfg["train_per_class"], cfg["seed"])
    test_set = data.stratified_subset(data.load_cifar10(train=False), cfg["test_per_class"], cfg["seed"])
    augmentation = augment.pipeline(cfg["augment"], len(train_set.classes)) if cfg.get("augment") else None
    train_loader = data.DeviceLoader(train_set, cfg["batch_size"], train=True, device=device,
                                     crop_padding=cfg["crop_padding"], flip=cfg["flip"], seed=cfg["seed"],
                                     augmentation=augmentation)
    test_loader = data.DeviceLoader(test_set, 500, train=False, device=device)
    train.seed_everything(cfg["seed"])  # the initial weights depend on the seed alone
    model = models.create(cfg["model"], num_classes=len(train_set.classes), **cfg["model_args"])
    parameters, macs = models.count_parameters(model), models.count_macs(model)
    initial_gradients = None
    if cfg.get("probe_gradients"):
        probe = next(iter(data.DeviceLoader(train_set, 256, train=False, device=device)))
        initial_gradients = train.gradient_norms(model.to(device), *probe)
    fitted = train.fit(model, train_loader, test_loader=test_loader, epochs=cfg["epochs"],
                       optimizer=cfg["optimizer"], lr=cfg["lr"], weight_decay=cfg["weight_decay"],
                       schedule=cfg["schedule"], label_smoothing=cfg["label_smoothing"],
                       device=device, checkpoint=checkpoint, seed=cfg["seed"])
    metrics = train.evaluate(model, test_loader, device=device)
    metrics["classes"] = list(train_set.classes)
    cost = dict(parameters=parameters, macs=macs, train_seconds=round(fitted.train_seconds, 2),
                images_per_second=round(fitted.images_per_second, 1),
                peak_memory_mb=round(fitted.peak_memory_mb, 1), peak_memory_kind=fitted.peak_memory_kind,
                precision=fitted.precision)
    output = dict(metrics=metrics, history=fitted.history, cost=cost,
                  data=dict(train=train_set.source, test=test_set.source))
    if initial_gradients is not None:
        trained_gradients = train.gradient_norms(model, *probe)
        output["gradient_norms"] = dict(layers=list(initial_gradients), initial=list(initial_gradients.values()),
                                        trained=list(trained_gradients.values()))
    if cfg.get("inspect_attention"):
        from .models.analysis import inspect_vit

        output["attention"] = inspect_vit(model.cpu(), data.load_cifar10(train=False))
    return output


CIFAR10_RECIPE = dict(model="small_cnn", model_args={}, optimizer="sgd", lr=0.05, weight_decay=5e-4,
                      schedule="onecycle", label_smoothing=0.0, crop_padding=4, flip=True, seed=0)

register(Experiment(
    name="intro_cnn",
    title="A small CNN trained from scratch on CIFAR-10",
    chapter="intro",
    base=dict(CIFAR10_RECIPE, model="small_cnn"),
    runner=train_cifar10_classifier,
))

# Chapter "classic": the four families on the same budget (CIFAR-size variants).
CLASSIC = ["classic_alexnet", "classic_vgg", "classic_googlenet", "classic_resnet"]
for name, model, title, lr in [
    ("classic_alexnet", "cifar_alexnet", "AlexNet (CIFAR-size) on CIFAR-10", 0.05),
    ("classic_vgg", "cifar_vgg11_bn", "VGG-11 with batch norm (CIFAR-size) on CIFAR-10", 0.05),
    ("classic_googlenet", "cifar_googlenet", "GoogLeNet (CIFAR-size) on CIFAR-10", 0.05),
    ("classic_resnet", "resnet20", "ResNet-20 (He et al. 2016, CIFAR) on CIFAR-10", 0.1),
]:
    register(Experiment(name=name, title=title, chapter="classic",
                        base=dict(CIFAR10_RECIPE, model=model, lr=lr), runner=train_cifar10_classifier))

# Chapter "classic": the degradation problem, plain networks against ResNets of the same depth.
DEGRADATION = ["degradation_plain20", "degradation_resnet20", "degradation_plain56", "degradation_resnet56"]
for name in DEGRADATION:
    depth = name[-2:]
    plain = "plain" in name
    register(Experiment(
        name=name, chapter="classic",
        title=f"{'Plain' if plain else 'Residual'} {depth}-layer CIFAR network ({'no shortcuts' if plain else 'ResNet-' + depth})",
        base=dict(CIFAR10_RECIPE, model=f"cifar_plain{depth}" if plain else f"resnet{depth}", lr=0.05,
                  probe_gradients=True),
        runner=train_cifar10_classifier))

# Chapter "transfer": a pretrained source network reused four ways on target data sets.
TRANSFER_RECIPE = dict(
    sources=[dict(kind="cifar", name="resnet20", layers=dict(early="layer1", deep="avgpool"))],
    methods=["deep probe", "early probe", "fine-tune", "scratch"], image_size=32, grid=4,
    probe_weight_decays=[1e-4, 1e-3, 1e-2, 1e-1, 1.0], finetune_lr=0.01, head_lr_multiplier=10,
    scratch_lr=0.05, weight_decay=5e-4, crop_padding=4)

register(Experiment(
    name="transfer_decision", chapter="transfer",
    title="Similar or different, small or large: PACS photos and sketches from a CIFAR-10 ResNet-20",
    base=dict(TRANSFER_RECIPE, targets=["pacs-photo", "pacs-sketch"], sizes=dict(small=10, large=140)),
    runner=lambda cfg, checkpoint: transfer.run_transfer(cfg, checkpoint)))
register(Experiment(
    name="transfer_targets", chapter="transfer",
    title="Transfer from a CIFAR-10 ResNet-20 to three more data sets",
    base=dict(TRANSFER_RECIPE, targets=["hymenoptera", "clothing-small", "caltech101"], sizes=dict(all=None)),
    runner=lambda cfg, checkpoint: transfer.run_transfer(cfg, checkpoint)))

# Chapter "fewshot": a backbone trained on five CIFAR-10 classes, and the other five learned from few images.
register(Experiment(
    name="fewshot_backbone", chapter="fewshot",
    title="ResNet-20 trained on CIFAR-10's base classes (airplane, automobile, bird, cat, deer)",
    base=dict(model="resnet20", lr=0.1, weight_decay=5e-4, seed=0),
    runner=lambda cfg, checkpoint: fewshot.train_backbone(cfg, checkpoint)))

FEWSHOT_RECIPE = dict(steps=150, batch_size=32, finetune_lr=0.01, head_lr_multiplier=10, scratch_lr=0.05,
                      weight_decay=5e-4, crop_padding=4, augmented=["trivial_augment"])
for name, title, runner, extra in [
    ("fewshot_shots", "Accuracy against shots per class, with and without augmentation, from scratch and from the backbone",
     "run_shots", dict(shots=[1, 5, 10, 20, 50])),
    ("fewshot_ablation", "One augmentation at a time, fine-tuning the backbone on 5 images per class", "run_ablation",
     dict(shots=5, variants=["none", "crop", "flip", "crop+flip", "rotate", "noise", "elastic", "channel_contrast",
                             "color_jitter", "cutout", "trivial_augment", "mixup", "cutmix", "crop+flip+trivial_augment"])),
    ("fewshot_mixing", "Combining examples: mixup and CutMix on few images", "run_mixing",
     dict(shots=[5, 20], inits=["scratch", "backbone"])),
    ("fewshot_pseudo", "Pseudo-labels for an unlabelled pool, at several confidence thresholds", "run_pseudo",
     dict(shots=[5, 20], thresholds=[None, 0.0, 0.5, 0.9], unlabelled_per_class=500)),
    ("fewshot_episodes", "5-way K-shot episodes: prototypes on frozen backbone features, with and without augmented support",
     "run_episodes", dict(datasets=["cifar10-novel", "caltech101"], per_class=600, views=10, episodes=600, shots=[1, 5],
                          queries=15, ways=5)),
]:
    register(Experiment(name=name, chapter="fewshot", title=title, base=dict(FEWSHOT_RECIPE, **extra),
                        runner=(lambda fn: lambda cfg, checkpoint: getattr(fewshot, fn)(cfg, checkpoint))(runner)))

# Chapter "vit": a ResNet against a Vision Transformer on CIFAR-10, from scratch, at several data sizes.
VS_RESNET = dict(CIFAR10_RECIPE, model="resnet20", lr=0.1)
VS_VIT = dict(CIFAR10_RECIPE, model="vit_cifar", optimizer="adamw", lr=1e-3, weight_decay=0.05, inspect_attention=True)
for size in profiles.VS_SIZES:
    register(Experiment(name=f"vs_resnet20_{size}", chapter="vit", title=f"ResNet-20 from scratch on {size:,} CIFAR-10 images",
                        base=VS_RESNET, runner=train_cifar10_classifier))
    register(Experiment(name=f"vs_vit_{size}", chapter="vit", title=f"ViT (4 x 4 patches) from scratch on {size:,} CIFAR-10 images",
                        base=VS_VIT, runner=train_cifar10_classifier))
register(Experiment(
    name="vs_vit_5000_strong", chapter="vit",
    title="ViT from scratch on 5,000 images with TrivialAugment and label smoothing",
    base=dict(VS_VIT, augment=["trivial_augment"], label_smoothing=0.1), runner=train_cifar10_classifier))


def lr_range_tests(cfg: dict, checkpoint: Path | None = None) -> dict:
    """The learning-rate range test (:func:`coursekit.train.lr_find`) for each of ``cfg['networks']``."""
    device = profiles.device()
    train_set = data.stratified_subset(data.load_cifar10(train=True), cfg["train_per_class"], cfg["seed"])
    curves = {}
    for name, spec in cfg["networks"].items():
        loader = data.DeviceLoader(train_set, cfg["batch_size"], train=True, device=device, seed=cfg["seed"])
        train.seed_everything(cfg["seed"])
        model = models.create(spec["model"], num_classes=10)
        found = train.lr_find(model, loader, start_lr=cfg["start_lr"], end_lr=cfg["end_lr"], steps=cfg["steps"],
                              optimizer=spec["optimizer"], weight_decay=spec["weight_decay"], device=device)
        curves[name] = dict(found, optimizer=spec["optimizer"], chosen_lr=spec["lr"])
    description = train_set.source.get("description", "CIFAR-10")
    return dict(metrics=curves, history=[], cost=dict(runs=len(curves)),
                data=dict(train=train_set.source, summary=f"{description}; {len(train_set):,} training images, "
                                                         "no test set (the test reads the training loss)"))


register(Experiment(
    name="vs_lr_find", chapter="vit", title="Learning-rate range tests of ResNet-20 (SGD) and the ViT (AdamW)",
    base=dict(networks={"ResNet-20": {k: VS_RESNET[k] for k in ("model", "optimizer", "lr", "weight_decay")},
                        "ViT": {k: VS_VIT[k] for k in ("model", "optimizer", "lr", "weight_decay")}},
              start_lr=1e-6, end_lr=10.0, seed=0),
    runner=lr_range_tests))


# Chapter "vit", full profile only: pretrained ViTs (ImageNet-21k, DINOv2) on CIFAR-10 at 224 px, and
# what mixed precision and gradient checkpointing save on a GPU.
register(Experiment(
    name="vit_pretrained", chapter="vit", profiles=("full",),
    title="Pretrained ViT-S/16 (ImageNet-21k) fine-tuned and probed, and a DINOv2 ViT-S/14 probed, on CIFAR-10",
    base=dict(TRANSFER_RECIPE, targets=["cifar10"], sizes=dict(all=None), methods=["deep probe", "fine-tune"],
              sources=[dict(kind="imagenet", name="timm/vit_small_patch16_224.augreg_in21k_ft_in1k",
                            layers=dict(deep="pre_logits")),
                       dict(kind="imagenet", name="timm/vit_small_patch14_dinov2.lvd142m", kwargs=dict(img_size=224),
                            layers=dict(deep="pre_logits"))],
              image_size=224, crop_padding=28, seeds=[0], steps=3000, batch_size=128, test_per_class=None),
    runner=lambda cfg, checkpoint: transfer.run_transfer(cfg, checkpoint)))


def step_costs(cfg: dict, checkpoint: Path | None = None) -> dict:
    """Peak GPU memory and throughput of a ViT training step in float32, with mixed precision, and
    with mixed precision and gradient checkpointing (:func:`coursekit.train.measure_training_step`)."""
    device = profiles.device()
    if device.type != "cuda":
        raise RuntimeError(f"{cfg['model']}'s memory is measured on a CUDA GPU; this machine has {profiles.device_name()}")
    rows = []
    for setting in cfg["settings"]:
        train.seed_everything(0)
        model = models.create(cfg["model"], num_classes=1000)
        model.grad_checkpointing = setting["checkpointing"]
        rows.append(dict(setting, **train.measure_training_step(model, cfg["batch_size"], cfg["image_size"],
                                                                amp=setting["amp"], steps=cfg["steps"], device=device)))
        del model
        torch.cuda.empty_cache()
    return dict(metrics=dict(rows=rows), history=[], cost=dict(runs=len(rows)),
                data=dict(summary=f"random tensors of {cfg['batch_size']} x 3 x {cfg['image_size']} x {cfg['image_size']} "
                                  "(the cost of a step does not depend on the pixels)"))


register(Experiment(
    name="vit_memory", chapter="vit", profiles=("full",),
    title="ViT-B/16 training step: float32, mixed precision, and mixed precision with gradient checkpointing",
    base=dict(model="vit_base_patch16_224", image_size=224, batch_size=64, steps=20,
              settings=[dict(name="float32", amp=False, checkpointing=False),
                        dict(name="mixed precision", amp=True, checkpointing=False),
                        dict(name="mixed precision + gradient checkpointing", amp=True, checkpointing=True)]),
    runner=step_costs))
