"""Import contract: the package plan of ARCHITECTURE.md, enforced on every module of ``workbench/`` (issue 17).

The engine knows no view, kernels are leaves, ingest does not decide, nothing cycles.
The contract is the tables just below; ``docs/architecture.md`` draws the same graph.
The check reads the source with `ast` (nothing is imported), so it is fast and catches
imports inside functions too: the rules hold for every import, wherever it is written;
only the cycle checks distinguish module-level imports from lazy ones inside functions.
"""

from __future__ import annotations

import ast
import dataclasses
import sys
from collections import defaultdict
from pathlib import Path

import pytest

# ----------------------------------------------------------------------------- the contract

VIEW_FRAMEWORKS = ("tornado", "panel", "bokeh", "holoviews")

# Views and adapters: the only modules that may import a view framework. Everything else in
# workbench/ is the engine. (apps/ lives outside the package and is a view by definition.)
ADAPTERS = (
    "workbench.ui",  # Panel components and pages
    "workbench.plots",  # HoloViews/Bokeh figures written by CLI commands and notebooks
    "workbench.service.server",  # builds the Panel/Bokeh server around a service
    "workbench.service.rest",  # tornado REST handlers
    "workbench.service.openapi",  # OpenAPI document + its handler (reads rest's routes)
    "workbench.service.api_docs",  # the human page of the OpenAPI document
    "workbench.service.urls",  # URL table: REST + OpenAPI + docs handlers
    "workbench.service.ingest_server",  # tornado WebSocket/UDP ingest server
    "workbench.service.feed_client",  # tornado WebSocket client of the ingest server (racetwin feed)
    "workbench.service.cli",  # the racetwin command line
    "workbench.service.commands",
    "workbench.__main__",
)

STDLIB = "<stdlib>"


@dataclasses.dataclass(frozen=True)
class Rule:
    """Modules matching ``importers`` (minus ``except_importers``) must not import ``forbidden``;
    with ``only``, they may import nothing outside it."""

    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    except_importers: tuple[str, ...] = ()


RULES = (
    Rule("the engine knows no view", importers=("workbench",), except_importers=ADAPTERS,
         forbidden=VIEW_FRAMEWORKS + ADAPTERS),
    Rule("kernels are leaves", importers=("workbench.kernels",),
         only=(STDLIB, "numpy", "numba", "mojo", "max", "workbench.rng", "workbench.paths",
               "workbench.kernels")),
    Rule("ingest does not decide", importers=("workbench.telemetry",), forbidden=("workbench.strategy",)),
    Rule("twins and strategy know no service", importers=("workbench.twins", "workbench.strategy"),
         forbidden=("workbench.service", "workbench.hub")),
    Rule("the hub knows no adapter", importers=("workbench.hub",),
         forbidden=VIEW_FRAMEWORKS + ("workbench.service", "workbench.ui")),
)

# Named exceptions: (importer, imported) -> why it is tolerated. Each must still be needed.
EXCEPTIONS: dict[tuple[str, str], str] = {
}

# Cycles through imports inside functions (lazy imports): tolerated, listed here so that a new
# one is a decision. Each entry is the set of modules of one strongly connected component.
LAZY_CYCLES: tuple[frozenset[str], ...] = (
    # select.py imports cuda_race only when the CUDA backend is asked for; cuda_race uses select at import
    frozenset({"workbench.kernels.cuda_race", "workbench.kernels.select"}),
    # adaptive racing reuses sweep's decision; sweep offers the adaptive run as an option
    frozenset({"workbench.strategy.adaptive", "workbench.strategy.sweep"}),
    # the lap-table reader dispatches to OpenF1; the OpenF1 reader returns a lap table
    frozenset({"workbench.telemetry.laptable", "workbench.telemetry.openf1"}),
    # the start model is fitted inside racefit.fit, which the start fit reuses
    frozenset({"workbench.strategy.racefit.fit", "workbench.strategy.racefit.start"}),
    # the bench harness asks for the GPU numbers; the GPU bench builds its state with the harness's live_session
    frozenset({"workbench.bench.cuda", "workbench.bench.harness"}),
)

