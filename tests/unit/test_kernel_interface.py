"""Every race-kernel backend takes the arguments and uses the constants declared once in `workbench.kernels.layout`.

The Python backends (numba, numpy reference, Mojo loader, CUDA) are checked by their signatures
and by the positions of the arguments at their call sites. The Mojo kernel is checked by reading
``kernels/mojo_race.mojo`` as text: how its structs unpack the argument lists, and the values of
its ``comptime`` constants. Nothing here needs Mojo, numba-cuda or a GPU.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from workbench.kernels import layout as L
from workbench.kernels import mojo_backend, numba_race, numba_rng, race_step
from workbench.kernels.retarget import plain
from workbench.race import reference
from workbench.rng import Purpose

ROOT = Path(__file__).resolve().parents[2]
KERNEL_MODULES = {
    "numba_race": ROOT / "workbench" / "kernels" / "numba_race.py",
    "race_step": ROOT / "workbench" / "kernels" / "race_step.py",
    "cuda_race": ROOT / "workbench" / "kernels" / "cuda_race.py",
    "mojo_backend": ROOT / "workbench" / "kernels" / "mojo_backend.py",
    "reference": ROOT / "workbench" / "race" / "reference.py",
}
MOJO = ROOT / "kernels" / "mojo_race.mojo"

RACE = L.RACE_ARG_NAMES
OUT = L.names(L.OUTPUT_ARGS)
CAND = L.names(L.RUN_CANDIDATES_HEAD)[2:]  # our_car, cand_pit_lap, cand_pit_compound, cand_n_stops
SCRATCH = ("status", "stops", "prefix", "fs", "iscr")

# Every function of the kernel modules that takes the race model, with its full parameter list.
SIGNATURES: dict[tuple[str, str], tuple[str, ...]] = {
    **{(m, k): L.names(args) for m in ("numba_race", "mojo_backend", "reference") for k, args in L.KERNELS.items()},
    ("reference", "run_races"): (*L.names(L.KERNELS["run_races"]), "trace"),
    ("reference", "_run"): ("seed", "sims", *RACE, *OUT, "trace"),
    ("numba_race", "race_with_scratch"): ("seed", "sim", *RACE, *OUT, "row"),
    ("race_step", "race_one"): ("seed", "sim", *RACE, *OUT, "row", *SCRATCH),
    ("cuda_race", "_pair"): ("j", "seed", "sim0", "n_runs", *CAND, *RACE, *OUT, "row"),
    ("cuda_race", "_full_kernel"): ("n_rows", "seed", "sim0", "n_runs", *CAND, *RACE, *OUT),
    ("cuda_race", "_summary_kernel"): ("n_rows", "seed", "n_runs", *CAND, *RACE, "points", "hist", "points_sum",
                                       "t_min", "t_max", "our_time"),
    ("cuda_race", "run_races"): ("seed", "sim0", "n_runs", "*args"),
    ("cuda_race", "run_candidates"): (*L.names(L.RUN_CANDIDATES_HEAD), "*args"),
}
# Names bound to a compiled function of another module (``race_one = _STEP["race_one"]``).
ALIASES = {"race_one": ("race_step", "race_one"), "_race_one": ("race_step", "race_one")}


def _params(fn: ast.FunctionDef) -> tuple[str, ...]:
    a = fn.args
    out = [p.arg for p in (*a.posonlyargs, *a.args)]
    if a.vararg:
        out.append(f"*{a.vararg.arg}")
    return (*out, *(p.arg for p in a.kwonlyargs))


def _defs(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    return {n.name: _params(n) for n in tree.body if isinstance(n, ast.FunctionDef)}


def _trees() -> dict[str, ast.Module]:
    return {m: ast.parse(p.read_text(encoding="utf-8")) for m, p in KERNEL_MODULES.items()}


# -- Python backends -----------------------------------------------------------------------------


def test_the_declaration_is_consistent():
    assert len(RACE) == len(set(RACE)) == 30
    for kernel, args in L.KERNELS.items():
        assert len(L.names(args)) == len(set(L.names(args))), kernel
        for arg in args:
            assert arg.dtype in ("int64", "float64", "bool") and arg.ndim in (0, 1, 2), (kernel, arg)
    assert [a.name for a in L.MOJO_RACE] == ["seed", "sim0", *L.MOJO_SIZES, *RACE, *OUT]
    assert all(array in RACE for array, _ in L.MOJO_SIZES.values())


@pytest.mark.parametrize("module", [numba_race, reference, mojo_backend], ids=lambda m: m.__name__)
@pytest.mark.parametrize("kernel", sorted(L.KERNELS))
def test_entry_points_take_the_declared_arguments(module, kernel):
    """By introspection of the live functions (numba dispatchers through their ``py_func``)."""
    expected = SIGNATURES[(module.__name__.rsplit(".", 1)[-1], kernel)]
    assert tuple(inspect.signature(plain(getattr(module, kernel))).parameters) == expected


def test_the_race_step_takes_the_declared_arguments():
    """The one race step that numba and CUDA both compile, and numba's wrapper that allocates its scratch."""
    assert tuple(inspect.signature(race_step.race_one).parameters) == SIGNATURES[("race_step", "race_one")]
    assert (tuple(inspect.signature(plain(numba_race.race_with_scratch)).parameters)
            == SIGNATURES[("numba_race", "race_with_scratch")])


