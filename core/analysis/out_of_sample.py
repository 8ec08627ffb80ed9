"""K-fold out-of-sample probabilities: each image predicted by a model that never saw it.

A model vouches for the labels it trained on, wrong ones included, so its probabilities on its own
training images hide label errors. Splitting the images into K folds and predicting each fold with
a model trained on the other K-1 gives every image an honest opinion, at the cost of K trainings:
hence the fast recipe, and a budget (how many images, how many epochs).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

from core.analysis.evaluation import predict_probabilities
from core.config import TrainConfig
from core.data import MnistData
from core.errors import ConfigError

RECIPE = "fast_cnn"  # ~10-20 s for all 60,000 images on 2 CPU cores: K of them stay affordable
DEFAULT_FOLDS = 4
DEFAULT_IMAGES = 10_000  # on full MNIST; the offline sample has fewer, and all are used
# Two, not the recipe's one: the recipe's single epoch is tuned for 54,000 images, and a fold of the
# budget has a few thousand (on the sample, hundreds), where one epoch leaves the model half trained.
DEFAULT_EPOCHS = 2
MIN_IMAGES = 200
CLASSES = 10

Predictor = Callable[[np.ndarray], np.ndarray]  # uint8 images (N×28×28) -> probabilities (N×classes)
FractionListener = Callable[[float], None]  # a fold's training progress, 0..1
# Trains on (images, labels) within the budget, reporting progress and obeying cancel; None if cancelled.
Trainer = Callable[[np.ndarray, np.ndarray, "Budget", FractionListener, threading.Event], Predictor | None]


@dataclass(frozen=True)
class Budget:
    """How much training the out-of-sample probabilities may cost: the first `images` training
    images, the recipe trained for `epochs`, `folds` times."""

    images: int = DEFAULT_IMAGES
    epochs: int = DEFAULT_EPOCHS
    folds: int = DEFAULT_FOLDS
    seed: int = 0

    def validated(self, available: int) -> Budget:
        """Self, or ConfigError naming what is out of range for `available` training images."""
        if not MIN_IMAGES <= self.images <= available:
            raise ConfigError(f"the budget must use between {MIN_IMAGES} and {available:,} images, not {self.images}")
        if not 2 <= self.folds <= 10:
            raise ConfigError("folds must be between 2 and 10")
        if self.epochs < 1:
            raise ConfigError("epochs must be >= 1")
        return self

    def describe(self) -> str:
        return f"{self.images:,} images · {self.folds} folds · {self.epochs} epoch{'s' * (self.epochs != 1)}"


@dataclass(frozen=True)
class FoldProgress:
    """Where the K trainings are: fold (1-based) of folds, and the fraction of all the work done."""

    fold: int
    folds: int
    fraction_done: float


def fold_assignments(labels: np.ndarray, folds: int, seed: int = 0) -> np.ndarray:
    """The fold (0..folds-1) of each image: stratified by label when every label has `folds` images."""
    labels = np.asarray(labels)
    counts = np.bincount(labels.astype(np.int64)) if len(labels) else np.zeros(0, int)
    stratify = len(counts) and counts[counts > 0].min() >= folds
    splitter = (StratifiedKFold if stratify else KFold)(n_splits=folds, shuffle=True, random_state=seed)
    assignment = np.empty(len(labels), dtype=np.int64)
    for fold, (_, held_out) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        assignment[held_out] = fold
    return assignment


def out_of_sample_probabilities(
    images: np.ndarray,
    labels: np.ndarray,
    budget: Budget,
    trainer: Trainer | None = None,
    on_progress: Callable[[FoldProgress], None] | None = None,
    cancel_event: threading.Event | None = None,
) -> np.ndarray | None:
    """(N, classes) probabilities, each row from the model of the one fold that held the image out.

    Returns None when cancelled. `images` and `labels` are the whole set the budget applies to.
    """
    trainer = trainer or fast_recipe_trainer
    cancel_event = cancel_event or threading.Event()
    report = on_progress or (lambda progress: None)
    assignment = fold_assignments(labels, budget.folds, budget.seed)
    probabilities = np.zeros((len(labels), CLASSES), dtype=np.float32)
    for fold in range(budget.folds):
        report(FoldProgress(fold + 1, budget.folds, fold / budget.folds))
        held_out = assignment == fold

        def listener(fraction: float, fold: int = fold) -> None:
            report(FoldProgress(fold + 1, budget.folds, (fold + min(max(fraction, 0.0), 1.0)) / budget.folds))

        predict = trainer(images[~held_out], labels[~held_out], budget, listener, cancel_event)
        if predict is None or cancel_event.is_set():
            return None
        probabilities[held_out] = predict(images[held_out])
    report(FoldProgress(budget.folds, budget.folds, 1.0))
    return probabilities


def fast_recipe_trainer(
    images: np.ndarray, labels: np.ndarray, budget: Budget, listener: FractionListener, cancel_event: threading.Event
) -> Predictor | None:
    """The speed recipe (fast_cnn) with the budget's epochs, trained on these images alone."""
    from core.training import train  # TensorFlow: imported when a training actually runs

    config = TrainConfig.for_arch(RECIPE, epochs=budget.epochs, seed=budget.seed, name="out-of-sample fold")
    data = MnistData(images, labels, images[:0], labels[:0], "fold", "one fold's training images")
    result = train(config, data, lambda event: listener(event.fraction_done), cancel_event)
    if result.cancelled:
        return None
    return lambda held_out: predict_probabilities(result.model, held_out)
