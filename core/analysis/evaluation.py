"""Evaluation on the test set: accuracy, per-class metrics, confusion matrix, mistakes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from core.data import normalize

if TYPE_CHECKING:  # the model brings TensorFlow; pandas takes ~0.7 s to import: Home needs neither
    import keras
    import pandas as pd

CLASSES = list(range(10))
# Images per forward pass: bounds the pass's working memory (deep_cnn ~0.7 MB per image), as fast as 2,000.
EVALUATION_BATCH_SIZE = 500


def predict_probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Class probabilities for uint8 images (N×28×28) in one batched pass."""
    x = normalize(images)
    if len(x) == 0:
        return np.zeros((0, 10), dtype=np.float32)
    return np.asarray(model.predict(x, batch_size=EVALUATION_BATCH_SIZE, verbose=0))


@dataclass(frozen=True)
class Evaluation:
    """Per-image probabilities on a labelled set, and the metrics derived from them."""

    labels: np.ndarray
    probabilities: np.ndarray

    @cached_property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @cached_property
    def confidences(self) -> np.ndarray:
        """The probability of the predicted class, per image."""
        return self.probabilities.max(axis=1)

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predictions == self.labels))

    @property
    def errors(self) -> int:
        """How many images are misclassified."""
        return int(np.sum(self.predictions != self.labels))

    @cached_property
    def confusion(self) -> np.ndarray:
        """10×10 counts: row = true class, column = predicted class."""
        from sklearn.metrics import confusion_matrix  # scikit-learn's import is slow: Home needs none of it

        return confusion_matrix(self.labels, self.predictions, labels=CLASSES)

    @cached_property
    def report(self) -> pd.DataFrame:
        """Precision, recall, F1 and support per digit, then the macro and weighted averages."""
        import pandas as pd
        from sklearn.metrics import classification_report

        raw = classification_report(
            self.labels,
            self.predictions,
            labels=CLASSES,
            output_dict=True,
            zero_division=0,
        )
        rows = {str(c): raw[str(c)] for c in CLASSES}
        rows["macro avg"] = raw["macro avg"]
        rows["weighted avg"] = raw["weighted avg"]
        table = pd.DataFrame(rows).T[["precision", "recall", "f1-score", "support"]]
        table["support"] = table["support"].astype(int)
        return table

    def summary(self) -> dict:
        """The test metrics a run stores in run.json."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": float(self.report.loc["macro avg", "f1-score"]),
            "weighted_f1": float(self.report.loc["weighted avg", "f1-score"]),
            "errors": self.errors,
            "count": int(len(self.labels)),
            "per_class": self.report.to_dict(orient="index"),
            "confusion": self.confusion.tolist(),
        }


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Evaluate `model` on uint8 images and their labels."""
    return Evaluation(np.asarray(labels).astype(np.int64), predict_probabilities(model, images))


def misclassified(
    evaluation: Evaluation,
    true_class: int | None = None,
    predicted_class: int | None = None,
    most_confident_first: bool = True,
) -> np.ndarray:
    """Indices of wrongly predicted images, optionally filtered, sorted by confidence."""
    wrong = evaluation.predictions != evaluation.labels
    if true_class is not None:
        wrong &= evaluation.labels == true_class
    if predicted_class is not None:
        wrong &= evaluation.predictions == predicted_class
    indices = np.flatnonzero(wrong)
    order = np.argsort(evaluation.confidences[indices], kind="stable")
    if most_confident_first:
        order = order[::-1]
    return indices[order]


def confusion_cell(
    evaluation: Evaluation, true_class: int, predicted_class: int, most_confident_first: bool
) -> np.ndarray:
    """Indices of the test images in one cell of the confusion matrix, sorted by confidence.

    Off the diagonal these are one kind of mistake; on it, the images of a digit the model got
    right, which are worth a look least confident first (the near misses).
    """
    in_cell = (evaluation.labels == true_class) & (evaluation.predictions == predicted_class)
    indices = np.flatnonzero(in_cell)
    order = np.argsort(evaluation.confidences[indices], kind="stable")
    return indices[order[::-1] if most_confident_first else order]


@dataclass(frozen=True)
class ConfusedPair:
    """An off-diagonal cell of the confusion matrix: `count` images of `true` predicted as `predicted`."""

    true: int
    predicted: int
    count: int
    share_of_true: float  # of all test images of the true digit


def most_confused_pairs(confusion: np.ndarray, top: int = 5) -> list[ConfusedPair]:
    """The off-diagonal cells with the most errors, largest first (cells without errors left out)."""
    confusion = np.asarray(confusion)
    off_diagonal = confusion.copy()
    np.fill_diagonal(off_diagonal, 0)
    row_totals = confusion.sum(axis=1)
    flat = np.argsort(off_diagonal, axis=None, kind="stable")[::-1][:top]
    pairs = []
    for index in flat:
        true, predicted = divmod(int(index), confusion.shape[1])
        count = int(off_diagonal[true, predicted])
        if count > 0:
            pairs.append(ConfusedPair(true, predicted, count, count / max(1, int(row_totals[true]))))
    return pairs