# Modules that `import workbench.kernels.layout` may load (kernels are leaves; the package is lazy).
KERNEL_LAYOUT_CLOSURE = {"workbench", "workbench.kernels", "workbench.kernels.layout", "workbench.rng"}

# ----------------------------------------------------------------------------- the reading

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "workbench"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@dataclasses.dataclass(frozen=True)
class Import:
    importer: str
    line: int
    imported: str  # a workbench module name, or the top-level name of anything else
    lazy: bool  # inside a function
    type_only: bool  # under `if TYPE_CHECKING:`

    def where(self) -> str:
        return f"{MODULES[self.importer].relative_to(ROOT)}:{self.line} {self.importer} imports {self.imported}"


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if node.level:
        base = importer.split(".") if _is_package(importer) else importer.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    subs = [f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}" in MODULES]
    if subs and len(subs) == len(node.names):
        return subs  # `from workbench import rng`: the sub-modules, not the package's names
    return [module, *subs]


def _normalize(name: str) -> str:
    """A workbench module as is; anything else as its top-level name, or STDLIB."""
    if name in MODULES or name.startswith("workbench."):
        return name
    top = name.split(".")[0]
    return STDLIB if top in sys.stdlib_module_names else top


class _Reader(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module, self.depth, self.type_only, self.found = module, 0, False, []

    def visit_FunctionDef(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"):
            was, self.type_only = self.type_only, True
            for child in node.body:
                self.visit(child)
            self.type_only = was
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for name in _resolve(self.module, node):
            self.found.append(Import(self.module, node.lineno, _normalize(name), self.depth > 0, self.type_only))

    visit_ImportFrom = visit_Import


def _read_imports() -> list[Import]:
    found = []
    for module, path in MODULES.items():
        reader = _Reader(module)
        reader.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found += reader.found
    return found


IMPORTS = _read_imports()


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _excused(imp: Import) -> bool:
    return any(_matches(imp.importer, (a,)) and _matches(imp.imported, (b,)) for a, b in EXCEPTIONS)


def _breaks(rule: Rule, imp: Import) -> bool:
    if not _matches(imp.importer, rule.importers) or _matches(imp.importer, rule.except_importers):
        return False
    if _matches(imp.imported, rule.forbidden):
        return True
    return rule.only is not None and not _matches(imp.imported, rule.only)


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _graph(lazy: bool) -> dict[str, dict[str, Import]]:
    """Module -> imported workbench module -> the import; an import also runs the packages above it."""
    graph: dict[str, dict[str, Import]] = defaultdict(dict)
    for imp in IMPORTS:
        if imp.type_only or (imp.lazy and not lazy) or imp.imported not in MODULES:
            continue
        own = set(_ancestors(imp.importer)) | {imp.importer}
        for target in [*_ancestors(imp.imported), imp.imported]:
            if target not in own:
                graph[imp.importer].setdefault(target, imp)
    return graph


def _cycles(graph: dict[str, dict[str, Import]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, {}))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
    return found


def _package_graph(excuse: bool) -> dict[str, dict[str, Import]]:
    """First-level package -> first-level package, from module-level imports (EXCEPTIONS left out if ``excuse``)."""
    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    graph: dict[str, dict[str, Import]] = defaultdict(dict)
    for importer, targets in _graph(lazy=False).items():
        for target, imp in targets.items():
            if target != "workbench" and top(importer) != top(target) and not (excuse and _excused(imp)):
                graph[top(importer)].setdefault(top(target), imp)
    return graph


def _describe(component: frozenset[str], graph: dict[str, dict[str, Import]]) -> str:
    edges = [imp.where() for a in sorted(component) for b, imp in sorted(graph[a].items()) if b in component]
    return "cycle " + ", ".join(sorted(component)) + ":\n    " + "\n    ".join(edges)


# ----------------------------------------------------------------------------- the checks


def test_the_reader_sees_the_package():
    assert "workbench.kernels.layout" in MODULES and "workbench.hub.session" in MODULES
    assert any(i.importer == "workbench.service.rest" and i.imported == "tornado" for i in IMPORTS)
    assert _resolve("workbench.kernels.numba_rng", ast.parse("from workbench import rng").body[0]) == ["workbench.rng"]


def test_every_workbench_import_names_a_module():
    """A move that missed an import (often a lazy one inside a function) fails here, not at run time."""
    missing = [imp.where() for imp in IMPORTS if imp.imported.startswith("workbench") and imp.imported not in MODULES]
    assert not missing, "imports of workbench modules that do not exist:\n  " + "\n  ".join(missing)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule(rule: Rule):
    broken = [imp for imp in IMPORTS if _breaks(rule, imp) and not _excused(imp)]
    allowed = f"may import only {', '.join(rule.only)}" if rule.only else f"must not import {', '.join(rule.forbidden)}"
    assert not broken, (f"rule {rule.name!r}: {', '.join(rule.importers)} {allowed}; broken by\n  "
                        + "\n  ".join(imp.where() for imp in broken))


def test_every_exception_is_still_needed():
    cyclic = {imp for c in _cycles(_package_graph(excuse=False)) for a in c
              for b, imp in _package_graph(excuse=False)[a].items() if b in c}
    needed = [imp for imp in IMPORTS if imp in cyclic or any(_breaks(r, imp) for r in RULES)]
    stale = [pair for pair in EXCEPTIONS
             if not any(_matches(i.importer, pair[:1]) and _matches(i.imported, pair[1:]) for i in needed)]
    assert not stale, f"EXCEPTIONS entries no import needs any more (remove them): {stale}"


def test_no_module_level_cycle():
    graph = _graph(lazy=False)
    cycles = _cycles(graph)
    assert not cycles, "module-level import cycles:\n" + "\n".join(_describe(c, graph) for c in cycles)


def test_no_package_level_cycle():
    """The first-level packages (workbench.telemetry, workbench.strategy, ...) form a DAG of module-level imports."""
    graph = _package_graph(excuse=True)
    cycles = _cycles(graph)
    assert not cycles, "package cycles:\n" + "\n".join(_describe(c, graph) for c in cycles)


def test_lazy_cycles_are_the_listed_ones():
    graph = _graph(lazy=True)
    found = set(_cycles(graph))
    new = [c for c in found if c not in LAZY_CYCLES]
    gone = [sorted(c) for c in LAZY_CYCLES if c not in found]
    assert not new, ("cycles through imports inside functions, not in LAZY_CYCLES (break them or list them):\n"
                     + "\n".join(_describe(c, graph) for c in new))
    assert not gone, f"LAZY_CYCLES entries that no longer exist (remove them): {gone}"


def test_kernel_layout_loads_only_the_kernels():
    graph = _graph(lazy=False)
    seen, todo = set(), ["workbench.kernels.layout", *_ancestors("workbench.kernels.layout")]
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += graph.get(module, {})
    extra = sorted(seen - KERNEL_LAYOUT_CLOSURE)
    assert not extra, f"import workbench.kernels.layout also loads {extra}"


def test_the_docs_draw_this_contract():
    """docs/architecture.md names every rule, adapter and tolerated lazy cycle of the tables above."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [r.name for r in RULES if r.name not in text]
    missing += [a for a in ADAPTERS if a.rsplit(".", 1)[-1] not in text]
    missing += [m for c in LAZY_CYCLES for m in c if m.removeprefix("workbench.") not in text]
    assert not missing, f"docs/architecture.md does not mention {missing}"
