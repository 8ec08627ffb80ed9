"""Embedding map: penultimate features, stratified samples, PCA and t-SNE maps, placing new points."""

from __future__ import annotations

import threading

import keras
import numpy as np
import pytest
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from core.adapters import wrap
from core.analysis.embedding import (
    PCA_METHOD,
    TSNE_METHOD,
    EmbeddingCancelled,
    EmbeddingSample,
    embedding_sample,
    pca_map,
    penultimate_features,
    place_points,
    sample_indices,
    tsne_map,
)
from core.analysis.evaluation import evaluate
from core.config import TrainConfig
from core.embedding_jobs import TsneJobs
from core.ensemble import build_ensemble
from core.experiment import run_experiment
from core.runs import RunStore

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(12, 28, 28), dtype=np.uint8)


def tiny_mlp(hidden: int = 7, final_softmax_layer: bool = False, seed: int = 0) -> keras.Sequential:
    keras.utils.set_random_seed(seed)
    layers = [
        keras.Input((28, 28)),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(hidden, activation="relu", name="hidden"),
    ]
    if final_softmax_layer:
        layers += [keras.layers.Dense(10, name="logits"), keras.layers.Softmax(name="softmax")]
    else:
        layers += [keras.layers.Dense(10, activation="softmax", name="output")]
    return keras.Sequential(layers)


def hidden_by_hand(model: keras.Model, images: np.ndarray, scale: float = 1.0) -> np.ndarray:
    kernel, bias = model.get_layer("hidden").get_weights()
    x = images.reshape(len(images), -1).astype(np.float32) / 255.0 * scale
    return np.maximum(x @ kernel + bias, 0.0)


def clusters(centres: int = 3, per_cluster: int = 40, dimensions: int = 20, seed: int = 1):
    """Well-separated Gaussian clusters: centres 10 apart on distinct axes, spread 0.5."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(centres), per_cluster)
    centre_points = np.zeros((centres, dimensions))
    centre_points[np.arange(centres), np.arange(centres)] = 10.0
    features = centre_points[labels] + rng.normal(0, 0.5, size=(len(labels), dimensions))
    sample = EmbeddingSample(np.arange(len(labels)), features.astype(np.float32), labels, labels.copy())
    return sample, centre_points


# ---- penultimate features ------------------------------------------------------------------------


def test_penultimate_features_are_the_input_of_the_classifier():
    model = tiny_mlp(hidden=7)
    features = penultimate_features(model, IMAGES)
    assert features.shape == (12, 7)
    np.testing.assert_allclose(features, hidden_by_hand(model, IMAGES), rtol=1e-4, atol=1e-5)


def test_a_separate_softmax_layer_is_skipped():
    model = tiny_mlp(hidden=5, final_softmax_layer=True)
    features = penultimate_features(model, IMAGES)
    np.testing.assert_allclose(features, hidden_by_hand(model, IMAGES), rtol=1e-4, atol=1e-5)


def test_a_functional_model_with_an_activation_layer():
    image = keras.Input((28, 28))
    hidden = keras.layers.Dense(6, activation="relu", name="hidden")(keras.layers.Flatten()(image))
    logits = keras.layers.Dense(10, name="logits")(hidden)
    model = keras.Model(image, keras.layers.Activation("softmax")(logits))
    np.testing.assert_allclose(penultimate_features(model, IMAGES), hidden_by_hand(model, IMAGES), rtol=1e-4, atol=1e-5)


def test_an_ensemble_shows_its_first_members_features():
    first, second = tiny_mlp(hidden=4, seed=1), tiny_mlp(hidden=9, seed=2)
    expected = hidden_by_hand(first, IMAGES)
    ensemble = build_ensemble([first, second])
    np.testing.assert_allclose(penultimate_features(ensemble, IMAGES), expected, rtol=1e-4, atol=1e-5)


def test_an_adapted_upload_is_fed_as_it_expects():
    """A flat model on raw 0–255 pixels that outputs logits, behind the app's adapter."""
    inner = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(10, name="logits"),
        ]
    )
    adapted = wrap(inner, (784,), 255.0, outputs_logits=True)
    features = penultimate_features(adapted, IMAGES)
    np.testing.assert_allclose(features, hidden_by_hand(inner, IMAGES, scale=255.0), rtol=1e-4, atol=1e-3)


# ---- the sample ----------------------------------------------------------------------------------


def test_the_sample_is_stratified_and_seeded():
    labels = np.array([0] * 50 + [1] * 30 + [2] * 20)
    chosen = sample_indices(labels, 10, seed=3)
    assert len(chosen) == 10 and len(set(chosen)) == 10 and list(chosen) == sorted(chosen)
    assert np.bincount(labels[chosen]).tolist() == [5, 3, 2]
    np.testing.assert_array_equal(chosen, sample_indices(labels, 10, seed=3))
    assert not np.array_equal(chosen, sample_indices(labels, 10, seed=4))


def test_a_sample_larger_than_the_set_takes_it_all():
    np.testing.assert_array_equal(sample_indices(np.arange(7) % 3, 100), np.arange(7))


def test_leftover_places_go_to_the_largest_remainders():
    labels = np.array([0] * 4 + [1] * 3 + [2] * 3)
    assert np.bincount(labels[sample_indices(labels, 5)]).tolist() == [2, 2, 1]


# ---- maps ----------------------------------------------------------------------------------------


def nearest_cluster(points: np.ndarray, map_, labels) -> np.ndarray:
    centroids = np.stack([map_.coordinates[labels == k].mean(axis=0) for k in np.unique(labels)])
    return np.linalg.norm(points[:, None, :] - centroids[None], axis=2).argmin(axis=1)


