"""Embedding map: the model's penultimate-layer features of test digits, projected to 2-D.

The input of the final classification layer is where a trained model has made the digits linearly
separable; a 2-D map of it shows which digits the model keeps apart, which it mixes up, and where
its errors sit. PCA is linear and instant; t-SNE (openTSNE) keeps neighbourhoods and takes seconds.
Both keep what they need to place a new image (a drawn digit) on the same map.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.decomposition import PCA

from core.analysis.inspection import INSPECTION_BATCH_SIZE, iter_layer_outputs
from core.data import as_model_input
from core.ensemble import inspectable_model

PCA_METHOD = "PCA"
TSNE_METHOD = "t-SNE"
TSNE_PCA_DIMENSIONS = 50  # t-SNE runs on this many principal components: the usual speed-up, little loss
TSNE_EARLY_ITERATIONS = 250  # openTSNE's defaults: early exaggeration, then the normal phase
TSNE_ITERATIONS = 500
TSNE_PERPLEXITY = 30
TSNE_REPORT_EVERY = 10  # iterations between progress reports (and cancel checks)


class EmbeddingCancelled(Exception):
    """The t-SNE run was cancelled before it finished."""


@dataclass(frozen=True, eq=False)
class EmbeddingSample:
    """Test images chosen for a map, with the model's penultimate features of each."""

    indices: np.ndarray  # into the test set, ascending
    features: np.ndarray  # (n, d) float32
    labels: np.ndarray  # true digits
    predictions: np.ndarray  # the model's predicted digits


@dataclass(frozen=True, eq=False)
class EmbeddingMap:
    """2-D positions of a sample's points, and the fitted projection that places new points."""

    method: str  # PCA_METHOD or TSNE_METHOD
    indices: np.ndarray
    coordinates: np.ndarray  # (n, 2)
    labels: np.ndarray
    predictions: np.ndarray
    reduction: PCA  # features → principal components (2 for PCA, up to 50 before t-SNE)
    tsne: object | None = None  # openTSNE's TSNEEmbedding: it places new points by optimising them against it

    @property
    def errors(self) -> np.ndarray:
        """Which points the model gets wrong."""
        return self.predictions != self.labels


def penultimate_layer_name(model: keras.Model) -> str | None:
    """The name of the layer whose output feeds the final classification layer; None if that is the input.

    The classifier is the last layer with weights: a trailing Activation or Softmax (an uploaded
    model's logits made probabilities) is skipped. Works on the model the inspection pages show
    (`inspectable_model`): an ensemble's first member, an upload's adapter steps and layers.
    """
    if isinstance(model, keras.Sequential):
        layers = list(model.layers)
        for position in range(len(layers) - 1, -1, -1):
            if layers[position].weights:
                return layers[position - 1].name if position > 0 else None
        raise ValueError(f"{model.name} has no layer with weights")
    operation = model.outputs[0]._keras_history.operation
    while not operation.weights:
        operation = _single_input(operation)._keras_history.operation
        if isinstance(operation, keras.layers.InputLayer):
            raise ValueError(f"{model.name} has no layer with weights")
    feeding = _single_input(operation)._keras_history.operation
    return None if isinstance(feeding, keras.layers.InputLayer) else feeding.name


def _single_input(operation):
    inputs = operation.input
    if isinstance(inputs, list | tuple):
        if len(inputs) != 1:
            raise ValueError(f"the layer {operation.name} has several inputs: no single penultimate layer")
        inputs = inputs[0]
    return inputs


def penultimate_features(model: keras.Model, images: np.ndarray, batch_size: int = INSPECTION_BATCH_SIZE) -> np.ndarray:
    """The input of the final classification layer for images (N×28×28), flattened to (N, d) float32.

    For an ensemble these are its first member's features (one member's space; averaging members'
    spaces means nothing), batched like every inspection pass.
    """
    model = inspectable_model(model)
    name = penultimate_layer_name(model)
    if name is None:
        return as_model_input(images).reshape(len(images), -1).astype(np.float32)
    outputs = iter_layer_outputs(model, images, [name], batch_size)
    batches = [batch[name].reshape(len(batch[name]), -1) for batch in outputs]
    if not batches:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(batches).astype(np.float32)


