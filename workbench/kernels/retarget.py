"""Compile one plain-Python model source for several numba targets (CPU ``njit``, CUDA device).

A function compiled by numba calls other functions through its globals; a plain
function's globals name plain functions, which no target can call. So
`compile_functions` rebuilds each function with a copy of its globals in which
every callee is replaced by the same target's compiled version, then compiles it.
The code objects are shared: the CPU and GPU kernels run the same source lines.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def plain(func: Any) -> types.FunctionType:
    """The Python function behind ``func`` (a numba dispatcher's ``py_func``, or ``func`` itself)."""
    return getattr(func, "py_func", func)


def compile_functions(funcs: Iterable[Any], compile_: Callable[[types.FunctionType], Any],
                      bound: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Compile ``funcs`` in order (callees first) with ``compile_``; returns ``{name: compiled}``.

    Parameters
    ----------
    funcs : iterable of functions or numba dispatchers
        In dependency order: a function's callees among ``funcs`` come before it.
    compile_ : callable
        The target's decorator, e.g. ``njit(cache=True)`` or ``cuda.jit(device=True)``.
    bound : mapping, optional
        Names already compiled for this target (e.g. the random number functions),
        bound into every function's globals.
    """
    compiled: dict[str, Any] = dict(bound or {})
    out: dict[str, Any] = {}
    for func in funcs:
        f = plain(func)
        g = dict(f.__globals__)
        g.update(compiled)
        new = types.FunctionType(f.__code__, g, f.__name__, f.__defaults__, f.__closure__)
        new.__qualname__, new.__module__, new.__doc__ = f.__qualname__, f.__module__, f.__doc__
        compiled[f.__name__] = out[f.__name__] = compile_(new)
    return out
