"""Saliency maps (core/analysis/saliency.py): completeness, every kind of model, and that the maps mean something.

"Mass on ink" proves nothing (a black baseline gives background pixels zero attribution anyway), so the
meaning is tested as the literature does: blanking the most attributed pixels must hurt the prediction
clearly more than blanking random ink (deletion), and a randomly initialised copy of the architecture
must give clearly different maps (model randomisation, Adebayo et al. 2018).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.stats import spearmanr

from core.adapters import adapt_model
from core.analysis.saliency import (
    deletion_drop,
    grad_cam,
    gradient_x_input,
    has_convolution,
    integrated_gradients,
    pre_softmax_scores,
)
from core.config import TrainConfig
from core.ensemble import build_ensemble
from core.experiment import run_experiment
from core.models import build_model
from core.runs import RunStore

DELETION_IMAGES = 100


@pytest.fixture(scope="module")
def cnn_store(tmp_path_factory, sample_data):
    """A CNN trained briefly on the sample, saved (so it loads as Keras loads a run from disk)."""
    store = RunStore(tmp_path_factory.mktemp("saliency-runs"))
    config = TrainConfig.for_arch("cnn", epochs=2, batch_size=64, seed=2, name="saliency cnn")
    run = run_experiment(config, sample_data, store).run
    return store, run.run_id, config


@pytest.fixture(scope="module")
def cnn(cnn_store):
    store, run_id, _ = cnn_store
    return store.load_model(run_id)


@pytest.fixture(scope="module")
def mlp(trained_store):
    store, result = trained_store
    return store.load_model(result.run.run_id)


def assert_complete(saliency_map, tolerance=0.05):
    assert saliency_map.completeness_error is not None
    assert saliency_map.completeness_error < tolerance, (
        saliency_map.attributions.sum(),
        saliency_map.score - saliency_map.baseline_score,
    )


# ---- the pre-softmax score -------------------------------------------------------------------------


def test_pre_softmax_scores_are_the_logits_of_the_models_output(mlp, cnn, sample_data):
    x = sample_data.x_test[:8].astype(np.float32) / 255
    for model in (mlp, cnn):
        scores, _ = pre_softmax_scores(model, x)
        probabilities = np.asarray(model(x, training=False))
        np.testing.assert_allclose(keras.ops.softmax(scores).numpy(), probabilities, atol=1e-5)
        assert np.asarray(scores).max() > 1.0  # logits, not probabilities


def test_an_ensembles_score_is_the_log_of_its_average(cnn_store, mlp, trained_store, sample_data):
    store, run_id, _ = cnn_store
    mlp_store, result = trained_store
    ensemble = build_ensemble([store.load_model(run_id), mlp_store.load_model(result.run.run_id)])
    x = sample_data.x_test[:4].astype(np.float32) / 255
    scores, convs = pre_softmax_scores(ensemble, x)
    np.testing.assert_allclose(np.exp(scores), np.asarray(ensemble(x, training=False)), atol=1e-5)
    assert len(convs) == 1  # the CNN member's


# ---- integrated gradients: completeness on every kind of model --------------------------------------


@pytest.mark.parametrize("baseline", ["black", "blurred"])
def test_integrated_gradients_are_complete_for_the_mlp_and_the_cnn(mlp, cnn, sample_data, baseline):
    for model in (mlp, cnn):
        for image in sample_data.x_test[:3]:
            predicted = int(np.argmax(model(image[None].astype(np.float32) / 255, training=False)))
            assert_complete(integrated_gradients(model, image, predicted, baseline=baseline))


def test_integrated_gradients_are_complete_for_a_contrast(cnn, sample_data):
    saliency_map = integrated_gradients(cnn, sample_data.x_test[0], 7, contrast=1)
    assert saliency_map.contrast == 1
    assert_complete(saliency_map)


def test_integrated_gradients_for_an_ensemble_and_an_uploaded_logits_model(cnn_store, mlp, sample_data):
    store, run_id, _ = cnn_store
    ensemble = build_ensemble([store.load_model(run_id), store.load_model(run_id)])
    assert_complete(integrated_gradients(ensemble, sample_data.x_test[1], 2))
    logits_model = keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)]
    )
    logits_model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    logits_model.fit(sample_data.x_train[:1000].reshape(-1, 784) / 255, sample_data.y_train[:1000], verbose=0)
    adapted = adapt_model(logits_model, sample_data.x_test, sample_data.y_test)
    assert adapted.outputs_logits and adapted.input_layout == (784,)
    scores, _ = pre_softmax_scores(adapted.model, sample_data.x_test[:2].astype(np.float32) / 255)
    np.testing.assert_allclose(scores, logits_model(sample_data.x_test[:2].reshape(-1, 784) / 255), atol=1e-5)
    assert_complete(integrated_gradients(adapted.model, sample_data.x_test[1], 2))


def test_black_baseline_gives_background_no_attribution(cnn, sample_data):
    image = sample_data.x_test[0]
    saliency_map = integrated_gradients(cnn, image, 7)
    assert np.all(saliency_map.attributions[image == 0] == 0)


# ---- Grad-CAM and gradient × input ----------------------------------------------------------------------


def test_grad_cam_is_for_convnets_and_non_negative(mlp, cnn, sample_data):
    assert has_convolution(cnn) and not has_convolution(mlp)
    image = sample_data.x_test[0]
    saliency_map = grad_cam(cnn, image, int(predictions(cnn, image[None])[0]))
    assert saliency_map.attributions.shape == (28, 28)
    assert saliency_map.attributions.min() >= 0 and saliency_map.attributions.max() > 0
    with pytest.raises(ValueError, match="convolution"):
        grad_cam(mlp, sample_data.x_test[0], 7)


@pytest.mark.parametrize("arch", ["fast_cnn", "deep_cnn"])
def test_grad_cam_on_batchnorm_convnets(arch, sample_data):
    model = build_model(TrainConfig.for_arch(arch, epochs=1))
    saliency_map = grad_cam(model, sample_data.x_test[0], 3)
    assert saliency_map.attributions.shape == (28, 28) and np.all(np.isfinite(saliency_map.attributions))


def test_gradient_x_input_is_zero_off_the_ink(mlp, sample_data):
    image = sample_data.x_test[0]
    saliency_map = gradient_x_input(mlp, image, 7)
    assert np.all(saliency_map.attributions[image == 0] == 0)
    assert np.abs(saliency_map.attributions).sum() > 0


# ---- do the maps mean something? ----------------------------------------------------------------------


def predictions(model, images):
    return np.asarray(model.predict(images.astype(np.float32) / 255, verbose=0)).argmax(axis=1)


def test_deletion_blanking_the_top_pixels_hurts_more_than_random_ink(cnn, sample_data):
    images = sample_data.x_test[:DELETION_IMAGES]
    predicted = predictions(cnn, images)
    pairs = zip(images, predicted, strict=True)
    maps = np.stack([integrated_gradients(cnn, image, int(digit)).attributions for image, digit in pairs])
    by_map, at_random = deletion_drop(cnn, images, maps, fraction=0.05)
    assert by_map.mean() > 2 * at_random.mean() and by_map.mean() > at_random.mean() + 0.1, (
        by_map.mean(),
        at_random.mean(),
    )


def test_model_randomisation_changes_the_maps(cnn, cnn_store, sample_data):
    """Adebayo et al. 2018: a map that survives randomising the weights explains the input, not the model."""
    _, _, config = cnn_store
    keras.utils.set_random_seed(7)
    random_cnn = build_model(config)
    correlations = {"integrated gradients": [], "Grad-CAM": []}
    images = sample_data.x_test[:20]
    for image, digit in zip(images, predictions(cnn, images), strict=True):
        ink, digit = image > 0, int(digit)  # the black baseline zeroes the background in both maps: compare on ink
        trained = integrated_gradients(cnn, image, digit).attributions
        randomised = integrated_gradients(random_cnn, image, digit).attributions
        correlations["integrated gradients"].append(spearmanr(trained[ink], randomised[ink]).statistic)
        trained, randomised = grad_cam(cnn, image, digit).attributions, grad_cam(random_cnn, image, digit).attributions
        correlations["Grad-CAM"].append(spearmanr(trained.ravel(), randomised.ravel()).statistic)
    medians = {method: float(np.nanmedian(values)) for method, values in correlations.items()}
    assert all(median < 0.5 for median in medians.values()), medians


def test_grad_cam_for_an_uploaded_convnet_and_an_ensemble(cnn_store, sample_data):
    from core.adapters import wrap
    from tests.support.uploaded_models import keras_io_convnet

    adapted = wrap(keras_io_convnet(), (28, 28, 1), 255.0, False)
    assert has_convolution(adapted)
    assert grad_cam(adapted, sample_data.x_test[0], 3).attributions.shape == (28, 28)
    assert_complete(integrated_gradients(adapted, sample_data.x_test[0], 3))
    store, run_id, _ = cnn_store
    ensemble = build_ensemble([store.load_model(run_id), store.load_model(run_id)])
    # Two identical members: log p̄(3) − log p̄(5) is the member's logit(3) − logit(5) (the log-sum-exp cancels),
    # and each member's maps get half of its gradient: the sum is the single model's map.
    single = grad_cam(store.load_model(run_id), sample_data.x_test[0], 3, contrast=5).attributions
    both = grad_cam(ensemble, sample_data.x_test[0], 3, contrast=5).attributions
    assert single.max() > 0
    np.testing.assert_allclose(both, single, rtol=1e-3, atol=1e-4 * single.max())
