"""What an experiment is, and how one is run or loaded.

An :class:`Experiment` is defined once, in its chapter's module: a name, a title, its chapter, a base
configuration, the sizes it takes under each profile, and the function that runs it. ``run(name)``
returns the stored result for this experiment, profile and configuration when there is one, and
otherwise trains, stores and returns it. The ``ci`` profile never reads or writes the store: its
numbers are meaningless, only its code path is tested.

While it trains, ``run`` holds a lock on the experiment and profile (a second process is refused),
keeps the training state in the cache (:func:`checkpoint_path`), stamped with the run's identity,
and makes the profile being run the one its dependencies (:func:`network`) are taken from.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import datetime as dt
import glob
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .. import data, deadline, files, profiles, store, train

try:
    import fcntl  # POSIX: Linux, macOS
except ImportError:  # Windows has no fcntl: runs are not locked there (start one at a time)
    fcntl = None

Runner = Callable[[dict, "Path | None"], dict]


@dataclass(frozen=True)
class Experiment:
    """A named experiment: what it is, which chapter shows it, its base configuration, the settings
    each profile changes (sizes, epochs, seeds), its runner, and the profiles it runs in (some need a
    GPU and weights from a hub: ``("full",)``)."""

    name: str
    title: str
    chapter: str
    base: dict
    sizes: dict[str, dict]
    runner: Runner
    profiles: tuple[str, ...] = profiles.PROFILES

    def config(self, profile: str | None = None) -> dict:
        """The full configuration under ``profile``: the base, with the profile's settings on top (a deep copy)."""
        return copy.deepcopy({**self.base, **self.sizes.get(profiles.current(profile), {})})


EXPERIMENTS: dict[str, Experiment] = {}

# The profile of the run in progress (set by :func:`run` while its runner runs), for :func:`network`.
_RUNNING_PROFILE: contextvars.ContextVar[str | None] = contextvars.ContextVar("running_profile", default=None)