def test_every_function_taking_the_race_model_takes_it_in_the_declared_order():
    """By the source (cuda_race needs numba-cuda to import): the table above covers every such function."""
    found = {}
    for module, tree in _trees().items():
        for name, params in _defs(tree).items():
            if "forced_status" in params or (module, name) in SIGNATURES:
                found[(module, name)] = params
    assert set(found) == set(SIGNATURES), f"functions not in SIGNATURES: {set(found) ^ set(SIGNATURES)}"
    wrong = {key: params for key, params in found.items() if params != SIGNATURES[key]}
    assert not wrong, f"signatures that differ from workbench.kernels.layout: {wrong}"


def test_cuda_entry_points_split_their_arguments_as_declared():
    """cuda_race.run_races / run_candidates take the model and outputs as ``*args`` and split off the outputs."""
    defs = {n.name: n for n in _trees()["cuda_race"].body if isinstance(n, ast.FunctionDef)}
    for name in ("run_races", "run_candidates"):
        first = defs[name].body[1]  # after the docstring
        assert isinstance(first, ast.Assign) and isinstance(first.targets[0], ast.Tuple), name
        targets = first.targets[0].elts
        assert isinstance(targets[0], ast.Starred) and tuple(t.id for t in targets[1:]) == OUT, name
    src = KERNEL_MODULES["cuda_race"].read_text(encoding="utf-8")
    assert "L.RACE_ARG_NAMES.index(n)" in src and not re.search(r"_N_LAPS, _T0, _PIT_LAP = \d", src)


def call_site_problems(trees: dict[str, ast.Module]) -> tuple[list[str], int]:
    """Positional arguments passed by a parameter's name at another position; and how many were checked.

    A call to a function of the kernel modules (or an alias of one) whose i-th positional
    argument is a bare name that is also one of the callee's parameter names must pass it
    as the callee's i-th parameter. Names the callee does not have (``pl``, ``d_pos``)
    are substitutions and are not checked, nor is a name also passed at its own position
    (``_pair(j, ..., j)``: race j into row j); a ``*starred`` argument ends the check.
    """
    defs = {m: _defs(t) for m, t in trees.items()}
    problems, checked = [], 0
    for module, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func.value if isinstance(node.func, ast.Subscript) else node.func  # kernel[grid](...)
            if not isinstance(func, ast.Name):
                continue
            target = (module, func.id) if func.id in defs[module] else ALIASES.get(func.id)
            if target is None or target[1] not in defs.get(target[0], {}):
                continue
            params = defs[target[0]][target[1]]
            for i, arg in enumerate(node.args):
                if isinstance(arg, ast.Starred) or i >= len(params) or params[i].startswith("*"):
                    break
                if isinstance(arg, ast.Name) and arg.id in params:
                    checked += 1
                    own = params.index(arg.id)  # a name also passed at its own position is used twice on purpose
                    at_own = node.args[own] if own < len(node.args) else None
                    twice = isinstance(at_own, ast.Name) and at_own.id == arg.id
                    if params[i] != arg.id and not twice:
                        problems.append(f"{module}.py:{node.lineno}: {func.id}() gets {arg.id} as argument {i}, "
                                        f"which is {params[i]}")
    return problems, checked


def test_call_sites_pass_every_argument_in_its_declared_position():
    problems, checked = call_site_problems(_trees())
    assert checked > 300, checked  # the scan sees the real kernel calls
    assert not problems, "\n".join(problems)


def test_the_call_site_check_catches_a_swap():
    src = KERNEL_MODULES["numba_race"].read_text(encoding="utf-8")
    swapped = src.replace("fuel0, pace, sigma, grid", "fuel0, sigma, pace, grid", 1)
    assert swapped != src
    problems, _ = call_site_problems({"numba_race": ast.parse(swapped), "race_step": _trees()["race_step"]})
    assert any("gets sigma as argument" in p for p in problems), problems


def _kind(value) -> tuple[str, int]:
    if isinstance(value, np.ndarray):
        return str(value.dtype), value.ndim
    return ("float64" if isinstance(value, float) else "int64"), 0


