"""Profiles say how big a run is; the device says where it runs.

A profile is data, not branches in chapters: every experiment names its sizes for ``ci`` (CPU,
seconds, numbers meaningless), ``quick`` (minutes on a laptop CPU or a free GPU, numbers meaningful
and stored) and ``full`` (the chapter's reference recipe on a GPU) in its own definition
(:mod:`coursekit.experiments`); this module names no experiment.
The active profile comes from the environment variable ``COURSEKIT_PROFILE`` (default ``quick``).
"""
from __future__ import annotations

import contextlib
import os
import platform
import sys
from pathlib import Path

import torch

PROFILES = ("ci", "quick", "full")
DEFAULT_PROFILE = "quick"

# What each profile is for, shown by `coursekit list` and the book's introduction.
DESCRIPTIONS = {
    "ci": "CI and chapter tests: CPU, no network, seconds per experiment; numbers are meaningless and never stored",
    "quick": "a laptop CPU or a free Colab GPU: minutes per experiment; meaningful small-scale numbers, stored in results/",
    "full": "a GPU: the chapter's reference recipe (full data set, real epochs); numbers comparable to published ones",
}

def current(profile: str | None = None) -> str:
    """The active profile: ``profile`` if given, else ``$COURSEKIT_PROFILE``, else ``quick``."""
    name = profile or os.environ.get("COURSEKIT_PROFILE") or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(
            f"unknown profile {name!r} (from {'the argument' if profile else 'COURSEKIT_PROFILE'}); "
            f"choose one of {', '.join(PROFILES)}"
        )
    return name


def device() -> torch.device:
    """The best device present: CUDA, then Apple MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_name(dev: torch.device | None = None) -> str:
    """A human name for the device, e.g. ``NVIDIA H100 80GB HBM3`` or ``CPU x86_64 (2 threads)``."""
    dev = dev or device()
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    if dev.type == "mps":
        return f"Apple MPS ({platform.machine()})"
    return f"CPU {platform.machine()} ({torch.get_num_threads()} threads)"


def banner(profile: str | None = None) -> str:
    """One line a chapter prints at its top: profile, device and torch version."""
    from . import __version__

    return (
        f"coursekit {__version__} | profile: {current(profile)} | device: {device_name()} "
        f"| torch {torch.__version__}"
    )


def show_progress() -> bool:
    """Whether progress bars should be drawn.

    ``$COURSEKIT_PROGRESS`` (``0`` or ``1``) decides when set. Otherwise bars are on in a terminal,
    in Colab and in an interactive notebook, and off in CI (``$CI``) and in other
    non-interactive runs, so that logs and the built book stay free of bars.
    """
    setting = os.environ.get("COURSEKIT_PROGRESS")
    if setting is not None:
        return setting not in ("0", "", "false", "no")
    if os.environ.get("CI"):
        return False
    if "google.colab" in sys.modules:
        return True
    with contextlib.suppress(Exception):
        shell = get_ipython().__class__.__name__  # type: ignore[name-defined]  # noqa: F821
        if shell == "ZMQInteractiveShell":
            return True
    return sys.stderr.isatty()


def cpu_has_bf16() -> bool:
    """Whether bf16 autocast pays on this CPU: oneDNN computes in bf16 and the CPU has AMX matrix
    units (``amx_bf16``), detected, not assumed. AVX-512 BF16 alone does not count: on an AMD EPYC
    with it, ``benchmarks/precision.py`` measured bf16 training steps at 0.35x float32's speed.
    ``$COURSEKIT_CPU_BF16`` (``0`` or ``1``) overrides the detection."""
    setting = os.environ.get("COURSEKIT_CPU_BF16")
    if setting in ("0", "1"):
        return setting == "1"
    if not torch.backends.mkldnn.is_available() or not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return False
    return "amx_bf16" in cpu_flags()


def cpu_flags() -> set[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (Linux); empty elsewhere."""
    try:
        return set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return set()
