"""Robustness curves: test accuracy against the severity of each perturbation (core.analysis.perturbations).

Clean accuracy says little about a model that will see digits rotated, shifted, thickened or noisy;
one curve per kind of perturbation shows where each model breaks. A 2,000-image sample is the
default (the curves move by well under a point from the full set); every level of every kind is one
batched forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.analysis.evaluation import EVALUATION_BATCH_SIZE
from core.analysis.perturbations import PERTURBATIONS, Perturbation
from core.data import normalize

if TYPE_CHECKING:  # the model brings TensorFlow; stored curves and their charts need none
    import keras

DEFAULT_SAMPLE = 2000

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what is being measured)


@dataclass(frozen=True)
class RobustnessCurves:
    """Accuracy per perturbation and severity; severity 0 (the clean images) starts every curve."""

    images: int  # how many test images each point is measured on
    clean_accuracy: float
    curves: dict[str, tuple[tuple[float, float], ...]]  # perturbation name → ((severity, accuracy), …)

    def rows(self) -> list[tuple[str, float, float]]:
        """(perturbation name, severity, accuracy), in the order of PERTURBATIONS and their levels."""
        return [(name, severity, accuracy) for name, curve in self.curves.items() for severity, accuracy in curve]


def sample_indices(count: int, size: int | None = DEFAULT_SAMPLE, seed: int = 0) -> np.ndarray:
    """A fixed random sample of `size` test images (all of them for None or a size ≥ count), in order."""
    if size is None or size >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=size, replace=False))


def robustness_curves(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    perturbations: tuple[Perturbation, ...] = PERTURBATIONS,
    progress: Progress | None = None,
    seed: int = 0,
) -> RobustnessCurves:
    """Accuracy of `model` on `images` (uint8) at every level of every perturbation, and clean.

    `progress` is called after each measurement (in the caller's thread).
    """
    x, labels = normalize(images), np.asarray(labels)
    total = 1 + sum(len(p.levels) for p in perturbations)

    def accuracy(batch: np.ndarray) -> float:
        probabilities = model.predict(batch, batch_size=EVALUATION_BATCH_SIZE, verbose=0)
        return float(np.mean(np.asarray(probabilities).argmax(axis=1) == labels))

    clean = accuracy(x)
    done = 1
    if progress:
        progress(done, total, "clean images")
    curves = {}
    for perturbation in perturbations:
        points = [(0.0, clean)]
        for severity in perturbation.levels:
            points.append((float(severity), accuracy(perturbation(x, severity, seed))))
            done += 1
            if progress:
                progress(done, total, f"{perturbation.label} {severity:g} {perturbation.unit}")
        curves[perturbation.name] = tuple(sorted(points))
    return RobustnessCurves(len(labels), clean, curves)
