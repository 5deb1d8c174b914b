"""Where bundled files live, installed or in a source checkout.

The repository's top-level ``data/`` and ``kernels/`` folders are not Python
packages. A wheel carries them inside the package as ``workbench/_data`` and
``workbench/_kernels`` (``[tool.hatch.build.targets.wheel.force-include]`` in
``pyproject.toml``); a source checkout or an editable install reads them beside
the package.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["bundled_data_dir", "kernel_source", "kernel_source_dir"]


def _bundled(folder: str, what: str) -> Path:
    """``workbench/_<folder>`` (a wheel) or ``<repo>/<folder>`` (a checkout), whichever exists."""
    here = Path(__file__).resolve().parent
    for candidate in (here / f"_{folder}", here.parent / folder):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{what}: neither {here / f'_{folder}'} nor {here.parent / folder} exists")


def bundled_data_dir() -> Path:
    """The folder of bundled race data.

    A wheel carries the repository's ``data/`` as ``workbench/_data``; a source
    checkout or an editable install reads ``data/`` beside the package.
    """
    return _bundled("data", "bundled data")


def kernel_source_dir() -> Path:
    """The folder of kernel sources that are not Python modules (the Mojo kernel).

    A wheel carries the repository's ``kernels/`` as ``workbench/_kernels``; a source
    checkout or an editable install reads ``kernels/`` beside the package. The Python
    kernels are modules of `workbench.kernels` (see ``kernels/README.md``).
    """
    return _bundled("kernels", "kernel sources")


def kernel_source(name: str) -> Path:
    """The kernel source file ``name`` (e.g. ``"mojo_race.mojo"``) of `kernel_source_dir`.

    Raises
    ------
    FileNotFoundError
        When the folder exists but holds no file of that name.
    """
    path = kernel_source_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"kernel source {name!r}: {path} does not exist")
    return path
