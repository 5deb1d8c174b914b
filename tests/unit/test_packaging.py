"""Packaging facts: environment.yml and pyproject.toml agree; the wheel and sdist carry what the code reads;
the CLI documents itself."""

import importlib.util
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

RUNTIME = ("panel", "holoviews", "param", "numpy", "numba", "pandas", "httpx", "pydantic", "bokeh", "tornado", "tqdm")
NOTEBOOK = ("jupyterlab", "ipywidgets", "nbconvert")


def _floors(specs):
    out = {}
    for spec in specs:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)\s*", spec)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def test_environment_yml_and_pyproject_declare_the_same_floors(repo_root):
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    pip_floors = _floors(project["dependencies"])
    conda_lines = [line.strip()[2:] for line in (repo_root / "environment.yml").read_text().splitlines()
                   if line.strip().startswith("- ")]
    conda_floors = _floors(conda_lines)
    for name in RUNTIME:
        assert name in pip_floors, f"pyproject.toml lacks a floor for {name}"
        assert conda_floors.get(name) == pip_floors[name], (name, conda_floors.get(name), pip_floors[name])
    assert project["requires-python"] == ">=3.11" and conda_floors["python"] == "3.11"
    for extra in ("test", "notebook"):
        for name, floor in _floors(project["optional-dependencies"][extra]).items():
            assert conda_floors.get(name) == floor, (extra, name, conda_floors.get(name), floor)
    assert set(NOTEBOOK) <= set(_floors(project["optional-dependencies"]["notebook"]))


def _third_party_imports(repo_root):
    """Top-level third-party modules imported by the package and the apps: name -> (module level?, where)."""
    import ast

    found: dict[str, tuple[bool, str]] = {}
    for path in sorted([*(repo_root / "workbench").rglob("*.py"), *(repo_root / "apps").glob("*.py")]):
        tree = ast.parse(path.read_text())
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                if root in sys.stdlib_module_names or root == "workbench":
                    continue
                was = found.get(root, (False, ""))
                found[root] = (was[0] or id(node) in top, was[1] or str(path.relative_to(repo_root)))
    return found


def test_every_directly_imported_package_is_declared(repo_root):
    """A module imported at module level is a dependency; one imported lazily may be an optional extra."""
    project = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]
    runtime = set(_floors(project["dependencies"])) | {re.split(r"[<>=!~]", d)[0].strip().lower()
                                                        for d in project["dependencies"]}
    extras = {re.split(r"[<>=!~]", d)[0].strip().lower()
              for deps in project["optional-dependencies"].values() for d in deps}
    imports = _third_party_imports(repo_root)
    assert {"bokeh", "tornado", "tqdm", "panel", "numpy"} <= set(imports)  # the scan sees real imports
    for module, (module_level, where) in imports.items():
        if module_level:
            assert module in runtime, f"{where} imports {module} at module level: not in [project.dependencies]"
        else:
            assert module in runtime | extras, f"{where} imports {module}: declared nowhere in pyproject.toml"


def _cited_test_files(text: str) -> set[str]:
    return set(re.findall(r"tests/[A-Za-z0-9_/]+\.py", text))


def test_every_cited_test_file_exists(repo_root):
    """pyproject.toml, environment.yml and the docs name test files that exist (issue 17: one did not)."""
    sources = [repo_root / "pyproject.toml", repo_root / "environment.yml", repo_root / "README.md",
               repo_root / "kernels" / "README.md", *sorted((repo_root / "docs").glob("*.md"))]
    cited = {(src.name, path) for src in sources for path in _cited_test_files(src.read_text(encoding="utf-8"))}
    assert ("pyproject.toml", "tests/unit/test_packaging.py") in cited  # the scan reads real citations
    missing = sorted((src, path) for src, path in cited if not (repo_root / path).is_file())
    assert not missing, f"cited test files that do not exist: {missing}"


def _kernel_sources(repo_root: Path) -> list[str]:
    """The kernel source files of the top-level ``kernels/`` folder, relative to it (build caches left out)."""
    top = repo_root / "kernels"
    return sorted(str(p.relative_to(top)) for p in top.rglob("*")
                  if p.is_file() and "__mojocache__" not in p.parts and "__pycache__" not in p.parts)


def test_checkout_reads_the_top_level_kernels_folder(repo_root):
    from workbench.paths import kernel_source, kernel_source_dir
    assert kernel_source_dir() == repo_root / "kernels"
    assert kernel_source("mojo_race.mojo") == repo_root / "kernels" / "mojo_race.mojo"
    assert {"mojo_race.mojo", "README.md"} <= set(_kernel_sources(repo_root))
    assert not list((repo_root / "workbench").rglob("*.mojo")), "Mojo sources belong in the top-level kernels/"
    with pytest.raises(FileNotFoundError, match="kernel source 'nope.mojo': .*nope.mojo does not exist"):
        kernel_source("nope.mojo")


