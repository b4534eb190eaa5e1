"""Where and how a network computes: the device, mixed precision, the memory format of images, and
the peak memory a run used. Resolved once (:meth:`Runtime.resolve`), then used by every step of
:mod:`coursekit.train` and :mod:`coursekit.diagnostics`."""
from __future__ import annotations

import sys
from dataclasses import dataclass

import torch

from . import profiles


def autocast_dtype(device: torch.device, cpu: bool = False) -> torch.dtype | None:
    """The mixed-precision dtype for ``device``: bf16 or fp16 on CUDA; with ``cpu``, bf16 on a CPU
    that has it natively (:func:`coursekit.profiles.cpu_has_bf16`); none elsewhere."""
    if device.type == "cpu" and cpu:
        return torch.bfloat16 if profiles.cpu_has_bf16() else None
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def memory_format_for(device: torch.device, channels_last: bool | None = None) -> torch.memory_format:
    """channels_last (NHWC) unless asked otherwise, on CUDA and on the CPU.

    On CUDA it lets convolutions use tensor cores; on an x86 CPU, oneDNN's convolutions are
    faster in NHWC as well (``benchmarks/channels_last.py`` measures the ratio). MPS keeps NCHW.
    """
    if channels_last is None:
        channels_last = device.type in ("cuda", "cpu")
    return torch.channels_last if channels_last else torch.contiguous_format


@dataclass(frozen=True)
class Runtime:
    """Where and how a network computes: the device, the autocast dtype (``None``: float32) and the
    memory format of images. Resolved once by :meth:`resolve`, then used by every step."""

    device: torch.device
    amp_dtype: torch.dtype | None
    memory_format: torch.memory_format

    @classmethod
    def resolve(cls, device: torch.device | str | None = None, amp: bool | None = None,
                channels_last: bool | None = None) -> Runtime:
        """``device`` defaults to the best available; ``amp`` to on for CUDA and off elsewhere
        (``amp=True`` on a CPU uses bf16 where the CPU has it); ``channels_last`` to :func:`memory_format_for`."""
        device = torch.device(device) if device is not None else profiles.device()
        amp_dtype = autocast_dtype(device, cpu=amp is True) if amp in (None, True) else None
        return cls(device, amp_dtype, memory_format_for(device, channels_last))

    @property
    def precision(self) -> str:
        return str(self.amp_dtype).replace("torch.", "") + " autocast" if self.amp_dtype else "float32"

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """Loss scaling, needed by fp16 only (bf16 has float32's range)."""
        return torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)

    def images(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(self.device, non_blocking=True, memory_format=self.memory_format)

    def sync(self) -> None:
        """Wait for the GPU, so that a clock read afterwards includes its work."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def peak_memory(device: torch.device) -> tuple[float, str]:
    """Peak memory in MB: allocated by CUDA on a GPU (since ``fit`` started), the process's resident
    set on the CPU (since the process started: it includes the data set held in memory; 0 where the
    system does not report it)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20, "CUDA allocated (peak)"
    try:
        import resource  # POSIX only
    except ImportError:  # Windows
        return 0.0, "not measured (no resource module)"
    scale = 2**20 if sys.platform == "darwin" else 1024  # macOS reports bytes, Linux kilobytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale, "process resident set (peak)"
