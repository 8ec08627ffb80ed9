"""The one-image pass under LiteRT: the probabilities Keras gives, one program per model, TensorFlow as fallback."""

import gc
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import core.litert_forward as litert
from core.analysis.inspection import compiled_forward, predict_digit
from core.config import TrainConfig
from core.ensemble import build_ensemble
from core.litert_forward import litert_forward, prepare_litert_forward
from core.models import build_model

TOLERANCE = 1e-5


def keras_probabilities(model, images: np.ndarray) -> np.ndarray:
    return np.asarray(model(images.astype(np.float32) / 255, training=False))


@pytest.mark.parametrize("arch", ["mlp", "fast_cnn", "deep_cnn", "kernel_cnn"])
def test_predict_digit_runs_the_litert_program_and_agrees_with_keras(arch, sample_data):
    model = build_model(TrainConfig.for_arch(arch))
    images = sample_data.x_test[:4]
    singles = [predict_digit(model, image) for image in images]
    np.testing.assert_allclose(singles, keras_probabilities(model, images), atol=TOLERANCE)
    assert litert_forward(model).calls == len(images)


def test_an_ensemble_runs_as_one_litert_program(sample_data):
    members = [build_model(TrainConfig.for_arch("mlp", seed=seed)) for seed in (0, 1)]
    ensemble = build_ensemble(members)
    image = sample_data.x_test[:1]
    mean = np.mean([keras_probabilities(member, image)[0] for member in members], axis=0)
    np.testing.assert_allclose(predict_digit(ensemble, image[0]), mean, atol=TOLERANCE)
    assert litert_forward(ensemble).calls == 1


def test_a_model_litert_cannot_convert_keeps_tensorflows_pass(sample_data, monkeypatch, caplog):
    def reject(model):
        raise RuntimeError("an op LiteRT lacks")

    monkeypatch.setattr(litert, "convert_to_litert", reject)
    model = build_model(TrainConfig.for_arch("cnn"))
    with caplog.at_level(logging.WARNING, logger=litert.__name__):
        probabilities = predict_digit(model, sample_data.x_test[0])
    np.testing.assert_allclose(probabilities, keras_probabilities(model, sample_data.x_test[:1])[0], atol=TOLERANCE)
    assert litert_forward(model) is None
    assert "an op LiteRT lacks" in caplog.text
    assert compiled_forward(model).experimental_get_tracing_count() == 1


def test_the_program_is_converted_once_and_safe_from_many_threads(sample_data, monkeypatch):
    conversions = []
    convert = litert.convert_to_litert
    monkeypatch.setattr(litert, "convert_to_litert", lambda model: conversions.append(model) or convert(model))
    model = build_model(TrainConfig.for_arch("cnn"))
    images = sample_data.x_test[:64]
    with ThreadPoolExecutor(max_workers=8) as pool:  # the first calls race to convert
        together = list(pool.map(lambda image: predict_digit(model, image), images))
    np.testing.assert_allclose(together, keras_probabilities(model, images), atol=TOLERANCE)
    assert len(conversions) == 1
    assert litert_forward(model).calls == len(images)


def test_preparing_converts_in_the_background_before_the_first_digit(sample_data, monkeypatch):
    conversions = []
    convert = litert.convert_to_litert
    monkeypatch.setattr(litert, "convert_to_litert", lambda model: conversions.append(model) or convert(model))
    model = build_model(TrainConfig.for_arch("mlp"))
    prepare_litert_forward(model)
    predict_digit(model, sample_data.x_test[0])  # waits for the conversion under way, does not start another
    prepare_litert_forward(model)  # already converted: nothing to do
    assert len(conversions) == 1
    assert litert_forward(model).calls == 1


def test_the_program_cache_does_not_keep_the_model_alive(sample_data):
    model = build_model(TrainConfig.for_arch("cnn"))
    predict_digit(model, sample_data.x_test[0])
    model_ref = weakref.ref(model)
    del model
    gc.collect()
    assert model_ref() is None


def test_converting_never_exports_the_live_model(sample_data, monkeypatch):
    """Exporting blanks a model's predict_function for a moment: a page's model.predict beside it failed."""
    model = build_model(TrainConfig.for_arch("cnn"))
    exported = []
    original = model._trackable_children
    monkeypatch.setattr(
        model, "_trackable_children", lambda *args, **kwargs: exported.append(1) or original(*args, **kwargs)
    )
    program = litert_forward(model)
    assert program is not None and exported == []
    np.testing.assert_allclose(
        program(sample_data.x_test[:1].astype(np.float32) / 255),
        keras_probabilities(model, sample_data.x_test[:1]),
        atol=TOLERANCE,
    )
