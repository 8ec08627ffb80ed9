"""Accuracy at the top: saved runs scored alone and as one ensemble on the official test set.

    MNIST_DIR=/path/to/mnist .venv/bin/python -m benchmarks.accuracy --runs-dir DIR RUN_ID [RUN_ID ...]

Training the runs takes hours on two cores, so this scores runs already trained (`python -m core train ...`);
it never trains. Every run given is in the ensemble: none is picked by its test score. Each run chose its own
epoch on its own validation split; the runs' splits differ (they follow the seed), so the ensemble is not
selected on validation data either. Measures, never asserts; rewrites its own section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from benchmarks.report_sections import REPORT, write_section
from core.analysis.evaluation import predict_probabilities
from core.data import MnistData, load_mnist
from core.runs import RunInfo, RunStore

SECTION_HEADING = "## 14. Accuracy at the top: single runs and their ensemble"
MIN_SEEDS = 3  # a recipe's accuracy is its mean over at least this many seeds


@dataclass(frozen=True)
class ScoredRun:
    run: RunInfo
    accuracy: float
    errors: int


def score(store: RunStore, run_ids: list[str], data: MnistData) -> tuple[list[ScoredRun], float]:
    """Each run's test accuracy, and that of the mean of all their probabilities."""
    probabilities, scored = [], []
    for run_id in run_ids:
        predicted = predict_probabilities(store.load_model(run_id), data.x_test)
        probabilities.append(predicted)
        right = predicted.argmax(axis=1) == data.y_test
        scored.append(ScoredRun(store.get(run_id), float(right.mean()), int((~right).sum())))
    ensemble = np.mean(probabilities, axis=0).argmax(axis=1) == data.y_test
    return scored, float(ensemble.mean())


def recipe(run: RunInfo) -> str:
    """What a run was trained with, seed aside: runs with the same recipe differ only by their seed."""
    config = run.config
    parts = [config.arch, f"{config.epochs} epochs"]
    if config.filters:
        parts.append("widths " + "/".join(str(width) for width in config.filters))
    if config.activation != ("relu",):
        parts.append("/".join(config.activation))
    parts.append(f"dropout {config.dropout:g}")
    return ", ".join(parts)


def best_recipe(scored: list[ScoredRun], seeds: int = MIN_SEEDS) -> tuple[str, list[ScoredRun]] | None:
    """The recipe with at least `seeds` runs whose mean validation accuracy is highest (never the test's)."""
    by_recipe: dict[str, list[ScoredRun]] = {}
    for run in scored:
        by_recipe.setdefault(recipe(run.run), []).append(run)
    candidates = {name: runs for name, runs in by_recipe.items() if len(runs) >= seeds}
    if not candidates:
        return None
    name = max(candidates, key=lambda n: np.mean([r.run.record.validation_accuracy or 0 for r in candidates[n]]))
    return name, candidates[name]


def section_lines(scored: list[ScoredRun], ensemble_accuracy: float, machine: str) -> list[str]:
    lines = [
        f"{SECTION_HEADING}\n",
        f"Saved runs scored on the 10,000 official test digits (`python -m benchmarks.accuracy`); {machine}. "
        "Every run given is in the ensemble (mean of the probabilities), none picked by its test score. "
        "Training seconds are the runs' own, on this host, with whatever else shared its two cores.\n",
        "| run | recipe | seed | trained in | training s | validation accuracy | test accuracy | test errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in scored:
        record = run.run.record
        validation = f"{record.validation_accuracy:.2%}" if record.validation_accuracy is not None else "—"
        lines.append(
            f"| `{run.run.run_id}` | {recipe(run.run)} | {run.run.config.seed} | {record.training_precision} "
            f"| {record.training_seconds:,.0f} | {validation} | {run.accuracy:.2%} | {run.errors} |"
        )
    lines.append("")
    if chosen := best_recipe(scored):
        name, runs = chosen
        singles = [run.accuracy for run in runs]
        lines.append(
            f"**Single model, mean over {len(runs)} runs: {np.mean(singles):.2%}** "
            f"(range {min(singles):.2%}–{max(singles):.2%}; {name}: of the recipes with {MIN_SEEDS} or more seeds, "
            "the best by mean validation accuracy)  "
        )
    else:
        lines.append(f"No recipe has {MIN_SEEDS} seeds here: no single-model mean.  ")
    lines.append(
        f"**Ensemble of all {len(scored)} runs: {ensemble_accuracy:.2%}** "
        f"({round((1 - ensemble_accuracy) * 10_000)} errors)"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    from benchmarks.run import machine_description  # imports TensorFlow, as scoring does anyway

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", required=True, help="the run store holding the runs")
    parser.add_argument("run_ids", nargs="+", help="runs to score, all of them in the ensemble")
    args = parser.parse_args(argv)
    scored, ensemble_accuracy = score(RunStore(args.runs_dir), args.run_ids, load_mnist())
    lines = section_lines(scored, ensemble_accuracy, machine_description())
    print(*lines, sep="\n")
    write_section(REPORT, SECTION_HEADING, lines)
    print(f"\nwritten to {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