def test_packed_race_is_the_declared_race_model(race):
    from workbench.race.model import PackedRace, RaceState, pack
    fields = [f.name for f in dataclasses.fields(PackedRace)]
    assert tuple(fields[:len(RACE)]) == RACE
    state = RaceState(20, RaceState.grid(race).cars)
    for packed in (pack(race), pack(race, state)):
        values = packed.kernel_args()
        assert len(values) == len(RACE)
        for arg, value in zip(L.RACE_ARGS, values):
            assert _kind(value) == (arg.dtype, arg.ndim), (arg.name, _kind(value))


def test_purpose_codes_are_the_rng_purposes():
    codes = {name: value for name, value in vars(L).items() if name.startswith("P_")}
    assert len(codes) == 13
    for name, value in codes.items():
        assert type(value) is int and value == Purpose[name[2:]], name
    # _place_phases draws a phase's start lap and length with purpose0 + 1 and + 2
    assert (L.P_SC_START_LAP, L.P_SC_LENGTH) == (L.P_SC_COUNT + 1, L.P_SC_COUNT + 2)
    assert (L.P_VSC_START_LAP, L.P_VSC_LENGTH) == (L.P_VSC_COUNT + 1, L.P_VSC_COUNT + 2)


# -- the Mojo source, read as text -----------------------------------------------------------------

_UNPACK = re.compile(r"(?:self\.|var\s+)(\w+)\s*=\s*(?:(FP|IP)\(unsafe_from_address=Int\(py=(\w+)\[(\d+)\]\)\)"
                     r"|(Int|Float64)\(py=(\w+)\[(\d+)\]\))")


def _block(text: str, header: str) -> str:
    """From the line starting with ``header`` to the next top-level definition."""
    start = text.index(header)
    end = re.compile(r"^(?:def |struct |comptime |@)", re.M).search(text, start + len(header))
    return text[start:end.start() if end else len(text)]


def mojo_unpacking(text: str, header: str, list_name: str) -> list[tuple[int, str, str]]:
    """(index, name, Mojo type) of each element of ``list_name`` that the block ``header`` reads."""
    out = []
    for m in _UNPACK.finditer(_block(text, header)):
        kind, lst, idx = (m[2], m[3], m[4]) if m[2] else (m[5], m[6], m[7])
        if lst == list_name:
            out.append((int(idx), m[1], kind))
    return out


def mojo_layout_problems(text: str) -> list[str]:
    problems = []
    for header, list_name, layout in (("struct Race(", "a", L.MOJO_RACE),
                                      ("struct SingleCar(", "a", L.MOJO_SINGLE_CAR),
                                      ("def run_candidates(", "cand", L.MOJO_CANDIDATES)):
        got = mojo_unpacking(text, header, list_name)
        want = [(i, a.name, L.mojo_type(a)) for i, a in enumerate(layout)]
        if got != want:
            diff = [f"{g} != {w}" for g, w in zip(got, want) if g != w] or [f"{len(got)} elements, want {len(want)}"]
            problems.append(f"{header}: {list_name}[] is not the declaration: " + "; ".join(diff[:4]))
    fields = re.findall(r"^    var (\w+): (\w+)$", _block(text, "struct Race("), re.M)
    if fields != [(a.name, L.mojo_type(a)) for a in L.MOJO_RACE]:
        problems.append(f"struct Race: fields {fields} are not layout.MOJO_RACE")
    return problems


def test_mojo_structs_unpack_the_declared_argument_lists():
    text = MOJO.read_text(encoding="utf-8")
    assert len(mojo_unpacking(text, "struct Race(", "a")) == len(L.MOJO_RACE)  # the parser reads real lines
    assert not mojo_layout_problems(text)


def test_the_mojo_layout_check_catches_a_swap():
    text = MOJO.read_text(encoding="utf-8")
    swapped = text.replace("self.pace = FP(unsafe_from_address=Int(py=a[26]))",
                           "self.pace = FP(unsafe_from_address=Int(py=a[27]))", 1)
    assert swapped != text
    problems = mojo_layout_problems(swapped)
    assert problems and "struct Race(" in problems[0] and "pace" in problems[0]


