"""Notebooks are committed without outputs and open with the question they answer.

nbval runs them (the notebooks/ folder is in pytest's testpaths, with --nbval-lax and
RACETWIN_FAST=1 set by tests/conftest.py); their own assert cells check their numbers.
"""

import json

import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_clean_and_states_its_question(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown" and "question" in "".join(first["source"]).lower()
