"""The context of a run, passed in plain sight: where it keeps its state, whose it is, which profile it
runs under, when it must stop, and how it reports.

:func:`coursekit.experiments.run` makes one :class:`RunState` per experiment and hands it to the
experiment's runner, which hands it on to :func:`coursekit.train.fit` (or to a child per seed, or to
:func:`coursekit.experiments.core.run_plan`). Everything an interrupted run needs to resume is kept
beside ``checkpoint``, in files that share its stem:

    <stem>.pt            the training state that fit saves (weights, optimiser, schedule, generators, ...)
    <stem>.seed<N>.pt    a child's: each seed of an experiment repeated over seeds
    <stem>.seeds.json    the outputs of the seeds already finished
    <stem>.rows.json     the rows of a plan of many small runs already finished
    <stem>.wall.json     the wall seconds of earlier, interrupted attempts

Each is stamped with the run's ``identity``; a file left by another run is refused with the fix.
``state = RunState()`` (no checkpoint) is a run that keeps nothing: a live demonstration or a test.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import files, profiles

_FIX = "delete it to start afresh (`coursekit regenerate ... --force` does)"


class OutOfTime(RuntimeError):
    """The work in progress would not finish before the deadline; ``needed`` is the estimated
    seconds it still needed, ``left`` the seconds that were left."""

    def __init__(self, needed: float, left: float) -> None:
        super().__init__(f"needs about {needed:.0f} s more, {max(left, 0):.0f} s left before the time limit")
        self.needed, self.left = needed, left


@dataclass(frozen=True)
class RunState:
    """What a run carries from :func:`coursekit.experiments.run` down to the training loop.

    ``checkpoint``: the training state's file (None: nothing is saved, nothing resumed);
    ``identity``: whose run it is, stamped on everything it saves; ``profile``: the profile it runs
    under, which its dependencies (a backbone it needs) are taken from; ``deadline``: a time on the
    monotonic clock after which nothing more is started (:meth:`check_time`); ``progress`` and
    ``verbose``: a bar per epoch, a line per epoch."""

    checkpoint: Path | None = None
    identity: str | None = None
    profile: str = dataclasses.field(default_factory=profiles.current)
    deadline: float | None = None
    progress: bool = dataclasses.field(default_factory=profiles.show_progress)
    verbose: bool = True

    def child(self, name: str) -> RunState:
        """The state of one part of this run (``"seed3"``): its own checkpoint beside this one."""
        path = self.checkpoint.with_suffix(f".{name}.pt") if self.checkpoint is not None else None
        return dataclasses.replace(self, checkpoint=path)

    def with_time_limit(self, seconds: float) -> RunState:
        """This state with a deadline ``seconds`` from now (the earlier one if it already has one)."""
        deadline = time.monotonic() + seconds
        return dataclasses.replace(self, deadline=min(deadline, self.deadline or deadline))

    # --- time ------------------------------------------------------------------------------------

    def time_left(self) -> float | None:
        """Seconds before the deadline (negative once past it); None without one."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check_time(self, seconds_per_unit: float, units_left: int) -> None:
        """Raise :class:`OutOfTime` if ``units_left`` more units of ``seconds_per_unit`` each would end
        after the deadline, or if it has passed with work left. Called after every epoch (the first
        one is the measurement) and before every run of a plan."""
        left = self.time_left()
        needed = seconds_per_unit * units_left
        if left is not None and units_left > 0 and (needed > left or left <= 0):
            raise OutOfTime(needed, left)

    # --- what an interrupted run left -------------------------------------------------------------

    def files(self) -> list[Path]:
        """Every file this run keeps: its checkpoint and every file beside it that shares its stem."""
        if self.checkpoint is None:
            return []
        return sorted(self.checkpoint.parent.glob(glob.escape(self.checkpoint.stem) + ".*"))

    def progress_path(self, kind: str) -> Path | None:
        """Where this run keeps its progress of ``kind`` (``seeds``, ``rows``, ``wall``)."""
        return self.checkpoint.with_suffix(f".{kind}.json") if self.checkpoint is not None else None

    def read_progress(self, kind: str) -> dict:
        """The progress of ``kind`` that an interrupted attempt left ({} if none), refused with the fix if it
        cannot be read or was left by another run."""
        path = self.progress_path(kind)
        if path is None or not path.is_file():
            return {}
        try:
            saved = json.loads(path.read_text())
        except ValueError as error:  # empty or cut short
            raise RuntimeError(f"cannot read {path} ({error}); {_FIX}") from error
        self.check_identity(saved.get("identity"), path)
        return saved

    def write_progress(self, kind: str, **values: Any) -> None:
        """Keep the progress of ``kind`` (atomically, stamped with the identity); nothing without a checkpoint."""
        path = self.progress_path(kind)
        if path is not None:
            files.write_json(path, dict(identity=self.identity, **values), indent=None)

    def clear(self, kind: str | None = None) -> None:
        """Remove the progress of ``kind``, or (``None``) every file this run keeps."""
        paths = self.files() if kind is None else [self.progress_path(kind)]
        for path in paths:
            if path is not None:
                path.unlink(missing_ok=True)

    def check_identity(self, found: str | None, path: Path) -> None:
        """Refuse a file at ``path`` saved by a run other than this one."""
        if self.identity and found not in (None, self.identity):
            raise RuntimeError(f"{path} belongs to {found}, not to {self.identity}; {_FIX}")

    def unreadable(self, path: Path, error: Exception) -> RuntimeError:
        """The error for a state file that cannot be read, with the fix."""
        return RuntimeError(f"cannot read the checkpoint {path} ({error}); {_FIX}")