def _eval(node: ast.AST, env: dict) -> float | int:
    """Numbers, names of earlier constants, + - * / and unary minus; nothing else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, env)
    if isinstance(node, ast.BinOp):
        ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
               ast.Div: lambda a, b: a / b}
        return ops[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    raise ValueError(ast.dump(node))


def mojo_constants(text: str) -> dict[str, float | int | None]:
    """Top-level ``comptime NAME[: Type] = value`` of the Mojo source; None where the value is not a number."""
    out: dict[str, float | int | None] = {}
    for name, value in re.findall(r"^comptime (\w+)(?:\s*:\s*\w+)?\s*=\s*(.+)$", text, re.M):
        try:
            out[name] = _eval(ast.parse(value.split("#")[0].strip(), mode="eval").body, out)
        except (SyntaxError, ValueError, KeyError):
            out[name] = None
    return out


# The RNG's numbers, as numba_rng holds them (imported from workbench.rng).
RNG_CONSTANTS = {"GOLDEN": int(numba_rng._GOLDEN), "M1": int(numba_rng._M1), "M2": int(numba_rng._M2),
                 "INV_2_53": numba_rng.INV_2_53, "P_LOW": numba_rng.P_LOW, "P_HIGH": numba_rng.P_HIGH,
                 **{n: getattr(numba_rng, n) for n in ("A0 A1 A2 A3 A4 A5 B0 B1 B2 B3 B4 C0 C1 C2 C3 C4 C5 "
                                                        "D0 D1 D2 D3").split()}}
# The Mojo kernel's own: pointer types and the single-car SIMD blocking.
MOJO_ONLY = {"FP", "IP", "SCW", "SC_CHUNK", "LANES"}


def mojo_constant_problems(text: str) -> list[str]:
    layout = {n: v for n, v in vars(L).items() if n.isupper() and type(v) in (int, float)}
    problems = []
    for name, value in mojo_constants(text).items():
        if name in MOJO_ONLY:
            continue
        want = layout.get(name, RNG_CONSTANTS.get(name))
        if name not in layout and name not in RNG_CONSTANTS:
            problems.append(f"comptime {name}: declared nowhere in workbench.kernels.layout or the RNG")
        elif value is None or value != want or type(value) is not type(want):
            problems.append(f"comptime {name} = {value!r}, but Python's is {want!r}")
    # every long number is a named constant: no coefficient hides inline in an expression
    for i, line in enumerate(text.splitlines(), 1):
        if not line.startswith("comptime") and re.search(r"\d\.\d{5,}", line.split("#")[0]):
            problems.append(f"mojo_race.mojo:{i}: an unnamed coefficient: {line.strip()}")
    return problems


def test_mojo_constants_are_the_declared_ones():
    text = MOJO.read_text(encoding="utf-8")
    constants = mojo_constants(text)
    assert {"BASE_LAP_TIME_S", "PIT_LOSS_SC_S", "IN_LAP_SHARE", "P_OVERTAKE", "GOLDEN", "C5"} <= set(constants)
    assert not mojo_constant_problems(text)


@pytest.mark.parametrize("edit,message", [
    (("comptime IN_LAP_SHARE: Float64 = 0.35", "comptime IN_LAP_SHARE: Float64 = 0.36"), "IN_LAP_SHARE = 0.36"),
    (("comptime P_OVERTAKE = 10", "comptime P_OVERTAKE = 14"), "P_OVERTAKE = 14"),
    (("comptime C3: Float64 = -2.549732539343734e00", "comptime C3: Float64 = -2.549732539343735e00"), "C3"),
    (("comptime MIN_STINT_LAPS = 3", "comptime MIN_STINT_LAPS = 3\ncomptime MAX_STINT_LAPS = 40"),
     "MAX_STINT_LAPS: declared nowhere"),
    (("(C0 * q + C1)", "(-7.784894002430293e-03 * q + C1)"), "an unnamed coefficient"),
])
def test_the_mojo_constant_check_catches_a_drift(edit, message):
    text = MOJO.read_text(encoding="utf-8")
    assert edit[0] in text
    problems = mojo_constant_problems(text.replace(edit[0], edit[1], 1))
    assert any(message in p for p in problems), problems


def test_mojo_backend_builds_its_lists_from_the_declaration():
    """The loader's lists are `layout.MOJO_*`: addresses of arrays of the declared dtypes, scalars as numbers."""
    values = {a.name: (np.zeros((2, 3) if a.ndim == 2 else 3, dtype=bool if a.dtype == "bool" else a.dtype)
                       if a.ndim else (0.5 if a.dtype == "float64" else 7)) for a in L.KERNELS["run_races"]}
    values.update({name: np.zeros((2, 3), dtype=a.dtype) for name, a in
                   ((a.name, a) for a in L.OUTPUT_ARGS)}, t0=np.zeros(3), pit_lap=np.zeros((3, 2), np.int64),
                  pit_age=np.zeros((3, 2), np.int64), pit_compound=np.zeros((3, 2), np.int64))
    args, keep = mojo_backend._race_args(values, 2)
    assert len(args) == len(L.MOJO_RACE)
    by_name = dict(zip(L.names(L.MOJO_RACE), args))
    assert by_name["n_cars"] == 3 and by_name["width"] == 2 and by_name["retire_p"] == 0.5
    assert by_name["out_time"] == values["out_time"].ctypes.data  # filled in place, not a copy
    for arg in L.MOJO_RACE:
        assert isinstance(by_name[arg.name], int if L.mojo_type(arg) != "Float64" else float), arg.name
    assert {a.dtype.name for a in keep} == {"int64", "float64"}  # bool arrays went as int64
