"""The store of results: JSON files in ``results/``, networks beside them, and their provenance.

A result is ``results/<experiment>.<profile>.json``: the experiment's name, profile, full
configuration and its hash, metrics, per-epoch history, cost, and provenance (device, versions,
git commit, date, wall time, the data that was read). An experiment whose product is a network (the
few-shot backbone) stores it as ``results/<experiment>.<profile>.pt``, its sha256 in the result.
Every file is written atomically (:func:`coursekit.files.atomic_write`).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Callable

import torch

from . import __version__, files, profiles
from .i18n import _, measured_count, plural, say
from .results import RunResult

PACKAGE_DIR = Path(__file__).resolve().parent


# What every result holds: ``coursekit list``, the figures and the tables read these.
RESULT_KEYS = ("experiment", "profile", "chapter", "config_hash", "metrics", "provenance")
PROVENANCE_KEYS = ("device", "date", "wall_seconds")


class BadResultError(ValueError):
    """A file in the store that is not a result: not JSON, or JSON without the keys of a result."""


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


def check_results_dir() -> Path:
    """The results folder (:func:`results_dir`), made if missing, after checking that results can be
    written there: a clear error now rather than after the training it would store."""
    directory = results_dir()
    fix = "point COURSEKIT_RESULTS at a folder that can be written (it is made if missing), or unset it"
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(f"the results folder {directory} is a file, so no result could be stored there. "
                                 f"Fix it: {fix}.")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(f"the results folder {directory} could not be made ({error}). Fix it: {fix}.") from error
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"the results folder {directory} cannot be written. Fix it: {fix}.")
    return directory


def result_path(name: str, profile: str) -> Path:
    return results_dir() / f"{name}.{profile}.json"


def network_path(name: str, profile: str) -> Path:
    return results_dir() / f"{name}.{profile}.pt"


def read_result(name: str, profile: str) -> dict | None:
    """The stored result of ``name`` for ``profile`` whatever its configuration, or None.

    A file that is there but is not a result raises :class:`BadResultError`."""
    path = result_path(name, profile)
    return read_result_file(path) if path.is_file() else None


def read_result_file(path: Path) -> dict:
    """The result stored in ``path``, or a :class:`BadResultError` that names the file, what is
    wrong with it and the fix."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise BadResultError(f"{path} is not valid JSON ({error}); {_fix(path)}") from error
    if not isinstance(result, dict):
        raise BadResultError(f"{path} is not a JSON object but a {type(result).__name__}; {_fix(path)}")
    missing = [key for key in RESULT_KEYS if key not in result]
    if isinstance(result.get("provenance"), dict):
        missing += [f"provenance.{key}" for key in PROVENANCE_KEYS if key not in result["provenance"]]
    if missing:
        raise BadResultError(f"{path} is missing the keys {', '.join(missing)}; {_fix(path)}")
    wrong = [f"{where} is {json.dumps(value)}, not {kind}" for where, value, kind in _typed_fields(result)
             if not _is(value, kind)]
    if wrong:
        raise BadResultError(f"{path} holds values of the wrong type: {'; '.join(wrong)}; {_fix(path)}")
    if "config" in result and config_hash(result["config"]) != result["config_hash"]:
        raise BadResultError(f"{path}: its configuration does not give its config_hash {result['config_hash']} "
                             f"(the file was edited, or copied from elsewhere): its numbers may not be what the "
                             f"configuration says; {_fix(path)}")
    return result


# The fields a reader of a result relies on, and their JSON types.
FIELD_TYPES = {"experiment": "a string", "profile": "a string", "chapter": "a string", "config_hash": "a string",
               "config": "an object", "metrics": "an object", "provenance": "an object"}
PROVENANCE_TYPES = {"device": "a string", "date": "a string", "wall_seconds": "a number"}


