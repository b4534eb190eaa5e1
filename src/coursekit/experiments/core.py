"""What an experiment is, and how one is run or loaded.

An :class:`Experiment` is defined once, in its chapter's module: a name, a title, its chapter, a base
configuration, the sizes it takes under each profile, and the function that runs it. ``run(name)``
returns the stored result for this experiment, profile and configuration when there is one, and
otherwise trains, stores and returns it. The ``ci`` profile never reads or writes the store: its
numbers are meaningless, only its code path is tested.

While it trains, ``run`` holds a lock on the experiment and profile (a second process is refused) and
hands the runner a :class:`coursekit.runs.RunState`: where the training state is kept in the cache
(:func:`checkpoint_path`), whose run it is, the profile (which its dependencies, :func:`network`, are
taken from) and the time limit. A runner is ``runner(cfg, state) -> output``.
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .. import data, profiles, store
from ..i18n import _, say
from ..runs import RunState

try:
    import fcntl  # POSIX: Linux, macOS
except ImportError:  # Windows has no fcntl: runs are not locked there (start one at a time)
    fcntl = None

Runner = Callable[[dict, RunState], dict]


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
    if result is None or (not any_config and (result.get("config_hash") != store.config_hash(config(name, profile))
                                              or changed_inputs(result))):
        return None
    return result


def _refuse_training(name: str, profile: str, outdated: bool) -> None:
    """With ``$COURSEKIT_REQUIRE_STORED=1`` (the test build of the book) a missing or outdated result is an error."""
    if os.environ.get("COURSEKIT_REQUIRE_STORED") == "1":
        what = (f"the stored {profile} result was made with another configuration, or from inputs that changed "
                "since" if outdated else f"no {profile} result is stored")
        raise LookupError(f"{name}: {what} in {store.results_dir()}, and COURSEKIT_REQUIRE_STORED=1 forbids "
                          f"training here. Run `coursekit regenerate --profile {profile} --experiment {name}` "
                          "and commit the result.")


# What the common keys of a configuration must hold: (test, what it must be).
def _positive_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


CONFIG_RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    "epochs": (_positive_int, "a whole number of at least 1"),
    "steps": (_positive_int, "a whole number of at least 1"),
    "batch_size": (_positive_int, "a whole number of at least 1"),
    "image_size": (_positive_int, "a whole number of pixels, at least 1"),
    "train_per_class": (lambda v: v is None or _positive_int(v), "a whole number of at least 1, or None (all)"),
    "test_per_class": (lambda v: v is None or _positive_int(v), "a whole number of at least 1, or None (all)"),
    "lr": (lambda v: _number(v) and v > 0, "a positive number"),
    "weight_decay": (lambda v: _number(v) and v >= 0, "a number of at least 0"),
    "label_smoothing": (lambda v: _number(v) and 0 <= v < 1, "a number from 0 up to (not including) 1"),
    "seeds": (lambda v: isinstance(v, list) and len(v) > 0 and all(isinstance(s, int) for s in v),
              "a non-empty list of whole numbers"),
    "model_args": (lambda v: isinstance(v, dict), "a dictionary of the network's arguments"),
}


def check_config(name: str, cfg: dict) -> None:
    """Refuse, before any training, a configuration whose common keys (:data:`CONFIG_RULES`) hold what
    cannot be right (``epochs="2"``, ``lr="fast"``, ``train_per_class=-3``), naming each key."""
    wrong = [f"{key} is {value!r}, but must be {what}" for key, (ok, what) in CONFIG_RULES.items()
             if key in cfg and not ok(value := cfg[key])]
    if wrong:
        raise ValueError(f"the configuration of {name} cannot be trained: {'; '.join(wrong)}. Fix it where the "
                         "experiment is defined (coursekit/experiments/), or in the dictionary you passed.")


def run(name: str, profile: str | None = None, *, force: bool = False, verbose: bool = True,
        deadline: float | None = None) -> dict:
    """The result of experiment ``name``: loaded from the store if there, else trained and stored.

    ``force`` trains even when a result is stored. Under the ``ci`` profile nothing is read or written.
    ``deadline`` (on the monotonic clock): training that would not finish before it stops with
    :class:`coursekit.runs.OutOfTime`, its state kept for the next attempt.
    """
    experiment = get(name)
    profile = profiles.current(profile)
    if profile not in experiment.profiles:
        raise ValueError(f"{name} runs only in the profile(s) {', '.join(experiment.profiles)}, not in {profile!r}: "
                         f"it needs what they assume (a GPU, pretrained weights from a hub); "
                         f"run `coursekit regenerate --profile {experiment.profiles[-1]} --experiment {name}`")
    cfg = experiment.config(profile)
    check_config(name, cfg)
    cfg_hash = store.config_hash(cfg)
    if not force and profile != "ci":
        stored = load(name, profile)
        if stored is not None:
            return stored
        outdated = load(name, profile, any_config=True) is not None
        _refuse_training(name, profile, outdated)
        if verbose and outdated:
            print(f"{name}: the stored {profile} result was made with another configuration, or from inputs that "
                  "have changed since; training anew")
    if profile != "ci":
        store.check_results_dir()  # before minutes of training, not after
    if verbose:
        print(f"{name}: training under the {profile} profile on {profiles.device_name()}")
    state = RunState(checkpoint=None if profile == "ci" else checkpoint_path(name, profile, cfg_hash),
                     identity=f"{name} under {profile}, configuration {cfg_hash}", profile=profile,
                     deadline=deadline, verbose=verbose)
    with training_lock(name, profile):
        if force:  # start afresh: whatever an earlier run left (even broken) goes
            state.clear()
        started = dt.datetime.now(dt.timezone.utc)
        where = store.provenance(profiles.device())  # the code as it was when the run started
        load_start = store.machine_load()  # what else ran beside it: speed figures depend on it
        _INPUTS.append({})
        try:
            output, wall_seconds = _call_runner(experiment, cfg, state)
        finally:
            inputs = _INPUTS.pop()
        result = dict(
            experiment=name, title=experiment.title, chapter=experiment.chapter, profile=profile,
            config=cfg, config_hash=cfg_hash, metrics=output["metrics"], history=output["history"],
            cost=output["cost"],
            provenance=dict(where, data=output["data"], date=started.isoformat(timespec="seconds"),
                            wall_seconds=round(wall_seconds, 1), load_start=load_start, load_end=store.machine_load(),
                            **({"inputs": inputs} if inputs else {})),
        )
        network = output.pop("state_dict", None)
        result.update({k: v for k, v in output.items() if k not in ("metrics", "history", "cost", "data")})
        if network is not None:  # an experiment whose product is a network (a backbone for other experiments)
            _NETWORKS[(name, profile)] = network
            if profile != "ci":
                result["network"] = store.save_network(network, name, profile)
        if profile != "ci":
            path = store.save_result(result)
            state.clear()  # the finished run's state and seconds can go
            if verbose:
                print(f"{name}: stored in {path}")
    return result


WALL_EVERY = 30.0  # seconds between two records of a run's wall time beside its checkpoint


def _call_runner(experiment: Experiment, cfg: dict, state: RunState) -> tuple[dict, float]:
    """The runner's output, and the wall seconds of every attempt at it (an interrupted attempt keeps
    its seconds beside the checkpoint; once the checkpoint and the rest of that attempt's state are gone,
    deleted as an error message suggests, its seconds are stale and go too)."""
    wall = state.progress_path("wall")
    if wall is not None and wall.is_file() and all(path == wall for path in state.files()):
        wall.unlink()  # nothing left to resume: those seconds belong to no run
    earlier = state.read_progress("wall").get("seconds", 0.0)
    tick = time.perf_counter()
    done = threading.Event()

    def keep_time() -> None:  # on disk every WALL_EVERY seconds: a kill (SIGKILL) loses no more than that
        while not done.wait(WALL_EVERY):
            state.write_progress("wall", seconds=earlier + time.perf_counter() - tick)

    keeper = threading.Thread(target=keep_time, daemon=True)
    keeper.start()
    try:
        return experiment.runner(cfg, state), earlier + time.perf_counter() - tick
    except BaseException:  # Ctrl-C, out of time, a crash: the next attempt resumes, and adds its seconds
        done.set()
        keeper.join()
        state.write_progress("wall", seconds=earlier + time.perf_counter() - tick)
        raise
    finally:
        done.set()
        keeper.join()


_NETWORKS: dict[tuple[str, str], dict] = {}


def network(name: str, profile: str | None = None) -> dict:
    """The state dict that experiment ``name`` trained under ``profile`` (default: the active one): from
    this process, else from the store (checked against the sha256 its result records), else trained now
    by :func:`run`. A runner passes its own ``state.profile``, so that a dependency follows the experiment
    that needs it (``regenerate --profile full`` uses the ``full`` backbone)."""
    profile = profiles.current(profile)
    result = None
    if (name, profile) not in _NETWORKS:
        result = run(name, profile)
        if (name, profile) not in _NETWORKS:  # the result came from the store: so must the weights
            _NETWORKS[(name, profile)] = store.load_network(result)
    if _INPUTS and profile != "ci":  # a run is using it: its result records which network it was
        found = result or load(name, profile)
        if found is not None and "network" in found:
            _INPUTS[-1][name] = dict(config_hash=found["config_hash"], sha256=found["network"]["sha256"])
    return _NETWORKS[(name, profile)]


# The inputs (stored networks) that the runs in progress have read, innermost last: {experiment: identity}.
_INPUTS: list[dict[str, dict]] = []


def changed_inputs(result: dict) -> list[str]:
    """The experiments among ``result``'s recorded inputs whose stored network is no longer the one it was
    made from (another configuration, other weights, or none stored): a result made from them is stale."""
    changed = []
    for name, made_from in result["provenance"].get("inputs", {}).items():
        now = store.read_result(name, result["profile"])
        if now is None or now["config_hash"] != made_from["config_hash"] or \
                now.get("network", {}).get("sha256") != made_from["sha256"]:
            changed.append(name)
    return changed


# --- experiments repeated over seeds --------------------------------------------------------------

def over_seeds(runner: Runner) -> Runner:
    """``runner`` repeated for every seed of ``cfg['seeds']`` (the subset drawn, the initial weights and
    the order of the batches all follow the seed). The result is the first seed's output, whole (its
    metrics, history, confusion matrix, probes), with ``seeds``: one record per seed (metrics, history,
    cost). Each seed trains with a child of the run's state (``state.child("seed3")``); finished seeds
    are kept in the state's progress, so an interrupted run resumes at its seed."""
    def run_seeds(cfg: dict, state: RunState) -> dict:
        outputs = state.read_progress("seeds").get("seeds", {})
        for seed in cfg["seeds"]:
            if str(seed) in outputs:
                continue
            if len(cfg["seeds"]) > 1:
                print(f"seed {seed} ({cfg['seeds'].index(seed) + 1} of {len(cfg['seeds'])})", flush=True)
            outputs[str(seed)] = runner(dict(cfg, seed=seed), state.child(f"seed{seed}"))
            state.write_progress("seeds", seeds=outputs)
        output = dict(outputs[str(cfg["seeds"][0])])
        output["seeds"] = [dict(seed=seed, metrics={k: v for k, v in out["metrics"].items() if k != "confusion"},
                                history=out["history"], cost=out["cost"])
                           for seed, out in ((s, outputs[str(s)]) for s in cfg["seeds"])]
        return output  # run() removes every seed's state with the run's own once the result is stored

    run_seeds.__doc__ = f"{runner.__doc__ or runner.__name__}\n\nRepeated over ``cfg['seeds']`` (:func:`over_seeds`)."
    return run_seeds


