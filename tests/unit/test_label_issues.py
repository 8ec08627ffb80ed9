"""Label issues on hand-made probabilities; K-fold out-of-sample probabilities with a fake trainer."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.analysis.label_issues import (
    METHODS,
    as_probabilities,
    disputed_in_top,
    rank_label_issues,
    suspects_table,
)
from core.analysis.out_of_sample import Budget, fold_assignments, out_of_sample_probabilities
from core.data import MnistData
from core.errors import ConfigError
from core.label_issue_jobs import OutOfSampleJobs

CLASSES = 10


def confident_probabilities(labels: np.ndarray, confidence: float = 0.9) -> np.ndarray:
    """Each row puts `confidence` on its label and spreads the rest evenly."""
    p = np.full((len(labels), CLASSES), (1 - confidence) / (CLASSES - 1))
    p[np.arange(len(labels)), labels] = confidence
    return p


def labelled_set(per_class: int = 20) -> np.ndarray:
    return np.repeat(np.arange(CLASSES), per_class)


# ---- ranking -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_a_flipped_label_ranks_first_and_is_flagged(method):
    labels = labelled_set()
    probabilities = confident_probabilities(labels)
    given = labels.copy()
    given[37] = 5  # the image is a clear 1 (per the model), its label says 5
    issues = rank_label_issues(given, probabilities, method=method)
    assert issues.ranking[0] == 37
    assert issues.flagged[37]
    assert issues.flagged_count == 1
    assert issues.predictions[37] == 1


def test_an_unsure_image_ranks_between_a_wrong_label_and_clean_ones():
    labels = labelled_set()
    probabilities = confident_probabilities(labels)
    probabilities[3] = confident_probabilities(np.array([0]), confidence=0.5)[0]  # unsure, label 0 still likeliest
    given = labels.copy()
    given[150] = 2  # a clear 7 labelled 2
    issues = rank_label_issues(given, probabilities)
    assert list(issues.top(2)) == [150, 3]
    assert issues.scores[150] < issues.scores[3] < issues.scores[0]


def test_top_three_classes_and_their_probabilities():
    probabilities = np.tile(np.eye(CLASSES)[0], (CLASSES * 3, 1))
    probabilities[0] = [0.0, 0.1, 0.0, 0.6, 0.0, 0.0, 0.0, 0.25, 0.05, 0.0]
    issues = rank_label_issues(np.zeros(CLASSES * 3, int), probabilities)
    assert issues.top_classes[0].tolist() == [3, 7, 1]
    assert np.allclose(issues.top_probabilities[0], [0.6, 0.25, 0.1])


def test_rows_that_do_not_sum_to_one_are_rescaled():
    p = as_probabilities(np.array([[2.0, 2.0, 0.0], [0.0, 0.0, 0.0], [-0.1, 0.5, 0.5]]))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert np.allclose(p[0], [0.5, 0.5, 0.0])
    assert np.allclose(p[1], 1 / 3)
    assert p.min() >= 0


def test_too_few_images_per_class_to_flag_still_ranks():
    labels = np.array([0, 1, 2])
    probabilities = confident_probabilities(np.array([0, 1, 9]))
    issues = rank_label_issues(labels, probabilities)
    assert issues.ranking[0] == 2
    assert not issues.flagged.any()


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown method"):
        rank_label_issues(np.array([0]), np.eye(CLASSES)[:1], method="vibes")


def test_disputed_indices_in_the_top_n_come_in_ranking_order():
    labels = labelled_set()
    given = labels.copy()
    given[[10, 60, 120]] = [3, 4, 9]
    probabilities = confident_probabilities(labels)
    probabilities[60] = confident_probabilities(np.array([3]), 0.99)[0]  # the surest mistake: ranks first
    issues = rank_label_issues(given, probabilities)
    assert issues.ranking[0] == 60
    assert disputed_in_top(issues, {10, 60, 199}, top=3) == (60, 10)
    assert disputed_in_top(issues, {199}, top=3) == ()


def test_suspects_table_rows_worst_first_with_disputed_mark():
    labels = labelled_set()
    given = labels.copy()
    given[42] = 8
    issues = rank_label_issues(given, confident_probabilities(labels))
    table = suspects_table(issues, count=5, disputed={42})
    assert len(table) == 5
    first = table.iloc[0]
    assert (first["rank"], first["index"], first["given label"], first["predicted"]) == (1, 42, 8, 2)
    assert bool(first["label disputed"]) and bool(first["flagged"])
    assert first["top 3"].startswith("2 (90%) · ")
    assert first["top 1 class"] == 2 and first["top 1 probability"] == pytest.approx(0.9)
    assert not table["label disputed"].iloc[1:].any()
    assert table["quality score"].is_monotonic_increasing
    assert len(suspects_table(issues)) == len(labels)


# ---- out-of-sample probabilities -----------------------------------------------------------------


class RecordingTrainer:
    """A fake trainer: "predicts" by looking each image up among those it trained on.

    An image it trained on gets probability 1 on its (given) label: the leak the K-fold scheme
    must prevent. An image it never saw gets a uniform row.
    """

    def __init__(self):
        self.trained_on: list[set[int]] = []

    def __call__(self, images, labels, budget, listener, cancel_event):
        seen = {int(image[0, 0]): int(label) for image, label in zip(images, labels, strict=True)}
        self.trained_on.append(set(seen))
        listener(0.5)
        listener(1.0)

        def predict(held_out):
            rows = np.full((len(held_out), CLASSES), 1 / CLASSES, dtype=np.float32)
            for row, image in zip(rows, held_out, strict=True):
                if int(image[0, 0]) in seen:
                    row[:] = np.eye(CLASSES)[seen[int(image[0, 0])]]
            return rows

        return predict


def numbered_images(count: int) -> np.ndarray:
    """Images whose top-left pixel holds their number (up to 255), so a fake trainer can tell them apart."""
    images = np.zeros((count, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(count)
    return images


def test_no_image_is_predicted_by_a_model_that_trained_on_it():
    images, labels = numbered_images(200), labelled_set(20)
    trainer = RecordingTrainer()
    progress = []
    probabilities = out_of_sample_probabilities(
        images, labels, Budget(images=200, folds=4), trainer=trainer, on_progress=progress.append
    )
    assert np.allclose(probabilities, 1 / CLASSES)  # a single leaked row would be one-hot
    assert len(trainer.trained_on) == 4
    for trained_on in trainer.trained_on:  # each model trained on 3 of the 4 folds
        assert len(trained_on) == 150
    assert set.union(*trainer.trained_on) == set(range(200))
    fractions = [p.fraction_done for p in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [p.fold for p in progress][-1] == 4


def test_folds_are_stratified_and_cover_every_image_once():
    labels = labelled_set(8)
    assignment = fold_assignments(labels, folds=4, seed=1)
    assert sorted(set(assignment.tolist())) == [0, 1, 2, 3]
    for fold in range(4):
        assert np.bincount(labels[assignment == fold], minlength=CLASSES).tolist() == [2] * CLASSES
    assert fold_assignments(np.array([0, 0, 1, 2, 3, 4]), folds=2).size == 6  # too few per class: plain K-fold


def test_a_cancel_stops_before_the_next_fold():
    cancel = threading.Event()
    trainer = RecordingTrainer()

    def cancelling_trainer(*args):
        predict = trainer(*args)
        cancel.set()
        return predict

    result = out_of_sample_probabilities(
        numbered_images(100), labelled_set(10), Budget(images=200, folds=4), cancelling_trainer, cancel_event=cancel
    )
    assert result is None
    assert len(trainer.trained_on) == 1


def test_a_budget_out_of_range_is_refused():
    with pytest.raises(ConfigError, match="between 200 and 1,000 images"):
        Budget(images=5000).validated(1000)
    with pytest.raises(ConfigError, match="folds"):
        Budget(images=500, folds=1).validated(1000)


# ---- the server's jobs ---------------------------------------------------------------------------


def fake_data(count: int = 200) -> MnistData:
    images, labels = numbered_images(count), labelled_set(count // CLASSES).astype(np.uint8)
    return MnistData(images, labels, images[:0], labels[:0], "sample", "numbered images")


def test_a_job_ranks_the_budgets_training_images_and_is_shared():
    jobs = OutOfSampleJobs(trainer=RecordingTrainer())
    data = fake_data()
    job = jobs.start(data, Budget(images=200, folds=2))
    status = job.wait(30)
    assert status.state == "done", status.error
    assert len(status.issues.labels) == 200
    assert jobs.start(data, Budget(images=200, folds=2)) is job  # computed once per data and budget
    assert jobs.get(data, Budget(images=200, folds=2)) is job
    assert jobs.get(data, Budget(images=200, folds=4)) is None


def test_a_cancelled_job_says_so_and_a_new_start_runs_again():
    started = threading.Event()
    release = threading.Event()

    def slow_trainer(images, labels, budget, listener, cancel_event):
        started.set()
        release.wait(10)
        return None if cancel_event.is_set() else RecordingTrainer()(images, labels, budget, listener, cancel_event)

    jobs = OutOfSampleJobs(trainer=slow_trainer)
    data = fake_data()
    job = jobs.start(data, Budget(images=200, folds=2))
    assert started.wait(10)
    assert job.status().is_active
    job.cancel()
    release.set()
    assert job.wait(10).state == "cancelled"
    again = jobs.start(data, Budget(images=200, folds=2))
    assert again is not job
    assert again.wait(30).state == "done"


def test_a_failing_trainer_fails_the_job_with_its_message():
    def broken(*args):
        raise RuntimeError("out of memory")

    job = OutOfSampleJobs(trainer=broken).start(fake_data(), Budget(images=200, folds=2))
    status = job.wait(10)
    assert status.state == "failed"
    assert "out of memory" in status.error
