"""Simulation kernels: numba (default) and, optionally, Mojo.

Kernels take plain arrays packed by `workbench.race.model.pack` and write
into caller-owned output arrays; they know nothing about race files or twins.
The Python kernels live inside the `workbench` package (not a top-level
``kernels`` package) so that they ship with the wheel and cannot collide with the
unrelated ``kernels`` distribution on PyPI. Kernel sources that are not Python
modules (the Mojo kernel) live in the repository's top-level ``kernels/`` folder,
shipped in the wheel as ``workbench/_kernels`` and found by
`workbench.paths.kernel_source`.
"""
