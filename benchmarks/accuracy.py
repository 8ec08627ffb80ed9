"""Accuracy at the top: saved runs scored alone and as one ensemble on the official test set.

    MNIST_DIR=/path/to/mnist .venv/bin/python -m benchmarks.accuracy --runs-dir DIR RUN_ID [RUN_ID ...]

Training the runs takes hours on two cores, so this scores runs already trained (`python -m core train ...`);
it never trains. Every run given is in the ensemble: none is picked by its test score. Each run chose its own
epoch on its own validation split; the runs' splits differ (they follow the seed), so the ensemble is not
selected on validation data either. Each run is also scored with test-time rotations (core/test_time_augmentation.py,
angles chosen on the runs' validation splits). Measures, never asserts; rewrites its own section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from benchmarks.report_sections import REPORT, write_section
from core.analysis.evaluation import predict_probabilities
from core.config import TrainConfig
from core.data import MnistData, load_mnist
from core.runs import RunInfo, RunStore
from core.test_time_augmentation import ROTATION_ANGLES, predict_with_rotations

SECTION_HEADING = "## 14. Accuracy at the top: single runs and their ensemble"
MIN_SEEDS = 3  # a recipe's accuracy is its mean over at least this many seeds


@dataclass(frozen=True)
class ScoredRun:
    run: RunInfo
    accuracy: float
    errors: int
    rotated_accuracy: float | None = None  # with test-time rotations


@dataclass(frozen=True)
class EnsembleScore:
    accuracy: float
    rotated_accuracy: float | None = None


def score(store: RunStore, run_ids: list[str], data: MnistData) -> tuple[list[ScoredRun], EnsembleScore]:
    """Each run's test accuracy, plain and with test-time rotations, and those of the mean of their probabilities."""
    plain, rotated, scored = [], [], []
    for run_id in run_ids:
        model = store.load_model(run_id)
        plain.append(predict_probabilities(model, data.x_test))
        rotated.append(predict_with_rotations(model, data.x_test, as_they_are=plain[-1]))
        right = plain[-1].argmax(axis=1) == data.y_test
        scored.append(
            ScoredRun(store.get(run_id), float(right.mean()), int((~right).sum()), accuracy(rotated[-1], data.y_test))
        )
    return scored, EnsembleScore(
        accuracy(np.mean(plain, axis=0), data.y_test), accuracy(np.mean(rotated, axis=0), data.y_test)
    )


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(probabilities.argmax(axis=1) == labels))


def recipe(run: RunInfo) -> str:
    """What a run was trained with, seed aside: runs with the same recipe differ only by their seed."""
    config = run.config
    parts = [config.arch, f"{config.epochs} epochs"]
    if config.kernel_size:
        parts.append(f"kernel {config.kernel_size}×{config.kernel_size}")
    if config.filters:
        parts.append("widths " + "/".join(str(width) for width in config.filters))
    if config.activation != ("relu",):
        parts.append("/".join(config.activation))
    parts.append(f"dropout {config.dropout:g}")
    standard = TrainConfig()  # the ±10°, ±10 % every recipe used before the range could be chosen
    other_range = (config.augment_rotation, config.augment_shift) != (standard.augment_rotation, standard.augment_shift)
    if config.augment and other_range:
        parts.append(f"rotations ±{config.augment_rotation:g}°, shifts ±{config.augment_shift:.0%}")
    if config.elastic:
        parts.append("elastic distortions")
    if config.weight_averaging:
        parts.append(f"weights averaged ({config.weight_averaging:g})")
    return ", ".join(parts + optimizer_differences(config))


def optimizer_differences(config: TrainConfig) -> list[str]:
    """The optimizer settings where the run left its architecture's defaults: batch size, rate, schedule."""
    defaults = TrainConfig.for_arch(config.arch)
    parts = []
    if config.batch_size != defaults.batch_size:
        parts.append(f"batches of {config.batch_size}")
    if config.learning_rate != defaults.learning_rate:
        parts.append(f"learning rate {config.learning_rate:g}")
    if config.schedule == "exponential":
        parts.append(f"× {config.learning_rate_decay:g} per epoch")
    elif config.schedule != defaults.schedule:
        parts.append(f"{config.schedule.replace('_', '-')} schedule")
    return parts


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


def section_lines(scored: list[ScoredRun], ensemble: EnsembleScore, machine: str) -> list[str]:
    angles = "/".join(f"{angle:+g}°" for angle in ROTATION_ANGLES)
    lines = [
        f"{SECTION_HEADING}\n",
        f"Saved runs scored on the 10,000 official test digits (`python -m benchmarks.accuracy`); {machine}. "
        "Every run given is in the ensemble (mean of the probabilities), none picked by its test score. "
        "Training seconds are the runs' own, on this host, with whatever else shared its two cores. "
        f"*With rotations*: the mean of the probabilities for each digit as it is and turned {angles} "
        "(test-time augmentation, angles chosen on the runs' validation splits).\n",
        "| run | recipe | seed | trained in | training s | validation accuracy | test accuracy | test errors "
        "| test accuracy with rotations |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in scored:
        record = run.run.record
        validation = f"{record.validation_accuracy:.2%}" if record.validation_accuracy is not None else "—"
        lines.append(
            f"| `{run.run.run_id}` | {recipe(run.run)} | {run.run.config.seed} | {record.training_precision} "
            f"| {record.training_seconds:,.0f} | {validation} | {run.accuracy:.2%} | {run.errors} "
            f"| {percent(run.rotated_accuracy)} |"
        )
    lines.append("")
    chosen = best_recipe(scored)
    if chosen:
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
        f"**Ensemble of all {len(scored)} runs: {ensemble.accuracy:.2%}** ({errors(ensemble.accuracy)} errors)  "
    )
    if ensemble.rotated_accuracy is not None:
        rotated_single = ""
        if chosen and all(run.rotated_accuracy is not None for run in chosen[1]):
            rotated_single = f"that recipe's mean {np.mean([run.rotated_accuracy for run in chosen[1]]):.2%}, "
        lines.append(
            f"With rotations: {rotated_single}the ensemble {ensemble.rotated_accuracy:.2%} "
            f"({errors(ensemble.rotated_accuracy)} errors)"
        )
    return lines


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


def errors(accuracy_on_test: float, images: int = 10_000) -> int:
    return round((1 - accuracy_on_test) * images)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.run import machine_description  # imports TensorFlow, as scoring does anyway

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", required=True, help="the run store holding the runs")
    parser.add_argument("run_ids", nargs="+", help="runs to score, all of them in the ensemble")
    args = parser.parse_args(argv)
    scored, ensemble = score(RunStore(args.runs_dir), args.run_ids, load_mnist())
    lines = section_lines(scored, ensemble, machine_description())
    print(*lines, sep="\n")
    write_section(REPORT, SECTION_HEADING, lines)
    print(f"\nwritten to {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
