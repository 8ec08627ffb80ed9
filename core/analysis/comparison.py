"""Comparing models on one test set: accuracy intervals, McNemar's test per pair, where they disagree.

Two accuracies measured on the same images are not independent samples, so comparing their
intervals says little; McNemar's test looks only at the images on which the two models differ
(one right, the other wrong), which is the question "is A really better than B?".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest, chi2

from core.analysis.evaluation import Evaluation
from core.data import MnistData
from core.errors import DataMismatchError
from core.record import RunRecord

ALPHA = 0.05
EXACT_BELOW = 25  # discordant pairs: below this the binomial test is exact and the chi-square poor
Z_95 = 1.959963984540054
METRICS = ("precision", "recall", "f1-score")
DIGITS = [str(digit) for digit in range(10)]


# ---- one model: accuracy with its interval -------------------------------------------------------------


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion: unlike the normal one, it stays inside [0, 1] near 100 %."""
    if total <= 0:
        return 0.0, 1.0
    p = correct / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class ModelScores:
    """One compared model's test-set scores, with what its run record knows about its training."""

    name: str
    accuracy: float
    low: float  # 95 % Wilson interval of the accuracy
    high: float
    macro_f1: float
    errors: int
    count: int
    parameters: int | None = None
    training_seconds: float | None = None
    epochs: int | None = None


def scores_of(name: str, evaluation: Evaluation, record: RunRecord | None = None) -> ModelScores:
    correct = len(evaluation.labels) - evaluation.errors
    low, high = wilson_interval(correct, len(evaluation.labels))
    trained = record is not None and record.upload is None and bool(record.history)
    return ModelScores(
        name=name,
        accuracy=evaluation.accuracy,
        low=low,
        high=high,
        macro_f1=float(evaluation.report.loc["macro avg", "f1-score"]),
        errors=evaluation.errors,
        count=len(evaluation.labels),
        parameters=record.parameters if record is not None else None,
        training_seconds=record.training_seconds if trained else None,
        epochs=record.stopped_epoch if trained else None,
    )


# ---- two models: McNemar's test ------------------------------------------------------------------------


@dataclass(frozen=True)
class McNemar:
    """McNemar's test of two models from their discordant pairs.

    `first_only`: images the first model gets right and the second wrong (b); `second_only` the
    reverse (c). Exact binomial when b + c < 25, else chi-square with continuity correction.
    """

    first_only: int
    second_only: int
    statistic: float  # the chi-square statistic, or b for the exact test
    p_value: float
    method: str  # "exact binomial" or "chi-square (continuity-corrected)"

    @property
    def discordant(self) -> int:
        return self.first_only + self.second_only


def mcnemar(first_only: int, second_only: int) -> McNemar:
    """The test on a 2×2 right/wrong table, given its two off-diagonal counts."""
    n = first_only + second_only
    if n == 0:
        return McNemar(0, 0, 0.0, 1.0, "exact binomial")
    if n < EXACT_BELOW:
        p_value = binomtest(first_only, n, 0.5, alternative="two-sided").pvalue
        return McNemar(first_only, second_only, float(first_only), min(1.0, float(p_value)), "exact binomial")
    statistic = (abs(first_only - second_only) - 1) ** 2 / n
    p_value = float(chi2.sf(statistic, 1))
    return McNemar(first_only, second_only, statistic, p_value, "chi-square (continuity-corrected)")


def mcnemar_of(first_correct: np.ndarray, second_correct: np.ndarray) -> McNemar:
    """McNemar's test from two models' per-image right (True) / wrong (False) on the same images."""
    first_correct, second_correct = np.asarray(first_correct, bool), np.asarray(second_correct, bool)
    b = int(np.sum(first_correct & ~second_correct))
    c = int(np.sum(~first_correct & second_correct))
    return mcnemar(b, c)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values: the family-wise error stays at alpha over all the pairs tested."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for rank, index in enumerate(order):
        running = max(running, (len(p_values) - rank) * p_values[index])
        adjusted[index] = min(1.0, running)
    return adjusted


@dataclass(frozen=True)
class PairTest:
    """One pair of compared models, its test, the p-value after Holm's correction, and a verdict."""

    first: str
    second: str
    test: McNemar
    p_adjusted: float  # equals the test's p-value when only two models are compared
    alpha: float = ALPHA

    @property
    def significant(self) -> bool:
        return self.p_adjusted < self.alpha

    @property
    def better(self) -> str | None:
        """The model right on more of the discordant images, when the difference is significant."""
        if not self.significant:
            return None
        return self.first if self.test.first_only > self.test.second_only else self.second

    @property
    def sentence(self) -> str:
        """The verdict in one plain sentence."""
        p = p_phrase(self.p_adjusted)
        if self.better is None:
            return f"No significant difference between {self.first} and {self.second} ({p})."
        worse = self.second if self.better == self.first else self.first
        return f"{self.better} is more accurate than {worse} ({p})."


