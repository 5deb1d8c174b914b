"""`import workbench.<leaf>` loads only that leaf: the package's public names are lazy (issue 17)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in sys.modules if m.startswith('workbench')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_kernel_layout_import_does_not_load_hub_store_or_simulator():
    loaded = _modules_after("import workbench.kernels.layout")
    assert "workbench.hub.session" not in loaded
    assert "workbench.store.sqlite_store" not in loaded
    assert "workbench.race.simulator" not in loaded


def test_public_names_still_resolve():
    import workbench

    assert workbench.RaceSession.__name__ == "RaceSession"
    assert workbench.bundled_race().track.laps > 0
    assert "CarTwin" in dir(workbench)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        workbench.nope  # noqa: B018
