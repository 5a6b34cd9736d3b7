"""Execute every notebook in examples/ and fail on any cell error.

Each notebook runs with the ``python3`` kernel (jupyter_client maps it to this interpreter) in
a temporary copy of the examples folder, so nothing in the checkout is modified. The three
notebooks take about a minute together on two busy cores.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def test_examples_exist():
    assert len(NOTEBOOKS) >= 3, f"expected the example notebooks in {EXAMPLES}"


@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS])
def test_notebook_runs(name, tmp_path):
    work = tmp_path / "examples"
    shutil.copytree(EXAMPLES, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints",
                                                                  "__pycache__"))
    path = work / name
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:  # message has the traceback
        pytest.fail(f"{name}: {exc}", pytrace=False)
    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, f"{name}: {errors[0]['ename']}: {errors[0]['evalue']}"