def format_p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_phrase(p: float, name: str = "p") -> str:
    """ "p = 0.039", or "p < 0.001" for the smallest values."""
    return f"{name} < 0.001" if p < 0.001 else f"{name} = {p:.3f}"


# ---- several models ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Two or more models on one test set: their scores and a test for every pair (Holm-corrected)."""

    scores: tuple[ModelScores, ...]
    tests: tuple[PairTest, ...]
    corrected: bool  # Holm's correction applied (more than two models)

    @property
    def names(self) -> list[str]:
        return [score.name for score in self.scores]


def compare(
    evaluations: Sequence[tuple[str, Evaluation]],
    records: Sequence[RunRecord | None] | None = None,
    alpha: float = ALPHA,
) -> Comparison:
    """Scores and pairwise McNemar tests of named evaluations on the same test images.

    Raises DataMismatchError when the evaluations are not on the same labelled images: their
    right/wrong tables would not pair up, and a p-value from them would be meaningless.
    """
    if len(evaluations) < 2:
        raise DataMismatchError("a comparison needs at least two models")
    names = [name for name, _ in evaluations]
    if len(set(names)) != len(names):
        raise DataMismatchError("each compared model needs its own name")
    check_same_labels(evaluations)
    records = list(records) if records is not None else [None] * len(evaluations)
    scores = tuple(scores_of(name, ev, record) for (name, ev), record in zip(evaluations, records, strict=True))
    correct = {name: ev.predictions == ev.labels for name, ev in evaluations}
    pairs = list(itertools.combinations(names, 2))
    tests = [mcnemar_of(correct[first], correct[second]) for first, second in pairs]
    corrected = len(evaluations) > 2
    adjusted = holm([test.p_value for test in tests]) if corrected else [test.p_value for test in tests]
    pair_tests = tuple(
        PairTest(first, second, test, p, alpha) for (first, second), test, p in zip(pairs, tests, adjusted, strict=True)
    )
    return Comparison(scores, pair_tests, corrected)


def check_same_labels(evaluations: Sequence[tuple[str, Evaluation]]) -> None:
    (first_name, first), *others = evaluations
    for name, other in others:
        if len(other.labels) != len(first.labels) or not np.array_equal(other.labels, first.labels):
            raise DataMismatchError(
                f"{name} and {first_name} were evaluated on different test sets "
                f"({len(other.labels):,} vs {len(first.labels):,} images): they cannot be compared"
            )


def data_mismatch(record: RunRecord, data: MnistData, name: str = "the run") -> str | None:
    """Why a run's scores do not belong to `data`'s test set, or None when they do.

    Runs trained on the offline sample are tested on 1,000 sample images; runs on full MNIST on
    its 10,000 test images: a comparison must put every model on the same images.
    """
    recorded = record.data
    if recorded.test is None or not recorded.source:
        return f"{name}: its record does not say which test set it was scored on, so it cannot be compared"
    same_kind = (recorded.source == "sample") == data.is_sample
    if same_kind and recorded.test == len(data.y_test):
        return None
    return (
        f"{name} was trained and tested on other data ({recorded.description or recorded.source}, "
        f"{recorded.test:,} test images) than the data loaded now ({data.description}, "
        f"{len(data.y_test):,} test images): only runs on the same test set can be compared"
    )


def disagreements(evaluations: Sequence[Evaluation], true_class: int | None = None) -> np.ndarray:
    """Indices of the test images on which the models do not all predict the same digit."""
    predictions = np.stack([ev.predictions for ev in evaluations])
    differ = np.any(predictions != predictions[0], axis=0)
    if true_class is not None:
        differ &= evaluations[0].labels == true_class
    return np.flatnonzero(differ)


def class_differences(evaluations: Sequence[tuple[str, Evaluation]]) -> pd.DataFrame:
    """Per digit and metric, each model's score minus the first (reference) model's.

    Long form: columns digit, model, metric, value, difference; one row per other model.
    """
    (reference_name, reference), *others = evaluations
    base = reference.report.loc[DIGITS, list(METRICS)]
    rows = []
    for name, evaluation in others:
        report = evaluation.report.loc[DIGITS, list(METRICS)]
        for digit in DIGITS:
            for metric in METRICS:
                value = float(report.loc[digit, metric])
                rows.append(
                    {
                        "digit": digit,
                        "model": name,
                        "metric": metric,
                        "value": value,
                        "difference": value - float(base.loc[digit, metric]),
                    }
                )
    return pd.DataFrame(rows, columns=["digit", "model", "metric", "value", "difference"])
