"""Plans that spend a short GPU window well.

    coursekit regenerate --profile full --plan gpu --time-limit 8m

runs the book's from-scratch experiments in the order of :data:`GPU` (most value per GPU-second
first), stores each result the moment it finishes, and stops what would overrun the limit: every
training run measures its first epoch and extrapolates (:meth:`coursekit.runs.RunState.check_time`), so a run that
cannot finish gives its time to the next one. A result already stored for the current configuration
is kept, so the next window continues where this one stopped. Experiments that need pretrained
weights from a model hub are skipped with the reason: a machine without network cannot run them,
and nothing is faked. At the end it prints what it did and what is left.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from . import experiments, profiles, store
from .runs import OutOfTime

# From-scratch experiments, most value per GPU-second first: the fast recipe (seconds), the classic
# comparison and the degradation problem near convergence, CNN against ViT on more data, few-shot.
GPU = ["intro_fast", "classic_lr_find", "classic_resnet", "classic_vgg", "classic_alexnet", "classic_alexnet_bn",
       "classic_googlenet", "degradation_plain20", "degradation_plain56", "degradation_resnet20",
       "degradation_resnet56", "vs_lr_find", "vs_*", "fewshot_backbone", "fewshot_shots", "fewshot_ablation",
       "fewshot_mixing", "fewshot_pseudo", "fewshot_episodes", "detect_lenet", "detect_digits", "intro_cnn", "vit_memory"]
PLANS = {"gpu": GPU}
NEEDS_HUB = "needs pretrained weights from a model hub (ImageNet, timm, DINOv2), which a machine without network cannot fetch"
HUB = {"transfer_decision": NEEDS_HUB, "transfer_targets": NEEDS_HUB, "vit_pretrained": NEEDS_HUB}
START_MARGIN = 20.0  # seconds: no experiment is started with less left than this


def names(plan: str) -> list[str]:
    """The experiments of ``plan`` in order, with ``prefix_*`` expanded to the registered names it matches."""
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}; plans: {', '.join(PLANS)}")
    out: list[str] = []
    for entry in PLANS[plan]:
        matched = [n for n in experiments.EXPERIMENTS if n.startswith(entry[:-1])] if entry.endswith("*") else [entry]
        out += [n for n in matched if n in experiments.EXPERIMENTS and n not in out]
    return out


def parse_duration(text: str) -> float:
    """``"8m"``, ``"90s"``, ``"1h30m"`` or a number of seconds, in seconds."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([hms])", text)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != text.replace(" ", ""):
        raise ValueError(f"cannot read the duration {text!r}: write it like 8m, 90s or 1h30m")
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


@dataclass
class Step:
    """What the plan did with one experiment: ``status`` is one of done, stored, cut off, left, skipped, failed."""

    name: str
    status: str
    detail: str = ""
    seconds: float = 0.0


def run(plan: str, profile: str | None = None, time_limit: float | None = None, *, force: bool = False) -> list[Step]:
    """Run ``plan`` under ``profile`` within ``time_limit`` seconds (None: no limit); one :class:`Step`
    per experiment of the plan, and one per registered experiment it leaves out (with the reason)."""
    profile = profiles.current(profile)
    steps = [Step(n, "skipped", reason) for n, reason in HUB.items() if n in experiments.EXPERIMENTS]
    deadline = time.monotonic() + time_limit if time_limit is not None else None
    for name in names(plan):
        if profile not in experiments.get(name).profiles:
            steps.append(Step(name, "skipped", f"runs only in {', '.join(experiments.get(name).profiles)}"))
            continue
        if not force and profile != "ci" and experiments.load(name, profile) is not None:
            steps.append(Step(name, "stored", "a result for this configuration is stored already"))
            continue
        if deadline is not None and deadline - time.monotonic() < START_MARGIN:
            steps.append(Step(name, "left", "no time left in this window"))
            continue
        tick = time.monotonic()
        try:
            result = experiments.run(name, profile, force=force, deadline=deadline)
            steps.append(Step(name, "done", store.headline(result), time.monotonic() - tick))
        except OutOfTime as stop:
            steps.append(Step(name, "cut off", f"{stop}; its finished seeds or runs are lost with this machine, "
                                               "a later window trains it anew", time.monotonic() - tick))
        except (OSError, RuntimeError, LookupError, ValueError) as error:  # missing data, no GPU, a failed test, ...
            steps.append(Step(name, "failed", f"{type(error).__name__}: {error}", time.monotonic() - tick))
    return steps


def report(steps: list[Step]) -> str:
    """The plan's account, one line per experiment, then the totals."""
    lines = [f"{s.status:>8}  {s.name:<24} {f'{s.seconds:6.0f} s' if s.seconds else ' ' * 8}  {s.detail}" for s in steps]
    counts = {status: sum(s.status == status for s in steps) for status in ("done", "stored", "cut off", "left", "skipped", "failed")}
    lines.append(", ".join(f"{n} {status}" for status, n in counts.items() if n) +
                 f"; {sum(s.seconds for s in steps):.0f} s spent")
    return "\n".join(lines)