def _typed_fields(result: dict) -> list[tuple[str, object, str]]:
    fields = [(key, result[key], kind) for key, kind in FIELD_TYPES.items() if key in result]
    if isinstance(result["provenance"], dict):
        fields += [(f"provenance.{key}", result["provenance"][key], kind) for key, kind in PROVENANCE_TYPES.items()]
    return fields


def _is(value: object, kind: str) -> bool:
    if kind == "a number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"a string": str, "an object": dict}[kind])


def _fix(path: Path) -> str:
    """What to do about a bad file in the store: delete it, or make it anew."""
    parts = path.name.split(".")
    if len(parts) == 3 and parts[1] in profiles.PROFILES:
        name, profile, _ = parts
        return f"delete it or run `coursekit regenerate --profile {profile} --experiment {name} --force`"
    return f"delete it or move it out of {path.parent} (it is not named <experiment>.<profile>.json)"


def save_result(result: dict) -> Path:
    """Write ``result`` to the store (atomically)."""
    return files.write_json(result_path(result["experiment"], result["profile"]), result)


def stored(warn: Callable[[str], None] | None = None) -> list[dict]:
    """Every result in the store (any experiment, profile or configuration).

    A file that is not a result raises :class:`BadResultError`; with ``warn``, its message goes to
    ``warn`` instead and the file is skipped."""
    directory = results_dir()
    results = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            results.append(read_result_file(path))
        except BadResultError as error:
            if warn is None:
                raise
            warn(str(error))
    return results


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_network(state_dict: dict, name: str, profile: str) -> dict:
    """Store a trained network's weights beside its result; return their file name, sha256 and size."""
    path = files.torch_save(state_dict, network_path(name, profile))
    return dict(file=path.name, sha256=sha256(path), megabytes=round(path.stat().st_size / 2**20, 2))


def load_network(result: dict) -> dict:
    """The state dict stored with ``result``, checked against the sha256 the result records."""
    path = network_path(result["experiment"], result["profile"])
    if not path.is_file() or sha256(path) != result["network"]["sha256"]:
        raise LookupError(f"{path} is missing or is not the file that {result['experiment']}'s stored result was "
                          f"made with; run `coursekit regenerate --profile {result['profile']} "
                          f"--experiment {result['experiment']} --force`")
    return torch.load(path, map_location="cpu", weights_only=True)


# --- provenance -----------------------------------------------------------------------------------

def git_commit() -> str | None:
    """The checkout's commit, with ``+dirty`` when coursekit's code (the code that makes results) has
    uncommitted changes. Where there is no git checkout (a copy of the tree on a GPU machine, an
    installed package in Colab), ``$COURSEKIT_COMMIT`` as whoever copied or installed it recorded it,
    marked ``(declared)``; else ``None``."""
    declared = os.environ.get("COURSEKIT_COMMIT")
    root = repository_root()
    if root is None:
        return f"{declared} (declared)" if declared else None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=10", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                str(PACKAGE_DIR)], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{declared} (declared)" if declared else None
    return commit + ("+dirty" if dirty else "")


def provenance(device: torch.device) -> dict:
    """Where and with what a result is produced (the data are added by the runner)."""
    import torchvision

    return dict(device=profiles.device_name(device), device_type=device.type,
                torch=torch.__version__, torchvision=torchvision.__version__, coursekit=__version__,
                python=platform.python_version(), git_commit=git_commit())


def machine_load() -> dict | None:
    """The machine's CPUs and its load averages over the last 1 and 15 minutes (runnable processes, this
    one included), where the system reports them (not on Windows)."""
    try:
        one, _, fifteen = os.getloadavg()
    except (AttributeError, OSError):
        return None
    return dict(cpus=os.cpu_count(), one_minute=round(one, 2), fifteen_minutes=round(fifteen, 2))


BUSY = 1.25  # load average per CPU above which a run's speed figures are marked as taken on a busy machine