def sample_indices(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """`size` indices (ascending) with each digit in its share of `labels`, the same for the same seed.

    Stratified, so a small map still shows every digit; seeded, so a model's map and a second
    model's map show the same test images.
    """
    labels = np.asarray(labels)
    if size >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * size / len(labels)
    quota = np.floor(exact).astype(int)
    remainder_order = np.argsort(-(exact - quota), kind="stable")
    quota[remainder_order[: size - quota.sum()]] += 1  # largest remainders get the leftover places
    chosen = [
        rng.choice(np.flatnonzero(labels == digit), count, replace=False)
        for digit, count in zip(classes, quota, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def embedding_sample(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    predictions: np.ndarray,
    size: int,
    seed: int = 0,
) -> EmbeddingSample:
    """A stratified sample of the test set with its penultimate features (one batched pass)."""
    indices = sample_indices(labels, size, seed)
    features = penultimate_features(model, images[indices])
    return EmbeddingSample(indices, features, np.asarray(labels)[indices], np.asarray(predictions)[indices])


def pca_map(sample: EmbeddingSample, seed: int = 0) -> EmbeddingMap:
    """The sample on its first two principal components: instant, linear, and new points land exactly."""
    reduction = PCA(n_components=2, random_state=seed)
    coordinates = _fit_pca(reduction, sample.features)
    return EmbeddingMap(PCA_METHOD, sample.indices, coordinates, sample.labels, sample.predictions, reduction)


def tsne_map(
    sample: EmbeddingSample,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    seed: int = 0,
) -> EmbeddingMap:
    """The sample by openTSNE (on its top 50 principal components, one thread).

    `progress(iterations_done, iterations_total)` is called every few iterations; when `cancel()`
    turns true the optimisation stops and EmbeddingCancelled is raised. One thread: on a busy
    2-core machine openTSNE's two threads ran 15× slower than one.
    """
    from openTSNE import TSNE  # imported on use: the dashboard's other pages need not load it

    dimensions = min(TSNE_PCA_DIMENSIONS, *sample.features.shape)  # PCA keeps at most min(n, d)
    reduction = PCA(n_components=dimensions, random_state=seed)
    reduced = _fit_pca(reduction, sample.features)
    total = TSNE_EARLY_ITERATIONS + TSNE_ITERATIONS
    tracker = _TsneProgress((TSNE_EARLY_ITERATIONS, TSNE_ITERATIONS), progress, cancel)
    if progress is not None:
        progress(0, total)
    tsne = TSNE(
        perplexity=min(TSNE_PERPLEXITY, max(1.0, (len(reduced) - 1) / 3)),
        early_exaggeration_iter=TSNE_EARLY_ITERATIONS,
        n_iter=TSNE_ITERATIONS,
        n_jobs=1,
        random_state=seed,
        callbacks=[tracker],
        callbacks_every_iters=TSNE_REPORT_EVERY,
    )
    if cancel is not None and cancel():
        raise EmbeddingCancelled
    embedding = tsne.fit(reduced)  # a callback returning True ends fit early, with the partial embedding
    if cancel is not None and cancel():
        raise EmbeddingCancelled
    if progress is not None:
        progress(total, total)
    coordinates = np.asarray(embedding, dtype=np.float64)
    return EmbeddingMap(
        TSNE_METHOD, sample.indices, coordinates, sample.labels, sample.predictions, reduction, tsne=embedding
    )


class _TsneProgress:
    """An openTSNE callback: counts iterations over both phases, reports them, asks whether to stop."""

    def __init__(self, phases: tuple[int, ...], progress, cancel):
        self._phases = phases
        self._phase = -1
        self._progress = progress
        self._cancel = cancel

    def optimization_about_to_start(self) -> None:  # openTSNE calls this before each phase
        self._phase += 1

    def __call__(self, iteration: int, error: float, embedding) -> bool:
        done = sum(self._phases[: max(self._phase, 0)]) + iteration
        if self._progress is not None:
            self._progress(min(done, sum(self._phases)), sum(self._phases))
        return bool(self._cancel is not None and self._cancel())


def place_points(embedding_map: EmbeddingMap, features: np.ndarray) -> np.ndarray:
    """Where new points (their penultimate features, (m, d)) fall on the map: (m, 2).

    PCA applies the fitted projection; t-SNE optimises each new point against the fixed map
    (openTSNE's transform), so it lands among its nearest neighbours in feature space.
    """
    reduced = embedding_map.reduction.transform(np.asarray(features, dtype=np.float32))
    if embedding_map.tsne is None:
        return np.asarray(reduced, dtype=np.float64)
    return np.asarray(embedding_map.tsne.transform(reduced), dtype=np.float64)


def _fit_pca(reduction: PCA, features: np.ndarray) -> np.ndarray:
    if min(features.shape) < 2:
        raise ValueError("a map needs at least two points with at least two features")
    return np.asarray(reduction.fit_transform(features), dtype=np.float64)
