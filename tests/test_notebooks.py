"""The notebooks run, top to bottom, as the README's test command executes them, writing nothing; and they are
committed with their outputs (docs/build_notebooks.py), so that their plots show where people browse them."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _images():
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (ROOT / "docs" / "images").glob("*.png")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="installed by the README test command")
    nbclient = pytest.importorskip("nbclient", reason="installed by the README test command")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("LRSCHED_DOCS_IMAGES", raising=False)
    before = _images()
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert _images() == before  # the README's pictures are rewritten only by docs/build_notebooks.py --images


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_with_its_outputs(path):
    nbformat = pytest.importorskip("nbformat", reason="installed by the README test command")
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), "run python docs/build_notebooks.py"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    plots = [c for c in code if "plt." in c.source or "ls.plot(" in c.source or ".plot(" in c.source]
    pictures = [o for c in plots for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(pictures) >= len(plots) > 0, "a cell that plots shows its picture"
    assert "matplotlib.use(" not in "".join(c.source for c in code)  # a backend forced in the notebook hides them


def test_there_are_notebooks():
    assert NOTEBOOKS
