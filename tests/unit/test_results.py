"""docs/results.md's generator (core/results.py, `python -m core results`) on tiny runs of the offline sample."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.config import TrainConfig
from core.experiment import run_experiment
from core.record import DataSummary, RunRecord
from core.results import FAMILIES, choose_runs, ensemble_members, half_evidence_share, unordered_pairs
from core.runs import RunInfo, RunStore

FIGURE_LINK = re.compile(r"\[Figure (\d+)\]\((results/[a-z_]+\.png)\)")
TABLE_LINK = re.compile(r"\[Table (\d+)\]\(#table-(\d+)\)")
MAX_FIGURE_BYTES = 150_000


@pytest.fixture(scope="module")
def results_store(tmp_path_factory, sample_data) -> RunStore:
    """A seed MLP and a fast_cnn, each on a slice of the sample for one epoch: seconds."""
    store = RunStore(tmp_path_factory.mktemp("results-runs"))
    for arch in ("mlp", "fast_cnn"):
        run_experiment(TrainConfig.for_arch(arch, epochs=1, train_limit=800), sample_data, store)
    return store


@pytest.fixture(scope="module")
def written(results_store, tmp_path_factory) -> tuple[Path, str, str]:
    output = tmp_path_factory.mktemp("docs") / "results.md"
    code = main(["results", "--source", "sample", "--runs-dir", str(results_store.root), "-o", str(output)])
    assert code == 0
    return output, output.read_text(encoding="utf-8"), str(results_store.root)


def test_results_document_reports_each_family_present_and_names_the_missing(written):
    _, text, _ = written
    summary = text.split("## Per digit")[0]
    for family in ("Seed MLP", "Fast recipe (fast_cnn)", "Ensemble"):
        assert re.search(rf"^\| {re.escape(family)} \| `", summary, re.M), family
    for family in ("Keras-example CNN", "Deep recipe (deep_cnn)", "Best tuned trial"):
        assert f"**{family}**" in summary and f"| {family} |" not in summary
    assert "on the offline sample, not full MNIST" in text
    for heading in ("Per digit", "Confusion matrix", "Most confused pairs", "What the weights show", "Calibration"):
        assert f"## {heading}" in text
    assert "python -m core results" in text.split("## Regenerating")[1]


def test_every_insight_cites_a_figure_or_table_that_exists(written):
    output, text, _ = written
    insights = [line for line in text.split("## Insights")[1].split("## Regenerating")[0].splitlines() if line]
    assert len(insights) >= 5
    for line in insights:
        cited = FIGURE_LINK.findall(line) + TABLE_LINK.findall(line)
        assert cited, f"an insight without a figure or table: {line}"
        for number, target in FIGURE_LINK.findall(line):
            assert (output.parent / target).is_file()
            assert f"*Figure {number}." in text
        for number, anchor in TABLE_LINK.findall(line):
            assert number == anchor and f'<a id="table-{anchor}"></a>' in text
        assert re.search(r"\d", line), f"an insight without a number: {line}"


def test_figures_are_small_pngs_and_only_this_runs(written):
    output, text, _ = written
    pngs = sorted((output.parent / "results").glob("*.png"))
    assert {png.name for png in pngs} == set(re.findall(r"\(results/([a-z_]+\.png)\)", text))
    assert len(pngs) >= 4
    for png in pngs:
        assert png.stat().st_size < MAX_FIGURE_BYTES
        with Image.open(png) as image:
            assert image.format == "PNG" and max(image.size) < 1200


def record(arch: str, val_accuracy: float, source: str = "sample", study: str | None = None) -> RunRecord:
    tags = {"study": study} if study else {}
    return RunRecord(
        config=TrainConfig.for_arch(arch, tags=tags),
        data=DataSummary(source=source, train=4000, test=1000),
        history=({"epoch": 1, "val_accuracy": val_accuracy},),
        best_epoch=1,
    )


def test_each_family_is_its_best_run_by_validation_accuracy(sample_data, tmp_path):
    runs = [
        RunInfo("mlp-low", tmp_path, record("mlp", 0.90)),
        RunInfo("mlp-high", tmp_path, record("mlp", 0.95)),
        RunInfo("mlp-elsewhere", tmp_path, record("mlp", 0.99, source="folder")),  # other data: never chosen
        RunInfo("cnn", tmp_path, record("cnn", 0.97)),
        RunInfo("fast", tmp_path, record("fast_cnn", 0.98)),
        RunInfo("trial", tmp_path, record("fast_cnn", 0.99, study="s1")),  # a trial is not the fast recipe
    ]
    chosen = choose_runs(runs, sample_data)
    assert {title: run.run_id for title, run in chosen.items()} == {
        "Seed MLP": "mlp-high",
        "Keras-example CNN": "cnn",
        "Fast recipe (fast_cnn)": "fast",
        "Best tuned trial": "trial",
    }
    assert [run.run_id for run in ensemble_members(chosen)] == ["cnn", "fast"]  # the convnet families
    assert len(FAMILIES) == 5


def test_confused_pairs_count_both_directions():
    confusion = [[0] * 10 for _ in range(10)]
    confusion[4][9], confusion[9][4], confusion[3][5] = 5, 4, 6
    assert unordered_pairs(confusion)[:2] == [(4, 9, 9), (3, 5, 6)]


def test_half_evidence_share_counts_inked_pixels():
    image = [[0] * 28 for _ in range(28)]
    attributions = [[0.0] * 28 for _ in range(28)]
    for column in range(10):
        image[14][column] = 255
    attributions[14][0] = 3.0  # one inked pixel of ten carries 3 of the 4 units of evidence
    attributions[14][1] = 1.0
    assert half_evidence_share(np.array(attributions), np.array(image)) == pytest.approx(0.1)


def test_results_cli_errors_are_one_line(tmp_path, capsys):
    code = main(["results", "--source", "sample", "--runs-dir", str(tmp_path / "empty"), "-o", str(tmp_path / "r.md")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: no saved run in") and "\n" not in err
    assert main(["results", "--source", "sample", "-o", str(tmp_path / "r.txt")]) == 2
    assert "must be a .md file" in capsys.readouterr().err