@pytest.fixture(scope="module")
def built(repo_root, tmp_path_factory):
    """The wheel and the sdist, built from this checkout by the build backend (hatchling, the test extra)."""
    pytest.importorskip("hatchling", reason="hatchling (the build backend, in the test extra) is not installed")
    from hatchling.builders.sdist import SdistBuilder
    from hatchling.builders.wheel import WheelBuilder
    out = tmp_path_factory.mktemp("dist")
    wheel = Path(next(iter(WheelBuilder(str(repo_root)).build(directory=str(out), versions=["standard"]))))
    sdist = Path(next(iter(SdistBuilder(str(repo_root)).build(directory=str(out), versions=["standard"]))))
    return wheel, sdist


def test_wheel_carries_the_kernel_sources_and_the_data(built, repo_root):
    with zipfile.ZipFile(built[0]) as whl:
        names = set(whl.namelist())
        for rel in _kernel_sources(repo_root):
            name = f"workbench/_kernels/{rel}"
            assert name in names, f"the wheel lacks {name}"
            assert whl.read(name) == (repo_root / "kernels" / rel).read_bytes(), name
    assert "workbench/_data/bahrain-2024.race.json" in names
    assert "workbench/kernels/mojo_backend.py" in names and "workbench/paths.py" in names
    assert not [n for n in names if n.startswith("kernels/") or n.startswith("data/")], "stray top-level folders"
    assert not [n for n in names if "__mojocache__" in n or n.endswith(".so")], "build caches in the wheel"


def test_installed_wheel_finds_the_kernel_source(built, repo_root, tmp_path):
    """`workbench.paths` as installed from the wheel reads workbench/_kernels and workbench/_data."""
    with zipfile.ZipFile(built[0]) as whl:
        whl.extractall(tmp_path)
    spec = importlib.util.spec_from_file_location("installed_paths", tmp_path / "workbench" / "paths.py")
    paths = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(paths)
    src = paths.kernel_source("mojo_race.mojo")
    assert src == tmp_path / "workbench" / "_kernels" / "mojo_race.mojo"
    assert src.read_bytes() == (repo_root / "kernels" / "mojo_race.mojo").read_bytes()
    assert paths.bundled_data_dir() == tmp_path / "workbench" / "_data"


def test_sdist_carries_every_listed_folder(built, repo_root):
    include = tomllib.loads((repo_root / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"][
        "sdist"]["include"]
    missing = [entry for entry in include if not (repo_root / entry).exists()]
    assert not missing, f"[tool.hatch.build.targets.sdist] include lists what does not exist: {missing}"
    with tarfile.open(built[1]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for rel in _kernel_sources(repo_root):
        assert f"kernels/{rel}" in names, f"the sdist lacks kernels/{rel}"
    for entry in include:
        assert any(n == entry or n.startswith(f"{entry}/") for n in names), f"the sdist lacks {entry}"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.integration  # starts a subprocess
def test_help_documents_every_subcommand():
    out = _cli("--help").stdout
    for command in ("serve", "generate", "schema", "validate", "doctor", "calibrate", "simulate", "bench",
                    "decode", "record", "feed", "predict"):
        assert command in out
    serve = _cli("serve", "--help").stdout
    for flag in ("--host", "--port", "--speed", "--seed", "--car", "--data-dir", "--race"):
        assert flag in serve


@pytest.mark.integration  # starts a subprocess
def test_schema_command_prints_the_published_schema():
    import json

    from workbench.telemetry import json_schema
    assert json.loads(_cli("schema").stdout) == json_schema()


@pytest.mark.integration  # starts a subprocess
def test_generate_then_validate_round_trip(tmp_path):
    out = tmp_path / "race.jsonl"
    assert _cli("generate", "--seed", "2", "--out", str(out)).returncode == 0
    lines = out.read_text().splitlines()
    assert len(lines) > 50_000
    short = tmp_path / "short.jsonl"
    short.write_text("\n".join(lines[:100] + ['{"type": "lap", "session_time_s": 1, "driver": "VER", '
                                              '"lap_number": 1, "tyre_age_laps": -2}', "not json"]) + "\n")
    result = _cli("validate", str(short))
    assert result.returncode == 1
    assert "short.jsonl:101: tyre_age_laps: -2 is below minimum 0" in result.stdout
    assert "short.jsonl:102:" in result.stdout and "100 records valid, 2 messages rejected" in result.stdout


@pytest.mark.integration  # starts a subprocess
def test_generate_laps_only_is_a_fastf1_shaped_table(tmp_path):
    import pandas as pd
    out = tmp_path / "laps.csv"
    assert _cli("generate", "--seed", "2", "--laps-only", "--out", str(out)).returncode == 0
    laps = pd.read_csv(out)
    assert {"Driver", "Team", "LapNumber", "LapTime", "Compound", "Stint", "TyreLife", "Position",
            "TrackStatus"} <= set(laps.columns)


@pytest.mark.integration  # starts a subprocess
@pytest.mark.parametrize("args,message", [
    (("serve", "--speed", "0"), "--speed: 0 is not above 0"),
    (("serve", "--speed", "fast"), "--speed: 'fast' is not a number or 'max'"),
    (("serve", "--port", "70000"), "--port: 70000 is above maximum 65535"),
    (("serve", "--car", "XXX"), "--car: 'XXX' is not in the race"),
])
def test_bad_serve_arguments_fail_clearly(args, message):
    result = _cli(*args)
    assert result.returncode == 2 and message in result.stderr
