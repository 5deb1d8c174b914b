"""Compile the CUDA kernels to PTX for sm_90 without a GPU: catches device code the simulator accepts but
a real GPU would not compile (the simulator runs kernels as Python).

Needs NVVM and NVRTC (not in CI): e.g. ``pip install --target /tmp/nvtk nvidia-cuda-nvrtc-cu12==12.9.86
nvidia-cuda-nvcc-cu12==12.9.86``, then ``PYTHONPATH=.:/tmp/nvtk
LD_LIBRARY_PATH=/tmp/nvtk/nvidia/cuda_nvrtc/lib:/tmp/nvtk/nvidia/cuda_nvcc/nvvm/lib64 python
tests/cuda_ptx_check.py``. Device functions normally ask the current GPU for its compute capability; with no
GPU this script answers 9.0 (an H200) instead.
"""

from __future__ import annotations

import types as _types

import numba.cuda.dispatcher as _dispatcher
import numpy as np
from numba import cuda, typeof, types

from workbench.kernels import cuda_race
from workbench.strategy.montecarlo import pack
from workbench.strategy.racedef import bundled_race

_dispatcher.get_current_device = lambda: _types.SimpleNamespace(compute_capability=(9, 0))


def _t(a):
    if isinstance(a, np.ndarray):
        return typeof(a)
    return types.int64 if isinstance(a, (int, np.integer)) else types.float64


def main() -> None:
    model = tuple(_t(a) for a in pack(bundled_race()).kernel_args())
    i64, f1 = types.int64, types.Array(types.float64, 1, "C")
    a1, a2 = types.Array(types.int64, 1, "C"), types.Array(types.int64, 2, "C")
    f2 = types.Array(types.float64, 2, "C")
    sigs = {"_full_kernel": (i64, i64, i64, i64, i64, a2, a2, a1) + model + (a2, f2, a2),
            "_summary_kernel": (i64, i64, i64, i64, a2, a2, a1) + model + (f1, a2, f1, f1, f1, f1),
            "_time_hist_kernel": (i64, i64, f1, f1, f1, a2)}
    for name, sig in sigs.items():
        ptx, _ = cuda.compile_ptx(getattr(cuda_race, name).py_func, sig, cc=(9, 0))
        print(f"{name}: {len(ptx)} characters of PTX for sm_90")


if __name__ == "__main__":
    main()