def busy_note(result: dict) -> str:
    """``""``, or a warning that the run shared its machine, so that its speed figures (images/s, wall time)
    understate what the machine can do: a load average above :data:`BUSY` per CPU at its end, over the last
    minute, or over the last 15 minutes for a run that lasted that long (a shorter run's 15 minutes reach
    back to what ran before it; the load at its start says only that)."""
    p = result.get("provenance", {})
    end = p.get("load_end")
    if not end:
        return ""
    worst = max(end["one_minute"], end["fifteen_minutes"] if p.get("wall_seconds", 0) >= 900 else 0.0)
    if worst <= BUSY * end["cpus"]:
        return ""
    return say("a busy machine (load average {load:.1f} on {cpus} CPUs at its end): its speed figures "
               "understate this hardware; benchmarks/ measures speed", load=worst, cpus=end["cpus"])


def duration(seconds: float) -> str:
    """``1 h 02 min``, ``3 min 07 s`` or ``42 s``."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def minutes(value: float) -> str:
    """A duration in minutes, to one decimal, in words: "2.5 minutes"."""
    return plural("{minutes:.1f} minute", "{minutes:.1f} minutes", measured_count(value, 1), minutes=value)


def describe_data(result: dict) -> str:
    """Which copy of which data set a result used, with image counts."""
    d = result["provenance"]["data"]
    if "summary" in d:  # experiments whose data are not one training and one test set say it themselves
        return d["summary"]
    kind = d["train"].get("description", d["train"].get("kind", "?"))
    targets = list(d.get("targets", {}).values())
    if len(targets) == 1 and "split" in targets[0].get("test", {}):  # one data set, its test split made: say how
        kind = targets[0]["test"].get("description", kind)
    elif d["train"].get("kind") == "image-folder" and not d["train"].get("lossless"):
        kind += _(" (an offline copy, e.g. the JPEG re-encoding: numbers differ from the original's)")
    return say("{kind}; {train:,} training and {test:,} test images", kind=kind, train=d["train"]["images"],
               test=d["test"]["images"])


def provenance_line(result: dict) -> str:
    """One line that says which run a figure or table shows: profile, hardware, date, time, data."""
    p = result["provenance"]
    date = dt.datetime.fromisoformat(p["date"]).strftime("%Y-%m-%d %H:%M UTC")
    commit = say(", commit {commit}", commit=p["git_commit"]) if p.get("git_commit") else ""
    line = say("{experiment} · profile {profile} · {device} · {date} · wall time {wall} · torch {torch}{commit} · "
               "data: {data}", experiment=result["experiment"], profile=result["profile"], device=p["device"],
               date=date, wall=duration(p["wall_seconds"]), torch=p["torch"], commit=commit, data=describe_data(result))
    return line + (f" · {busy_note(result)}" if busy_note(result) else "")


# What a result is summed up by, the first that its metrics hold: (metric, scale, name, unit, digits).
HEADLINES = (("accuracy", 100, "accuracy", " %", 1), ("map_50", 1, "mAP@0.5", "", 3), ("mae", 1, "MAE", " years", 2))


def headline(result: dict) -> str:
    """The result in a few words: its accuracy (a detector's mAP@0.5, an age regressor's MAE), the number
    of runs of a multi-run experiment, or what it measured."""
    metrics = result["metrics"]
    if result.get("seeds"):
        view = RunResult.from_dict(result)
        found = next((h for h in HEADLINES if h[0] in view.seeds[0].metrics), None)
        if found is not None:
            key, scale, name, unit, digits = found
            mean, half = view.interval(key, scale)
            return f"{name} {mean:.{digits}f} ± {half:.{digits}f}{unit} ({len(view)} seeds)"
    found = next((h for h in HEADLINES if h[0] in metrics), None)
    if found is not None:
        key, scale, name, unit, digits = found
        return f"{name} {scale * metrics[key]:.{digits}f}{unit}"
    if "rows" in metrics:
        return f"{len(metrics['rows'])} runs"
    return ", ".join(metrics)
