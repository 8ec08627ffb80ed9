"""The walkthrough notebook is stored valid and without outputs (it is executed in tests/process/test_notebook.py)."""

from __future__ import annotations

import nbformat

from tests.support.paths import NOTEBOOK


def test_the_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)
