"""The tutorial notebook runs top to bottom in the venv's Python, with its outputs cleared in the repository."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "calibrate_a_judge.ipynb"
KERNEL = "judgekit-test-python"


@pytest.fixture()
def venv_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec running ``sys.executable`` (this venv), so the notebook imports this judgekit whatever
    ``python`` is first on PATH."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return KERNEL


def test_committed_notebook_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(venv_kernel: str, tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, kernel_name=venv_kernel, timeout=300, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "NOT TRUSTED" in text and "report.html" in text
    # the align cells: failure modes on dev, then the one look at test confirms the scripted rules
    assert "the dev part of split main@1" in text and "people say tie" in text
    assert "CONFIRMED ON TEST" in text and "NOT TRUSTED -> TRUSTED" in text
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