def test_pca_keeps_separated_clusters_apart():
    sample, _ = clusters()
    map_ = pca_map(sample)
    assert map_.method == PCA_METHOD and map_.coordinates.shape == (120, 2)
    np.testing.assert_array_equal(nearest_cluster(map_.coordinates, map_, sample.labels), sample.labels)
    spread = max(map_.coordinates[sample.labels == k].std(axis=0).max() for k in range(3))
    centroids = np.stack([map_.coordinates[sample.labels == k].mean(axis=0) for k in range(3)])
    gaps = [np.linalg.norm(centroids[a] - centroids[b]) for a in range(3) for b in range(a + 1, 3)]
    assert min(gaps) > 5 * spread


def test_a_placed_training_point_lands_on_itself_in_pca():
    sample, _ = clusters()
    map_ = pca_map(sample)
    placed = place_points(map_, sample.features[[0, 50, 100]])
    np.testing.assert_allclose(placed, map_.coordinates[[0, 50, 100]], atol=1e-4)


def test_a_new_point_lands_in_its_cluster_on_both_maps():
    sample, centres = clusters()
    new = (centres + np.random.default_rng(9).normal(0, 0.5, size=centres.shape)).astype(np.float32)
    for map_ in (pca_map(sample), tsne_map(sample)):
        placed = place_points(map_, new)
        assert placed.shape == (3, 2)
        np.testing.assert_array_equal(nearest_cluster(placed, map_, sample.labels), [0, 1, 2])


def test_tsne_keeps_clusters_and_reports_progress():
    sample, _ = clusters()
    reports = []
    map_ = tsne_map(sample, progress=lambda done, total: reports.append((done, total)))
    assert map_.method == TSNE_METHOD and map_.coordinates.shape == (120, 2)
    np.testing.assert_array_equal(nearest_cluster(map_.coordinates, map_, sample.labels), sample.labels)
    done = [d for d, _ in reports]
    assert done[0] == 0 and done == sorted(done) and len(set(done)) > 10
    assert reports[-1][0] == reports[-1][1] == 750


def test_tsne_can_be_cancelled_midway():
    sample, _ = clusters()
    reports = []
    with pytest.raises(EmbeddingCancelled):
        tsne_map(sample, progress=lambda done, total: reports.append(done), cancel=lambda: len(reports) > 3)
    assert max(reports) < 750


def test_errors_are_where_prediction_and_label_differ():
    sample, _ = clusters()
    predictions = sample.labels.copy()
    predictions[[3, 7]] = (predictions[[3, 7]] + 1) % 3
    map_ = pca_map(EmbeddingSample(sample.indices, sample.features, sample.labels, predictions))
    assert np.flatnonzero(map_.errors).tolist() == [3, 7]


# ---- background jobs -----------------------------------------------------------------------------


def test_a_tsne_job_runs_once_per_key_and_is_kept():
    sample, _ = clusters()
    jobs = TsneJobs()
    job = jobs.start("model-a", sample)
    assert jobs.start("model-a", sample) is job
    job.wait(60)
    status = job.status()
    assert status.state == "done" and status.fraction_done == 1.0
    assert status.result.coordinates.shape == (120, 2)
    assert jobs.get("model-a") is job and jobs.start("model-a", sample) is job
    assert jobs.get("model-b") is None


def test_a_cancelled_job_can_be_started_again():
    sample, _ = clusters(per_cluster=400)
    jobs = TsneJobs()
    job = jobs.start("k", sample)
    jobs.cancel("k")
    job.wait(60)
    assert job.status().state == "cancelled" and job.status().result is None
    again = jobs.start("k", sample)
    assert again is not job
    again.cancel()
    again.wait(60)


def test_only_the_latest_finished_maps_are_kept():
    sample, _ = clusters(per_cluster=10)
    jobs = TsneJobs(kept=2)
    for key in "abc":
        jobs.start(key, sample).wait(60)
    jobs.get("a")  # asked for again: the least recently asked for is now b
    jobs.start("d", sample).wait(60)
    assert jobs.get("b") is None
    assert all(jobs.get(key) is not None for key in "acd")


def test_no_job_thread_is_left_running():
    assert not [t for t in threading.enumerate() if t.name == "tsne-map"]


# ---- on a trained model --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_sample(tmp_path_factory, sample_data) -> EmbeddingSample:
    """The 1,000 test digits of the sample through an MLP trained 5 epochs on its 4,000 (~93 % accurate)."""
    store = RunStore(tmp_path_factory.mktemp("embedding-run"))
    config = TrainConfig.for_arch("mlp", epochs=5, seed=1, name="embedding mlp")
    model = store.load_model(run_experiment(config, sample_data, store).run.run_id)
    evaluation = evaluate(model, sample_data.x_test, sample_data.y_test)
    return embedding_sample(model, sample_data.x_test, sample_data.y_test, evaluation.predictions, 1000)


def knn_accuracy(coordinates: np.ndarray, labels: np.ndarray) -> float:
    return float(cross_val_score(KNeighborsClassifier(10), coordinates, labels, cv=5).mean())


def test_the_pca_map_of_a_trained_model_carries_class_structure(trained_sample):
    """k-NN on the 2-D PCA coordinates alone classifies the digits far better than chance (10 %).

    Measured 0.60 (a 2-D linear view of ten classes; the same k-NN on the pixels' 2-D PCA: 0.43).
    """
    assert knn_accuracy(pca_map(trained_sample).coordinates, trained_sample.labels) >= 0.45


def test_the_tsne_map_of_a_trained_model_separates_the_digits(trained_sample):
    """t-SNE keeps neighbourhoods: k-NN on its 2-D coordinates nearly matches the model (measured 0.92)."""
    assert knn_accuracy(tsne_map(trained_sample).coordinates, trained_sample.labels) >= 0.8