# --- experiments made of many small runs ----------------------------------------------------------

def run_plan(plan: list[dict], run_one: Callable[[dict], dict], state: RunState,
             label: Callable[[dict], str] = lambda row: " ".join(f"{k}={v}" for k, v in row.items())) -> list[dict]:
    """Run ``run_one(settings)`` for every settings dict of ``plan``; one row (settings + outcome +
    seconds) per run. Finished rows are kept in the state's progress (``rows``), so an interrupted
    experiment resumes at the run it stopped in; under a deadline, a run that would not finish is not
    started. Progress: a bar, or one line per run."""
    from tqdm.auto import tqdm

    rows = state.read_progress("rows").get("rows", [])
    keys = list(plan[0]) if plan else []
    done = {json.dumps({k: r[k] for k in keys}, sort_keys=True) for r in rows}
    bar = tqdm(total=len(plan), initial=len(rows), desc="runs", disable=not state.progress)
    for settings in plan:
        if json.dumps(settings, sort_keys=True) in done:
            continue
        state.check_time(sum(r["seconds"] for r in rows) / len(rows) if rows else 0.0, 1)
        tick = time.perf_counter()
        row = dict(settings, **run_one(settings))
        row["seconds"] = round(time.perf_counter() - tick, 2)
        rows.append(row)
        state.write_progress("rows", rows=rows)
        bar.update(1)
        if not state.progress:
            print(f"{label(settings)}: {100 * row['accuracy']:5.1f} %  ({row['seconds']:.1f} s)", flush=True)
    bar.close()
    return rows


def profile_cost(name: str, profile: str) -> str:
    """A rough size of ``name`` under ``profile``: epochs x training images, or its runs' size."""
    cfg = config(name, profile)
    if "settings" in cfg:  # measurements of a training step
        return f"{len(cfg['settings'])} settings of {cfg['steps']} timed steps"
    if "penalties" in cfg:  # a regression on frozen features, solved in closed form
        return "frozen features and a ridge regression"
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



def full_only(name: str, why: str, profile: str | None = None) -> tuple[dict | None, str]:
    """A ``full``-only experiment: in the ``full`` profile its result (run or loaded) and no note; in any
    other, no result and the note (Markdown) that says ``why`` it is not run and how to see it."""
    profile = profiles.current(profile)
    if profile == "full":
        return run(name, profile), ""
    return None, say("> **Not run in the `{profile}` profile:** {why}", profile=profile, why=_(why))
