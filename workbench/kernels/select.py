"""Which race kernel runs: ``backend="auto"`` resolution and the GPU probe.

``auto`` means the CUDA kernel (`workbench.kernels.cuda_race`) when numba-cuda is
installed (the ``gpu`` extra) and a CUDA GPU is present, else numba. numba's CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``) is never picked by ``auto``: it runs the
GPU kernel on the CPU, thousands of times slower, and is only for parity tests
(ask for it with ``backend="cuda"``).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
from types import ModuleType

INSTALL_HINT = "install the gpu extra: pip install '.[gpu]' (numba-cuda)"


class CudaUnavailable(RuntimeError):
    """``backend="cuda"`` was asked for but numba-cuda or a GPU is missing."""


@dataclasses.dataclass(frozen=True)
class GpuStatus:
    """What the CUDA backend would find: ``usable`` means ``backend="cuda"`` can run."""

    installed: bool  # numba-cuda importable
    simulator: bool  # NUMBA_ENABLE_CUDASIM=1
    gpu_name: str | None  # the device's name; None when no GPU (or the simulator)
    reason: str  # one line for people: what was found

    @property
    def usable(self) -> bool:
        return self.installed and (self.simulator or self.gpu_name is not None)

    def to_json(self) -> dict:
        return {"numba_cuda_installed": self.installed, "simulator": self.simulator, "gpu": self.gpu_name,
                "detail": self.reason}


def numpy_compat() -> None:
    """The one shim numba-cuda 0.30 needs: ``np.row_stack`` (removed in numpy 2.5) as ``np.vstack``.

    numba-cuda 0.30 registers an overload for ``np.row_stack`` when it loads, so on
    numpy >= 2.5 it fails without the alias (issue 18). Does nothing on older numpy,
    where ``np.row_stack`` still exists. Called before every import of numba.cuda.
    """
    import numpy as np
    if not hasattr(np, "row_stack"):
        np.row_stack = np.vstack


def _simulator() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


@functools.lru_cache(maxsize=1)
def gpu_status() -> GpuStatus:
    """Probe once per process: is numba-cuda installed, is a CUDA GPU there, what is it called."""
    if importlib.util.find_spec("numba_cuda") is None:
        return GpuStatus(False, _simulator(), None, f"numba-cuda not installed; {INSTALL_HINT}")
    if _simulator():
        return GpuStatus(True, True, None, "numba-cuda installed; NUMBA_ENABLE_CUDASIM=1 (CPU simulator)")
    try:
        numpy_compat()
        from numba import cuda
        if not cuda.is_available():
            return GpuStatus(True, False, None, "numba-cuda installed; no CUDA GPU or driver found")
        name = cuda.get_current_device().name
        name = name.decode() if isinstance(name, bytes) else str(name)
    except Exception as exc:  # a broken driver must not stop the CPU backends; the reason is reported
        return GpuStatus(True, False, None, f"numba-cuda installed; CUDA probe failed: {exc}")
    return GpuStatus(True, False, name, f"CUDA GPU: {name}")


def resolve_backend(backend: str) -> str:
    """``auto`` -> ``cuda`` when a real GPU and numba-cuda are there, else ``numba``; others unchanged."""
    if backend != "auto":
        return backend
    status = gpu_status()
    return "cuda" if status.installed and status.gpu_name is not None else "numba"


def cuda_kernels() -> ModuleType:
    """`workbench.kernels.cuda_race`, or `CudaUnavailable` saying what is missing and how to install it."""
    status = gpu_status()
    if not status.usable:
        raise CudaUnavailable(f"backend cuda: {status.reason}"
                              + ("" if not status.installed else "; use --backend numba"))
    from workbench.kernels import cuda_race
    return cuda_race


def kernel_report() -> dict:
    """What ``auto`` picks and why, for ``/api/v1/health`` and ``racetwin doctor``."""
    return {"backend": resolve_backend("auto"), **gpu_status().to_json()}


def startup_line() -> str:
    """One line for ``racetwin serve``'s start-up banner."""
    backend = resolve_backend("auto")
    return f"kernel {backend} ({gpu_status().reason})"
