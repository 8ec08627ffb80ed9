"""Label issues: which images' given labels are most likely wrong, ranked by cleanlab.

Confident learning needs out-of-sample probabilities: a model that trained on an image has
memorised its label, right or wrong, and vouches for it. The test set is out of sample for any
model trained on the training set; the training set needs K-fold probabilities
(core/analysis/out_of_sample.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores

# cleanlab's label-quality scores, each in [0, 1], low = the given label is likely wrong. Measured on
# full MNIST, how many of the 15 human-disputed test labels fall among the 100 lowest scores:
#   fast_cnn (the earlier two-epoch recipe, widths 16/32/64) seeds 0 / 1 / 2 (99.06 / 99.13 / 99.04 %):
#     self_confidence 12 / 15 / 13, normalized_margin 12 / 15 / 13, confidence_weighted_entropy 10 / 10 / 12;
#   the three averaged as an ensemble (99.20 %): 15, 15 and 14.
# (adjust_pred_probs changed nothing.) self_confidence, the probability the model gives the given
# label, ties for the most and is the plainest to explain, so it is the default.
METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
DEFAULT_METHOD = "self_confidence"
TOP_K = 3  # the model's top classes shown per suspect
DEFAULT_TOP = 100  # "the finder's top 100"


@dataclass(frozen=True)
class LabelIssues:
    """Every image's label quality under out-of-sample probabilities, worst first in `ranking`."""

    labels: np.ndarray  # the given labels (N,)
    probabilities: np.ndarray  # out-of-sample class probabilities (N, classes), rows sum to 1
    scores: np.ndarray  # label quality (N,), low = suspect
    flagged: np.ndarray  # (N,) bool: find_label_issues judges the label wrong
    method: str

    @cached_property
    def ranking(self) -> np.ndarray:
        """Image indices, lowest quality first (ties by index, so the order is reproducible)."""
        return np.argsort(self.scores, kind="stable")

    @cached_property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @cached_property
    def top_classes(self) -> np.ndarray:
        """(N, 3) the model's most probable classes per image, most probable first."""
        return np.argsort(-self.probabilities, axis=1, kind="stable")[:, :TOP_K]

    @cached_property
    def top_probabilities(self) -> np.ndarray:
        """(N, 3) the probabilities of `top_classes`."""
        return np.take_along_axis(self.probabilities, self.top_classes, axis=1)

    @property
    def flagged_count(self) -> int:
        return int(self.flagged.sum())

    def top(self, count: int) -> np.ndarray:
        """The `count` most suspect image indices."""
        return self.ranking[:count]


def as_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Rows clipped at 0 and rescaled to sum to 1 (float64): cleanlab rejects rows that drift from 1."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, None)
    sums = p.sum(axis=1, keepdims=True)
    uniform = np.full_like(p, 1.0 / max(1, p.shape[1]))
    return np.where(sums > 0, p / np.where(sums > 0, sums, 1.0), uniform)


def rank_label_issues(labels: np.ndarray, probabilities: np.ndarray, method: str = DEFAULT_METHOD) -> LabelIssues:
    """Score and flag each given label against out-of-sample `probabilities`.

    The score ranks (how suspect, continuous); find_label_issues flags (a yes/no that estimates
    how many labels are wrong per class from the confident joint, so it flags fewer than "every
    mistake"). n_jobs=1: no worker processes forked from a server holding TensorFlow.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    labels = np.asarray(labels).astype(np.int64)
    p = as_probabilities(probabilities)
    if len(labels) != len(p):
        raise ValueError(f"{len(labels)} labels but {len(p)} rows of probabilities")
    if len(labels) == 0:
        empty = np.zeros(0)
        return LabelIssues(labels, p, empty, empty.astype(bool), method)
    scores = get_label_quality_scores(labels, p, method=method)
    flagged = np.zeros(len(labels), dtype=bool)
    if _flaggable(labels, p):
        with warnings.catch_warnings():  # "may not flag all issues in class k": small classes, known
            warnings.simplefilter("ignore", UserWarning)
            flagged = find_label_issues(labels, p, n_jobs=1)
    return LabelIssues(labels, p, np.asarray(scores, dtype=np.float64), np.asarray(flagged, dtype=bool), method)


def _flaggable(labels: np.ndarray, probabilities: np.ndarray) -> bool:
    """find_label_issues needs labels within the classes and two or more images per given class."""
    if labels.min() < 0 or labels.max() >= probabilities.shape[1]:
        return False
    counts = np.bincount(labels)
    return bool(np.all(counts[counts > 0] >= 2)) and len(labels) > probabilities.shape[1]


def disputed_in_top(issues: LabelIssues, disputed: Collection[int], top: int = DEFAULT_TOP) -> tuple[int, ...]:
    """The disputed indices among the `top` most suspect images, in ranking order."""
    wanted = set(disputed)
    return tuple(int(index) for index in issues.top(top) if int(index) in wanted)


def suspects_table(
    issues: LabelIssues,
    count: int | None = None,
    disputed: Collection[int] = (),
    index_name: str = "index",
) -> pd.DataFrame:
    """The `count` most suspect images (all when None) as rows, worst first: CSV- and table-ready.

    Columns: rank, the image's index, given label, predicted label, quality score, flagged, the
    model's top 3 as text and as numbers, and whether human raters disputed the label.
    """
    indices = issues.ranking if count is None else issues.ranking[:count]
    classes, chances = issues.top_classes[indices], issues.top_probabilities[indices]
    disputed = set(disputed)
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(indices) + 1),
            index_name: indices.astype(np.int64),
            "given label": issues.labels[indices].astype(np.int64),
            "predicted": issues.predictions[indices].astype(np.int64),
            "quality score": issues.scores[indices],
            "flagged": issues.flagged[indices],
            "top 3": [top3_text(c, p) for c, p in zip(classes, chances, strict=True)],
            "label disputed": [int(index) in disputed for index in indices],
        }
    )
    for k in range(classes.shape[1]):
        table[f"top {k + 1} class"] = classes[:, k].astype(np.int64)
        table[f"top {k + 1} probability"] = chances[:, k]
    return table


def top3_text(classes: np.ndarray, probabilities: np.ndarray) -> str:
    """E.g. "7 (92%) · 1 (6%) · 9 (1%)"."""
    return " · ".join(f"{int(c)} ({p:.0%})" for c, p in zip(classes, probabilities, strict=True))
