"""How fast the error analyses answer: their computations in core, and their pages' first visits in Chromium.

A convnet (`cnn`, one epoch) on the data at hand (full MNIST with MNIST_DIR): the issue's targets
are the drill-down and calibration pages' first visits ≤ 2 s, the test set's label-issue ranking
≤ 3 s after evaluation, the PCA map ≤ 2 s and t-SNE of 2,000 points ≤ 20 s with visible progress.
Run alone with `python -m benchmarks.analysis_speed`; it rewrites its own section of docs/benchmarks.md.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from core.analysis.calibration import calibration_report, temperature_scaling
from core.analysis.embedding import embedding_sample, pca_map, penultimate_features, place_points, tsne_map
from core.analysis.evaluation import evaluate
from core.analysis.label_issues import rank_label_issues
from core.config import TrainConfig
from core.data import MnistData, load_mnist
from core.experiment import run_experiment
from core.runs import RunStore
from dashboard.page_registry import PAGES
from dashboard.server_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    free_loopback_port,
    start_streamlit,
    stop_process_group,
    wait_for_health,
)

SECTION_HEADING = "## 10. Error analyses: computations and first page visits"
MAP_SAMPLE = 2_000
# Misclassifications first: its first visit pays the model's first pass (tracing and the test set's
# evaluation), which every other page then shares.
ANALYSIS_PAGES = ("Misclassifications", "Per-class metrics", "Label issues", "Calibration", "Embedding map")


def timed(step: Callable):
    """(result, seconds) of one call."""
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def run(data: MnistData | None = None) -> list[str]:
    data = data or load_mnist()
    with tempfile.TemporaryDirectory() as folder:
        runs_dir = Path(folder) / "runs"
        config = TrainConfig.for_arch("cnn", epochs=1, name="benchmark cnn")
        experiment = run_experiment(config, data, RunStore(runs_dir))
        lines = [
            f"\n{SECTION_HEADING}\n",
            f"Model: `cnn`, one epoch, test accuracy {experiment.run.test_accuracy:.2%}; data: {data.description}.\n",
            *core_lines(experiment.training.model, data),
        ]
        if CHROMIUM.exists():
            lines += page_lines(runs_dir, experiment.run.run_id)
        return lines


def core_lines(model, data: MnistData) -> list[str]:
    """Each analysis computed once, as the dashboard's caches do on a model's first visit."""
    evaluation, evaluate_s = timed(lambda: evaluate(model, data.x_test, data.y_test))
    _, rank_s = timed(lambda: rank_label_issues(evaluation.labels, evaluation.probabilities))
    _, report_s = timed(lambda: calibration_report(evaluation.probabilities, evaluation.labels))
    _, fit_s = timed(lambda: temperature_scaling(evaluation.probabilities, evaluation.labels))
    size = min(MAP_SAMPLE, len(data.y_test))
    sample, features_s = timed(lambda: embedding_sample(model, data.x_test, data.y_test, evaluation.predictions, size))
    pca, pca_s = timed(lambda: pca_map(sample))
    reports = []
    tsne, tsne_s = timed(lambda: tsne_map(sample, progress=lambda done, total: reports.append(done)))
    _, place_s = timed(lambda: place_points(tsne, penultimate_features(model, data.x_test[:1])))
    rows = [
        ("Evaluation of the test set (one batched pass; every page shares it)", evaluate_s, ""),
        ("Label-issue ranking of the test set (cleanlab), after evaluation", rank_s, "≤ 3 s"),
        ("Calibration report (reliability bins, ECE, MCE, NLL, Brier) of the test set", report_s, ""),
        ("Temperature fit (minimize_scalar on the log-loss) on 10,000 probabilities", fit_s, ""),
        (f"Embedding sample: penultimate features of {size:,} test images", features_s, ""),
        (f"PCA map of {size:,} points (features + PCA)", features_s + pca_s, "≤ 2 s"),
        (f"t-SNE map of {size:,} points (openTSNE, one thread; {len(reports)} progress reports)", tsne_s, "≤ 20 s"),
        ("Placing one drawing on the t-SNE map", place_s, ""),
    ]
    return [
        "| computation | seconds | target |",
        "| --- | --- | --- |",
        *(f"| {label} | {seconds:.2f} | {target} |" for label, seconds, target in rows),
        "",
    ]


def page_lines(runs_dir: Path, run_id: str) -> list[str]:
    """First visit of each analysis page in Chromium, after Training curves has loaded the model."""
    from playwright.sync_api import sync_playwright

    from dashboard.browser_steps import go_to_page, open_app

    titles = [title for title in ANALYSIS_PAGES if title in {page.title for page in PAGES}]
    port = free_loopback_port()
    log_path = runs_dir.parent / "streamlit.log"
    process = start_streamlit(port, {**os.environ, "RUNS_DIR": str(runs_dir)}, log_path)
    seconds = {}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_health(url, process, log_path)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(120_000)
            open_app(page, f"{url}/training_curves?run={run_id}")  # the model is loaded, not yet evaluated
            for title in titles:
                seconds[title] = timed(lambda title=title: go_to_page(page, title))[1]
            go_to_page(page, "Per-class metrics")
            click_seconds = timed(lambda: click_a_diagonal_cell(page))[1]
            browser.close()
    finally:
        stop_process_group(process)
    return [
        "First visit of each page in Chromium (click in the sidebar → page rendered), in this order; the",
        "first of them also runs the model's first pass (tracing, then the test set's evaluation), which",
        "the others then share:\n",
        "| page | first visit s |",
        "| --- | --- |",
        *(f"| {title} | {seconds[title]:.2f} |" for title in titles),
        f"\nA click on a cell of the confusion matrix → its images shown: {click_seconds:.2f} s.",
    ]


def click_a_diagonal_cell(page) -> None:
    """Click the 3-as-3 cell (a different one from the page's default) and wait for its images."""
    from playwright.sync_api import expect

    from dashboard.browser_steps import MAIN, wait_for_app

    page.locator(f"{MAIN} .st-key-confusion svg g.mark-rect path").nth(33).click(position={"x": 4, "y": 4})
    expect(page.locator(MAIN).get_by_text("of a 3 predicted as 3 (correct)", exact=False)).to_be_visible()
    wait_for_app(page)


if __name__ == "__main__":
    from benchmarks.report_sections import REPORT, write_section
    from benchmarks.run import machine_description

    section = [*run(), f"\nMeasured alone (`python -m benchmarks.analysis_speed`): {machine_description()}"]
    print("\n".join(section))
    write_section(REPORT, SECTION_HEADING, section)
