"""Packaging facts: environment.yml and pyproject.toml agree; the CLI documents itself."""

import re
import subprocess
import sys
import tomllib

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
