"""Comparing models: McNemar's test against textbook values, Holm's correction, Wilson intervals, refusals."""

import numpy as np
import pytest
from scipy.stats import binomtest

from core.analysis.comparison import (
    EXACT_BELOW,
    class_differences,
    compare,
    data_mismatch,
    disagreements,
    holm,
    mcnemar,
    mcnemar_of,
    wilson_interval,
)
from core.analysis.evaluation import Evaluation
from core.config import TrainConfig
from core.data import MnistData
from core.errors import DataMismatchError
from core.record import DataSummary, RunRecord


def evaluation_of(labels, predictions) -> Evaluation:
    """An Evaluation whose argmax is `predictions` (one-hot probabilities)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    return Evaluation(labels.astype(np.int64), np.eye(10, dtype=np.float32)[predictions])


def paired(both: int, first_only: int, second_only: int, neither: int) -> tuple[Evaluation, Evaluation]:
    """Two models on the same images with this 2×2 table of right/wrong (label 0 everywhere)."""
    first = [0] * both + [0] * first_only + [1] * second_only + [1] * neither
    second = [0] * both + [1] * first_only + [0] * second_only + [2] * neither
    labels = [0] * len(first)
    return evaluation_of(labels, first), evaluation_of(labels, second)


def test_exact_mcnemar_on_few_discordant_pairs_gives_the_textbook_p_value():
    result = mcnemar(10, 2)  # n = 12 < 25: two-sided binomial, 2 * P(X <= 2 | n=12, p=1/2)
    assert result.method == "exact binomial"
    assert result.p_value == pytest.approx(2 * (1 + 12 + 66) / 2**12)  # 0.0386
    assert result.p_value == pytest.approx(0.0386, abs=1e-4)


def test_chi_square_mcnemar_with_continuity_correction_gives_the_textbook_p_value():
    result = mcnemar(30, 12)
    assert result.method == "chi-square (continuity-corrected)"
    assert result.statistic == pytest.approx((abs(30 - 12) - 1) ** 2 / 42)  # 6.881
    assert result.statistic == pytest.approx(6.881, abs=1e-3)
    assert result.p_value == pytest.approx(0.0087, abs=1e-4)


def test_the_exact_test_is_used_below_25_discordant_pairs_only():
    assert mcnemar(12, EXACT_BELOW - 1 - 12).method == "exact binomial"
    assert mcnemar(12, EXACT_BELOW - 12).method.startswith("chi-square")
    assert mcnemar(0, 0).p_value == 1.0
    assert mcnemar(3, 3).p_value == pytest.approx(binomtest(3, 6).pvalue)


def test_mcnemar_counts_the_discordant_pairs_of_per_image_predictions():
    first, second = paired(both=50, first_only=10, second_only=2, neither=7)
    result = mcnemar_of(first.predictions == first.labels, second.predictions == second.labels)
    assert (result.first_only, result.second_only) == (10, 2)
    assert result.p_value == pytest.approx(0.0386, abs=1e-4)


def test_holm_step_down_adjustment():
    # Sorted 0.005, 0.01, 0.03, 0.04 are multiplied by 4, 3, 2, 1, then made monotone.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # never below a smaller p's adjusted value
    assert holm([]) == []


def test_wilson_interval_matches_the_textbook_and_stays_in_range():
    low, high = wilson_interval(95, 100)
    assert (low, high) == pytest.approx((0.8882, 0.9785), abs=1e-4)
    assert wilson_interval(100, 100)[1] == 1.0 and wilson_interval(100, 100)[0] < 1.0
    assert wilson_interval(0, 10)[0] == 0.0


def test_two_models_get_one_uncorrected_test_and_a_plain_sentence():
    first, second = paired(both=50, first_only=10, second_only=2, neither=7)
    comparison = compare([("run A", first), ("run B", second)])
    (pair,) = comparison.tests
    assert not comparison.corrected and pair.p_adjusted == pair.test.p_value
    assert pair.better == "run A"
    assert pair.sentence == "run A is more accurate than run B (p = 0.039)."
    assert [s.name for s in comparison.scores] == ["run A", "run B"]
    assert comparison.scores[0].accuracy == pytest.approx(60 / 69)
    assert comparison.scores[0].low < comparison.scores[0].accuracy < comparison.scores[0].high


def test_no_significant_difference_is_said_plainly():
    first, second = paired(both=50, first_only=4, second_only=3, neither=5)
    (pair,) = compare([("A", first), ("B", second)]).tests
    assert pair.better is None
    assert pair.sentence.startswith("No significant difference between A and B (p = ")


def test_three_models_are_holm_corrected_over_their_three_pairs():
    labels = [0] * 60
    a = evaluation_of(labels, [0] * 60)
    b = evaluation_of(labels, [0] * 48 + [1] * 12)
    c = evaluation_of(labels, [0] * 58 + [1] * 2)
    comparison = compare([("A", a), ("B", b), ("C", c)])
    assert comparison.corrected and len(comparison.tests) == 3
    raw = [pair.test.p_value for pair in comparison.tests]
    assert [pair.p_adjusted for pair in comparison.tests] == pytest.approx(holm(raw))
    assert {(p.first, p.second) for p in comparison.tests} == {("A", "B"), ("A", "C"), ("B", "C")}


def test_evaluations_on_different_test_sets_are_refused():
    small = evaluation_of([0, 1, 2], [0, 1, 2])
    large = evaluation_of([0, 1, 2, 3], [0, 1, 2, 3])
    with pytest.raises(DataMismatchError, match="different test sets"):
        compare([("sample run", small), ("mnist run", large)])
    relabelled = evaluation_of([0, 1, 3], [0, 1, 2])
    with pytest.raises(DataMismatchError, match="different test sets"):
        compare([("a", small), ("b", relabelled)])


def fake_data(source: str, test: int) -> MnistData:
    images = np.zeros((test, 28, 28), np.uint8)
    return MnistData(images, np.zeros(test, np.uint8), images, np.zeros(test, np.uint8), source, f"{source} data")


def record_on(source: str, test: int | None) -> RunRecord:
    return RunRecord(config=TrainConfig(), data=DataSummary(source=source, description=f"{source} data", test=test))


def test_a_run_scored_on_other_data_is_refused_with_a_clear_message():
    full_mnist, sample = fake_data("keras", 10_000), fake_data("sample", 1_000)
    assert data_mismatch(record_on("sample", 1_000), sample) is None
    assert data_mismatch(record_on("folder", 10_000), full_mnist) is None  # same test set, read another way
    message = data_mismatch(record_on("sample", 1_000), full_mnist, "sample-run")
    assert message.startswith("sample-run was trained and tested on other data (sample data, 1,000 test images)")
    assert "only runs on the same test set can be compared" in message
    assert data_mismatch(record_on("keras", 10_000), sample) is not None
    assert "does not say" in data_mismatch(record_on("", None), sample)


def test_disagreements_and_class_differences():
    labels = [0, 1, 2, 3, 3]
    a = evaluation_of(labels, [0, 1, 2, 3, 3])
    b = evaluation_of(labels, [0, 7, 2, 3, 5])
    assert disagreements([a, b]).tolist() == [1, 4]
    assert disagreements([a, b], true_class=3).tolist() == [4]
    table = class_differences([("a", a), ("b", b)])
    recall_1 = table[(table.digit == "1") & (table.metric == "recall")]
    assert recall_1.difference.tolist() == [-1.0] and recall_1.model.tolist() == ["b"]
    assert len(table) == 10 * 3