def register(experiment: Experiment) -> Experiment:
    """Add ``experiment`` to the registry that ``run``, ``coursekit list`` and ``regenerate`` read."""
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"an experiment named {experiment.name!r} is registered already")
    missing = [p for p in experiment.profiles if p not in experiment.sizes]
    if missing:
        raise ValueError(f"{experiment.name}: no sizes for the profile(s) {', '.join(missing)} it runs in")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def get(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; known: {', '.join(sorted(EXPERIMENTS))}")
    return EXPERIMENTS[name]


def config(name: str, profile: str | None = None) -> dict:
    """The full configuration of ``name`` under ``profile``."""
    return get(name).config(profile)


def checkpoint_path(name: str, profile: str, cfg_hash: str) -> Path:
    """Where an interrupted run keeps its training state: in the cache (:func:`coursekit.data.cache_root`),
    not in the data folder, which may be a read-only copy shared by a lab."""
    return data.cache_root() / "checkpoints" / f"{name}.{profile}.{cfg_hash}.pt"


def checkpoint_files(checkpoint: Path) -> list[Path]:
    """Every file an interrupted run keeps beside ``checkpoint``: the training state, each seed's state
    and the finished seeds (:func:`over_seeds`), the finished runs (:func:`run_plan`), the seconds spent."""
    return sorted(checkpoint.parent.glob(glob.escape(checkpoint.stem) + ".*"))


def _read_progress(path: Path | None, identity: str | None) -> dict:
    """The JSON that an interrupted run left at ``path`` ({} if none), refused with the fix if it cannot
    be read or was left by a run other than ``identity``."""
    if path is None or not path.is_file():
        return {}
    fix = "delete it to start afresh (`coursekit regenerate ... --force` does)"
    try:
        progress = json.loads(path.read_text())
    except ValueError as error:  # empty or cut short
        raise RuntimeError(f"cannot read {path} ({error}); {fix}") from error
    if identity and progress.get("identity") not in (None, identity):
        raise RuntimeError(f"{path} belongs to {progress['identity']}, not to {identity}; {fix}")
    return progress


def lock_path(name: str, profile: str) -> Path:
    """The lock file that the process training ``name`` under ``profile`` holds (it holds the process id)."""
    return data.cache_root() / "locks" / f"{name}.{profile}.lock"


@contextlib.contextmanager
def training_lock(name: str, profile: str) -> Iterator[None]:
    """Hold the lock of ``name`` under ``profile`` while the block trains. Two processes would share the
    checkpoints: the second would resume from the first's, mid-run. So a second one is refused. The
    system releases the lock when the file is closed, even when the process is killed."""
    path = lock_path(name, profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                pid = handle.read().strip() or "unknown"
                raise RuntimeError(f"another coursekit process (pid {pid}) is training {name} under {profile}; "
                                   f"wait for it or stop it (its lock: {path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield


def load(name: str, profile: str | None = None, *, any_config: bool = False) -> dict | None:
    """The stored result of ``name`` for ``profile`` and the current configuration, or None.

    With ``any_config`` a stored result is returned even if its configuration differs.
    """
    profile = profiles.current(profile)
    if profile == "ci":
        return None
    result = store.read_result(name, profile)
    if result is None or (not any_config and result.get("config_hash") != store.config_hash(config(name, profile))):
        return None
    return result


def _refuse_training(name: str, profile: str, outdated: bool) -> None:
    """With ``$COURSEKIT_REQUIRE_STORED=1`` (the test build of the book) a missing or outdated result is an error."""
    if os.environ.get("COURSEKIT_REQUIRE_STORED") == "1":
        what = (f"the stored {profile} result was made with another configuration" if outdated
                else f"no {profile} result is stored")
        raise LookupError(f"{name}: {what} in {store.results_dir()}, and COURSEKIT_REQUIRE_STORED=1 forbids "
                          f"training here. Run `coursekit regenerate --profile {profile} --experiment {name}` "
                          "and commit the result.")


def run(name: str, profile: str | None = None, *, force: bool = False, verbose: bool = True) -> dict:
    """The result of experiment ``name``: loaded from the store if there, else trained and stored.

    ``force`` trains even when a result is stored. Under the ``ci`` profile nothing is read or written.
    """
    experiment = get(name)
    profile = profiles.current(profile)
    if profile not in experiment.profiles:
        raise ValueError(f"{name} runs only in the profile(s) {', '.join(experiment.profiles)}, not in {profile!r}: "
                         f"it needs what they assume (a GPU, pretrained weights from a hub); "
                         f"run `coursekit regenerate --profile {experiment.profiles[-1]} --experiment {name}`")
    cfg = experiment.config(profile)
    cfg_hash = store.config_hash(cfg)
    if not force and profile != "ci":
        stored = load(name, profile)
        if stored is not None:
            return stored
        outdated = load(name, profile, any_config=True) is not None
        _refuse_training(name, profile, outdated)
        if verbose and outdated:
            print(f"{name}: the stored {profile} result was made with another configuration; training anew")
    if verbose:
        print(f"{name}: training under the {profile} profile on {profiles.device_name()}")
    checkpoint = None if profile == "ci" else checkpoint_path(name, profile, cfg_hash)
    with training_lock(name, profile):
        if force and checkpoint is not None:  # start afresh: whatever an earlier run left (even broken) goes
            for path in checkpoint_files(checkpoint):
                path.unlink()
        started = dt.datetime.now(dt.timezone.utc)
        where = store.provenance(profiles.device())  # the code as it was when the run started
        load_start = store.machine_load()  # what else ran beside it: speed figures depend on it
        identity = f"{name} under {profile}, configuration {cfg_hash}"
        output, wall_seconds = _call_runner(experiment, profile, cfg, checkpoint, identity)
        result = dict(
            experiment=name, title=experiment.title, chapter=experiment.chapter, profile=profile,
            config=cfg, config_hash=cfg_hash, metrics=output["metrics"], history=output["history"],
            cost=output["cost"],
            provenance=dict(where, data=output["data"], date=started.isoformat(timespec="seconds"),
                            wall_seconds=round(wall_seconds, 1), load_start=load_start, load_end=store.machine_load()),
        )
        network = output.pop("state_dict", None)
        result.update({k: v for k, v in output.items() if k not in ("metrics", "history", "cost", "data")})
        if network is not None:  # an experiment whose product is a network (a backbone for other experiments)
            _NETWORKS[(name, profile)] = network
            if profile != "ci":
                result["network"] = store.save_network(network, name, profile)
        if profile != "ci":
            path = store.save_result(result)
            for leftover in checkpoint_files(checkpoint):  # the finished run's state and seconds can go
                leftover.unlink(missing_ok=True)
            if verbose:
                print(f"{name}: stored in {path}")
    return result


def _call_runner(experiment: Experiment, profile: str, cfg: dict, checkpoint: Path | None,
                 identity: str) -> tuple[dict, float]:
    """The runner's output, and the wall seconds of every attempt at it (an interrupted attempt keeps
    its seconds beside the checkpoint). While it runs, ``profile`` is the one that :func:`network` takes
    dependencies from, and ``identity`` stamps the checkpoints it saves."""
    spent = checkpoint.with_suffix(".wall.json") if checkpoint is not None else None
    earlier = _read_progress(spent, identity).get("seconds", 0.0)
    profile_token, identity_token = _RUNNING_PROFILE.set(profile), train.run_identity.set(identity)
    tick = time.perf_counter()
    try:
        return experiment.runner(cfg, checkpoint), earlier + time.perf_counter() - tick
    except BaseException:  # Ctrl-C, out of time, a crash: the next attempt resumes, and adds its seconds
        if spent is not None:
            files.write_json(spent, dict(identity=identity, seconds=earlier + time.perf_counter() - tick))
        raise
    finally:
        train.run_identity.reset(identity_token)
        _RUNNING_PROFILE.reset(profile_token)


_NETWORKS: dict[tuple[str, str], dict] = {}


def network(name: str, profile: str | None = None) -> dict:
    """The state dict that experiment ``name`` trained under ``profile``: from this process, else
    from the store (checked against the sha256 its result records), else trained now by :func:`run`.

    Without ``profile``: the profile of the run in progress (a dependency follows the experiment that
    needs it: ``regenerate --profile full`` uses the ``full`` backbone), else the active profile."""
    profile = profiles.current(profile or _RUNNING_PROFILE.get())
    if (name, profile) not in _NETWORKS:
        result = run(name, profile)
        if (name, profile) not in _NETWORKS:  # the result came from the store: so must the weights
            _NETWORKS[(name, profile)] = store.load_network(result)
    return _NETWORKS[(name, profile)]


# --- experiments repeated over seeds --------------------------------------------------------------

def over_seeds(runner: Runner) -> Runner:
    """``runner`` repeated for every seed of ``cfg['seeds']`` (the subset drawn, the initial weights and
    the order of the batches all follow the seed). The result is the first seed's output, whole (its
    metrics, history, confusion matrix, probes), with ``seeds``: one record per seed (metrics, history,
    cost). Finished seeds are kept beside ``checkpoint``, so an interrupted run resumes at its seed."""
    def run_seeds(cfg: dict, checkpoint: Path | None = None) -> dict:
        finished = checkpoint.with_suffix(".seeds.json") if checkpoint is not None else None
        outputs = _read_progress(finished, train.run_identity.get()).get("seeds", {})
        for seed in cfg["seeds"]:
            if str(seed) in outputs:
                continue
            if len(cfg["seeds"]) > 1:
                print(f"seed {seed} ({cfg['seeds'].index(seed) + 1} of {len(cfg['seeds'])})", flush=True)
            state = checkpoint.with_suffix(f".seed{seed}.pt") if checkpoint is not None else None
            outputs[str(seed)] = runner(dict(cfg, seed=seed), state)
            if finished is not None:
                files.write_json(finished, dict(identity=train.run_identity.get(), seeds=outputs), indent=None)
        output = dict(outputs[str(cfg["seeds"][0])])
        output["seeds"] = [dict(seed=seed, metrics={k: v for k, v in out["metrics"].items() if k != "confusion"},
                                history=out["history"], cost=out["cost"])
                           for seed, out in ((s, outputs[str(s)]) for s in cfg["seeds"])]
        if checkpoint is not None:  # every seed is done: its state and the list of finished ones can go
            for seed in cfg["seeds"]:
                checkpoint.with_suffix(f".seed{seed}.pt").unlink(missing_ok=True)
            finished.unlink(missing_ok=True)
        return output

    run_seeds.__doc__ = f"{runner.__doc__ or runner.__name__}\n\nRepeated over ``cfg['seeds']`` (:func:`over_seeds`)."
    return run_seeds


def per_seed(result: dict, value: str = "accuracy") -> dict[int, float]:
    """``value`` of the final metrics of each seed of ``result`` (a result of :func:`over_seeds`; a
    result of one run counts as its one seed)."""
    if "seeds" not in result:
        return {result["config"].get("seed", 0): result["metrics"][value]}
    return {s["seed"]: s["metrics"][value] for s in result["seeds"]}


def per_seed_final(result: dict, field: str) -> dict[int, float]:
    """``field`` of the last epoch of each seed's history (e.g. ``train_loss``, ``train_accuracy``)."""
    records = result.get("seeds") or [dict(seed=result["config"].get("seed", 0), history=result["history"])]
    return {s["seed"]: s["history"][-1][field] for s in records}


def training_speed(result: dict) -> float:
    """Images per second in training: the median over every epoch of every seed, so that a few epochs
    slowed by other work on the machine do not move it (the run's overall figure, without histories)."""
    rates = sorted(row["images_per_second"] for s in result.get("seeds", [result]) for row in s.get("history", [])
                   if "images_per_second" in row)
    return rates[len(rates) // 2] if rates else result["cost"]["images_per_second"]


# --- experiments made of many small runs ----------------------------------------------------------

def run_plan(plan: list[dict], run_one: Callable[[dict], dict], checkpoint: Path | None = None,
             label: Callable[[dict], str] = lambda row: " ".join(f"{k}={v}" for k, v in row.items())) -> list[dict]:
    """Run ``run_one(settings)`` for every settings dict of ``plan``; one row (settings + outcome +
    seconds) per run. Finished rows are kept in ``checkpoint`` (JSON, written atomically), so an
    interrupted experiment resumes at the run it stopped in. Progress: a bar, or one line per run."""
    from tqdm.auto import tqdm

    rows = _read_progress(checkpoint, train.run_identity.get()).get("rows", [])
    keys = list(plan[0]) if plan else []
    done = {json.dumps({k: r[k] for k in keys}, sort_keys=True) for r in rows}
    bar = tqdm(total=len(plan), initial=len(rows), desc="runs", disable=not profiles.show_progress())
    for settings in plan:
        if json.dumps(settings, sort_keys=True) in done:
            continue
        deadline.check(sum(r["seconds"] for r in rows) / len(rows) if rows else 0.0, 1)  # under a time limit
        tick = time.perf_counter()
        row = dict(settings, **run_one(settings))
        row["seconds"] = round(time.perf_counter() - tick, 2)
        rows.append(row)
        if checkpoint is not None:
            files.write_json(checkpoint, dict(identity=train.run_identity.get(), rows=rows), indent=None)
        bar.update(1)
        if not profiles.show_progress():
            print(f"{label(settings)}: {100 * row['accuracy']:5.1f} %  ({row['seconds']:.1f} s)", flush=True)
    bar.close()
    return rows


def profile_cost(name: str, profile: str) -> str:
    """A rough size of ``name`` under ``profile``: epochs x training images, or its runs' size."""
    cfg = config(name, profile)
    if "steps" in cfg:  # experiments of many runs (transfer, few-shot) and range tests
        return f"runs of {cfg['steps']} batches of {cfg['batch_size']}"
    if "episodes" in cfg:
        return f"{cfg['episodes']} episodes per cell"
    per_class = cfg.get("train_per_class")
    images = (f"{cfg['scenes_per_epoch']:,} new scenes" if "scenes_per_epoch" in cfg  # a detector: scenes per epoch
              else f"{per_class:,} images per class" if per_class else "all images")
    epochs = cfg.get("epochs", 0)
    seeds = f" x {len(cfg['seeds'])} seeds" if len(cfg.get("seeds", ())) > 1 else ""
    return f"{epochs} epoch{'' if epochs == 1 else 's'} x {images}{seeds}"

