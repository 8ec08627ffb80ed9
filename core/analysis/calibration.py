"""Calibration: do the model's probabilities mean what they say, and temperature scaling to make them.

A model is calibrated when, of the images it predicts with 90 % confidence, 90 % are right. The
reliability diagram bins the images by confidence (the probability of the predicted digit) and sets
each bin's accuracy against its mean confidence; the expected calibration error (ECE) is the gap
averaged over the bins, weighted by their counts, and the maximum calibration error (MCE) the
largest gap. The log-loss (NLL) and the Brier score judge every probability, not only the top one.

Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", 2017) divides the
logits by one number T fitted on held-out images. The models here output probabilities, and
softmax(log p / T) equals softmax(logits / T) (log p is the logits minus a per-image constant), so
it works on log-probabilities. T never changes which digit is predicted, only how sure the model is.

Selective prediction: answer only when the confidence reaches a threshold, and say "not sure"
otherwise; the accuracy on the answered images rises as their share (the coverage) falls.

The first part holds pure functions of arrays; the last section finds the held-out images a
model's temperature is fitted on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from core.analysis.evaluation import Evaluation, predict_probabilities
from core.data import MnistData, split_validation
from core.record import TemperatureScaling
from core.run_selection import trained_on
from core.runs import RunInfo
from core.training import training_split

BINS = 15  # equal-width confidence bins, as in Guo et al.
TEMPERATURE_BOUNDS = (0.05, 20.0)  # the fit searches log T between these
# Probabilities are clipped to this before the log: a float32 softmax underflows to exactly 0.
SMALLEST_PROBABILITY = float(np.finfo(np.float32).tiny)
UPLOAD_FIT_FRACTION = 0.1  # of the training set, for a model whose held-out images are unknown
UPLOAD_FIT_SEED = 0
MAX_CURVE_POINTS = 200


# ---- scores ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityDiagram:
    """Images binned by confidence: per bin its edges, image count, mean confidence and accuracy.

    Bin i holds the confidences in (edges[i], edges[i + 1]] (the first bin includes 0). An empty
    bin's mean confidence and accuracy are NaN.
    """

    edges: np.ndarray  # (bins + 1,)
    counts: np.ndarray  # (bins,) int
    mean_confidence: np.ndarray  # (bins,)
    accuracy: np.ndarray  # (bins,)

    @property
    def gaps(self) -> np.ndarray:
        """|accuracy − mean confidence| per bin (NaN for empty bins)."""
        return np.abs(self.accuracy - self.mean_confidence)

    @property
    def expected_calibration_error(self) -> float:
        """The gaps averaged over the images: Σ (n_bin / n) · |accuracy − confidence|."""
        total = int(self.counts.sum())
        if total == 0:
            return float("nan")
        filled = self.counts > 0
        return float(np.sum(self.counts[filled] * self.gaps[filled]) / total)

    @property
    def maximum_calibration_error(self) -> float:
        """The largest gap over the bins that hold images."""
        filled = self.counts > 0
        return float(np.max(self.gaps[filled])) if filled.any() else float("nan")


def reliability_diagram(confidences: np.ndarray, correct: np.ndarray, bins: int = BINS) -> ReliabilityDiagram:
    """Bin `confidences` (one per image, in [0, 1]) into `bins` equal-width bins with whether each was `correct`."""
    confidences = np.asarray(confidences, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.searchsorted(edges[1:-1], confidences, side="left")  # (edges[i], edges[i+1]] → i
    counts = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(index, weights=confidences, minlength=bins) / counts
        accuracy = np.bincount(index, weights=correct, minlength=bins) / counts
    return ReliabilityDiagram(edges, counts, mean_confidence, accuracy)


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """log p in float64, zeros clipped to the smallest float32 (so a confident model's 0 is finite)."""
    return np.log(np.clip(np.asarray(probabilities, dtype=np.float64), SMALLEST_PROBABILITY, None))


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The mean log-loss, −log p(true digit), over the images."""
    labels = np.asarray(labels, dtype=np.int64)
    return float(-np.mean(log_probabilities(probabilities)[np.arange(len(labels)), labels]))


def brier_score(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Brier's score for several classes: Σ over digits of (p − 1[true digit])², averaged over the images (0 to 2)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    one_hot = np.zeros_like(probabilities)
    one_hot[np.arange(len(labels)), labels] = 1.0
    return float(np.mean(np.sum((probabilities - one_hot) ** 2, axis=1)))


@dataclass(frozen=True)
class CalibrationReport:
    """How calibrated a set of probabilities is on labelled images (at a given temperature)."""

    temperature: float
    reliability: ReliabilityDiagram
    nll: float
    brier: float
    accuracy: float
    mean_confidence: float
    count: int

    @property
    def ece(self) -> float:
        return self.reliability.expected_calibration_error

    @property
    def mce(self) -> float:
        return self.reliability.maximum_calibration_error


def calibration_report(
    probabilities: np.ndarray, labels: np.ndarray, temperature: float = 1.0, bins: int = BINS
) -> CalibrationReport:
    """ECE, MCE, log-loss, Brier score and the reliability diagram of `probabilities` scaled by `temperature`."""
    probabilities = apply_temperature(probabilities, temperature)
    labels = np.asarray(labels, dtype=np.int64)
    confidences = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    return CalibrationReport(
        temperature=float(temperature),
        reliability=reliability_diagram(confidences, correct, bins),
        nll=negative_log_likelihood(probabilities, labels),
        brier=brier_score(probabilities, labels),
        accuracy=float(np.mean(correct)) if len(labels) else float("nan"),
        mean_confidence=float(np.mean(confidences)) if len(labels) else float("nan"),
        count=len(labels),
    )


# ---- temperature scaling ---------------------------------------------------------------------------


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T) per row (one image or many); T = 1 returns the probabilities unchanged."""
    probabilities = np.asarray(probabilities)
    if temperature == 1.0:
        return probabilities
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"the temperature must be a positive number, not {temperature}")
    scaled = softmax(log_probabilities(probabilities) / temperature, axis=-1)
    return scaled.astype(probabilities.dtype if probabilities.dtype.kind == "f" else np.float64)


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T minimising the log-loss of softmax(log p / T) on these labelled images.

    Bounded Brent search (scipy's minimize_scalar) over log T within TEMPERATURE_BOUNDS: the
    log-loss is convex in 1/T, so it has one minimum, and log T treats 0.5 and 2 alike.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        raise ValueError("fitting a temperature needs at least one labelled image")
    log_p = log_probabilities(probabilities)
    rows = np.arange(len(labels))

    def log_loss(log_temperature: float) -> float:
        return float(-np.mean(log_softmax(log_p / math.exp(log_temperature), axis=1)[rows, labels]))

    low, high = (math.log(bound) for bound in TEMPERATURE_BOUNDS)
    result = minimize_scalar(log_loss, bounds=(low, high), method="bounded", options={"xatol": 1e-4})
    return float(math.exp(result.x))


def temperature_scaling(probabilities: np.ndarray, labels: np.ndarray) -> TemperatureScaling:
    """Fit T on these images, with their log-loss before and after (what a run records)."""
    temperature = fit_temperature(probabilities, labels)
    return TemperatureScaling(
        temperature=temperature,
        images=len(labels),
        nll_before=negative_log_likelihood(probabilities, labels),
        nll_after=negative_log_likelihood(apply_temperature(probabilities, temperature), labels),
    )


def scaled_evaluation(evaluation: Evaluation, temperature: float) -> Evaluation:
    """The same evaluation with temperature-scaled probabilities (same predictions, other confidences)."""
    if temperature == 1.0:
        return evaluation
    return Evaluation(evaluation.labels, apply_temperature(evaluation.probabilities, temperature))


# ---- selective prediction --------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectivePrediction:
    """The model answers the images whose confidence reaches `threshold`, and says "not sure" on the rest."""

    threshold: float
    answered: int
    correct: int  # of the answered images
    count: int  # all images

    @property
    def coverage(self) -> float:
        """The share of images answered."""
        return self.answered / self.count if self.count else float("nan")

    @property
    def accuracy(self) -> float:
        """The accuracy on the answered images (NaN when none is)."""
        return self.correct / self.answered if self.answered else float("nan")


def selective_prediction(confidences: np.ndarray, correct: np.ndarray, threshold: float) -> SelectivePrediction:
    """Accuracy and coverage when answering only at confidence ≥ `threshold`."""
    answered = np.asarray(confidences) >= threshold
    return SelectivePrediction(
        threshold=float(threshold),
        answered=int(answered.sum()),
        correct=int(np.sum(np.asarray(correct, dtype=bool) & answered)),
        count=int(answered.size),
    )


@dataclass(frozen=True)
class CoverageCurve:
    """Accuracy against coverage as the threshold falls: each point is a threshold some images reach exactly."""

    thresholds: np.ndarray  # descending
    coverage: np.ndarray  # ascending: share of images with confidence ≥ the threshold
    accuracy: np.ndarray  # on those images


def accuracy_coverage_curve(
    confidences: np.ndarray, correct: np.ndarray, max_points: int = MAX_CURVE_POINTS
) -> CoverageCurve:
    """Every threshold worth trying (each distinct confidence), thinned to at most `max_points` evenly spread."""
    confidences = np.asarray(confidences, dtype=np.float64)
    if confidences.size == 0:
        empty = np.zeros(0)
        return CoverageCurve(empty, empty, empty)
    order = np.argsort(-confidences, kind="stable")
    ranked, hits = confidences[order], np.asarray(correct, dtype=np.float64)[order]
    # The last image of each run of equal confidences: a threshold answers all of a run or none of it.
    ends = np.flatnonzero(np.r_[ranked[1:] != ranked[:-1], True])
    if len(ends) > max_points:
        ends = ends[np.unique(np.linspace(0, len(ends) - 1, max_points).round().astype(int))]
    answered = ends + 1
    return CoverageCurve(ranked[ends], answered / len(ranked), np.cumsum(hits)[ends] / answered)


def answer(probabilities: np.ndarray, threshold: float | None) -> int | None:
    """The predicted digit, or None ("not sure") when its probability is under `threshold` (None: always answer)."""
    probabilities = np.asarray(probabilities)
    predicted = int(np.argmax(probabilities))
    if threshold is not None and probabilities[predicted] < threshold:
        return None
    return predicted


# ---- the held-out images a model's temperature is fitted on -----------------------------------------


@dataclass(frozen=True)
class FitImages:
    """Labelled images to fit a temperature on, where they come from, and why the model may have seen them."""

    images: np.ndarray
    labels: np.ndarray
    description: str  # for the user: "the validation split this run held out …"
    caveat: str | None = None  # None when the model never trained on them


def images_to_fit_on(runs: tuple[RunInfo, ...], data: MnistData) -> FitImages:
    """The images to fit the temperature of a run (one RunInfo), an ensemble (its members) or an upload (none).

    A run trained here on this data: the validation split it held out, found again from its
    configuration. An ensemble: its first member's validation split (the other members, trained with
    other seeds, may have trained on some of it). Otherwise (an upload, or a run trained on other
    data) no held-out split is known: a seeded, stratified 10 % of this data's training set.
    """
    first = runs[0] if runs else None
    held_out = _held_out_split(first, data) if first is not None else None
    if held_out is not None:
        images, labels = held_out
        if len(runs) == 1:
            description = f"the validation split this run held out in training ({len(labels):,} images)"
            return FitImages(images, labels, description)
        return FitImages(
            images,
            labels,
            f"the validation split of the first member, {first.run_id} ({len(labels):,} images)",
            f"The other {len(runs) - 1} member(s) held out other images (other seeds or settings) and may have "
            "trained on some of these, which can make the ensemble look better calibrated on them than it is.",
        )
    _, _, images, labels = split_validation(data.x_train, data.y_train, UPLOAD_FIT_FRACTION, UPLOAD_FIT_SEED)
    description = f"a seeded, stratified {UPLOAD_FIT_FRACTION:.0%} of the training set ({len(labels):,} images)"
    if first is None or first.record.is_uploaded:
        reason = "This model was trained elsewhere, so which images it held out is unknown"
    else:
        reason = f"Run {first.run_id} was trained on other data ({first.record.data.description or 'unknown'})"
    return FitImages(images, labels, description, f"{reason}: it may have trained on these images.")


def _held_out_split(run: RunInfo, data: MnistData) -> tuple[np.ndarray, np.ndarray] | None:
    """The validation images and labels `run` held out, when it was trained here on this very data; else None."""
    if run.record.is_uploaded or not trained_on(run, data):
        return None
    _, _, images, labels = training_split(run.config, data)
    if run.record.data.validation not in (None, len(labels)):  # not the split it recorded
        return None
    return images, labels


def fit_model_temperature(model: keras.Model, fit_images: FitImages) -> TemperatureScaling:
    """One batched pass of `model` over the fit images, then the temperature fit."""
    return temperature_scaling(predict_probabilities(model, fit_images.images), fit_images.labels)
