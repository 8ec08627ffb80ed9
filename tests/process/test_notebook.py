"""The walkthrough notebook runs top to bottom on the offline sample, in a kernel of this environment."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from core.runs import RunStore
from tests.support.paths import NOTEBOOK

KERNEL_NAME = "digit-lab-test"
CELL_TIMEOUT = 600


def register_kernel(folder: Path) -> None:
    """A kernelspec running this interpreter (the venv's), found through JUPYTER_PATH."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL_NAME, "language": "python"}))


def text_of(cell) -> str:
    """What a code cell printed or returned, as plain text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_the_walkthrough_runs_top_to_bottom_on_the_sample(tmp_path, monkeypatch):
    register_kernel(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("WALKTHROUGH_SOURCE", "sample")
    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("RUNS_DIR", str(runs_dir))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},  # run from notebooks/, as a student would
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails

    outputs = [text_of(cell) for cell in notebook.cells if cell.cell_type == "code"]
    everything = "\n".join(outputs)
    assert "offline sample of 5,000 MNIST digits" in everything
    assert "epoch 2: loss" in everything and "best epoch" in everything
    assert "test accuracy" in everything and "macro avg" in everything  # the precision/recall/F1 report
    figures = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "application/vnd.plotly.v1+json" in output.get("data", {})
    ]
    assert len(figures) >= 5  # digits, curves, confusion matrix, mistakes, weights
    assert "reloaded model predicts identically: True" in everything
    (run,), _ = RunStore(runs_dir).list_runs()
    assert run.config.name == "walkthrough" and run.config.epochs == 2 and run.test_accuracy > 0.5
